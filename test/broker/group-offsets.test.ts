// Committed offsets: OffsetCommit validation, OffsetFetch, the records in __consumer_offsets (in
// Kafka's own formats and partitioning), a restart that keeps every commit, DeleteGroups and the
// removal of a deleted topic's offsets.
import { afterEach, describe, expect, it } from 'vitest';

import { Engine } from '../../src/engine/engine.js';
import { KafkaErrorCode as E } from '../../src/errors.js';
import { GroupCoordinator, type CommitOffsetsParams } from '../../src/broker/group/coordinator.js';
import {
  decodeOffsetCommitKey,
  decodeOffsetCommitValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  javaStringHashCode,
  offsetsPartitionFor,
} from '../../src/broker/group/offset-format.js';
import { subscribedTopicsOf } from '../../src/broker/group/consumer-protocol.js';
import { joinParams } from '../fixtures/join-params.js';
import { tempDir } from '../helpers.js';

const CONFIG = { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 10, 'offsets.topic.num.partitions': 5 };
const opened: Array<{ coordinator: GroupCoordinator; engine: Engine }> = [];

afterEach(async () => {
  for (const { coordinator, engine } of opened.splice(0)) {
    await coordinator.close();
    await engine.close();
  }
});

async function start(dataDir = tempDir(), config: Record<string, string | number> = CONFIG) {
  const engine = await Engine.open({ dataDir });
  const coordinator = await GroupCoordinator.open(engine, config, { nowMs: () => 1_700_000_000_000 });
  const handle = { coordinator, engine };
  opened.push(handle);
  return { ...handle, dataDir };
}

/** Closes both, as the broker's stop() does: coordinator first, then the engine. */
async function stop(handle: { coordinator: GroupCoordinator; engine: Engine }) {
  opened.splice(opened.findIndex((h) => h.coordinator === handle.coordinator), 1);
  await handle.coordinator.close();
  await handle.engine.close();
}

function commit(coordinator: GroupCoordinator, topics: CommitOffsetsParams['topics'], overrides: Partial<CommitOffsetsParams> = {}) {
  return coordinator.commitOffsets({ groupId: 'g', generationId: -1, memberId: '', groupInstanceId: null, topics, ...overrides });
}

function offsets(topic: string, entries: Array<[partitionIndex: number, committedOffset: number, metadata?: string | null]>) {
  return {
    name: topic,
    partitions: entries.map(([partitionIndex, committedOffset, metadata = '']) => ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, committedMetadata: metadata })),
  };
}


