// The broker's authorizer: Kafka's StandardAuthorizer rules over the ACLs that CreateAcls and
// DeleteAcls keep (a file of the data directory for a single broker, etcd in a cluster: the
// ConfigEntityStore that also keeps client quotas and SCRAM credentials, so every broker of a
// cluster applies a change through its watch).
//
// On when authorizer.class.name names Kafka's authorizer; off (Kafka's default) every request is
// allowed and the ACL APIs answer SECURITY_DISABLED. A decision, as Kafka makes it:
//   - a principal of super.users is allowed everything;
//   - any DENY that matches (principal or User:*, host or *, the operation or ALL) denies;
//   - an ALLOW of the operation or ALL allows; DESCRIBE is implied by READ, WRITE, DELETE and ALTER,
//     DESCRIBE_CONFIGS by ALTER_CONFIGS;
//   - with no ACL at all on the resource, allow.everyone.if.no.acl.found decides (default false).
// The ACLs that apply to a resource are its LITERAL name's, the LITERAL wildcard '*', and every
// PREFIXED name it starts with. A lookup is two map reads and a scan of the resource type's prefixed
// ACLs (few, in practice), per topic of a request: cheap beside the request's own work.
import { SluiceError } from '../../errors.js';
import { ConfigEntityStore, type ConfigEntities, type ConfigEntityStoreOptions } from '../config-entities.js';
import { AclOperation, AclPermission, PatternType, WILDCARD, WILDCARD_PRINCIPAL, type AclBinding, type AclBindingFilter } from '../../protocol/acl-codes.js';
import { filterMatches, validateBinding, validateFilter } from './acl.js';
import { normalizeAddress } from '../connection-quotas.js';

/** The single broker's file of ACLs, in its data directory. */
export const ACLS_FILE = 'acls.json';

