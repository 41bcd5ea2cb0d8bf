// Which names of Engine.open's `config` the embedded engine acts on, and what it says of the rest.
// A broker reads its own settings and logs every name it does not act on (src/broker/config.ts);
// an embedding program has no broker, so the engine says the same itself: a name that takes no
// effect (a typo, a broker-only setting, a value sluice accepts without acting on it) is never
// dropped without a word.
import { SluiceError } from '../errors.js';
import { LOG_CLEANER_BROKER_DEFAULTS } from '../storage/log-cleaner-config.js';
import { BROKER_LOG_CONFIG_NAMES, TOPIC_CONFIG_NAMES, unsupportedConfigs, type ConfigValues } from '../storage/log-config.js';

/** A config name given to the engine that takes no effect, and why. */
export interface ConfigWarning {
  name: string;
  reason: string;
  /** The topic whose config (createTopic, alterTopicConfig) names it; absent for Engine.open's. */
  topic?: string;
}

/** The engine's own broker-level settings (Kafka's names); the log defaults and the cleaner's
 *  settings are read through their catalogs. */
const NUM_PARTITIONS = 'num.partitions';
const INTERVAL_SETTINGS = {
  retentionCheckIntervalMs: 'log.retention.check.interval.ms',
  checkpointIntervalMs: 'log.flush.offset.checkpoint.interval.ms',
  logStartOffsetCheckpointIntervalMs: 'log.flush.start.offset.checkpoint.interval.ms',
  highWatermarkCheckpointIntervalMs: 'replica.high.watermark.checkpoint.interval.ms',
  producerIdExpirationCheckIntervalMs: 'producer.id.expiration.check.interval.ms',
  // Not an interval but an age, read the same way (an integer of ms); Kafka's minimum is 1.
  producerIdExpirationMs: 'producer.id.expiration.ms',
} as const;

export type EngineIntervals = { -readonly [K in keyof typeof INTERVAL_SETTINGS]?: number };

/** Every name the engine reads. */
const ENGINE_CONFIG_NAMES: ReadonlySet<string> = new Set([
  ...BROKER_LOG_CONFIG_NAMES,
  ...TOPIC_CONFIG_NAMES,
  ...Object.keys(LOG_CLEANER_BROKER_DEFAULTS),
  NUM_PARTITIONS,
  ...Object.values(INTERVAL_SETTINGS),
]);

/** num.partitions: a new topic's partitions when createTopic names none. */
export function defaultPartitionCount(config: ConfigValues): number {
  return Number(config[NUM_PARTITIONS] ?? 1);
}

/** The retention check, checkpoint and producer expiration intervals, and producer.id.expiration.ms, given (undefined: the log manager's default). */
export function engineIntervals(config: ConfigValues): EngineIntervals {
  const intervals = {} as EngineIntervals;
  for (const [field, name] of Object.entries(INTERVAL_SETTINGS) as Array<[keyof EngineIntervals, string]>) {
    const value = config[name];
    if (value === undefined) continue;
    const ms = Number(value);
    const min = field === 'producerIdExpirationMs' ? 1 : 0;
    if (!Number.isInteger(ms) || ms < min) throw new SluiceError('INVALID_CONFIG', `Invalid value ${String(value)} for configuration ${name}: must be an integer >= ${min}`);
    intervals[field] = ms;
  }
  return intervals;
}

/** The names of Engine.open's config that take no effect: not read by the engine, or a value it does not act on. */
export function engineConfigWarnings(config: ConfigValues): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  for (const name of Object.keys(config)) {
    if (!ENGINE_CONFIG_NAMES.has(name)) warnings.push({ name, reason: 'the embedded engine does not act on it (not a log, cleaner or checkpoint setting)' });
  }
  for (const { name, reason } of unsupportedConfigs(config)) warnings.push({ name, reason });
  return warnings;
}

/** A topic's config names whose values sluice accepts without acting on them. */
export function topicConfigWarnings(topic: string, config: ConfigValues): ConfigWarning[] {
  return unsupportedConfigs(config).map(({ name, reason }) => ({ name, reason, topic }));
}

/** The default report: a process warning each, as Node reports what a program should know. */
export function emitConfigWarning({ name, reason, topic }: ConfigWarning): void {
  process.emitWarning(`sluice: ${topic === undefined ? 'config' : `topic ${topic}: config`} ${name} takes no effect: ${reason}`, { code: 'SLUICE_CONFIG' });
}