describe("__consumer_offsets records: Kafka's formats and partitioning", () => {
  it('places a group where Kafka does: abs(String.hashCode) % partitions', () => {
    // Expected values from Java's String.hashCode, computed with a JDK.
    expect(javaStringHashCode('hello')).toBe(99162322);
    expect(javaStringHashCode('my-group')).toBe(-1906497762);
    expect(javaStringHashCode('grüppe-😀')).toBe(-1039948164);
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648);
    expect(offsetsPartitionFor('my-group', 50)).toBe(12);
    expect(offsetsPartitionFor('grüppe-😀', 50)).toBe(14);
    expect(offsetsPartitionFor('console-consumer-12345', 50)).toBe(6);
    // Utils.abs(Integer.MIN_VALUE) is 0 in Kafka, not a negative number.
    expect(offsetsPartitionFor('polygenelubricants', 50)).toBe(0);
  });

  it('encodes OffsetCommitKey v1 and OffsetCommitValue v3 byte for byte', () => {
    const key = encodeOffsetCommitKey({ group: 'g1', topic: 'tp', partition: 3 });
    expect(key.toString('hex')).toBe(['0001', '0002', Buffer.from('g1').toString('hex'), '0002', Buffer.from('tp').toString('hex'), '00000003'].join(''));
    const value = encodeOffsetCommitValue({ offset: 42, leaderEpoch: 7, metadata: 'md', commitTimestamp: 1_700_000_000_000 });
    expect(value.toString('hex')).toBe(['0003', '000000000000002a', '00000007', '0002', Buffer.from('md').toString('hex'), (1_700_000_000_000).toString(16).padStart(16, '0')].join(''));
    expect(decodeOffsetCommitKey(key)).toEqual({ group: 'g1', topic: 'tp', partition: 3 });
    expect(decodeOffsetCommitValue(value)).toEqual({ offset: 42, leaderEpoch: 7, metadata: 'md', commitTimestamp: 1_700_000_000_000 });
    // Older values (v1: no leader epoch, an expire timestamp after the commit timestamp) still read.
    const v1 = Buffer.concat([Buffer.from('0001000000000000000500026d6400000000000003e8ffffffffffffffff', 'hex')]);
    expect(decodeOffsetCommitValue(v1)).toEqual({ offset: 5, leaderEpoch: -1, metadata: 'md', commitTimestamp: 1000 });
  });

  it('writes one batch per commit to the group’s partition of a compacted topic', async () => {
    const { coordinator, engine } = await start();
    await engine.createTopic('events', { partitions: 3 });
    expect(engine.hasTopic('__consumer_offsets')).toBe(false);
    await commit(coordinator, [offsets('events', [[0, 10, 'hello'], [2, 20]])]);

    const described = engine.describeTopic('__consumer_offsets');
    expect(described.partitions).toHaveLength(5);
    // Compacted, as in Kafka, with offsets.topic.segment.bytes (100 MiB) segments.
    expect(described.overrides).toEqual({ 'cleanup.policy': 'compact', 'segment.bytes': String(100 * 1024 * 1024) });
    const partition = offsetsPartitionFor('g', 5);
    expect(coordinator.partitionFor('g')).toBe(partition);
    const fetched = await engine.fetch('__consumer_offsets', partition, { offset: 0 });
    expect(fetched.records).toHaveLength(2);
    expect(fetched.nextOffset).toBe(2);
    expect(fetched.records.map((r) => decodeOffsetCommitKey(r.key!))).toEqual([
      { group: 'g', topic: 'events', partition: 0 },
      { group: 'g', topic: 'events', partition: 2 },
    ]);
    expect(decodeOffsetCommitValue(fetched.records[0]!.value!)).toEqual({ offset: 10, leaderEpoch: -1, metadata: 'hello', commitTimestamp: 1_700_000_000_000 });
    // One append: the first batch (a read of 1 byte returns exactly one) holds both records.
    expect(engine.partitionLog('__consumer_offsets', partition).read(0, 1)!.region.lastOffset).toBe(1);
  });
});

