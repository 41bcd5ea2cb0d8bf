// The group APIs' handlers, called with real wire bytes: each request is encoded and decoded by the
// protocol codec, handled with a fake RequestContext, and the response encoded and decoded again,
// so that field names and per-version differences are checked against the codec's schemas.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { Engine } from '../../src/engine/engine.js';
import { KafkaErrorCode as E, SluiceError } from '../../src/errors.js';
import { GroupCoordinator } from '../../src/broker/group/coordinator.js';
import type { AnyApiHandler, BrokerContext, RequestContext } from '../../src/broker/handler.js';
import { groupHandlers } from '../../src/broker/handlers/groups.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { decodeAssignment, encodeAssignment, encodeSubscription } from '../../src/protocol/consumer-protocol.js';
import { decodeResponse, encodeRequest, encodeResponse, readRequestHeader, type RequestHeader } from '../../src/protocol/index.js';
import { tempDir } from '../helpers.js';
import { noAuthorizer } from '../fixtures/no-authorizer.js';
import { anonymousClient } from '../../src/broker/client-quotas.js';

let engine: Engine;
let coordinator: GroupCoordinator;
let handlers: Map<number, AnyApiHandler>;

const broker = {
  settings: { nodeId: 3 },
  listener: { name: 'PLAINTEXT', advertisedHost: 'broker.example', advertisedPort: () => 19092, sasl: null },
  cluster: () => null,
  authorizer: noAuthorizer(),
  // group.version at its default: the consumer group protocol is served.
  features: { level: () => 1 },
} as unknown as BrokerContext;

beforeEach(async () => {
  engine = await Engine.open({ dataDir: tempDir() });
  coordinator = await GroupCoordinator.open(engine, { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 10 });
  handlers = new Map(groupHandlers(coordinator).map((handler) => [handler.apiKey, handler]));
});

afterEach(async () => {
  await coordinator.close();
  await engine.close();
});

/** Encodes `body` as a request of `apiKey` v`apiVersion`, handles it, and decodes the response as a client would. */
async function call(apiKey: number, apiVersion: number, body: object, clientId: string | null = 'test-client'): Promise<any> {
  const handler = handlers.get(apiKey)!;
  expect(apiVersion).toBeGreaterThanOrEqual(handler.minVersion);
  expect(apiVersion).toBeLessThanOrEqual(handler.maxVersion);
  const frame = encodeRequest({ apiKey, apiVersion, correlationId: 41, clientId }, body).subarray(4);
  const { header, bodyOffset } = readRequestHeader(frame);
  const context: RequestContext = {
    broker,
    header: header as RequestHeader,
    clientHost: '10.0.0.7',
    sasl: null,
    authentication: 'none',
    quotaClient: anonymousClient(clientId ?? ''),
    onResponseSent: () => {},
    signal: new AbortController().signal,
    park: (event) => event,
    detach: (event) => event,
    throttle: () => {},
  };
  // The connection's path: the handler decodes the body with its API's schema, then answers it.
  const response = await handler.decode(header, frame, bodyOffset)(context);
  const bytes = Buffer.concat(encodeResponse(header, response!) as Buffer[]).subarray(4);
  const { correlationId, body: decoded } = decodeResponse(header, bytes);
  expect(correlationId).toBe(41);
  return decoded;
}

const metadata = Buffer.from([0, 1, 0, 0, 0, 1, 0, 1, 116, 0, 0, 0, 0]);
const joinBody = (overrides: object = {}) => ({
  groupId: 'g',
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 10_000,
  memberId: '',
  groupInstanceId: null,
  protocolType: 'consumer',
  protocols: [{ name: 'range', metadata }],
  ...overrides,
});

describe('FindCoordinator', () => {
  it('names this broker for groups and transactional ids, one key (v0-3) or a batch (v4+)', async () => {
    for (const version of [0, 1, 2, 3]) {
      const response = await call(ApiKey.FindCoordinator, version, { key: 'g', keyType: 0 });
      expect(response).toMatchObject({ errorCode: E.NONE, nodeId: 3, host: 'broker.example', port: 19092 });
    }
    expect(await call(ApiKey.FindCoordinator, 1, { key: 'txn', keyType: 1 })).toMatchObject({ errorCode: E.NONE, nodeId: 3 });
    const batch = await call(ApiKey.FindCoordinator, 4, { keyType: 0, coordinatorKeys: ['a', 'b'] });
    expect(batch.coordinators).toEqual([
      { key: 'a', nodeId: 3, host: 'broker.example', port: 19092, errorCode: E.NONE, errorMessage: null },
      { key: 'b', nodeId: 3, host: 'broker.example', port: 19092, errorCode: E.NONE, errorMessage: null },
    ]);
    const share = await call(ApiKey.FindCoordinator, 6, { keyType: 2, coordinatorKeys: ['s'] });
    expect(share.coordinators[0]).toMatchObject({ key: 's', errorCode: E.INVALID_REQUEST, nodeId: -1 });
  });
});

