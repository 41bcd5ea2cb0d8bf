// The consumer-group APIs, answered by the group coordinator (src/broker/group/coordinator.ts):
// FindCoordinator (10), JoinGroup (11), Heartbeat (12), LeaveGroup (13), SyncGroup (14),
// DescribeGroups (15), ListGroups (16), OffsetCommit (8), OffsetFetch (9), DeleteGroups (42),
// OffsetDelete (47), and the consumer group protocol's ConsumerGroupHeartbeat (68) and
// ConsumerGroupDescribe (69) (KIP-848).
// These turn request versions into coordinator calls and results into response versions, after the
// authorizer's checks, Kafka's: READ on the group to join, sync, heartbeat, leave or commit (and READ
// on each committed topic), DESCRIBE to find, describe or fetch offsets (and DESCRIBE on each topic
// fetched), DELETE to delete a group or its offsets; GROUP_ / TOPIC_AUTHORIZATION_FAILED otherwise.
import { KafkaErrorCode } from '../../errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC } from '../../engine/topic-name.js';
import type { ClusterNode } from '../cluster-node.js';
import type { FetchOffsetsResult, GroupCoordinator } from '../group/coordinator.js';
import { defineHandler, type AnyApiHandler, type ApiHandler, type RequestContext } from '../handler.js';
import { NONE, partitionsFailed } from './errors.js';
import { AUTHORIZED_OPERATIONS_NOT_REQUESTED } from './metadata.js';
import { AclOperation, allowed, allowedOnCluster, authorizedOperations, deniedAnswer, ResourceType } from '../authorizer/request-auth.js';
import { GROUP_VERSION } from '../features.js';

/** Kafka's FindCoordinatorRequest.CoordinatorType. */
const COORDINATOR_TYPE = { GROUP: 0, TRANSACTION: 1, SHARE: 2 } as const;

/** ConsumerGroupDescribe v1's member type (KIP-1099): every member here speaks the consumer protocol. */
/** ConsumerGroupDescribe v1's MemberType: 0 for a member of the classic protocol, 1 for one of the consumer protocol. */
const MEMBER_TYPE_CLASSIC = 0;
const MEMBER_TYPE_CONSUMER = 1;

/** What FindCoordinator needs of a coordinator: the internal topic whose partition leaders coordinate its keys. */
export interface CoordinatorLocator {
  topic: string;
  ensureTopic(): Promise<void>;
  partitionFor(key: string): number;
}

/** A broker without a transaction coordinator's topic (tests of the group APIs alone) locates ids at partition 0. */
const NO_TRANSACTIONS: CoordinatorLocator = { topic: TRANSACTION_STATE_TOPIC, ensureTopic: async () => {}, partitionFor: () => 0 };

export function groupHandlers(coordinator: GroupCoordinator, transactions: CoordinatorLocator = NO_TRANSACTIONS): AnyApiHandler[] {
  return [
    findCoordinatorHandler(coordinator, transactions),
    joinGroupHandler(coordinator),
    heartbeatHandler(coordinator),
    leaveGroupHandler(coordinator),
    syncGroupHandler(coordinator),
    describeGroupsHandler(coordinator),
    listGroupsHandler(coordinator),
    offsetCommitHandler(coordinator),
    offsetFetchHandler(coordinator),
    deleteGroupsHandler(coordinator),
    offsetDeleteHandler(coordinator),
    consumerGroupHeartbeatHandler(coordinator),
    consumerGroupDescribeHandler(coordinator),
  ];
}

const GROUP_DENIED = KafkaErrorCode.GROUP_AUTHORIZATION_FAILED;
const TOPIC_DENIED = KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED;

function mayOnGroup(context: RequestContext, operation: number, groupId: string): boolean {
  return allowed(context, operation, ResourceType.GROUP, groupId);
}

function mayOnTopic(context: RequestContext, operation: number, topic: string): boolean {
  return allowed(context, operation, ResourceType.TOPIC, topic);
}

