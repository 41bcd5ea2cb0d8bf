// The group coordinator's settings, by Kafka's broker config names and with Kafka's defaults.
import { SluiceError } from '../../errors.js';
import { intConfigReader, type ConfigValuesInput } from '../int-config.js';
import { SEGMENT_BYTES_MIN } from '../../limits.js';
import { MIGRATION_POLICIES, type MigrationPolicy } from './group-conversion.js';

export interface GroupCoordinatorConfig {
  /** group.initial.rebalance.delay.ms: how long the first rebalance of an Empty group waits for more members. */
  initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms / group.max.session.timeout.ms: bounds on a member's session.timeout.ms. */
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** group.max.size: members per group. */
  maxSize: number;
  /** offsets.topic.num.partitions: partitions of __consumer_offsets when we create it. */
  offsetsTopicPartitions: number;
  /** offset.metadata.max.bytes: the longest metadata string a commit may carry (Java string length). */
  offsetMetadataMaxBytes: number;
  /** offsets.retention.check.interval.ms: how often expired offsets and groups are removed. */
  retentionCheckIntervalMs: number;
  /** offsets.retention.minutes, in ms: how long the offsets of a group nobody consumes with are kept. */
  offsetsRetentionMs: number;
  /** offsets.topic.segment.bytes: segment.bytes of __consumer_offsets when we create it. */
  offsetsTopicSegmentBytes: number;
  /** offsets.load.buffer.size: bytes read per step when loading __consumer_offsets. */
  offsetsLoadBufferBytes: number;
  /** group.consumer.heartbeat.interval.ms: how often members of a consumer group (KIP-848) heartbeat. */
  consumerHeartbeatIntervalMs: number;
  /** group.consumer.session.timeout.ms: a consumer group member without a heartbeat for this long is removed. */
  consumerSessionTimeoutMs: number;
  /** group.consumer.max.size: members per consumer group. */
  consumerMaxSize: number;
  /** group.consumer.migration.policy: whether groups convert between the classic and consumer protocols (KIP-848). */
  consumerMigrationPolicy: MigrationPolicy;
  /** group.coordinator.rebalance.protocols names consumer: ConsumerGroupHeartbeat is served (while group.version is 1). */
  consumerProtocolEnabled: boolean;
}

const DEFAULTS: Readonly<Record<string, number>> = {
  'group.initial.rebalance.delay.ms': 3000,
  'group.min.session.timeout.ms': 6000,
  'group.max.session.timeout.ms': 1_800_000,
  'group.max.size': 2_147_483_647,
  'offsets.topic.num.partitions': 50,
  'offset.metadata.max.bytes': 4096,
  'offsets.retention.check.interval.ms': 600_000,
  'offsets.retention.minutes': 7 * 24 * 60,
  'offsets.topic.segment.bytes': 100 * 1024 * 1024,
  'offsets.load.buffer.size': 5 * 1024 * 1024,
  'group.consumer.heartbeat.interval.ms': 5000,
  'group.consumer.session.timeout.ms': 45_000,
  'group.consumer.max.size': 2_147_483_647,
};

const MIGRATION_POLICY = 'group.consumer.migration.policy';
const REBALANCE_PROTOCOLS = 'group.coordinator.rebalance.protocols';
/** Kafka 4's default: both protocols of consumer groups. */
const DEFAULT_REBALANCE_PROTOCOLS = 'classic,consumer';
/** Kafka's GroupType names; sluice serves the first two. */
const REBALANCE_PROTOCOL_NAMES = ['classic', 'consumer', 'streams', 'share'] as const;
const SERVED_REBALANCE_PROTOCOLS: readonly string[] = ['classic', 'consumer'];
/** Kafka 4's default: a group converts both ways. */
const DEFAULT_MIGRATION_POLICY: MigrationPolicy = 'bidirectional';

/** The broker config names the group coordinator reads. */
export const GROUP_CONFIG_NAMES: readonly string[] = [...Object.keys(DEFAULTS), MIGRATION_POLICY, REBALANCE_PROTOCOLS];

