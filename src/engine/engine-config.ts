// Which names of Engine.open's `config` the embedded engine acts on, and what it says of the rest.
// A broker reads its own settings and logs every name it does not act on (src/broker/config.ts);
// an embedding program has no broker, so the engine says the same itself: a name that takes no
// effect (a typo, a broker-only setting, a value sluice accepts without acting on it) is never
// dropped without a word.
import { LOG_CLEANER_BROKER_DEFAULTS } from '../storage/log-cleaner-config.js';
import { BROKER_LOG_CONFIG_NAMES, TOPIC_CONFIG_NAMES, unsupportedConfigs, type ConfigValues } from '../storage/log-config.js';

/** A config name given to the engine that takes no effect, and why. */
export interface ConfigWarning {
  name: string;
  reason: string;
  /** The topic whose config (createTopic, alterTopicConfig) names it; absent for Engine.open's. */
  topic?: string;
}

/** Broker-level names the engine reads: log defaults, the cleaner, checkpoints, num.partitions. */
const ENGINE_CONFIG_NAMES: ReadonlySet<string> = new Set([
  ...BROKER_LOG_CONFIG_NAMES,
  ...TOPIC_CONFIG_NAMES,
  ...Object.keys(LOG_CLEANER_BROKER_DEFAULTS),
  'num.partitions',
  'log.retention.check.interval.ms',
  'log.flush.offset.checkpoint.interval.ms',
  'log.flush.start.offset.checkpoint.interval.ms',
  'replica.high.watermark.checkpoint.interval.ms',
]);

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
