// The topic config catalog: every topic config name Kafka 3.9 knows is accepted with Kafka's
// validation and default, broker-level synonyms set the defaults in Kafka's precedence, and the
// settings sluice does not act on are reported rather than silently ignored.
import { describe, expect, it } from 'vitest';

import { isSluiceError } from '../../src/errors.js';
import {
  BROKER_LOG_CONFIG_NAMES,
  DEFAULT_LOG_CONFIG,
  TOPIC_CONFIG_NAMES,
  brokerLogDefaults,
  describeLogConfig,
  resolveLogConfig,
  timestampBoundsMs,
  topicConfigOfBrokerName,
  unsupportedConfigs,
} from '../../src/storage/log-config.js';

/** Kafka 3.9's LogConfig.configNames(), with the defaults DescribeConfigs shows for a new topic. */
const KAFKA_3_9_DEFAULTS: Record<string, string> = {
  'cleanup.policy': 'delete',
  'compression.gzip.level': '-1',
  'compression.lz4.level': '9',
  'compression.type': 'producer',
  'compression.zstd.level': '3',
  'delete.retention.ms': '86400000',
  'file.delete.delay.ms': '60000',
  'flush.messages': '9223372036854775807',
  'flush.ms': '9223372036854775807',
  'follower.replication.throttled.replicas': '',
  'index.interval.bytes': '4096',
  'leader.replication.throttled.replicas': '',
  'local.retention.bytes': '-2',
  'local.retention.ms': '-2',
  'max.compaction.lag.ms': '9223372036854775807',
  'max.message.bytes': '1048588',
  'message.downconversion.enable': 'true',
  'message.format.version': '3.0-IV1',
  'message.timestamp.after.max.ms': '9223372036854775807',
  'message.timestamp.before.max.ms': '9223372036854775807',
  'message.timestamp.difference.max.ms': '9223372036854775807',
  'message.timestamp.type': 'CreateTime',
  'min.cleanable.dirty.ratio': '0.5',
  'min.compaction.lag.ms': '0',
  'min.insync.replicas': '1',
  preallocate: 'false',
  'remote.log.copy.disable': 'false',
  'remote.log.delete.on.disable': 'false',
  'remote.storage.enable': 'false',
  'retention.bytes': '-1',
  'retention.ms': '604800000',
  'segment.bytes': '1073741824',
  'segment.index.bytes': '10485760',
  'segment.jitter.ms': '0',
  'segment.ms': '604800000',
  'unclean.leader.election.enable': 'false',
};