describe('OffsetCommit and OffsetFetch', () => {
  it('takes standalone commits (generation -1, no member) and fetches them back', async () => {
    const { coordinator, engine } = await start();
    await engine.createTopic('a', { partitions: 2 });
    await engine.createTopic('b');
    const result = await commit(coordinator, [offsets('a', [[0, 5, 'meta'], [1, 6, null]]), offsets('b', [[0, 7]])]);
    expect(result).toEqual([
      { name: 'a', partitions: [{ partitionIndex: 0, errorCode: E.NONE }, { partitionIndex: 1, errorCode: E.NONE }] },
      { name: 'b', partitions: [{ partitionIndex: 0, errorCode: E.NONE }] },
    ]);

    const some = coordinator.fetchOffsets('g', [{ name: 'a', partitionIndexes: [1, 0, 9] }, { name: 'unknown', partitionIndexes: [0] }]);
    expect(some).toEqual({
      errorCode: E.NONE,
      topics: [
        {
          name: 'a',
          partitions: [
            { partitionIndex: 1, committedOffset: 6, committedLeaderEpoch: -1, metadata: '', errorCode: E.NONE },
            { partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, metadata: 'meta', errorCode: E.NONE },
            { partitionIndex: 9, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: E.NONE },
          ],
        },
        { name: 'unknown', partitions: [{ partitionIndex: 0, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: E.NONE }] },
      ],
    });
    const all = coordinator.fetchOffsets('g', null);
    expect(all.topics.map((t) => [t.name, t.partitions.map((p) => p.committedOffset)])).toEqual([
      ['a', [5, 6]],
      ['b', [7]],
    ]);
    expect(coordinator.fetchOffsets('nobody', null)).toEqual({ errorCode: E.NONE, topics: [] });

    // A later commit replaces the earlier one.
    await commit(coordinator, [offsets('a', [[0, 50]])]);
    expect(coordinator.fetchOffsets('g', [{ name: 'a', partitionIndexes: [0] }]).topics[0]!.partitions[0]!.committedOffset).toBe(50);
    expect(coordinator.listGroups().groups).toEqual([{ groupId: 'g', protocolType: '', groupState: 'Empty', groupType: 'classic' }]);
  });

  it('refuses per partition: unknown partitions, metadata over offset.metadata.max.bytes', async () => {
    const { coordinator, engine } = await start(undefined, { ...CONFIG, 'offset.metadata.max.bytes': 8 });
    await engine.createTopic('a', { partitions: 2 });
    const result = await commit(coordinator, [offsets('a', [[0, 1, '12345678'], [1, 1, '123456789'], [2, 1]]), offsets('missing', [[0, 1]])]);
    expect(result).toEqual([
      {
        name: 'a',
        partitions: [
          { partitionIndex: 0, errorCode: E.NONE },
          { partitionIndex: 1, errorCode: E.OFFSET_METADATA_TOO_LARGE },
          { partitionIndex: 2, errorCode: E.UNKNOWN_TOPIC_OR_PARTITION },
        ],
      },
      { name: 'missing', partitions: [{ partitionIndex: 0, errorCode: E.UNKNOWN_TOPIC_OR_PARTITION }] },
    ]);
    expect(coordinator.fetchOffsets('g', [{ name: 'a', partitionIndexes: [0, 1] }]).topics[0]!.partitions.map((p) => p.committedOffset)).toEqual([1, -1]);
  });

  it('validates the member and generation of a group that uses group management', async () => {
    const { coordinator, engine } = await start();
    await engine.createTopic('t');
    const topics = [offsets('t', [[0, 3]])];
    const codeOf = async (overrides: Partial<CommitOffsetsParams>) => (await commit(coordinator, topics, overrides))[0]!.partitions[0]!.errorCode;

    // An unknown group with a generation: a stale member of a forgotten group.
    expect(await codeOf({ generationId: 4, memberId: 'm' })).toBe(E.ILLEGAL_GENERATION);

    const [a, b] = await Promise.all([coordinator.joinGroup(joinParams()), coordinator.joinGroup(joinParams())]);
    // CompletingRebalance: members must sync first.
    expect(await codeOf({ generationId: 1, memberId: a!.memberId })).toBe(E.REBALANCE_IN_PROGRESS);
    const leader = a!.memberId === a!.leader ? a! : b!;
    const follower = leader === a ? b! : a!;
    const base = { groupId: 'g', generationId: 1, groupInstanceId: null, protocolType: null, protocolName: null };
    await Promise.all([
      coordinator.syncGroup({ ...base, memberId: follower.memberId, assignments: [] }),
      coordinator.syncGroup({ ...base, memberId: leader.memberId, assignments: [] }),
    ]);
    expect(await codeOf({ generationId: 1, memberId: follower.memberId })).toBe(E.NONE);
    expect(await codeOf({ generationId: 2, memberId: follower.memberId })).toBe(E.ILLEGAL_GENERATION);
    expect(await codeOf({ generationId: 1, memberId: 'stranger' })).toBe(E.UNKNOWN_MEMBER_ID);
    // A group with members takes no standalone commits.
    expect(await codeOf({ generationId: -1, memberId: '' })).toBe(E.UNKNOWN_MEMBER_ID);

    // While PreparingRebalance commits are still accepted (the heartbeat tells members to rejoin).
    const leaderRejoin = coordinator.joinGroup(joinParams({ memberId: leader.memberId }));
    expect(await codeOf({ generationId: 1, memberId: follower.memberId })).toBe(E.NONE);
    await coordinator.leaveGroup('g', [{ memberId: follower.memberId, groupInstanceId: null }]);
    expect((await leaderRejoin).generationId).toBe(2);
    expect(coordinator.fetchOffsets('g', [{ name: 't', partitionIndexes: [0] }]).topics[0]!.partitions[0]!.committedOffset).toBe(3);
  });
});

