// The consumer group protocol's coordinator (KIP-848, ConsumerGroupHeartbeat, API 68): members
// send their subscription and what they own on every heartbeat, and the coordinator answers with
// their member epoch and the partitions they may own, computed on the broker (uniform or range
// assignor). There is no JoinGroup/SyncGroup barrier: one member's rebalance never stops another
// from fetching the partitions it keeps.
//
// The groups live beside the classic ones (GroupCoordinator owns both) under one id space: a
// heartbeat for a classic group with members is refused (GROUP_ID_NOT_FOUND, as Kafka answers),
// and an Empty classic group (committed offsets only) becomes a consumer group. Offsets are the
// same __consumer_offsets records either way.
//
// Membership is kept in memory: a restarted coordinator, or a new one after a move in a cluster,
// answers its members' heartbeats with UNKNOWN_MEMBER_ID, and they rejoin with epoch 0 (Kafka
// also writes the members to __consumer_offsets; sluice does not yet, see README).
import { randomUUID } from 'node:crypto';

import { KafkaErrorCode } from '../../errors.js';
import { TIMER_DELAY_MAX_MS } from '../../limits.js';
import type { Engine } from '../../engine/engine.js';
import { SERVER_ASSIGNORS } from './consumer-group-assignors.js';
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
}

/** What the consumer group coordinator needs to know of the classic groups sharing its id space. */
export interface ClassicGroups {
  /** 'none', 'empty' (no members: it may become a consumer group) or 'active'. */
  classicGroupState(groupId: string): 'none' | 'empty' | 'active';
  /** Drops an Empty classic group that becomes a consumer group (its offsets stay). */
  dropEmptyClassicGroup(groupId: string): void;
}

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
}

export class ConsumerGroupCoordinator {
  private readonly groups = new Map<string, ConsumerGroup>();
  private closed = false;

  constructor(
    private readonly engine: Engine,
    private readonly settings: ConsumerGroupSettings,
    private readonly classic: ClassicGroups,
  ) {}

  get(groupId: string): ConsumerGroup | undefined {
    return this.groups.get(groupId);
  }

  all(): Iterable<ConsumerGroup> {
    return this.groups.values();
  }

