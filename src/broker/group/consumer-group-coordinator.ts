// The consumer group protocol's coordinator (KIP-848, ConsumerGroupHeartbeat, API 68): members
// send their subscription and what they own on every heartbeat, and the coordinator answers with
// their member epoch and the partitions they may own, computed on the broker (uniform or range
// assignor). There is no JoinGroup/SyncGroup barrier: one member's rebalance never stops another
// from fetching the partitions it keeps.
//
// The groups live beside the classic ones (GroupCoordinator owns both) under one id space. An
// Empty classic group (committed offsets only) becomes a consumer group; so does one with members,
// as Kafka 4 migrates them (group-conversion.ts, group.consumer.migration.policy): its members stay
// and speak the classic protocol inside the consumer group, where JoinGroup, SyncGroup, Heartbeat
// and LeaveGroup are served by the rules below (Kafka's classicGroup*ToConsumerGroup), and when the
// last member of the consumer protocol leaves, the group becomes a classic one again. Offsets are
// the same __consumer_offsets records either way.
//
// Every change is written to __consumer_offsets in Kafka's records (consumer-group-format.ts)
// before the heartbeat is answered, so a restarted coordinator, or a new one after a move in a
// cluster, takes the group over with its epochs, members and assignments (restore), and the
// members go on without rejoining.
import { randomUUID } from 'node:crypto';

import { KafkaErrorCode } from '../../errors.js';
import { TIMER_DELAY_MAX_MS } from '../../limits.js';
import type { Engine } from '../../engine/engine.js';
import { decodeSubscription, type Subscription } from '../../protocol/consumer-protocol.js';
import { SERVER_ASSIGNORS } from './consumer-group-assignors.js';
import { CONSUMER_GROUP_RECORD_TYPES as R, MEMBER_STATE_BYTES, type ConsumerGroupRecord } from './consumer-group-format.js';
import { CONSUMER_PROTOCOL_TYPE } from './consumer-protocol.js';
import type { HeartbeatParams, JoinGroupParams, LeaveGroupResult, SyncGroupParams } from './coordinator.js';
import { joinError, syncError, type JoinResult, type SyncResult } from './group.js';
import {
  assignmentOf,
  classicAssignment,
  classicGroupFromConsumerGroup,
  consumerGroupFromClassic,
  downgradeEnabled,
  upgradeEnabled,
  type ClassicGroupSnapshot,
  type MigrationPolicy,
  type TopicIds,
} from './group-conversion.js';
import type { CommittedOffset } from './group-metadata-manager.js';
import {
  ConsumerGroup,
  ConsumerGroupMember,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  isSubset,
  sameAssignment,
  toAssignment,
  toTopicPartitions,
  type Assignment,
} from './consumer-group.js';

const E = KafkaErrorCode;

export interface ConsumerGroupHeartbeatParams {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  topicPartitions: Array<{ topicId: string; partitions: number[] }> | null;
  clientId: string;
  clientHost: string;
  /** v1+: the member makes its own id (a UUID) before joining; v0: the coordinator does. */
  memberIdFromClient: boolean;
}

export interface ConsumerGroupHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicPartitions: Array<{ topicId: string; partitions: number[] }> } | null;
}

export interface ConsumerGroupSettings {
  /** group.consumer.heartbeat.interval.ms */
  heartbeatIntervalMs: number;
  /** group.consumer.session.timeout.ms */
  sessionTimeoutMs: number;
  /** group.consumer.max.size */
  maxSize: number;
  /** group.consumer.migration.policy: which conversions between the protocols are allowed. */
  migrationPolicy: MigrationPolicy;
  /** group.max.size: a consumer group larger than this does not become a classic one. */
  classicMaxSize: number;
}

/** What the consumer group coordinator needs to know of the classic groups sharing its id space. */
export interface ClassicGroups {
  /** 'none', 'empty' (no members: it may become a consumer group) or 'active'. */
  classicGroupState(groupId: string): 'none' | 'empty' | 'active';
  /** A classic group with members as it stands (an upgrade's input), or null. */
  classicGroupSnapshot(groupId: string): ClassicGroupSnapshot | null;
  /**
   * Ends a classic group that becomes a consumer group (its offsets stay): JoinGroup and SyncGroup
   * requests parked in its rebalance are answered REBALANCE_IN_PROGRESS, and its record is deleted.
   */
  dropClassicGroup(groupId: string): void;
  /** Starts the classic group a consumer group becomes (a downgrade), and its rebalance when `rebalance`. */
  startClassicGroup(snapshot: ClassicGroupSnapshot, rebalance: boolean): void;
}

/** Appends records to __consumer_offsets; rejects with the append's error (not the leader, a full disk). */
export type PersistRecords = (records: readonly ConsumerGroupRecord[]) => Promise<void>;

export interface MemberDescription {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  memberEpoch: number;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  assignment: Array<{ topicId: string; topicName: string; partitions: number[] }>;
  targetAssignment: Array<{ topicId: string; topicName: string; partitions: number[] }>;
  /** A member of the classic protocol (JoinGroup, SyncGroup, Heartbeat). */
  classic: boolean;
}

export class ConsumerGroupCoordinator {
  private readonly groups = new Map<string, ConsumerGroup>();
  private closed = false;

  constructor(
    private readonly engine: Engine,
    private readonly settings: ConsumerGroupSettings,
    private readonly classic: ClassicGroups,
    private readonly persist: PersistRecords,
    private readonly nowMs: () => number,
    /** Kafka's mapping of an append's failure to the answer's error (NOT_COORDINATOR, ...). */
    private readonly appendErrorCode: (error: unknown) => number,
  ) {}

  has(groupId: string): boolean {
    return this.groups.has(groupId);
  }

  get(groupId: string): ConsumerGroup | undefined {
    return this.groups.get(groupId);
  }

  all(): Iterable<ConsumerGroup> {
    return this.groups.values();
  }