/** The authorizer class names sluice serves: Kafka's ZooKeeper-era and KRaft ones. */
export const KAFKA_AUTHORIZERS = ['kafka.security.authorizer.AclAuthorizer', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'] as const;

export interface AuthorizerSettings {
  /** authorizer.class.name named one of KAFKA_AUTHORIZERS. */
  enabled: boolean;
  /** super.users: principals allowed everything ("User:admin;User:broker"). */
  superUsers: readonly string[];
  allowEveryoneIfNoAclFound: boolean;
}

/** The operations an ALLOW of `granted` also allows (Kafka's implied operations). */
const IMPLIED_BY: ReadonlyMap<number, readonly number[]> = new Map([
  [AclOperation.DESCRIBE, [AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER]],
  [AclOperation.DESCRIBE_CONFIGS, [AclOperation.ALTER_CONFIGS]],
]);

/** One ACL kept: its entry, under its resource pattern. */
interface AclEntry {
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

export type AclDeletion = { error: null; deleted: AclBinding[] } | { error: SluiceError; deleted: [] };

export class Authorizer {
  readonly enabled: boolean;
  /** Where the ACLs are kept; the cluster's watch delivers changes to it. */
  readonly store: ConfigEntityStore;
  private readonly superUsers: ReadonlySet<string>;
  private readonly allowEveryoneIfNoAclFound: boolean;
  private bindingsNow: AclBinding[] = [];
  /** LITERAL ACLs by resourceKey(type, name). */
  private literal = new Map<string, AclEntry[]>();
  /** PREFIXED ACLs by resource type. */
  private prefixed = new Map<number, AclBinding[]>();

  constructor(settings: AuthorizerSettings, storeOptions: Omit<ConfigEntityStoreOptions, 'kind' | 'fileName' | 'apply'>, onChange: (count: number) => void) {
    this.enabled = settings.enabled;
    this.superUsers = new Set(settings.superUsers);
    this.allowEveryoneIfNoAclFound = settings.allowEveryoneIfNoAclFound;
    this.store = new ConfigEntityStore({
      ...storeOptions,
      kind: 'acls',
      fileName: ACLS_FILE,
      apply: (entities) => {
        this.index(entities);
        onChange(this.bindingsNow.length);
      },
    });
    this.index(storeOptions.initial);
  }

  /** Whether `principal` at `host` may do `operation` on the resource. */
  authorize(principal: string, host: string, operation: number, resourceType: number, resourceName: string): boolean {
    if (!this.enabled || this.superUsers.has(principal)) return true;
    const address = normalizeAddress(host);
    let allowed = false;
    let found = false;
    const consider = (entry: AclEntry): boolean => {
      found = true;
      if (entry.principal !== principal && entry.principal !== WILDCARD_PRINCIPAL) return false;
      if (entry.host !== address && entry.host !== WILDCARD) return false;
      if (entry.permissionType === AclPermission.DENY) return entry.operation === operation || entry.operation === AclOperation.ALL;
      if (entry.operation === operation || entry.operation === AclOperation.ALL || IMPLIED_BY.get(operation)?.includes(entry.operation) === true) allowed = true;
      return false;
    };
    for (const entries of [this.literal.get(resourceKey(resourceType, resourceName)), this.literal.get(resourceKey(resourceType, WILDCARD))]) {
      if (entries === undefined) continue;
      for (const entry of entries) if (consider(entry)) return false;
    }
    for (const binding of this.prefixed.get(resourceType) ?? []) {
      if (resourceName.startsWith(binding.resourceName) && consider(binding)) return false;
    }
    return allowed || (!found && this.allowEveryoneIfNoAclFound);
  }

  /**
   * Whether `principal` may do `operation` on some resource of the type (Kafka's
   * authorizeByResourceType, KIP-679: an idempotent producer needs WRITE on some topic, or
   * IDEMPOTENT_WRITE on the cluster). An ALLOW counts unless a DENY of the same or a wider pattern
   * takes it back; with no ACL of the type at all, allow.everyone.if.no.acl.found decides.
   */
  authorizeByResourceType(principal: string, host: string, operation: number, resourceType: number): boolean {
    if (!this.enabled || this.superUsers.has(principal)) return true;
    const address = normalizeAddress(host);
    const applies = (binding: AclBinding): boolean =>
      (binding.principal === principal || binding.principal === WILDCARD_PRINCIPAL) &&
      (binding.host === address || binding.host === WILDCARD) &&
      (binding.operation === operation || binding.operation === AclOperation.ALL);
    const ofType = this.bindingsNow.filter((binding) => binding.resourceType === resourceType);
    if (ofType.length === 0) return this.allowEveryoneIfNoAclFound;
    const denies = ofType.filter((binding) => binding.permissionType === AclPermission.DENY && applies(binding));
    if (denies.some((deny) => deny.resourceName === WILDCARD || (deny.patternType === PatternType.PREFIXED && deny.resourceName === ''))) return false;
    return ofType.some(
      (allow) =>
        allow.permissionType === AclPermission.ALLOW &&
        applies(allow) &&
        !denies.some((deny) =>
          deny.patternType === PatternType.PREFIXED ? allow.resourceName.startsWith(deny.resourceName) : deny.patternType === allow.patternType && deny.resourceName === allow.resourceName,
        ),
    );
  }

  /** The ACLs a filter matches (DescribeAcls). */
  describe(filter: AclBindingFilter): AclBinding[] {
    this.requireEnabled();
    validateFilter(filter);
    return this.bindingsNow.filter((binding) => filterMatches(filter, binding));
  }

  /** Adds each binding (CreateAcls): per binding, null or why it was refused. An ACL already there is no error. */
  async create(bindings: readonly AclBinding[]): Promise<Array<SluiceError | null>> {
    this.requireEnabled();
    const results: Array<SluiceError | null> = [];
    /** Per entity, its new ACLs' keys and their places in `bindings`. */
    const byEntity = new Map<string, Array<{ key: string; index: number }>>();
    bindings.forEach((binding, index) => {
      try {
        validateBinding(binding);
        results.push(null);
        pushTo(byEntity, entityOf(binding), { key: entryKey(binding), index });
      } catch (error) {
        results.push(asSluiceError(error));
      }
    });
    for (const [entity, entries] of byEntity) {
      try {
        await this.store.update(entity, (current) => ({ ...current, ...Object.fromEntries(entries.map(({ key }) => [key, ''])) }), () => {});
      } catch (error) {
        for (const { index } of entries) results[index] = asSluiceError(error);
      }
    }
    return results;
  }

  /** Removes what each filter matches (DeleteAcls): per filter, the ACLs deleted or why it was refused. */
  async delete(filters: readonly AclBindingFilter[]): Promise<AclDeletion[]> {
    this.requireEnabled();
    const results: AclDeletion[] = [];
    for (const filter of filters) {
      try {
        validateFilter(filter);
      } catch (error) {
        results.push({ error: asSluiceError(error), deleted: [] });
        continue;
      }
      const deleted: AclBinding[] = [];
      const entities = new Set(this.bindingsNow.filter((binding) => filterMatches(filter, binding)).map(entityOf));
      try {
        for (const entity of entities) {
          await this.store.update(
            entity,
            (current) => {
              const kept: Record<string, string> = {};
              for (const key of Object.keys(current)) {
                const binding = bindingOf(entity, key);
                if (filterMatches(filter, binding)) deleted.push(binding);
                else kept[key] = current[key];
              }
              return kept;
            },
            () => {},
          );
        }
        results.push({ error: null, deleted });
      } catch (error) {
        results.push({ error: asSluiceError(error), deleted: [] });
      }
    }
    return results;
  }

  private requireEnabled(): void {
    if (!this.enabled) throw new SluiceError('SECURITY_DISABLED', 'No Authorizer is configured on the broker');
  }

  private index(entities: ConfigEntities): void {
    const bindings: AclBinding[] = [];
    const literal = new Map<string, AclEntry[]>();
    const prefixed = new Map<number, AclBinding[]>();
    for (const [entity, entries] of entities) {
      for (const key of Object.keys(entries)) {
        const binding = bindingOf(entity, key);
        bindings.push(binding);
        if (binding.patternType === PatternType.PREFIXED) {
          pushTo(prefixed, binding.resourceType, binding);
        } else {
          pushTo(literal, resourceKey(binding.resourceType, binding.resourceName), binding);
        }
      }
    }
    this.bindingsNow = bindings;
    this.literal = literal;
    this.prefixed = prefixed;
  }
}

function pushTo<K, V>(lists: Map<K, V[]>, key: K, value: V): void {
  const list = lists.get(key);
  if (list === undefined) lists.set(key, [value]);
  else list.push(value);
}


function resourceKey(resourceType: number, name: string): string {
  return `${resourceType}:${name}`;
}

/**
 * The stored form. An entity per resource pattern, "<type>:<pattern type>:<name>" with the name
 * URI-encoded (a group id may hold '/', which etcd keys here may not); under it each ACL's
 * [principal, host, operation, permission] as a JSON key (a principal may hold any character).
 */
function entityOf(binding: AclBinding): string {
  return `${binding.resourceType}:${binding.patternType}:${encodeURIComponent(binding.resourceName)}`;
}

function entryKey(binding: AclBinding): string {
  return JSON.stringify([binding.principal, binding.host, binding.operation, binding.permissionType]);
}

function bindingOf(entity: string, key: string): AclBinding {
  const [type, pattern, ...name] = entity.split(':');
  const [principal, host, operation, permissionType] = JSON.parse(key) as [string, string, number, number];
  return { resourceType: Number(type), patternType: Number(pattern), resourceName: decodeURIComponent(name.join(':')), principal, host, operation, permissionType };
}

function asSluiceError(error: unknown): SluiceError {
  return error instanceof SluiceError ? error : new SluiceError('UNKNOWN_SERVER_ERROR', String(error));
}
