// The group coordinator's records in the engine's own log: the internal topic __consumer_offsets
// (offset commits and group metadata, in Kafka's formats: offset-format.ts,
// group-metadata-format.ts). A group's records all go to one partition of that topic (Kafka's
// partitionFor), so one write is one batch. This file only moves records in and out of the log;
// what they mean is the group metadata manager's (group-metadata-manager.ts).
// In a cluster, __consumer_offsets is replicated like any topic: writes go through its leader's
// append (acks=all) and a coordinator loads a partition when it becomes that partition's leader.
import { SluiceError } from '../../errors.js';
import type { Engine } from '../../engine/engine.js';
import { encodeBatch } from '../../record/batch.js';
import { CONSUMER_OFFSETS_TOPIC } from '../../engine/topic-name.js';
import { offsetsPartitionFor } from './offset-format.js';

/** A record to write for `group`: its encoded key and value (null: a tombstone). */
export interface CoordinatorRecord {
  group: string;
  key: Buffer;
  value: Buffer | null;
}

/** How a cluster hosts __consumer_offsets (cluster-node.ts): this broker's leaderships, and appends through them. */
export interface OffsetsTopicHost {
  /** Whether this broker leads the partition (it coordinates the partition's groups). */
  leads(partition: number): boolean;
  /** Appends an encoded batch as the partition's leader and waits for the ISR (acks=all). */
  append(partition: number, batch: Buffer): Promise<void>;
  /** Creates the replicated topic when missing (Kafka does on the first FindCoordinator). */
  ensureTopic(partitions: number, configs: Record<string, string>): Promise<void>;
}

export interface OffsetStoreOptions {
  /** offsets.topic.num.partitions: the partition count when this store creates the topic. */
  partitions: number;
  /** offsets.topic.segment.bytes: the topic's segment.bytes (Kafka's 100 MiB keeps loading and cleaning quick). */
  segmentBytes: number;
  /** offsets.load.buffer.size: bytes read per step while loading (Kafka's 5 MiB). */
  loadBufferBytes: number;
}

export class OffsetStore {
  private partitionCount: number | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly options: OffsetStoreOptions,
    private readonly host: OffsetsTopicHost | null = null,
  ) {}

  /** The __consumer_offsets partition that holds `groupId`'s records. */
  partitionFor(groupId: string): number {
    return offsetsPartitionFor(groupId, this.currentPartitionCount());
  }

  /** Appends the records, one batch per __consumer_offsets partition they fall in; creates the topic on first use. */
  async append(records: readonly CoordinatorRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.ensureTopic();
    const byPartition = new Map<number, Array<{ key: Buffer; value: Buffer | null }>>();
    for (const { group, key, value } of records) {
      const partition = this.partitionFor(group);
      const list = byPartition.get(partition);
      if (list) list.push({ key, value });
      else byPartition.set(partition, [{ key, value }]);
    }
    for (const [partition, list] of byPartition) {
      if (this.host === null) await this.engine.produce(CONSUMER_OFFSETS_TOPIC, list, { partition });
      else await this.host.append(partition, encodeBatch(list, { compression: 'none', now: Date.now() }));
    }
  }

  /** The partitions of the topic, or none when it does not exist yet. */
  existingPartitions(): number[] {
    if (!this.engine.hasTopic(CONSUMER_OFFSETS_TOPIC)) return [];
    return Array.from({ length: this.currentPartitionCount() }, (_, partition) => partition);
  }

  /**
   * Hands every record of one partition, in log order, to `visit`. A new leader reads to its log
   * end: what the previous leader wrote there is committed by this epoch as the followers catch up.
   */
  async readPartition(partition: number, visit: (key: Buffer, value: Buffer | null) => void): Promise<void> {
    const log = this.engine.partitionLog(CONSUMER_OFFSETS_TOPIC, partition);
    const end = this.host === null ? log.highWatermark : log.logEndOffset;
    let offset = log.logStartOffset;
    while (offset < end) {
      const fetched = await this.engine.fetch(CONSUMER_OFFSETS_TOPIC, partition, { offset, maxBytes: this.options.loadBufferBytes });
      for (const record of fetched.records) if (record.key !== null) visit(record.key, record.value);
      if (fetched.nextOffset <= offset) break;
      offset = fetched.nextOffset;
    }
  }

  /** The topic's own partition count once it exists (it may predate a change of the setting). */
  private currentPartitionCount(): number {
    if (!this.engine.hasTopic(CONSUMER_OFFSETS_TOPIC)) this.partitionCount = undefined;
    else this.partitionCount ??= this.engine.partitionCount(CONSUMER_OFFSETS_TOPIC);
    return this.partitionCount ?? this.options.partitions;
  }

  /** Kafka's settings of the topic: compacted, so it keeps the latest record per key and no more. */
  private topicConfigs(): Record<string, string> {
    return { 'cleanup.policy': 'compact', 'segment.bytes': String(this.options.segmentBytes) };
  }

  async ensureTopic(): Promise<void> {
    if (this.engine.hasTopic(CONSUMER_OFFSETS_TOPIC)) return;
    if (this.host !== null) {
      await this.host.ensureTopic(this.options.partitions, this.topicConfigs());
      this.partitionCount = undefined;
      return;
    }
    try {
      await this.engine.createTopic(CONSUMER_OFFSETS_TOPIC, { partitions: this.options.partitions, config: this.topicConfigs() });
    } catch (error) {
      if (!(error instanceof SluiceError && error.code === 'TOPIC_ALREADY_EXISTS')) throw error;
    }
    this.partitionCount = this.engine.partitionCount(CONSUMER_OFFSETS_TOPIC);
  }
}
