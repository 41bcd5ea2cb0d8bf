// The leader's view of its followers (issue 8, unit level): ISR, HW and acks=all transitions as
// Kafka's Partition and Replica make them, driven by fetches and a clock the test moves.
import { describe, expect, it } from 'vitest';

import { KafkaErrorCode } from '../../src/errors.js';
import { PartitionLeader } from '../../src/broker/partition-leader.js';

const LAG_MS = 30_000;

function leader(overrides: Partial<ConstructorParameters<typeof PartitionLeader>[0]> = {}): PartitionLeader {
  return new PartitionLeader({
    leaderId: 1,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
    leaderEpochStartOffset: 0,
    highWatermark: 0,
    minInsyncReplicas: 2,
    replicaLagTimeMaxMs: LAG_MS,
    nowMs: 0,
    ...overrides,
  });
}

describe('the high watermark', () => {
  it('is the minimum LEO over the ISR, the leader included, and never goes back', () => {
    const partition = leader();
    expect(partition.recordFollowerFetch(2, 10, 10, 1000)).toBe(0); // 3 has not fetched yet
    expect(partition.recordFollowerFetch(3, 7, 10, 1000)).toBe(7);
    expect(partition.recordFollowerFetch(3, 10, 12, 1001)).toBe(10);
    expect(partition.advanceHighWatermark(12)).toBe(10); // 2 and 3 are at 10, the leader at 12
    // A follower that truncated and fetches from lower does not move the HW back.
    expect(partition.recordFollowerFetch(2, 5, 12, 1002)).toBe(10);
  });

  it('does not advance while the ISR is below min.insync.replicas (KAFKA-15583)', () => {
    const partition = leader({ isr: [1], minInsyncReplicas: 2 });
    expect(partition.advanceHighWatermark(20)).toBe(0);
    partition.isrCommitted([1, 2]);
    partition.recordFollowerFetch(2, 20, 20, 1000);
    expect(partition.highWatermark).toBe(20);
  });

  it('waits for a follower whose join is in flight (the maximal ISR)', () => {
    const partition = leader({ isr: [1, 2], highWatermark: 10 });
    partition.recordFollowerFetch(2, 15, 15, 1000);
    partition.recordFollowerFetch(3, 12, 15, 1000);
    expect(partition.highWatermark).toBe(15);
    // 3 reached the HW once it is at 15: its join goes out, and the HW waits for it from then on.
    partition.recordFollowerFetch(3, 15, 15, 1001);
    const change = partition.proposeExpansion(new Set([1, 2, 3]));
    expect(change?.isr).toEqual([1, 2, 3]);
    partition.recordFollowerFetch(2, 18, 18, 1002);
    expect(partition.advanceHighWatermark(18)).toBe(15);
    partition.isrCommitted(change!.isr);
    partition.recordFollowerFetch(3, 18, 18, 1003);
    expect(partition.highWatermark).toBe(18);
  });
});

describe('the ISR', () => {
  it('drops a follower that has not caught up for replica.lag.time.max.ms, keeps one that has', () => {
    // Leader since 1000 with its LEO at 100: the ISR members count as caught up then.
    const partition = leader({ nowMs: 1000, leaderEpochStartOffset: 100 });
    partition.recordFollowerFetch(2, 100, 100, 1000);
    partition.recordFollowerFetch(3, 50, 100, 1000);
    expect(partition.proposeShrink(100, 1000 + LAG_MS)).toBeNull(); // exactly the limit: not yet
    const change = partition.proposeShrink(100, 1001 + LAG_MS);
    expect(change?.isr).toEqual([1, 2]);
    expect(partition.proposeShrink(100, 2000 + LAG_MS)).toBeNull(); // one change at a time
    partition.isrCommitted(change!.isr);
    expect(partition.isr).toEqual([1, 2]);
  });

  it('counts a follower as caught up at its previous fetch when it reaches the leader LEO of then', () => {
    const partition = leader();
    partition.recordFollowerFetch(2, 100, 100, 1000);
    partition.recordFollowerFetch(2, 100, 120, 5000); // behind the new LEO, but at the previous one
    expect(partition.follower(2)!.lastCaughtUpTimeMs).toBe(1000);
    partition.recordFollowerFetch(2, 120, 150, 9000); // reached the LEO of its previous fetch
    expect(partition.follower(2)!.lastCaughtUpTimeMs).toBe(5000);
    partition.recordFollowerFetch(2, 150, 150, 9500);
    expect(partition.follower(2)!.lastCaughtUpTimeMs).toBe(9500);
  });

  it('takes back a live follower that reached the HW and the start of the leader epoch', () => {
    const partition = leader({ isr: [1, 2], leaderEpochStartOffset: 40, highWatermark: 30 });
    partition.recordFollowerFetch(3, 35, 50, 1000); // past the HW, not yet at the epoch's start
    expect(partition.proposeExpansion(new Set([1, 2, 3]))).toBeNull();
    partition.recordFollowerFetch(3, 45, 50, 1001);
    expect(partition.proposeExpansion(new Set([1, 2]))).toBeNull(); // 3 is not alive
    expect(partition.proposeExpansion(new Set([1, 2, 3]))?.isr).toEqual([1, 2, 3]);
  });

  it('a refused change (a stale partition epoch) is proposed again at the next check', () => {
    const partition = leader();
    partition.recordFollowerFetch(2, 10, 10, 0);
    partition.recordFollowerFetch(3, 0, 10, 0);
    expect(partition.proposeShrink(10, LAG_MS + 1)).not.toBeNull();
    partition.isrRefused();
    expect(partition.isrChangePending).toBe(false);
    expect(partition.proposeShrink(10, LAG_MS + 2)?.isr).toEqual([1, 2]);
  });
});

describe('acks=all', () => {
  it('is refused before the append when the ISR is below min.insync.replicas', () => {
    expect(leader({ isr: [1] }).checkEnoughReplicasBeforeAppend()).toBe(KafkaErrorCode.NOT_ENOUGH_REPLICAS);
    expect(leader().checkEnoughReplicasBeforeAppend()).toBe(KafkaErrorCode.NONE);
  });

  it('is answered once the HW covers the batch, NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank meanwhile', () => {
    const partition = leader();
    expect(partition.acksAllOutcome(10)).toBeNull();
    partition.recordFollowerFetch(2, 10, 10, 1000);
    expect(partition.acksAllOutcome(10)).toBeNull(); // 3 has not got it
    partition.recordFollowerFetch(3, 10, 10, 1000);
    expect(partition.acksAllOutcome(10)).toBe(KafkaErrorCode.NONE);

    const shrinking = leader({ minInsyncReplicas: 3 });
    shrinking.recordFollowerFetch(2, 10, 10, 0);
    shrinking.recordFollowerFetch(3, 10, 10, 0);
    shrinking.isrCommitted([1, 2]);
    expect(shrinking.acksAllOutcome(10)).toBe(KafkaErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND);
  });
});