function refusal(overrides: Record<string, string>): string {
  try {
    resolveLogConfig(overrides);
  } catch (error) {
    expect(isSluiceError(error, 'INVALID_CONFIG'), String(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error(`${JSON.stringify(overrides)} was accepted`);
}

describe('topic config names and defaults', () => {
  it('knows exactly Kafka 3.9\'s topic configs, and describes each with Kafka\'s default', () => {
    expect([...TOPIC_CONFIG_NAMES].sort()).toEqual(Object.keys(KAFKA_3_9_DEFAULTS).sort());
    expect(describeLogConfig(DEFAULT_LOG_CONFIG)).toEqual(KAFKA_3_9_DEFAULTS);
  });

  it('accepts each at its default, and a set value reads back as set', () => {
    expect(resolveLogConfig(KAFKA_3_9_DEFAULTS)).toEqual(DEFAULT_LOG_CONFIG);
    const set = {
      'compression.type': 'lz4',
      'message.format.version': '2.8',
      'delete.retention.ms': '1000',
      'cleanup.policy': 'compact,delete',
      'leader.replication.throttled.replicas': '0:1,1:2',
      'min.cleanable.dirty.ratio': '0.25',
      'segment.jitter.ms': '500',
      'message.timestamp.before.max.ms': '3600000',
    };
    const described = describeLogConfig(resolveLogConfig(set));
    for (const [name, value] of Object.entries(set)) expect(described[name]).toBe(value);
  });

  it('refuses an unknown name as Kafka does', () => {
    expect(refusal({ 'compresion.type': 'lz4' })).toBe('Unknown topic config name: compresion.type');
  });
});

describe('validation, with Kafka\'s wording', () => {
  it('types', () => {
    expect(refusal({ 'segment.bytes': 'big' })).toBe('Invalid value big for configuration segment.bytes: Not a number of type INT');
    expect(refusal({ 'segment.bytes': '2147483648' })).toMatch(/Not a number of type INT/);
    expect(refusal({ 'retention.ms': '1.5' })).toMatch(/Not a number of type LONG/);
    expect(refusal({ 'retention.ms': '9223372036854775808' })).toMatch(/Not a number of type LONG/);
    expect(refusal({ preallocate: 'yes' })).toBe('Invalid value yes for configuration preallocate: Expected value to be either true or false');
    expect(refusal({ 'min.cleanable.dirty.ratio': 'half' })).toMatch(/Not a number of type DOUBLE/);
    expect(resolveLogConfig({ preallocate: ' TRUE ' }).preallocate).toBe(true);
  });

  it('ranges', () => {
    expect(refusal({ 'segment.bytes': '13' })).toBe('Invalid value 13 for configuration segment.bytes: Value must be at least 14');
    expect(refusal({ 'retention.ms': '-2' })).toMatch(/Value must be at least -1/);
    expect(refusal({ 'min.cleanable.dirty.ratio': '1.5' })).toMatch(/Value must be no more than 1/);
    expect(refusal({ 'compression.zstd.level': '23' })).toMatch(/no more than 22/);
    expect(refusal({ 'compression.lz4.level': '0' })).toMatch(/at least 1/);
    expect(refusal({ 'compression.gzip.level': '0' })).toMatch(/between 1 and 9 or equal to -1/);
    expect(refusal({ 'local.retention.ms': '-3' })).toMatch(/at least -2/);
    expect(resolveLogConfig({ 'retention.bytes': '-5' }).retentionBytes).toBe(-5); // Kafka: no bound
  });

  it('valid values', () => {
    for (const codec of ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer']) {
      expect(resolveLogConfig({ 'compression.type': codec }).compressionType).toBe(codec);
    }
    expect(refusal({ 'compression.type': 'none' })).toBe(
      'Invalid value none for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer',
    );
    expect(refusal({ 'compression.type': 'LZ4' })).toMatch(/String must be one of/);
    expect(refusal({ 'message.timestamp.type': 'createtime' })).toMatch(/String must be one of: CreateTime, LogAppendTime/);
    expect(resolveLogConfig({ 'cleanup.policy': 'delete, compact' }).cleanupPolicy).toEqual(['delete', 'compact']);
    expect(resolveLogConfig({ 'cleanup.policy': '' }).cleanupPolicy).toEqual([]);
    expect(refusal({ 'cleanup.policy': 'compact,archive' })).toMatch(/String must be one of: compact, delete/);
    expect(refusal({ 'follower.replication.throttled.replicas': '0-1' })).toMatch(/must be the literal '\*'/);
    expect(resolveLogConfig({ 'follower.replication.throttled.replicas': '*' }).followerReplicationThrottledReplicas).toEqual(['*']);
    for (const version of ['0.10.2', '0.10.2-IV0', '2.8.1', '3.0-IV1', '3.9']) {
      expect(resolveLogConfig({ 'message.format.version': version }).messageFormatVersion).toBe(version);
    }
    expect(refusal({ 'message.format.version': '4.5' })).toMatch(/Version 4.5 is not a valid version/);
  });

  it('settings that span configs, and tiered storage, as Kafka refuses them', () => {
    expect(refusal({ 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' })).toBe(
      'conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)',
    );
    expect(refusal({ 'remote.storage.enable': 'true' })).toBe(
      'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.',
    );
    expect(resolveLogConfig({ 'remote.storage.enable': 'false' }).remoteStorageEnable).toBe(false);
  });
});

describe('timestamp bounds', () => {
  it('before/after fall back to the deprecated difference.max.ms while at their default', () => {
    expect(timestampBoundsMs(DEFAULT_LOG_CONFIG)).toEqual({ beforeMaxMs: Infinity, afterMaxMs: Infinity });
    expect(timestampBoundsMs(resolveLogConfig({ 'message.timestamp.difference.max.ms': 100 }))).toEqual({ beforeMaxMs: 100, afterMaxMs: 100 });
    expect(
      timestampBoundsMs(resolveLogConfig({ 'message.timestamp.difference.max.ms': 100, 'message.timestamp.after.max.ms': 5 })),
    ).toEqual({ beforeMaxMs: 100, afterMaxMs: 5 });
  });
});

describe('broker-level synonyms', () => {
  it('set the topic defaults, the first synonym set winning, converted to the topic config\'s unit', () => {
    const defaults = brokerLogDefaults({
      'log.roll.hours': 2,
      'log.roll.jitter.hours': 1,
      'log.retention.minutes': 30,
      'log.retention.hours': 5,
      'log.cleaner.delete.retention.ms': 1000,
      'log.message.timestamp.before.max.ms': 60_000,
      'compression.type': 'gzip',
      'compression.gzip.level': 9,
      'log.segment.delete.delay.ms': 5,
      'unrelated.setting': 'x',
    });
    expect(defaults).toMatchObject({
      segmentMs: 2 * 3_600_000,
      segmentJitterMs: 3_600_000,
      retentionMs: 30 * 60_000,
      deleteRetentionMs: 1000,
      messageTimestampBeforeMaxMs: 60_000,
      compressionType: 'gzip',
      compressionGzipLevel: 9,
      fileDeleteDelayMs: 5,
    });
    expect(brokerLogDefaults({ 'log.roll.ms': 10, 'log.roll.hours': 2 }).segmentMs).toBe(10);
    expect(brokerLogDefaults({ 'log.retention.hours': -1 }).retentionMs).toBe(-1);
    expect(brokerLogDefaults({ 'log.flush.scheduler.interval.ms': 500 }).flushMs).toBe(500);
  });

  it('are refused under their own name when invalid', () => {
    expect(() => brokerLogDefaults({ 'log.segment.bytes': 'huge' })).toThrow('Invalid value huge for configuration log.segment.bytes');
    expect(() => brokerLogDefaults({ 'log.roll.hours': '1.5' })).toThrow(/configuration log.roll.hours/);
  });

  it('are listed for the broker\'s own config catalog, each mapping to its topic config', () => {
    for (const name of ['log.segment.bytes', 'log.roll.hours', 'log.roll.jitter.ms', 'message.max.bytes', 'log.cleanup.policy', 'log.cleaner.min.cleanable.ratio', 'compression.type', 'log.message.timestamp.after.max.ms', 'log.local.retention.ms']) {
      expect(BROKER_LOG_CONFIG_NAMES).toContain(name);
    }
    expect(topicConfigOfBrokerName('log.roll.hours')).toBe('segment.ms');
    expect(topicConfigOfBrokerName('log.segment.delete.delay.ms')).toBe('file.delete.delay.ms');
    expect(topicConfigOfBrokerName('num.partitions')).toBeUndefined();
  });
});

describe('accepted but not supported', () => {
  it('names each such setting with a reason, by topic or broker name; supported ones are not listed', () => {
    const found = unsupportedConfigs({
      'message.format.version': '2.8',
      'compression.lz4.level': 12,
      'local.retention.ms': 1000,
      'log.message.format.version': '2.8',
      // Supported, or a value that is what sluice does anyway:
      'cleanup.policy': 'compact', // the log cleaner
      'delete.retention.ms': 1000,
      'log.cleanup.policy': 'compact,delete',
      'log.cleaner.min.compaction.lag.ms': 5,
      'min.cleanable.dirty.ratio': 0.1,
      'max.compaction.lag.ms': 1000,
      'unclean.leader.election.enable': 'true', // read by a cluster's controller
      'segment.jitter.ms': 100,
      'compression.type': 'zstd',
      'message.timestamp.before.max.ms': 1000,
      'unclean.leader.election.enable.other': 'x',
      'message.downconversion.enable': 'false',
      'remote.storage.enable': 'false',
      'log.roll.hours': 1,
      'leader.replication.throttled.replicas': '*', // replication quotas, in a cluster
    });
    expect(found.map((f) => f.name).sort()).toEqual(
      ['compression.lz4.level', 'local.retention.ms', 'log.message.format.version', 'message.format.version'].sort(),
    );
    for (const { reason } of found) expect(reason.length).toBeGreaterThan(10);
    expect(unsupportedConfigs({ 'cleanup.policy': 'delete', 'unclean.leader.election.enable': 'false' })).toEqual([]);
  });
});