/** Kafka reports client hosts as InetAddress.toString() does: "/127.0.0.1"; tools show that form. */
function clientHostOf(context: RequestContext): string {
  return `/${context.clientHost}`;
}

// ---- FindCoordinator ---------------------------------------------------------------------------

/**
 * A single broker coordinates every group and transactional id; in a cluster the leader of the
 * group's __consumer_offsets partition does, and of the id's __transaction_state partition.
 */
export function findCoordinatorHandler(coordinator: GroupCoordinator, transactions: CoordinatorLocator): ApiHandler<typeof ApiKey.FindCoordinator> {
  const groups: CoordinatorLocator = { topic: CONSUMER_OFFSETS_TOPIC, ensureTopic: () => coordinator.ensureOffsetsTopic(), partitionFor: (key) => coordinator.partitionFor(key) };
  return defineHandler({
    apiKey: ApiKey.FindCoordinator,
    minVersion: 0,
    maxVersion: 6,
    async handle(context, request) {
      const { broker, header } = context;
      // v0 has no key type: it decodes as the schema's default, 0, a group (as Kafka reads it).
      const known = request.keyType === COORDINATOR_TYPE.GROUP || request.keyType === COORDINATOR_TYPE.TRANSACTION;
      const keys = header.apiVersion < 4 ? [request.key] : request.coordinatorKeys;
      // DESCRIBE on the group or the transactional id (GROUP_ / TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
      const keyResource = request.keyType === COORDINATOR_TYPE.GROUP ? ResourceType.GROUP : ResourceType.TRANSACTIONAL_ID;
      const answers = [];
      for (const key of keys) {
        if (!known) {
          answers.push({ key, nodeId: -1, host: '', port: -1, errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: `Unsupported coordinator key type ${request.keyType}` });
        } else if (!allowed(context, AclOperation.DESCRIBE, keyResource, key)) {
          answers.push({ key, nodeId: -1, host: '', port: -1, ...deniedAnswer(keyResource) });
        } else if (broker.cluster() === null) {
          answers.push({ key, nodeId: broker.settings.nodeId, host: broker.listener.advertisedHost, port: broker.listener.advertisedPort(), errorCode: NONE, errorMessage: null });
        } else {
          answers.push({ key, ...(await clusterCoordinator(broker.cluster()!, request.keyType === COORDINATOR_TYPE.GROUP ? groups : transactions, key, broker.listener.name)) });
        }
      }
      if (header.apiVersion < 4) {
        const { nodeId, host, port, errorCode, errorMessage } = answers[0]!;
        return { throttleTimeMs: 0, errorCode, errorMessage, nodeId, host, port };
      }
      return { throttleTimeMs: 0, coordinators: answers };
    },
  });
}

/**
 * In a cluster a key's coordinator is the leader of its partition of the internal topic (created on
 * first use, as Kafka does), at its endpoint on the client's listener.
 */
async function clusterCoordinator(cluster: ClusterNode, locator: CoordinatorLocator, key: string, listener: string) {
  const unavailable = (errorMessage: string) => ({ nodeId: -1, host: '', port: -1, errorCode: KafkaErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage });
  try {
    await locator.ensureTopic();
  } catch (error) {
    return unavailable(`${locator.topic} is not available yet: ${(error as Error).message}`);
  }
  const partition = locator.partitionFor(key);
  const leader = cluster.partition(locator.topic, partition)?.leader ?? -1;
  const endpoint = leader === -1 ? undefined : cluster.endpointOf(leader, listener);
  if (endpoint === undefined) return unavailable(leader === -1 ? `${locator.topic}-${partition} has no leader` : `${locator.topic}-${partition}'s leader ${leader} is not live or has no listener ${listener}`);
  return { nodeId: endpoint.brokerId, host: endpoint.host, port: endpoint.port, errorCode: NONE, errorMessage: null };
}

// ---- JoinGroup, SyncGroup, Heartbeat, LeaveGroup -----------------------------------------------

