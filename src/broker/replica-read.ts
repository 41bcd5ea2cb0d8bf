// How a leader reads a partition for a Fetch, by who is fetching (Kafka's FetchParams and
// Partition.fetchRecords): a consumer (replica id -1) reads up to the high watermark; a follower
// (replica id >= 0) reads up to the log end offset, since copying what is not committed yet is how
// it gets committed. Before a follower's read, the epoch of its last fetched batch is checked
// against this log's history (truncation on fetch, Fetch v12+): when that epoch ends before the
// follower's fetch offset here, or this log never had it, the answer is DivergingEpoch
// {epoch, endOffset} and no records, sent at once, and the follower truncates (replica-fetcher.ts).
// Each follower's fetch is returned as well: its fetch offset is its log end offset, which is what
// a replica manager tracks to move the high watermark and the ISR.
import type { FetchRequestBody } from '../protocol/index.js';
import type { Log } from '../storage/log.js';
import { divergingEpoch, type EpochEndOffset } from './replica-divergence.js';

/** Kafka's CONSUMER_REPLICA_ID: the request comes from a client, not a broker. */
export const CONSUMER_REPLICA_ID = -1;

/** Who fetches: v0-14 carry the replica id at the top level, v15+ in the tagged ReplicaState (KIP-903). */
export function fetchReplicaId(request: FetchRequestBody, apiVersion: number): number {
  return apiVersion >= 15 ? request.replicaState.replicaId : request.replicaId;
}

/** A follower fetched a partition: what a replica manager learns of it. */
export interface FollowerFetch {
  replicaId: number;
  topic: string;
  partition: number;
  /** The follower's log end offset (a follower fetches from its LEO). */
  fetchOffset: number;
  /** The epoch of the last batch the follower holds, or -1. */
  lastFetchedEpoch: number;
  /** This log's end offset as the fetch was read: a follower fetching from it is caught up. */
  leaderLogEndOffset: number;
}

export interface PartitionReadPlan {
  /** Read batches below this offset only: the high watermark for a consumer, the LEO for a follower. */
  maxOffset: number;
  /** Set: answer it with no records, at once. */
  divergingEpoch: EpochEndOffset | null;
  /**
   * Set for a follower's fetch whose log agrees with ours up to its fetch offset: only then is its
   * fetch offset its LEO on our history (Kafka updates a follower's state only without divergence;
   * a diverging follower's offset counts records it is about to truncate).
   */
  follower: FollowerFetch | null;
}

/** What to read of `log` for one partition of a Fetch from `replicaId`. */
export function planPartitionRead(
  log: Log,
  replicaId: number,
  topic: string,
  partition: number,
  fetchOffset: number,
  lastFetchedEpoch: number,
): PartitionReadPlan {
  if (replicaId < 0) return { maxOffset: log.highWatermark, divergingEpoch: null, follower: null };
  const logEndOffset = log.logEndOffset;
  const follower = { replicaId, topic, partition, fetchOffset, lastFetchedEpoch, leaderLogEndOffset: logEndOffset };
  // A log without an epoch history is an unreplicated broker's: the epochs in its batches are the
  // producers' (0 from kafkajs, -1 from Java), so there is nothing to compare with.
  if (log.latestEpoch < 0) return { maxOffset: logEndOffset, divergingEpoch: null, follower: fetchOffset <= logEndOffset ? follower : null };
  const diverging = divergingEpoch({ endOffsetFor: (epoch) => log.endOffsetForEpoch(epoch) }, fetchOffset, lastFetchedEpoch);
  // A follower ahead of our log end has records we never had: not caught up, whatever its offset says.
  if (diverging === null) return { maxOffset: logEndOffset, divergingEpoch: null, follower: fetchOffset <= logEndOffset ? follower : null };
  // The follower's epoch is newer than any here (a deposed leader answering): the wire cannot say
  // so, since a DivergingEpoch of epoch -1 is its default and is left out, as in Kafka. No records
  // then, and the fetch waits out its max wait rather than send the follower straight back.
  if (diverging.epoch < 0) return { maxOffset: fetchOffset, divergingEpoch: null, follower: null };
  return { maxOffset: logEndOffset, divergingEpoch: diverging, follower: null };
}