  /** Answers once what changed is in __consumer_offsets. */
  async heartbeat(params: ConsumerGroupHeartbeatParams): Promise<ConsumerGroupHeartbeatResult> {
    const records: ConsumerGroupRecord[] = [];
    const result = this.handleHeartbeat(params, records);
    const failure = await this.write(params.groupId, records);
    return failure === null ? result : this.error(failure.errorCode, failure.message);
  }

  /**
   * Writes a change's records (all of the group's, after a failed write); null once written, else
   * the error to answer. A group gone meanwhile (a downgrade) still gets its tombstones written.
   */
  private async write(groupId: string, records: readonly ConsumerGroupRecord[]): Promise<{ errorCode: number; message: string } | null> {
    const group = this.groups.get(groupId);
    const full = group?.needsFullWrite === true;
    if (records.length === 0 && !full) return null;
    try {
      await this.persist(full ? this.snapshotRecords(group!) : records);
      if (group) group.needsFullWrite = false;
      return null;
    } catch (error) {
      if (group) group.needsFullWrite = true;
      return { errorCode: this.appendErrorCode(error), message: `The group's records could not be written: ${(error as Error).message}` };
    }
  }

  private handleHeartbeat(params: ConsumerGroupHeartbeatParams, records: ConsumerGroupRecord[]): ConsumerGroupHeartbeatResult {
    const invalid = this.validateRequest(params);
    if (invalid !== null) return this.error(E.INVALID_REQUEST, invalid);
    if (params.serverAssignor !== null && !SERVER_ASSIGNORS.includes(params.serverAssignor)) {
      return this.error(E.UNSUPPORTED_ASSIGNOR, `Assignor ${params.serverAssignor} is not supported. Supported assignors: ${SERVER_ASSIGNORS.join(', ')}.`);
    }
    if (params.subscribedTopicRegex !== null && compileRegex(params.subscribedTopicRegex) === null) {
      return this.error(E.INVALID_REGULAR_EXPRESSION, `SubscribedTopicRegex ${params.subscribedTopicRegex} is not a valid regular expression.`);
    }
    let group = this.groups.get(params.groupId);
    if (!group) {
      const classic = this.classic.classicGroupState(params.groupId);
      if (classic === 'active') {
        const upgraded = params.memberEpoch === 0 ? this.upgrade(params.groupId, records) : 'a member joins with epoch 0';
        if (typeof upgraded === 'string') return this.error(E.GROUP_ID_NOT_FOUND, `Group ${params.groupId} is not a consumer group (${upgraded}).`);
        group = upgraded;
      } else {
        if (params.memberEpoch !== 0) return this.error(E.UNKNOWN_MEMBER_ID, `Member ${params.memberId} is not a member of group ${params.groupId}.`);
        if (classic === 'empty') this.classic.dropClassicGroup(params.groupId);
        group = new ConsumerGroup(params.groupId);
        this.groups.set(params.groupId, group);
      }
    }
    if (params.memberEpoch === -1 || params.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) return this.leave(group, params, records);
    return this.join(group, params, records);
  }

  private join(group: ConsumerGroup, params: ConsumerGroupHeartbeatParams, records: ConsumerGroupRecord[]): ConsumerGroupHeartbeatResult {
    const owned = params.topicPartitions === null ? null : toAssignment(params.topicPartitions);
    let member: ConsumerGroupMember | undefined;
    let changed = false;
    /** A member new to the log: all its records are written. */
    let fresh = false;
    if (params.memberEpoch === 0) {
      const found = this.memberForJoin(group, params, records);
      if (typeof found === 'number') return this.error(found, found === E.UNRELEASED_INSTANCE_ID ? `Static member ${params.instanceId} of group ${group.groupId} has not left yet.` : `Group ${group.groupId} is full.`);
      member = found.member;
      changed = found.isNew;
      fresh = found.isNew || found.replacedStatic;
      // What it owned before rejoining, it owns no more: it starts from its target again.
      if (!found.isNew && !found.replacedStatic) group.resetMember(member);
      // A classic member that rejoins with this protocol speaks it from now on.
      if (member.usesClassicProtocol) {
        member.classicMemberMetadata = null;
        this.clearClassicTimers(member);
      }
    } else {
      member = group.members.get(params.memberId);
      if (!member || member.usesClassicProtocol) return this.error(E.UNKNOWN_MEMBER_ID, `Member ${params.memberId} is not a member of group ${group.groupId}.`);
      const fenced = this.fencedEpoch(member, params.memberEpoch, owned);
      if (fenced) return this.error(E.FENCED_MEMBER_EPOCH, `The member epoch ${params.memberEpoch} of ${member.memberId} is fenced: the coordinator has ${member.memberEpoch}.`);
    }
    const before = stateBefore(group, member, fresh);

    // Take what changed; a changed subscription moves the group epoch on.
    member.clientId = params.clientId;
    member.clientHost = params.clientHost;
    if (params.rackId !== null) member.rackId = params.rackId;
    if (params.rebalanceTimeoutMs >= 0) member.rebalanceTimeoutMs = params.rebalanceTimeoutMs;
    if (params.serverAssignor !== null) member.serverAssignor = params.serverAssignor;
    if (params.subscribedTopicNames !== null && !sameNames(params.subscribedTopicNames, member.subscribedTopicNames)) {
      member.subscribedTopicNames = [...params.subscribedTopicNames];
      changed = true;
    }
    if (params.subscribedTopicRegex !== null && params.subscribedTopicRegex !== member.subscribedTopicRegex) {
      member.subscribedTopicRegex = params.subscribedTopicRegex === '' ? null : params.subscribedTopicRegex;
      changed = true;
    }
    this.updateTarget(group, changed);
    const assignedBefore = member.assigned;
    const wasEpoch = member.memberEpoch;
    group.reconcile(member, owned);
    group.emptySinceMs = null;
    this.scheduleTimers(group, member);

    records.push(...changeRecords(group, member, before));

    // Kafka sends the assignment when the request was a full one (joining, or every field set, as
    // after an error) or when it changed.
    const full = params.memberEpoch === 0 || (params.rebalanceTimeoutMs !== -1 && params.subscribedTopicNames !== null && params.topicPartitions !== null);
    const assignmentChanged = wasEpoch !== member.memberEpoch || !sameAssignment(assignedBefore, member.assigned);
    return {
      errorCode: E.NONE,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.settings.heartbeatIntervalMs,
      assignment: full || assignmentChanged ? { topicPartitions: toTopicPartitions(member.assigned) } : null,
    };
  }

