// `sluice acls`: kafka-acls over CreateAcls, DescribeAcls and DeleteAcls, with its flags and its
// output (Kafka 4's AclCommand text), against a broker with Kafka's authorizer on.
//   --add    --allow-principal User:alice --operation Read --topic orders
//            prints, per resource, the ACLs it creates, with Kafka's stray spaces (one after the
//            colon, one before the first tab):
//              Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`:
//               \t(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)
//            then those resources' ACLs as --list prints them (as Kafka 3.x's tool did; Kafka 4's
//            stops after adding).
//   --remove the same flags: deletes those ACLs (with no principal, every ACL of the resources),
//            then prints what is left on the resources, as Kafka 3.x's tool did. sluice never
//            prompts, so --force, which skips Kafka's prompt, changes nothing.
//   --list   [resources] [--principal P]: per resource pattern, a blank line after each,
//              Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`:
//              \t(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)
//            every ACL when no resource is named; with --principal, only that principal's, under
//            "ACLs for principal `User:alice`".
// Resources are --topic, --group, --transactional-id, --delegation-token, --user-principal (each
// repeatable, '*' for all) and --cluster
// (always the LITERAL kafka-cluster). --resource-pattern-type defaults to literal, as Kafka's:
// --list --topic orders shows the LITERAL pattern 'orders' only, any adds the PREFIXED 'orders',
// match every pattern that covers the name. Kafka's tool lists in hash order; this one sorts resources
// and ACLs, so that its output can be compared.
// --producer and --consumer are Kafka's shortcuts: WRITE, DESCRIBE, CREATE on the topics (and
// WRITE, DESCRIBE on the transactional ids, IDEMPOTENT_WRITE on the cluster with --idempotent);
// READ, DESCRIBE on the topics and READ on the group.
// Listing ACLs takes DESCRIBE on the cluster, changing them ALTER (or a super user); a broker
// without an authorizer answers SECURITY_DISABLED. Either is one Error line saying what to do.
import {
  AclOperation,
  AclPermission,
  CLUSTER_RESOURCE_NAME,
  OPERATION_NAMES,
  PATTERN_TYPE_NAMES,
  PatternType,
  PERMISSION_NAMES,
  RESOURCE_TYPE_NAMES,
  ResourceType,
  SUPPORTED_OPERATIONS,
  WILDCARD,
  type AclBinding,
  type AclBindingFilter,
} from '../protocol/acl-codes.js';
import type { KafkaClient } from '../client/client.js';
import { isSluiceError, SluiceError, throwIfError } from '../errors.js';
import type { CommandSpec, ParsedArgs } from './args.js';
import { BOOTSTRAP_FLAG, connectClient, OutputBuffer, type Command } from './command.js';
import { adminSettings, COMMAND_CONFIG_FLAG } from './client-configs.js';

const ACTIONS = ['add', 'remove', 'list'] as const;
type Action = (typeof ACTIONS)[number];

/** --operation's values, by Kafka's names for them (SecurityUtils.operationName). */
const OPERATION_FLAG_NAMES: ReadonlyArray<readonly [name: string, code: number]> = [
  ['Read', AclOperation.READ],
  ['Write', AclOperation.WRITE],
  ['Create', AclOperation.CREATE],
  ['Delete', AclOperation.DELETE],
  ['Alter', AclOperation.ALTER],
  ['Describe', AclOperation.DESCRIBE],
  ['ClusterAction', AclOperation.CLUSTER_ACTION],
  ['DescribeConfigs', AclOperation.DESCRIBE_CONFIGS],
  ['AlterConfigs', AclOperation.ALTER_CONFIGS],
  ['IdempotentWrite', AclOperation.IDEMPOTENT_WRITE],
  ['CreateTokens', AclOperation.CREATE_TOKENS],
  ['DescribeTokens', AclOperation.DESCRIBE_TOKENS],
  ['All', AclOperation.ALL],
];