describe('offsets across a restart, DeleteGroups and deleted topics', () => {
  it('keeps every commit and tombstone across a restart', async () => {
    const first = await start();
    await first.engine.createTopic('a', { partitions: 3 });
    await first.engine.createTopic('b');
    for (let i = 0; i < 20; i++) await commit(first.coordinator, [offsets('a', [[i % 3, i]])], { groupId: `group-${i % 4}` });
    await commit(first.coordinator, [offsets('b', [[0, 99, 'last']])], { groupId: 'group-0' });
    await commit(first.coordinator, [offsets('b', [[0, 1]])], { groupId: 'doomed' });
    expect((await first.coordinator.deleteGroups(['doomed']))[0]!.errorCode).toBe(E.NONE);
    const before = ['group-0', 'group-1', 'group-2', 'group-3', 'doomed'].map((g) => first.coordinator.fetchOffsets(g, null));
    await stop(first);

    const second = await start(first.dataDir);
    const after = ['group-0', 'group-1', 'group-2', 'group-3', 'doomed'].map((g) => second.coordinator.fetchOffsets(g, null));
    expect(after).toEqual(before);
    expect(after[0]!.topics.find((t) => t.name === 'b')!.partitions[0]).toMatchObject({ committedOffset: 99, metadata: 'last' });
    expect(after[4]!.topics).toEqual([]);
    expect(second.coordinator.listGroups().groups.map((g) => g.groupId).sort()).toEqual(['group-0', 'group-1', 'group-2', 'group-3']);
    // The reloaded groups are Empty: standalone commits and deletes work on them as before.
    expect(second.coordinator.describeGroup('group-1').groupState).toBe('Empty');
  });

  it('deletes Empty groups with their offsets; refuses non-empty and unknown groups', async () => {
    const { coordinator, engine, dataDir } = await start();
    await engine.createTopic('t');
    await commit(coordinator, [offsets('t', [[0, 8]])], { groupId: 'idle' });
    const joined = await coordinator.joinGroup(joinParams({ groupId: 'busy' }));
    expect(joined.errorCode).toBe(E.NONE);

    const results = await coordinator.deleteGroups(['idle', 'busy', 'never-existed', 'idle']);
    expect(results).toEqual([
      { groupId: 'idle', errorCode: E.NONE },
      { groupId: 'busy', errorCode: E.NON_EMPTY_GROUP },
      { groupId: 'never-existed', errorCode: E.GROUP_ID_NOT_FOUND },
    ]);
    expect(await coordinator.deleteGroups(['idle'])).toEqual([{ groupId: 'idle', errorCode: E.GROUP_ID_NOT_FOUND }]);
    expect(coordinator.fetchOffsets('idle', null).topics).toEqual([]);
    expect(coordinator.describeGroup('idle')).toMatchObject({ errorCode: E.NONE, groupState: 'Dead', members: [] });
    expect(coordinator.listGroups().groups.map((g) => g.groupId)).toEqual(['busy']);

    // The tombstones are in the log: a restart does not bring the offsets back.
    await stop({ coordinator, engine });
    const again = await start(dataDir);
    expect(again.coordinator.fetchOffsets('idle', null).topics).toEqual([]);
    expect(again.coordinator.listGroups().groups).toEqual([]);
  });

  it("removes every group's offsets of a deleted topic, durably", async () => {
    const { coordinator, engine, dataDir } = await start();
    await engine.createTopic('gone', { partitions: 2 });
    await engine.createTopic('kept');
    for (const groupId of ['x', 'y']) await commit(coordinator, [offsets('gone', [[0, 1], [1, 2]]), offsets('kept', [[0, 3]])], { groupId });
    await engine.deleteTopic('gone');
    expect(await coordinator.removeTopicOffsets('gone')).toBe(4);
    expect(await coordinator.removeTopicOffsets('gone')).toBe(0);
    for (const groupId of ['x', 'y']) {
      expect(coordinator.fetchOffsets(groupId, null).topics.map((t) => t.name)).toEqual(['kept']);
    }
    await stop({ coordinator, engine });
    const again = await start(dataDir);
    expect(again.coordinator.fetchOffsets('x', null).topics.map((t) => t.name)).toEqual(['kept']);
    expect(again.coordinator.fetchOffsets('y', [{ name: 'gone', partitionIndexes: [0] }]).topics[0]!.partitions[0]!.committedOffset).toBe(-1);
  });

  it('answers COORDINATOR_NOT_AVAILABLE once closed', async () => {
    const { coordinator, engine } = await start();
    await engine.createTopic('t');
    await coordinator.close();
    expect((await commit(coordinator, [offsets('t', [[0, 1]])]))[0]!.partitions[0]!.errorCode).toBe(E.COORDINATOR_NOT_AVAILABLE);
    expect(coordinator.fetchOffsets('g', null).errorCode).toBe(E.COORDINATOR_NOT_AVAILABLE);
    expect((await coordinator.deleteGroups(['g']))[0]!.errorCode).toBe(E.COORDINATOR_NOT_AVAILABLE);
  });
});