/** Reads the group settings from broker config values (BrokerSettings.all); absent ones take Kafka's defaults. */
export function resolveGroupConfig(values: ConfigValuesInput = {}): GroupCoordinatorConfig {
  const read = intConfigReader(values, DEFAULTS);
  return {
    initialRebalanceDelayMs: read('group.initial.rebalance.delay.ms', 0),
    minSessionTimeoutMs: read('group.min.session.timeout.ms', 0),
    maxSessionTimeoutMs: read('group.max.session.timeout.ms', 0),
    maxSize: read('group.max.size', 1),
    offsetsTopicPartitions: read('offsets.topic.num.partitions', 1),
    offsetMetadataMaxBytes: read('offset.metadata.max.bytes', 0),
    retentionCheckIntervalMs: read('offsets.retention.check.interval.ms', 1),
    offsetsRetentionMs: read('offsets.retention.minutes', 1) * 60_000,
    offsetsTopicSegmentBytes: read('offsets.topic.segment.bytes', SEGMENT_BYTES_MIN),
    offsetsLoadBufferBytes: read('offsets.load.buffer.size', 1),
    consumerHeartbeatIntervalMs: read('group.consumer.heartbeat.interval.ms', 1),
    consumerSessionTimeoutMs: read('group.consumer.session.timeout.ms', 1),
    consumerMaxSize: read('group.consumer.max.size', 1),
    consumerMigrationPolicy: migrationPolicy(values[MIGRATION_POLICY]),
    consumerProtocolEnabled: rebalanceProtocols(values[REBALANCE_PROTOCOLS]).includes('consumer'),
  };
}

/**
 * group.coordinator.rebalance.protocols as Kafka checks it: names of its protocols, classic among
 * them. sluice serves classic and consumer groups; streams (KIP-1071) and share (KIP-932) groups
 * are accepted and reported (unsupportedGroupConfigs), as Kafka accepts them.
 */
function rebalanceProtocols(value: string | number | boolean | undefined): string[] {
  const names = String(value ?? DEFAULT_REBALANCE_PROTOCOLS).split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== '');
  const unknown = names.find((name) => !(REBALANCE_PROTOCOL_NAMES as readonly string[]).includes(name));
  if (unknown !== undefined) throw new SluiceError('INVALID_CONFIG', `Invalid value ${value} for configuration ${REBALANCE_PROTOCOLS}: unknown protocol ${unknown}; expected ${REBALANCE_PROTOCOL_NAMES.join(', ')}`);
  if (!names.includes('classic')) throw new SluiceError('INVALID_CONFIG', `Invalid value ${value} for configuration ${REBALANCE_PROTOCOLS}: the list of enabled group protocols must contain classic`);
  return names;
}

/** The group settings given that sluice accepts but does not act on, with why (reported at startup). */
export function unsupportedGroupConfigs(values: ConfigValuesInput): Array<{ name: string; reason: string }> {
  const value = values[REBALANCE_PROTOCOLS];
  if (value === undefined) return [];
  const notServed = rebalanceProtocols(value).filter((name) => !SERVED_REBALANCE_PROTOCOLS.includes(name));
  return notServed.length === 0 ? [] : [{ name: REBALANCE_PROTOCOLS, reason: `${notServed.join(' and ')} groups are not served: sluice serves classic and consumer groups` }];
}

/** Kafka's ConsumerGroupMigrationPolicy.parse: one of its four names, in any case. */
function migrationPolicy(value: string | number | boolean | undefined): MigrationPolicy {
  if (value === undefined) return DEFAULT_MIGRATION_POLICY;
  const policy = MIGRATION_POLICIES.find((name) => name === String(value).trim().toLowerCase());
  if (policy === undefined) throw new SluiceError('INVALID_CONFIG', `Invalid value ${value} for configuration ${MIGRATION_POLICY}: must be one of ${MIGRATION_POLICIES.join(', ')}`);
  return policy;
}
