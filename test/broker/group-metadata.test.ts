// Group metadata in __consumer_offsets (issue 9): Kafka's GroupMetadata record byte for byte; a
// restarted coordinator takes its groups over with their generations, members and assignments
// (members heartbeat and commit on as before, or expire); DeleteGroups and offset expiry
// (offsets.retention.minutes) leave tombstones that outlast a restart; compaction keeps the topic a
// few segments long through 100,000 commits.
import { afterEach, describe, expect, it } from 'vitest';

import { Engine } from '../../src/engine/engine.js';
import { KafkaErrorCode as E } from '../../src/errors.js';
import { GroupCoordinator } from '../../src/broker/group/coordinator.js';
import { decodeGroupMetadataKey, decodeGroupMetadataValue, encodeGroupMetadataKey, encodeGroupMetadataValue, isGroupMetadataKey } from '../../src/broker/group/group-metadata-format.js';
import { offsetsPartitionFor } from '../../src/broker/group/offset-format.js';
import { joinParams } from '../fixtures/join-params.js';
import { tempDir } from '../helpers.js';

const PARTITIONS = 3;
const CONFIG = { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 10, 'offsets.topic.num.partitions': PARTITIONS };
const opened: Array<{ coordinator: GroupCoordinator; engine: Engine }> = [];

afterEach(async () => {
  for (const { coordinator, engine } of opened.splice(0)) {
    await coordinator.close();
    await engine.close();
  }
});

async function start(dataDir: string, config: Record<string, string | number> = CONFIG, nowMs: () => number = Date.now, engineConfig: Record<string, string | number> = {}) {
  const engine = await Engine.open({ dataDir, config: engineConfig });
  const coordinator = await GroupCoordinator.open(engine, config, { nowMs });
  const handle = { coordinator, engine };
  opened.push(handle);
  return handle;
}

async function stop(handle: { coordinator: GroupCoordinator; engine: Engine }) {
  opened.splice(opened.indexOf(handle), 1);
  await handle.coordinator.close();
  await handle.engine.close();
}

