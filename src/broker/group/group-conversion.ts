// KIP-848's live migration between the two group protocols (Kafka's ConsumerGroup.fromClassicGroup
// and ClassicGroup.fromConsumerGroup). A classic group with members becomes a consumer group when a
// member of the consumer protocol joins it (an application rolled to group.protocol=consumer one
// instance at a time); a consumer group whose last consumer-protocol member leaves becomes a classic
// group again (a roll back). Either way the members stay, with their assignments, and the
// generation carries over as the group epoch, so no member starts over and no partition is read
// by two members. `group.consumer.migration.policy` says which ways are allowed.
//
// Pure functions: the coordinators (coordinator.ts, consumer-group-coordinator.ts) take the groups
// out of and into their maps, write the records and run the timers.
import { SluiceError } from '../../errors.js';
import { consumerProtocolVersion, decodeAssignment, decodeSubscription, encodeAssignment, ASSIGNMENT_VERSION } from '../../protocol/consumer-protocol.js';
import { ConsumerGroup, ConsumerGroupMember, toAssignment, toTopicPartitions, type Assignment } from './consumer-group.js';
import { CONSUMER_PROTOCOL_TYPE } from './consumer-protocol.js';
import type { MemberFields } from './group.js';

/** group.consumer.migration.policy (Kafka's ConsumerGroupMigrationPolicy); Kafka 4's default is bidirectional. */
export type MigrationPolicy = 'disabled' | 'upgrade' | 'downgrade' | 'bidirectional';
export const MIGRATION_POLICIES: readonly MigrationPolicy[] = ['disabled', 'upgrade', 'downgrade', 'bidirectional'];

export function upgradeEnabled(policy: MigrationPolicy): boolean {
  return policy === 'upgrade' || policy === 'bidirectional';
}

export function downgradeEnabled(policy: MigrationPolicy): boolean {
  return policy === 'downgrade' || policy === 'bidirectional';
}

/** A classic group's members, as either side of a conversion has them. */
export interface ClassicGroupSnapshot {
  groupId: string;
  protocolType: string | null;
  generationId: number;
  /** The protocol of the current generation, null before the first one completed. */
  protocolName: string | null;
  members: ClassicMemberSnapshot[];
}

export interface ClassicMemberSnapshot extends Omit<MemberFields, 'protocolType'> {
  /** Its ConsumerProtocolAssignment bytes; empty when it has none yet. */
  assignment: Buffer;
}

/** Names and ids of topics, both ways (unknown ones are undefined). */
export interface TopicIds {
  idOf(name: string): string | undefined;
  nameOf(id: string): string | undefined;
}

/**
 * The consumer group a classic group becomes (Kafka's ConsumerGroup.fromClassicGroup): the group
 * and target epochs are the classic generation; every member is Stable at that epoch, with what its
 * last SyncGroup gave it as both its assignment and its target. Members that were mid-rebalance
 * rejoin: their heartbeats answer REBALANCE_IN_PROGRESS once the joining member moves the epoch.
 * Throws INVALID_REQUEST (the caller answers GROUP_ID_NOT_FOUND, as Kafka does) when a member's
 * subscription or assignment is not the consumer protocol's, or an assignment carries userData a
 * custom assignor would lose.
 */