export function joinGroupHandler(coordinator: GroupCoordinator): ApiHandler<typeof ApiKey.JoinGroup> {
  return defineHandler({
    apiKey: ApiKey.JoinGroup,
    minVersion: 0,
    maxVersion: 9,
    async handle(context, request) {
      const version = context.header.apiVersion;
      if (!mayOnGroup(context, AclOperation.READ, request.groupId)) {
        return { throttleTimeMs: 0, errorCode: GROUP_DENIED, generationId: -1, protocolType: null, protocolName: version < 7 ? '' : null, leader: '', skipAssignment: false, memberId: request.memberId, members: [] };
      }
      const result = await coordinator.joinGroup({
        groupId: request.groupId,
        memberId: request.memberId,
        groupInstanceId: version >= 5 ? request.groupInstanceId : null,
        requireKnownMemberId: version >= 4,
        supportSkippingAssignment: version >= 9,
        clientId: context.header.clientId ?? '',
        clientHost: clientHostOf(context),
        // v0 has no rebalance timeout: the session timeout is used, as Kafka does.
        rebalanceTimeoutMs: version >= 1 && request.rebalanceTimeoutMs >= 0 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
        sessionTimeoutMs: request.sessionTimeoutMs,
        protocolType: request.protocolType,
        // Decoded bytes are views of the request frame; the group keeps these past it.
        protocols: request.protocols.map(({ name, metadata }) => ({ name, metadata: Buffer.from(metadata) })),
      });
      return {
        throttleTimeMs: 0,
        errorCode: result.errorCode,
        generationId: result.generationId,
        protocolType: result.protocolType,
        // Before v7 the protocol name is not nullable: Kafka sends '' for none.
        protocolName: version < 7 ? (result.protocolName ?? '') : result.protocolName,
        leader: result.leader,
        skipAssignment: result.skipAssignment,
        memberId: result.memberId,
        members: result.members,
      };
    },
  });
}

