// Where a follower's log parts from its leader's, by leader epochs (KIP-101, KIP-279), decided on
// both sides of a replica Fetch (v12+), as Kafka decides it:
//   - the leader, given the follower's fetch offset and the epoch of its last fetched batch, answers
//     DivergingEpoch {epoch, endOffset} when that epoch ends, in the leader's history, before the
//     fetch offset (or the leader never had it), instead of records (Partition.fetchRecords);
//   - the follower, given a DivergingEpoch, truncates to where both histories agree and, when it
//     did not know the leader's epoch, fetches again from there for the next answer
//     (AbstractFetcherThread.getOffsetTruncationState).
// Never to the high watermark alone: truncating to the HW after a double restart is what lost
// acknowledged records before KIP-101. Pure functions over an epoch history (the log's
// leader-epoch cache answers endOffsetFor).

/** Kafka's OffsetForLeaderEpoch answer: the largest epoch <= the requested one and where it ends. */
export interface EpochEndOffset {
  epoch: number;
  endOffset: number;
}

/** Kafka's UNDEFINED_EPOCH / UNDEFINED_EPOCH_OFFSET. */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_OFFSET = -1;

export interface EpochHistory {
  /** The largest epoch <= `epoch` and the start of the next one (or the LEO); UNDEFINED when none is <= `epoch`. */
  endOffsetFor(epoch: number): EpochEndOffset;
}

/**
 * Leader side: the DivergingEpoch for a follower that fetches from `fetchOffset` after a batch of
 * `lastFetchedEpoch`, or null when its log agrees with ours up to the fetch offset.
 */
export function divergingEpoch(leader: EpochHistory, fetchOffset: number, lastFetchedEpoch: number): EpochEndOffset | null {
  if (lastFetchedEpoch < 0) return null; // a follower that has fetched nothing yet: nothing to compare
  const end = leader.endOffsetFor(lastFetchedEpoch);
  if (end.endOffset === UNDEFINED_OFFSET || end.epoch < lastFetchedEpoch || end.endOffset < fetchOffset) return end;
  return null;
}

export interface Truncation {
  /** Truncate the log to this offset (records from it on are removed). */
  offset: number;
  /** False: the follower did not know the leader's epoch; it fetches again from `offset` for another answer. */
  completed: boolean;
}

/**
 * Follower side: where to truncate given the leader's answer for our last fetched epoch.
 * `highWatermark` is the fallback only when the leader cannot say (UNDEFINED end offset).
 */
export function truncationFor(follower: EpochHistory, followerLogEndOffset: number, highWatermark: number, leader: EpochEndOffset): Truncation {
  if (leader.endOffset === UNDEFINED_OFFSET) return { offset: Math.min(highWatermark, followerLogEndOffset), completed: true };
  if (leader.epoch === UNDEFINED_EPOCH) return { offset: Math.min(leader.endOffset, followerLogEndOffset), completed: true };
  const ours = follower.endOffsetFor(leader.epoch);
  if (ours.endOffset === UNDEFINED_OFFSET) {
    // We have no epoch as old as the leader's answer: its end offset is the safe point.
    return { offset: Math.min(leader.endOffset, followerLogEndOffset), completed: true };
  }
  if (ours.epoch !== leader.epoch) {
    // We never had the leader's epoch: cut back to the end of our last epoch before it and ask again.
    return { offset: Math.min(ours.endOffset, followerLogEndOffset), completed: false };
  }
  return { offset: Math.min(ours.endOffset, leader.endOffset, followerLogEndOffset), completed: true };
}
