// A PoolConsumer's batches from Kafka brokers (ours or any): a GroupMember for membership and
// commits, Fetch requests (long poll) to each partition's leader for the partitions that have room.
import { KafkaClient } from '../client/client.js';
import type { BrokerConnection } from '../client/connection.js';
import { GroupMember, type CommitOffset, type GroupMemberOptions, type TopicPartition } from '../client/group-member.js';
import { SluiceError, kafkaErrorName } from '../errors.js';
import { ApiKey } from '../protocol/api-keys.js';
import { chunkOf, keyOf, type Doorbell, type FetchedPartition, type Source, type SourceHooks, type WantedPartition } from './source.js';

export interface BrokerSourceOptions extends Omit<GroupMemberOptions, 'onAssigned' | 'onRevoking' | 'onError'> {
  brokers: string[];
  clientId?: string;
  autoOffsetReset: 'earliest' | 'latest';
  partitionMaxBytes: number;
  maxWaitMs: number;
}

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const EARLIEST = -2;
const LATEST = -1;
/** Partition errors after which the leaders are looked up again (Kafka's consumer refreshes metadata). */
const METADATA_ERRORS = new Set(['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID', 'KAFKA_STORAGE_ERROR']);
const ERROR_BACKOFF_MS = 100;

export class BrokerSource implements Source {
  readonly skipCrc = false;
  private client: KafkaClient | undefined;
  private member: GroupMember | undefined;
  private readonly topicIds = new Map<string, string>();

  constructor(private readonly options: BrokerSourceOptions) {}

  get groupMember(): GroupMember | undefined {
    return this.member;
  }

  async start(hooks: SourceHooks): Promise<void> {
    this.client = await KafkaClient.connect({ brokers: this.options.brokers, clientId: this.options.clientId ?? 'sluice-pool-consumer' });
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
    const client = this.client!;
    for (const { topic } of wanted) {
      if (!this.topicIds.has(topic)) this.topicIds.set(topic, (await client.metadata([topic])).topics[0]?.topicId ?? ZERO_UUID);
    }
    const byLeader = new Map<BrokerConnection, WantedPartition[]>();
    for (const want of wanted) {
      const connection = await client.leaderConnection(want.topic, want.partition);
      const list = byLeader.get(connection);
      if (list) list.push(want);
      else byLeader.set(connection, [want]);
    }
    const rounds = await Promise.all([...byLeader].map(([connection, list]) => this.fetchFrom(connection, list, maxBytes)));
    const results = rounds.flatMap((round) => round.results);
    if (rounds.some((round) => round.refreshMetadata)) {
      await client.metadata([...new Set(wanted.map((w) => w.topic))]).catch(() => undefined);
      await sleep(ERROR_BACKOFF_MS);
    }
    return results;
  }

  private async fetchFrom(connection: BrokerConnection, wanted: WantedPartition[], maxBytes: number): Promise<{ results: FetchedPartition[]; refreshMetadata: boolean }> {
    const byTopic = new Map<string, WantedPartition[]>();
    for (const want of wanted) {
      const list = byTopic.get(want.topic);
      if (list) list.push(want);
      else byTopic.set(want.topic, [want]);
    }
    const response = await connection.request(ApiKey.Fetch, {
      replicaId: -1,
      maxWaitMs: this.options.maxWaitMs,
      minBytes: 1,
      maxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...byTopic].map(([topic, list]) => ({
        topic,
        topicId: this.topicIds.get(topic) ?? ZERO_UUID,
        partitions: list.map((w) => ({
          partition: w.partition,
          currentLeaderEpoch: -1,
          fetchOffset: w.position,
          lastFetchedEpoch: -1,
          logStartOffset: -1,
          partitionMaxBytes: this.options.partitionMaxBytes,
        })),
      })),
      forgottenTopicsData: [],
      rackId: '',
    });
    if (response.errorCode) throw new SluiceError(kafkaErrorName(response.errorCode), `Fetch: ${kafkaErrorName(response.errorCode)}`);
    const positions = new Map(wanted.map((w) => [keyOf(w.topic, w.partition), w.position]));
    const names = new Map([...this.topicIds].map(([name, id]) => [id, name]));
    const results: FetchedPartition[] = [];
    let refreshMetadata = false;
    for (const topicResponse of response.responses) {
      const topic: string = topicResponse.topic || names.get(topicResponse.topicId) || '';
      for (const answer of topicResponse.partitions) {
        const partition: number = answer.partitionIndex;
        const position = positions.get(keyOf(topic, partition));
        if (position === undefined) continue;
        if (answer.errorCode !== 0) {
          const error = kafkaErrorName(answer.errorCode);
          if (error === 'OFFSET_OUT_OF_RANGE') results.push({ topic, partition, position, resetTo: await this.resetOffset(topic, partition) });
          else if (METADATA_ERRORS.has(error)) refreshMetadata = true;
          else throw new SluiceError(error, `Fetch ${topic}-${partition}: ${error}`);
          continue;
        }
        const records = answer.records as Buffer | null;
        if (!records || records.length === 0) continue;
        // One copy per partition: the frame holds every partition, and a worker gets its own bytes.
        const chunk = chunkOf(records, position, true);
        if (chunk) results.push({ topic, partition, position, chunk });
      }
    }
    return { results, refreshMetadata };
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
