// Topic-level log configuration: every topic config name Kafka 3.9 knows (LogConfig, TopicConfig,
// ServerTopicConfigSynonyms), in one table. A row gives the name, Kafka's default, the parser that
// validates a value as Kafka's ConfigDef does (type, range, valid strings; errors are INVALID_CONFIG
// with Kafka's wording), the broker-level synonyms that set the default (log.segment.bytes,
// log.roll.hours, ...) in Kafka's order of precedence, and, when sluice does not act on the
// setting, a one-line reason. Such a name is still accepted (clients and tools set them), and
// `unsupportedConfigs` lists it so the broker can say so at startup and when it is set.
import { SluiceError } from '../errors.js';
import { SEGMENT_BYTES_MAX, SEGMENT_BYTES_MIN } from '../limits.js';

/** Kafka's BrokerCompressionType names: a codec, 'uncompressed', or 'producer' (keep the producer's). */
export type BrokerCompressionType = 'uncompressed' | 'zstd' | 'lz4' | 'snappy' | 'gzip' | 'producer';

export type CleanupPolicyItem = 'compact' | 'delete';

export interface LogConfig {
  segmentBytes: number;
  segmentMs: number;
  /** Upper bound of the random amount taken off segment.ms per segment, so partitions do not roll together. */
  segmentJitterMs: number;
  segmentIndexBytes: number;
  indexIntervalBytes: number;
  /** -1: keep forever. */
  retentionMs: number;
  /** -1: unlimited. */
  retentionBytes: number;
  maxMessageBytes: number;
  /** Flush after this many messages; Infinity (Kafka's Long.MAX_VALUE) leaves it to the OS. */
  flushMessages: number;
  /** Flush when this long has passed since the last flush; Infinity leaves it to the OS. */
  flushMs: number;
  /** Kafka's list: 'delete' enables time and size retention, 'compact' the log cleaner; may be empty. */
  cleanupPolicy: readonly CleanupPolicyItem[];
  messageTimestampType: 'CreateTime' | 'LogAppendTime';
  /** CreateTime records older than now minus this are refused; Infinity: no bound (see timestampBoundsMs). */
  messageTimestampBeforeMaxMs: number;
  /** CreateTime records newer than now plus this are refused; Infinity: no bound. */
  messageTimestampAfterMaxMs: number;
  /** Deprecated in Kafka 3.6: both bounds at once, used where before/after keep their default. */
  messageTimestampDifferenceMaxMs: number;
  preallocate: boolean;
  minInsyncReplicas: number;
  compressionType: BrokerCompressionType;
  compressionGzipLevel: number;
  compressionLz4Level: number;
  compressionZstdLevel: number;
  // The log cleaner's (cleanup.policy compact; log-cleaner.ts).
  /** A tombstone stays this long after its segment joined the clean part of the log. */
  deleteRetentionMs: number;
  /** Records younger than this are not cleaned. */
  minCompactionLagMs: number;
  /** A log whose oldest dirty record is older than this is cleaned whatever its dirty ratio; Infinity: never. */
  maxCompactionLagMs: number;
  /** Dirty bytes / all bytes at which a log is cleaned. */
  minCleanableDirtyRatio: number;
  // Accepted and carried for describe; sluice does not act on them (see the table's reasons).
  fileDeleteDelayMs: number;
  uncleanLeaderElectionEnable: boolean;
  messageDownconversionEnable: boolean;
  messageFormatVersion: string;
  /** Replicas ("partition:broker", or "*") that leader/follower.replication.throttled.rate hold back in a cluster. */
  leaderReplicationThrottledReplicas: readonly string[];
  followerReplicationThrottledReplicas: readonly string[];
  localRetentionMs: number;
  localRetentionBytes: number;
  remoteStorageEnable: boolean;
  remoteLogCopyDisable: boolean;
  remoteLogDeleteOnDisable: boolean;
}

/** Kafka's DescribeConfigs ConfigType (KIP-569). */
export const ConfigType = { BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, DOUBLE: 6, LIST: 7, CLASS: 8, PASSWORD: 9 } as const;
export type ConfigTypeName = keyof typeof ConfigType;

