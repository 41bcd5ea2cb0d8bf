// A PoolConsumer's batches from Kafka brokers (ours or any): a GroupMember for membership and
// commits, Fetch requests (long poll) for the partitions that have room, to each partition's
// leader or to the replica in the consumer's rack its leader names (fetch-round.ts).
import { KafkaClient, type ClientSocketOptions } from '../client/client.js';
import type { SaslCredentials } from '../client/sasl.js';
import type { TlsOptions } from '../client/tls-config.js';
import { abortedBatchFilter } from '../record/aborted-transactions.js';
import { FetchRound } from '../client/fetch-round.js';
import { GroupMember, type CommitOffset, type GroupMemberOptions, type TopicPartition } from '../client/group-member.js';
import { chunkOf, keyOf, type Doorbell, type FetchedPartition, type Source, type SourceHooks, type WantedPartition } from './source.js';

export interface BrokerSourceOptions extends Omit<GroupMemberOptions, 'onAssigned' | 'onRevoking' | 'onError'>, ClientSocketOptions {
  brokers: string[];
  sasl?: SaslCredentials;
  tls?: TlsOptions;
  clientId?: string;
  autoOffsetReset: 'earliest' | 'latest';
  partitionMaxBytes: number;
  maxWaitMs: number;
  /** client.rack (KIP-392). */
  clientRack?: string;
  /** isolation.level: read_committed reads to the last stable offset and leaves aborted transactions out. */
  isolationLevel?: 'read_uncommitted' | 'read_committed';
}

const EARLIEST = -2;
const LATEST = -1;

export class BrokerSource implements Source {
  readonly skipCrc = false;
  private client: KafkaClient | undefined;
  private member: GroupMember | undefined;
  private round: FetchRound | undefined;

  constructor(private readonly options: BrokerSourceOptions) {}

  get groupMember(): GroupMember | undefined {
    return this.member;
  }

  /** The replica a partition is read at instead of its leader (client.rack), or -1: the leader. */
  preferredReadReplica(topic: string, partition: number): number {
    return this.round?.preferredReadReplica(topic, partition) ?? -1;
  }

  async start(hooks: SourceHooks): Promise<void> {
    const { brokers, sasl, tls, clientId = 'sluice-pool-consumer', metadataMaxAgeMs, connectTimeoutMs, connectTimeoutMaxMs, sendBufferBytes, receiveBufferBytes, idleTimeoutMs } = this.options;
    this.client = await KafkaClient.connect({ brokers, sasl, tls, clientId, metadataMaxAgeMs, connectTimeoutMs, connectTimeoutMaxMs, sendBufferBytes, receiveBufferBytes, idleTimeoutMs });
    this.round = new FetchRound(this.client, {
      maxWaitMs: this.options.maxWaitMs,
      minBytes: 1,
      maxBytes: this.options.partitionMaxBytes,
      partitionMaxBytes: this.options.partitionMaxBytes,
      clientRack: this.options.clientRack,
      isolationLevel: this.options.isolationLevel,
    });
    this.member = new GroupMember(this.client, {
      ...this.options,
      onAssigned: (partitions) => hooks.assigned(partitions),
      onRevoking: (partitions, reason) => hooks.revoking(partitions, reason),
      onError: (error) => hooks.failed(error),
    });
    try {
      await this.member.start();
    } catch (error) {
      await this.member.stop().catch(() => {});
      this.client.close();
      throw error;
    }
  }

  async startPositions(partitions: TopicPartition[]): Promise<Map<string, number>> {
    const committed = await this.member!.fetchCommittedOffsets(partitions);
    const positions = new Map<string, number>();
    for (const { topic, partition } of partitions) {
      const key = keyOf(topic, partition);
      const offset = committed.get(key) ?? -1;
      positions.set(key, offset >= 0 ? offset : await this.resetOffset(topic, partition));
    }
    return positions;
  }

  private resetOffset(topic: string, partition: number): Promise<number> {
    return this.client!.listOffset(topic, partition, this.options.autoOffsetReset === 'earliest' ? EARLIEST : LATEST);
  }

  async fetch(wanted: WantedPartition[], maxBytes: number, _wake: Doorbell): Promise<FetchedPartition[]> {
    const { reads, outOfRange } = await this.round!.fetch(wanted.map((w) => ({ topic: w.topic, partition: w.partition, offset: w.position })), maxBytes);
    const results: FetchedPartition[] = [];
    for (const { topic, partition, offset } of outOfRange) results.push({ topic, partition, position: offset, resetTo: await this.resetOffset(topic, partition) });
    const readCommitted = this.options.isolationLevel === 'read_committed';
    for (const { topic, partition, offset, records, abortedTransactions } of reads) {
      // One copy per partition: the frame holds every partition, and a worker gets its own bytes.
      const chunk = chunkOf(records, offset, true, readCommitted ? abortedBatchFilter(abortedTransactions) : undefined);
      if (chunk) results.push({ topic, partition, position: offset, chunk });
    }
    return results;
  }

  commit(offsets: CommitOffset[]): Promise<void> {
    return this.member!.commitOffsets(offsets);
  }

  async stop(): Promise<void> {
    try {
      await this.member?.stop();
    } finally {
      this.client?.close();
    }
  }
}
