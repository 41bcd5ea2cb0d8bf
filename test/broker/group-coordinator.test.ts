// The group membership protocol, driven through the coordinator's API on a real Engine:
// JoinGroup/SyncGroup generations, heartbeats, session expiry, LeaveGroup, MEMBER_ID_REQUIRED,
// protocol selection, static membership, rebalance timeouts and close. No timing assertions:
// short session and rebalance timeouts only make the waits short.
import { afterEach, describe, expect, it } from 'vitest';

import { Engine } from '../../src/engine/engine.js';
import { KafkaErrorCode as E } from '../../src/errors.js';
import { GroupCoordinator, type JoinGroupParams, type JoinResult, type SyncResult } from '../../src/broker/group/coordinator.js';
import { joinParams } from '../fixtures/join-params.js';
import { tempDir } from '../helpers.js';

const open: Array<{ coordinator: GroupCoordinator; engine: Engine }> = [];

afterEach(async () => {
  for (const { coordinator, engine } of open.splice(0)) {
    await coordinator.close();
    await engine.close();
  }
});

async function setup(config: Record<string, string | number> = {}): Promise<GroupCoordinator> {
  const engine = await Engine.open({ dataDir: tempDir() });
  const coordinator = await GroupCoordinator.open(engine, { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 10, ...config });
  open.push({ coordinator, engine });
  return coordinator;
}

function protocols(...names: string[]) {
  return names.map((name) => ({ name, metadata: Buffer.from(`${name}-metadata`) }));
}

function join(coordinator: GroupCoordinator, overrides: Partial<JoinGroupParams> = {}): Promise<JoinResult> {
  return coordinator.joinGroup(joinParams({ protocols: protocols('range'), ...overrides }));
}

function sync(coordinator: GroupCoordinator, joined: JoinResult, assignments: Array<{ memberId: string; assignment: Buffer }> = [], groupInstanceId: string | null = null): Promise<SyncResult> {
  return coordinator.syncGroup({
    groupId: 'g',
    generationId: joined.generationId,
    memberId: joined.memberId,
    groupInstanceId,
    protocolType: null,
    protocolName: null,
    assignments,
  });
}

function heartbeat(coordinator: GroupCoordinator, joined: JoinResult, groupInstanceId: string | null = null): number {
  return coordinator.heartbeat({ groupId: 'g', generationId: joined.generationId, memberId: joined.memberId, groupInstanceId });
}