describe('JoinGroup, SyncGroup, Heartbeat, LeaveGroup', () => {
  it('v0: a member is created directly; v7+ error responses have a null protocol name', async () => {
    const joined = await call(ApiKey.JoinGroup, 0, joinBody());
    expect(joined).toMatchObject({ errorCode: E.NONE, generationId: 1, protocolName: 'range' });
    expect(joined.memberId).toMatch(/^test-client-/);
    expect(joined.leader).toBe(joined.memberId);
    expect(joined.members).toEqual([{ memberId: joined.memberId, groupInstanceId: null, metadata }]);
    expect(coordinator.describeGroup('g').members[0]).toMatchObject({ clientId: 'test-client', clientHost: '/10.0.0.7' });

    const refusedOld = await call(ApiKey.JoinGroup, 6, joinBody({ protocolType: 'other' }));
    expect(refusedOld).toMatchObject({ errorCode: E.INCONSISTENT_GROUP_PROTOCOL, protocolName: '', generationId: -1 });
    const refusedNew = await call(ApiKey.JoinGroup, 9, joinBody({ protocolType: 'other' }));
    expect(refusedNew).toMatchObject({ errorCode: E.INCONSISTENT_GROUP_PROTOCOL, protocolName: null, protocolType: null, skipAssignment: false });
  });

  it('v4+: MEMBER_ID_REQUIRED, then the whole protocol at the newest versions', async () => {
    const first = await call(ApiKey.JoinGroup, 9, joinBody({ reason: 'starting' }), null);
    expect(first.errorCode).toBe(E.MEMBER_ID_REQUIRED);
    // A null client id makes a member id with an empty prefix, as in Kafka.
    expect(first.memberId).toMatch(/^-[0-9a-f-]{36}$/);
    const joined = await call(ApiKey.JoinGroup, 9, joinBody({ memberId: first.memberId }), null);
    expect(joined).toMatchObject({ errorCode: E.NONE, generationId: 1, protocolType: 'consumer', protocolName: 'range', leader: first.memberId, skipAssignment: false });

    const synced = await call(ApiKey.SyncGroup, 5, {
      groupId: 'g',
      generationId: 1,
      memberId: joined.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: joined.memberId, assignment: Buffer.from('assigned') }],
    });
    expect(synced).toEqual({ throttleTimeMs: 0, errorCode: E.NONE, protocolType: 'consumer', protocolName: 'range', assignment: Buffer.from('assigned') });
    expect(await call(ApiKey.Heartbeat, 4, { groupId: 'g', generationId: 1, memberId: joined.memberId, groupInstanceId: null })).toEqual({ throttleTimeMs: 0, errorCode: E.NONE });
    expect((await call(ApiKey.Heartbeat, 0, { groupId: 'g', generationId: 2, memberId: joined.memberId })).errorCode).toBe(E.ILLEGAL_GENERATION);

    const left = await call(ApiKey.LeaveGroup, 5, { groupId: 'g', members: [{ memberId: joined.memberId, groupInstanceId: null, reason: 'bye' }, { memberId: 'x', groupInstanceId: null }] });
    expect(left).toEqual({
      throttleTimeMs: 0,
      errorCode: E.NONE,
      members: [
        { memberId: joined.memberId, groupInstanceId: null, errorCode: E.NONE },
        { memberId: 'x', groupInstanceId: null, errorCode: E.UNKNOWN_MEMBER_ID },
      ],
    });
    expect(coordinator.describeGroup('g').groupState).toBe('Empty');
  });

  it('SyncGroup v0 and LeaveGroup v0-2 carry the single member error at the top', async () => {
    const joined = await call(ApiKey.JoinGroup, 3, joinBody());
    const synced = await call(ApiKey.SyncGroup, 0, { groupId: 'g', generationId: 1, memberId: joined.memberId, assignments: [{ memberId: joined.memberId, assignment: Buffer.from('a') }] });
    expect(synced).toMatchObject({ errorCode: E.NONE, assignment: Buffer.from('a') });
    expect((await call(ApiKey.LeaveGroup, 0, { groupId: 'g', memberId: 'unknown' })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await call(ApiKey.LeaveGroup, 2, { groupId: 'g', memberId: joined.memberId })).errorCode).toBe(E.NONE);
  });

  it('static members (v5+): a restart keeps the generation and fences the old id', async () => {
    const joined = await call(ApiKey.JoinGroup, 5, joinBody({ groupInstanceId: 'pod-0' }));
    expect(joined.members).toEqual([{ memberId: joined.memberId, groupInstanceId: 'pod-0', metadata }]);
    await call(ApiKey.SyncGroup, 3, { groupId: 'g', generationId: 1, memberId: joined.memberId, groupInstanceId: 'pod-0', assignments: [] });
    const restarted = await call(ApiKey.JoinGroup, 5, joinBody({ groupInstanceId: 'pod-0' }));
    expect(restarted).toMatchObject({ errorCode: E.NONE, generationId: 1, leader: joined.memberId, members: [] });
    expect((await call(ApiKey.Heartbeat, 3, { groupId: 'g', generationId: 1, memberId: joined.memberId, groupInstanceId: 'pod-0' })).errorCode).toBe(E.FENCED_INSTANCE_ID);
    const description = await call(ApiKey.DescribeGroups, 4, { groups: ['g'], includeAuthorizedOperations: false });
    expect(description.groups[0].members).toMatchObject([{ memberId: restarted.memberId, groupInstanceId: 'pod-0', clientHost: '/10.0.0.7' }]);
  });
});