export function syncGroupHandler(coordinator: GroupCoordinator): ApiHandler<typeof ApiKey.SyncGroup> {
  return defineHandler({
    apiKey: ApiKey.SyncGroup,
    minVersion: 0,
    maxVersion: 5,
    async handle(context, request) {
      const version = context.header.apiVersion;
      if (!mayOnGroup(context, AclOperation.READ, request.groupId)) return { throttleTimeMs: 0, errorCode: GROUP_DENIED, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
      const result = await coordinator.syncGroup({
        groupId: request.groupId,
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: version >= 3 ? request.groupInstanceId : null,
        protocolType: version >= 5 ? request.protocolType : null,
        protocolName: version >= 5 ? request.protocolName : null,
        assignments: request.assignments.map(({ memberId, assignment }) => ({ memberId, assignment: Buffer.from(assignment) })),
      });
      return { throttleTimeMs: 0, ...result };
    },
  });
}

export function heartbeatHandler(coordinator: GroupCoordinator): ApiHandler<typeof ApiKey.Heartbeat> {
  return defineHandler({
    apiKey: ApiKey.Heartbeat,
    minVersion: 0,
    maxVersion: 4,
    handle(context, request) {
      const { header } = context;
      if (!mayOnGroup(context, AclOperation.READ, request.groupId)) return { throttleTimeMs: 0, errorCode: GROUP_DENIED };
      const errorCode = coordinator.heartbeat({
        groupId: request.groupId,
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: header.apiVersion >= 3 ? request.groupInstanceId : null,
      });
      return { throttleTimeMs: 0, errorCode };
    },
  });
}

export function leaveGroupHandler(coordinator: GroupCoordinator): ApiHandler<typeof ApiKey.LeaveGroup> {
  return defineHandler({
    apiKey: ApiKey.LeaveGroup,
    minVersion: 0,
    maxVersion: 5,
    async handle(context, request) {
      const { header } = context;
      if (!mayOnGroup(context, AclOperation.READ, request.groupId)) return { throttleTimeMs: 0, errorCode: GROUP_DENIED, members: [] };
      if (header.apiVersion >= 3) {
        const members = request.members.map(({ memberId, groupInstanceId }) => ({ memberId, groupInstanceId }));
        return { throttleTimeMs: 0, ...(await coordinator.leaveGroup(request.groupId, members)) };
      }
      // v0-2 name one member, and its error is the response's error (Kafka's LeaveGroupResponse).
      const result = await coordinator.leaveGroup(request.groupId, [{ memberId: request.memberId, groupInstanceId: null }]);
      const errorCode = result.errorCode !== NONE ? result.errorCode : (result.members[0]?.errorCode ?? NONE);
      return { throttleTimeMs: 0, errorCode, members: [] };
    },
  });
}

// ---- DescribeGroups, ListGroups, DeleteGroups --------------------------------------------------

export function describeGroupsHandler(coordinator: GroupCoordinator): ApiHandler<typeof ApiKey.DescribeGroups> {
  return defineHandler({
    apiKey: ApiKey.DescribeGroups,
    minVersion: 0,
    maxVersion: 5,
    handle(context, request) {
      const withOperations = context.header.apiVersion >= 3 && request.includeAuthorizedOperations;
      const groups = request.groups.map((groupId) => {
        if (!mayOnGroup(context, AclOperation.DESCRIBE, groupId)) {
          return { errorCode: GROUP_DENIED, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_NOT_REQUESTED };
        }
        const authorized = withOperations ? authorizedOperations(context, ResourceType.GROUP, groupId) : AUTHORIZED_OPERATIONS_NOT_REQUESTED;
        return { ...coordinator.describeGroup(groupId), authorizedOperations: authorized };
      });
      return { throttleTimeMs: 0, groups };
    },
  });
}

export function listGroupsHandler(coordinator: GroupCoordinator): ApiHandler<typeof ApiKey.ListGroups> {
  return defineHandler({
    apiKey: ApiKey.ListGroups,
    minVersion: 0,
    maxVersion: 5,
    handle(context, request) {
      const version = context.header.apiVersion;
      const { errorCode, groups } = coordinator.listGroups(version >= 4 ? request.statesFilter : [], version >= 5 ? request.typesFilter : []);
      // DESCRIBE on the cluster lists every group; otherwise those the principal may describe.
      const listed = allowedOnCluster(context, AclOperation.DESCRIBE) ? groups : groups.filter(({ groupId }) => mayOnGroup(context, AclOperation.DESCRIBE, groupId));
      return { throttleTimeMs: 0, errorCode, groups: listed };
    },
  });
}

export function deleteGroupsHandler(coordinator: GroupCoordinator): ApiHandler<typeof ApiKey.DeleteGroups> {
  return defineHandler({
    apiKey: ApiKey.DeleteGroups,
    minVersion: 0,
    maxVersion: 2,
    async handle(context, request) {
      const permitted = request.groupsNames.filter((groupId) => mayOnGroup(context, AclOperation.DELETE, groupId));
      const denied = request.groupsNames.filter((groupId) => !permitted.includes(groupId)).map((groupId) => ({ groupId, errorCode: GROUP_DENIED }));
      return { throttleTimeMs: 0, results: [...(await coordinator.deleteGroups(permitted)), ...denied] };
    },
  });
}

// ---- OffsetCommit, OffsetFetch -----------------------------------------------------------------

export function offsetCommitHandler(coordinator: GroupCoordinator): ApiHandler<typeof ApiKey.OffsetCommit> {
  return defineHandler({
    apiKey: ApiKey.OffsetCommit,
    minVersion: 0,
    maxVersion: 9,
    async handle(context, request) {
      const version = context.header.apiVersion;
      if (!mayOnGroup(context, AclOperation.READ, request.groupId)) return { throttleTimeMs: 0, topics: partitionsFailed(request.topics, GROUP_DENIED) };
      const permitted = request.topics.filter(({ name }) => mayOnTopic(context, AclOperation.READ, name));
      const denied = partitionsFailed(request.topics.filter((topic) => !permitted.includes(topic)), TOPIC_DENIED);
      const topics = await coordinator.commitOffsets({
        groupId: request.groupId,
        // v0 has neither: a commit from outside group management.
        generationId: version >= 1 ? request.generationIdOrMemberEpoch : -1,
        memberId: version >= 1 ? request.memberId : '',
        groupInstanceId: version >= 7 ? request.groupInstanceId : null,
        topics: permitted,
      });
      return { throttleTimeMs: 0, topics: [...topics, ...denied] };
    },
  });
}

/** v0-7 ask for one group, v8+ for several; v7+ may require stable offsets (none an open transaction committed). */
export function offsetFetchHandler(coordinator: GroupCoordinator): ApiHandler<typeof ApiKey.OffsetFetch> {
  return defineHandler({
    apiKey: ApiKey.OffsetFetch,
    minVersion: 0,
    maxVersion: 9,
    handle(context, request) {
      const version = context.header.apiVersion;
      /** The coordinator's answer, for a group and topics the principal may describe. */
      const fetch = (groupId: string, topics: Array<{ name: string; partitionIndexes: number[] }> | null, member: { memberId: string | null; memberEpoch: number } | undefined, requireStable: boolean): FetchOffsetsResult => {
        if (!mayOnGroup(context, AclOperation.DESCRIBE, groupId)) return { errorCode: GROUP_DENIED, topics: [] };
        if (topics === null) {
          const result = coordinator.fetchOffsets(groupId, null, member, requireStable);
          return { ...result, topics: result.topics.filter(({ name }) => mayOnTopic(context, AclOperation.DESCRIBE, name)) };
        }
        const permitted = topics.filter(({ name }) => mayOnTopic(context, AclOperation.DESCRIBE, name));
        const result = coordinator.fetchOffsets(groupId, permitted, member, requireStable);
        const denied = topics
          .filter((topic) => !permitted.includes(topic))
          .map(({ name, partitionIndexes }) => ({ name, partitions: partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: TOPIC_DENIED })) }));
        return { ...result, topics: result.errorCode === NONE ? [...result.topics, ...denied] : result.topics };
      };
      if (version >= 8) {
        const groups = request.groups.map(({ groupId, topics, memberId, memberEpoch }) => ({
          groupId,
          ...fetch(groupId, topics, { memberId, memberEpoch }, request.requireStable),
        }));
        return { throttleTimeMs: 0, groups };
      }
      const { errorCode, topics } = fetch(request.groupId, request.topics, undefined, version >= 7 && request.requireStable);
      if (version < 2 && errorCode !== NONE) {
        // v0-1 have no top-level error: every partition asked for carries it.
        const failed = (request.topics ?? []).map(({ name, partitionIndexes }) => ({
          name,
          partitions: partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode })),
        }));
        return { throttleTimeMs: 0, topics: failed, errorCode };
      }
      return { throttleTimeMs: 0, topics, errorCode };
    },
  });
}

