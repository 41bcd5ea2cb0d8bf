// Where a follower's log parts from its leader's (issue 8, unit level): the KIP-101 and KIP-279
// scenarios, with epoch histories written out as Kafka's papers draw them.
import { describe, expect, it } from 'vitest';

import { divergingEpoch, truncationFor, UNDEFINED_EPOCH, UNDEFINED_OFFSET, type EpochEndOffset, type EpochHistory } from '../../src/broker/replica-divergence.js';

/** A replica: its epochs as [epoch, startOffset] in order, and its LEO. */
function replica(epochs: Array<[number, number]>, logEndOffset: number): EpochHistory & { logEndOffset: number } {
  return {
    logEndOffset,
    endOffsetFor(epoch: number): EpochEndOffset {
      let found = -1;
      for (let i = 0; i < epochs.length; i++) if (epochs[i]![0] <= epoch) found = i;
      if (found < 0) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_OFFSET };
      const next = epochs[found + 1];
      return { epoch: epochs[found]![0], endOffset: next ? next[1] : logEndOffset };
    },
  };
}

/** What a follower does on the fetch path until the leader has nothing more to say. */
function reconcile(leader: ReturnType<typeof replica>, follower: ReturnType<typeof replica>, followerEpochs: Array<[number, number]>, hw: number): number {
  let leo = follower.logEndOffset;
  for (let round = 0; round < 10; round++) {
    const lastEpoch = replica(followerEpochs, leo).endOffsetFor(Number.MAX_SAFE_INTEGER).epoch;
    const diverging = divergingEpoch(leader, leo, lastEpoch);
    if (diverging === null) return leo;
    const truncation = truncationFor(replica(followerEpochs, leo), leo, hw, diverging);
    leo = truncation.offset;
    while (followerEpochs.length > 0 && followerEpochs.at(-1)![1] >= leo && followerEpochs.length > 1) followerEpochs.pop();
  }
  throw new Error('no agreement after 10 rounds');
}

describe('the leader answers DivergingEpoch', () => {
  const leader = replica([[0, 0], [2, 100], [4, 150]], 200);

  it('not when the follower agrees up to its fetch offset', () => {
    expect(divergingEpoch(leader, 120, 2)).toBeNull();
    expect(divergingEpoch(leader, 200, 4)).toBeNull();
    expect(divergingEpoch(leader, 0, -1)).toBeNull(); // nothing fetched yet
  });

  it('when the follower\'s last epoch ended earlier in the leader\'s history, or the leader never had it', () => {
    expect(divergingEpoch(leader, 130, 0)).toEqual({ epoch: 0, endOffset: 100 });
    expect(divergingEpoch(leader, 160, 3)).toEqual({ epoch: 2, endOffset: 150 }); // the leader never had epoch 3
  });
});

describe('the follower truncates', () => {
  it('KIP-101: after a double restart it keeps what the leader has, not only its HW', () => {
    // A and B both have offsets 0 and 1 of epoch 0; B's HW is still 1 when both restart and B leads
    // (epoch 1). Truncating to the HW would drop offset 1, which A then never sends back: lost.
    const leader = replica([[0, 0], [1, 2]], 2);
    const follower = replica([[0, 0]], 2);
    expect(divergingEpoch(leader, 2, 0)).toBeNull(); // epoch 0 ends at 2 for both: nothing to cut
    expect(truncationFor(follower, 2, 1, { epoch: 0, endOffset: 2 })).toEqual({ offset: 2, completed: true });
  });

  it('KIP-101: a follower with an extra record of an old epoch cuts exactly it', () => {
    // The follower wrote offset 1 in epoch 0 that the new leader (epoch 1) never got.
    const leader = replica([[0, 0], [1, 1]], 3);
    const follower = replica([[0, 0]], 2);
    const diverging = divergingEpoch(leader, 2, 0)!;
    expect(diverging).toEqual({ epoch: 0, endOffset: 1 });
    expect(truncationFor(follower, 2, 0, diverging)).toEqual({ offset: 1, completed: true });
  });

  it('KIP-279: after fast successive failovers the replicas converge in a few rounds', () => {
    // Epochs 1 and 2 were each led briefly by different brokers; the follower has epoch 1's tail,
    // the leader skipped straight from epoch 0 to epoch 2.
    const leader = replica([[0, 0], [2, 10]], 15);
    const followerEpochs: Array<[number, number]> = [[0, 0], [1, 8]];
    const follower = replica(followerEpochs, 12);
    // First answer: the leader's largest epoch <= 1 is 0, ending at 10; the follower knows epoch 0
    // (ending at 8 for it): cut to 8.
    const diverging = divergingEpoch(leader, 12, 1)!;
    expect(diverging).toEqual({ epoch: 0, endOffset: 10 });
    expect(truncationFor(follower, 12, 5, diverging)).toEqual({ offset: 8, completed: true });
    expect(reconcile(leader, follower, followerEpochs, 5)).toBe(8);
  });

  it('KIP-279: a follower that never had the leader\'s epoch cuts to its own older epoch and asks again', () => {
    const leader = replica([[0, 0], [3, 20]], 30);
    const followerEpochs: Array<[number, number]> = [[0, 0], [1, 12], [2, 18]];
    const follower = replica(followerEpochs, 25);
    // The leader answers epoch 0 up to 20 for the follower's epoch 2; the follower knows epoch 0
    // only up to 12.
    expect(truncationFor(follower, 25, 5, { epoch: 0, endOffset: 20 })).toEqual({ offset: 12, completed: true });
    // An answer of an epoch the follower skipped: cut back to the end of its epoch before it, again.
    expect(truncationFor(replica([[0, 0], [2, 18]], 25), 25, 5, { epoch: 1, endOffset: 22 })).toEqual({ offset: 18, completed: false });
    expect(reconcile(leader, follower, followerEpochs, 5)).toBe(12);
  });

  it('falls back to the HW only when the leader cannot say', () => {
    expect(truncationFor(replica([[0, 0]], 9), 9, 4, { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_OFFSET })).toEqual({ offset: 4, completed: true });
  });
});