describe('OffsetCommit and OffsetFetch', () => {
  beforeEach(async () => {
    await engine.createTopic('t', { partitions: 2 });
  });

  it('commits at v0 (no generation), v2 (retention time) and v8 (flexible), and fetches at v1, v5 and v8', async () => {
    const v0 = await call(ApiKey.OffsetCommit, 0, { groupId: 'g', topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 10, committedMetadata: null }] }] });
    expect(v0).toEqual({ throttleTimeMs: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: E.NONE }] }] });
    const v2 = await call(ApiKey.OffsetCommit, 2, {
      groupId: 'g',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      retentionTimeMs: -1,
      topics: [{ name: 't', partitions: [{ partitionIndex: 1, committedOffset: 11, committedMetadata: 'two' }] }],
    });
    expect(v2.topics[0].partitions[0].errorCode).toBe(E.NONE);
    const v8 = await call(ApiKey.OffsetCommit, 8, {
      groupId: 'h',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 12, committedLeaderEpoch: 4, committedMetadata: '' }] }],
    });
    expect(v8.topics[0].partitions[0].errorCode).toBe(E.NONE);

    const v1 = await call(ApiKey.OffsetFetch, 1, { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0, 1] }] });
    expect(v1.topics[0].partitions).toEqual([
      { partitionIndex: 0, committedOffset: 10, committedLeaderEpoch: -1, metadata: '', errorCode: E.NONE },
      { partitionIndex: 1, committedOffset: 11, committedLeaderEpoch: -1, metadata: 'two', errorCode: E.NONE },
    ]);
    const v5 = await call(ApiKey.OffsetFetch, 5, { groupId: 'h', topics: null });
    expect(v5).toMatchObject({ errorCode: E.NONE, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 12, committedLeaderEpoch: 4 }] }] });
    const v8Fetch = await call(ApiKey.OffsetFetch, 8, {
      groups: [
        { groupId: 'g', topics: null },
        { groupId: 'h', topics: [{ name: 't', partitionIndexes: [1] }] },
      ],
      requireStable: true,
    });
    expect(v8Fetch.groups).toEqual([
      {
        groupId: 'g',
        errorCode: E.NONE,
        topics: [
          {
            name: 't',
            partitions: [
              { partitionIndex: 0, committedOffset: 10, committedLeaderEpoch: -1, metadata: '', errorCode: E.NONE },
              { partitionIndex: 1, committedOffset: 11, committedLeaderEpoch: -1, metadata: 'two', errorCode: E.NONE },
            ],
          },
        ],
      },
      { groupId: 'h', errorCode: E.NONE, topics: [{ name: 't', partitions: [{ partitionIndex: 1, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: E.NONE }] }] },
    ]);
  });

  it('puts a group error in every partition before v2, at the top from v2', async () => {
    await coordinator.close();
    const v1 = await call(ApiKey.OffsetFetch, 1, { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0] }] });
    expect(v1.topics[0].partitions[0]).toMatchObject({ committedOffset: -1, errorCode: E.COORDINATOR_NOT_AVAILABLE });
    const v2 = await call(ApiKey.OffsetFetch, 2, { groupId: 'g', topics: null });
    expect(v2).toMatchObject({ errorCode: E.COORDINATOR_NOT_AVAILABLE, topics: [] });
  });
});

describe('DescribeGroups, ListGroups, DeleteGroups', () => {
  it('describes, lists with filters and deletes groups', async () => {
    const joined = await call(ApiKey.JoinGroup, 4, joinBody({ memberId: '' }));
    const member = await call(ApiKey.JoinGroup, 4, joinBody({ memberId: joined.memberId }));
    await call(ApiKey.SyncGroup, 2, { groupId: 'g', generationId: 1, memberId: member.memberId, assignments: [{ memberId: member.memberId, assignment: Buffer.from('x') }] });
    await engine.createTopic('t');
    await call(ApiKey.OffsetCommit, 3, { groupId: 'idle', generationIdOrMemberEpoch: -1, memberId: '', retentionTimeMs: -1, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }] }] });

    const described = await call(ApiKey.DescribeGroups, 5, { groups: ['g', 'idle', 'nothing'], includeAuthorizedOperations: true });
    // Asked for, with no authorizer: every operation Kafka reports on a group (bit n for operation
    // code n: READ 3, DELETE 6, DESCRIBE 8, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11).
    const EVERY_GROUP_OPERATION = (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11);
    expect(described.groups).toEqual([
      {
        errorCode: E.NONE,
        groupId: 'g',
        groupState: 'Stable',
        protocolType: 'consumer',
        protocolData: 'range',
        members: [{ memberId: member.memberId, groupInstanceId: null, clientId: 'test-client', clientHost: '/10.0.0.7', memberMetadata: metadata, memberAssignment: Buffer.from('x') }],
        authorizedOperations: EVERY_GROUP_OPERATION,
      },
      { errorCode: E.NONE, groupId: 'idle', groupState: 'Empty', protocolType: '', protocolData: '', members: [], authorizedOperations: EVERY_GROUP_OPERATION },
      { errorCode: E.NONE, groupId: 'nothing', groupState: 'Dead', protocolType: '', protocolData: '', members: [], authorizedOperations: EVERY_GROUP_OPERATION },
    ]);

    const all = await call(ApiKey.ListGroups, 0, {});
    // v0 carries neither state nor type (the decoder fills in empty strings).
    expect(all).toEqual({
      throttleTimeMs: 0,
      errorCode: E.NONE,
      groups: [
        { groupId: 'g', protocolType: 'consumer', groupState: '', groupType: '' },
        { groupId: 'idle', protocolType: '', groupState: '', groupType: '' },
      ],
    });
    const stable = await call(ApiKey.ListGroups, 4, { statesFilter: ['stable'] });
    expect(stable.groups).toEqual([{ groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: '' }]);
    const classic = await call(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: ['Classic'] });
    expect(classic.groups.map((g: { groupType: string }) => g.groupType)).toEqual(['classic', 'classic']);
    expect((await call(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: ['consumer'] })).groups).toEqual([]);

    const deleted = await call(ApiKey.DeleteGroups, 2, { groupsNames: ['idle', 'g', 'nothing'] });
    expect(deleted).toEqual({
      throttleTimeMs: 0,
      results: [
        { groupId: 'idle', errorCode: E.NONE },
        { groupId: 'g', errorCode: E.NON_EMPTY_GROUP },
        { groupId: 'nothing', errorCode: E.GROUP_ID_NOT_FOUND },
      ],
    });
    expect((await call(ApiKey.DeleteGroups, 0, { groupsNames: ['idle'] })).results).toEqual([{ groupId: 'idle', errorCode: E.GROUP_ID_NOT_FOUND }]);
  });
});