  /** A changed subscription, or subscribed topics that changed, move the group epoch on; a new epoch gets its target. */
  private updateTarget(group: ConsumerGroup, subscriptionChanged: boolean): void {
    const signature = this.subscriptionSignature(group);
    if (subscriptionChanged || signature !== group.subscriptionSignature) {
      group.bumpGroupEpoch();
      group.subscriptionSignature = signature;
    }
    if (group.groupEpoch > group.assignmentEpoch) {
      const { counts } = this.subscribedTopics(group);
      group.computeTargetAssignment(this.assignorOf(group), (m) => this.topicIdsOf(m), counts);
    }
  }

  /** The member a join (epoch 0) is for: new, the same id again, or a static member's replacement. */
  private memberForJoin(group: ConsumerGroup, params: ConsumerGroupHeartbeatParams, records: ConsumerGroupRecord[]): { member: ConsumerGroupMember; isNew: boolean; replacedStatic: boolean } | number {
    if (params.instanceId !== null) {
      const previousId = group.staticMembers.get(params.instanceId);
      const previous = previousId === undefined ? undefined : group.members.get(previousId);
      if (previous && previous.memberId !== params.memberId) {
        if (previous.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) return E.UNRELEASED_INSTANCE_ID;
        const member = this.replaceStaticMember(group, previous, params.memberId === '' ? randomUUID() : params.memberId, records);
        return { member, isNew: false, replacedStatic: true };
      }
    }
    const existing = params.memberId === '' ? undefined : group.members.get(params.memberId);
    if (existing) return { member: existing, isNew: false, replacedStatic: false };
    if (group.members.size >= this.settings.maxSize) return E.GROUP_MAX_SIZE_REACHED;
    const member = new ConsumerGroupMember(params.memberId === '' ? randomUUID() : params.memberId);
    member.instanceId = params.instanceId;
    group.putMember(member);
    return { member, isNew: true, replacedStatic: false };
  }

  /** The static member is back under a new id: it takes over the old one's place, epoch and partitions. */
  private replaceStaticMember(group: ConsumerGroup, previous: ConsumerGroupMember, memberId: string, records: ConsumerGroupRecord[]): ConsumerGroupMember {
    const member = new ConsumerGroupMember(memberId);
    Object.assign(member, { ...previous, memberId, sessionTimer: null, rebalanceTimer: null, classicSyncTimer: null, classicJoinTimer: null });
    const epoch = previous.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH ? previous.previousMemberEpoch : previous.memberEpoch;
    member.memberEpoch = epoch >= 0 ? epoch : 0;
    this.clearTimers(previous);
    const target = group.targetAssignment.get(previous.memberId);
    group.removeMember(previous.memberId);
    records.push(...memberTombstones(group, previous.memberId));
    if (target) group.targetAssignment.set(member.memberId, target);
    group.putMember(member);
    return member;
  }

  /**
   * Kafka's epoch check: a member ahead of the coordinator is fenced; one a step behind is taken
   * only at its previous epoch and owning nothing it was not given (a lost response).
   */
  private fencedEpoch(member: ConsumerGroupMember, epoch: number, owned: Assignment | null): boolean {
    if (epoch === member.memberEpoch) return false;
    if (epoch > member.memberEpoch) return true;
    return !(epoch === member.previousMemberEpoch && owned !== null && isSubset(owned, member.assigned));
  }

  private leave(group: ConsumerGroup, params: ConsumerGroupHeartbeatParams, records: ConsumerGroupRecord[]): ConsumerGroupHeartbeatResult {
    const member = group.members.get(params.memberId);
    if (!member) return this.error(E.UNKNOWN_MEMBER_ID, `Member ${params.memberId} is not a member of group ${group.groupId}.`);
    if (params.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH && member.instanceId !== null) {
      // A static member stepping out for a restart keeps its partitions until its session ends.
      member.previousMemberEpoch = member.memberEpoch;
      member.memberEpoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
      this.scheduleTimers(group, member);
      records.push(currentAssignmentRecord(group, member));
    } else {
      this.fenceMember(group, member, records);
    }
    return { errorCode: E.NONE, errorMessage: null, memberId: member.memberId, memberEpoch: params.memberEpoch, heartbeatIntervalMs: 0, assignment: null };
  }

  /**
   * A member leaves or is removed. When it was the last of the consumer protocol among members of
   * the classic one, the group becomes a classic group (Kafka's consumerGroupFenceMember).
   */
  private fenceMember(group: ConsumerGroup, member: ConsumerGroupMember, records: ConsumerGroupRecord[]): void {
    if (this.mayDowngrade(group, member)) this.downgrade(group, member, records);
    else records.push(...this.removeMember(group, member));
  }

  /**
   * Kafka's validateOnlineDowngradeWithFencedMember (`leaving`, the last member of the consumer
   * protocol) and validateOnlineDowngradeWithReplacedMemberId (null: every member is classic now).
   */
  private mayDowngrade(group: ConsumerGroup, leaving: ConsumerGroupMember | null): boolean {
    if (!downgradeEnabled(this.settings.migrationPolicy)) return false;
    if (leaving === null) return [...group.members.values()].every((m) => m.usesClassicProtocol) && group.members.size <= this.settings.classicMaxSize;
    return group.allMembersUseClassicProtocolExcept(leaving.memberId) && group.members.size > 1 && group.members.size - 1 <= this.settings.classicMaxSize;
  }

