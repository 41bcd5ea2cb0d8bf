// What the leader of one partition knows about its followers, and the decisions Kafka's Partition
// and Replica make from it: each follower's log end offset and last caught-up time (from its
// fetches), the high watermark (min LEO over the ISR), which followers to take into or out of the
// ISR, and whether an acks=all write is covered. No I/O and no clock of its own: the replica
// manager feeds it fetches and the time, applies the ISR changes it proposes through the cluster's
// compare-and-set (AlterPartition-style), and moves the log's high watermark to what it answers.
//
// The rules, from Kafka (core/src/main/scala/kafka/cluster/{Partition,Replica}.scala):
// - A follower's fetch offset is its LEO. It is caught up at the fetch's time when that offset
//   reaches the leader's LEO as it was when the fetch was served; a fetch that reaches the leader's
//   LEO of the previous fetch means it was caught up at the previous fetch's time.
// - HW = min LEO over the ISR, the leader included, and over replicas whose join is in flight
//   (the "maximal ISR", so the HW never goes back when the join commits). It never moves backwards,
//   and (KAFKA-15583) does not advance while the ISR is smaller than min.insync.replicas.
// - Shrink: a follower in the ISR whose LEO is behind the leader's and that has not been caught up
//   for replica.lag.time.max.ms. Expand: a follower out of the ISR whose LEO reaches the HW and the
//   start offset of the leader's current epoch.
// - acks=all: refused before the append (NOT_ENOUGH_REPLICAS) while the ISR is below
//   min.insync.replicas; answered once the HW covers the batch, with NOT_ENOUGH_REPLICAS_AFTER_APPEND
//   if the ISR has shrunk below min.insync.replicas by then.
import { KafkaErrorCode } from '../errors.js';

export interface FollowerState {
  brokerId: number;
  /** The follower's log end offset: the offset of its last fetch. -1 before its first fetch. */
  logEndOffset: number;
  /** When it was last known to have every record the leader had. 0: never. */
  lastCaughtUpTimeMs: number;
  /** The leader's LEO and the time at the follower's previous fetch. */
  lastFetchLeaderLogEndOffset: number;
  lastFetchTimeMs: number;
}

export interface PartitionLeaderOptions {
  leaderId: number;
  /** Every replica of the partition, the leader included, in assignment order. */
  replicas: readonly number[];
  /** The committed ISR (the leader included). */
  isr: readonly number[];
  /** The first offset of the leader's current epoch (its LEO when it became leader). */
  leaderEpochStartOffset: number;
  /** The high watermark the leader starts from (its checkpointed or follower-time HW). */
  highWatermark: number;
  minInsyncReplicas: number;
  replicaLagTimeMaxMs: number;
  /** When this broker became leader: followers in the ISR count as caught up then, as in Kafka. */
  nowMs: number;
}

/** An ISR change to commit through the cluster metadata (AlterPartition). */
export interface IsrChange {
  isr: number[];
  reason: string;
}

export class PartitionLeader {
  readonly leaderId: number;
  private readonly followers = new Map<number, FollowerState>();
  private committedIsr: number[];
  /** An ISR change sent and not yet committed or refused: nothing else is proposed meanwhile. */
  private pendingIsr: number[] | null = null;
  private hw: number;
  private readonly leaderEpochStartOffset: number;
  private minInsyncReplicas: number;
  private readonly replicaLagTimeMaxMs: number;

  constructor(options: PartitionLeaderOptions) {
    this.leaderId = options.leaderId;
    this.committedIsr = [...options.isr];
    this.hw = options.highWatermark;
    this.leaderEpochStartOffset = options.leaderEpochStartOffset;
    this.minInsyncReplicas = options.minInsyncReplicas;
    this.replicaLagTimeMaxMs = options.replicaLagTimeMaxMs;
    for (const brokerId of options.replicas) {
      if (brokerId === options.leaderId) continue;
      // Kafka's resetReplicaState on becoming leader: an ISR member is taken as caught up at the
      // election, with the leader's LEO of then; any other follower has never been.
      const inSync = options.isr.includes(brokerId);
      this.followers.set(brokerId, {
        brokerId,
        logEndOffset: -1,
        lastCaughtUpTimeMs: inSync ? options.nowMs : 0,
        lastFetchLeaderLogEndOffset: options.leaderEpochStartOffset,
        lastFetchTimeMs: inSync ? options.nowMs : 0,
      });
    }
  }

  get highWatermark(): number {
    return this.hw;
  }

  get isr(): readonly number[] {
    return this.committedIsr;
  }

  /** The committed ISR plus a join in flight: what the HW waits for. */
  get maximalIsr(): readonly number[] {
    return this.pendingIsr !== null && this.pendingIsr.length > this.committedIsr.length ? this.pendingIsr : this.committedIsr;
  }

  get isrChangePending(): boolean {
    return this.pendingIsr !== null;
  }

  follower(brokerId: number): Readonly<FollowerState> | undefined {
    return this.followers.get(brokerId);
  }

