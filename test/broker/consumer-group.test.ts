// The consumer group protocol's state (KIP-848) without timers or I/O: the server-side assignors,
// and how members move to their target assignment without a partition ever owned by two members.
import { describe, expect, it } from 'vitest';

import { assign } from '../../src/broker/group/consumer-group-assignors.js';
import { ConsumerGroup, ConsumerGroupMember, toAssignment, toTopicPartitions, type Assignment } from '../../src/broker/group/consumer-group.js';

const T1 = '00000000-0000-0000-0000-000000000001';
const T2 = '00000000-0000-0000-0000-000000000002';

const counts = (a: Assignment) => [...a.values()].reduce((n, set) => n + set.size, 0);
const flat = (a: Assignment) => toTopicPartitions(a).flatMap(({ topicId, partitions }) => partitions.map((p) => `${topicId.slice(-1)}:${p}`));

describe('uniform assignor', () => {
  const spec = (members: Record<string, { topics: string[]; target?: Assignment }>, partitionCounts: Record<string, number>) => ({
    members: new Map(Object.entries(members).map(([id, m]) => [id, { topics: new Set(m.topics), target: m.target }])),
    partitionCounts: new Map(Object.entries(partitionCounts)),
  });

  it('gives every partition to exactly one member, counts within one of each other', () => {
    const result = assign('uniform', spec({ a: { topics: [T1, T2] }, b: { topics: [T1, T2] }, c: { topics: [T1, T2] } }, { [T1]: 5, [T2]: 3 }));
    const all = [...result.values()].flatMap(flat);
    expect(all.sort()).toEqual(['1:0', '1:1', '1:2', '1:3', '1:4', '2:0', '2:1', '2:2'].sort());
    const sizes = [...result.values()].map(counts);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('keeps partitions where they were when a member joins: only what the newcomer needs moves', () => {
    const before = assign('uniform', spec({ a: { topics: [T1] }, b: { topics: [T1] } }, { [T1]: 6 }));
    const after = assign('uniform', spec({ a: { topics: [T1], target: before.get('a') }, b: { topics: [T1], target: before.get('b') }, c: { topics: [T1] } }, { [T1]: 6 }));
    expect(counts(after.get('c')!)).toBe(2);
    for (const id of ['a', 'b']) {
      const kept = flat(after.get(id)!).filter((p) => flat(before.get(id)!).includes(p));
      expect(kept).toHaveLength(2); // 3 each before, 2 each after: one moved from each
    }
  });

  it('gives a topic only to its subscribers', () => {
    const result = assign('uniform', spec({ a: { topics: [T1] }, b: { topics: [T1, T2] } }, { [T1]: 2, [T2]: 4 }));
    expect(flat(result.get('a')!).every((p) => p.startsWith('1:'))).toBe(true);
    expect(flat(result.get('b')!).filter((p) => p.startsWith('2:'))).toHaveLength(4);
  });
});

describe('range assignor', () => {
  it('splits each topic into contiguous ranges over its subscribers by member id, the first taking one more', () => {
    const result = assign('range', {
      members: new Map([['b', { topics: new Set([T1]), target: undefined }], ['a', { topics: new Set([T1]), target: undefined }]]),
      partitionCounts: new Map([[T1, 5]]),
    });
    expect(flat(result.get('a')!)).toEqual(['1:0', '1:1', '1:2']);
    expect(flat(result.get('b')!)).toEqual(['1:3', '1:4']);
  });
});

describe('reconciliation', () => {
  /** A group of members subscribed to T1 (4 partitions), its target computed for the current group epoch. */
  function groupWith(...ids: string[]): ConsumerGroup {
    const group = new ConsumerGroup('g');
    for (const id of ids) group.putMember(new ConsumerGroupMember(id));
    group.bumpGroupEpoch();
    group.computeTargetAssignment('uniform', () => new Set([T1]), new Map([[T1, 4]]));
    return group;
  }

  /** Every partition owned by at most one member, counting what is pending revocation. */
  function expectNoDoubleOwnership(group: ConsumerGroup): void {
    const seen = new Set<string>();
    for (const member of group.members.values()) {
      for (const p of [...flat(member.assigned), ...flat(member.pendingRevocation)]) {
        expect(seen.has(p)).toBe(false);
        seen.add(p);
      }
    }
  }

  it('a lone member takes everything and the group epoch at once', () => {
    const group = groupWith('a');
    const a = group.members.get('a')!;
    expect(group.reconcile(a, toAssignment([]))).toBe(true);
    expect(a.memberEpoch).toBe(1);
    expect(a.state).toBe('STABLE');
    expect(flat(a.assigned)).toEqual(['1:0', '1:1', '1:2', '1:3']);
    expect(group.state).toBe('Stable');
  });

  it('a newcomer waits for what the owner must revoke; the owner gives up first, at its old epoch', () => {
    const group = groupWith('a');
    const a = group.members.get('a')!;
    group.reconcile(a, toAssignment([]));
    // b joins: the group epoch moves, the target splits the partitions.
    const b = new ConsumerGroupMember('b');
    group.putMember(b);
    group.bumpGroupEpoch();
    group.computeTargetAssignment('uniform', () => new Set([T1]), new Map([[T1, 4]]));
    const bTarget = flat(group.targetAssignment.get('b')!);
    expect(bTarget).toHaveLength(2);

    // b reconciles first: its partitions are still a's, so it takes the epoch and nothing yet.
    group.reconcile(b, toAssignment([]));
    expect(b.memberEpoch).toBe(2);
    expect(b.state).toBe('UNRELEASED_PARTITIONS');
    expect(counts(b.assigned)).toBe(0);
    expectNoDoubleOwnership(group);

    // a's heartbeat: it must revoke b's partitions, and stays at epoch 1 until it has.
    group.reconcile(a, toAssignment(toTopicPartitions(a.assigned)));
    expect(a.state).toBe('UNREVOKED_PARTITIONS');
    expect(a.memberEpoch).toBe(1);
    expect(flat(a.pendingRevocation).sort()).toEqual(bTarget.sort());
    expectNoDoubleOwnership(group);
    // Still owning them (its heartbeat says so): no progress.
    const stillOwned = toAssignment([{ topicId: T1, partitions: [0, 1, 2, 3] }]);
    expect(group.reconcile(a, stillOwned)).toBe(false);
    expect(group.state).toBe('Reconciling');

    // a revoked them: it moves to epoch 2, and b gets them at its next heartbeat.
    group.reconcile(a, toAssignment(toTopicPartitions(a.assigned)));
    expect(a.memberEpoch).toBe(2);
    expect(a.state).toBe('STABLE');
    group.reconcile(b, toAssignment([]));
    expect(b.state).toBe('STABLE');
    expect(flat(b.assigned).sort()).toEqual(bTarget.sort());
    expectNoDoubleOwnership(group);
    expect(group.state).toBe('Stable');
  });

  it('a removed member frees its partitions for the others', () => {
    const group = groupWith('a', 'b');
    for (const id of ['a', 'b']) group.reconcile(group.members.get(id)!, toAssignment([]));
    group.removeMember('b');
    group.bumpGroupEpoch();
    group.computeTargetAssignment('uniform', () => new Set([T1]), new Map([[T1, 4]]));
    const a = group.members.get('a')!;
    group.reconcile(a, toAssignment(toTopicPartitions(a.assigned)));
    expect(counts(a.assigned)).toBe(4);
    expect(a.state).toBe('STABLE');
  });

  it('a member rejoining with epoch 0 owns nothing and starts again from its target', () => {
    const group = groupWith('a');
    const a = group.members.get('a')!;
    group.reconcile(a, toAssignment([]));
    group.resetMember(a);
    expect(a.memberEpoch).toBe(0);
    expect(group.ownerOf(T1, 0)).toBeUndefined();
    group.reconcile(a, toAssignment([]));
    expect(a.memberEpoch).toBe(1);
    expect(counts(a.assigned)).toBe(4);
  });
});