  /**
   * The consumer group's records go (tombstones); the classic group takes its members, and
   * rebalances when one left (`leaving`), not when a classic member took a static one's place.
   */
  private downgrade(group: ConsumerGroup, leaving: ConsumerGroupMember | null, records: ConsumerGroupRecord[]): void {
    const snapshot = classicGroupFromConsumerGroup(group, leaving?.memberId ?? null, this.topicIds);
    for (const member of group.members.values()) {
      this.clearTimers(member);
      records.push(...memberTombstones(group, member.memberId));
    }
    records.push(...this.deletionRecords(group.groupId));
    this.groups.delete(group.groupId);
    this.classic.startClassicGroup(snapshot, leaving !== null);
  }

  /**
   * A classic group with members becomes a consumer group, as a member of the consumer protocol
   * joins it (Kafka's validateOnlineUpgrade and convertToConsumerGroup); returns why not otherwise.
   */
  private upgrade(groupId: string, records: ConsumerGroupRecord[]): ConsumerGroup | string {
    if (!upgradeEnabled(this.settings.migrationPolicy)) return 'the online upgrade is disabled by group.consumer.migration.policy';
    const snapshot = this.classic.classicGroupSnapshot(groupId);
    if (snapshot === null || snapshot.protocolType !== CONSUMER_PROTOCOL_TYPE) return 'the group does not use the consumer embedded protocol';
    if (snapshot.members.length > this.settings.maxSize) return 'the group size exceeds the consumer group maximum size';
    let group: ConsumerGroup;
    try {
      group = consumerGroupFromClassic(snapshot, this.topicIds);
    } catch (error) {
      return `its members' embedded consumer protocol cannot be converted: ${(error as Error).message}`;
    }
    this.classic.dropClassicGroup(groupId);
    group.subscriptionSignature = this.subscriptionSignature(group);
    this.groups.set(groupId, group);
    records.push(...this.snapshotRecords(group));
    for (const member of group.members.values()) this.scheduleTimers(group, member);
    return group;
  }

  private readonly topicIds: TopicIds = {
    idOf: (name) => (this.engine.hasTopic(name) ? this.engine.topicId(name) : undefined),
    nameOf: (id) => this.engine.topicNameById(id),
  };

  // ---- members of the classic protocol (Kafka's classicGroup*ToConsumerGroup) ------------------

  /**
   * JoinGroup from a member of the classic protocol to a consumer group with members. There is no
   * barrier: the member is answered once its records are written, with its member epoch as the
   * generation and no leader (the broker assigns); it then owes a SyncGroup within its rebalance
   * timeout. What it owned is read from its subscription (empty for an eager member, which gave
   * everything up before rejoining), and the member moves towards its target as a heartbeat would.
   */
  async classicJoin(params: JoinGroupParams): Promise<JoinResult> {
    const records: ConsumerGroupRecord[] = [];
    const result = this.handleClassicJoin(params, records);
    if (result.errorCode !== E.NONE) return result;
    const failure = await this.write(params.groupId, records);
    return failure === null ? result : joinError(params.memberId, failure.errorCode);
  }

  private handleClassicJoin(params: JoinGroupParams, records: ConsumerGroupRecord[]): JoinResult {
    const group = this.groups.get(params.groupId);
    if (group === undefined) return joinError(params.memberId, E.UNKNOWN_MEMBER_ID);
    const isUnknownMember = params.memberId === '';
    const memberId = isUnknownMember ? randomUUID() : params.memberId;
    if (group.members.size >= this.settings.maxSize && !group.members.has(memberId)) return joinError(params.memberId, E.GROUP_MAX_SIZE_REACHED);
    if (!group.supportsClassicProtocols(params.protocolType, params.protocols.map((p) => p.name))) return joinError(params.memberId, E.INCONSISTENT_GROUP_PROTOCOL);
    // A dynamic member without an id first gets one, and joins again with it (JoinGroup v4+).
    if (isUnknownMember && params.groupInstanceId === null && params.requireKnownMemberId) return joinError(memberId, E.MEMBER_ID_REQUIRED);
    let subscription: Subscription;
    try {
      subscription = decodeSubscription(params.protocols[0]!.metadata);
    } catch {
      return joinError(params.memberId, E.INCONSISTENT_GROUP_PROTOCOL);
    }

    let member: ConsumerGroupMember;
    let isNew = false;
    let fresh = false;
    let replacesConsumerMember = false;
    if (params.groupInstanceId === null) {
      member = group.members.get(memberId) ?? new ConsumerGroupMember(memberId);
      isNew = !group.members.has(memberId);
    } else {
      const previousId = group.staticMembers.get(params.groupInstanceId);
      const previous = previousId === undefined ? undefined : group.members.get(previousId);
      if (isUnknownMember) {
        // A static member with a new id replaces the one with its instance id, as in a classic group.
        if (previous) {
          replacesConsumerMember = !previous.usesClassicProtocol;
          member = this.replaceStaticMember(group, previous, memberId, records);
          fresh = true;
        } else {
          member = new ConsumerGroupMember(memberId);
          member.instanceId = params.groupInstanceId;
          isNew = true;
        }
      } else {
        if (!previous) return joinError(params.memberId, E.UNKNOWN_MEMBER_ID);
        if (previous.memberId !== memberId) return joinError(params.memberId, E.FENCED_INSTANCE_ID);
        member = previous;
      }
    }
    if (isNew) group.putMember(member);
    fresh ||= isNew;
    const before = stateBefore(group, member, fresh);

    member.clientId = params.clientId;
    member.clientHost = params.clientHost;
    if (subscription.rackId) member.rackId = subscription.rackId;
    if (params.rebalanceTimeoutMs >= 0) member.rebalanceTimeoutMs = params.rebalanceTimeoutMs;
    member.classicMemberMetadata = { sessionTimeoutMs: params.sessionTimeoutMs, supportedProtocols: params.protocols.map((p) => ({ name: p.name, metadata: p.metadata })) };
    let changed = isNew;
    if (!sameNames(subscription.topics, member.subscribedTopicNames)) {
      member.subscribedTopicNames = [...subscription.topics];
      changed = true;
    }
    this.updateTarget(group, changed);
    group.reconcile(member, assignmentOf(subscription.ownedPartitions, this.topicIds));
    group.emptySinceMs = null;
    if (member.classicJoinTimer) clearTimeout(member.classicJoinTimer);
    member.classicJoinTimer = null;
    this.scheduleTimers(group, member);
    if (member.classicSyncTimer) clearTimeout(member.classicSyncTimer);
    member.classicSyncTimer = this.timer(member.rebalanceTimeoutMs, () => this.expire(group, member));

    records.push(...changeRecords(group, member, before));
    // The last member of the consumer protocol was a static one this classic member replaced: the
    // group is classic again, the member in its place with its partitions (Kafka's
    // validateOnlineDowngradeWithReplacedMemberId; no rebalance, as nobody left).
    if (replacesConsumerMember && this.mayDowngrade(group, null)) this.downgrade(group, null, records);
    return {
      errorCode: E.NONE,
      generationId: member.memberEpoch,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolName: member.classicProtocolName,
      leader: '',
      skipAssignment: false,
      memberId: member.memberId,
      members: [],
    };
  }

