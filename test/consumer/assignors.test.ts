// The consumer protocol's bytes against kafkajs's own encoder, and the assignors' assignments.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

import {
  cooperativeStickyAssignor,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  rangeAssignor,
  resolveAssignor,
  roundRobinAssignor,
  type MemberSubscription,
  type TopicPartition,
} from '../../src/client/assignors.js';

const require = createRequire(import.meta.url);
const { MemberMetadata, MemberAssignment } = require('kafkajs/src/consumer/assignerProtocol');

function member(memberId: string, topics: string[], owned: TopicPartition[] = [], generationId = -1, groupInstanceId: string | null = null): MemberSubscription {
  return { memberId, groupInstanceId, subscription: { topics, userData: null, ownedPartitions: owned, generationId } };
}

function counts(result: Map<string, TopicPartition[]>): number[] {
  return [...result.values()].map((list) => list.length);
}

function tp(topic: string, ...partitions: number[]): TopicPartition[] {
  return partitions.map((partition) => ({ topic, partition }));
}

describe('consumer protocol encoding', () => {
  it('reads kafkajs subscriptions and kafkajs reads ours', () => {
    const theirs = MemberMetadata.encode({ version: 0, topics: ['a', 'b'], userData: Buffer.from('x') });
    expect(decodeSubscription(theirs)).toEqual({ topics: ['a', 'b'], userData: Buffer.from('x'), ownedPartitions: [], generationId: -1, rackId: null });
    const ours = encodeSubscription({ topics: ['a'], userData: null, ownedPartitions: tp('a', 2, 0), generationId: 7 }, 2);
    expect(MemberMetadata.decode(ours)).toMatchObject({ version: 2, topics: ['a'] });
    expect(decodeSubscription(ours)).toEqual({ topics: ['a'], userData: null, ownedPartitions: tp('a', 0, 2), generationId: 7, rackId: null });
  });

  it('round-trips assignments with kafkajs', () => {
    const ours = encodeAssignment([...tp('b', 1), ...tp('a', 3, 1)]);
    expect(MemberAssignment.decode(ours)).toMatchObject({ version: 1, assignment: { a: [1, 3], b: [1] } });
    const theirs = MemberAssignment.encode({ version: 0, assignment: { t: [0, 2] } });
    expect(decodeAssignment(theirs).partitions).toEqual(tp('t', 0, 2));
    expect(decodeAssignment(Buffer.alloc(0))).toEqual({ partitions: [], userData: null });
  });

  it('parses a newer subscription version as the newest it knows', () => {
    const v3 = encodeSubscription({ topics: ['a'], userData: null, ownedPartitions: [], generationId: 3 }, 3);
    const v9 = Buffer.concat([v3, Buffer.from([1, 2, 3])]);
    v9.writeInt16BE(9, 0);
    expect(decodeSubscription(v9).generationId).toBe(3);
  });
});

describe('range and roundrobin', () => {
  it('range gives contiguous ranges per topic, the first members one more', () => {
    const result = rangeAssignor.assign([member('c2', ['t']), member('c1', ['t'])], new Map([['t', 5]]));
    expect(result.get('c1')).toEqual(tp('t', 0, 1, 2));
    expect(result.get('c2')).toEqual(tp('t', 3, 4));
  });

  it('roundrobin deals sorted partitions to members subscribed to them', () => {
    const result = roundRobinAssignor.assign([member('b', ['x', 'y']), member('a', ['x'])], new Map([['x', 3], ['y', 2]]));
    expect(result.get('a')).toEqual(tp('x', 0, 2));
    expect(result.get('b')).toEqual([...tp('x', 1), ...tp('y', 0, 1)]);
  });

  it('orders static members by instance id', () => {
    const result = rangeAssignor.assign([member('m1', ['t'], [], -1, 'z'), member('m2', ['t'], [], -1, 'a')], new Map([['t', 2]]));
    expect(result.get('m2')).toEqual(tp('t', 0));
  });

  it('knows kafkajs and Java protocol names', () => {
    expect(resolveAssignor('RoundRobinAssigner').name).toBe('RoundRobinAssigner');
    expect(resolveAssignor('roundrobin').name).toBe('roundrobin');
    expect(() => resolveAssignor('sticky' as never)).toThrow(/Unknown assignor/);
  });
});

describe('cooperative-sticky', () => {
  const partitions = new Map([['t', 12]]);

  it('balances a fresh group', () => {
    expect(counts(cooperativeStickyAssignor.assign([member('a', ['t']), member('b', ['t']), member('c', ['t'])], partitions))).toEqual([4, 4, 4]);
  });

  it('keeps owned partitions and leaves transfers out until their owner revokes them', () => {
    const a = member('a', ['t'], tp('t', 0, 1, 2, 3, 4, 5), 3);
    const b = member('b', ['t'], tp('t', 6, 7, 8, 9, 10, 11), 3);
    const first = cooperativeStickyAssignor.assign([a, b, member('c', ['t'])], partitions);
    // a and b keep 4 each; the 4 they give up are not assigned yet (their owners still hold them).
    expect(first.get('a')).toHaveLength(4);
    expect(first.get('b')).toHaveLength(4);
    expect(first.get('c')).toEqual([]);
    for (const kept of first.get('a')!) expect(kept.partition).toBeLessThan(6);
    // Second round: the revoked partitions are free and go to c.
    const second = cooperativeStickyAssignor.assign(
      [member('a', ['t'], first.get('a')!, 4), member('b', ['t'], first.get('b')!, 4), member('c', ['t'], [], -1)],
      partitions,
    );
    expect(second.get('a')).toEqual(first.get('a'));
    expect(second.get('b')).toEqual(first.get('b'));
    expect(second.get('c')).toHaveLength(4);
  });

  it('moves only what balance needs when a member leaves', () => {
    const a = member('a', ['t'], tp('t', 0, 1, 2, 3), 5);
    const b = member('b', ['t'], tp('t', 4, 5, 6, 7), 5);
    const result = cooperativeStickyAssignor.assign([a, b], partitions); // c (8-11) left
    expect(result.get('a')!.slice(0, 4)).toEqual(tp('t', 0, 1, 2, 3));
    expect(counts(result)).toEqual([6, 6]);
  });

  it('resolves a conflicting claim for the newest generation', () => {
    const result = cooperativeStickyAssignor.assign([member('a', ['t'], tp('t', 0), 1), member('b', ['t'], tp('t', 0), 2)], new Map([['t', 2]]));
    expect(result.get('b')).toEqual(tp('t', 0));
    expect(result.get('a')).toEqual(tp('t', 1));
  });

  it('is sticky for eager members through its userData', () => {
    const userData = cooperativeStickyAssignor.userData!({ partitions: tp('t', 5, 6, 7, 8), generationId: 2 });
    const eager: MemberSubscription = { memberId: 'z', groupInstanceId: null, subscription: { topics: ['t'], userData, ownedPartitions: [], generationId: -1 } };
    const result = cooperativeStickyAssignor.assign([member('a', ['t']), eager, member('b', ['t'])], partitions);
    expect(result.get('z')).toEqual(tp('t', 5, 6, 7, 8));
    expect(counts(result)).toEqual([4, 4, 4]);
  });
});
