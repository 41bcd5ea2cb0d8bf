// Kafka's replica assignment (rack-unaware and rack-aware) and its checks of explicit assignments.
import { describe, expect, it } from 'vitest';

import { isSluiceError } from '../../src/errors.js';
import { assignReplicas, validateAssignment } from '../../src/cluster/replica-assignment.js';

function expectError(fn: () => unknown, code: string, message?: string): void {
  try {
    fn();
  } catch (error) {
    expect(isSluiceError(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    if (message !== undefined) expect((error as Error).message).toBe(message);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('assignReplicas (AdminUtils.assignReplicasToBrokersRackUnaware)', () => {
  it("matches Kafka's AdminTest.testReplicaAssignment: 5 brokers, 10 partitions, RF 3, start index 0", () => {
    expect(assignReplicas([0, 1, 2, 3, 4], 10, 3, { startIndex: 0 })).toEqual([
      [0, 1, 2],
      [1, 2, 3],
      [2, 3, 4],
      [3, 4, 0],
      [4, 0, 1],
      [0, 2, 3],
      [1, 3, 4],
      [2, 4, 0],
      [3, 0, 1],
      [4, 1, 2],
    ]);
  });

  it("matches the table in AdminUtils' comment (each broker's 1st, 2nd and 3rd replicas)", () => {
    const assignment = assignReplicas([0, 1, 2, 3, 4], 10, 3, { startIndex: 0 });
    // broker-0 holds p0, p5 first; p4, p8 second; p3, p7 third.
    const held = (broker: number, j: number) => assignment.flatMap((replicas, p) => (replicas[j] === broker ? [p] : []));
    expect(held(0, 0)).toEqual([0, 5]);
    expect(held(0, 1)).toEqual([4, 8]);
    expect(held(0, 2)).toEqual([3, 7]);
    expect(held(2, 1)).toEqual([1, 5]);
  });

  it('maps indexes to broker ids sorted ascending, whatever order they come in', () => {
    expect(assignReplicas([30, 10, 20], 3, 2, { startIndex: 1 })).toEqual([
      [20, 10],
      [30, 20],
      [10, 30],
    ]);
  });

  it('uses random draws for the start index and the initial shift when none is given', () => {
    // 3 brokers: draws of 0.5 -> index 1 for both the start and the shift.
    const draws = [0.5, 0.5];
    const random = () => draws.shift()!;
    expect(assignReplicas([1, 2, 3], 4, 3, { random })).toEqual(assignReplicas([1, 2, 3], 4, 3, { startIndex: 1 }));
    expect(draws).toEqual([]);
  });

  it('numbers added partitions from startPartitionId, the shift starting again from the start index, as Kafka does', () => {
    // First replicas continue the round-robin (p6 on broker 1); the follower shift only grows at
    // multiples of 5 reached inside this call, so p6..p9 use shift 0 (the whole-topic run used 1).
    expect(assignReplicas([0, 1, 2, 3, 4], 4, 3, { startIndex: 0, startPartitionId: 6 })).toEqual([
      [1, 2, 3],
      [2, 3, 4],
      [3, 4, 0],
      [4, 0, 1],
    ]);
    expect(assignReplicas([0, 1, 2, 3, 4], 1, 3, { startIndex: 0, startPartitionId: 10 })).toEqual([[0, 2, 3]]);
  });

  it('spreads leaders evenly and never puts two replicas of a partition on one broker', () => {
    for (let brokers = 1; brokers <= 7; brokers++) {
      const ids = Array.from({ length: brokers }, (_, i) => i + 1);
      for (let rf = 1; rf <= brokers; rf++) {
        const assignment = assignReplicas(ids, brokers * 4, rf);
        for (const replicas of assignment) expect(new Set(replicas).size).toBe(rf);
        const leaders = new Map<number, number>();
        for (const replicas of assignment) leaders.set(replicas[0]!, (leaders.get(replicas[0]!) ?? 0) + 1);
        expect([...leaders.values()].every((count) => count === 4)).toBe(true);
      }
    }
  });

  it('refuses a replication factor above the live brokers, or non-positive counts', () => {
    expectError(() => assignReplicas([1, 2], 3, 3), 'INVALID_REPLICATION_FACTOR', 'Replication factor: 3 larger than available brokers: 2.');
    expectError(() => assignReplicas([], 1, 1), 'INVALID_REPLICATION_FACTOR');
    expectError(() => assignReplicas([1, 2], 3, 0), 'INVALID_REPLICATION_FACTOR');
    expectError(() => assignReplicas([1, 2], 0, 1), 'INVALID_PARTITIONS');
  });

  it('refuses a count above the partitions a topic may have before assigning anything (a client asked for 2^31 - 1)', () => {
    expectError(() => assignReplicas([1, 2, 3], 2 ** 31 - 1, 1), 'INVALID_PARTITIONS');
    expectError(() => assignReplicas([1, 2, 3], 10_001, 3), 'INVALID_PARTITIONS');
    expect(assignReplicas([1, 2, 3], 10_000, 3, { startIndex: 0 })).toHaveLength(10_000);
  });
});

describe('assignReplicas with broker.rack (AdminUtils.assignReplicasToBrokersRackAware)', () => {
  const racked = (racks: Record<number, string | null>) => Object.entries(racks).map(([id, rack]) => ({ brokerId: Number(id), rack }));
  /** Per partition, the racks its replicas are in. */
  const racksOf = (assignment: number[][], racks: Record<number, string | null>) => assignment.map((replicas) => new Set(replicas.map((id) => racks[id])));
  const countBy = (ids: number[]) => ids.reduce((counts, id) => counts.set(id, (counts.get(id) ?? 0) + 1), new Map<number, number>());

  it("matches Kafka's AdminRackAwareTest: 6 brokers in 3 racks, 7 partitions, RF 3, start index 0", () => {
    const racks = { 0: 'rack1', 1: 'rack3', 2: 'rack3', 3: 'rack2', 4: 'rack2', 5: 'rack1' };
    // The brokers rack by rack in turn are 0, 3, 1, 5, 4, 2.
    expect(assignReplicas(racked(racks), 7, 3, { startIndex: 0 })).toEqual([[0, 3, 1], [3, 1, 5], [1, 5, 4], [5, 4, 2], [4, 2, 0], [2, 0, 3], [0, 4, 2]]);
  });

  it('puts each partition on min(RF, racks) racks and spreads leaders and replicas evenly over brokers', () => {
    const racks = { 0: 'rack1', 1: 'rack2', 2: 'rack2', 3: 'rack3', 4: 'rack3', 5: 'rack1' };
    for (const replicationFactor of [2, 3]) {
      const assignment = assignReplicas(racked(racks), 12, replicationFactor);
      expect(racksOf(assignment, racks).every((set) => set.size === replicationFactor)).toBe(true);
      expect(assignment.every((replicas) => new Set(replicas).size === replicationFactor)).toBe(true);
      expect([...countBy(assignment.map((replicas) => replicas[0]!)).values()]).toEqual([2, 2, 2, 2, 2, 2]);
      expect(new Set(countBy(assignment.flat()).values())).toEqual(new Set([2 * replicationFactor]));
    }
  });

  it('more replicas than racks: every rack holds one; a single rack: every broker leads once', () => {
    const three = { 0: 'rack1', 1: 'rack2', 2: 'rack2', 3: 'rack3', 4: 'rack3', 5: 'rack2' };
    expect(racksOf(assignReplicas(racked(three), 6, 5), three).every((set) => set.size === 3)).toBe(true);
    const one = { 0: 'rack1', 1: 'rack1', 2: 'rack1', 3: 'rack1', 4: 'rack1', 5: 'rack1' };
    const assignment = assignReplicas(racked(one), 6, 3);
    expect(assignment.map((replicas) => replicas[0]).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('brokers without a rack form a rack of their own; with no rack anywhere the assignment is rack-unaware', () => {
    const mixed = { 1: 'a', 2: 'a', 3: null, 4: null };
    const assignment = assignReplicas(racked(mixed), 8, 2);
    expect(racksOf(assignment, mixed).every((set) => set.size === 2)).toBe(true);
    const none = racked({ 1: null, 2: null, 3: null });
    expect(assignReplicas(none, 6, 3, { startIndex: 1 })).toEqual(assignReplicas([1, 2, 3], 6, 3, { startIndex: 1 }));
  });

  it('numbers added partitions from startPartitionId, as Kafka expands a rack-aware topic', () => {
    const racks = { 6: 'rack1', 7: 'rack2', 8: 'rack2', 9: 'rack3', 10: 'rack3', 11: 'rack1' };
    const assignment = assignReplicas(racked(racks), 12, 2, { startPartitionId: 12 });
    expect(racksOf(assignment, racks).every((set) => set.size === 2)).toBe(true);
    expect([...countBy(assignment.map((replicas) => replicas[0]!)).values()]).toEqual([2, 2, 2, 2, 2, 2]);
  });
});

describe('validateAssignment', () => {
  const live = [1, 2, 3];

  it('returns the replica lists by partition index', () => {
    expect(validateAssignment([{ partitionIndex: 1, brokerIds: [2, 3] }, { partitionIndex: 0, brokerIds: [3, 1] }], live)).toEqual([
      [3, 1],
      [2, 3],
    ]);
  });

  it("refuses what Kafka's controller refuses, with its messages", () => {
    expectError(() => validateAssignment([{ partitionIndex: 0, brokerIds: [] }], live), 'INVALID_REPLICA_ASSIGNMENT', 'The manual partition assignment includes an empty replica list.');
    expectError(
      () => validateAssignment([{ partitionIndex: 0, brokerIds: [1, 9] }], live),
      'INVALID_REPLICA_ASSIGNMENT',
      'The manual partition assignment includes broker 9, but no such broker is registered.',
    );
    expectError(() => validateAssignment([{ partitionIndex: 0, brokerIds: [1, 1] }], live), 'INVALID_REPLICA_ASSIGNMENT', 'The manual partition assignment includes the broker 1 more than once.');
    expectError(
      () => validateAssignment([{ partitionIndex: 0, brokerIds: [1, 2] }, { partitionIndex: 1, brokerIds: [1] }], live),
      'INVALID_REPLICA_ASSIGNMENT',
      'The manual partition assignment includes a partition with 1 replica(s), but this is not consistent with previous partitions, which have 2 replica(s).',
    );
    expectError(
      () => validateAssignment([{ partitionIndex: 0, brokerIds: [1] }, { partitionIndex: 0, brokerIds: [2] }], live),
      'INVALID_REPLICA_ASSIGNMENT',
      'Found multiple manual partition assignments for partition 0',
    );
    expectError(
      () => validateAssignment([{ partitionIndex: 0, brokerIds: [1] }, { partitionIndex: 2, brokerIds: [2] }], live),
      'INVALID_REPLICA_ASSIGNMENT',
      'partitions should be a consecutive 0-based integer sequence',
    );
  });
});