  /**
   * SyncGroup from a classic member: its assignment as the coordinator holds it, in the version of
   * its subscription. REBALANCE_IN_PROGRESS when the group moved on since its JoinGroup (unless it
   * still has partitions to give up: it gives them up first, and its heartbeat sends it back).
   */
  classicSync(params: SyncGroupParams): SyncResult {
    const group = this.groups.get(params.groupId);
    if (group === undefined || group.members.size === 0) return syncError(E.UNKNOWN_MEMBER_ID);
    const member = this.classicMember(group, params.memberId, params.groupInstanceId);
    if (typeof member === 'number') return syncError(member);
    if (params.generationId !== member.memberEpoch) return syncError(E.ILLEGAL_GENERATION);
    if (params.protocolType !== null && params.protocolType !== CONSUMER_PROTOCOL_TYPE) return syncError(E.INCONSISTENT_GROUP_PROTOCOL);
    if (params.protocolName !== null && params.protocolName !== member.classicProtocolName) return syncError(E.INCONSISTENT_GROUP_PROTOCOL);
    if (group.groupEpoch > member.memberEpoch && member.state !== 'UNREVOKED_PARTITIONS') {
      this.scheduleClassicRejoin(group, member);
      return syncError(E.REBALANCE_IN_PROGRESS);
    }
    if (member.classicSyncTimer) clearTimeout(member.classicSyncTimer);
    member.classicSyncTimer = null;
    this.scheduleTimers(group, member);
    return {
      errorCode: E.NONE,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolName: member.classicProtocolName,
      assignment: classicAssignment(member.assigned, member.classicMemberMetadata!.supportedProtocols[0]?.metadata, this.topicIds),
    };
  }

  /**
   * Heartbeat from a classic member: its session goes on; REBALANCE_IN_PROGRESS sends it back to
   * JoinGroup when the group epoch moved past its own, when it has partitions to give up, or when
   * the partitions it waited for are free.
   */
  classicHeartbeat(params: HeartbeatParams): number {
    const group = this.groups.get(params.groupId);
    if (group === undefined) return E.UNKNOWN_MEMBER_ID;
    const member = this.classicMember(group, params.memberId, params.groupInstanceId);
    if (typeof member === 'number') return member;
    if (params.generationId !== member.memberEpoch) return E.ILLEGAL_GENERATION;
    this.scheduleTimers(group, member);
    if (
      member.memberEpoch < group.groupEpoch ||
      member.state === 'UNREVOKED_PARTITIONS' ||
      (member.state === 'UNRELEASED_PARTITIONS' && !group.waitingOnUnreleasedPartition(member))
    ) {
      this.scheduleClassicRejoin(group, member);
      return E.REBALANCE_IN_PROGRESS;
    }
    return E.NONE;
  }

  /**
   * LeaveGroup for classic members of a consumer group: each leaves as a member whose session
   * ended. Answered at once, as the classic coordinator answers it; the records follow (a failed
   * write is retried in full with the group's next change).
   */
  /** Answered once the group's records are written, as Kafka answers from the appended result: a write that fails is the response's error. */
  async classicLeave(groupId: string, identities: Array<{ memberId: string; groupInstanceId: string | null }>): Promise<LeaveGroupResult> {
    const group = this.groups.get(groupId);
    if (group === undefined) return { errorCode: E.NONE, members: identities.map((m) => ({ ...m, errorCode: E.UNKNOWN_MEMBER_ID })) };
    const records: ConsumerGroupRecord[] = [];
    const members = identities.map(({ memberId, groupInstanceId }) => {
      const member = this.classicMember(group, memberId === '' && groupInstanceId !== null ? null : memberId, groupInstanceId);
      if (typeof member === 'number') return { memberId, groupInstanceId, errorCode: member };
      if (this.groups.get(groupId) === group) records.push(...this.removeMember(group, member));
      return { memberId: member.memberId, groupInstanceId, errorCode: E.NONE };
    });
    const failure = await this.write(groupId, records);
    if (failure !== null) return { errorCode: failure.errorCode, members: [] };
    return { errorCode: E.NONE, members };
  }

  /**
   * The classic member a request names (Kafka's validateConsumerGroupMember): by instance id for a
   * static member (FENCED_INSTANCE_ID when another member id holds it), else by member id; a
   * member of the consumer protocol is UNKNOWN_MEMBER_ID here. `memberId` null: any id.
   */
  private classicMember(group: ConsumerGroup, memberId: string | null, groupInstanceId: string | null): ConsumerGroupMember | number {
    let member: ConsumerGroupMember | undefined;
    if (groupInstanceId === null) {
      member = memberId === null ? undefined : group.members.get(memberId);
    } else {
      const id = group.staticMembers.get(groupInstanceId);
      member = id === undefined ? undefined : group.members.get(id);
      if (member !== undefined && memberId !== null && member.memberId !== memberId) return E.FENCED_INSTANCE_ID;
    }
    if (member === undefined || !member.usesClassicProtocol) return E.UNKNOWN_MEMBER_ID;
    return member;
  }

