// The group coordinator's records in the engine's own log: the internal topic __consumer_offsets
// (offset commits and group metadata, in Kafka's formats: offset-format.ts,
// group-metadata-format.ts). A group's records all go to one partition of that topic (Kafka's
// partitionFor), so one write is one batch. This file only moves records in and out of the log;
// what they mean is the group metadata manager's (group-metadata-manager.ts).
// In a cluster, __consumer_offsets is replicated like any topic: writes go through its leader's
// append (acks=all) and a coordinator loads a partition when it becomes that partition's leader.
// The transaction coordinator keeps __transaction_state the same way, through a store of its own
// (OffsetStoreOptions.topic): its records are keyed by transactional id as these are by group.
import { SluiceError } from '../../errors.js';
import type { Engine } from '../../engine/engine.js';
import { decodeBatch, encodeBatch, iterateBatches } from '../../record/batch.js';
import { ControlType, controlTypeOf } from '../../record/control-record.js';
import { CONSUMER_OFFSETS_TOPIC } from '../../engine/topic-name.js';
import type { AppendOrigin } from '../../storage/log-validator.js';
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
  append(partition: number, batch: Buffer, origin?: AppendOrigin): Promise<void>;
  /** Creates the replicated topic when missing (Kafka does on the first FindCoordinator). */
  ensureTopic(partitions: number, configs: Record<string, string>): Promise<void>;
}

export interface OffsetStoreOptions {
  /** The topic (default __consumer_offsets; __transaction_state for the transaction coordinator). */
  topic?: string;
  /** The topic's min.insync.replicas when this store creates it (transaction.state.log.min.isr). */
  minInsyncReplicas?: number;
  /** offsets.topic.num.partitions: the partition count when this store creates the topic. */
  partitions: number;
  /** offsets.topic.segment.bytes: the topic's segment.bytes (Kafka's 100 MiB keeps loading and cleaning quick). */
  segmentBytes: number;
  /** offsets.load.buffer.size: bytes read per step while loading (Kafka's 5 MiB). */
  loadBufferBytes: number;
}

export class OffsetStore {
  private partitionCount: number | undefined;
  private readonly topic: string;

  constructor(
    private readonly engine: Engine,
    private readonly options: OffsetStoreOptions,
    private readonly host: OffsetsTopicHost | null = null,
  ) {
    this.topic = options.topic ?? CONSUMER_OFFSETS_TOPIC;
  }

  /** The __consumer_offsets partition that holds `groupId`'s records. */
  partitionFor(groupId: string): number {
    return offsetsPartitionFor(groupId, this.currentPartitionCount());
  }

  /**
   * Appends the records, one batch per __consumer_offsets partition they fall in; creates the topic
   * on first use. With `transaction`, the batches are that producer's transactional ones
   * (TxnOffsetCommit): they count once the transaction's COMMIT marker follows them.
   */
  async append(records: readonly CoordinatorRecord[], transaction?: { producerId: number; producerEpoch: number }): Promise<void> {
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
      if (transaction !== undefined) {
        const batch = encodeBatch(list, { compression: 'none', now: Date.now(), ...transaction, baseSequence: -1, transactional: true });
        if (this.host === null) await this.engine.appendBatches(this.topic, partition, batch, { origin: 'coordinator' });
        else await this.host.append(partition, batch, 'coordinator');
      } else if (this.host === null) await this.engine.produce(this.topic, list, { partition });
      else await this.host.append(partition, encodeBatch(list, { compression: 'none', now: Date.now() }));
    }
  }

  /** The partitions of the topic, or none when it does not exist yet. */
  existingPartitions(): number[] {
    if (!this.engine.hasTopic(this.topic)) return [];
    return Array.from({ length: this.currentPartitionCount() }, (_, partition) => partition);
  }

  /**
   * Hands every record of one partition, in log order, to `visit`, with the producer id of a
   * transactional batch (-1 otherwise: the group coordinator's transactional offset commits count
   * only once their COMMIT marker follows), and every transaction marker to `onMarker`. A new
   * leader reads to its log end: what the previous leader wrote there is committed by this epoch
   * as the followers catch up.
   */
  async readPartition(
    partition: number,
    visit: (key: Buffer, value: Buffer | null, transactionalProducerId: number) => void,
    onMarker: (producerId: number, commit: boolean) => void = () => {},
  ): Promise<void> {
    const log = this.engine.partitionLog(this.topic, partition);
    const end = this.host === null ? log.highWatermark : log.logEndOffset;
    let offset = log.logStartOffset;
    while (offset < end) {
      const read = log.read(offset, this.options.loadBufferBytes, { maxOffset: end, minOneBatch: true });
      if (read === null) break;
      const bytes = log.readBytes(read);
      for (const { at, header } of iterateBatches(bytes)) {
        if (header.isControl) {
          const type = controlTypeOf(bytes, at, header.sizeBytes);
          if (type === ControlType.COMMIT || type === ControlType.ABORT) onMarker(header.producerId, type === ControlType.COMMIT);
          continue;
        }
        const producerId = header.isTransactional ? header.producerId : -1;
        for (const record of decodeBatch(bytes, at, { skipCrc: true }).records) {
          if (record.offset >= offset && record.key !== null) visit(record.key, record.value, producerId);
        }
      }
      if (read.region.lastOffset + 1 <= offset) break;
      offset = read.region.lastOffset + 1;
      // Loading reads whole partitions: let requests in between the steps.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The topic's own partition count once it exists (it may predate a change of the setting). */
  private currentPartitionCount(): number {
    if (!this.engine.hasTopic(this.topic)) this.partitionCount = undefined;
    else this.partitionCount ??= this.engine.partitionCount(this.topic);
    return this.partitionCount ?? this.options.partitions;
  }

  /** Kafka's settings of the topic: compacted, so it keeps the latest record per key and no more. */
  private topicConfigs(): Record<string, string> {
    const configs: Record<string, string> = { 'cleanup.policy': 'compact', 'segment.bytes': String(this.options.segmentBytes) };
    if (this.options.minInsyncReplicas !== undefined) configs['min.insync.replicas'] = String(this.options.minInsyncReplicas);
    return configs;
  }

  async ensureTopic(): Promise<void> {
    if (this.engine.hasTopic(this.topic)) return;
    if (this.host !== null) {
      await this.host.ensureTopic(this.options.partitions, this.topicConfigs());
      this.partitionCount = undefined;
      return;
    }
    try {
      await this.engine.createTopic(this.topic, { partitions: this.options.partitions, config: this.topicConfigs() });
    } catch (error) {
      if (!(error instanceof SluiceError && error.code === 'TOPIC_ALREADY_EXISTS')) throw error;
    }
    this.partitionCount = this.engine.partitionCount(this.topic);
  }
}