type Parser = (name: string, raw: string) => unknown;

interface BrokerSynonym {
  name: string;
  /** Multiplier from the broker setting's unit to the topic setting's (hours to ms: 3,600,000). */
  factor?: number;
}

interface TopicConfigSpec {
  name: string;
  field: keyof LogConfig;
  type: ConfigTypeName;
  /** Kafka's default, as DescribeConfigs shows it. */
  kafkaDefault: string;
  parse: Parser;
  /** Broker-level names that set the default, first wins (Kafka's ServerTopicConfigSynonyms). */
  brokerSynonyms: readonly BrokerSynonym[];
  /** Why sluice does not act on this value, or undefined when it takes effect. */
  unsupported?: (value: unknown) => string | undefined;
}

const LONG_MAX_TEXT = '9223372036854775807';
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
const MINUTE_MS = 60 * 1000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

function invalid(name: string, raw: string, why: string): SluiceError {
  return new SluiceError('INVALID_CONFIG', `Invalid value ${raw} for configuration ${name}: ${why}`);
}

function range(name: string, raw: string, value: number, min: number | undefined, max: number | undefined): void {
  if (min !== undefined && value < min) throw invalid(name, raw, `Value must be at least ${min}`);
  if (max !== undefined && value > max) throw invalid(name, raw, `Value must be no more than ${max}`);
}

/** Kafka's INT: Integer.parseInt of the trimmed text, then the range. */
function int(min?: number, max?: number): Parser {
  return (name, raw) => {
    const text = raw.trim();
    const value = Number(text);
    if (!/^[+-]?\d+$/.test(text) || value < INT_MIN || value > INT_MAX) throw invalid(name, raw, 'Not a number of type INT');
    range(name, raw, value, min, max);
    return value;
  };
}

/** Kafka's LONG. Long.MAX_VALUE, Kafka's "no limit" for flushes and timestamp bounds, becomes Infinity. */
function long(min?: number, max?: number): Parser {
  return (name, raw) => {
    const text = raw.trim();
    if (!/^[+-]?\d+$/.test(text)) throw invalid(name, raw, 'Not a number of type LONG');
    const exact = BigInt(text);
    if (exact < LONG_MIN || exact > LONG_MAX) throw invalid(name, raw, 'Not a number of type LONG');
    const value = exact === LONG_MAX ? Infinity : Number(exact);
    range(name, raw, value, min, max);
    return value;
  };
}

function double(min: number, max: number): Parser {
  return (name, raw) => {
    const text = raw.trim();
    const value = Number(text);
    if (text === '' || !Number.isFinite(value)) throw invalid(name, raw, 'Not a number of type DOUBLE');
    range(name, raw, value, min, max);
    return value;
  };
}

const boolean: Parser = (name, raw) => {
  const text = raw.trim().toLowerCase();
  if (text !== 'true' && text !== 'false') throw invalid(name, raw, 'Expected value to be either true or false');
  return text === 'true';
};

/** Kafka's ValidString.in: the trimmed value, case-sensitive. */
function oneOf(...choices: string[]): Parser {
  return (name, raw) => {
    const value = raw.trim();
    if (!choices.includes(value)) throw invalid(name, raw, `String must be one of: ${choices.join(', ')}`);
    return value;
  };
}

/** Kafka's LIST: comma-separated, items trimmed; an empty string is an empty list. */
function list(validItem: (item: string) => boolean, why: string): Parser {
  return (name, raw) => {
    const text = raw.trim();
    const items = text === '' ? [] : text.split(/\s*,\s*/);
    if (!items.every(validItem)) throw invalid(name, raw, why);
    return items;
  };
}

const cleanupPolicy = list((item) => item === 'compact' || item === 'delete', 'String must be one of: compact, delete');

/** Kafka's ThrottledReplicaListValidator: '*' alone, or partitionId:brokerId items. */
const throttledReplicas: Parser = (name, raw) => {
  const items = raw.trim() === '' ? [] : raw.trim().split(/\s*,\s*/);
  const wildcard = items.length === 1 && items[0] === '*';
  if (!wildcard && !items.every((item) => /^\d+:\d+$/.test(item))) {
    throw invalid(name, raw, "must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...");
  }
  return items;
};

