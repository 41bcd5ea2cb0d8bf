// Dynamic broker configs (Kafka's DynamicBrokerConfig, KIP-226): the broker-level log settings
// changed on running brokers by IncrementalAlterConfigs or AlterConfigs of a BROKER resource, as
//   kafka-configs --bootstrap-server B --entity-type brokers --entity-default --alter --add-config log.retention.ms=3600000
// sends them: for every broker (the default entity, resource name '') or for one (its id).
//
// Which settings: the first broker-level name of every topic config (log.retention.ms,
// log.segment.bytes, log.cleanup.policy, message.max.bytes, min.insync.replicas,
// unclean.leader.election.enable, compression.type, ...; DYNAMIC_BROKER_LOG_CONFIG_NAMES), the set
// Kafka's DynamicLogConfig reconfigures: a topic without its own override takes the new value at
// once (Engine.setBrokerLogDefaults). And the log cleaner's threads, buffers, I/O rate and backoff
// the connection limits and rate and the replication quotas' rates (DYNAMIC_BROKER_NAMES), and per
// broker, a TLS listener's key and trust stores (tls-listener.ts). Any other name is INVALID_REQUEST with Kafka's
// message, "Cannot update these configs dynamically": Kafka's read-only names (broker.id,
// log.dirs, log.retention.hours, ...), and the names Kafka reconfigures but sluice takes only at
// start (thread pools), which say so.
//
// Precedence, most specific first, as Kafka's: this broker's dynamic value (DYNAMIC_BROKER_CONFIG),
// the cluster-wide one (DYNAMIC_DEFAULT_BROKER_CONFIG), server.properties and flags
// (STATIC_BROKER_CONFIG), Kafka's default (DEFAULT_CONFIG).
//
// Where they live: a single broker keeps them in <data dir>/dynamic-broker-configs.json, a cluster
// in etcd under <root>/configs/brokers/ (config-entities.ts), so they survive restarts, as Kafka's
// survive in its metadata log.
import { SluiceError } from '../errors.js';
import { uncleanLeaderElectionFor } from '../cluster/controller-reign.js';
import { CONFIG_SOURCE } from '../protocol/apis/describe-configs.js';
import { brokerLogDefaults, brokerSynonymsOf, DYNAMIC_BROKER_LOG_CONFIG_NAMES, type ConfigValues } from '../storage/log-config.js';
import { cleanerConfigFromBroker } from '../storage/log-cleaner-config.js';
import { BROKER_DEFAULTS, brokerListener, connectionLimits, listenerConnectionLimitOf, servedTlsSettings } from './config.js';
import { checkStoreRenewal, isTlsReconfigurable, type TlsListenerSettings } from './tls-listener.js';
import { everyServed } from './listeners.js';
import type { ConfigEntities as DynamicEntities } from './config-entities.js';
import { REPLICA_ALTER_LOG_DIRS_IO_MAX_BYTES_PER_SECOND, REPLICATION_THROTTLED_RATE_NAMES, replicationThrottledRates } from './replication-quotas.js';

/** The resource name of the cluster-wide default broker entity, as Kafka's admin client sends it. */
export const DEFAULT_ENTITY = '';

/** The file of a single broker's dynamic configs, in its data directory. */
export const DYNAMIC_CONFIG_FILE = 'dynamic-broker-configs.json';

/**
 * Broker settings beside the log defaults that change on a running broker, as in Kafka: the log
 * cleaner's (LogCleaner.reconfigure: later passes run on threads made with them) and the
 * connection limits (for connections accepted from then on; max.connections stays within the
 * descriptor budget the broker started with, src/limits.ts).
 */
const DYNAMIC_BROKER_NAMES: readonly string[] = [
  'log.cleaner.threads',
  'log.cleaner.dedupe.buffer.size',
  'log.cleaner.io.buffer.size',
  'log.cleaner.io.buffer.load.factor',
  'log.cleaner.io.max.bytes.per.second',
  'log.cleaner.backoff.ms',
  'max.connections',
  'max.connections.per.ip',
  'max.connections.per.ip.overrides',
  'max.connection.creation.rate',
  // Replication quotas (replication-quotas.ts): Kafka's are dynamic only, per broker or cluster-wide.
  ...REPLICATION_THROTTLED_RATE_NAMES,
  REPLICA_ALTER_LOG_DIRS_IO_MAX_BYTES_PER_SECOND,
];