/** Two members join 'g' and the leader hands out an assignment: generation 1, Stable. */
async function stableGroup(coordinator: GroupCoordinator, sessionTimeoutMs = 10_000) {
  const [a, b] = await Promise.all([
    coordinator.joinGroup(joinParams({ clientId: 'a', sessionTimeoutMs })),
    coordinator.joinGroup(joinParams({ clientId: 'b', sessionTimeoutMs })),
  ]);
  const leader = a!.leader === a!.memberId ? a! : b!;
  const follower = leader === a ? b! : a!;
  const assignments = [
    { memberId: leader.memberId, assignment: Buffer.from('to-leader') },
    { memberId: follower.memberId, assignment: Buffer.from('to-follower') },
  ];
  const sync = (memberId: string, mine: typeof assignments) =>
    coordinator.syncGroup({ groupId: 'g', generationId: leader.generationId, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: mine });
  const [leaderSync, followerSync] = await Promise.all([sync(leader.memberId, assignments), sync(follower.memberId, [])]);
  expect(leaderSync.errorCode).toBe(E.NONE);
  expect(followerSync.assignment.toString()).toBe('to-follower');
  return { leader, follower, generationId: leader.generationId };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('GroupMetadata records', () => {
  it('encodes GroupMetadataKey v2 and GroupMetadataValue v3 byte for byte, and reads them back', () => {
    const key = encodeGroupMetadataKey('g1');
    expect(key.toString('hex')).toBe(['0002', '0002', Buffer.from('g1').toString('hex')].join(''));
    expect(isGroupMetadataKey(key)).toBe(true);
    expect(decodeGroupMetadataKey(key)).toBe('g1');
    const record = {
      protocolType: 'consumer',
      generationId: 7,
      protocolName: 'range',
      leaderId: 'm1',
      currentStateTimestamp: 1_700_000_000_000,
      members: [{ memberId: 'm1', groupInstanceId: null, clientId: 'c', clientHost: '/h', rebalanceTimeoutMs: 300, sessionTimeoutMs: 100, subscription: Buffer.from([1, 2]), assignment: Buffer.from([3]) }],
    };
    const value = encodeGroupMetadataValue(record);
    const hexString = (text: string) => Buffer.from(text).length.toString(16).padStart(4, '0') + Buffer.from(text).toString('hex');
    expect(value.toString('hex')).toBe(
      [
        '0003', hexString('consumer'), '00000007', hexString('range'), hexString('m1'), (1_700_000_000_000).toString(16).padStart(16, '0'), '00000001',
        hexString('m1'), 'ffff', hexString('c'), hexString('/h'), '0000012c', '00000064', '00000002', '0102', '00000001', '03',
      ].join(''),
    );
    expect(decodeGroupMetadataValue(value)).toEqual(record);
  });

  it('reads version 0 (no rebalance timeout, state timestamp or instance id)', () => {
    const v0 = Buffer.concat([
      Buffer.from('0000', 'hex'), Buffer.from('0008', 'hex'), Buffer.from('consumer'), Buffer.from('00000002', 'hex'), Buffer.from('ffff', 'hex'), Buffer.from('ffff', 'hex'), Buffer.from('00000000', 'hex'),
    ]);
    expect(decodeGroupMetadataValue(v0)).toEqual({ protocolType: 'consumer', generationId: 2, protocolName: null, leaderId: null, currentStateTimestamp: -1, members: [] });
  });
});

describe('a restarted coordinator takes its groups over', () => {
  it('keeps the generation, members and assignments: members heartbeat, sync and commit on', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    await first.engine.createTopic('t');
    const { leader, follower, generationId } = await stableGroup(first.coordinator);
    await stop(first);

    const second = await start(dataDir);
    const described = second.coordinator.describeGroup('g');
    expect(described.groupState).toBe('Stable');
    expect(described.protocolData).toBe('range');
    expect(described.members.map((m) => m.memberId).sort()).toEqual([leader.memberId, follower.memberId].sort());
    expect(described.members.find((m) => m.memberId === follower.memberId)!.memberAssignment.toString()).toBe('to-follower');
    expect(second.coordinator.heartbeat({ groupId: 'g', generationId, memberId: follower.memberId, groupInstanceId: null })).toBe(E.NONE);
    const again = await second.coordinator.syncGroup({ groupId: 'g', generationId, memberId: leader.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] });
    expect(again).toMatchObject({ errorCode: E.NONE, assignment: Buffer.from('to-leader') });
    const committed = await second.coordinator.commitOffsets({
      groupId: 'g', generationId, memberId: leader.memberId, groupInstanceId: null,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    expect(committed[0]!.partitions[0]!.errorCode).toBe(E.NONE);
    // A stale generation is still refused.
    expect(second.coordinator.heartbeat({ groupId: 'g', generationId: generationId - 1, memberId: follower.memberId, groupInstanceId: null })).toBe(E.ILLEGAL_GENERATION);
  });

  it('expires restored members that do not come back, and stores the Empty generation', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    const { generationId } = await stableGroup(first.coordinator, 200);
    await stop(first);

    const second = await start(dataDir);
    expect(second.coordinator.describeGroup('g').groupState).toBe('Stable');
    // Nobody heartbeats: both sessions (200 ms) end, the group rebalances to Empty.
    await waitFor(() => second.coordinator.describeGroup('g').groupState === 'Empty', 'the restored group to empty');
    await stop(second);

    const third = await start(dataDir);
    const described = third.coordinator.describeGroup('g');
    expect(described.groupState).toBe('Empty');
    expect(described.members).toEqual([]);
    // The next generation continues from the stored one.
    const joined = await third.coordinator.joinGroup(joinParams());
    expect(joined.generationId).toBe(generationId + 2);
  });

  it('forgets a deleted group for good: its metadata and offsets get tombstones', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    await first.engine.createTopic('t');
    await stableGroup(first.coordinator, 100);
    await waitFor(() => first.coordinator.describeGroup('g').groupState === 'Empty', 'the group to empty');
    await first.coordinator.commitOffsets({ groupId: 'g', generationId: -1, memberId: '', groupInstanceId: null, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 3, committedLeaderEpoch: -1, committedMetadata: null }] }] });
    expect(await first.coordinator.deleteGroups(['g'])).toEqual([{ groupId: 'g', errorCode: E.NONE }]);
    const partition = offsetsPartitionFor('g', PARTITIONS);
    const records = (await first.engine.fetch('__consumer_offsets', partition, { offset: 0 })).records;
    const last = records.at(-1)!;
    expect(isGroupMetadataKey(last.key!)).toBe(true);
    expect(last.value).toBeNull();
    await stop(first);

    const second = await start(dataDir);
    expect(second.coordinator.describeGroup('g').groupState).toBe('Dead');
    expect(second.coordinator.fetchOffsets('g', null).topics).toEqual([]);
  });
});