/** Kafka's gzip level: java.util.zip.Deflater's 1..9, or -1 for zlib's default (6). */
const gzipLevel: Parser = (name, raw) => {
  const value = int()(name, raw) as number;
  if (value > 9 || (value < 1 && value !== -1)) throw invalid(name, raw, 'Value must be between 1 and 9 or equal to -1');
  return value;
};

// MetadataVersion.fromVersionString: "0.x.y" keeps three parts, later versions two ("2.8.1" is
// 2.8), optionally followed by "-IV<n>". Kafka 3.x accepts every release up to its own.
const MESSAGE_FORMAT_VERSIONS = new Set([
  '0.8.0', '0.8.1', '0.8.2', '0.9.0', '0.10.0', '0.10.1', '0.10.2', '0.11.0',
  '1.0', '1.1', '2.0', '2.1', '2.2', '2.3', '2.4', '2.5', '2.6', '2.7', '2.8',
  '3.0', '3.1', '3.2', '3.3', '3.4', '3.5', '3.6', '3.7', '3.8', '3.9',
]);
const messageFormatVersion: Parser = (name, raw) => {
  const text = raw.trim();
  const [release = '', internal] = text.split('-', 2);
  const parts = release.split('.');
  const key = parts.slice(0, release.startsWith('0.') ? 3 : 2).join('.');
  if (!MESSAGE_FORMAT_VERSIONS.has(key) || (internal !== undefined && !/^IV\d+$/.test(internal))) {
    throw invalid(name, raw, `Version ${text} is not a valid version`);
  }
  return text;
};

/** Tiered storage needs remote.log.storage.system.enable, which sluice never has: Kafka's refusal. */
const remoteStorageEnable: Parser = (name, raw) => {
  if (boolean(name, raw)) {
    throw new SluiceError('INVALID_CONFIG', 'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.');
  }
  return false;
};

const TIERED = 'tiered storage: sluice keeps every segment local and never offers remote storage';
const always = (reason: string) => () => reason;

function row(
  name: string,
  field: keyof LogConfig,
  type: ConfigTypeName,
  kafkaDefault: string,
  parse: Parser,
  brokerSynonyms: readonly (string | BrokerSynonym)[],
  unsupported?: (value: unknown) => string | undefined,
): TopicConfigSpec {
  return { name, field, type, kafkaDefault, parse, brokerSynonyms: brokerSynonyms.map((s) => (typeof s === 'string' ? { name: s } : s)), unsupported };
}

