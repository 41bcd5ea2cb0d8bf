// The follower side of a broker (Kafka's ReplicaFetcherManager): one ReplicaFetcher per leader
// broker, so that every partition this broker follows from one leader shares one connection and
// one Fetch. Following a partition from a new leader moves it to that leader's fetcher (an answer
// in flight from the old one is dropped); a fetcher left with no partition is closed, and a leader
// that comes back at another address gets a new fetcher that takes over its partitions.
import { SluiceError } from '../errors.js';
import { ReplicaFetcher, partitionKey, type FollowerPartition, type LeaderEndpoint, type ReplicaFetcherOptions } from './replica-fetcher.js';

export type ReplicaFetcherManagerOptions = Omit<ReplicaFetcherOptions, 'leader'>;

export class ReplicaFetcherManager {
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  /** Partition key -> the leader broker it is fetched from. */
  private readonly leaders = new Map<string, number>();
  /** Fetchers being closed, for close() to wait on. */
  private readonly closing = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly options: ReplicaFetcherManagerOptions) {}

  /** Fetches `partition` from `leader` from now on (from its log end), replacing any earlier follow. */
  follow(leader: LeaderEndpoint, partition: FollowerPartition): void {
    if (this.closed) throw new SluiceError('ENGINE_CLOSED', 'The replica fetcher manager is closed');
    const key = partitionKey(partition.topic, partition.partition);
    const current = this.leaders.get(key);
    if (current !== undefined && current !== leader.brokerId) this.removeFrom(current, partition.topic, partition.partition);
    this.fetcherFor(leader).addPartition(partition);
    this.leaders.set(key, leader.brokerId);
  }

  /** Stops fetching the partition; returns whether it was followed. */
  unfollow(topic: string, partition: number): boolean {
    const key = partitionKey(topic, partition);
    const leaderId = this.leaders.get(key);
    if (leaderId === undefined) return false;
    this.leaders.delete(key);
    this.removeFrom(leaderId, topic, partition);
    return true;
  }

  /** The broker a partition is fetched from, or undefined. */
  leaderOf(topic: string, partition: number): number | undefined {
    return this.leaders.get(partitionKey(topic, partition));
  }

  /** Fetchers (connections to leaders) running. */
  get fetcherCount(): number {
    return this.fetchers.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const fetcher of this.fetchers.values()) this.retire(fetcher);
    this.fetchers.clear();
    this.leaders.clear();
    await Promise.all([...this.closing]);
  }

  /** The leader's fetcher; a new one if the leader has none or has moved to another address. */
  private fetcherFor(leader: LeaderEndpoint): ReplicaFetcher {
    const existing = this.fetchers.get(leader.brokerId);
    if (existing !== undefined && existing.leader.host === leader.host && existing.leader.port === leader.port) return existing;
    const fetcher = new ReplicaFetcher({ ...this.options, leader });
    this.fetchers.set(leader.brokerId, fetcher);
    if (existing !== undefined) {
      for (const partition of existing.followedPartitions()) fetcher.addPartition(partition);
      this.retire(existing);
    }
    return fetcher;
  }

  private removeFrom(leaderId: number, topic: string, partition: number): void {
    const fetcher = this.fetchers.get(leaderId);
    if (fetcher === undefined) return;
    fetcher.removePartition(topic, partition);
    if (fetcher.partitionCount > 0) return;
    this.fetchers.delete(leaderId);
    this.retire(fetcher);
  }

  private retire(fetcher: ReplicaFetcher): void {
    const closing = fetcher.close().finally(() => this.closing.delete(closing));
    this.closing.add(closing);
  }
}