// ---- OffsetDelete ------------------------------------------------------------------------------

/** KIP-496: the coordinator's answer is the response (a group error comes with no topics). */
export function offsetDeleteHandler(coordinator: GroupCoordinator): ApiHandler<typeof ApiKey.OffsetDelete> {
  return defineHandler({
    apiKey: ApiKey.OffsetDelete,
    minVersion: 0,
    maxVersion: 0,
    async handle(context, request) {
      if (!mayOnGroup(context, AclOperation.DELETE, request.groupId)) return { throttleTimeMs: 0, errorCode: GROUP_DENIED, topics: [] };
      const permitted = request.topics.filter(({ name }) => mayOnTopic(context, AclOperation.READ, name));
      const result = await coordinator.deleteOffsets(request.groupId, permitted);
      const denied = partitionsFailed(request.topics.filter((topic) => !permitted.includes(topic)), TOPIC_DENIED);
      return { throttleTimeMs: 0, ...result, topics: result.errorCode === NONE ? [...result.topics, ...denied] : result.topics };
    },
  });
}

// ---- ConsumerGroupHeartbeat, ConsumerGroupDescribe (KIP-848) -----------------------------------

/**
 * Kafka's answer while the consumer protocol is off: group.coordinator.rebalance.protocols does not
 * name it, or the finalized group.version is 0 (features.ts). Consumers keep the classic protocol.
 */