/** The resource flags that take names, in the order Kafka's tool reads them. */
const NAMED_RESOURCE_FLAGS: ReadonlyArray<readonly [flag: string, resourceType: number]> = [
  ['topic', ResourceType.TOPIC],
  ['group', ResourceType.GROUP],
  ['transactional-id', ResourceType.TRANSACTIONAL_ID],
  ['delegation-token', ResourceType.DELEGATION_TOKEN],
  ['user-principal', ResourceType.USER],
];

const PATTERN_TYPE_VALUES = ['literal', 'prefixed', 'any', 'match'] as const;

/** What to do about the ACL APIs' two refusals, said after Kafka's error. */
const REFUSAL_HINTS: Partial<Record<string, string>> = {
  SECURITY_DISABLED:
    'Security is disabled on the broker: ACLs need an authorizer, authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer in its config.',
  CLUSTER_AUTHORIZATION_FAILED: "Listing ACLs takes DESCRIBE on the cluster and changing them ALTER, unless the principal is one of the broker's super.users.",
};

/** A resource pattern, or (with pattern type ANY or MATCH) a filter of them. */
interface ResourcePattern {
  resourceType: number;
  resourceName: string;
  patternType: number;
}

/** An ACL's principal, host, operation and permission: Kafka's AccessControlEntry. */
interface AclEntry {
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** A resource pattern and ACL entries on it: what --add creates, --remove deletes and --list prints. */
interface ResourceAcls {
  resource: ResourcePattern;
  entries: AclEntry[];
}

const CLUSTER: ResourcePattern = { resourceType: ResourceType.CLUSTER, resourceName: CLUSTER_RESOURCE_NAME, patternType: PatternType.LITERAL };

const spec: CommandSpec = {
  name: 'acls',
  summary: 'Add, remove and list ACLs, as kafka-acls does.',
  usage: '--add|--remove|--list [--topic T] [--group G] [--transactional-id ID] [--cluster] [options]',
  flags: [
    BOOTSTRAP_FLAG,
    COMMAND_CONFIG_FLAG,
    { name: 'add', type: 'boolean', description: 'Add the ACLs the principal, host and operation flags name, on each resource.' },
    { name: 'remove', type: 'boolean', description: 'Remove those ACLs; with no --allow-principal or --deny-principal, every ACL of the resources.' },
    { name: 'list', type: 'boolean', description: 'List the ACLs of the resources, or every ACL.' },
    { name: 'topic', type: 'list', valueName: 'T', description: "A topic the ACLs are on; '*' is every topic (repeatable)." },
    { name: 'group', type: 'list', valueName: 'G', description: "A consumer group the ACLs are on; '*' is every group (repeatable)." },
    { name: 'transactional-id', type: 'list', valueName: 'ID', description: "A transactional id the ACLs are on; '*' is every one (repeatable)." },
    { name: 'delegation-token', type: 'list', valueName: 'ID', description: "A delegation token's id the ACLs are on (Describe lets others see it); '*' is every token (repeatable)." },
    {
      name: 'user-principal',
      type: 'list',
      valueName: 'User:NAME',
      description: 'A user the ACLs are on: CreateTokens lets the principal create tokens owned by that user, DescribeTokens see them (repeatable).',
    },
    { name: 'cluster', type: 'boolean', description: `The cluster resource (${CLUSTER_RESOURCE_NAME}), always a literal pattern.` },
    {
      name: 'resource-pattern-type',
      type: 'string',
      valueName: 'TYPE',
      description:
        "literal or prefixed (a name prefix); to --remove and --list also any (every pattern type of the name) or match (every pattern that applies to the name). " +
        'Default literal.',
    },
    { name: 'allow-principal', type: 'list', valueName: 'TYPE:NAME', description: "A principal the ACLs allow, e.g. User:alice; User:* is every user (repeatable)." },
    { name: 'deny-principal', type: 'list', valueName: 'TYPE:NAME', description: 'A principal the ACLs deny (repeatable). A DENY wins over any ALLOW.' },
    { name: 'principal', type: 'list', valueName: 'TYPE:NAME', description: "With --list: only this principal's ACLs, under its own heading (repeatable)." },
    { name: 'allow-host', type: 'list', valueName: 'HOST', description: "An address --allow-principal is allowed from (repeatable; default '*', every host)." },
    { name: 'deny-host', type: 'list', valueName: 'HOST', description: "An address --deny-principal is denied from (repeatable; default '*', every host)." },
    {
      name: 'operation',
      type: 'list',
      valueName: 'OP',
      description: `An operation the ACLs allow or deny (repeatable; default All): ${OPERATION_FLAG_NAMES.map(([name]) => name).join(', ')}.`,
    },
    { name: 'producer', type: 'boolean', description: 'The producer ACLs: WRITE, DESCRIBE and CREATE on --topic, WRITE and DESCRIBE on --transactional-id.' },
    { name: 'idempotent', type: 'boolean', description: 'With --producer: also IDEMPOTENT_WRITE on the cluster.' },
    { name: 'consumer', type: 'boolean', description: 'The consumer ACLs: READ and DESCRIBE on --topic, READ on --group (both needed).' },
    { name: 'force', type: 'boolean', description: "Accepted for kafka-acls' scripts: sluice never asks before removing." },
  ],
  notes: [
    'Listing ACLs takes DESCRIBE on the cluster and adding or removing them ALTER (a super user has both); log in with --command-config.',
  ],
};

export const aclsCommand: Command = {
  spec,
  async run(args) {
    const action = actionOf(args);
    checkFlags(args, action);
    const patternType = patternTypeOf(args);
    const resources = resourcesOf(args, patternType);
    if (action !== 'list' && resources.length === 0) {
      throw args.usageError('You must provide at least one resource: --topic <topic> or --cluster or --group <group> or --transactional-id <transactional-id>');
    }
    const planned = action === 'list' ? [] : aclsByResource(args, resources);
    if (action === 'add') {
      if (patternType !== PatternType.LITERAL && patternType !== PatternType.PREFIXED) {
        throw args.usageError(`A '--resource-pattern-type' value of '${PATTERN_TYPE_NAMES.get(patternType)}' is not valid when adding acls.`);
      }
      if (planned.some(({ entries }) => entries.length === 0)) throw args.usageError('You must specify one of: --allow-principal, --deny-principal when trying to add ACLs.');
    }
    const listPrincipals = action === 'list' ? principalsOf(args, 'principal') : [];
    const client = await connectClient(args, adminSettings(args));
    const out = new OutputBuffer();
    try {
      if (action === 'add') await addAcls(client, out, planned);
      if (action === 'remove') await removeAcls(client, planned);
      const listed = action === 'list' ? resources : planned.map(({ resource }) => resource);
      await printAcls(out, await currentAcls(client, listed), listPrincipals);
      return 0;
    } catch (error) {
      throw withHint(error);
    } finally {
      await out.flush();
      client.close();
    }
  },
};

function actionOf(args: ParsedArgs): Action {
  const given = ACTIONS.filter((action) => args.boolean(action));
  if (given.length !== 1) throw args.usageError('Command must include exactly one action: --list, --add, --remove.');
  return given[0]!;
}

/** Kafka's AclCommandOptions.checkArgs, and the flags it would ignore without a word. */
function checkFlags(args: ParsedArgs, action: Action): void {
  const producer = args.boolean('producer');
  const consumer = args.boolean('consumer');
  if (action === 'list') {
    for (const flag of ['producer', 'consumer', 'allow-host', 'allow-principal', 'deny-host', 'deny-principal', 'operation']) {
      if (args.has(flag)) throw args.usageError(`--${flag} cannot be used with --list`);
    }
  } else if (args.has('principal')) {
    throw args.usageError('The --principal option is only available if --list is set');
  }
  for (const shortcut of ['producer', 'consumer'] as const) {
    if (!args.boolean(shortcut)) continue;
    for (const flag of ['operation', 'deny-principal', 'deny-host']) if (args.has(flag)) throw args.usageError(`--${flag} cannot be used with --${shortcut}: its operations are given`);
  }
  for (const [host, principal] of [['allow-host', 'allow-principal'], ['deny-host', 'deny-principal']]) {
    if (args.has(host) && !args.has(principal)) throw args.usageError(`--${host} goes with --${principal}`);
  }
  if (args.boolean('idempotent') && !producer) throw args.usageError('The --idempotent option is only available if --producer is set');
  if (producer && !args.has('topic')) throw args.usageError('With --producer you must specify a --topic');
  if (consumer && (!args.has('topic') || !args.has('group') || (!producer && args.has('transactional-id')))) {
    throw args.usageError('With --consumer you must specify a --topic and a --group and no --cluster or --transactional-id option should be specified.');
  }
  // Kafka's tool drops these silently: the shortcuts make no ACL on them.
  if ((producer || consumer) && args.boolean('cluster')) throw args.usageError('--cluster cannot be used with --producer or --consumer (--producer --idempotent adds IDEMPOTENT_WRITE on the cluster)');
  if (producer && !consumer && args.has('group')) throw args.usageError('--group goes with --consumer: --producer makes ACLs on --topic and --transactional-id');
}

function patternTypeOf(args: ParsedArgs): number {
  const value = args.string('resource-pattern-type');
  if (value === undefined) return PatternType.LITERAL;
  const name = value.trim().toLowerCase();
  if (!(PATTERN_TYPE_VALUES as readonly string[]).includes(name)) throw args.usageError(`Unknown resource-pattern-type: ${value} (literal, prefixed, any or match)`);
  return PatternType[name.toUpperCase() as Uppercase<(typeof PATTERN_TYPE_VALUES)[number]>];
}

function resourcesOf(args: ParsedArgs, patternType: number): ResourcePattern[] {
  const resources: ResourcePattern[] = [];
  for (const [flag, resourceType] of NAMED_RESOURCE_FLAGS) {
    for (const name of unique(args.list(flag).map((name) => name.trim()))) {
      if (name === '') throw args.usageError(`--${flag} needs a name`);
      resources.push({ resourceType, resourceName: name, patternType });
    }
  }
  if (args.boolean('cluster')) {
    if (patternType === PatternType.PREFIXED) throw args.usageError(`--cluster is the literal resource ${CLUSTER_RESOURCE_NAME}: it cannot be given with --resource-pattern-type prefixed`);
    resources.push(CLUSTER);
  }
  return resources;
}

/** Principals of a flag, each TYPE:NAME (Kafka's SecurityUtils.parseKafkaPrincipal). */
function principalsOf(args: ParsedArgs, flag: string): string[] {
  const principals = unique(args.list(flag).map((principal) => principal.trim()));
  for (const principal of principals) {
    if (!/^[^:]+:/.test(principal)) throw args.usageError(`--${flag} expects a principal as principalType:principalName (User:alice), got '${principal}'`);
  }
  return principals;
}

function operationsOf(args: ParsedArgs): number[] {
  if (!args.has('operation')) return [AclOperation.ALL];
  return unique(
    args.list('operation').map((value) => {
      // Kafka takes Read and READ; ClusterAction as well as CLUSTER_ACTION is taken here.
      const key = value.trim().replace(/_/g, '').toUpperCase();
      const found = OPERATION_FLAG_NAMES.find(([name]) => name.toUpperCase() === key);
      if (found === undefined) throw args.usageError(`Unknown operation name ${value}: one of ${OPERATION_FLAG_NAMES.map(([name]) => name).join(', ')}`);
      return found[1];
    }),
  );
}

/** The entries the principal and host flags make for `operations`: every allowed principal, host and operation, then every denied one. */
function entriesOf(args: ParsedArgs, operations: readonly number[]): AclEntry[] {
  const entries: AclEntry[] = [];
  const kinds = [
    [AclPermission.ALLOW, 'allow-principal', 'allow-host'],
    [AclPermission.DENY, 'deny-principal', 'deny-host'],
  ] as const;
  for (const [permissionType, principalFlag, hostFlag] of kinds) {
    const hosts = args.has(hostFlag) ? unique(args.list(hostFlag).map((host) => host.trim())) : [WILDCARD];
    for (const principal of principalsOf(args, principalFlag)) {
      for (const operation of operations) for (const host of hosts) entries.push({ principal, host, operation, permissionType });
    }
  }
  return entries;
}

/** The ACLs --add and --remove name on each resource (Kafka's getResourceFilterToAcls), their operations checked against the resource type. */
function aclsByResource(args: ParsedArgs, resources: readonly ResourcePattern[]): ResourceAcls[] {
  const planned = new Map<string, ResourceAcls>();
  const plan = (resource: ResourcePattern, entries: AclEntry[]) => {
    const key = resourceKey(resource);
    const existing = planned.get(key);
    if (existing === undefined) planned.set(key, { resource, entries });
    else existing.entries = uniqueEntries([...existing.entries, ...entries]);
  };
  const ofType = (resourceType: number) => resources.filter((resource) => resource.resourceType === resourceType);
  const producer = args.boolean('producer');
  const consumer = args.boolean('consumer');
  if (!producer && !consumer) {
    const entries = entriesOf(args, operationsOf(args));
    for (const resource of resources) plan(resource, entries);
  }
  if (producer) {
    for (const topic of ofType(ResourceType.TOPIC)) plan(topic, entriesOf(args, [AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE]));
    for (const id of ofType(ResourceType.TRANSACTIONAL_ID)) plan(id, entriesOf(args, [AclOperation.WRITE, AclOperation.DESCRIBE]));
    if (args.boolean('idempotent')) plan(CLUSTER, entriesOf(args, [AclOperation.IDEMPOTENT_WRITE]));
  }
  if (consumer) {
    for (const topic of ofType(ResourceType.TOPIC)) plan(topic, entriesOf(args, [AclOperation.READ, AclOperation.DESCRIBE]));
    for (const group of ofType(ResourceType.GROUP)) plan(group, entriesOf(args, [AclOperation.READ]));
  }
  for (const { resource, entries } of planned.values()) {
    const supported = [...SUPPORTED_OPERATIONS.get(resource.resourceType)!, AclOperation.ALL];
    if (entries.some(({ operation }) => !supported.includes(operation))) {
      throw args.usageError(`ResourceType ${RESOURCE_TYPE_NAMES.get(resource.resourceType)} only supports operations ${supported.map((code) => OPERATION_NAMES.get(code)).join(', ')}`);
    }
  }
  return [...planned.values()];
}

/** Creates each resource's ACLs, one CreateAcls a resource as Kafka's tool sends them; the first refused one fails the command. */
async function addAcls(client: KafkaClient, out: OutputBuffer, planned: readonly ResourceAcls[]): Promise<void> {
  for (const { resource, entries } of planned) {
    await out.line(`Adding ACLs for resource \`${patternText(resource)}\`: \n ${entries.map((entry) => `\t${entryText(entry)}`).join('\n')}\n`);
    // Written before the request, so that the command's stdout says what it was doing when it failed.
    await out.flush();
    const results = await client.createAcls(entries.map((entry) => ({ ...resource, ...entry })));
    results.forEach(({ errorCode, errorMessage }, i) => throwIfError(errorCode, `Create ACL ${entryText(entries[i]!)} on \`${patternText(resource)}\``, errorMessage));
  }
}

/** Deletes each resource's ACLs (every ACL of the resource when none is named); the first filter or ACL refused fails the command. */
async function removeAcls(client: KafkaClient, planned: readonly ResourceAcls[]): Promise<void> {
  for (const { resource, entries } of planned) {
    const filters: AclBindingFilter[] =
      entries.length === 0
        ? [{ ...resource, principal: null, host: null, operation: AclOperation.ANY, permissionType: AclPermission.ANY }]
        : entries.map((entry) => ({ ...resource, ...entry }));
    const context = `Remove ACLs of \`${patternText(resource)}\``;
    for (const result of await client.deleteAcls(filters)) {
      throwIfError(result.errorCode, context, result.errorMessage);
      for (const { binding, errorCode, errorMessage } of result.matching) throwIfError(errorCode, `${context}: ${entryText(binding)}`, errorMessage);
    }
  }
}

/** The ACLs on `resources` (every ACL when none), by resource pattern, sorted: Kafka's getAcls, one DescribeAcls a resource. */
async function currentAcls(client: KafkaClient, resources: readonly ResourcePattern[]): Promise<ResourceAcls[]> {
  const anyEntry = { principal: null, host: null, operation: AclOperation.ANY, permissionType: AclPermission.ANY };
  const filters: AclBindingFilter[] =
    resources.length === 0 ? [{ resourceType: ResourceType.ANY, resourceName: null, patternType: PatternType.ANY, ...anyEntry }] : resources.map((resource) => ({ ...resource, ...anyEntry }));
  const byResource = new Map<string, ResourceAcls>();
  for (const filter of filters) {
    for (const binding of await client.describeAcls(filter)) {
      const resource: ResourcePattern = { resourceType: binding.resourceType, resourceName: binding.resourceName, patternType: binding.patternType };
      const key = resourceKey(resource);
      let acls = byResource.get(key);
      if (acls === undefined) byResource.set(key, (acls = { resource, entries: [] }));
      acls.entries.push(entryOf(binding));
    }
  }
  const sorted = [...byResource.values()].sort((a, b) => compareTuples(sortKey(a.resource), sortKey(b.resource)));
  // Filters that overlap (a MATCH and a LITERAL of the same name) describe an ACL twice.
  for (const acls of sorted) acls.entries = uniqueEntries(acls.entries).sort((a, b) => compareTuples([a.principal, a.permissionType, a.operation, a.host], [b.principal, b.permissionType, b.operation, b.host]));
  return sorted;
}

/** kafka-acls' listing: a block per resource pattern; with principals, their ACLs alone under a heading each. */
async function printAcls(out: OutputBuffer, listed: readonly ResourceAcls[], principals: readonly string[]): Promise<void> {
  const printBlocks = async (blocks: readonly ResourceAcls[]) => {
    for (const { resource, entries } of blocks) {
      if (entries.length > 0) await out.line(`Current ACLs for resource \`${patternText(resource)}\`:\n${entries.map((entry) => `\t${entryText(entry)}`).join('\n')}\n`);
    }
  };
  if (principals.length === 0) return printBlocks(listed);
  for (const principal of principals) {
    await out.line(`ACLs for principal \`${principal}\``);
    await printBlocks(listed.map(({ resource, entries }) => ({ resource, entries: entries.filter((entry) => entry.principal === principal) })));
  }
}

/** Kafka's ResourcePattern.toString (and ResourcePatternFilter's). */
function patternText({ resourceType, resourceName, patternType }: ResourcePattern): string {
  return `ResourcePattern(resourceType=${RESOURCE_TYPE_NAMES.get(resourceType) ?? 'UNKNOWN'}, name=${resourceName}, patternType=${PATTERN_TYPE_NAMES.get(patternType) ?? 'UNKNOWN'})`;
}

/** Kafka's AccessControlEntry.toString. */
function entryText({ principal, host, operation, permissionType }: AclEntry): string {
  return `(principal=${principal}, host=${host}, operation=${OPERATION_NAMES.get(operation) ?? 'UNKNOWN'}, permissionType=${PERMISSION_NAMES.get(permissionType) ?? 'UNKNOWN'})`;
}

function entryOf({ principal, host, operation, permissionType }: AclBinding): AclEntry {
  return { principal, host, operation, permissionType };
}

function resourceKey(resource: ResourcePattern): string {
  return JSON.stringify(sortKey(resource));
}

function sortKey({ resourceType, resourceName, patternType }: ResourcePattern): [number, string, number] {
  return [resourceType, resourceName, patternType];
}

function compareTuples(a: ReadonlyArray<string | number>, b: ReadonlyArray<string | number>): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
}

function uniqueEntries(entries: readonly AclEntry[]): AclEntry[] {
  const byKey = new Map(entries.map((entry) => [JSON.stringify([entry.principal, entry.host, entry.operation, entry.permissionType]), entry]));
  return [...byKey.values()];
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** A refusal of the ACL APIs, with what to do about it (REFUSAL_HINTS) after Kafka's error. */
function withHint(error: unknown): unknown {
  if (!isSluiceError(error)) return error;
  const hint = REFUSAL_HINTS[error.code];
  return hint === undefined ? error : new SluiceError(error.code, `${error.message}. ${hint}`);
}