describe('ConsumerGroupHeartbeat and ConsumerGroupDescribe (KIP-848)', () => {
  const heartbeat = (overrides: object = {}, version = 1) =>
    call(ApiKey.ConsumerGroupHeartbeat, version, {
      groupId: 'cg',
      memberId: 'm1',
      memberEpoch: 0,
      rebalanceTimeoutMs: 30_000,
      subscribedTopicNames: ['t'],
      topicPartitions: [],
      ...overrides,
    });

  it('a member joins with epoch 0 and gets the group epoch and every partition, by topic id', async () => {
    await engine.createTopic('t', { partitions: 3 });
    const joined = await heartbeat();
    expect(joined).toMatchObject({ errorCode: E.NONE, memberId: 'm1', memberEpoch: 1, heartbeatIntervalMs: 5000 });
    expect(joined.assignment.topicPartitions).toEqual([{ topicId: engine.topicId('t'), partitions: [0, 1, 2] }]);
    // v0: the coordinator makes the member id.
    const v0 = await heartbeat({ groupId: 'other', memberId: '' }, 0);
    expect(v0.memberId).toMatch(/^[0-9a-f-]{36}$/);
    // A heartbeat with nothing changed (not a full request) carries no assignment.
    const again = await heartbeat({ memberEpoch: 1, rebalanceTimeoutMs: -1, subscribedTopicNames: null, topicPartitions: null });
    expect(again).toEqual(expect.objectContaining({ errorCode: E.NONE, memberEpoch: 1, assignment: null }));
  });

  it('a subscribed topic that grows, or a new topic the subscription names, moves the group epoch and the assignment', async () => {
    await engine.createTopic('t', { partitions: 2 });
    expect((await heartbeat()).assignment.topicPartitions).toEqual([{ topicId: engine.topicId('t'), partitions: [0, 1] }]);
    await engine.createPartitions('t', 3);
    const grown = await heartbeat({ memberEpoch: 1, subscribedTopicNames: ['t', 'later'], topicPartitions: [{ topicId: engine.topicId('t'), partitions: [0, 1] }] });
    expect(grown).toMatchObject({ errorCode: E.NONE, memberEpoch: 2 });
    expect(grown.assignment.topicPartitions).toEqual([{ topicId: engine.topicId('t'), partitions: [0, 1, 2] }]);
    await engine.createTopic('later');
    const more = await heartbeat({ memberEpoch: 2, rebalanceTimeoutMs: -1, subscribedTopicNames: null, topicPartitions: null });
    expect(more.memberEpoch).toBe(3);
    expect(more.assignment.topicPartitions).toEqual(
      expect.arrayContaining([{ topicId: engine.topicId('later'), partitions: [0] }, { topicId: engine.topicId('t'), partitions: [0, 1, 2] }]),
    );
  });

  it('a static member (instance id) that steps out with epoch -2 comes back under a new id with its partitions; another may not take its id meanwhile', async () => {
    await engine.createTopic('t', { partitions: 2 });
    const topicId = engine.topicId('t');
    const joined = await heartbeat({ memberId: 'first', instanceId: 'pod-0' });
    expect(joined).toMatchObject({ errorCode: E.NONE, memberEpoch: 1 });
    expect((await heartbeat({ memberId: 'intruder', instanceId: 'pod-0' })).errorCode).toBe(E.UNRELEASED_INSTANCE_ID);
    const out = await call(ApiKey.ConsumerGroupHeartbeat, 1, { groupId: 'cg', memberId: 'first', memberEpoch: -2, instanceId: 'pod-0' });
    expect(out).toMatchObject({ errorCode: E.NONE, memberEpoch: -2 });
    // A restart of the same instance: a new member id, the old epoch and partitions, no rebalance.
    const back = await heartbeat({ memberId: 'second', instanceId: 'pod-0' });
    expect(back).toMatchObject({ errorCode: E.NONE, memberId: 'second', memberEpoch: 1 });
    expect(back.assignment.topicPartitions).toEqual([{ topicId, partitions: [0, 1] }]);
    const described = (await call(ApiKey.ConsumerGroupDescribe, 1, { groupIds: ['cg'], includeAuthorizedOperations: false })).groups[0];
    expect(described).toMatchObject({ groupEpoch: 1, groupState: 'Stable' });
    expect(described.members.map((m: { memberId: string; instanceId: string }) => [m.memberId, m.instanceId])).toEqual([['second', 'pod-0']]);
  });

  it('answers bad requests, unknown members, epochs ahead and unknown assignors with Kafka errors', async () => {
    await engine.createTopic('t');
    expect(await heartbeat({ groupId: '' })).toMatchObject({ errorCode: E.INVALID_REQUEST, errorMessage: "GroupId can't be empty." });
    expect(await heartbeat({ rebalanceTimeoutMs: -1 })).toMatchObject({ errorCode: E.INVALID_REQUEST });
    expect(await heartbeat({ subscribedTopicNames: [] })).toMatchObject({ errorCode: E.INVALID_REQUEST });
    expect(await heartbeat({ serverAssignor: 'sticky' })).toMatchObject({ errorCode: E.UNSUPPORTED_ASSIGNOR });
    expect(await heartbeat({ subscribedTopicNames: null, subscribedTopicRegex: '(' })).toMatchObject({ errorCode: E.INVALID_REGULAR_EXPRESSION });
    expect(await heartbeat({ memberEpoch: 3 })).toMatchObject({ errorCode: E.UNKNOWN_MEMBER_ID });
    expect((await heartbeat()).memberEpoch).toBe(1);
    expect(await heartbeat({ memberEpoch: 5 })).toMatchObject({ errorCode: E.FENCED_MEMBER_EPOCH });
    expect(await heartbeat({ memberId: 'stranger', memberEpoch: 1 })).toMatchObject({ errorCode: E.UNKNOWN_MEMBER_ID });
  });

  it('a classic group with members becomes a consumer group when a member of the consumer protocol joins; its classic member reconciles through JoinGroup, SyncGroup and Heartbeat', async () => {
    await engine.createTopic('t', { partitions: 4 });
    const topicId = engine.topicId('t');
    const subscription = encodeSubscription({ topics: ['t'], userData: null, ownedPartitions: [], generationId: -1 }, 1);
    const classicJoin = (memberId: string) => call(ApiKey.JoinGroup, 5, joinBody({ groupId: 'mixed', memberId, protocols: [{ name: 'range', metadata: subscription }] }));
    const sync = (memberId: string, generationId: number, assignments: object[] = []) =>
      call(ApiKey.SyncGroup, 3, { groupId: 'mixed', generationId, memberId, groupInstanceId: null, assignments });
    const classicHeartbeat = async (memberId: string, generationId: number) =>
      (await call(ApiKey.Heartbeat, 3, { groupId: 'mixed', generationId, memberId, groupInstanceId: null })).errorCode;
    const partitionsOf = (assignment: Buffer) => decodeAssignment(assignment).partitions.map((tp) => tp.partition).sort();

    // A classic generation: one kafkajs-like member with all four partitions.
    const first = await classicJoin((await classicJoin('')).memberId);
    expect(first.errorCode).toBe(E.NONE);
    const k = first.memberId as string;
    const all = [0, 1, 2, 3].map((partition) => ({ topic: 't', partition }));
    expect((await sync(k, 1, [{ memberId: k, assignment: encodeAssignment(all) }])).errorCode).toBe(E.NONE);

    // A member of the consumer protocol joins: the group converts, generation 1 becomes group epoch 1.
    const joined = await heartbeat({ groupId: 'mixed' });
    expect(joined).toMatchObject({ errorCode: E.NONE, memberId: 'm1', memberEpoch: 2, assignment: { topicPartitions: [] } }); // the classic member still holds them
    expect((await call(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: [] })).groups).toEqual([{ groupId: 'mixed', protocolType: 'consumer', groupState: 'Reconciling', groupType: 'consumer' }]);
    const described = (await call(ApiKey.ConsumerGroupDescribe, 1, { groupIds: ['mixed'], includeAuthorizedOperations: false })).groups[0];
    expect(described.members.map((m: { memberId: string; memberEpoch: number; memberType: number }) => [m.memberId, m.memberEpoch, m.memberType]).sort()).toEqual(
      [[k, 1, 0], ['m1', 2, 1]].sort(),
    );

    // The classic member is told to rejoin; it gives up half (an eager member owns nothing as it rejoins)...
    expect(await classicHeartbeat(k, 1)).toBe(E.REBALANCE_IN_PROGRESS);
    const revoking = await classicJoin(k);
    expect(revoking).toMatchObject({ errorCode: E.NONE, memberId: k, generationId: 1, leader: '', protocolName: 'range', members: [] });
    const kept = await sync(k, 1);
    expect(kept.errorCode).toBe(E.NONE);
    expect(partitionsOf(kept.assignment)).toHaveLength(2);
    expect(await classicHeartbeat(k, 1)).toBe(E.REBALANCE_IN_PROGRESS);
    // ...and takes the new epoch once it has.
    const caughtUp = await classicJoin(k);
    expect(caughtUp).toMatchObject({ errorCode: E.NONE, generationId: 2 });
    expect(partitionsOf((await sync(k, 2)).assignment)).toEqual(partitionsOf(kept.assignment));
    expect(await classicHeartbeat(k, 2)).toBe(E.NONE);
    expect(await classicHeartbeat(k, 1)).toBe(E.ILLEGAL_GENERATION);
    // The consumer member gets the two released partitions.
    const taken = await heartbeat({ groupId: 'mixed', memberEpoch: 2 });
    expect(taken).toMatchObject({ errorCode: E.NONE, memberEpoch: 2 });
    expect([...taken.assignment.topicPartitions[0].partitions, ...partitionsOf(kept.assignment)].sort()).toEqual([0, 1, 2, 3]);
    expect(taken.assignment.topicPartitions[0].topicId).toBe(topicId);

    // The classic member commits with its generation, which is its member epoch.
    const commit = (generationId: number) =>
      call(ApiKey.OffsetCommit, 2, { groupId: 'mixed', generationIdOrMemberEpoch: generationId, memberId: k, retentionTimeMs: -1, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 3, committedMetadata: '' }] }] });
    expect((await commit(1)).topics[0].partitions[0].errorCode).toBe(E.ILLEGAL_GENERATION);
    expect((await commit(2)).topics[0].partitions[0].errorCode).toBe(E.NONE);

    // The last member of the consumer protocol leaves: the group is classic again, and rebalances.
    expect((await heartbeat({ groupId: 'mixed', memberEpoch: -1 })).errorCode).toBe(E.NONE);
    expect((await call(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: [] })).groups).toEqual([{ groupId: 'mixed', protocolType: 'consumer', groupState: 'PreparingRebalance', groupType: 'classic' }]);
    expect(await classicHeartbeat(k, 2)).toBe(E.REBALANCE_IN_PROGRESS);
    const classicAgain = await classicJoin(k);
    expect(classicAgain).toMatchObject({ errorCode: E.NONE, generationId: 3, leader: k });
    expect((await sync(k, 3, [{ memberId: k, assignment: encodeAssignment(all) }])).errorCode).toBe(E.NONE);
    expect(await classicHeartbeat(k, 3)).toBe(E.NONE);
  });

  it('a classic group converted mid-rebalance answers its parked JoinGroup with REBALANCE_IN_PROGRESS, and the member joins the consumer group', async () => {
    await engine.createTopic('t', { partitions: 2 });
    const subscription = encodeSubscription({ topics: ['t'], userData: null, ownedPartitions: [], generationId: -1 }, 1);
    const join = (memberId: string) => call(ApiKey.JoinGroup, 3, joinBody({ groupId: 'busy', memberId, protocols: [{ name: 'range', metadata: subscription }] }));
    const a = await join('');
    expect((await call(ApiKey.SyncGroup, 3, { groupId: 'busy', generationId: 1, memberId: a.memberId, groupInstanceId: null, assignments: [] })).errorCode).toBe(E.NONE);
    // b's JoinGroup waits for a to rejoin (PreparingRebalance)...
    const parked = join('');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // ...when a member of the consumer protocol converts the group.
    expect((await heartbeat({ groupId: 'busy' })).errorCode).toBe(E.NONE);
    const answered = await parked;
    expect(answered.errorCode).toBe(E.REBALANCE_IN_PROGRESS);
    const b = await join(answered.memberId);
    expect(b).toMatchObject({ errorCode: E.NONE, leader: '' });
    expect((await call(ApiKey.Heartbeat, 3, { groupId: 'busy', generationId: 1, memberId: a.memberId, groupInstanceId: null })).errorCode).toBe(E.REBALANCE_IN_PROGRESS);
    const described = (await call(ApiKey.ConsumerGroupDescribe, 1, { groupIds: ['busy'], includeAuthorizedOperations: false })).groups[0];
    expect(described.members).toHaveLength(3);
  });

  it('a classic member joins a consumer group with members; a static one replaces its instance; LeaveGroup removes it', async () => {
    await engine.createTopic('t', { partitions: 2 });
    expect((await heartbeat()).memberEpoch).toBe(1);
    const subscription = encodeSubscription({ topics: ['t'], userData: null, ownedPartitions: [], generationId: -1 }, 1);
    const join = (overrides: object) => call(ApiKey.JoinGroup, 5, joinBody({ groupId: 'cg', protocols: [{ name: 'range', metadata: subscription }], ...overrides }));
    // JoinGroup v4+: a dynamic member first gets its id.
    const required = await join({ memberId: '' });
    expect(required.errorCode).toBe(E.MEMBER_ID_REQUIRED);
    const joined = await join({ memberId: required.memberId });
    expect(joined).toMatchObject({ errorCode: E.NONE, generationId: 2, protocolName: 'range', leader: '' });
    // Another protocol type, or no protocol the classic members share, is refused.
    expect((await join({ memberId: '', protocolType: 'connect' })).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect((await join({ memberId: '', protocols: [{ name: 'roundrobin', metadata: subscription }] })).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    // A static member, then its restart under a new member id: the old id is fenced.
    const pod = await join({ memberId: '', groupInstanceId: 'pod-0' });
    expect(pod.errorCode).toBe(E.NONE);
    const restarted = await join({ memberId: '', groupInstanceId: 'pod-0' });
    expect(restarted.errorCode).toBe(E.NONE);
    expect(restarted.memberId).not.toBe(pod.memberId);
    expect((await call(ApiKey.Heartbeat, 3, { groupId: 'cg', generationId: pod.generationId, memberId: pod.memberId, groupInstanceId: 'pod-0' })).errorCode).toBe(E.FENCED_INSTANCE_ID);
    // A member of the consumer protocol cannot use the classic requests.
    expect((await call(ApiKey.Heartbeat, 3, { groupId: 'cg', generationId: 1, memberId: 'm1', groupInstanceId: null })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    const left = await call(ApiKey.LeaveGroup, 3, { groupId: 'cg', members: [{ memberId: joined.memberId, groupInstanceId: null }, { memberId: '', groupInstanceId: 'pod-0' }, { memberId: 'm1', groupInstanceId: null }] });
    expect(left.members.map((m: { errorCode: number }) => m.errorCode)).toEqual([E.NONE, E.NONE, E.UNKNOWN_MEMBER_ID]);
    const described = (await call(ApiKey.ConsumerGroupDescribe, 1, { groupIds: ['cg'], includeAuthorizedOperations: false })).groups[0];
    expect(described.members.map((m: { memberId: string }) => m.memberId)).toEqual(['m1']);
  });

  it("a classic member's LeaveGroup in a consumer group is answered once its records are written, with the write's error when it fails", async () => {
    await engine.createTopic('t', { partitions: 2 });
    expect((await heartbeat()).memberEpoch).toBe(1);
    const subscription = encodeSubscription({ topics: ['t'], userData: null, ownedPartitions: [], generationId: -1 }, 1);
    const joined = await call(ApiKey.JoinGroup, 5, joinBody({ groupId: 'cg', memberId: '', groupInstanceId: 'pod-0', protocols: [{ name: 'range', metadata: subscription }] }));
    expect(joined.errorCode).toBe(E.NONE);
    const manager = (coordinator as unknown as { manager: { storeConsumerGroupRecords: (records: unknown) => Promise<void> } }).manager;
    const store = manager.storeConsumerGroupRecords.bind(manager);
    let written = false;
    manager.storeConsumerGroupRecords = async () => {
      throw new SluiceError('NOT_ENOUGH_REPLICAS', '__consumer_offsets has too few in-sync replicas');
    };
    const refused = await call(ApiKey.LeaveGroup, 3, { groupId: 'cg', members: [{ memberId: joined.memberId, groupInstanceId: 'pod-0' }] });
    expect(refused).toMatchObject({ errorCode: E.COORDINATOR_NOT_AVAILABLE, members: [] });
    manager.storeConsumerGroupRecords = async (records) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await store(records);
      written = true;
    };
    const other = await call(ApiKey.JoinGroup, 5, joinBody({ groupId: 'cg', memberId: '', groupInstanceId: 'pod-1', protocols: [{ name: 'range', metadata: subscription }] }));
    written = false;
    const left = await call(ApiKey.LeaveGroup, 3, { groupId: 'cg', members: [{ memberId: other.memberId, groupInstanceId: 'pod-1' }] });
    expect(left.members.map((m: { errorCode: number }) => m.errorCode)).toEqual([E.NONE]);
    expect(written).toBe(true);
  });

  it('a classic static member that takes the place of the last static member of the consumer protocol makes the group classic again, with its partitions and no rebalance', async () => {
    await engine.createTopic('t', { partitions: 2 });
    const joined = await heartbeat({ memberId: 'pod-0-consumer', instanceId: 'pod-0' });
    expect(joined).toMatchObject({ errorCode: E.NONE, memberEpoch: 1 });
    // The application is rolled back to the classic protocol: the same instance leaves (-2) and comes back classic.
    expect((await call(ApiKey.ConsumerGroupHeartbeat, 1, { groupId: 'cg', memberId: 'pod-0-consumer', memberEpoch: -2, instanceId: 'pod-0' })).errorCode).toBe(E.NONE);
    const subscription = encodeSubscription({ topics: ['t'], userData: null, ownedPartitions: [], generationId: -1 }, 1);
    const back = await call(ApiKey.JoinGroup, 5, joinBody({ groupId: 'cg', memberId: '', groupInstanceId: 'pod-0', protocols: [{ name: 'range', metadata: subscription }] }));
    expect(back).toMatchObject({ errorCode: E.NONE, generationId: 1 });
    expect((await call(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: [] })).groups).toEqual([{ groupId: 'cg', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' }]);
    const synced = await call(ApiKey.SyncGroup, 3, { groupId: 'cg', generationId: 1, memberId: back.memberId, groupInstanceId: 'pod-0', assignments: [] });
    expect(synced.errorCode).toBe(E.NONE);
    expect(decodeAssignment(synced.assignment).partitions.map((tp) => tp.partition)).toEqual([0, 1]);
  });

  it('group.consumer.migration.policy=disabled keeps a classic group with members from converting', async () => {
    await coordinator.close();
    coordinator = await GroupCoordinator.open(engine, { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 10, 'group.consumer.migration.policy': 'DISABLED' });
    handlers = new Map(groupHandlers(coordinator).map((handler) => [handler.apiKey, handler]));
    await engine.createTopic('t');
    expect((await call(ApiKey.JoinGroup, 3, joinBody({ groupId: 'classic' }))).errorCode).toBe(E.NONE);
    expect(await heartbeat({ groupId: 'classic' })).toMatchObject({ errorCode: E.GROUP_ID_NOT_FOUND, errorMessage: expect.stringMatching(/^Group classic is not a consumer group \(the online upgrade is disabled/) });
    await expect(GroupCoordinator.open(engine, { 'group.consumer.migration.policy': 'sideways' })).rejects.toThrow(/group.consumer.migration.policy/);
  });

  it('OffsetCommit v9 and OffsetFetch v9 check the member epoch (STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID)', async () => {
    await engine.createTopic('t');
    await heartbeat();
    const commit = (memberId: string, epoch: number) =>
      call(ApiKey.OffsetCommit, 9, { groupId: 'cg', generationIdOrMemberEpoch: epoch, memberId, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 5 }] }] });
    expect((await commit('m1', 0)).topics[0].partitions[0].errorCode).toBe(E.STALE_MEMBER_EPOCH);
    expect((await commit('nobody', 1)).topics[0].partitions[0].errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await commit('', -1)).topics[0].partitions[0].errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await commit('m1', 1)).topics[0].partitions[0].errorCode).toBe(E.NONE);
    const fetch = (memberEpoch: number) => call(ApiKey.OffsetFetch, 9, { groups: [{ groupId: 'cg', memberId: 'm1', memberEpoch, topics: [{ name: 't', partitionIndexes: [0] }] }] });
    expect((await fetch(7)).groups[0].errorCode).toBe(E.STALE_MEMBER_EPOCH);
    expect((await fetch(1)).groups[0].topics[0].partitions[0].committedOffset).toBe(5);
    expect((await fetch(-1)).groups[0].topics[0].partitions[0].committedOffset).toBe(5);
  });

  it('ListGroups, ConsumerGroupDescribe, DescribeGroups and DeleteGroups see a consumer group as Kafka 4 does', async () => {
    await engine.createTopic('t', { partitions: 2 });
    await heartbeat();
    // A member's commit makes no classic group of the same id beside it.
    await call(ApiKey.OffsetCommit, 9, { groupId: 'cg', generationIdOrMemberEpoch: 1, memberId: 'm1', topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 1 }] }] });
    const listed = await call(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: [] });
    expect(listed.groups).toEqual([{ groupId: 'cg', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' }]);
    expect((await call(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: ['classic'] })).groups).toEqual([]);

    const described = (await call(ApiKey.ConsumerGroupDescribe, 1, { groupIds: ['cg', 'nope'], includeAuthorizedOperations: false })).groups;
    expect(described[0]).toMatchObject({ errorCode: E.NONE, groupId: 'cg', groupState: 'Stable', groupEpoch: 1, assignmentEpoch: 1, assignorName: 'uniform' });
    expect(described[0].members).toEqual([
      expect.objectContaining({
        memberId: 'm1',
        memberEpoch: 1,
        clientId: 'test-client',
        clientHost: '/10.0.0.7',
        subscribedTopicNames: ['t'],
        assignment: { topicPartitions: [{ topicId: engine.topicId('t'), topicName: 't', partitions: [0, 1] }] },
        memberType: 1,
      }),
    ]);
    expect(described[1]).toMatchObject({ errorCode: E.GROUP_ID_NOT_FOUND, groupId: 'nope' });
    // DescribeGroups (up to v5) is for classic groups: a consumer group is Dead to it, as in Kafka 4.
    expect((await call(ApiKey.DescribeGroups, 5, { groups: ['cg'] })).groups[0]).toMatchObject({ errorCode: E.NONE, groupState: 'Dead', members: [] });

    expect((await call(ApiKey.DeleteGroups, 2, { groupsNames: ['cg'] })).results[0].errorCode).toBe(E.NON_EMPTY_GROUP);
    const left = await heartbeat({ memberEpoch: -1 });
    expect(left).toMatchObject({ errorCode: E.NONE, memberEpoch: -1 });
    expect((await call(ApiKey.ListGroups, 5, { statesFilter: ['empty'], typesFilter: [] })).groups).toMatchObject([{ groupId: 'cg', groupState: 'Empty' }]);
    expect((await call(ApiKey.DeleteGroups, 2, { groupsNames: ['cg'] })).results[0].errorCode).toBe(E.NONE);
    expect((await call(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: [] })).groups).toEqual([]);
  });
});