describe('offsets.retention.minutes', () => {
  it("expires an Empty group's offsets after the retention, then the group, durably", async () => {
    const dataDir = tempDir();
    let now = 1_700_000_000_000;
    const config = { ...CONFIG, 'offsets.retention.minutes': 1, 'offsets.retention.check.interval.ms': 20 };
    const first = await start(dataDir, config, () => now);
    await first.engine.createTopic('t', { partitions: 2 });
    // A consumer group that commits and then becomes Empty, and a standalone committer (no group management).
    const commit = (groupId: string, generationId = -1, memberId = '') =>
      first.coordinator.commitOffsets({ groupId, generationId, memberId, groupInstanceId: null, topics: [{ name: 't', partitions: [{ partitionIndex: 1, committedOffset: 9, committedLeaderEpoch: -1, committedMetadata: null }] }] });
    const { leader, generationId } = await stableGroup(first.coordinator, 100);
    expect((await commit('g', generationId, leader.memberId))[0]!.partitions[0]!.errorCode).toBe(E.NONE);
    await waitFor(() => first.coordinator.describeGroup('g').groupState === 'Empty', 'the group to empty');
    now += 30_000;
    await commit('standalone');
    // 59 s after g emptied: nothing expires yet.
    now += 29_000;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(first.coordinator.fetchOffsets('g', null).topics).toHaveLength(1);
    // 61 s: g's offsets (counted from when it emptied) go, and g with them; standalone's commit is 31 s old.
    now += 2_000;
    await waitFor(() => first.coordinator.describeGroup('g').groupState === 'Dead', 'g to expire');
    expect(first.coordinator.fetchOffsets('standalone', null).topics).toHaveLength(1);
    now += 30_000;
    await waitFor(() => first.coordinator.describeGroup('standalone').groupState === 'Dead', 'standalone to expire');
    await stop(first);

    const second = await start(dataDir, config, () => now);
    expect(second.coordinator.fetchOffsets('g', null).topics).toEqual([]);
    expect(second.coordinator.fetchOffsets('standalone', null).topics).toEqual([]);
    expect(second.coordinator.listGroups().groups).toEqual([]);
  });
});

describe('offsets.retention.minutes of a consumer group (KIP-848)', () => {
  it("keeps a member's subscribed topics' offsets, expires the others, and all of them once the group has been Empty that long", async () => {
    let now = 1_700_000_000_000;
    const config = { ...CONFIG, 'offsets.retention.minutes': 1, 'offsets.retention.check.interval.ms': 20 };
    const dataDir = tempDir();
    const handle = await start(dataDir, config, () => now);
    const { coordinator, engine } = handle;
    await engine.createTopic('t');
    await engine.createTopic('u');
    const beat = (memberEpoch: number) =>
      coordinator.consumerGroupHeartbeat({
        groupId: 'cg', memberId: 'm', memberEpoch, instanceId: null, rackId: null, rebalanceTimeoutMs: 30_000, subscribedTopicNames: ['t'],
        subscribedTopicRegex: null, serverAssignor: null, topicPartitions: [], clientId: 'c', clientHost: '/127.0.0.1', memberIdFromClient: true,
      });
    expect((await beat(0)).memberEpoch).toBe(1);
    const commit = (topic: string) =>
      coordinator.commitOffsets({ groupId: 'cg', generationId: 1, memberId: 'm', groupInstanceId: null, topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: null }] }] });
    for (const topic of ['t', 'u']) expect((await commit(topic))[0]!.partitions[0]!.errorCode).toBe(E.NONE);
    const topics = () => coordinator.fetchOffsets('cg', null).topics.map((t) => t.name).sort();
    now += 61_000;
    await waitFor(() => topics().join() === 't', "u's offset to expire (no member subscribes to u)");
    // A heartbeat keeps the member; leaving empties the group, from when t's offset counts.
    await beat(1);
    expect((await beat(-1)).errorCode).toBe(E.NONE);
    now += 59_000;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(topics()).toEqual(['t']);
    now += 2_000;
    await waitFor(() => topics().length === 0, "t's offset to expire once the group has been Empty for the retention");
    // Empty and without offsets, the group is gone too, also after a restart.
    await waitFor(() => coordinator.listGroups().groups.length === 0, 'the group to go');
    await stop(handle);
    const again = await start(dataDir, config, () => now);
    expect(again.coordinator.listGroups().groups).toEqual([]);
  });
});

