// The broker's replicas of a cluster's partitions (Kafka's ReplicaManager and Partition): for each
// partition this broker holds, whether it leads or follows, at which leader epoch, and what that
// means for requests.
//
//   leader    appends producers' batches stamped with its leader epoch; tracks each follower's
//             fetches (partition-leader.ts) and moves the high watermark to the min LEO of the
//             ISR; changes the ISR by compare-and-set in etcd (AlterPartition-style); answers
//             acks=all once the high watermark covers the batch.
//   follower  fetches from the leader (replica-fetcher.ts), nothing else: clients asking it to
//             lead get NOT_LEADER_OR_FOLLOWER and refresh their metadata.
//
// The partition states come from etcd (cluster-node.ts feeds applyState with every state the
// controller or a leader writes), so a broker never decides its own role: a leader whose state
// names another broker stops leading at once, and its pending acks=all writes fail with
// NOT_LEADER_OR_FOLLOWER, never with success.
import { KafkaErrorCode, SluiceError, throwIfError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import { TIMER_DELAY_MAX_MS } from '../limits.js';
import type { LogLimiter } from '../logger.js';
import type { AppendResult, Log } from '../storage/log.js';
import type { AppendOrigin } from '../storage/log-validator.js';
import type { AlterPartitionRequest, PartitionStateRecord } from '../cluster/metadata-store.js';
import { NO_LEADER } from '../cluster/layout.js';
import { leadershipPredatesRegistration } from '../cluster/partition-election.js';
import type { ClusterSettings } from './config.js';
import { PartitionLeader, type IsrChange } from './partition-leader.js';
import type { FollowerPartition } from './replica-fetcher.js';
import type { ReplicaFetcherManager } from './replica-fetcher-manager.js';
import { listsReplica, type ReplicationQuota } from './replication-quotas.js';

/** Kafka's "no leader epoch given" in Fetch, ListOffsets and OffsetForLeaderEpoch. */
export const NO_LEADER_EPOCH = -1;

export interface BrokerEndpoint {
  brokerId: number;
  host: string;
  port: number;
  /** broker.rack, or null. */
  rack: string | null;
}

export interface ReplicaManagerOptions {
  brokerId: number;
  engine: Engine;
  settings: ClusterSettings;
  fetchers: ReplicaFetcherManager;
  /** leader.replication.throttled.rate and what counts against it (replication-quotas.ts); none: unthrottled. */
  leaderQuota?: ReplicationQuota;
  /** Commits a leader's ISR change (MetadataStore.alterPartition). */
  alterPartition(request: AlterPartitionRequest): Promise<PartitionStateRecord>;
  /** Where a live broker listens; undefined for a dead one. */
  endpointOf(brokerId: number): BrokerEndpoint | undefined;
  /** Wakes consumers' long polls when a high watermark moves. */
  onHighWatermark(topic: string, partition: number): void;
  /** This broker started or stopped leading a partition (the group coordinator follows __consumer_offsets). */
  onLeadership?(topic: string, partition: number, leading: boolean): void;
  log: LogLimiter;
  nowMs?: () => number;
}

interface AcksWaiter {
  requiredOffset: number;
  done(errorCode: number): void;
}

interface Replica {
  topic: string;
  partition: number;
  /** Assignment order; the first is the preferred leader. */
  replicas: number[];
  state: PartitionStateRecord;
  /** Set while this broker leads at state.leaderEpoch. */
  leader: PartitionLeader | null;
  /** The leader id and epoch the fetchers follow; null when not following. */
  following: { leaderId: number; leaderEpoch: number } | null;
  acksWaiters: Set<AcksWaiter>;
}

/** What the leader's replication quota makes of a follower's fetch of a partition (ReplicaManager.leaderThrottle). */
export type LeaderThrottle = 'none' | 'count' | 'hold';

/** What Metadata says of one partition. */
export interface PartitionView {
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class ReplicaManager {
  readonly brokerId: number;
  private readonly replicas = new Map<string, Replica>();
  private readonly nowMs: () => number;
  private readonly isrTimer: NodeJS.Timeout;
  private closed = false;
  /** This broker's registration (broker epoch), once it has one: the states that may make it leader are newer. */
  private brokerEpoch: number | null = null;
  /** Partitions whose log directory went offline here (a failed disk): neither led nor followed until a restart. */
  private readonly offline = new Set<string>();

  constructor(private readonly options: ReplicaManagerOptions) {
    this.brokerId = options.brokerId;
    this.nowMs = options.nowMs ?? Date.now;
    // Kafka checks for lagging ISR members every replica.lag.time.max.ms / 2.
    this.isrTimer = setInterval(() => this.shrinkIsrs(), Math.min(Math.max(1, Math.floor(options.settings.replicaLagTimeMaxMs / 2)), TIMER_DELAY_MAX_MS));
    this.isrTimer.unref();
  }

  // ---- state from the cluster ------------------------------------------------------------------

  /**
   * A partition's state as etcd holds it now (a watch event or the initial read). States older
   * than the one applied (a smaller partition epoch) are ignored: the watch and this broker's own
   * ISR writes can deliver the same change twice.
   */
  applyState(topic: string, partition: number, replicas: readonly number[], state: PartitionStateRecord): void {
    if (this.closed) return;
    const id = key(topic, partition);
    let replica = this.replicas.get(id);
    if (replica !== undefined && state.partitionEpoch < replica.state.partitionEpoch) return;
    if (replica === undefined) {
      replica = { topic, partition, replicas: [...replicas], state, leader: null, following: null, acksWaiters: new Set() };
      this.replicas.set(id, replica);
    }
    const previous = replica.state;
    replica.replicas = [...replicas];
    replica.state = state;
    if (!replicas.includes(this.brokerId)) {
      this.stopLeading(replica, 'not a replica any more');
      this.stopFollowing(replica);
      return;
    }
    if (this.offline.has(id)) return; // logDirFailed stopped it; the controller elects elsewhere
    const log = this.options.engine.partitionLog(topic, partition);
    // A replicated log's high watermark is what replication says; a log without a checkpointed
    // one starts at its log start (Kafka's default of 0), not at its end.
    if (!log.isReplicated) log.updateHighWatermark(log.logStartOffset);
    if (state.leader === this.brokerId) {
      if (this.brokerEpoch === null || leadershipPredatesRegistration(state.partitionEpoch, this.brokerEpoch)) {
        // A leadership of an earlier incarnation: its high watermark and follower positions died
        // with it. Neither lead nor follow until the controller has elected again.
        this.stopLeading(replica, 'named leader before this broker registered');
        this.stopFollowing(replica);
        this.options.log.log('info', `stale-leadership:${topic}-${partition}`, { topic, partition, leaderEpoch: state.leaderEpoch, partitionEpoch: state.partitionEpoch, brokerEpoch: this.brokerEpoch }, 'named leader by a state older than this registration: waiting for the controller to elect again');
        return;
      }
      if (replica.leader !== null && previous.leaderEpoch === state.leaderEpoch) {
        // An ISR change at the same epoch (ours committed, or the controller removing a dead member),
        // or a reassignment adding or removing followers.
        replica.leader.setReplicas(replicas);
        replica.leader.isrCommitted(state.isr);
        this.advanceHighWatermark(replica, log);
        return;
      }
      this.becomeLeader(replica, log);
    } else {
      this.stopLeading(replica, `broker ${state.leader} leads at epoch ${state.leaderEpoch}`);
      this.follow(replica);
    }
  }

  /**
   * This broker registered (again) as `brokerEpoch`. A state written before that names it leader
   * on behalf of an earlier incarnation (it restarted, or lost its session): it does not lead
   * there, and the controller elects again at a new epoch (partition-election.ts, aliveForState).
   * The states held are applied again under that rule.
   */
  registered(brokerEpoch: number): void {
    this.brokerEpoch = brokerEpoch;
    for (const replica of [...this.replicas.values()]) this.applyState(replica.topic, replica.partition, replica.replicas, replica.state);
  }

  /**
   * Partitions whose log directory went offline (Engine.onLogDirFailure): this broker stops leading
   * and following them at once. Its pending acks=all writes there fail with NOT_LEADER_OR_FOLLOWER
   * (unacknowledged: the producer retries at the new leader); requests meanwhile get
   * KAFKA_STORAGE_ERROR while the state still names this broker leader, as Kafka's do.
   */
  logDirFailed(partitions: Iterable<{ topic: string; partition: number }>): void {
    for (const { topic, partition } of partitions) {
      const id = key(topic, partition);
      this.offline.add(id);
      const replica = this.replicas.get(id);
      if (replica === undefined) continue;
      this.stopLeading(replica, 'its log directory is offline');
      this.stopFollowing(replica);
    }
  }

  /** A topic deleted from the cluster: its replicas stop (the caller deletes the logs after). */
  removeTopic(topic: string): void {
    for (const replica of [...this.replicas.values()]) {
      if (replica.topic !== topic) continue;
      this.stopLeading(replica, 'topic deleted');
      this.stopFollowing(replica);
      this.replicas.delete(key(replica.topic, replica.partition));
      this.offline.delete(key(replica.topic, replica.partition)); // a topic created again under the name gets new logs
    }
  }

  /** A broker registered (again): partitions led by it that waited for its address follow it now. */
  brokerJoined(brokerId: number): void {
    // Its own registration: a state naming this broker leader is applyState's to act on (it may be
    // a stale leadership to wait out), never one to follow.
    if (brokerId === this.brokerId) return;
    for (const replica of this.replicas.values()) {
      if (replica.state.leader === brokerId && replica.following === null && replica.replicas.includes(this.brokerId)) this.follow(replica);
    }
  }

  private becomeLeader(replica: Replica, log: Log): void {
    this.stopFollowing(replica);
    this.failAcksWaiters(replica, KafkaErrorCode.NOT_LEADER_OR_FOLLOWER);
    const { leaderEpoch, isr } = replica.state;
    // Kafka's makeLeader: the new epoch starts at the leader's LEO, so OffsetForLeaderEpoch and
    // followers' DivergingEpoch see where the previous epochs end on this replica.
    log.assignEpochStartOffset(leaderEpoch, log.logEndOffset);
    const wasLeading = replica.leader !== null;
    replica.leader = new PartitionLeader({
      leaderId: this.brokerId,
      replicas: replica.replicas,
      isr,
      leaderEpochStartOffset: log.logEndOffset,
      highWatermark: log.highWatermark,
      minInsyncReplicas: log.currentConfig.minInsyncReplicas,
      replicaLagTimeMaxMs: this.options.settings.replicaLagTimeMaxMs,
      nowMs: this.nowMs(),
    });
    this.options.log.log('info', `leader:${replica.topic}-${replica.partition}:${leaderEpoch}`, { topic: replica.topic, partition: replica.partition, leaderEpoch, isr, logEndOffset: log.logEndOffset }, 'became leader');
    this.advanceHighWatermark(replica, log);
    if (!wasLeading) this.options.onLeadership?.(replica.topic, replica.partition, true);
  }

  private stopLeading(replica: Replica, reason: string): void {
    if (replica.leader === null) return;
    replica.leader = null;
    this.failAcksWaiters(replica, KafkaErrorCode.NOT_LEADER_OR_FOLLOWER);
    this.options.log.log('info', `resign:${replica.topic}-${replica.partition}`, { topic: replica.topic, partition: replica.partition, reason }, 'stopped leading');
    this.options.onLeadership?.(replica.topic, replica.partition, false);
  }

  private follow(replica: Replica): void {
    const { leader, leaderEpoch } = replica.state;
    if (leader === NO_LEADER) return this.stopFollowing(replica);
    if (replica.following?.leaderId === leader && replica.following.leaderEpoch === leaderEpoch) return;
    const endpoint = this.options.endpointOf(leader);
    if (endpoint === undefined) return this.stopFollowing(replica); // brokerJoined follows it later
    const { engine } = this.options;
    const { topic, partition } = replica;
    let log = engine.partitionLog(topic, partition);
    // The log the engine holds now: a move to another log dir (AlterReplicaLogDirs) swaps it for
    // a new Log object. Once the topic is gone, the last one (closed: the fetcher pauses on it).
    const current = (): Log => {
      try {
        return (log = engine.partitionLog(topic, partition));
      } catch {
        return log;
      }
    };
    const followed: FollowerPartition = {
      topic,
      partition,
      get log() {
        return current();
      },
      leaderEpoch,
      throttled: () => listsReplica(current().currentConfig.followerReplicationThrottledReplicas, partition, this.brokerId),
      // The ISR as the controller last wrote it: a follower it lists is never held back.
      inSync: () => replica.state.isr.includes(this.brokerId),
      truncateTo: (offset) => void engine.truncateTo(topic, partition, offset),
      truncateFullyAndStartAt: (offset) => engine.truncateFullyAndStartAt(topic, partition, offset),
    };
    this.options.fetchers.follow(endpoint, followed);
    replica.following = { leaderId: leader, leaderEpoch };
  }

  private stopFollowing(replica: Replica): void {
    if (replica.following === null) return;
    this.options.fetchers.unfollow(replica.topic, replica.partition);
    replica.following = null;
  }

  // ---- requests --------------------------------------------------------------------------------

  /**
   * The replica of a partition as a request sees it: UNKNOWN_TOPIC_OR_PARTITION when the cluster
   * has no such partition; FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH when the request's epoch is
   * older / newer than ours (Kafka's KIP-320 checks; NO_LEADER_EPOCH skips them).
   */
  private replica(topic: string, partition: number, currentLeaderEpoch: number): Replica {
    const replica = this.replicas.get(key(topic, partition));
    if (replica === undefined) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host this topic-partition: ${topic}-${partition}`);
    if (currentLeaderEpoch !== NO_LEADER_EPOCH) {
      const ours = replica.state.leaderEpoch;
      if (currentLeaderEpoch < ours) throw new SluiceError('FENCED_LEADER_EPOCH', `${topic}-${partition}: leader epoch ${currentLeaderEpoch} is older than the current ${ours}`);
      if (currentLeaderEpoch > ours) throw new SluiceError('UNKNOWN_LEADER_EPOCH', `${topic}-${partition}: leader epoch ${currentLeaderEpoch} is newer than this broker's ${ours}`);
    }
    return replica;
  }

  /** The log of a partition this broker leads, for a request with `currentLeaderEpoch`; else NOT_LEADER_OR_FOLLOWER (or the epoch errors). */
  leaderLog(topic: string, partition: number, currentLeaderEpoch = NO_LEADER_EPOCH): Log {
    const replica = this.replica(topic, partition, currentLeaderEpoch);
    if (replica.leader === null) {
      if (replica.state.leader === this.brokerId && this.offline.has(key(topic, partition))) this.options.engine.partitionLog(topic, partition); // KAFKA_STORAGE_ERROR
      throw new SluiceError('NOT_LEADER_OR_FOLLOWER', `This server is not the leader for ${topic}-${partition} (broker ${replica.state.leader} is, at epoch ${replica.state.leaderEpoch})`);
    }
    return this.options.engine.partitionLog(topic, partition);
  }

  /** replica.selector.class is set: followers serve consumers' fetches (KIP-392). */
  get followersServeConsumers(): boolean {
    return this.options.settings.replicaSelector === 'rack-aware';
  }

  /**
   * The log that a consumer's Fetch of v11+ naming its rack reads from `fetchOffset`: the
   * leader's; with replica.selector.class set (KIP-392), a follower's too, which serves up to its
   * own high watermark. NOT_LEADER_OR_FOLLOWER otherwise; the epoch errors as leaderLog gives them.
   *
   * Two differences from Kafka, whose followers serve every consumer's Fetch v11+ and answer an
   * offset past their log end with OFFSET_OUT_OF_RANGE:
   * - Followers serve only consumers that name a rack, and only with replica.selector.class set:
   *   the consumers a leader sends to them. Others come by stale metadata (the old leader,
   *   restarted) and are sent back to the leader, as before follower fetching. Served by such
   *   followers instead, @platformatic/kafka's group in test/cluster/failover.test.ts (no rack)
   *   went back to earlier offsets (polled offset 401, then 212, or then 0) and read hundreds of
   *   records again, in 4 of 7 runs.
   * - A follower whose log does not reach `fetchOffset` yet answers NOT_LEADER_OR_FOLLOWER, so the
   *   consumer goes back to the leader instead of resetting its position.
   */
  readableLog(topic: string, partition: number, currentLeaderEpoch: number, fetchOffset: number): Log {
    const replica = this.replica(topic, partition, currentLeaderEpoch);
    const log = this.options.engine.partitionLog(topic, partition);
    if (replica.leader !== null) return log;
    if (!this.followersServeConsumers || replica.following === null) return this.leaderLog(topic, partition, currentLeaderEpoch); // throws NOT_LEADER_OR_FOLLOWER
    if (fetchOffset > log.logEndOffset) {
      throw new SluiceError('NOT_LEADER_OR_FOLLOWER', `This follower of ${topic}-${partition} has records up to ${log.logEndOffset} only, not ${fetchOffset}: fetch from the leader (broker ${replica.state.leader})`);
    }
    return log;
  }

  /**
   * Where a consumer in `clientRack` should read a partition this broker leads, as Kafka's
   * RackAwareReplicaSelector chooses (KIP-392): among the leader and the in-sync followers whose
   * log reaches `fetchOffset`, those in the client's rack; the leader when it is one of them,
   * else the one with the most records (then the most recently caught up). -1 for the leader
   * itself, a client without a rack, no replica in its rack, or replica.selector.class unset.
   */
  preferredReadReplica(topic: string, partition: number, fetchOffset: number, clientRack: string | null): number {
    if (this.options.settings.replicaSelector !== 'rack-aware' || clientRack === null || clientRack === '') return -1;
    const leader = this.replicas.get(key(topic, partition))?.leader;
    if (leader === undefined || leader === null) return -1;
    if (this.options.endpointOf(this.brokerId)?.rack === clientRack) return -1;
    let chosen: { brokerId: number; logEndOffset: number; lastCaughtUpTimeMs: number } | undefined;
    for (const brokerId of leader.isr) {
      const follower = brokerId === this.brokerId ? undefined : leader.follower(brokerId);
      if (follower === undefined || follower.logEndOffset < fetchOffset || this.options.endpointOf(brokerId)?.rack !== clientRack) continue;
      const better =
        chosen === undefined ||
        follower.logEndOffset > chosen.logEndOffset ||
        (follower.logEndOffset === chosen.logEndOffset && follower.lastCaughtUpTimeMs > chosen.lastCaughtUpTimeMs);
      if (better) chosen = follower;
    }
    return chosen?.brokerId ?? -1;
  }

  /**
   * A Fetch that names a replica id reads past the high watermark and moves the ISR: only the
   * partition's other replicas may send one. NOT_LEADER_OR_FOLLOWER otherwise, as Kafka's
   * leader answers a fetch from a replica it does not know (Partition.followerReplicaOrThrow).
   */
  checkFollower(topic: string, partition: number, replicaId: number): void {
    const replica = this.replica(topic, partition, NO_LEADER_EPOCH);
    if (replicaId === this.brokerId || !replica.replicas.includes(replicaId)) {
      throw new SluiceError('NOT_LEADER_OR_FOLLOWER', `Broker ${replicaId} is not a follower of ${topic}-${partition} (replicas ${replica.replicas.join(',')})`);
    }
  }

  /**
   * How leader.replication.throttled.rate treats `replicaId`'s fetch of a partition this broker
   * leads (replication-quotas.ts): 'none' when leader.replication.throttled.replicas does not list
   * it here; 'count' when its bytes count against the rate; 'hold' when, besides, the follower is
   * out of the ISR and the rate is over the limit: its answer carries no records this time.
   */
  leaderThrottle(topic: string, partition: number, replicaId: number, log: Log): LeaderThrottle {
    const quota = this.options.leaderQuota;
    if (quota === undefined || !listsReplica(log.currentConfig.leaderReplicationThrottledReplicas, partition, this.brokerId)) return 'none';
    const inSync = this.replicas.get(key(topic, partition))?.leader?.isr.includes(replicaId) ?? false;
    if (!inSync && quota.exceeded()) {
      quota.held();
      return 'hold';
    }
    return 'count';
  }

  /** Bytes sent to followers for partitions leaderThrottle counted. */
  countLeaderThrottled(bytes: number): void {
    this.options.leaderQuota?.record(bytes);
  }

  /** The log of any replica this broker holds, leader or follower (Kafka's debugging replica id -2 reads these). */
  localLog(topic: string, partition: number): Log {
    const replica = this.replica(topic, partition, NO_LEADER_EPOCH);
    if (!replica.replicas.includes(this.brokerId)) throw new SluiceError('NOT_LEADER_OR_FOLLOWER', `This server holds no replica of ${topic}-${partition}`);
    return this.options.engine.partitionLog(topic, partition);
  }

  /** The leader epoch this broker knows for a partition it holds, or undefined. */
  leaderEpochOf(topic: string, partition: number): number | undefined {
    return this.replicas.get(key(topic, partition))?.state.leaderEpoch;
  }

  /**
   * Produce as leader: NOT_ENOUGH_REPLICAS before appending when acks=all finds the ISR below
   * min.insync.replicas; the append stamped with the leader epoch; for acks=all, the wait until
   * the high watermark covers the batch (REQUEST_TIMED_OUT after `timeoutMs`; the batch stays
   * in the log, as in Kafka, and the producer's retry is deduplicated when it is idempotent).
   */
  async appendAsLeader(topic: string, partition: number, records: Buffer, acks: number, timeoutMs: number, origin: AppendOrigin = 'client'): Promise<AppendResult> {
    const { result, replicated } = await this.appendAsLeaderThenReplicate(topic, partition, records, acks, timeoutMs, origin);
    if (replicated !== null) throwIfNotReplicated(await replicated, topic, partition, timeoutMs);
    return result;
  }

  /**
   * appendAsLeader in its two steps, as Kafka's ReplicaManager.appendRecords and its DelayedProduce:
   * the append, and for acks=all the wait for the ISR as a promise of its error code (NONE once the
   * high watermark covers the batch; never rejects). A Produce request appends to every partition
   * first and then waits for them all, and its connection may go on to the next request meanwhile.
   */
  async appendAsLeaderThenReplicate(
    topic: string,
    partition: number,
    records: Buffer,
    acks: number,
    timeoutMs: number,
    origin: AppendOrigin = 'client',
  ): Promise<{ result: AppendResult; replicated: Promise<number> | null }> {
    const replica = this.replica(topic, partition, NO_LEADER_EPOCH);
    const leader = replica.leader;
    if (leader === null) this.leaderLog(topic, partition); // throws NOT_LEADER_OR_FOLLOWER
    const log = this.options.engine.partitionLog(topic, partition);
    leader!.setMinInsyncReplicas(log.currentConfig.minInsyncReplicas);
    if (acks === -1 && leader!.checkEnoughReplicasBeforeAppend() !== KafkaErrorCode.NONE) {
      throw new SluiceError('NOT_ENOUGH_REPLICAS', `${topic}-${partition}: the ISR [${leader!.isr.join(',')}] is smaller than min.insync.replicas ${log.currentConfig.minInsyncReplicas}`);
    }
    const result = await this.options.engine.appendBatches(topic, partition, records, { leaderEpoch: replica.state.leaderEpoch, origin });
    this.advanceHighWatermark(replica, log);
    if (acks !== -1) return { result, replicated: null };
    return { result, replicated: this.waitForHighWatermark(replica, result.lastOffset + 1, timeoutMs) };
  }

  private waitForHighWatermark(replica: Replica, requiredOffset: number, timeoutMs: number): Promise<number> {
    const immediate = replica.leader?.acksAllOutcome(requiredOffset);
    if (replica.leader === null) return Promise.resolve(KafkaErrorCode.NOT_LEADER_OR_FOLLOWER);
    if (immediate !== null && immediate !== undefined) return Promise.resolve(immediate);
    return new Promise((resolve) => {
      const waiter: AcksWaiter = {
        requiredOffset,
        done: (code) => {
          clearTimeout(timer);
          replica.acksWaiters.delete(waiter);
          resolve(code);
        },
      };
      const timer = setTimeout(() => waiter.done(KafkaErrorCode.REQUEST_TIMED_OUT), Math.max(0, timeoutMs));
      replica.acksWaiters.add(waiter);
    });
  }

  private failAcksWaiters(replica: Replica, code: number): void {
    for (const waiter of [...replica.acksWaiters]) waiter.done(code);
  }

  /**
   * A follower fetched from `fetchOffset` (its LEO): the leader's view of it, the high watermark,
   * and an ISR expansion when it has caught up. Called before the fetch reads, as Kafka does.
   */
  recordFollowerFetch(topic: string, partition: number, replicaId: number, fetchOffset: number): void {
    const replica = this.replicas.get(key(topic, partition));
    if (replica?.leader == null || !replica.replicas.includes(replicaId)) return;
    const log = this.options.engine.partitionLog(topic, partition);
    replica.leader.recordFollowerFetch(replicaId, fetchOffset, log.logEndOffset, this.nowMs());
    this.advanceHighWatermark(replica, log);
    const alive = new Set(replica.replicas.filter((id) => id === this.brokerId || this.options.endpointOf(id) !== undefined));
    const change = replica.leader.proposeExpansion(alive);
    if (change !== null) this.commitIsr(replica, change);
  }

  /** Moves the log's high watermark to the leader's, then wakes consumers and acks=all writers. */
  private advanceHighWatermark(replica: Replica, log: Log): void {
    const leader = replica.leader;
    if (leader === null) return;
    const hw = leader.advanceHighWatermark(log.logEndOffset);
    if (log.maybeIncrementHighWatermark(hw)) this.options.onHighWatermark(replica.topic, replica.partition);
    for (const waiter of [...replica.acksWaiters]) {
      const outcome = leader.acksAllOutcome(waiter.requiredOffset);
      if (outcome !== null) waiter.done(outcome);
    }
  }

  private shrinkIsrs(): void {
    const nowMs = this.nowMs();
    for (const replica of this.replicas.values()) {
      if (replica.leader === null) continue;
      const log = this.options.engine.partitionLog(replica.topic, replica.partition);
      const change = replica.leader.proposeShrink(log.logEndOffset, nowMs);
      if (change !== null) this.commitIsr(replica, change);
    }
  }

  /** Writes an ISR change as a compare-and-set on the partition epoch; a deposed leader's write fails. */
  private commitIsr(replica: Replica, change: IsrChange): void {
    const { topic, partition } = replica;
    const { leaderEpoch, partitionEpoch } = replica.state;
    const leader = replica.leader!;
    this.options.log.log('info', `isr:${topic}-${partition}`, { topic, partition, isr: change.isr, reason: change.reason }, 'changing the ISR');
    this.options
      .alterPartition({ topic, partition, brokerId: this.brokerId, leaderEpoch, partitionEpoch, newIsr: change.isr })
      .then((record) => {
        if (replica.leader !== leader) return;
        // The watch may have delivered this state first; applyState ignores the older of the two.
        this.applyState(topic, partition, replica.replicas, record);
      })
      .catch((error: unknown) => {
        if (replica.leader === leader) leader.isrRefused();
        // A newer state (another ISR write, a new leader) raced this one: expected, and the watch brings it.
        const raced = error instanceof SluiceError && (error.code === 'FENCED_LEADER_EPOCH' || error.code === 'INVALID_UPDATE_VERSION' || error.code === 'INELIGIBLE_REPLICA');
        this.options.log.log(raced ? 'info' : 'warn', `isr-refused:${topic}-${partition}`, { topic, partition, isr: change.isr, error: String(error) }, 'ISR change refused');
      });
  }

  // ---- views -----------------------------------------------------------------------------------

  /** Partitions this broker leads now. */
  ledPartitions(): Array<{ topic: string; partition: number }> {
    const led = [];
    for (const replica of this.replicas.values()) if (replica.leader !== null) led.push({ topic: replica.topic, partition: replica.partition });
    return led;
  }

  /** Whether this broker is one of the partition's replicas (every broker keeps a log of every partition; only these are replicas). */
  holdsReplica(topic: string, partition: number): boolean {
    return this.replicas.get(key(topic, partition))?.replicas.includes(this.brokerId) ?? false;
  }

  isLeader(topic: string, partition: number): boolean {
    return this.replicas.get(key(topic, partition))?.leader != null;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.isrTimer);
    for (const replica of this.replicas.values()) {
      this.failAcksWaiters(replica, KafkaErrorCode.NOT_LEADER_OR_FOLLOWER);
      replica.leader = null;
    }
  }
}

/** Throws the error of an acks=all wait (appendAsLeaderThenReplicate) that did not end in NONE. */
export function throwIfNotReplicated(code: number, topic: string, partition: number, timeoutMs: number): void {
  if (code === KafkaErrorCode.REQUEST_TIMED_OUT) {
    throw new SluiceError('REQUEST_TIMED_OUT', `${topic}-${partition}: the ISR did not replicate the batch within ${timeoutMs} ms`);
  }
  throwIfError(code, `${topic}-${partition} acks=all`);
}