describe('consumer groups (KIP-848) across a coordinator restart', () => {
  const heartbeat = (memberId: string, memberEpoch: number, topicPartitions: Array<{ topicId: string; partitions: number[] }> | null = []) =>
    call(ApiKey.ConsumerGroupHeartbeat, 1, { groupId: 'cg', memberId, memberEpoch, rebalanceTimeoutMs: 30_000, subscribedTopicNames: ['t'], topicPartitions });

  it('a restarted coordinator takes the group over from __consumer_offsets: epochs, members, assignments, revocations in progress', async () => {
    await engine.createTopic('t', { partitions: 4 });
    const topicId = engine.topicId('t')!;
    const a = await heartbeat('a', 0);
    expect(a).toMatchObject({ errorCode: E.NONE, memberEpoch: 1 });
    const b = await heartbeat('b', 0);
    expect(b).toMatchObject({ errorCode: E.NONE, memberEpoch: 2, assignment: { topicPartitions: [] } }); // a still owns them
    // a learns it must give up two partitions, and stays at epoch 1 until it does.
    const revoking = await heartbeat('a', 1, [{ topicId, partitions: [0, 1, 2, 3] }]);
    expect(revoking.memberEpoch).toBe(1);
    const kept = revoking.assignment.topicPartitions[0].partitions as number[];
    expect(kept).toHaveLength(2);

    await coordinator.close();
    coordinator = await GroupCoordinator.open(engine, { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 10 });
    handlers = new Map(groupHandlers(coordinator).map((handler) => [handler.apiKey, handler]));

    // The same members at the same epochs, mid-revocation: no UNKNOWN_MEMBER_ID, no rejoin.
    const described = (await call(ApiKey.ConsumerGroupDescribe, 1, { groupIds: ['cg'], includeAuthorizedOperations: false })).groups[0];
    expect(described).toMatchObject({ errorCode: E.NONE, groupEpoch: 2, assignmentEpoch: 2, groupState: 'Reconciling' });
    expect(described.members.map((m: { memberId: string; memberEpoch: number }) => [m.memberId, m.memberEpoch]).sort()).toEqual([['a', 1], ['b', 2]]);
    const done = await heartbeat('a', 1, [{ topicId, partitions: kept }]);
    expect(done).toMatchObject({ errorCode: E.NONE, memberEpoch: 2 });
    const taken = await heartbeat('b', 2, []);
    expect(taken).toMatchObject({ errorCode: E.NONE, memberEpoch: 2 });
    expect([...kept, ...taken.assignment.topicPartitions[0].partitions].sort()).toEqual([0, 1, 2, 3]);

    // A deleted group stays deleted across a restart.
    for (const id of ['a', 'b']) expect((await call(ApiKey.ConsumerGroupHeartbeat, 1, { groupId: 'cg', memberId: id, memberEpoch: -1 })).errorCode).toBe(E.NONE);
    expect((await call(ApiKey.DeleteGroups, 2, { groupsNames: ['cg'] })).results[0].errorCode).toBe(E.NONE);
    await coordinator.close();
    coordinator = await GroupCoordinator.open(engine, {});
    handlers = new Map(groupHandlers(coordinator).map((handler) => [handler.apiKey, handler]));
    expect((await call(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: [] })).groups).toEqual([]);
  });

  it('a classic member of a consumer group is known after a restart, and so is the classic group it became', async () => {
    await engine.createTopic('t', { partitions: 2 });
    const reopen = async () => {
      await coordinator.close();
      coordinator = await GroupCoordinator.open(engine, { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 10 });
      handlers = new Map(groupHandlers(coordinator).map((handler) => [handler.apiKey, handler]));
    };
    expect((await heartbeat('m1', 0)).memberEpoch).toBe(1);
    const subscription = encodeSubscription({ topics: ['t'], userData: null, ownedPartitions: [], generationId: -1 }, 1);
    const joined = await call(ApiKey.JoinGroup, 3, joinBody({ groupId: 'cg', protocols: [{ name: 'range', metadata: subscription }] }));
    expect(joined).toMatchObject({ errorCode: E.NONE, generationId: 2 });
    await reopen();
    const beat = (generationId: number) => call(ApiKey.Heartbeat, 3, { groupId: 'cg', generationId, memberId: joined.memberId, groupInstanceId: null });
    expect((await call(ApiKey.SyncGroup, 3, { groupId: 'cg', generationId: 2, memberId: joined.memberId, groupInstanceId: null, assignments: [] })).errorCode).toBe(E.NONE);
    expect((await beat(2)).errorCode).toBe(E.NONE); // its partition is still m1's: nothing to rejoin for yet
    const described = (await call(ApiKey.ConsumerGroupDescribe, 1, { groupIds: ['cg'], includeAuthorizedOperations: false })).groups[0];
    expect(described.members.map((m: { memberId: string; memberType: number }) => m.memberType).sort()).toEqual([0, 1]);

    expect((await call(ApiKey.ConsumerGroupHeartbeat, 1, { groupId: 'cg', memberId: 'm1', memberEpoch: -1 })).errorCode).toBe(E.NONE);
    await reopen();
    expect((await call(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: [] })).groups).toEqual([{ groupId: 'cg', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' }]);
    expect((await beat(2)).errorCode).toBe(E.NONE);
  });

  it('a group id that changes protocol while Empty is, after a restart, of the protocol it changed to', async () => {
    await engine.createTopic('t');
    const reopen = async () => {
      await coordinator.close();
      coordinator = await GroupCoordinator.open(engine, { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 10 });
      handlers = new Map(groupHandlers(coordinator).map((handler) => [handler.apiKey, handler]));
    };
    const types = async () => (await call(ApiKey.ListGroups, 5, { statesFilter: [], typesFilter: [] })).groups.map((g: { groupId: string; groupType: string }) => `${g.groupId}:${g.groupType}`);
    const classicGeneration = async () => {
      const joined = await call(ApiKey.JoinGroup, 3, joinBody({ groupId: 'cg' }));
      expect(joined.errorCode).toBe(E.NONE);
      await call(ApiKey.SyncGroup, 3, { groupId: 'cg', generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null, assignments: [] });
      expect((await call(ApiKey.LeaveGroup, 0, { groupId: 'cg', memberId: joined.memberId })).errorCode).toBe(E.NONE);
    };
    // classic -> consumer
    await classicGeneration();
    expect((await heartbeat('m1', 0)).errorCode).toBe(E.NONE);
    expect((await call(ApiKey.ConsumerGroupHeartbeat, 1, { groupId: 'cg', memberId: 'm1', memberEpoch: -1 })).errorCode).toBe(E.NONE);
    await reopen();
    expect(await types()).toEqual(['cg:consumer']);
    // consumer -> classic
    await classicGeneration();
    await reopen();
    expect(await types()).toEqual(['cg:classic']);
  });
});