  /**
   * The partition's replicas changed at this leader epoch (a reassignment, partition-reassignment.ts):
   * a replica joining starts as a follower that has never been caught up, and one leaving is
   * forgotten (the controller takes it out of the ISR in the same write).
   */
  setReplicas(replicas: readonly number[]): void {
    for (const brokerId of [...this.followers.keys()]) if (!replicas.includes(brokerId)) this.followers.delete(brokerId);
    for (const brokerId of replicas) {
      if (brokerId === this.leaderId || this.followers.has(brokerId)) continue;
      this.followers.set(brokerId, { brokerId, logEndOffset: -1, lastCaughtUpTimeMs: 0, lastFetchLeaderLogEndOffset: this.leaderEpochStartOffset, lastFetchTimeMs: 0 });
    }
  }

  setMinInsyncReplicas(value: number): void {
    this.minInsyncReplicas = value;
  }

  /**
   * A follower fetched from `fetchOffset` at `nowMs`, when the leader's LEO was `leaderLogEndOffset`.
   * Returns the high watermark after it (the replica manager moves the log's HW there).
   */
  recordFollowerFetch(brokerId: number, fetchOffset: number, leaderLogEndOffset: number, nowMs: number): number {
    const follower = this.followers.get(brokerId);
    if (follower === undefined) return this.hw;
    if (fetchOffset >= leaderLogEndOffset) {
      follower.lastCaughtUpTimeMs = Math.max(follower.lastCaughtUpTimeMs, nowMs);
    } else if (fetchOffset >= follower.lastFetchLeaderLogEndOffset) {
      follower.lastCaughtUpTimeMs = Math.max(follower.lastCaughtUpTimeMs, follower.lastFetchTimeMs);
    }
    follower.logEndOffset = fetchOffset;
    follower.lastFetchLeaderLogEndOffset = leaderLogEndOffset;
    follower.lastFetchTimeMs = nowMs;
    return this.advanceHighWatermark(leaderLogEndOffset);
  }

  /**
   * Recomputes the HW from the LEOs of the maximal ISR (the leader's is `leaderLogEndOffset`).
   * Returns the new HW; it never goes back.
   */
  advanceHighWatermark(leaderLogEndOffset: number): number {
    if (this.committedIsr.length < this.minInsyncReplicas) return this.hw;
    let candidate = leaderLogEndOffset;
    for (const brokerId of this.maximalIsr) {
      if (brokerId === this.leaderId) continue;
      const follower = this.followers.get(brokerId);
      candidate = Math.min(candidate, follower === undefined ? -1 : follower.logEndOffset);
    }
    if (candidate > this.hw) this.hw = candidate;
    return this.hw;
  }

  /** Followers out of the ISR that have caught up: the ISR to propose, or null. */
  proposeExpansion(aliveBrokers: ReadonlySet<number>): IsrChange | null {
    if (this.pendingIsr !== null) return null;
    const joining = [...this.followers.values()].filter(
      (f) => !this.committedIsr.includes(f.brokerId) && aliveBrokers.has(f.brokerId) && f.logEndOffset >= this.hw && f.logEndOffset >= this.leaderEpochStartOffset,
    );
    if (joining.length === 0) return null;
    const isr = [...this.committedIsr, ...joining.map((f) => f.brokerId)];
    this.pendingIsr = isr;
    return { isr, reason: `${joining.map((f) => f.brokerId).join(',')} caught up to the high watermark ${this.hw}` };
  }

  /** Followers in the ISR that fell behind for replica.lag.time.max.ms: the ISR to propose, or null. */
  proposeShrink(leaderLogEndOffset: number, nowMs: number): IsrChange | null {
    if (this.pendingIsr !== null) return null;
    const lagging = this.committedIsr.filter((brokerId) => {
      if (brokerId === this.leaderId) return false;
      const follower = this.followers.get(brokerId);
      if (follower === undefined) return true;
      return follower.logEndOffset !== leaderLogEndOffset && nowMs - follower.lastCaughtUpTimeMs > this.replicaLagTimeMaxMs;
    });
    if (lagging.length === 0) return null;
    const isr = this.committedIsr.filter((brokerId) => !lagging.includes(brokerId));
    this.pendingIsr = isr;
    return { isr, reason: `${lagging.join(',')} not caught up for more than ${this.replicaLagTimeMaxMs} ms` };
  }

  /** The cluster committed the proposed (or another) ISR. */
  isrCommitted(isr: readonly number[]): void {
    this.committedIsr = [...isr];
    this.pendingIsr = null;
  }

  /** The proposal was refused (a stale partition epoch): the next check proposes again. */
  isrRefused(): void {
    this.pendingIsr = null;
  }

  /** Before an acks=all append: Kafka's NOT_ENOUGH_REPLICAS check, or NONE. */
  checkEnoughReplicasBeforeAppend(): number {
    return this.committedIsr.length < this.minInsyncReplicas ? KafkaErrorCode.NOT_ENOUGH_REPLICAS : KafkaErrorCode.NONE;
  }

  /**
   * Whether an acks=all write ending before `requiredOffset` is done: null while the HW does not
   * cover it; NONE when it does; NOT_ENOUGH_REPLICAS_AFTER_APPEND when it does but the ISR has
   * meanwhile shrunk below min.insync.replicas.
   */
  acksAllOutcome(requiredOffset: number): number | null {
    if (this.hw < requiredOffset) return null;
    return this.committedIsr.length < this.minInsyncReplicas ? KafkaErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND : KafkaErrorCode.NONE;
  }
}
