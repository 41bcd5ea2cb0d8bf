// Topic-level log configuration with Kafka's names and defaults. A broker-level default uses the
// same name prefixed with `log.` (log.segment.bytes, log.retention.ms, ...), except where Kafka
// names it otherwise (message.max.bytes, log.roll.ms, log.index.size.max.bytes, ...).
import { SluiceError } from '../errors.js';
import { SEGMENT_BYTES_MAX, SEGMENT_BYTES_MIN } from '../limits.js';

export interface LogConfig {
  segmentBytes: number;
  segmentMs: number;
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
  cleanupPolicy: 'delete' | 'compact' | 'compact,delete';
  messageTimestampType: 'CreateTime' | 'LogAppendTime';
  preallocate: boolean;
  minInsyncReplicas: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * DAY_MS,
  segmentIndexBytes: 10 * 1024 * 1024,
  indexIntervalBytes: 4096,
  retentionMs: 7 * DAY_MS,
  retentionBytes: -1,
  maxMessageBytes: 1024 * 1024 + 12, // Kafka's 1048588: 1 MiB of records plus the log overhead
  flushMessages: Infinity,
  flushMs: Infinity,
  cleanupPolicy: 'delete',
  messageTimestampType: 'CreateTime',
  preallocate: false,
  minInsyncReplicas: 1,
});

type Parser = (name: string, raw: string) => unknown;

const LONG_MAX = 2 ** 63 - 1;
const LONG_MAX_TEXT = '9223372036854775807';

function integer(min: number, max = Number.MAX_SAFE_INTEGER): Parser {
  return (name, raw) => {
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || value < min || value > max) {
      throw new SluiceError('INVALID_CONFIG', `Invalid value ${raw} for configuration ${name}: must be an integer in [${min}, ${max}]`);
    }
    return value;
  };
}

/** Kafka's flush settings default to Long.MAX_VALUE, which we hold as Infinity. */
function longOrInfinity(min: number): Parser {
  const parse = integer(min, LONG_MAX);
  return (name, raw) => {
    const value = parse(name, raw) as number;
    return value >= Number.MAX_SAFE_INTEGER ? Infinity : value;
  };
}

function oneOf<T extends string>(...choices: T[]): Parser {
  return (name, raw) => {
    const value = raw.trim() as T;
    if (!choices.includes(value)) {
      throw new SluiceError('INVALID_CONFIG', `Invalid value ${raw} for configuration ${name}: must be one of ${choices.join(', ')}`);
    }
    return value;
  };
}

const boolean: Parser = (name, raw) => {
  if (raw !== 'true' && raw !== 'false') {
    throw new SluiceError('INVALID_CONFIG', `Invalid value ${raw} for configuration ${name}: must be true or false`);
  }
  return raw === 'true';
};

/** Topic-level name → field and parser. */
const TOPIC_CONFIGS: Record<string, [keyof LogConfig, Parser]> = {
  'segment.bytes': ['segmentBytes', integer(SEGMENT_BYTES_MIN, SEGMENT_BYTES_MAX)],
  'segment.ms': ['segmentMs', integer(1)],
  'segment.index.bytes': ['segmentIndexBytes', integer(4, SEGMENT_BYTES_MAX)],
  'index.interval.bytes': ['indexIntervalBytes', integer(0, SEGMENT_BYTES_MAX)],
  'retention.ms': ['retentionMs', integer(-1)],
  'retention.bytes': ['retentionBytes', integer(-1)],
  'max.message.bytes': ['maxMessageBytes', integer(0, SEGMENT_BYTES_MAX)],
  'flush.messages': ['flushMessages', longOrInfinity(1)],
  'flush.ms': ['flushMs', longOrInfinity(0)],
  'cleanup.policy': ['cleanupPolicy', oneOf('delete', 'compact', 'compact,delete')],
  'message.timestamp.type': ['messageTimestampType', oneOf('CreateTime', 'LogAppendTime')],
  preallocate: ['preallocate', boolean],
  'min.insync.replicas': ['minInsyncReplicas', integer(1)],
};

