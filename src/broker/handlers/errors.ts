// Turning what went wrong into Kafka's numeric error codes for a response.
import { KafkaErrorCode, SluiceError } from '../../errors.js';
import type { BrokerContext } from '../handler.js';
import { countCause } from '../metrics.js';

/** A SluiceError's Kafka code; an I/O failure from the addon is KAFKA_STORAGE_ERROR; else UNKNOWN_SERVER_ERROR. */
export function errorCodeOf(error: unknown): number {
  if (error instanceof SluiceError) return error.errorCode;
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return KafkaErrorCode.KAFKA_STORAGE_ERROR;
  return KafkaErrorCode.UNKNOWN_SERVER_ERROR;
}

/**
 * errorCodeOf, for a partition's storage: a failure of the disk or of the process (an errno from
 * the addon: ENOSPC, EIO, EMFILE; or a bug) is counted and logged, rate-limited per cause, before
 * it becomes the partition's KAFKA_STORAGE_ERROR or UNKNOWN_SERVER_ERROR. Bad input (a SluiceError
 * with Kafka's name) is the client's business and is not logged.
 */
export function storageErrorCodeOf(broker: BrokerContext, error: unknown, topic: string, partition: number): number {
  const code = errorCodeOf(error);
  if (!(error instanceof SluiceError) || code === KafkaErrorCode.KAFKA_STORAGE_ERROR) {
    const cause = (error as { code?: unknown })?.code;
    const name = typeof cause === 'string' ? cause : 'UNKNOWN';
    countCause(broker.metrics.storageFailures, name);
    // A failed disk (EIO, EROFS) takes the partition's log directory offline (KIP-112).
    broker.engine.reportStorageFailure(topic, partition, error);
    broker.log.log('error', `storage:${name}`, { topic, partition, code: name, error: errorMessageOf(error) ?? String(error) }, 'storage failure');
  }
  return code;
}

/** Each partition of `topics` answered with one error code (a request refused for all of them). */
export function partitionsFailed(topics: ReadonlyArray<{ name: string; partitions: ReadonlyArray<{ partitionIndex: number }> }>, errorCode: number) {
  return topics.map(({ name, partitions }) => ({ name, partitions: partitions.map(({ partitionIndex }) => ({ partitionIndex, errorCode })) }));
}

export function errorMessageOf(error: unknown): string | null {
  return error instanceof Error ? error.message : null;
}

export const NONE = KafkaErrorCode.NONE;