export function consumerGroupFromClassic(snapshot: ClassicGroupSnapshot, topics: TopicIds): ConsumerGroup {
  const group = new ConsumerGroup(snapshot.groupId);
  group.groupEpoch = snapshot.generationId;
  group.assignmentEpoch = snapshot.generationId;
  for (const classic of snapshot.members) {
    const protocol = classic.protocols.find((p) => p.name === snapshot.protocolName) ?? classic.protocols[0];
    if (protocol === undefined) throw new SluiceError('INVALID_REQUEST', `member ${classic.memberId} has no protocol`);
    const subscription = decodeSubscription(protocol.metadata);
    const { partitions, userData } = decodeAssignment(classic.assignment);
    if (userData !== null && userData.length > 0) throw new SluiceError('INVALID_REQUEST', `the assignment of member ${classic.memberId} carries userData a custom assignor would lose`);
    const assigned = assignmentOf(partitions, topics);
    const member = new ConsumerGroupMember(classic.memberId);
    member.memberEpoch = snapshot.generationId;
    member.previousMemberEpoch = snapshot.generationId;
    member.instanceId = classic.groupInstanceId;
    member.rackId = subscription.rackId ?? null;
    member.rebalanceTimeoutMs = classic.rebalanceTimeoutMs;
    member.clientId = classic.clientId;
    member.clientHost = classic.clientHost;
    member.subscribedTopicNames = subscription.topics;
    member.assigned = assigned;
    member.classicMemberMetadata = { sessionTimeoutMs: classic.sessionTimeoutMs, supportedProtocols: classic.protocols.map((p) => ({ name: p.name, metadata: p.metadata })) };
    group.targetAssignment.set(member.memberId, assigned);
    group.putMember(member);
  }
  return group;
}

/**
 * The classic group a consumer group becomes when `leavingMemberId`, its last member of the
 * consumer protocol, leaves, or (null) when a classic static member took its place (Kafka's
 * ClassicGroup.fromConsumerGroup): generation = group epoch;
 * each remaining member with the protocols of its JoinGroup and its target assignment, encoded in
 * the version of its own subscription. The protocol is chosen by the classic coordinator's vote.
 */
export function classicGroupFromConsumerGroup(group: ConsumerGroup, leavingMemberId: string | null, topics: TopicIds): ClassicGroupSnapshot {
  const members: ClassicMemberSnapshot[] = [];
  for (const member of group.members.values()) {
    if (member.memberId === leavingMemberId || member.classicMemberMetadata === null) continue;
    const protocols = member.classicMemberMetadata.supportedProtocols.map((p) => ({ name: p.name, metadata: p.metadata }));
    members.push({
      memberId: member.memberId,
      groupInstanceId: member.instanceId,
      clientId: member.clientId,
      clientHost: member.clientHost,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      sessionTimeoutMs: member.classicMemberMetadata.sessionTimeoutMs,
      protocols,
      assignment: classicAssignment(group.targetAssignment.get(member.memberId) ?? new Map(), protocols[0]?.metadata, topics),
    });
  }
  return { groupId: group.groupId, protocolType: CONSUMER_PROTOCOL_TYPE, generationId: group.groupEpoch, protocolName: null, members };
}

/** Partitions named by topic name as an Assignment by topic id; those of topics gone are left out (nothing to own). */
export function assignmentOf(partitions: ReadonlyArray<{ topic: string; partition: number }>, topics: TopicIds): Assignment {
  return toAssignment(
    partitions.flatMap(({ topic, partition }) => {
      const topicId = topics.idOf(topic);
      return topicId === undefined ? [] : [{ topicId, partitions: [partition] }];
    }),
  );
}

/**
 * A member's partitions as the ConsumerProtocolAssignment a classic member reads from SyncGroup,
 * in the version of its subscription (Kafka's prepareAssignment), capped at the newest we write.
 */
export function classicAssignment(assignment: Assignment, subscription: Buffer | undefined, topics: TopicIds): Buffer {
  const partitions: Array<{ topic: string; partition: number }> = [];
  for (const { topicId, partitions: list } of toTopicPartitions(assignment)) {
    const topic = topics.nameOf(topicId);
    if (topic !== undefined) for (const partition of list) partitions.push({ topic, partition });
  }
  let version = ASSIGNMENT_VERSION;
  try {
    if (subscription !== undefined) version = Math.min(consumerProtocolVersion(subscription), 2);
  } catch {
    // not a consumer subscription: the default version
  }
  return encodeAssignment(partitions, null, version);
}