/** The catalog: every topic config of Kafka 3.9, in TopicConfig's order. */
const CATALOG: readonly TopicConfigSpec[] = [
  row('segment.bytes', 'segmentBytes', 'INT', String(1024 * 1024 * 1024), int(SEGMENT_BYTES_MIN, SEGMENT_BYTES_MAX), ['log.segment.bytes']),
  row('segment.ms', 'segmentMs', 'LONG', String(7 * DAY_MS), long(1), ['log.roll.ms', { name: 'log.roll.hours', factor: HOUR_MS }]),
  row('segment.jitter.ms', 'segmentJitterMs', 'LONG', '0', long(0), ['log.roll.jitter.ms', { name: 'log.roll.jitter.hours', factor: HOUR_MS }]),
  row('segment.index.bytes', 'segmentIndexBytes', 'INT', String(10 * 1024 * 1024), int(4), ['log.index.size.max.bytes']),
  row('flush.messages', 'flushMessages', 'LONG', LONG_MAX_TEXT, long(1), ['log.flush.interval.messages']),
  row('flush.ms', 'flushMs', 'LONG', LONG_MAX_TEXT, long(0), ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms']),
  row('retention.bytes', 'retentionBytes', 'LONG', '-1', long(), ['log.retention.bytes']),
  row('retention.ms', 'retentionMs', 'LONG', String(7 * DAY_MS), long(-1), [
    'log.retention.ms',
    { name: 'log.retention.minutes', factor: MINUTE_MS },
    { name: 'log.retention.hours', factor: HOUR_MS },
  ]),
  // Kafka's 1048588: 1 MiB of records plus the 12-byte log overhead.
  row('max.message.bytes', 'maxMessageBytes', 'INT', String(1024 * 1024 + 12), int(0), ['message.max.bytes']),
  row('index.interval.bytes', 'indexIntervalBytes', 'INT', '4096', int(0), ['log.index.interval.bytes']),
  row('file.delete.delay.ms', 'fileDeleteDelayMs', 'LONG', '60000', long(0), ['log.segment.delete.delay.ms']),
  row('delete.retention.ms', 'deleteRetentionMs', 'LONG', String(DAY_MS), long(0), ['log.cleaner.delete.retention.ms']),
  row('min.compaction.lag.ms', 'minCompactionLagMs', 'LONG', '0', long(0), ['log.cleaner.min.compaction.lag.ms']),
  row('max.compaction.lag.ms', 'maxCompactionLagMs', 'LONG', LONG_MAX_TEXT, long(1), ['log.cleaner.max.compaction.lag.ms']),
  row('min.cleanable.dirty.ratio', 'minCleanableDirtyRatio', 'DOUBLE', '0.5', double(0, 1), ['log.cleaner.min.cleanable.ratio']),
  row('cleanup.policy', 'cleanupPolicy', 'LIST', 'delete', cleanupPolicy, ['log.cleanup.policy']),
  // Read by the cluster's controller (src/cluster) from the topic's configs; a single broker has no other replica to elect.
  row('unclean.leader.election.enable', 'uncleanLeaderElectionEnable', 'BOOLEAN', 'false', boolean, ['unclean.leader.election.enable']),
  row('min.insync.replicas', 'minInsyncReplicas', 'INT', '1', int(1), ['min.insync.replicas']),
  row('compression.type', 'compressionType', 'STRING', 'producer', oneOf('uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'), ['compression.type']),
  row('compression.gzip.level', 'compressionGzipLevel', 'INT', '-1', gzipLevel, ['compression.gzip.level']),
  row('compression.lz4.level', 'compressionLz4Level', 'INT', '9', int(1, 17), ['compression.lz4.level'], always(
    'sluice\'s lz4 codec (lz4-napi over lz4_flex) compresses at a single level',
  )),
  row('compression.zstd.level', 'compressionZstdLevel', 'INT', '3', int(-131072, 22), ['compression.zstd.level']),
  row('preallocate', 'preallocate', 'BOOLEAN', 'false', boolean, ['log.preallocate']),
  row('message.format.version', 'messageFormatVersion', 'STRING', '3.0-IV1', messageFormatVersion, ['log.message.format.version'], always(
    'ignored, as Kafka 3.0+ ignores it: sluice stores RecordBatch v2 only',
  )),
  row('message.timestamp.type', 'messageTimestampType', 'STRING', 'CreateTime', oneOf('CreateTime', 'LogAppendTime'), ['log.message.timestamp.type']),
  row('message.timestamp.difference.max.ms', 'messageTimestampDifferenceMaxMs', 'LONG', LONG_MAX_TEXT, long(0), ['log.message.timestamp.difference.max.ms']),
  row('message.timestamp.before.max.ms', 'messageTimestampBeforeMaxMs', 'LONG', LONG_MAX_TEXT, long(0), ['log.message.timestamp.before.max.ms']),
  row('message.timestamp.after.max.ms', 'messageTimestampAfterMaxMs', 'LONG', LONG_MAX_TEXT, long(0), ['log.message.timestamp.after.max.ms']),
  row('message.downconversion.enable', 'messageDownconversionEnable', 'BOOLEAN', 'true', boolean, ['log.message.downconversion.enable'], (value) =>
    value === true ? 'sluice never down-converts: Fetch v0-v3 (message formats v0/v1) are not offered' : undefined,
  ),
  // Replication quotas (broker/replication-quotas.ts): in a cluster, the replicas that
  // leader/follower.replication.throttled.rate hold back; a single broker has none to throttle.
  row('leader.replication.throttled.replicas', 'leaderReplicationThrottledReplicas', 'LIST', '', throttledReplicas, []),
  row('follower.replication.throttled.replicas', 'followerReplicationThrottledReplicas', 'LIST', '', throttledReplicas, []),
  row('remote.storage.enable', 'remoteStorageEnable', 'BOOLEAN', 'false', remoteStorageEnable, []),
  row('local.retention.ms', 'localRetentionMs', 'LONG', '-2', long(-2), ['log.local.retention.ms'], always(TIERED)),
  row('local.retention.bytes', 'localRetentionBytes', 'LONG', '-2', long(-2), ['log.local.retention.bytes'], always(TIERED)),
  row('remote.log.copy.disable', 'remoteLogCopyDisable', 'BOOLEAN', 'false', boolean, [], always(TIERED)),
  row('remote.log.delete.on.disable', 'remoteLogDeleteOnDisable', 'BOOLEAN', 'false', boolean, [], always(TIERED)),
];

const BY_NAME = new Map(CATALOG.map((spec) => [spec.name, spec]));
const BY_BROKER_NAME = new Map(CATALOG.flatMap((spec) => spec.brokerSynonyms.map((synonym) => [synonym.name, { spec, synonym }] as const)));

function parseDefaults(): LogConfig {
  const config = {} as Record<string, unknown>;
  for (const spec of CATALOG) config[spec.field] = spec.parse(spec.name, spec.kafkaDefault);
  return config as unknown as LogConfig;
}

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze(parseDefaults());

export type ConfigValues = Record<string, string | number | boolean>;

/** Every topic config name, in Kafka's TopicConfig order. */
export const TOPIC_CONFIG_NAMES: readonly string[] = CATALOG.map((spec) => spec.name);

/**
 * Broker-level names (server.properties) that set topic configs' defaults: log.segment.bytes,
 * log.roll.hours, message.max.bytes, compression.type, ... The broker's own config catalog can
 * list these instead of repeating them.
 */
export const BROKER_LOG_CONFIG_NAMES: readonly string[] = [...BY_BROKER_NAME.keys()];

/**
 * The broker-level log settings a running broker can change (Kafka's DynamicLogConfig, KIP-226):
 * the first broker-level name of each topic config (log.retention.ms, not log.retention.hours,
 * which Kafka keeps read-only), without log.message.format.version, as Kafka leaves it out.
 */
export const DYNAMIC_BROKER_LOG_CONFIG_NAMES: readonly string[] = CATALOG.flatMap((spec) => spec.brokerSynonyms.slice(0, 1).map((synonym) => synonym.name)).filter(
  (name) => name !== 'log.message.format.version',
);

export function isTopicConfigName(name: string): boolean {
  return BY_NAME.has(name);
}

/** The topic config a broker-level name sets (log.roll.hours -> segment.ms), or undefined. */
export function topicConfigOfBrokerName(brokerName: string): string | undefined {
  return BY_BROKER_NAME.get(brokerName)?.spec.name;
}

/**
 * The broker-level names that set a topic config's default, first wins (retention.ms:
 * log.retention.ms, log.retention.minutes, log.retention.hours), for DescribeConfigs' synonyms.
 */
export function brokerSynonymsOf(name: string): readonly string[] {
  return BY_NAME.get(name)?.brokerSynonyms.map((synonym) => synonym.name) ?? [];
}

/** Kafka's ConfigType of a topic config, for DescribeConfigs; undefined for names not in the table. */
export function topicConfigType(name: string): number | undefined {
  const spec = BY_NAME.get(name);
  return spec === undefined ? undefined : ConfigType[spec.type];
}

/** Kafka's default of a topic config, as text. */
export function topicConfigDefault(name: string): string | undefined {
  return BY_NAME.get(name)?.kafkaDefault;
}

export interface UnsupportedConfig {
  /** The name as given: a topic config, or a broker-level synonym of one. */
  name: string;
  value: string;
  /** One line: why sluice does not act on it. */
  reason: string;
}

/**
 * The settings in `values` that sluice accepts but does not act on, with the reason for each.
 * Takes topic-level names (a topic's overrides) and broker-level synonyms (server.properties), so
 * the broker can report both at startup and when a topic's configs are set. Values that do not
 * parse are left to resolveLogConfig to refuse.
 */
export function unsupportedConfigs(values: ConfigValues): UnsupportedConfig[] {
  const found: UnsupportedConfig[] = [];
  for (const [name, raw] of Object.entries(values)) {
    const byBroker = BY_BROKER_NAME.get(name);
    const spec = byBroker?.spec ?? BY_NAME.get(name);
    if (!spec?.unsupported) continue;
    let value: unknown;
    try {
      value = spec.parse(name, byBroker?.synonym.factor ? String(Number(raw) * byBroker.synonym.factor) : String(raw));
    } catch {
      continue;
    }
    const reason = spec.unsupported(value);
    if (reason !== undefined) found.push({ name, value: String(raw), reason });
  }
  return found;
}

/** Applies topic-level overrides on top of `base`. Unknown names are INVALID_CONFIG, as in Kafka. */
export function resolveLogConfig(overrides: ConfigValues = {}, base: Readonly<LogConfig> = DEFAULT_LOG_CONFIG): LogConfig {
  const config: LogConfig = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    const spec = BY_NAME.get(name);
    if (!spec) throw new SluiceError('INVALID_CONFIG', `Unknown topic config name: ${name}`);
    (config as unknown as Record<string, unknown>)[spec.field] = spec.parse(name, String(value));
  }
  validateCombination(config);
  return config;
}