describe('__consumer_offsets is compacted', () => {
  it('stays a few segments after 100,000 commits of a few groups, and a restart keeps the latest offsets and generations', async () => {
    const dataDir = tempDir();
    // 64 KiB segments roll every ~600 commits. The test runs a cleaning pass every 5,000 commits,
    // as the background cleaner would once the dirty ratio passes 0.5 (its own timing is the
    // cleaner's tests' business).
    const config = { ...CONFIG, 'offsets.topic.segment.bytes': 64 * 1024 };
    const engineConfig = { 'log.cleaner.enable': 'false' };
    const first = await start(dataDir, config, Date.now, engineConfig);
    await first.engine.createTopic('t', { partitions: 4 });
    const { leader, follower, generationId } = await stableGroup(first.coordinator);
    const COMMITS = 100_000;
    const groups = ['g', 'a', 'b', 'c'];
    // Commit i is group i % 4's, of partition (i / 4) % 4.
    const partitionOf = (i: number) => Math.floor(i / groups.length) % 4;
    let maxSegments = 0;
    for (let i = 0; i < COMMITS; i++) {
      const groupId = groups[i % groups.length]!;
      const member = groupId === 'g' ? { generationId, memberId: leader.memberId } : { generationId: -1, memberId: '' };
      const [answer] = await first.coordinator.commitOffsets({
        groupId, groupInstanceId: null, ...member,
        topics: [{ name: 't', partitions: [{ partitionIndex: partitionOf(i), committedOffset: i, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
      expect(answer!.partitions[0]!.errorCode).toBe(E.NONE);
      // The members heartbeat as real ones would: on a busy machine the loop outlasts their 10 s sessions.
      if (i % 1000 === 999) {
        for (const { memberId } of [leader, follower]) expect(first.coordinator.heartbeat({ groupId: 'g', generationId, memberId, groupInstanceId: null })).toBe(E.NONE);
      }
      if (i % 5000 === 4999) {
        await first.engine.compactNow('__consumer_offsets');
        maxSegments = Math.max(maxSegments, ...groups.map((group) => first.engine.partitionLog('__consumer_offsets', offsetsPartitionFor(group, PARTITIONS)).segmentCount));
      }
    }
    // Uncompacted, the busiest partition would hold ~80 segments (its 50,000 commits of ~100 B in
    // 64 KiB ones). Each pass merges what earlier passes left (Kafka groups segments by their size).
    expect(maxSegments).toBeLessThanOrEqual(8);
    await stop(first);

    const second = await start(dataDir, config, Date.now, engineConfig);
    for (const [index, groupId] of groups.entries()) {
      const latest = [0, 1, 2, 3].map((partition) => {
        let i = COMMITS - 1;
        while (i % groups.length !== index || partitionOf(i) !== partition) i--;
        return i;
      });
      const fetched = second.coordinator.fetchOffsets(groupId, [{ name: 't', partitionIndexes: [0, 1, 2, 3] }]).topics[0]!.partitions;
      expect(fetched.map((p) => p.committedOffset), groupId).toEqual(latest);
    }
    const described = second.coordinator.describeGroup('g');
    expect(described.groupState).toBe('Stable');
    expect(second.coordinator.heartbeat({ groupId: 'g', generationId, memberId: leader.memberId, groupInstanceId: null })).toBe(E.NONE);
  }, 180_000);
});

describe('a cluster coordinator', () => {
  it('that comes to lead an offsets partition while it is still joining its cluster takes the groups over', async () => {
    // Commits written by a coordinator, then a restart as a cluster member: etcd still names it
    // leader, so leadership arrives during its join, before its host can say it leads anything.
    const dataDir = tempDir();
    const first = await start(dataDir);
    await first.engine.createTopic('t', { partitions: 1 });
    const committed = await first.coordinator.commitOffsets({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    expect(committed[0]!.partitions[0]!.errorCode).toBe(E.NONE);
    await stop(first);

    const engine = await Engine.open({ dataDir });
    let joined = false;
    const host = {
      leads: () => joined,
      append: async () => {},
      ensureTopic: async () => {},
    };
    const coordinator = await GroupCoordinator.open(engine, CONFIG, { offsetsHost: host });
    opened.push({ coordinator, engine });
    const partition = offsetsPartitionFor('g', PARTITIONS);
    coordinator.onOffsetsLeadership(partition, true);
    // The load reads while the join goes on; the join completes afterwards.
    await waitFor(() => !coordinator['manager'].isLoading(partition), 'the partition to load');
    joined = true;
    expect(coordinator.fetchOffsets('g', null).topics).toEqual([{ name: 't', partitions: [expect.objectContaining({ partitionIndex: 0, committedOffset: 42 })] }]);
  });
});

describe('consumer groups (KIP-848) under random heartbeats', () => {
  it('never hands one partition to two members, and settles balanced once every member heartbeats', async () => {
    const handle = await start(tempDir(), { ...CONFIG, 'group.consumer.session.timeout.ms': 600_000 });
    const { coordinator, engine } = handle;
    await engine.createTopic('t', { partitions: 6 });
    let seed = 20261205;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    interface Sim { id: string; epoch: number; owned: Array<{ topicId: string; partitions: number[] }> }
    const members: Sim[] = [];
    let next = 0;
    const beat = (sim: Sim, memberEpoch = sim.epoch, owned = sim.owned) =>
      coordinator.consumerGroupHeartbeat({
        groupId: 'g', memberId: sim.id, memberEpoch, instanceId: null, rackId: null, rebalanceTimeoutMs: 600_000, subscribedTopicNames: ['t'],
        subscribedTopicRegex: null, serverAssignor: null, topicPartitions: memberEpoch === 0 ? [] : owned, clientId: sim.id, clientHost: '/127.0.0.1', memberIdFromClient: true,
      });
    // A client gives up what an answer lacks and takes what it has: it owns the last assignment it got.
    const honest = async (sim: Sim) => {
      const answer = await beat(sim);
      if (answer.errorCode === E.FENCED_MEMBER_EPOCH || answer.errorCode === E.UNKNOWN_MEMBER_ID) {
        sim.epoch = 0;
        sim.owned = [];
        return;
      }
      expect(answer.errorCode).toBe(E.NONE);
      sim.epoch = answer.memberEpoch;
      if (answer.assignment !== null) sim.owned = answer.assignment.topicPartitions;
    };
    const expectDisjoint = () => {
      const seen = new Set<string>();
      for (const sim of members) {
        for (const { topicId, partitions } of sim.owned) {
          for (const p of partitions) {
            expect(seen.has(`${topicId}:${p}`)).toBe(false);
            seen.add(`${topicId}:${p}`);
          }
        }
      }
    };
    for (let step = 0; step < 1500; step++) {
      const action = random(10);
      if (members.length === 0 || action === 0) {
        const sim = { id: `m${next++}`, epoch: 0, owned: [] };
        members.push(sim);
        await honest(sim);
      } else if (action === 1 && members.length > 1) {
        const [gone] = members.splice(random(members.length), 1);
        expect((await beat(gone!, -1)).errorCode).toBe(E.NONE);
      } else if (action === 2) {
        // A stale or lost answer: an older epoch, or owning what it was never given, is refused or taken safely.
        const sim = members[random(members.length)]!;
        const answer = await beat(sim, Math.max(sim.epoch - 1 - random(2), 1), [{ topicId: engine.topicId('t')!, partitions: [0, 1, 2, 3, 4, 5] }]);
        expect([E.NONE, E.FENCED_MEMBER_EPOCH]).toContain(answer.errorCode);
        if (answer.errorCode === E.FENCED_MEMBER_EPOCH) {
          sim.epoch = 0;
          sim.owned = [];
        }
      } else if (action === 3 && step % 500 === 3) {
        await engine.createPartitions('t', engine.partitionCount('t') + 2);
      } else {
        await honest(members[random(members.length)]!);
      }
      expectDisjoint();
    }
    // Everyone heartbeats until nothing changes: every partition owned, counts within one.
    for (let round = 0; round < 20; round++) for (const sim of members) await honest(sim);
    expectDisjoint();
    const counts = members.map((sim) => sim.owned.reduce((n, t) => n + t.partitions.length, 0));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(engine.partitionCount('t'));
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(coordinator.describeConsumerGroup('g').groupState).toBe('Stable');
    await stop(handle);
  }, 120_000);
});