  /** A classic member told to rejoin must do so within its rebalance timeout, or it is removed. */
  private scheduleClassicRejoin(group: ConsumerGroup, member: ConsumerGroupMember): void {
    member.classicJoinTimer ??= this.timer(member.rebalanceTimeoutMs, () => this.expire(group, member));
  }

  /** Removes the member and bumps the group epoch; returns the records that say so. */
  private removeMember(group: ConsumerGroup, member: ConsumerGroupMember): ConsumerGroupRecord[] {
    this.clearTimers(member);
    group.removeMember(member.memberId);
    group.bumpGroupEpoch();
    group.subscriptionSignature = this.subscriptionSignature(group);
    if (group.members.size === 0) group.emptySinceMs = this.nowMs();
    return [...memberTombstones(group, member.memberId), { type: R.metadata, groupId: group.groupId, value: { epoch: group.groupEpoch } }];
  }

  /** A session ends without a heartbeat for group.consumer.session.timeout.ms; a revocation must finish within the member's rebalance timeout. */
  private scheduleTimers(group: ConsumerGroup, member: ConsumerGroupMember): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = this.timer(member.classicMemberMetadata?.sessionTimeoutMs ?? this.settings.sessionTimeoutMs, () => this.expire(group, member));
    if (member.state === 'UNREVOKED_PARTITIONS') {
      member.rebalanceTimer ??= this.timer(member.rebalanceTimeoutMs, () => this.expire(group, member));
    } else if (member.rebalanceTimer) {
      clearTimeout(member.rebalanceTimer);
      member.rebalanceTimer = null;
    }
  }

  /** A session or a revocation that ran out: the member is removed, and the log says so (a failed write is retried in full with the group's next change). */
  private expire(group: ConsumerGroup, member: ConsumerGroupMember): void {
    if (this.groups.get(group.groupId) !== group || group.members.get(member.memberId) !== member) return;
    const records: ConsumerGroupRecord[] = [];
    this.fenceMember(group, member, records);
    void this.write(group.groupId, records);
  }

  /** Every record of the group as it is now (after a failed write). */
  private snapshotRecords(group: ConsumerGroup): ConsumerGroupRecord[] {
    const records: ConsumerGroupRecord[] = [];
    for (const member of group.members.values()) records.push(memberMetadataRecord(group, member));
    records.push({ type: R.metadata, groupId: group.groupId, value: { epoch: group.groupEpoch } }, ...targetRecords(group));
    for (const member of group.members.values()) records.push(currentAssignmentRecord(group, member));
    return records;
  }

  /**
   * Takes a group over from its records in __consumer_offsets (log order, the last of each key
   * winning): its epochs, members and their assignments. The members' sessions start now.
   */
  restore(groupId: string, records: readonly ConsumerGroupRecord[]): void {
    const group = new ConsumerGroup(groupId);
    const metadata = new Map<string, NonNullable<Extract<ConsumerGroupRecord, { type: 5 }>['value']>>();
    const current = new Map<string, NonNullable<Extract<ConsumerGroupRecord, { type: 8 }>['value']>>();
    for (const record of records) {
      switch (record.type) {
        case R.metadata:
          if (record.value !== null) group.groupEpoch = record.value.epoch;
          break;
        case R.targetMetadata:
          if (record.value !== null) group.assignmentEpoch = record.value.assignmentEpoch;
          break;
        case R.memberMetadata:
          if (record.value === null) metadata.delete(record.memberId);
          else metadata.set(record.memberId, record.value);
          break;
        case R.targetMember:
          if (record.value === null) group.targetAssignment.delete(record.memberId);
          else group.targetAssignment.set(record.memberId, toAssignment(record.value.topicPartitions));
          break;
        case R.currentAssignment:
          if (record.value === null) current.delete(record.memberId);
          else current.set(record.memberId, record.value);
          break;
      }
    }
    for (const id of group.targetAssignment.keys()) if (!metadata.has(id)) group.targetAssignment.delete(id);
    for (const [memberId, value] of metadata) {
      // The record's fields are the member's own, by the same names (memberMetadataRecord writes them).
      const member = Object.assign(new ConsumerGroupMember(memberId), value);
      // The protocols' metadata must outlive the buffer the records were read into.
      const classic = value.classicMemberMetadata;
      if (classic) member.classicMemberMetadata = { sessionTimeoutMs: classic.sessionTimeoutMs, supportedProtocols: classic.supportedProtocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })) };
      const assignment = current.get(memberId);
      if (assignment) {
        member.memberEpoch = assignment.memberEpoch;
        member.previousMemberEpoch = assignment.previousMemberEpoch;
        member.state = memberStateOf(assignment.state);
        member.assigned = toAssignment(assignment.assignedPartitions);
        member.pendingRevocation = toAssignment(assignment.partitionsPendingRevocation);
      }
      group.putMember(member);
    }
    group.subscriptionSignature = this.subscriptionSignature(group);
    if (group.members.size === 0) group.emptySinceMs = this.nowMs();
    this.groups.set(groupId, group);
    for (const member of group.members.values()) this.scheduleTimers(group, member);
  }

  /** Forgets the Empty groups `gone` accepts (Kafka's cleanup of groups left without offsets); returns their tombstones. */
  forgetEmpty(gone: (groupId: string) => boolean): ConsumerGroupRecord[] {
    const records: ConsumerGroupRecord[] = [];
    for (const [groupId, group] of [...this.groups]) {
      if (group.members.size > 0 || !gone(groupId)) continue;
      this.groups.delete(groupId);
      records.push(...this.deletionRecords(groupId));
    }
    return records;
  }

  /** The records that delete an Empty group (DeleteGroups): its epoch and target metadata. */
  deletionRecords(groupId: string): ConsumerGroupRecord[] {
    return [
      { type: R.targetMetadata, groupId, value: null },
      { type: R.metadata, groupId, value: null },
    ];
  }

  /**
   * Kafka's ConsumerGroup.offsetExpirationCondition: an Empty group's offsets count from when it
   * became Empty; a group with members keeps those of the topics they subscribe to.
   */
  offsetExpiryBaseMs(groupId: string, topic: string, offset: CommittedOffset): number | null {
    const group = this.groups.get(groupId);
    if (group === undefined) return offset.commitTimestamp;
    if (group.members.size === 0) return group.emptySinceMs ?? offset.commitTimestamp;
    const topicId = this.engine.hasTopic(topic) ? this.engine.topicId(topic) : undefined;
    for (const member of group.members.values()) {
      if (member.subscribedTopicNames.includes(topic) || (topicId !== undefined && this.topicIdsOf(member).has(topicId))) return null;
    }
    return offset.commitTimestamp;
  }

  private clearTimers(member: ConsumerGroupMember): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    if (member.rebalanceTimer) clearTimeout(member.rebalanceTimer);
    member.sessionTimer = null;
    member.rebalanceTimer = null;
    this.clearClassicTimers(member);
  }

  private clearClassicTimers(member: ConsumerGroupMember): void {
    if (member.classicSyncTimer) clearTimeout(member.classicSyncTimer);
    if (member.classicJoinTimer) clearTimeout(member.classicJoinTimer);
    member.classicSyncTimer = null;
    member.classicJoinTimer = null;
  }

  /** Members may name an assignor; the group uses the one most of them name, else the default. */
  assignorOf(group: ConsumerGroup): string {
    const votes = new Map<string, number>();
    for (const member of group.members.values()) {
      if (member.serverAssignor !== null) votes.set(member.serverAssignor, (votes.get(member.serverAssignor) ?? 0) + 1);
    }
    let best = SERVER_ASSIGNORS[0]!;
    let most = 0;
    for (const [name, count] of votes) if (count > most) [best, most] = [name, count];
    return best;
  }

  /** The ids of the existing topics a member subscribes to, by name or by regex. */
  private topicIdsOf(member: ConsumerGroupMember): Set<string> {
    const ids = new Set<string>();
    for (const name of member.subscribedTopicNames) {
      const id = this.engine.hasTopic(name) ? this.engine.topicId(name) : undefined;
      if (id !== undefined) ids.add(id);
    }
    const regex = member.subscribedTopicRegex === null ? null : compileRegex(member.subscribedTopicRegex);
    if (regex !== null) {
      for (const name of this.engine.listTopics()) if (!name.startsWith('__') && regex.test(name)) ids.add(this.engine.topicId(name)!);
    }
    return ids;
  }

  private subscribedTopics(group: ConsumerGroup): { counts: Map<string, number>; names: Map<string, string> } {
    const counts = new Map<string, number>();
    const names = new Map<string, string>();
    for (const member of group.members.values()) {
      for (const id of this.topicIdsOf(member)) {
        if (counts.has(id)) continue;
        const name = this.engine.topicNameById(id);
        if (name === undefined) continue;
        counts.set(id, this.engine.partitionCount(name));
        names.set(id, name);
      }
    }
    return { counts, names };
  }

  /** Subscribed topics and their partition counts: when these change (a topic created, deleted or grown), the assignment is computed again. */
  private subscriptionSignature(group: ConsumerGroup): string {
    const { counts } = this.subscribedTopics(group);
    return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, count]) => `${id}:${count}`).join(',');
  }

  /** For OffsetCommit v9+ and OffsetFetch v9+ from a member: UNKNOWN_MEMBER_ID or STALE_MEMBER_EPOCH, else null. */
  validateMemberEpoch(group: ConsumerGroup, memberId: string, memberEpoch: number): number | null {
    const member = group.members.get(memberId);
    if (!member) return E.UNKNOWN_MEMBER_ID;
    return memberEpoch === member.memberEpoch ? null : E.STALE_MEMBER_EPOCH;
  }

  describe(group: ConsumerGroup): MemberDescription[] {
    const named = (assignment: Assignment | undefined) =>
      toTopicPartitions(assignment ?? new Map()).map(({ topicId, partitions }) => ({ topicId, topicName: this.engine.topicNameById(topicId) ?? '', partitions }));
    return [...group.members.values()].map((member) => ({
      memberId: member.memberId,
      instanceId: member.instanceId,
      rackId: member.rackId,
      memberEpoch: member.memberEpoch,
      clientId: member.clientId,
      clientHost: member.clientHost,
      subscribedTopicNames: member.subscribedTopicNames,
      subscribedTopicRegex: member.subscribedTopicRegex,
      assignment: named(member.assigned),
      targetAssignment: named(group.targetAssignment.get(member.memberId)),
      classic: member.usesClassicProtocol,
    }));
  }

  /** An Empty consumer group is deleted (DeleteGroups); one with members is not. */
  delete(groupId: string): boolean {
    const group = this.groups.get(groupId);
    if (!group || group.members.size > 0) return false;
    this.groups.delete(groupId);
    return true;
  }

  /** The groups of `partitionOf(groupId) === partition` move to another coordinator (or this one closes). */
  unload(matches: (groupId: string) => boolean): void {
    for (const [groupId, group] of this.groups) {
      if (!matches(groupId)) continue;
      for (const member of group.members.values()) this.clearTimers(member);
      this.groups.delete(groupId);
    }
  }

  close(): void {
    this.closed = true;
    this.unload(() => true);
  }

  private validateRequest(params: ConsumerGroupHeartbeatParams): string | null {
    if (params.groupId === '') return 'GroupId can\'t be empty.';
    if (params.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) return `MemberEpoch ${params.memberEpoch} is invalid.`;
    if (params.memberIdFromClient && params.memberId === '') return 'MemberId can\'t be empty.';
    if (params.memberEpoch !== 0 && params.memberId === '') return 'MemberId can\'t be empty.';
    if (params.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH && params.instanceId === null) return 'InstanceId can\'t be null when MemberEpoch is -2.';
    if (params.memberEpoch === 0) {
      if (params.rebalanceTimeoutMs < 0) return 'RebalanceTimeoutMs must be provided in first request.';
      if (params.topicPartitions !== null && params.topicPartitions.length > 0) return 'TopicPartitions must be empty when (re-)joining.';
      if ((params.subscribedTopicNames === null || params.subscribedTopicNames.length === 0) && (params.subscribedTopicRegex === null || params.subscribedTopicRegex === '')) {
        return 'SubscribedTopicNames or SubscribedTopicRegex must be set in first request.';
      }
    }
    return null;
  }

  private error(errorCode: number, errorMessage: string): ConsumerGroupHeartbeatResult {
    return { errorCode, errorMessage, memberId: null, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null };
  }

  /** Timers never keep the process alive and do nothing once closed. */
  private timer(delayMs: number, callback: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      if (!this.closed) callback();
    }, Math.min(Math.max(delayMs, 0), TIMER_DELAY_MAX_MS));
    timer.unref();
    return timer;
  }
}