/** Kafka's LogConfig.validateValues: checks that span settings. */
function validateCombination(config: LogConfig): void {
  if (config.minCompactionLagMs > config.maxCompactionLagMs) {
    throw new SluiceError(
      'INVALID_CONFIG',
      `conflict topic config setting min.compaction.lag.ms (${config.minCompactionLagMs}) > max.compaction.lag.ms (${config.maxCompactionLagMs})`,
    );
  }
}

/**
 * The topic-level defaults a broker configuration implies. For each topic config the first of its
 * broker-level synonyms that is set wins (log.retention.ms over .minutes over .hours), converted to
 * the topic config's unit; a topic-level name in the broker config is used when no synonym is set.
 * Other keys are ignored, so a whole server.properties can be passed.
 */
export function brokerLogDefaults(brokerConfig: ConfigValues = {}): LogConfig {
  const topicLevel: ConfigValues = {};
  for (const spec of CATALOG) {
    const synonym = spec.brokerSynonyms.find((s) => brokerConfig[s.name] !== undefined);
    if (synonym === undefined) {
      if (brokerConfig[spec.name] !== undefined) topicLevel[spec.name] = brokerConfig[spec.name]!;
      continue;
    }
    const raw = String(brokerConfig[synonym.name]);
    if (synonym.factor === undefined) {
      // Parsed under the broker's name so that an error names the setting the operator wrote.
      spec.parse(synonym.name, raw);
      topicLevel[spec.name] = raw;
    } else {
      const value = int()(synonym.name, raw) as number;
      // Kafka: a negative log.retention.minutes/hours means -1 (keep forever).
      topicLevel[spec.name] = spec.name === 'retention.ms' && value < 0 ? -1 : value * synonym.factor;
    }
  }
  return resolveLogConfig(topicLevel);
}

/** The topic-level view of a config, by Kafka's names and in Kafka's text, for describe. */
export function describeLogConfig(config: Readonly<LogConfig>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of CATALOG) out[spec.name] = formatValue(config[spec.field]);
  return out;
}

function formatValue(value: unknown): string {
  if (value === Infinity) return LONG_MAX_TEXT;
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/**
 * The bounds CreateTime records must fall within, as offsets from the broker's clock (Kafka's
 * LogConfig: before/after fall back to the deprecated difference.max.ms while at their default).
 */
export function timestampBoundsMs(config: Readonly<LogConfig>): { beforeMaxMs: number; afterMaxMs: number } {
  return {
    beforeMaxMs: config.messageTimestampBeforeMaxMs !== Infinity ? config.messageTimestampBeforeMaxMs : config.messageTimestampDifferenceMaxMs,
    afterMaxMs: config.messageTimestampAfterMaxMs !== Infinity ? config.messageTimestampAfterMaxMs : config.messageTimestampDifferenceMaxMs,
  };
}