const DYNAMIC_NAMES: ReadonlySet<string> = new Set([...DYNAMIC_BROKER_LOG_CONFIG_NAMES, ...DYNAMIC_BROKER_NAMES]);

/**
 * Names Kafka changes on a running broker that sluice takes only at start: refused with the
 * reason, so that an operator is never told a value took effect when it did not.
 */
const RESTART_ONLY: ReadonlySet<string> = new Set([
  'num.io.threads',
  'num.network.threads',
  'num.replica.fetchers',
  'num.recovery.threads.per.data.dir',
  'background.threads',
]);

/** Kafka's label of a BROKER resource in the messages of its config errors. */
function resourceLabel(entity: string): string {
  return `ConfigResource(type=BROKER, name='${entity}')`;
}

function invalid(entity: string, message: string): SluiceError {
  return new SluiceError('INVALID_REQUEST', `Invalid config value for resource ${resourceLabel(entity)}: ${message}`);
}

/** A broker entity's name: '' (every broker) or a broker id. */
export function checkBrokerEntity(entity: string): void {
  if (entity !== DEFAULT_ENTITY && !/^(0|[1-9][0-9]{0,9})$/.test(entity)) {
    throw new SluiceError('INVALID_REQUEST', `Broker id must be an integer (or empty for the cluster-wide default), got '${entity}'`);
  }
}

/**
 * The configs of one broker (static settings and the dynamic layers over them) and where each
 * value comes from. The dynamic layers are replaced whole (`replace`) as the store delivers them.
 */
export class BrokerConfigLayers {
  private entities: DynamicEntities = new Map();

  constructor(
    /** The broker's settings as started: server.properties and flags over Kafka's defaults. */
    private readonly staticValues: Readonly<Record<string, string>>,
    readonly nodeId: number,
  ) {}

  replace(entities: DynamicEntities): void {
    this.entities = new Map(entities);
  }

  /** One entity's dynamic configs (empty when none is set). */
  dynamicOf(entity: string): Readonly<Record<string, string>> {
    return this.entities.get(entity) ?? {};
  }

  get all(): DynamicEntities {
    return this.entities;
  }

  /** The values this broker runs with: its own dynamic over the cluster's over the static ones. */
  effective(): Record<string, string> {
    return { ...this.staticValues, ...this.dynamicOf(DEFAULT_ENTITY), ...this.dynamicOf(String(this.nodeId)) };
  }

  /** unclean.leader.election.enable as this broker runs with it, read as the controller reads a topic's. */
  uncleanLeaderElectionEnable(): boolean {
    return uncleanLeaderElectionFor(this.effective(), false);
  }

  /**
   * Every layer that sets `name`, most specific first (Kafka's synonyms of a broker config),
   * ending with the default when Kafka has one.
   */
  synonymsOf(name: string): Array<{ name: string; value: string; source: number }> {
    const synonyms: Array<{ name: string; value: string; source: number }> = [];
    const own = this.dynamicOf(String(this.nodeId))[name];
    if (own !== undefined) synonyms.push({ name, value: own, source: CONFIG_SOURCE.DYNAMIC_BROKER_CONFIG });
    const cluster = this.dynamicOf(DEFAULT_ENTITY)[name];
    if (cluster !== undefined) synonyms.push({ name, value: cluster, source: CONFIG_SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG });
    const given = this.staticValues[name];
    if (given !== undefined && given !== BROKER_DEFAULTS[name]) synonyms.push({ name, value: given, source: CONFIG_SOURCE.STATIC_BROKER_CONFIG });
    const fallback = BROKER_DEFAULTS[name];
    if (fallback !== undefined) synonyms.push({ name, value: fallback, source: CONFIG_SOURCE.DEFAULT_CONFIG });
    return synonyms;
  }

  /**
   * The broker-level layers of a topic config (log.retention.ms and its other units), most
   * specific first, each set value once: what a topic without an override takes.
   */
  topicDefaultSynonyms(topicConfig: string): Array<{ name: string; value: string; source: number }> {
    const synonyms = [];
    for (const brokerName of brokerSynonymsOf(topicConfig)) {
      for (const synonym of this.synonymsOf(brokerName)) if (synonym.source !== CONFIG_SOURCE.DEFAULT_CONFIG) synonyms.push(synonym);
    }
    // Layers first, then units: a dynamic log.retention.ms beats a static log.retention.hours.
    return synonyms.sort((a, b) => a.source - b.source);
  }