/** Broker-level names of the topic-level defaults (KafkaConfig), with unit conversions. */
const BROKER_CONFIGS: Record<string, [string, (value: number) => number]> = {
  'log.segment.bytes': ['segment.bytes', (v) => v],
  'log.roll.ms': ['segment.ms', (v) => v],
  'log.roll.hours': ['segment.ms', (v) => v * 60 * 60 * 1000],
  'log.index.size.max.bytes': ['segment.index.bytes', (v) => v],
  'log.index.interval.bytes': ['index.interval.bytes', (v) => v],
  'log.retention.ms': ['retention.ms', (v) => v],
  'log.retention.minutes': ['retention.ms', (v) => v * 60 * 1000],
  'log.retention.hours': ['retention.ms', (v) => v * 60 * 60 * 1000],
  'log.retention.bytes': ['retention.bytes', (v) => v],
  'message.max.bytes': ['max.message.bytes', (v) => v],
  'log.flush.interval.messages': ['flush.messages', (v) => v],
  'log.flush.interval.ms': ['flush.ms', (v) => v],
  'log.cleanup.policy': ['cleanup.policy', (v) => v],
  'log.message.timestamp.type': ['message.timestamp.type', (v) => v],
  'log.preallocate': ['preallocate', (v) => v],
  'min.insync.replicas': ['min.insync.replicas', (v) => v],
};

// Kafka's precedence: log.retention.ms over .minutes over .hours, log.roll.ms over .hours.
const BROKER_PRECEDENCE = ['log.retention.hours', 'log.retention.minutes', 'log.retention.ms', 'log.roll.hours', 'log.roll.ms'];

export type ConfigValues = Record<string, string | number | boolean>;

export function isTopicConfigName(name: string): boolean {
  return name in TOPIC_CONFIGS;
}

export const TOPIC_CONFIG_NAMES: readonly string[] = Object.keys(TOPIC_CONFIGS);

/** Broker-level names (log.segment.bytes, message.max.bytes, ...) that set topic-level defaults. */
export const BROKER_LOG_CONFIG_NAMES: readonly string[] = Object.keys(BROKER_CONFIGS);

/** Applies topic-level overrides on top of `base`. Unknown names are INVALID_CONFIG, as in Kafka. */
export function resolveLogConfig(overrides: ConfigValues = {}, base: Readonly<LogConfig> = DEFAULT_LOG_CONFIG): LogConfig {
  const config: LogConfig = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    const entry = TOPIC_CONFIGS[name];
    if (!entry) throw new SluiceError('INVALID_CONFIG', `Unknown topic config name: ${name}`);
    const [field, parse] = entry;
    (config as unknown as Record<string, unknown>)[field] = parse(name, String(value));
  }
  return config;
}

/**
 * The topic-level defaults a broker configuration implies. Accepts broker names (log.segment.bytes)
 * and topic names (segment.bytes); other keys are ignored so a whole server.properties can be passed.
 */
export function brokerLogDefaults(brokerConfig: ConfigValues = {}): LogConfig {
  const topicLevel: ConfigValues = {};
  const names = Object.keys(brokerConfig).sort((a, b) => BROKER_PRECEDENCE.indexOf(a) - BROKER_PRECEDENCE.indexOf(b));
  for (const name of names) {
    const raw = brokerConfig[name];
    if (name in TOPIC_CONFIGS) topicLevel[name] = raw;
    const mapped = BROKER_CONFIGS[name];
    if (!mapped) continue;
    const [topicName, convert] = mapped;
    const numeric = Number(raw);
    topicLevel[topicName] = typeof raw !== 'boolean' && Number.isFinite(numeric) && String(raw).trim() !== '' ? convert(numeric) : raw;
  }
  return resolveLogConfig(topicLevel);
}

/** The topic-level view of a config, by Kafka's names, for describe. */
export function describeLogConfig(config: Readonly<LogConfig>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, [field]] of Object.entries(TOPIC_CONFIGS)) {
    const value = config[field];
    out[name] = value === Infinity ? LONG_MAX_TEXT : String(value);
  }
  return out;
}