function rejoin(coordinator: GroupCoordinator, joined: JoinResult, overrides: Partial<JoinGroupParams> = {}): Promise<JoinResult> {
  return join(coordinator, { memberId: joined.memberId, ...overrides });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Three members join in the same tick and sync; the leader assigns `a-<index>` to each. */
async function stableGroupOfThree(coordinator: GroupCoordinator, overrides: Array<Partial<JoinGroupParams>> = [{}, {}, {}]) {
  const joined = await Promise.all(overrides.map((o, i) => join(coordinator, { clientId: `client-${i}`, ...o })));
  const leader = joined.find((j) => j.memberId === j.leader)!;
  const assignments = joined.map((j, i) => ({ memberId: j.memberId, assignment: Buffer.from(`a-${i}`) }));
  const synced = await Promise.all(joined.map((j) => sync(coordinator, j, j === leader ? assignments : [])));
  return { joined, leader, synced };
}

describe('GroupCoordinator: join and sync', () => {
  it('forms generation 1 from three members: one leader sees all metadata, followers see none', async () => {
    const coordinator = await setup();
    const metadata = [Buffer.from('m0'), Buffer.from('m1'), Buffer.from('m2')];
    const joined = await Promise.all(metadata.map((m, i) => join(coordinator, { clientId: `client-${i}`, protocols: [{ name: 'range', metadata: m }] })));

    for (const [i, result] of joined.entries()) {
      expect(result.errorCode).toBe(E.NONE);
      expect(result.generationId).toBe(1);
      expect(result.protocolType).toBe('consumer');
      expect(result.protocolName).toBe('range');
      expect(result.memberId).toMatch(new RegExp(`^client-${i}-[0-9a-f-]{36}$`));
      expect(result.leader).toBe(joined[0]!.leader);
    }
    const leaders = joined.filter((j) => j.memberId === j.leader);
    expect(leaders).toHaveLength(1);
    expect(leaders[0]!.members).toEqual(joined.map((j, i) => ({ memberId: j.memberId, groupInstanceId: null, metadata: metadata[i] })));
    for (const follower of joined.filter((j) => j !== leaders[0])) expect(follower.members).toEqual([]);
    expect(coordinator.describeGroup('g').groupState).toBe('CompletingRebalance');
  });

  it("distributes the leader's assignment: followers wait for it, an omitted member gets an empty one", async () => {
    const coordinator = await setup();
    const joined = await Promise.all([0, 1, 2].map((i) => join(coordinator, { clientId: `client-${i}` })));
    const leader = joined.find((j) => j.memberId === j.leader)!;
    const followers = joined.filter((j) => j !== leader);

    // Followers first: their SyncGroup is parked until the leader's arrives.
    const followerSyncs = followers.map((f) => sync(coordinator, f));
    const assignments = [
      { memberId: leader.memberId, assignment: Buffer.from('for-leader') },
      { memberId: followers[0]!.memberId, assignment: Buffer.from('for-follower-0') },
      { memberId: 'not-a-member', assignment: Buffer.from('ignored') },
    ];
    const leaderSync = await sync(coordinator, leader, assignments);
    const [first, second] = await Promise.all(followerSyncs);

    expect(leaderSync).toEqual({ errorCode: E.NONE, protocolType: 'consumer', protocolName: 'range', assignment: Buffer.from('for-leader') });
    expect(first!.assignment).toEqual(Buffer.from('for-follower-0'));
    expect(second).toEqual({ errorCode: E.NONE, protocolType: 'consumer', protocolName: 'range', assignment: Buffer.alloc(0) });

    const description = coordinator.describeGroup('g');
    expect(description).toMatchObject({ errorCode: E.NONE, groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(description.members.map((m) => m.memberAssignment.toString())).toEqual(
      joined.map((j) => (j === leader ? 'for-leader' : j === followers[0] ? 'for-follower-0' : '')),
    );
    expect(description.members[0]).toMatchObject({ clientId: 'client-0', clientHost: '/127.0.0.1', memberMetadata: Buffer.from('range-metadata') });

    // A Stable group answers SyncGroup at once with the member's assignment.
    expect((await sync(coordinator, followers[0]!)).assignment).toEqual(Buffer.from('for-follower-0'));
    // ... and a follower rejoining with the same metadata gets the current generation back.
    const again = await rejoin(coordinator, followers[1]!);
    expect(again).toMatchObject({ errorCode: E.NONE, generationId: 1, leader: leader.memberId, members: [] });
    expect(coordinator.describeGroup('g').groupState).toBe('Stable');
  });

  it('validates SyncGroup: unknown group or member, wrong generation, protocol mismatch, during a rebalance', async () => {
    const coordinator = await setup();
    const { joined, leader } = await stableGroupOfThree(coordinator);
    const follower = joined.find((j) => j !== leader)!;
    expect((await coordinator.syncGroup({ groupId: 'other', generationId: 1, memberId: 'x', groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await sync(coordinator, { ...follower, memberId: 'unknown' })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await sync(coordinator, { ...follower, generationId: 7 })).errorCode).toBe(E.ILLEGAL_GENERATION);
    const mismatch = await coordinator.syncGroup({ groupId: 'g', generationId: 1, memberId: follower.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'roundrobin', assignments: [] });
    expect(mismatch.errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect((await coordinator.syncGroup({ groupId: '', generationId: 1, memberId: 'x', groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] })).errorCode).toBe(E.INVALID_GROUP_ID);

    // The leader rejoining a Stable group starts a rebalance.
    const leaderRejoin = rejoin(coordinator, leader);
    expect((await sync(coordinator, follower)).errorCode).toBe(E.REBALANCE_IN_PROGRESS);
    await Promise.all(joined.filter((j) => j !== leader).map((j) => rejoin(coordinator, j)));
    expect((await leaderRejoin).generationId).toBe(2);
  });
});

describe('GroupCoordinator: heartbeats, sessions and leaving', () => {
  it('answers heartbeats with the errors of each situation', async () => {
    const coordinator = await setup();
    const { joined, leader } = await stableGroupOfThree(coordinator);
    const follower = joined.find((j) => j !== leader)!;
    expect(heartbeat(coordinator, follower)).toBe(E.NONE);
    expect(coordinator.heartbeat({ groupId: 'nope', generationId: 1, memberId: follower.memberId, groupInstanceId: null })).toBe(E.UNKNOWN_MEMBER_ID);
    expect(coordinator.heartbeat({ groupId: '', generationId: 1, memberId: follower.memberId, groupInstanceId: null })).toBe(E.INVALID_GROUP_ID);
    expect(heartbeat(coordinator, { ...follower, memberId: 'stranger' })).toBe(E.UNKNOWN_MEMBER_ID);
    expect(heartbeat(coordinator, { ...follower, generationId: 0 })).toBe(E.ILLEGAL_GENERATION);
    expect(heartbeat(coordinator, follower, 'not-static')).toBe(E.UNKNOWN_MEMBER_ID);

    const leaderRejoin = rejoin(coordinator, leader);
    expect(heartbeat(coordinator, follower)).toBe(E.REBALANCE_IN_PROGRESS);
    const rejoined = await Promise.all([leaderRejoin, ...joined.filter((j) => j !== leader).map((j) => rejoin(coordinator, j))]);
    // Between JoinGroup and SyncGroup (CompletingRebalance) a heartbeat is fine, as in Kafka.
    expect(heartbeat(coordinator, rejoined[1]!)).toBe(E.NONE);
    expect(heartbeat(coordinator, follower)).toBe(E.ILLEGAL_GENERATION);
  });

  it('removes a member that stops heartbeating; the others get REBALANCE_IN_PROGRESS and rejoin to generation 2', async () => {
    const coordinator = await setup();
    const { joined } = await stableGroupOfThree(coordinator, [{}, {}, { sessionTimeoutMs: 200 }]);
    const [a, b, silent] = joined as [JoinResult, JoinResult, JoinResult];

    // a and b keep heartbeating until the coordinator tells them to rejoin.
    const errors = new Map<string, number>();
    await waitFor(() => {
      for (const member of [a, b]) if (errors.get(member.memberId) !== E.REBALANCE_IN_PROGRESS) errors.set(member.memberId, heartbeat(coordinator, member));
      return [...errors.values()].every((code) => code === E.REBALANCE_IN_PROGRESS) && errors.size === 2;
    }, 'the silent member to expire');
    expect(coordinator.describeGroup('g').members.map((m) => m.memberId)).not.toContain(silent.memberId);

    const [a2, b2] = await Promise.all([rejoin(coordinator, a), rejoin(coordinator, b)]);
    expect(a2!.generationId).toBe(2);
    expect(b2!.generationId).toBe(2);
    const leader = [a2!, b2!].find((j) => j.memberId === j.leader)!;
    expect(leader.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort());
    expect(heartbeat(coordinator, { ...silent, generationId: 2 })).toBe(E.UNKNOWN_MEMBER_ID);
  });

  it('rebalances when a member leaves, and empties the group when all have left', async () => {
    const coordinator = await setup();
    const { joined, leader } = await stableGroupOfThree(coordinator);
    const [x, y] = joined.filter((j) => j !== leader) as [JoinResult, JoinResult];

    const left = await coordinator.leaveGroup('g', [
      { memberId: x.memberId, groupInstanceId: null },
      { memberId: 'stranger', groupInstanceId: null },
      { memberId: '', groupInstanceId: 'no-such-instance' },
    ]);
    expect(left).toEqual({
      errorCode: E.NONE,
      members: [
        { memberId: x.memberId, groupInstanceId: null, errorCode: E.NONE },
        { memberId: 'stranger', groupInstanceId: null, errorCode: E.UNKNOWN_MEMBER_ID },
        { memberId: '', groupInstanceId: 'no-such-instance', errorCode: E.UNKNOWN_MEMBER_ID },
      ],
    });
    expect(heartbeat(coordinator, y)).toBe(E.REBALANCE_IN_PROGRESS);
    const [l2, y2] = await Promise.all([rejoin(coordinator, leader), rejoin(coordinator, y)]);
    expect(l2!.generationId).toBe(2);
    expect(l2!.members).toHaveLength(2);
    expect(y2!.generationId).toBe(2);

    expect((await coordinator.leaveGroup('unknown-group', [{ memberId: 'm', groupInstanceId: null }])).members[0]!.errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await coordinator.leaveGroup('', [])).errorCode).toBe(E.INVALID_GROUP_ID);
    await coordinator.leaveGroup('g', [
      { memberId: l2!.memberId, groupInstanceId: null },
      { memberId: y2!.memberId, groupInstanceId: null },
    ]);
    expect(coordinator.describeGroup('g')).toMatchObject({ groupState: 'Empty', members: [] });
    expect(coordinator.listGroups().groups).toEqual([{ groupId: 'g', protocolType: 'consumer', groupState: 'Empty', groupType: 'classic' }]);
  });

  it('completes a rebalance without the members that did not rejoin within the rebalance timeout', async () => {
    const coordinator = await setup();
    const { joined, leader } = await stableGroupOfThree(coordinator, [{ rebalanceTimeoutMs: 200 }, { rebalanceTimeoutMs: 200 }, { rebalanceTimeoutMs: 200 }]);
    // Only the leader rejoins; the others never answer the rebalance.
    const rejoined = await rejoin(coordinator, leader, { rebalanceTimeoutMs: 200 });
    expect(rejoined).toMatchObject({ errorCode: E.NONE, generationId: 2, leader: leader.memberId });
    expect(rejoined.members.map((m) => m.memberId)).toEqual([leader.memberId]);
    for (const gone of joined.filter((j) => j !== leader)) expect(heartbeat(coordinator, { ...gone, generationId: 2 })).toBe(E.UNKNOWN_MEMBER_ID);
  });

  it('rejects session timeouts outside group.min/max.session.timeout.ms', async () => {
    const coordinator = await setup({ 'group.min.session.timeout.ms': 1000, 'group.max.session.timeout.ms': 2000 });
    expect((await join(coordinator, { sessionTimeoutMs: 999 })).errorCode).toBe(E.INVALID_SESSION_TIMEOUT);
    expect((await join(coordinator, { sessionTimeoutMs: 2001 })).errorCode).toBe(E.INVALID_SESSION_TIMEOUT);
    expect((await join(coordinator, { sessionTimeoutMs: 1500 })).errorCode).toBe(E.NONE);
  });
});

describe('GroupCoordinator: member ids and protocols', () => {
  it('asks a new v4+ member to rejoin with the id it hands out (MEMBER_ID_REQUIRED)', async () => {
    const coordinator = await setup();
    const first = await join(coordinator, { requireKnownMemberId: true, clientId: 'rdkafka' });
    expect(first).toMatchObject({ errorCode: E.MEMBER_ID_REQUIRED, generationId: -1, leader: '', members: [] });
    expect(first.memberId).toMatch(/^rdkafka-[0-9a-f-]{36}$/);
    expect(coordinator.describeGroup('g')).toMatchObject({ groupState: 'Empty', members: [] });

    const second = await join(coordinator, { requireKnownMemberId: true, clientId: 'rdkafka', memberId: first.memberId });
    expect(second).toMatchObject({ errorCode: E.NONE, generationId: 1, memberId: first.memberId, leader: first.memberId });

    expect((await join(coordinator, { memberId: 'made-up' })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await join(coordinator, { groupId: 'fresh', memberId: 'made-up' })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await join(coordinator, { groupId: '' })).errorCode).toBe(E.INVALID_GROUP_ID);
  });

  it('refuses members whose protocol type or protocols do not fit the group (INCONSISTENT_GROUP_PROTOCOL)', async () => {
    const coordinator = await setup();
    expect((await join(coordinator, { protocols: [] })).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect((await join(coordinator, { protocolType: '' })).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    await stableGroupOfThree(coordinator, [{ protocols: protocols('range', 'roundrobin') }, { protocols: protocols('range') }, {}]);
    expect((await join(coordinator, { protocols: protocols('roundrobin') })).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect((await join(coordinator, { protocolType: 'connect' })).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect(coordinator.describeGroup('g').members).toHaveLength(3);
  });

  it('chooses the protocol every member supports with the most votes by preference', async () => {
    const coordinator = await setup();
    const [a] = await Promise.all([
      join(coordinator, { protocols: protocols('range', 'roundrobin', 'sticky') }),
      join(coordinator, { protocols: protocols('roundrobin', 'range') }),
      join(coordinator, { protocols: protocols('roundrobin', 'range') }),
    ]);
    expect(a!.protocolName).toBe('roundrobin');

    const other = await Promise.all([
      join(coordinator, { groupId: 'g2', protocols: protocols('sticky', 'range', 'roundrobin') }),
      join(coordinator, { groupId: 'g2', protocols: protocols('range', 'roundrobin') }),
      join(coordinator, { groupId: 'g2', protocols: protocols('range', 'sticky', 'roundrobin') }),
    ]);
    // sticky is not supported by everyone, so the first member votes for its next choice, range.
    expect(other[0]!.protocolName).toBe('range');
  });

  it('waits group.initial.rebalance.delay.ms for more members before the first generation', async () => {
    const coordinator = await setup({ 'group.initial.rebalance.delay.ms': 100 });
    const first = join(coordinator, { clientId: 'early' });
    await sleep(20); // well inside the first delay: timers fire in deadline order
    const second = join(coordinator, { clientId: 'late' });
    const [a, b] = await Promise.all([first, second]);
    expect(a!.generationId).toBe(1);
    expect(b!.generationId).toBe(1);
    expect(a!.members.length + b!.members.length).toBe(2);
  });
});

describe('GroupCoordinator: static membership', () => {
  it('gives a restarted static member a new id and the current generation without a rebalance, and fences the old id', async () => {
    const coordinator = await setup();
    const { joined, leader, synced } = await stableGroupOfThree(coordinator, [{ groupInstanceId: 'instance-a' }, {}, {}]);
    const staticMember = joined[0]!;
    expect(staticMember.memberId).toMatch(/^instance-a-/);
    const follower = joined[1]!;

    const restarted = await join(coordinator, { groupInstanceId: 'instance-a', clientId: 'client-0' });
    expect(restarted.errorCode).toBe(E.NONE);
    expect(restarted.memberId).not.toBe(staticMember.memberId);
    expect(restarted.memberId).toMatch(/^instance-a-/);
    expect(restarted.generationId).toBe(1);
    // The old leader id is returned, so a rejoining leader does not compute a new assignment.
    expect(restarted.leader).toBe(leader.memberId);
    expect(restarted.members).toEqual([]);
    expect(coordinator.describeGroup('g').groupState).toBe('Stable');

    // The old id is fenced; the new one syncs to the member's assignment and heartbeats.
    expect(heartbeat(coordinator, staticMember, 'instance-a')).toBe(E.FENCED_INSTANCE_ID);
    expect((await sync(coordinator, staticMember, [], 'instance-a')).errorCode).toBe(E.FENCED_INSTANCE_ID);
    const resynced = await sync(coordinator, restarted, [], 'instance-a');
    expect(resynced).toMatchObject({ errorCode: E.NONE, assignment: synced[0]!.assignment });
    expect(heartbeat(coordinator, restarted, 'instance-a')).toBe(E.NONE);
    expect(heartbeat(coordinator, follower)).toBe(E.NONE);

    // LeaveGroup by instance id alone removes the static member (and rebalances).
    const left = await coordinator.leaveGroup('g', [{ memberId: '', groupInstanceId: 'instance-a' }]);
    expect(left.members[0]!.errorCode).toBe(E.NONE);
    expect(heartbeat(coordinator, follower)).toBe(E.REBALANCE_IN_PROGRESS);
  });

  it('tells a rejoining static leader (v9+) that it leads but must skip the assignment', async () => {
    const coordinator = await setup();
    const { joined } = await stableGroupOfThree(coordinator, [{ groupInstanceId: 'leader-instance' }, {}, {}]);
    expect(joined[0]!.leader).toBe(joined[0]!.memberId);
    const restarted = await join(coordinator, { groupInstanceId: 'leader-instance', supportSkippingAssignment: true });
    expect(restarted).toMatchObject({ errorCode: E.NONE, generationId: 1, leader: restarted.memberId, skipAssignment: true });
    expect(restarted.members).toHaveLength(3);
    expect(coordinator.describeGroup('g').groupState).toBe('Stable');
  });

  it('rebalances when a restarted static member changes the protocol the group would choose', async () => {
    const coordinator = await setup();
    const { joined } = await stableGroupOfThree(coordinator, [
      { groupInstanceId: 'i0', protocols: protocols('range', 'roundrobin') },
      { protocols: protocols('roundrobin', 'range') },
      { protocols: protocols('range', 'roundrobin') },
    ]);
    expect(joined[0]!.protocolName).toBe('range');
    const restarted = join(coordinator, { groupInstanceId: 'i0', protocols: protocols('roundrobin', 'range') });
    expect(heartbeat(coordinator, joined[1]!)).toBe(E.REBALANCE_IN_PROGRESS);
    const [r0, r1, r2] = await Promise.all([restarted, rejoin(coordinator, joined[1]!, { protocols: protocols('roundrobin', 'range') }), rejoin(coordinator, joined[2]!, { protocols: protocols('range', 'roundrobin') })]);
    expect(r0!.generationId).toBe(2);
    expect(r1!.protocolName).toBe('roundrobin');
    expect(r2!.generationId).toBe(2);
  });

  it('keeps a static member that did not rejoin in the next generation, until it fails to sync', async () => {
    const coordinator = await setup();
    const { joined, leader } = await stableGroupOfThree(coordinator, [
      { rebalanceTimeoutMs: 100 },
      { groupInstanceId: 'lazy', rebalanceTimeoutMs: 100, sessionTimeoutMs: 5000 },
      { rebalanceTimeoutMs: 100 },
    ]);
    expect(leader).toBe(joined[0]);
    const [l2, d2] = await Promise.all([rejoin(coordinator, leader, { rebalanceTimeoutMs: 100 }), rejoin(coordinator, joined[2]!, { rebalanceTimeoutMs: 100 })]);
    // Generation 2 still lists the static member, which was not removed by the rebalance timeout.
    expect(l2!.members.map((m) => m.memberId)).toContain(joined[1]!.memberId);
    expect(l2!.members.find((m) => m.memberId === joined[1]!.memberId)!.groupInstanceId).toBe('lazy');
    // It never sends SyncGroup (nor heartbeats): it is removed, which starts generation 3 without it.
    await Promise.all([sync(coordinator, l2!, []), sync(coordinator, d2!)]);
    await waitFor(() => heartbeat(coordinator, l2!) === E.REBALANCE_IN_PROGRESS, 'the static member to expire');
    const [l3] = await Promise.all([rejoin(coordinator, l2!, { rebalanceTimeoutMs: 100 }), rejoin(coordinator, d2!, { rebalanceTimeoutMs: 100 })]);
    expect(l3!.generationId).toBe(3);
    expect(l3!.members.map((m) => m.memberId)).not.toContain(joined[1]!.memberId);
  });
});

describe('GroupCoordinator: close', () => {
  it('answers parked JoinGroup and SyncGroup requests, then refuses everything', async () => {
    const coordinator = await setup();
    const [a, b] = await Promise.all([join(coordinator), join(coordinator)]);
    const follower = a!.memberId === a!.leader ? b! : a!;
    const parkedSync = sync(coordinator, follower);
    // Closed in the same tick, before the (0 ms) initial delay of group 'slow' can complete its join.
    const parkedJoin = join(coordinator, { groupId: 'slow' });
    await coordinator.close();
    expect((await parkedSync).errorCode).toBe(E.NOT_COORDINATOR);
    expect((await parkedJoin).errorCode).toBe(E.NOT_COORDINATOR);
    expect((await join(coordinator)).errorCode).toBe(E.COORDINATOR_NOT_AVAILABLE);
    expect(heartbeat(coordinator, follower)).toBe(E.COORDINATOR_NOT_AVAILABLE);
    expect(coordinator.listGroups().errorCode).toBe(E.COORDINATOR_NOT_AVAILABLE);
  });
});