/** A subscription regex must match a whole topic name (Kafka uses RE2J's matches()). */
function compileRegex(source: string): RegExp | null {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch {
    return null;
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(b);
  return a.every((name) => set.has(name));
}

interface StateBefore {
  groupEpoch: number;
  assignmentEpoch: number;
  /** '' for a member new to the log: all its records are written. */
  metadata: string;
  current: string;
}

function stateBefore(group: ConsumerGroup, member: ConsumerGroupMember, fresh: boolean): StateBefore {
  return { groupEpoch: group.groupEpoch, assignmentEpoch: group.assignmentEpoch, metadata: fresh ? '' : metadataKey(member), current: fresh ? '' : currentKey(member) };
}

/** What a request changed, in Kafka's order: the member's metadata, the group epoch, the target, the member's assignment. */
function changeRecords(group: ConsumerGroup, member: ConsumerGroupMember, before: StateBefore): ConsumerGroupRecord[] {
  const records: ConsumerGroupRecord[] = [];
  if (metadataKey(member) !== before.metadata) records.push(memberMetadataRecord(group, member));
  if (group.groupEpoch !== before.groupEpoch) records.push({ type: R.metadata, groupId: group.groupId, value: { epoch: group.groupEpoch } });
  if (group.assignmentEpoch !== before.assignmentEpoch) records.push(...targetRecords(group));
  if (currentKey(member) !== before.current) records.push(currentAssignmentRecord(group, member));
  return records;
}

/** The member's metadata as one string, to see whether a heartbeat changed it. */
function metadataKey(member: ConsumerGroupMember): string {
  return JSON.stringify([member.instanceId, member.rackId, member.clientId, member.clientHost, member.subscribedTopicNames, member.subscribedTopicRegex, member.rebalanceTimeoutMs, member.serverAssignor, member.classicMemberMetadata]);
}

/** The member's epochs, state and partitions as one string. */
function currentKey(member: ConsumerGroupMember): string {
  return JSON.stringify([member.memberEpoch, member.previousMemberEpoch, member.state, toTopicPartitions(member.assigned), toTopicPartitions(member.pendingRevocation)]);
}

function memberMetadataRecord(group: ConsumerGroup, member: ConsumerGroupMember): ConsumerGroupRecord {
  return {
    type: R.memberMetadata,
    groupId: group.groupId,
    memberId: member.memberId,
    value: {
      instanceId: member.instanceId,
      rackId: member.rackId,
      clientId: member.clientId,
      clientHost: member.clientHost,
      subscribedTopicNames: member.subscribedTopicNames,
      subscribedTopicRegex: member.subscribedTopicRegex,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      serverAssignor: member.serverAssignor,
      classicMemberMetadata: member.classicMemberMetadata,
    },
  };
}

function currentAssignmentRecord(group: ConsumerGroup, member: ConsumerGroupMember): ConsumerGroupRecord {
  return {
    type: R.currentAssignment,
    groupId: group.groupId,
    memberId: member.memberId,
    value: {
      memberEpoch: member.memberEpoch,
      previousMemberEpoch: member.previousMemberEpoch,
      state: MEMBER_STATE_BYTES[member.state],
      assignedPartitions: toTopicPartitions(member.assigned),
      partitionsPendingRevocation: toTopicPartitions(member.pendingRevocation),
    },
  };
}

/** Every member's target, then the assignment epoch (Kafka writes the epoch last: a partial write keeps the old one). */
function targetRecords(group: ConsumerGroup): ConsumerGroupRecord[] {
  const records: ConsumerGroupRecord[] = [...group.members.keys()].map((memberId) => ({
    type: R.targetMember,
    groupId: group.groupId,
    memberId,
    value: { topicPartitions: toTopicPartitions(group.targetAssignment.get(memberId) ?? new Map()) },
  }));
  records.push({ type: R.targetMetadata, groupId: group.groupId, value: { assignmentEpoch: group.assignmentEpoch } });
  return records;
}

function memberTombstones(group: ConsumerGroup, memberId: string): ConsumerGroupRecord[] {
  return [
    { type: R.currentAssignment, groupId: group.groupId, memberId, value: null },
    { type: R.targetMember, groupId: group.groupId, memberId, value: null },
    { type: R.memberMetadata, groupId: group.groupId, memberId, value: null },
  ];
}

function memberStateOf(byte: number): ConsumerGroupMember['state'] {
  for (const [state, value] of Object.entries(MEMBER_STATE_BYTES)) if (value === byte) return state as ConsumerGroupMember['state'];
  return 'STABLE';
}
