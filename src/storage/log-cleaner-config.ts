// The log cleaner's broker configs (Kafka's CleanerConfig): names, defaults and parsing. The
// topic-level ones (cleanup.policy, min.cleanable.dirty.ratio, ...) are in log-config.ts.
import { SluiceError } from '../errors.js';
import type { ConfigValues } from './log-config.js';

export interface LogCleanerConfig {
  /** log.cleaner.enable: background cleaning (compactNow works either way). */
  enable: boolean;
  /** log.cleaner.threads: worker threads, each cleaning one log at a time. */
  threads: number;
  /** log.cleaner.dedupe.buffer.size: the offset maps' memory, all threads together. */
  dedupeBufferBytes: number;
  /** log.cleaner.io.buffer.size: the read and write buffers, all threads together. */
  ioBufferBytes: number;
  /** log.cleaner.io.buffer.load.factor: how full an offset map may get. */
  loadFactor: number;
  /** log.cleaner.io.max.bytes.per.second: reads and writes, all threads together; Infinity: unlimited. */
  ioMaxBytesPerSecond: number;
  /** log.cleaner.backoff.ms: how long an idle cleaner waits before looking for a dirty log again. */
  backoffMs: number;
}

/** Kafka's defaults (CleanerConfig). */
export const DEFAULT_CLEANER_CONFIG: Readonly<LogCleanerConfig> = Object.freeze({
  enable: true,
  threads: 1,
  dedupeBufferBytes: 128 * 1024 * 1024,
  ioBufferBytes: 512 * 1024,
  loadFactor: 0.9,
  ioMaxBytesPerSecond: Infinity,
  backoffMs: 15_000,
});

/** The broker configs that set LogCleanerConfig, with Kafka's defaults as text. */
export const LOG_CLEANER_BROKER_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  'log.cleaner.enable': 'true',
  'log.cleaner.threads': '1',
  'log.cleaner.dedupe.buffer.size': String(128 * 1024 * 1024),
  'log.cleaner.io.buffer.size': String(512 * 1024),
  'log.cleaner.io.buffer.load.factor': '0.9',
  // Kafka's Double.MAX_VALUE.
  'log.cleaner.io.max.bytes.per.second': '1.7976931348623157E308',
  'log.cleaner.backoff.ms': '15000',
});

/** Reads the log.cleaner.* broker configs (INVALID_CONFIG for a bad value); others are ignored. */
export function cleanerConfigFromBroker(values: ConfigValues = {}): LogCleanerConfig {
  const read = (name: string) => (values[name] === undefined ? undefined : String(values[name]).trim());
  const number = (name: string, fallback: number, min: number, integer: boolean) => {
    const text = read(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (text === '' || Number.isNaN(value) || value < min || (integer && !Number.isSafeInteger(value))) {
      throw new SluiceError('INVALID_CONFIG', `Invalid value ${text} for configuration ${name}: must be ${integer ? 'an integer' : 'a number'} >= ${min}`);
    }
    return value;
  };
  const enableText = read('log.cleaner.enable');
  if (enableText !== undefined && enableText !== 'true' && enableText !== 'false') {
    throw new SluiceError('INVALID_CONFIG', `Invalid value ${enableText} for configuration log.cleaner.enable: must be true or false`);
  }
  const loadFactor = number('log.cleaner.io.buffer.load.factor', DEFAULT_CLEANER_CONFIG.loadFactor, 0, false);
  if (loadFactor <= 0 || loadFactor >= 1) throw new SluiceError('INVALID_CONFIG', `Invalid value ${loadFactor} for configuration log.cleaner.io.buffer.load.factor: must be in (0, 1)`);
  const rate = number('log.cleaner.io.max.bytes.per.second', Infinity, 1, false);
  return {
    enable: enableText === undefined ? DEFAULT_CLEANER_CONFIG.enable : enableText === 'true',
    threads: number('log.cleaner.threads', DEFAULT_CLEANER_CONFIG.threads, 1, true),
    dedupeBufferBytes: number('log.cleaner.dedupe.buffer.size', DEFAULT_CLEANER_CONFIG.dedupeBufferBytes, 1, true),
    ioBufferBytes: number('log.cleaner.io.buffer.size', DEFAULT_CLEANER_CONFIG.ioBufferBytes, 1, true),
    loadFactor,
    ioMaxBytesPerSecond: rate >= Number.MAX_VALUE ? Infinity : rate,
    backoffMs: number('log.cleaner.backoff.ms', DEFAULT_CLEANER_CONFIG.backoffMs, 0, true),
  };
}
