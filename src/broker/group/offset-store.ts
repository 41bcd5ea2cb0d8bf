// Committed offsets in the engine's own log: the internal topic __consumer_offsets, in Kafka's
// record formats (offset-format.ts). A group's records all go to one partition of that topic
// (Kafka's partitionFor), so one commit request is one batch. On start the coordinator reads every
// partition from its start; the last record per (group, topic, partition) wins, a tombstone erases.
// In a cluster, __consumer_offsets is replicated like any topic: commits go through its leader's
// append (acks=all) and a coordinator loads a partition when it becomes that partition's leader.
import { SluiceError } from '../../errors.js';
import type { Engine } from '../../engine/engine.js';
import { encodeBatch } from '../../record/batch.js';
import { CONSUMER_OFFSETS_TOPIC } from '../../engine/topic-name.js';
import {
  decodeOffsetCommitKey,
  decodeOffsetCommitValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  isOffsetCommitKey,
  offsetsPartitionFor,
  type OffsetCommitValue,
} from './offset-format.js';

/** One committed offset, as the coordinator keeps it in memory. */
export type CommittedOffset = OffsetCommitValue;

/** A record to write: a commit, or a tombstone when `value` is null. */
export interface OffsetRecord {
  group: string;
  topic: string;
  partition: number;
  value: CommittedOffset | null;
}

/** group → topic → partition → offset */
export type OffsetCache = Map<string, Map<string, Map<number, CommittedOffset>>>;

/** How a cluster hosts __consumer_offsets (cluster-node.ts): this broker's leaderships, and appends through them. */
export interface OffsetsTopicHost {
  /** Whether this broker leads the partition (it coordinates the partition's groups). */
  leads(partition: number): boolean;
  /** Appends an encoded batch as the partition's leader and waits for the ISR (acks=all). */
  append(partition: number, batch: Buffer): Promise<void>;
  /** Creates the replicated topic when missing (Kafka does on the first FindCoordinator). */
  ensureTopic(partitions: number): Promise<void>;
}

/** Bytes read per step while loading: Kafka's offsets.load.buffer.size default (5 MiB). */
const LOAD_READ_BYTES = 5 * 1024 * 1024;

export class OffsetStore {
  private partitionCount: number | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly configuredPartitions: number,
    private readonly host: OffsetsTopicHost | null = null,
  ) {}

  /** The __consumer_offsets partition that holds `groupId`'s records. */
  partitionFor(groupId: string): number {
    return offsetsPartitionFor(groupId, this.currentPartitionCount());
  }

  /** Appends the records, one batch per __consumer_offsets partition they fall in; creates the topic on first use. */
  async append(records: readonly OffsetRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.ensureTopic();
    const byPartition = new Map<number, Array<{ key: Buffer; value: Buffer | null }>>();
    for (const record of records) {
      const partition = this.partitionFor(record.group);
      const key = encodeOffsetCommitKey(record);
      const value = record.value === null ? null : encodeOffsetCommitValue(record.value);
      const list = byPartition.get(partition);
      if (list) list.push({ key, value });
      else byPartition.set(partition, [{ key, value }]);
    }
    for (const [partition, list] of byPartition) {
      if (this.host === null) await this.engine.produce(CONSUMER_OFFSETS_TOPIC, list, { partition });
      else await this.host.append(partition, encodeBatch(list, { compression: 'none', now: Date.now() }));
    }
  }

  /** Every live commit in the topic (none when it does not exist yet). */
  async load(): Promise<OffsetCache> {
    const cache: OffsetCache = new Map();
    if (!this.engine.hasTopic(CONSUMER_OFFSETS_TOPIC)) return cache;
    const partitions = this.currentPartitionCount();
    for (let partition = 0; partition < partitions; partition++) await this.loadPartition(partition, cache);
    return cache;
  }

  /**
   * The commits of one partition into `cache`. A new leader reads to its log end: what the
   * previous leader wrote there is committed by this epoch as the followers catch up.
   */
  async loadPartition(partition: number, cache: OffsetCache): Promise<void> {
    const log = this.engine.partitionLog(CONSUMER_OFFSETS_TOPIC, partition);
    const end = this.host === null ? log.highWatermark : log.logEndOffset;
    let offset = log.logStartOffset;
    while (offset < end) {
      const fetched = await this.engine.fetch(CONSUMER_OFFSETS_TOPIC, partition, { offset, maxBytes: LOAD_READ_BYTES });
      for (const record of fetched.records) {
        if (record.key === null || !isOffsetCommitKey(record.key)) continue; // group metadata and other record types
        const key = decodeOffsetCommitKey(record.key);
        if (record.value === null) deleteOffset(cache, key.group, key.topic, key.partition);
        else setOffset(cache, key.group, key.topic, key.partition, decodeOffsetCommitValue(record.value));
      }
      if (fetched.nextOffset <= offset) break;
      offset = fetched.nextOffset;
    }
  }

  /** The topic's own partition count once it exists (it may predate a change of the setting). */
  private currentPartitionCount(): number {
    if (!this.engine.hasTopic(CONSUMER_OFFSETS_TOPIC)) this.partitionCount = undefined;
    else this.partitionCount ??= this.engine.describeTopic(CONSUMER_OFFSETS_TOPIC).partitions.length;
    return this.partitionCount ?? this.configuredPartitions;
  }

  async ensureTopic(): Promise<void> {
    if (this.engine.hasTopic(CONSUMER_OFFSETS_TOPIC)) return;
    if (this.host !== null) {
      await this.host.ensureTopic(this.configuredPartitions);
      this.partitionCount = undefined;
      return;
    }
    try {
      await this.engine.createTopic(CONSUMER_OFFSETS_TOPIC, {
        partitions: this.configuredPartitions,
        // Kafka compacts this topic. We do not compact yet, so nothing may be deleted by time either:
        // retention.ms=-1 keeps every commit and tombstone until compaction exists.
        config: { 'cleanup.policy': 'compact', 'retention.ms': -1 },
      });
    } catch (error) {
      if (!(error instanceof SluiceError && error.code === 'TOPIC_ALREADY_EXISTS')) throw error;
    }
    this.partitionCount = this.engine.describeTopic(CONSUMER_OFFSETS_TOPIC).partitions.length;
  }
}

export function setOffset(cache: OffsetCache, group: string, topic: string, partition: number, value: CommittedOffset): void {
  let topics = cache.get(group);
  if (!topics) cache.set(group, (topics = new Map()));
  let partitions = topics.get(topic);
  if (!partitions) topics.set(topic, (partitions = new Map()));
  partitions.set(partition, value);
}

export function deleteOffset(cache: OffsetCache, group: string, topic: string, partition: number): void {
  const topics = cache.get(group);
  const partitions = topics?.get(topic);
  if (!topics || !partitions) return;
  partitions.delete(partition);
  if (partitions.size === 0) topics.delete(topic);
  if (topics.size === 0) cache.delete(group);
}