  heartbeat(params: ConsumerGroupHeartbeatParams): ConsumerGroupHeartbeatResult {
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
      if (classic === 'active') return this.error(E.GROUP_ID_NOT_FOUND, `Group ${params.groupId} is not a consumer group.`);
      if (params.memberEpoch !== 0) return this.error(E.UNKNOWN_MEMBER_ID, `Member ${params.memberId} is not a member of group ${params.groupId}.`);
      if (classic === 'empty') this.classic.dropEmptyClassicGroup(params.groupId);
      group = new ConsumerGroup(params.groupId);
      this.groups.set(params.groupId, group);
    }
    if (params.memberEpoch === -1 || params.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) return this.leave(group, params);
    return this.join(group, params);
  }

  private join(group: ConsumerGroup, params: ConsumerGroupHeartbeatParams): ConsumerGroupHeartbeatResult {
    const owned = params.topicPartitions === null ? null : toAssignment(params.topicPartitions);
    let member: ConsumerGroupMember | undefined;
    let changed = false;
    if (params.memberEpoch === 0) {
      const found = this.memberForJoin(group, params);
      if (typeof found === 'number') return this.error(found, found === E.UNRELEASED_INSTANCE_ID ? `Static member ${params.instanceId} of group ${group.groupId} has not left yet.` : `Group ${group.groupId} is full.`);
      member = found.member;
      changed = found.isNew;
      // What it owned before rejoining, it owns no more: it starts from its target again.
      if (!found.isNew && !found.replacedStatic) group.resetMember(member);
    } else {
      member = group.members.get(params.memberId);
      if (!member) return this.error(E.UNKNOWN_MEMBER_ID, `Member ${params.memberId} is not a member of group ${group.groupId}.`);
      const fenced = this.fencedEpoch(member, params.memberEpoch, owned);
      if (fenced) return this.error(E.FENCED_MEMBER_EPOCH, `The member epoch ${params.memberEpoch} of ${member.memberId} is fenced: the coordinator has ${member.memberEpoch}.`);
    }

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
    const signature = this.subscriptionSignature(group);
    if (changed || signature !== group.subscriptionSignature) {
      group.bumpGroupEpoch();
      group.subscriptionSignature = signature;
    }
    if (group.groupEpoch > group.assignmentEpoch) {
      const { counts } = this.subscribedTopics(group);
      group.computeTargetAssignment(this.assignorOf(group), (m) => this.topicIdsOf(m), counts);
    }
    const before = member.assigned;
    const wasEpoch = member.memberEpoch;
    group.reconcile(member, owned);
    this.scheduleTimers(group, member);

    // Kafka sends the assignment when the request was a full one (joining, or every field set, as
    // after an error) or when it changed.
    const full = params.memberEpoch === 0 || (params.rebalanceTimeoutMs !== -1 && params.subscribedTopicNames !== null && params.topicPartitions !== null);
    const assignmentChanged = wasEpoch !== member.memberEpoch || !sameAssignment(before, member.assigned);
    return {
      errorCode: E.NONE,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.settings.heartbeatIntervalMs,
      assignment: full || assignmentChanged ? { topicPartitions: toTopicPartitions(member.assigned) } : null,
    };
  }

  /** The member a join (epoch 0) is for: new, the same id again, or a static member's replacement. */
  private memberForJoin(group: ConsumerGroup, params: ConsumerGroupHeartbeatParams): { member: ConsumerGroupMember; isNew: boolean; replacedStatic: boolean } | number {
    if (params.instanceId !== null) {
      const previousId = group.staticMembers.get(params.instanceId);
      const previous = previousId === undefined ? undefined : group.members.get(previousId);
      if (previous && previous.memberId !== params.memberId) {
        if (previous.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) return E.UNRELEASED_INSTANCE_ID;
        // The static member is back under a new id: it takes over the old one's place and partitions.
        const member = new ConsumerGroupMember(params.memberId === '' ? randomUUID() : params.memberId);
        Object.assign(member, { ...previous, memberId: member.memberId, sessionTimer: null, rebalanceTimer: null });
        member.memberEpoch = previous.previousMemberEpoch >= 0 ? previous.previousMemberEpoch : 0;
        this.clearTimers(previous);
        const target = group.targetAssignment.get(previous.memberId);
        group.removeMember(previous.memberId);
        if (target) group.targetAssignment.set(member.memberId, target);
        group.putMember(member);
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

  /**
   * Kafka's epoch check: a member ahead of the coordinator is fenced; one a step behind is taken
   * only at its previous epoch and owning nothing it was not given (a lost response).
   */
  private fencedEpoch(member: ConsumerGroupMember, epoch: number, owned: Assignment | null): boolean {
    if (epoch === member.memberEpoch) return false;
    if (epoch > member.memberEpoch) return true;
    return !(epoch === member.previousMemberEpoch && owned !== null && isSubset(owned, member.assigned));
  }

  private leave(group: ConsumerGroup, params: ConsumerGroupHeartbeatParams): ConsumerGroupHeartbeatResult {
    const member = group.members.get(params.memberId);
    if (!member) return this.error(E.UNKNOWN_MEMBER_ID, `Member ${params.memberId} is not a member of group ${group.groupId}.`);
    if (params.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH && member.instanceId !== null) {
      // A static member stepping out for a restart keeps its partitions until its session ends.
      member.previousMemberEpoch = member.memberEpoch;
      member.memberEpoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
      this.scheduleTimers(group, member);
    } else {
      this.removeMember(group, member);
    }
    return { errorCode: E.NONE, errorMessage: null, memberId: member.memberId, memberEpoch: params.memberEpoch, heartbeatIntervalMs: 0, assignment: null };
  }

  private removeMember(group: ConsumerGroup, member: ConsumerGroupMember): void {
    this.clearTimers(member);
    group.removeMember(member.memberId);
    group.bumpGroupEpoch();
    group.subscriptionSignature = this.subscriptionSignature(group);
  }

  /** A session ends without a heartbeat for group.consumer.session.timeout.ms; a revocation must finish within the member's rebalance timeout. */
  private scheduleTimers(group: ConsumerGroup, member: ConsumerGroupMember): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = this.timer(this.settings.sessionTimeoutMs, () => this.expire(group, member));
    if (member.state === 'UNREVOKED_PARTITIONS') {
      member.rebalanceTimer ??= this.timer(member.rebalanceTimeoutMs, () => this.expire(group, member));
    } else if (member.rebalanceTimer) {
      clearTimeout(member.rebalanceTimer);
      member.rebalanceTimer = null;
    }
  }

  private expire(group: ConsumerGroup, member: ConsumerGroupMember): void {
    if (group.members.get(member.memberId) !== member) return;
    this.removeMember(group, member);
  }

  private clearTimers(member: ConsumerGroupMember): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    if (member.rebalanceTimer) clearTimeout(member.rebalanceTimer);
    member.sessionTimer = null;
    member.rebalanceTimer = null;
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
