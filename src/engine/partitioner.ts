// The Java client's default partitioning: an explicit partition wins; a record with a key goes
// to toPositive(murmur2(key bytes)) % partitionCount, so keys land where the Java client and
// librdkafka's murmur2_random put them; records without a key are "sticky": every keyless
// record of one produce call goes to one partition, and the next call picks another (KIP-480,
// which makes batches fuller than round-robin per record). Java's newer uniform sticky
// partitioner (KIP-794) switches partitions by bytes produced; per call is our batch boundary.
// With partitioner.ignore.keys (KIP-794) keyed records are placed as keyless ones. The producer's
// partitioner.class may name Kafka's RoundRobinPartitioner instead: every record without an
// explicit partition to the topic's next partition in turn, keys ignored.
import { SluiceError } from '../errors.js';
import { murmur2, toPositive } from './murmur2.js';

export interface PartitionerRecord {
  key?: Uint8Array | string | null | undefined;
  /** An explicit partition; wins over the key. */
  partition?: number | null | undefined;
}

function checkCount(partitionCount: number): void {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new SluiceError('INVALID_PARTITIONS', `partition count ${partitionCount} is not a positive integer`);
  }
}

/** toPositive(murmur2(key)) % partitionCount: the Java client's partition for a key. */
export function partitionForKey(key: Uint8Array | string, partitionCount: number): number {
  checkCount(partitionCount);
  return toPositive(murmur2(key)) % partitionCount;
}

export interface DefaultPartitionerOptions {
  /** Source of randomness in [0, 1) for sticky choices (tests inject a fixed one). */
  random?: () => number;
  /** partitioner.ignore.keys: keyed records go where keyless ones do (default false). */
  ignoreKeys?: boolean;
}

/** What the producer asks of a partitioner: the partition of each record of one call. */
export interface Partitioner {
  partitionAll(records: readonly PartitionerRecord[], partitionCount: number, topic?: string): number[];
}

function explicitPartition(explicit: number, partitionCount: number): number {
  if (!Number.isInteger(explicit) || explicit < 0 || explicit >= partitionCount) {
    throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `Invalid partition given with record: ${explicit} is not in the range [0...${partitionCount - 1}]`);
  }
  return explicit;
}

/**
 * Kafka's default partitioner. One instance keeps a sticky partition per topic; use one instance
 * per producer. `partition()` places one record; `partitionAll()` places the records of one
 * produce call, moving the sticky partition of the topic first.
 */
export class DefaultPartitioner implements Partitioner {
  private readonly random: () => number;
  private readonly ignoreKeys: boolean;
  private readonly sticky = new Map<string, number>();

  constructor(options: DefaultPartitionerOptions = {}) {
    this.random = options.random ?? Math.random;
    this.ignoreKeys = options.ignoreKeys ?? false;
  }

  /**
   * The partition of one record. Keyless records go to the topic's current sticky partition,
   * chosen at random the first time; call `newBatch(topic, ...)` at a batch boundary.
   */
  partition(record: PartitionerRecord, partitionCount: number, topic = ''): number {
    checkCount(partitionCount);
    const explicit = record.partition;
    if (explicit !== undefined && explicit !== null) return explicitPartition(explicit, partitionCount);
    const key = record.key;
    if (key !== undefined && key !== null && !this.ignoreKeys) return toPositive(murmur2(key)) % partitionCount;
    const current = this.sticky.get(topic);
    if (current !== undefined && current < partitionCount) return current;
    return this.newBatch(topic, partitionCount);
  }

  /**
   * Picks the topic's next sticky partition: random, and different from the previous one when
   * there is more than one partition (as the Java StickyPartitionCache does). Returns it.
   */
  newBatch(topic: string, partitionCount: number): number {
    checkCount(partitionCount);
    const previous = this.sticky.get(topic);
    let next: number;
    if (partitionCount === 1) next = 0;
    else if (previous === undefined || previous >= partitionCount) next = Math.floor(this.random() * partitionCount) % partitionCount;
    else next = (previous + 1 + (Math.floor(this.random() * (partitionCount - 1)) % (partitionCount - 1))) % partitionCount;
    this.sticky.set(topic, next);
    return next;
  }

  /** The partitions of one produce call's records: keyless ones all share one new sticky partition. */
  partitionAll(records: readonly PartitionerRecord[], partitionCount: number, topic = ''): number[] {
    checkCount(partitionCount);
    let stickyPartition = -1;
    const result = new Array<number>(records.length);
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      if (record === null || typeof record !== 'object') throw new SluiceError('INVALID_RECORD', `record ${i} is not an object`);
      const keyless = (record.partition === undefined || record.partition === null) && (record.key === undefined || record.key === null || this.ignoreKeys);
      if (keyless) {
        if (stickyPartition < 0) stickyPartition = this.newBatch(topic, partitionCount);
        result[i] = stickyPartition;
      } else {
        result[i] = this.partition(record, partitionCount, topic);
      }
    }
    return result;
  }
}

/**
 * Kafka's RoundRobinPartitioner: each record without an explicit partition goes to the topic's
 * next partition in turn, whatever its key. Kafka's skips partitions without a leader; here every
 * partition takes its turn, and a leaderless one's batch waits for a leader like any other.
 */
export class RoundRobinPartitioner implements Partitioner {
  private readonly next = new Map<string, number>();

  partitionAll(records: readonly PartitionerRecord[], partitionCount: number, topic = ''): number[] {
    checkCount(partitionCount);
    let counter = this.next.get(topic) ?? 0;
    const result = new Array<number>(records.length);
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      if (record === null || typeof record !== 'object') throw new SluiceError('INVALID_RECORD', `record ${i} is not an object`);
      const explicit = record.partition;
      result[i] = explicit !== undefined && explicit !== null ? explicitPartition(explicit, partitionCount) : counter++ % partitionCount;
    }
    this.next.set(topic, counter % 2 ** 31);
    return result;
  }
}