const CONSUMER_PROTOCOL_DISABLED = {
  errorCode: KafkaErrorCode.UNSUPPORTED_VERSION,
  errorMessage: 'The new consumer group protocol is not enabled (group.coordinator.rebalance.protocols must name consumer, and the finalized group.version be 1)',
};

function consumerProtocolEnabled(context: RequestContext, coordinator: GroupCoordinator): boolean {
  return coordinator.config.consumerProtocolEnabled && context.broker.features.level(GROUP_VERSION) >= 1;
}

export function consumerGroupHeartbeatHandler(coordinator: GroupCoordinator): ApiHandler<typeof ApiKey.ConsumerGroupHeartbeat> {
  return defineHandler({
    apiKey: ApiKey.ConsumerGroupHeartbeat,
    minVersion: 0,
    maxVersion: 1,
    async handle(context, request) {
      if (!consumerProtocolEnabled(context, coordinator)) return { throttleTimeMs: 0, ...CONSUMER_PROTOCOL_DISABLED, memberId: null, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null };
      if (!mayOnGroup(context, AclOperation.READ, request.groupId)) {
        return { throttleTimeMs: 0, ...deniedAnswer(ResourceType.GROUP), memberId: null, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null };
      }
      const result = await coordinator.consumerGroupHeartbeat({
        groupId: request.groupId,
        memberId: request.memberId,
        memberEpoch: request.memberEpoch,
        instanceId: request.instanceId,
        rackId: request.rackId,
        rebalanceTimeoutMs: request.rebalanceTimeoutMs,
        subscribedTopicNames: request.subscribedTopicNames,
        subscribedTopicRegex: request.subscribedTopicRegex,
        serverAssignor: request.serverAssignor,
        topicPartitions: request.topicPartitions,
        clientId: context.header.clientId ?? '',
        clientHost: clientHostOf(context),
        memberIdFromClient: context.header.apiVersion >= 1,
      });
      return { throttleTimeMs: 0, ...result };
    },
  });
}

export function consumerGroupDescribeHandler(coordinator: GroupCoordinator): ApiHandler<typeof ApiKey.ConsumerGroupDescribe> {
  return defineHandler({
    apiKey: ApiKey.ConsumerGroupDescribe,
    minVersion: 0,
    maxVersion: 1,
    handle(context, request) {
      const groups = request.groupIds.map((groupId) => {
        if (!consumerProtocolEnabled(context, coordinator)) {
          return { ...CONSUMER_PROTOCOL_DISABLED, groupId, groupState: '', groupEpoch: -1, assignmentEpoch: -1, assignorName: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_NOT_REQUESTED };
        }
        if (!mayOnGroup(context, AclOperation.DESCRIBE, groupId)) {
          return { ...deniedAnswer(ResourceType.GROUP), groupId, groupState: '', groupEpoch: -1, assignmentEpoch: -1, assignorName: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_NOT_REQUESTED };
        }
        const { members, ...group } = coordinator.describeConsumerGroup(groupId);
        return {
          ...group,
          members: members.map(({ assignment, targetAssignment, classic, ...member }) => ({
            ...member,
            assignment: { topicPartitions: assignment },
            targetAssignment: { topicPartitions: targetAssignment },
            memberType: classic ? MEMBER_TYPE_CLASSIC : MEMBER_TYPE_CONSUMER,
          })),
          authorizedOperations: request.includeAuthorizedOperations ? authorizedOperations(context, ResourceType.GROUP, groupId) : AUTHORIZED_OPERATIONS_NOT_REQUESTED,
        };
      });
      return { throttleTimeMs: 0, groups };
    },
  });
}