  /**
   * Checks an entity's new dynamic configs as Kafka does (INVALID_REQUEST: names that cannot
   * change on a running broker, values that do not parse), and that this broker could run with
   * the layers `next`, which hold them. `servingTls` is what each TLS listener serves now, by
   * listener name: a renewed store is compared with it, not with the files read again, which a
   * renewal in place has already overwritten. Returns every TLS listener's next settings when the
   * alter renews this broker's stores (for the handshake checks that need the event loop), else null.
   */
  check(entity: string, next: DynamicEntities, servingTls: ReadonlyMap<string, TlsListenerSettings> = new Map()): Map<string, TlsListenerSettings> | null {
    checkBrokerEntity(entity);
    const configs = next.get(entity) ?? {};
    const names = Object.keys(configs);
    const restartOnly = names.filter((name) => RESTART_ONLY.has(name));
    if (restartOnly.length > 0) {
      throw invalid(entity, `Cannot update these configs dynamically: Set(${restartOnly.join(', ')}); sluice takes them at start only (set them in server.properties and restart)`);
    }
    const readOnly = names.filter((name) => !DYNAMIC_NAMES.has(name) && !isTlsReconfigurable(name) && listenerConnectionLimitOf(name) === null);
    if (readOnly.length > 0) throw invalid(entity, `Cannot update these configs dynamically: Set(${readOnly.join(', ')})`);
    // A listener's own connection limits (KIP-402, KIP-612) name one of the listeners this broker serves.
    const served = new Set(everyServed(brokerListener(this.staticValues)).map(({ name }) => name));
    const strayListener = names.find((name) => {
      const limited = listenerConnectionLimitOf(name);
      return limited !== null && !served.has(limited.listener);
    });
    if (strayListener !== undefined) throw invalid(entity, `${strayListener} names no listener this broker serves (${[...served].join(', ')})`);
    // A key store is one broker's own: Kafka refuses the stores as a cluster-wide default.
    const tlsNames = names.filter(isTlsReconfigurable);
    if (tlsNames.length > 0 && entity === DEFAULT_ENTITY) throw invalid(entity, `Cannot update these configs at default cluster level, broker id must be specified: Set(${tlsNames.join(', ')})`);
    try {
      // The values alone (a typo in the default entity fails even where a broker overrides it)...
      brokerLogDefaults(configs as ConfigValues);
      // ...and this broker's whole set (min.compaction.lag.ms above max.compaction.lag.ms).
      const effective = { ...this.staticValues, ...(next.get(DEFAULT_ENTITY) ?? {}), ...(next.get(String(this.nodeId)) ?? {}) };
      brokerLogDefaults(effective);
      cleanerConfigFromBroker(effective);
      connectionLimits(effective);
      replicationThrottledRates(effective);
      // The stores open with their passwords, or the alter is refused (not applied and then failing).
      const nextTls = servedTlsSettings(effective);
      if (tlsNames.length > 0 && entity === String(this.nodeId)) {
        if (nextTls.size === 0) throw new Error(`no served listener is SSL or SASL_SSL, so ${tlsNames.join(', ')} would take no effect`);
        const tlsListeners = [...nextTls.keys()].map((name) => name.toLowerCase());
        const stray = tlsNames.find((name) => /^listener\.name\./.test(name) && !tlsListeners.includes(name.split('.')[2]!));
        if (stray !== undefined) throw new Error(`${stray} names no served SSL or SASL_SSL listener (${[...nextTls.keys()].join(', ')}), so it would take no effect`);
        for (const [listener, settings] of nextTls) {
          const serving = servingTls.get(listener);
          if (serving !== undefined) checkStoreRenewal(serving, settings);
        }
        return nextTls;
      }
      return null;
    } catch (error) {
      throw this.refusal(entity, error);
    }
  }

  /** Why an alter of `entity` is refused (INVALID_REQUEST): check()'s errors, and a renewal's handshake checks'. */
  refusal(entity: string, error: unknown): SluiceError {
    return invalid(entity, error instanceof Error ? error.message : String(error));
  }
}