/** A ConsumerProtocolSubscription v0: version, topics, null user data. */
function subscription(...topics: string[]): Buffer {
  const parts = [Buffer.from([0, 0]), Buffer.alloc(4)];
  parts[1]!.writeInt32BE(topics.length);
  for (const topic of topics) {
    const length = Buffer.alloc(2);
    length.writeInt16BE(Buffer.byteLength(topic));
    parts.push(length, Buffer.from(topic));
  }
  parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  return Buffer.concat(parts);
}

describe('OffsetDelete', () => {
  const ask = (entries: Array<[topic: string, partitions: number[]]>) => entries.map(([name, partitions]) => ({ name, partitions: partitions.map((partitionIndex) => ({ partitionIndex })) }));

  it('removes an Empty group\'s offsets for the partitions asked for, durably; answers every partition', async () => {
    const { coordinator, engine, dataDir } = await start();
    await engine.createTopic('a', { partitions: 3 });
    await engine.createTopic('b');
    await commit(coordinator, [offsets('a', [[0, 10], [1, 11], [2, 12]]), offsets('b', [[0, 20]])]);

    const result = await coordinator.deleteOffsets('g', ask([['a', [0, 2, 2]], ['b', [0]], ['a', [1]], ['missing', [0]], ['b', [5]]]));
    // A repeated partition is answered once; a repeated topic's partitions join its first entry.
    expect(result).toEqual({
      errorCode: E.NONE,
      topics: [
        { name: 'a', partitions: [{ partitionIndex: 0, errorCode: E.NONE }, { partitionIndex: 2, errorCode: E.NONE }, { partitionIndex: 1, errorCode: E.NONE }] },
        { name: 'b', partitions: [{ partitionIndex: 0, errorCode: E.NONE }, { partitionIndex: 5, errorCode: E.UNKNOWN_TOPIC_OR_PARTITION }] },
        { name: 'missing', partitions: [{ partitionIndex: 0, errorCode: E.UNKNOWN_TOPIC_OR_PARTITION }] },
      ],
    });
    expect(coordinator.fetchOffsets('g', null)).toEqual({ errorCode: E.NONE, topics: [] });
    // Kafka's offset cleanup: an Empty group left with no offsets is gone.
    expect(coordinator.describeGroup('g').groupState).toBe('Dead');
    expect(await coordinator.deleteOffsets('g', ask([['a', [0]]]))).toEqual({ errorCode: E.GROUP_ID_NOT_FOUND, topics: [] });

    // Tombstones, one per removed offset, in the group's partition of __consumer_offsets.
    const partition = coordinator.partitionFor('g');
    const fetched = await engine.fetch('__consumer_offsets', partition, { offset: 4 });
    expect(fetched.records.map((r) => [decodeOffsetCommitKey(r.key!), r.value])).toEqual([
      [{ group: 'g', topic: 'a', partition: 0 }, null],
      [{ group: 'g', topic: 'a', partition: 2 }, null],
      [{ group: 'g', topic: 'b', partition: 0 }, null],
      [{ group: 'g', topic: 'a', partition: 1 }, null],
    ]);
    await stop({ coordinator, engine });
    const again = await start(dataDir);
    expect(again.coordinator.fetchOffsets('g', null).topics).toEqual([]);
    expect(again.coordinator.listGroups().groups).toEqual([]);
  });

  it('keeps the offsets it was not asked for, and the group while it has any', async () => {
    const { coordinator, engine, dataDir } = await start();
    await engine.createTopic('a', { partitions: 2 });
    await commit(coordinator, [offsets('a', [[0, 1], [1, 2]])]);
    expect((await coordinator.deleteOffsets('g', ask([['a', [1]]]))).errorCode).toBe(E.NONE);
    expect(coordinator.fetchOffsets('g', null).topics).toEqual([{ name: 'a', partitions: [expect.objectContaining({ partitionIndex: 0, committedOffset: 1 })] }]);
    expect(coordinator.describeGroup('g').groupState).toBe('Empty');
    await stop({ coordinator, engine });
    const again = await start(dataDir);
    expect(again.coordinator.fetchOffsets('g', null).topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset])).toEqual([[0, 1]]);
  });

  it('refuses the topics an active consumer group subscribes to, and takes the others', async () => {
    const { coordinator, engine } = await start();
    await engine.createTopic('consumed', { partitions: 2 });
    await engine.createTopic('old');
    await commit(coordinator, [offsets('consumed', [[0, 5], [1, 6]]), offsets('old', [[0, 7]])]);
    const joined = await coordinator.joinGroup(joinParams({ protocols: [{ name: 'range', metadata: subscription('consumed') }] }));
    expect(joined.errorCode).toBe(E.NONE);

    const result = await coordinator.deleteOffsets('g', ask([['consumed', [0, 1]], ['old', [0]]]));
    expect(result).toEqual({
      errorCode: E.NONE,
      topics: [
        { name: 'consumed', partitions: [{ partitionIndex: 0, errorCode: E.GROUP_SUBSCRIBED_TO_TOPIC }, { partitionIndex: 1, errorCode: E.GROUP_SUBSCRIBED_TO_TOPIC }] },
        { name: 'old', partitions: [{ partitionIndex: 0, errorCode: E.NONE }] },
      ],
    });
    expect(coordinator.fetchOffsets('g', null).topics.map((t) => [t.name, t.partitions.map((p) => p.committedOffset)])).toEqual([['consumed', [5, 6]]]);
  });

  it("reads the topics from the v0 prefix of every ConsumerProtocolSubscription version", () => {
    expect(subscribedTopicsOf(subscription('a', 'b'))).toEqual(['a', 'b']);
    // v3: version 3, then v1-v3 fields (ownedPartitions, generationId, rackId) after the prefix.
    const v3 = Buffer.concat([subscription('t'), Buffer.from('0000000100017400000001000000070000000500ff ff'.replace(/ /g, ''), 'hex')]);
    v3.writeInt16BE(3, 0);
    expect(subscribedTopicsOf(v3)).toEqual(['t']);
    const withUserData = Buffer.concat([subscription('u').subarray(0, -4), Buffer.from('00000002abcd', 'hex')]);
    expect(subscribedTopicsOf(withUserData)).toEqual(['u']);
    for (let cut = 0; cut < withUserData.length; cut++) expect(subscribedTopicsOf(withUserData.subarray(0, cut))).toBeNull();
    expect(subscribedTopicsOf(Buffer.from('ffff00000000ffffffff', 'hex'))).toBeNull(); // negative version
  });

  it('takes a consumer group whose subscriptions it cannot read to subscribe to everything', async () => {
    const { coordinator, engine } = await start();
    await engine.createTopic('t');
    await commit(coordinator, [offsets('t', [[0, 1]])]);
    await coordinator.joinGroup(joinParams({ protocols: [{ name: 'range', metadata: Buffer.from('not a subscription') }] }));
    expect(await coordinator.deleteOffsets('g', ask([['t', [0]]]))).toEqual({
      errorCode: E.NONE,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: E.GROUP_SUBSCRIBED_TO_TOPIC }] }],
    });
  });

  it('refuses a non-consumer group with members, unknown and invalid groups, and a closed coordinator', async () => {
    const { coordinator, engine } = await start();
    await engine.createTopic('t');
    await commit(coordinator, [offsets('t', [[0, 1]])], { groupId: 'workers' });
    await coordinator.joinGroup(joinParams({ groupId: 'workers', protocolType: 'connect' }));
    expect(await coordinator.deleteOffsets('workers', ask([['t', [0]]]))).toEqual({ errorCode: E.NON_EMPTY_GROUP, topics: [] });
    expect(await coordinator.deleteOffsets('nobody', ask([['t', [0]]]))).toEqual({ errorCode: E.GROUP_ID_NOT_FOUND, topics: [] });
    expect(await coordinator.deleteOffsets('', ask([['t', [0]]]))).toEqual({ errorCode: E.INVALID_GROUP_ID, topics: [] });
    expect(coordinator.fetchOffsets('workers', null).topics).toHaveLength(1);
    await coordinator.close();
    expect(await coordinator.deleteOffsets('workers', ask([['t', [0]]]))).toEqual({ errorCode: E.COORDINATOR_NOT_AVAILABLE, topics: [] });
  });
});
