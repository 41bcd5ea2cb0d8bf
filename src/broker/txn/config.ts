// The transaction coordinator's settings, by Kafka's broker config names and with Kafka's defaults
// (TransactionStateManagerConfigs, TransactionLogConfigs).
import { intConfigReader, type ConfigValuesInput } from '../int-config.js';
import { SluiceError } from '../../errors.js';
import { SEGMENT_BYTES_MIN } from '../../limits.js';

export interface TransactionCoordinatorConfig {
  /** transaction.max.timeout.ms: the longest transaction.timeout.ms a producer may ask for. */
  maxTimeoutMs: number;
  /** transactional.id.expiration.ms: a transactional id idle (no transaction open) this long is forgotten. */
  transactionalIdExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms: how often timed-out transactions are aborted. */
  abortTimedOutIntervalMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms: how often expired ids are removed. */
  removeExpiredIntervalMs: number;
  /** transaction.state.log.num.partitions: partitions of __transaction_state when it is created. */
  logPartitions: number;
  /** transaction.state.log.replication.factor: its replication factor in a cluster (capped by the live brokers). */
  logReplicationFactor: number;
  /** transaction.state.log.min.isr: its min.insync.replicas. */
  logMinIsr: number;
  /** transaction.state.log.segment.bytes: its segment.bytes. */
  logSegmentBytes: number;
  /** transaction.state.log.load.buffer.size: bytes read per step when loading it. */
  logLoadBufferBytes: number;
  /** transaction.partition.verification.enable (KIP-890): leaders check a transaction's first write to a partition with its coordinator. */
  partitionVerification: boolean;
}

const PARTITION_VERIFICATION = 'transaction.partition.verification.enable';

const DEFAULTS: Readonly<Record<string, number>> = {
  'transaction.max.timeout.ms': 900_000,
  'transactional.id.expiration.ms': 7 * 24 * 60 * 60 * 1000,
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': 10_000,
  'transaction.remove.expired.transaction.cleanup.interval.ms': 3_600_000,
  'transaction.state.log.num.partitions': 50,
  'transaction.state.log.replication.factor': 3,
  'transaction.state.log.min.isr': 2,
  'transaction.state.log.segment.bytes': 100 * 1024 * 1024,
  'transaction.state.log.load.buffer.size': 5 * 1024 * 1024,
};

/** Of those, the ones that act only in a cluster: a single broker's __transaction_state is not replicated. */
export const TRANSACTION_CLUSTER_CONFIG_NAMES: ReadonlySet<string> = new Set(['transaction.state.log.replication.factor', 'transaction.state.log.min.isr']);

/** The broker config names the transaction coordinator reads. */
export const TRANSACTION_CONFIG_NAMES: readonly string[] = [...Object.keys(DEFAULTS), PARTITION_VERIFICATION];

/** Reads the settings from broker config values (BrokerSettings.all); absent ones take Kafka's defaults. */
export function resolveTransactionConfig(values: ConfigValuesInput = {}): TransactionCoordinatorConfig {
  const read = intConfigReader(values, DEFAULTS);
  return {
    maxTimeoutMs: read('transaction.max.timeout.ms', 1),
    transactionalIdExpirationMs: read('transactional.id.expiration.ms', 1),
    abortTimedOutIntervalMs: read('transaction.abort.timed.out.transaction.cleanup.interval.ms', 1),
    removeExpiredIntervalMs: read('transaction.remove.expired.transaction.cleanup.interval.ms', 1),
    logPartitions: read('transaction.state.log.num.partitions', 1),
    logReplicationFactor: read('transaction.state.log.replication.factor', 1),
    logMinIsr: read('transaction.state.log.min.isr', 1),
    logSegmentBytes: read('transaction.state.log.segment.bytes', SEGMENT_BYTES_MIN),
    logLoadBufferBytes: read('transaction.state.log.load.buffer.size', 1),
    partitionVerification: readBoolean(values, PARTITION_VERIFICATION, true),
  };
}

function readBoolean(values: ConfigValuesInput, name: string, fallback: boolean): boolean {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const text = String(raw).toLowerCase();
  if (text !== 'true' && text !== 'false') throw new SluiceError('INVALID_CONFIG', `Invalid value ${String(raw)} for configuration ${name}: Expected value to be either true or false`);
  return text === 'true';
}
