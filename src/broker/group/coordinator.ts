// The classic group coordinator (Kafka's GroupCoordinator): the membership state machine. Members
// join (JoinGroup), the coordinator waits until all known members have rejoined or the rebalance
// timeout fires, picks a protocol and a leader, the leader computes the assignment and hands it
// back (SyncGroup), and members keep their session alive with Heartbeat. The groups, their
// committed offsets and the records in __consumer_offsets that persist both belong to the group
// metadata manager (group-metadata-manager.ts): a completed generation is stored before its
// members get their assignments, so a restarted or new coordinator takes the group over with its
// generation and members, whose sessions start again when it does.
//
// JoinGroup and SyncGroup may wait: they return Promises that the handler awaits. A connection
// handles one request at a time, as Kafka's do, and each member uses its own connection.
// Every Kafka error is a numeric code in the result; nothing here throws for a client's mistake.
//
//   const coordinator = await GroupCoordinator.open(engine, settings.all);
//   const joined = await coordinator.joinGroup({ groupId: 'g', memberId: '', ... });
//   ...
//   await coordinator.close();   // before engine.close()
import { randomUUID } from 'node:crypto';

import { KafkaErrorCode, SluiceError } from '../../errors.js';
import { TIMER_DELAY_MAX_MS } from '../../limits.js';
import type { Engine } from '../../engine/engine.js';
import { resolveGroupConfig, type GroupCoordinatorConfig } from './config.js';
import { CONSUMER_PROTOCOL_TYPE } from './consumer-protocol.js';
import { ConsumerGroupCoordinator, type ConsumerGroupHeartbeatParams, type ConsumerGroupHeartbeatResult, type MemberDescription } from './consumer-group-coordinator.js';
import type { ConsumerGroup } from './consumer-group.js';
import type { ConsumerGroupRecord } from './consumer-group-format.js';
import { Group, Member, joinError, syncError, type JoinResult, type Protocol, type SyncResult } from './group.js';
import type { ClassicGroupSnapshot } from './group-conversion.js';
import { GroupMetadataManager, type CommittedOffset, type LoadedConsumerGroups, type OffsetRecord } from './group-metadata-manager.js';
import type { OffsetsTopicHost } from './offset-store.js';

export type { GroupState, JoinResult, Protocol, SyncResult } from './group.js';
export type { ConsumerGroupHeartbeatParams, ConsumerGroupHeartbeatResult } from './consumer-group-coordinator.js';

const E = KafkaErrorCode;
const EMPTY = Buffer.alloc(0);

/**
 * A member added by JoinGroup cannot heartbeat until the rebalance completes, so its session timer
 * does not apply; Kafka instead drops it if the join has not completed within 5 minutes.
 */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;


export interface JoinGroupParams {
  groupId: string;
  /** '' for a member that has no id yet. */
  memberId: string;
  /** group.instance.id of a static member (JoinGroup v5+), else null. */
  groupInstanceId: string | null;
  /** JoinGroup v4+: a new dynamic member first gets MEMBER_ID_REQUIRED and its id, then rejoins. */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+: a static leader rejoining a Stable group is told to skip the assignment. */
  supportSkippingAssignment: boolean;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
}

export interface SyncGroupParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** SyncGroup v5+: checked against the group's when not null. */
  protocolType: string | null;
  protocolName: string | null;
  /** The leader's assignment; followers send none. */
  assignments: Array<{ memberId: string; assignment: Buffer }>;
}

export interface HeartbeatParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveGroupResult {
  errorCode: number;
  members: Array<{ memberId: string; groupInstanceId: string | null; errorCode: number }>;
}

export interface CommitOffsetsParams {
  groupId: string;
  /** -1 (with memberId '') for a commit from outside group management (tools, manual assignment). */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  topics: Array<{
    name: string;
    partitions: Array<{ partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; committedMetadata: string | null }>;
  }>;
  /** TxnOffsetCommit: the offsets are this producer's, in its open transaction. */
  transaction?: { producerId: number; producerEpoch: number };
}

export type CommitOffsetsResult = Array<{ name: string; partitions: Array<{ partitionIndex: number; errorCode: number }> }>;

export interface FetchedOffset {
  partitionIndex: number;
  /** -1 when nothing is committed. */
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface FetchOffsetsResult {
  errorCode: number;
  topics: Array<{ name: string; partitions: FetchedOffset[] }>;
}

export interface DeleteOffsetsResult {
  /** A group error: then `topics` is empty. */
  errorCode: number;
  topics: Array<{ name: string; partitions: Array<{ partitionIndex: number; errorCode: number }> }>;
}

export interface GroupDescription {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  /** The chosen protocol when Stable, else ''. */
  protocolData: string;
  members: Array<{
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    /** Metadata and assignment are given for a Stable group only, as Kafka does. */
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }>;
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: 'classic' | 'consumer';
}

/** ConsumerGroupDescribe's answer for one group (KIP-848). */
export interface ConsumerGroupDescription {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: MemberDescription[];
}

export interface GroupCoordinatorOptions {
  /** Clock for commit timestamps (tests); defaults to Date.now. */
  nowMs?: () => number;
  /**
   * In a cluster: this broker coordinates the groups of the __consumer_offsets partitions it
   * leads (others get NOT_COORDINATOR), loading them when it becomes leader (onOffsetsLeadership).
   */
  offsetsHost?: OffsetsTopicHost;
}

export class GroupCoordinator {
  readonly config: GroupCoordinatorConfig;
  private readonly nowMs: () => number;
  private readonly cleanupTimer: NodeJS.Timeout;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** The groups of the consumer group protocol (KIP-848), beside the classic ones in `manager`. */
  private readonly consumerGroups: ConsumerGroupCoordinator;

  private constructor(
    private readonly engine: Engine,
    private readonly manager: GroupMetadataManager,
    config: GroupCoordinatorConfig,
    nowMs: () => number,
  ) {
    this.config = config;
    this.nowMs = nowMs;
    this.consumerGroups = new ConsumerGroupCoordinator(
      engine,
      {
        heartbeatIntervalMs: config.consumerHeartbeatIntervalMs,
        sessionTimeoutMs: config.consumerSessionTimeoutMs,
        maxSize: config.consumerMaxSize,
        migrationPolicy: config.consumerMigrationPolicy,
        classicMaxSize: config.maxSize,
      },
      {
        classicGroupState: (groupId) => {
          const group = this.manager.getGroup(groupId);
          if (!group || group.is('Dead')) return 'none';
          return group.is('Empty') && group.pendingMembers.size === 0 ? 'empty' : 'active';
        },
        classicGroupSnapshot: (groupId) => {
          const group = this.manager.getGroup(groupId);
          return group === undefined || group.size === 0 ? null : group.snapshot();
        },
        dropClassicGroup: (groupId) => {
          const group = this.manager.getGroup(groupId);
          if (!group) return;
          // Members parked in its rebalance join the consumer group instead.
          for (const member of group.members.values()) {
            group.maybeInvokeJoinCallback(member, joinError(member.memberId, E.REBALANCE_IN_PROGRESS));
            group.maybeInvokeSyncCallback(member, syncError(E.REBALANCE_IN_PROGRESS));
            if (member.heartbeatTimer) clearTimeout(member.heartbeatTimer);
            member.heartbeatTimer = null;
          }
          this.forgetGroup(group);
          // Its metadata record goes, so that a restart finds the consumer group only (writes are serialized).
          if (group.generationId > 0) this.manager.deleteGroupMetadata(groupId).catch(() => {});
        },
        startClassicGroup: (snapshot, rebalance) => this.startDowngradedGroup(snapshot, rebalance),
      },
      (records) => this.manager.storeConsumerGroupRecords(records),
      nowMs,
      appendErrorCode,
    );
    const consumerGroups = this.consumerGroups;
    manager.consumerGroups = {
      has: (groupId) => consumerGroups.has(groupId),
      offsetExpiryBaseMs: (groupId, topic, offset) => consumerGroups.offsetExpiryBaseMs(groupId, topic, offset),
      forgetEmpty: (gone) => consumerGroups.forgetEmpty(gone),
    };
    this.cleanupTimer = setInterval(() => void this.cleanupGroupMetadata(), Math.min(config.retentionCheckIntervalMs, TIMER_DELAY_MAX_MS));
    this.cleanupTimer.unref();
  }

  /**
   * Reads the groups and committed offsets back from __consumer_offsets and starts serving.
   * `config` holds broker settings by Kafka's names (BrokerSettings.all): group.* and offsets.*.
   */
  static async open(engine: Engine, config: Readonly<Record<string, string | number | boolean | undefined>> = {}, options: GroupCoordinatorOptions = {}): Promise<GroupCoordinator> {
    const resolved = resolveGroupConfig(config);
    const nowMs = options.nowMs ?? Date.now;
    const manager = new GroupMetadataManager(engine, {
      partitions: resolved.offsetsTopicPartitions,
      segmentBytes: resolved.offsetsTopicSegmentBytes,
      loadBufferBytes: resolved.offsetsLoadBufferBytes,
      offsetsRetentionMs: resolved.offsetsRetentionMs,
      nowMs,
      host: options.offsetsHost ?? null,
    });
    // In a cluster, partitions are loaded as this broker comes to lead them.
    const restored = options.offsetsHost === undefined ? await manager.loadAll() : { groups: [], consumerGroups: new Map() };
    const coordinator = new GroupCoordinator(engine, manager, resolved, nowMs);
    coordinator.onGroupsLoaded(restored.groups, restored.consumerGroups);
    return coordinator;
  }

  /** The __consumer_offsets partition of a group (Kafka's partitionFor). */
  partitionFor(groupId: string): number {
    return this.manager.partitionFor(groupId);
  }

  /** Creates __consumer_offsets when it does not exist yet (a cluster's first FindCoordinator). */
  ensureOffsetsTopic(): Promise<void> {
    return this.manager.ensureTopic();
  }

  /** Groups taken over from their records: their members' sessions start now, as in Kafka's onGroupLoaded. */
  private onGroupsLoaded(groups: readonly Group[], consumerGroups: LoadedConsumerGroups): void {
    for (const group of groups) for (const member of group.members.values()) this.completeAndScheduleNextHeartbeatExpiration(group, member);
    for (const [groupId, records] of consumerGroups) this.consumerGroups.restore(groupId, records);
  }

  /**
   * In a cluster, this broker started or stopped leading __consumer_offsets partition `partition`:
   * it loads the partition's committed offsets and coordinates its groups, or drops them (members
   * waiting in JoinGroup or SyncGroup get NOT_COORDINATOR and find the new coordinator).
   */
  onOffsetsLeadership(partition: number, leading: boolean): void {
    if (this.closed) return;
    for (const group of this.manager.unloadPartition(partition)) this.unloadGroup(group);
    this.consumerGroups.unload((groupId) => this.partitionFor(groupId) === partition);
    if (!leading) return;
    this.manager
      .loadPartition(partition, (groups, consumerGroups) => {
        if (!this.closed) this.onGroupsLoaded(groups, consumerGroups);
      })
      .catch(() => {
        // Unreadable: the partition's groups stay unavailable here (COORDINATOR_NOT_AVAILABLE
        // answers come from the next leadership change); the broker's log has the storage error.
      });
  }

  /** The group moved away (or the coordinator closes): parked requests learn to look elsewhere. */
  private unloadGroup(group: Group): void {
    for (const member of group.members.values()) {
      if (member.heartbeatTimer) clearTimeout(member.heartbeatTimer);
      member.heartbeatTimer = null;
      group.maybeInvokeJoinCallback(member, joinError(member.memberId, E.NOT_COORDINATOR));
      group.maybeInvokeSyncCallback(member, syncError(E.NOT_COORDINATOR));
    }
    this.clearGroupTimers(group);
  }

  // ---- JoinGroup -----------------------------------------------------------------------------

  joinGroup(params: JoinGroupParams): Promise<JoinResult> {
    return new Promise((resolve) => this.handleJoinGroup(params, resolve));
  }

  private handleJoinGroup(params: JoinGroupParams, respond: (result: JoinResult) => void): void {
    const statusError = this.validateGroupStatus(params.groupId, false);
    if (statusError !== null) return respond(joinError(params.memberId, statusError));
    if (params.sessionTimeoutMs < this.config.minSessionTimeoutMs || params.sessionTimeoutMs > this.config.maxSessionTimeoutMs) {
      return respond(joinError(params.memberId, E.INVALID_SESSION_TIMEOUT));
    }
    const consumerGroup = this.consumerGroups.get(params.groupId);
    if (consumerGroup !== undefined) {
      // A consumer group with members hosts the classic member; an Empty one gives way to a classic group.
      if (consumerGroup.members.size > 0) {
        void this.consumerGroups.classicJoin(params).then(respond);
        return;
      }
      this.consumerGroups.delete(params.groupId);
      // Its records go before the classic group's are written (writes are serialized), so that a restart finds the classic group only.
      this.manager.storeConsumerGroupRecords(this.consumerGroups.deletionRecords(params.groupId)).catch(() => {});
    }
    const isUnknownMember = params.memberId === '';
    let group = this.manager.getGroup(params.groupId);
    if (!group) {
      // Only a member without an id creates a group; a known member id for an unknown group is stale.
      if (!isUnknownMember) return respond(joinError(params.memberId, E.UNKNOWN_MEMBER_ID));
      group = this.manager.getOrCreateGroup(params.groupId);
    }
    if (!this.acceptJoiningMember(group, params.memberId)) {
      this.dropMember(group, params.memberId);
      respond(joinError('', E.GROUP_MAX_SIZE_REACHED));
    } else if (isUnknownMember) {
      this.doNewMemberJoinGroup(group, params, respond);
    } else {
      this.doCurrentMemberJoinGroup(group, params, respond);
    }
    if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
  }

  /** group.max.size: existing members always; new ones while there is room. */
  private acceptJoiningMember(group: Group, memberId: string): boolean {
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        return (group.has(memberId) && group.get(memberId).isAwaitingJoin) || group.numAwaitingJoin < this.config.maxSize;
      case 'CompletingRebalance':
      case 'Stable':
        return group.has(memberId) || group.size < this.config.maxSize;
    }
  }

  private doNewMemberJoinGroup(group: Group, params: JoinGroupParams, respond: (result: JoinResult) => void): void {
    if (group.is('Dead')) return respond(joinError('', E.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(params.protocolType, params.protocols)) return respond(joinError('', E.INCONSISTENT_GROUP_PROTOCOL));
    const newMemberId = `${params.groupInstanceId ?? params.clientId}-${randomUUID()}`;
    if (params.groupInstanceId !== null) {
      const oldMemberId = group.staticMembers.get(params.groupInstanceId);
      if (oldMemberId !== undefined) this.updateStaticMemberAndRebalance(group, oldMemberId, newMemberId, params, respond);
      else this.addMemberAndRebalance(group, newMemberId, params, respond);
    } else if (params.requireKnownMemberId) {
      // The member learns its id first and rejoins with it, so that a client that times out and
      // retries its first JoinGroup does not leave a defunct member behind.
      this.addPendingMember(group, newMemberId, params.sessionTimeoutMs);
      respond(joinError(newMemberId, E.MEMBER_ID_REQUIRED));
    } else {
      this.addMemberAndRebalance(group, newMemberId, params, respond);
    }
  }

  private doCurrentMemberJoinGroup(group: Group, params: JoinGroupParams, respond: (result: JoinResult) => void): void {
    const { memberId } = params;
    if (group.is('Dead')) return respond(joinError(memberId, E.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(params.protocolType, params.protocols)) return respond(joinError(memberId, E.INCONSISTENT_GROUP_PROTOCOL));
    if (group.pendingMembers.has(memberId)) {
      // Pending ids are handed to dynamic members only (Kafka treats the other case as a bug).
      if (params.groupInstanceId !== null) return respond(joinError(memberId, E.INVALID_REQUEST));
      return this.addMemberAndRebalance(group, memberId, params, respond);
    }
    const memberError = this.validateCurrentMember(group, memberId, params.groupInstanceId);
    if (memberError !== null) return respond(joinError(memberId, memberError));
    const member = group.get(memberId);
    switch (group.state) {
      case 'PreparingRebalance':
        this.updateMemberAndRebalance(group, member, params, respond);
        break;
      case 'CompletingRebalance':
        // Same metadata: the member most likely missed its JoinGroup response; give it again.
        if (member.matches(params.protocols)) respond(this.generationResult(group, memberId, group.isLeader(memberId)));
        else this.updateMemberAndRebalance(group, member, params, respond);
        break;
      case 'Stable':
        // A rejoining leader forces a rebalance (its view of the topics may have changed), as do new metadata.
        if (group.isLeader(memberId) || !member.matches(params.protocols)) this.updateMemberAndRebalance(group, member, params, respond);
        else respond(this.generationResult(group, memberId, false));
        break;
      case 'Empty':
      case 'Dead':
        respond(joinError(memberId, E.UNKNOWN_MEMBER_ID));
        break;
    }
  }

  private addMemberAndRebalance(group: Group, memberId: string, params: JoinGroupParams, respond: (result: JoinResult) => void): void {
    const member = new Member({
      memberId,
      groupInstanceId: params.groupInstanceId,
      clientId: params.clientId,
      clientHost: params.clientHost,
      rebalanceTimeoutMs: params.rebalanceTimeoutMs,
      sessionTimeoutMs: params.sessionTimeoutMs,
      protocolType: params.protocolType,
      protocols: params.protocols,
    });
    member.isNew = true;
    // A member joining during the first rebalance extends the initial delay.
    if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true;
    group.add(member, respond);
    this.scheduleExpiration(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
    this.maybePrepareRebalance(group);
  }

  private updateMemberAndRebalance(group: Group, member: Member, params: JoinGroupParams, respond: (result: JoinResult) => void): void {
    group.updateMember(member, params.protocols, params.rebalanceTimeoutMs, params.sessionTimeoutMs, respond);
    this.maybePrepareRebalance(group);
  }

  /**
   * A known static member rejoins without its member id (it restarted): it takes a new id, the old
   * one is fenced, and a Stable group whose protocol would not change hands it the current
   * generation without a rebalance.
   */
  private updateStaticMemberAndRebalance(group: Group, oldMemberId: string, newMemberId: string, params: JoinGroupParams, respond: (result: JoinResult) => void): void {
    const currentLeader = group.leaderId ?? '';
    const member = group.replaceStaticMember(params.groupInstanceId!, oldMemberId, newMemberId);
    this.completeAndScheduleNextHeartbeatExpiration(group, member);
    group.updateMember(member, params.protocols, params.rebalanceTimeoutMs, params.sessionTimeoutMs, respond);
    switch (group.state) {
      case 'Stable':
        if (group.protocolName !== group.selectProtocol()) {
          this.maybePrepareRebalance(group);
        } else {
          // The new member id is stored first (Kafka does): a coordinator that takes the group
          // over must not fence the member that now holds the instance id.
          const generationId = group.generationId;
          const answer = (errorCode: number) => {
            if (this.manager.getGroup(group.groupId) !== group || group.generationId !== generationId) return;
            if (errorCode !== E.NONE) {
              group.maybeInvokeJoinCallback(member, joinError(newMemberId, errorCode));
              this.maybePrepareRebalance(group);
            } else if (params.supportSkippingAssignment) {
              // v9+: the leader learns it leads (to keep watching metadata) but must not reassign.
              const isLeader = group.isLeader(newMemberId);
              group.maybeInvokeJoinCallback(member, { ...this.generationResult(group, newMemberId, isLeader), skipAssignment: isLeader });
            } else {
              // Before v9: answer with the old leader id, so that a rejoining leader does not believe it
              // leads and compute an assignment that a Stable group would never hand out.
              group.maybeInvokeJoinCallback(member, { ...this.generationResult(group, newMemberId, false), leader: currentLeader });
            }
          };
          this.manager.storeGroup(group).then(
            () => answer(E.NONE),
            (error: unknown) => answer(storeGroupErrorCode(error)),
          );
        }
        break;
      case 'CompletingRebalance':
        // The leader may already be assigning to the old member id: start over.
        this.prepareRebalance(group);
        break;
      default:
        // PreparingRebalance: the member now waits for the join phase like everyone else.
        break;
    }
  }

  private generationResult(group: Group, memberId: string, withMembers: boolean): JoinResult {
    return {
      errorCode: E.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      skipAssignment: false,
      memberId,
      members: withMembers ? group.currentMemberMetadata() : [],
    };
  }

  private addPendingMember(group: Group, memberId: string, sessionTimeoutMs: number): void {
    group.pendingMembers.set(
      memberId,
      this.timer(sessionTimeoutMs, () => {
        if (!group.pendingMembers.has(memberId)) return;
        group.remove(memberId);
        if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
      }),
    );
  }

  // ---- rebalance -----------------------------------------------------------------------------

  private maybePrepareRebalance(group: Group): void {
    if (group.canRebalance) this.prepareRebalance(group);
  }

  private prepareRebalance(group: Group): void {
    // Members waiting for an assignment are told to rejoin instead.
    if (group.is('CompletingRebalance')) this.resetAndPropagateAssignmentError(group, E.REBALANCE_IN_PROGRESS);
    this.removeSyncExpiration(group);
    const initial = group.is('Empty');
    group.transitionTo('PreparingRebalance');
    if (initial) {
      const delayMs = this.config.initialRebalanceDelayMs;
      this.scheduleInitialJoin(group, delayMs, Math.max(group.rebalanceTimeoutMs - delayMs, 0));
    } else {
      this.scheduleJoin(group, group.rebalanceTimeoutMs);
      this.tryCompleteJoin(group);
    }
  }

  /** The join phase ends when every member has rejoined, or when the rebalance timeout fires. */
  private scheduleJoin(group: Group, timeoutMs: number): void {
    this.clearJoinTimer(group);
    group.joinTimerIsInitial = false;
    group.joinTimer = this.timer(timeoutMs, () => {
      group.joinTimer = null;
      this.onCompleteJoin(group);
    });
  }

  /**
   * The first rebalance of an Empty group waits group.initial.rebalance.delay.ms for more members,
   * again while new ones keep arriving, but no longer than the rebalance timeout in all.
   */
  private scheduleInitialJoin(group: Group, delayMs: number, remainingMs: number): void {
    this.clearJoinTimer(group);
    group.joinTimerIsInitial = true;
    group.joinTimer = this.timer(delayMs, () => {
      group.joinTimer = null;
      if (group.newMemberAdded && remainingMs !== 0) {
        group.newMemberAdded = false;
        this.scheduleInitialJoin(group, Math.min(this.config.initialRebalanceDelayMs, remainingMs), Math.max(remainingMs - delayMs, 0));
      } else {
        this.onCompleteJoin(group);
      }
    });
  }

  private tryCompleteJoin(group: Group): void {
    if (group.is('PreparingRebalance') && !group.joinTimerIsInitial && group.hasAllMembersJoined) this.onCompleteJoin(group);
  }

  private onCompleteJoin(group: Group): void {
    this.clearJoinTimer(group);
    if (!group.is('PreparingRebalance')) return;
    // Dynamic members that did not rejoin in time are gone; static ones stay until their session expires.
    for (const member of [...group.members.values()]) {
      if (!member.isAwaitingJoin && !member.isStatic) this.dropMember(group, member.memberId);
    }
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that have not rejoined are left: wait for them or for their sessions to end.
      this.scheduleJoin(group, group.rebalanceTimeoutMs);
      return;
    }
    group.initNextGeneration();
    if (group.is('Empty')) {
      // Kafka stores the Empty generation too, so a coordinator that takes over does not bring the
      // last members back. A failure leaves the previous record, whose members then expire there.
      this.manager.storeGroup(group).catch(() => {});
      return;
    }
    for (const member of group.members.values()) {
      group.maybeInvokeJoinCallback(member, this.generationResult(group, member.memberId, group.isLeader(member.memberId)));
      this.completeAndScheduleNextHeartbeatExpiration(group, member);
      member.isNew = false;
      group.pendingSyncMembers.add(member.memberId);
    }
    this.schedulePendingSync(group);
  }

  // ---- SyncGroup -----------------------------------------------------------------------------

  syncGroup(params: SyncGroupParams): Promise<SyncResult> {
    return new Promise((resolve) => this.handleSyncGroup(params, resolve));
  }

  private handleSyncGroup(params: SyncGroupParams, respond: (result: SyncResult) => void): void {
    const statusError = this.validateGroupStatus(params.groupId, false);
    if (statusError !== null) return respond(syncError(statusError));
    if (this.consumerGroups.has(params.groupId)) return respond(this.consumerGroups.classicSync(params));
    const group = this.manager.getGroup(params.groupId);
    if (!group) return respond(syncError(E.UNKNOWN_MEMBER_ID));
    const error = this.validateSyncGroup(group, params);
    if (error !== null) return respond(syncError(error));
    switch (group.state) {
      case 'Empty':
        return respond(syncError(E.UNKNOWN_MEMBER_ID));
      case 'PreparingRebalance':
        return respond(syncError(E.REBALANCE_IN_PROGRESS));
      case 'CompletingRebalance': {
        const member = group.get(params.memberId);
        // A second SyncGroup for the same member (a client that reconnected): the first one is over.
        group.maybeInvokeSyncCallback(member, syncError(E.REBALANCE_IN_PROGRESS));
        member.awaitingSync = respond;
        this.removePendingSyncMember(group, params.memberId);
        if (group.isLeader(params.memberId)) {
          // Members the leader left out get an empty assignment; ids that are not members are ignored.
          const given = new Map(params.assignments.map(({ memberId, assignment }) => [memberId, assignment]));
          const assignments = new Map([...group.members.keys()].map((memberId) => [memberId, given.get(memberId) ?? EMPTY]));
          const generationId = group.generationId;
          // The generation is stored before anyone gets an assignment: a coordinator that takes the
          // group over (restart, leader change of its __consumer_offsets partition) knows it.
          this.manager.storeGroup(group, group.toRecord(assignments)).then(
            () => this.completeSync(group, generationId, assignments, E.NONE),
            (error: unknown) => this.completeSync(group, generationId, assignments, storeGroupErrorCode(error)),
          );
        }
        return;
      }
      case 'Stable': {
        this.removePendingSyncMember(group, params.memberId);
        const member = group.get(params.memberId);
        respond({ errorCode: E.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment });
        this.completeAndScheduleNextHeartbeatExpiration(group, member);
        return;
      }
      case 'Dead':
        return respond(syncError(E.COORDINATOR_NOT_AVAILABLE));
    }
  }

  /** The leader's assignment is stored (or failed to be): hand it out, unless the group moved on meanwhile. */
  private completeSync(group: Group, generationId: number, assignments: ReadonlyMap<string, Buffer>, errorCode: number): void {
    if (this.closed || !group.is('CompletingRebalance') || group.generationId !== generationId || this.manager.getGroup(group.groupId) !== group) return;
    if (errorCode !== E.NONE) {
      this.resetAndPropagateAssignmentError(group, errorCode);
      this.maybePrepareRebalance(group);
      return;
    }
    for (const member of group.members.values()) member.assignment = assignments.get(member.memberId) ?? EMPTY;
    this.propagateAssignment(group, E.NONE);
    group.transitionTo('Stable');
  }

  private validateSyncGroup(group: Group, params: SyncGroupParams): number | null {
    if (group.is('Dead')) return E.COORDINATOR_NOT_AVAILABLE;
    const memberError = this.validateCurrentMember(group, params.memberId, params.groupInstanceId);
    if (memberError !== null) return memberError;
    if (params.generationId !== group.generationId) return E.ILLEGAL_GENERATION;
    if (params.protocolType !== null && params.protocolType !== group.protocolType) return E.INCONSISTENT_GROUP_PROTOCOL;
    if (params.protocolName !== null && params.protocolName !== group.protocolName) return E.INCONSISTENT_GROUP_PROTOCOL;
    return null;
  }

  private propagateAssignment(group: Group, errorCode: number): void {
    const protocolType = errorCode === E.NONE ? group.protocolType : null;
    const protocolName = errorCode === E.NONE ? group.protocolName : null;
    for (const member of group.members.values()) {
      if (group.maybeInvokeSyncCallback(member, { errorCode, protocolType, protocolName, assignment: member.assignment })) {
        // Its session was on hold while it waited; it starts again now.
        this.completeAndScheduleNextHeartbeatExpiration(group, member);
      }
    }
  }

  private resetAndPropagateAssignmentError(group: Group, errorCode: number): void {
    for (const member of group.members.values()) member.assignment = EMPTY;
    this.propagateAssignment(group, errorCode);
  }

  /** Members of a new generation that never send SyncGroup are removed after the rebalance timeout. */
  private schedulePendingSync(group: Group): void {
    this.clearSyncTimer(group);
    const generationId = group.generationId;
    group.syncTimer = this.timer(group.rebalanceTimeoutMs, () => {
      group.syncTimer = null;
      if (generationId !== group.generationId || !(group.is('CompletingRebalance') || group.is('Stable'))) return;
      if (group.pendingSyncMembers.size === 0) return;
      for (const memberId of [...group.pendingSyncMembers]) this.dropMember(group, memberId);
      this.prepareRebalance(group);
    });
  }

  private removePendingSyncMember(group: Group, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0) this.clearSyncTimer(group);
  }

  private removeSyncExpiration(group: Group): void {
    group.pendingSyncMembers.clear();
    this.clearSyncTimer(group);
  }

  // ---- Heartbeat and sessions ----------------------------------------------------------------

  /** Returns the error code; a successful heartbeat restarts the member's session. */
  heartbeat(params: HeartbeatParams): number {
    const statusError = this.validateGroupStatus(params.groupId, false);
    if (statusError !== null) return statusError;
    if (this.consumerGroups.has(params.groupId)) return this.consumerGroups.classicHeartbeat(params);
    const group = this.manager.getGroup(params.groupId);
    if (!group) return E.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return E.COORDINATOR_NOT_AVAILABLE;
    const memberError = this.validateCurrentMember(group, params.memberId, params.groupInstanceId);
    if (memberError !== null) return memberError;
    if (params.generationId !== group.generationId) return E.ILLEGAL_GENERATION;
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return E.UNKNOWN_MEMBER_ID;
      case 'CompletingRebalance':
        // Kafka answers NONE here: a member may heartbeat between its JoinGroup and SyncGroup
        // responses, and REBALANCE_IN_PROGRESS would send it back to JoinGroup for nothing.
        this.completeAndScheduleNextHeartbeatExpiration(group, group.get(params.memberId));
        return E.NONE;
      case 'PreparingRebalance':
        this.completeAndScheduleNextHeartbeatExpiration(group, group.get(params.memberId));
        return E.REBALANCE_IN_PROGRESS;
      case 'Stable':
        this.completeAndScheduleNextHeartbeatExpiration(group, group.get(params.memberId));
        return E.NONE;
    }
  }

  private completeAndScheduleNextHeartbeatExpiration(group: Group, member: Member): void {
    this.scheduleExpiration(group, member, member.sessionTimeoutMs);
  }

  private scheduleExpiration(group: Group, member: Member, timeoutMs: number): void {
    if (member.heartbeatTimer) clearTimeout(member.heartbeatTimer);
    member.heartbeatTimer = this.timer(timeoutMs, () => {
      member.heartbeatTimer = null;
      this.onExpireHeartbeat(group, member);
    });
  }

  private onExpireHeartbeat(group: Group, member: Member): void {
    // A group unloaded (its partition moved away) or replaced meanwhile is no longer ours to change.
    if (group.is('Dead') || group.members.get(member.memberId) !== member || this.manager.getGroup(group.groupId) !== group) return;
    // A member parked in JoinGroup or SyncGroup cannot heartbeat (its connection is busy with that
    // request): it stays, and its session restarts when the rebalance moves on. New members do not
    // get that grace past NEW_MEMBER_JOIN_TIMEOUT_MS.
    if (!member.isNew && (member.isAwaitingJoin || member.isAwaitingSync)) return;
    this.removeMemberAndUpdateGroup(group, member);
  }

  private removeMemberAndUpdateGroup(group: Group, member: Member): void {
    group.maybeInvokeJoinCallback(member, joinError('', E.UNKNOWN_MEMBER_ID));
    // Kafka has no such case (a member awaiting sync never expires), but a LeaveGroup from another
    // connection could remove one: answer its parked SyncGroup rather than leave it hanging.
    group.maybeInvokeSyncCallback(member, syncError(E.UNKNOWN_MEMBER_ID));
    this.dropMember(group, member.memberId);
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.maybePrepareRebalance(group);
        break;
      case 'PreparingRebalance':
        this.tryCompleteJoin(group);
        break;
      default:
        break;
    }
  }

  /** Takes a member out of the group and stops its timer, with no other consequence. */
  private dropMember(group: Group, memberId: string): void {
    const member = group.remove(memberId);
    if (member?.heartbeatTimer) {
      clearTimeout(member.heartbeatTimer);
      member.heartbeatTimer = null;
    }
  }

  // ---- ConsumerGroupHeartbeat (KIP-848) ------------------------------------------------------

  /**
   * The classic group a consumer group becomes when its last member of the consumer protocol
   * leaves (group-conversion.ts): its members, their assignments and the generation, stored as a
   * classic group's record, then (`rebalance`) a rebalance that the members join as their
   * heartbeats tell them to.
   */
  private startDowngradedGroup(snapshot: ClassicGroupSnapshot, rebalance: boolean): void {
    const group = this.manager.getOrCreateGroup(snapshot.groupId);
    group.adoptStable(snapshot, snapshot.protocolType ?? CONSUMER_PROTOCOL_TYPE);
    // A failed write leaves the consumer group's tombstones: a coordinator that takes over finds no group, and its members rejoin.
    this.manager.storeGroup(group).catch(() => {});
    for (const member of group.members.values()) this.completeAndScheduleNextHeartbeatExpiration(group, member);
    if (rebalance) this.prepareRebalance(group);
  }

  consumerGroupHeartbeat(params: ConsumerGroupHeartbeatParams): Promise<ConsumerGroupHeartbeatResult> {
    const statusError = this.validateGroupStatus(params.groupId, true);
    if (statusError !== null) return Promise.resolve({ errorCode: statusError, errorMessage: null, memberId: null, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null });
    return this.consumerGroups.heartbeat(params);
  }

  // ---- LeaveGroup ----------------------------------------------------------------------------

  /** LeaveGroup v3+ semantics; v0-2 is one member. A member id of '' removes a static member by instance id. */
  async leaveGroup(groupId: string, members: Array<{ memberId: string; groupInstanceId: string | null }>): Promise<LeaveGroupResult> {
    const statusError = this.validateGroupStatus(groupId, false);
    if (statusError !== null) return { errorCode: statusError, members: [] };
    if (this.consumerGroups.has(groupId)) return await this.consumerGroups.classicLeave(groupId, members);
    const group = this.manager.getGroup(groupId);
    const answer = (identity: { memberId: string; groupInstanceId: string | null }, errorCode: number) => ({
      memberId: identity.memberId,
      groupInstanceId: identity.groupInstanceId,
      errorCode,
    });
    if (!group) return { errorCode: E.NONE, members: members.map((m) => answer(m, E.UNKNOWN_MEMBER_ID)) };
    if (group.is('Dead')) return { errorCode: E.COORDINATOR_NOT_AVAILABLE, members: [] };
    const results = members.map((identity) => {
      const { memberId, groupInstanceId } = identity;
      if (memberId === '') {
        const current = groupInstanceId === null ? undefined : group.staticMembers.get(groupInstanceId);
        if (current === undefined) return answer(identity, E.UNKNOWN_MEMBER_ID);
        this.removeMemberAndUpdateGroup(group, group.get(current));
        return answer(identity, E.NONE);
      }
      if (group.pendingMembers.has(memberId)) {
        group.remove(memberId);
        if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
        return answer(identity, E.NONE);
      }
      const memberError = this.validateCurrentMember(group, memberId, groupInstanceId);
      if (memberError !== null) return answer(identity, memberError);
      this.removeMemberAndUpdateGroup(group, group.get(memberId));
      return answer(identity, E.NONE);
    });
    return { errorCode: E.NONE, members: results };
  }

  // ---- offsets -------------------------------------------------------------------------------

  /** Acknowledged once appended to __consumer_offsets; errors are per partition. */
  async commitOffsets(params: CommitOffsetsParams): Promise<CommitOffsetsResult> {
    const results: CommitOffsetsResult = params.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: E.NONE as number })),
    }));
    const setAll = (errorCode: number, filter: (errorCode: number) => boolean = () => true) => {
      for (const topic of results) for (const p of topic.partitions) if (filter(p.errorCode)) p.errorCode = errorCode;
    };
    const statusError = this.validateGroupStatus(params.groupId, true);
    if (statusError !== null) {
      setAll(statusError);
      return results;
    }
    // Partitions this broker does not host are refused before the group is looked at, as Kafka does.
    let valid = 0;
    params.topics.forEach((topic, t) =>
      topic.partitions.forEach((p, i) => {
        if (this.knowsPartition(topic.name, p.partitionIndex)) valid++;
        else results[t]!.partitions[i]!.errorCode = E.UNKNOWN_TOPIC_OR_PARTITION;
      }),
    );
    if (valid === 0) return results;

    const consumerGroup = this.consumerGroups.get(params.groupId);
    if (consumerGroup !== undefined) {
      const memberError = this.validateConsumerGroupCommit(consumerGroup, params);
      if (memberError !== null) {
        setAll(memberError, (code) => code === E.NONE);
        return results;
      }
      return this.writeCommit(params, results);
    }
    let group = this.manager.getGroup(params.groupId);
    if (!group) {
      // A negative generation means no group management (tools, manually assigned consumers).
      if (params.generationId >= 0) {
        setAll(E.ILLEGAL_GENERATION, (code) => code === E.NONE);
        return results;
      }
      group = this.manager.getOrCreateGroup(params.groupId);
    }
    const groupError = this.validateOffsetCommit(group, params) ?? (group.is('CompletingRebalance') ? E.REBALANCE_IN_PROGRESS : null);
    if (groupError !== null) {
      setAll(groupError, (code) => code === E.NONE);
      return results;
    }
    // Commits are still taken while PreparingRebalance: the heartbeat tells the member to rejoin.
    if (group.is('Stable') || group.is('PreparingRebalance')) this.completeAndScheduleNextHeartbeatExpiration(group, group.get(params.memberId));
    return this.writeCommit(params, results);
  }

  /**
   * A transaction marker was written to __consumer_offsets-`partition` (on this broker, its
   * leader): offsets the producer committed in that transaction take effect or go.
   */
  onTransactionMarker(partition: number, producerId: number, commit: boolean): void {
    this.manager.completeTransaction(partition, producerId, commit);
  }

  private async writeCommit(params: CommitOffsetsParams, results: CommitOffsetsResult): Promise<CommitOffsetsResult> {
    const commitTimestamp = this.nowMs();
    const records: OffsetRecord[] = [];
    const written: Array<{ errorCode: number }> = [];
    params.topics.forEach((topic, t) =>
      topic.partitions.forEach((p, i) => {
        const answer = results[t]!.partitions[i]!;
        if (answer.errorCode !== E.NONE) return;
        const metadata = p.committedMetadata ?? '';
        if (metadata.length > this.config.offsetMetadataMaxBytes) {
          answer.errorCode = E.OFFSET_METADATA_TOO_LARGE;
          return;
        }
        records.push({
          group: params.groupId,
          topic: topic.name,
          partition: p.partitionIndex,
          value: { offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch ?? -1, metadata, commitTimestamp },
        });
        written.push(answer);
      }),
    );
    if (records.length === 0) return results;
    try {
      if (params.transaction === undefined) await this.manager.storeOffsets(records);
      else await this.manager.storeTransactionalOffsets(params.transaction.producerId, params.transaction.producerEpoch, records);
    } catch (error) {
      const errorCode = appendErrorCode(error);
      for (const answer of written) answer.errorCode = errorCode;
    }
    return results;
  }

  /**
   * Kafka's ConsumerGroup.validateOffsetCommit: a member at its current epoch, or anyone while the
   * group is Empty. A classic member's generation is its member epoch: ILLEGAL_GENERATION otherwise.
   */
  private validateConsumerGroupCommit(group: ConsumerGroup, params: CommitOffsetsParams): number | null {
    if (params.generationId < 0 && params.memberId === '') return group.members.size === 0 ? null : E.UNKNOWN_MEMBER_ID;
    const error = this.consumerGroups.validateMemberEpoch(group, params.memberId, params.generationId);
    return error === E.STALE_MEMBER_EPOCH && group.members.get(params.memberId)?.usesClassicProtocol === true ? E.ILLEGAL_GENERATION : error;
  }

  private validateOffsetCommit(group: Group, params: CommitOffsetsParams): number | null {
    if (group.is('Dead')) return E.COORDINATOR_NOT_AVAILABLE;
    if (params.generationId < 0 && group.is('Empty')) return null;
    if (params.generationId >= 0 || params.memberId !== '' || params.groupInstanceId !== null) {
      return this.validateCurrentMember(group, params.memberId, params.groupInstanceId) ?? (params.generationId !== group.generationId ? E.ILLEGAL_GENERATION : null);
    }
    // A group with members takes commits from its members only.
    return group.is('Empty') ? null : E.UNKNOWN_MEMBER_ID;
  }

  /**
   * `topics` null: every committed offset of the group. Unknown offsets are -1 with error NONE.
   * `requireStable` (v7+, KIP-447): a partition whose offset an open transaction has committed is
   * UNSTABLE_OFFSET_COMMIT, which the consumer retries until the transaction ends.
   */
  fetchOffsets(
    groupId: string,
    topics: Array<{ name: string; partitionIndexes: number[] }> | null,
    member?: { memberId: string | null; memberEpoch: number },
    requireStable = false,
  ): FetchOffsetsResult {
    const statusError = this.validateGroupStatus(groupId, true);
    if (statusError !== null) return { errorCode: statusError, topics: [] };
    // OffsetFetch v9+ from a member of a consumer group (epoch >= 0) is checked as Kafka does.
    const consumerGroup = this.consumerGroups.get(groupId);
    if (member !== undefined && member.memberEpoch >= 0 && consumerGroup !== undefined) {
      const memberError = this.consumerGroups.validateMemberEpoch(consumerGroup, member.memberId ?? '', member.memberEpoch);
      if (memberError !== null) return { errorCode: memberError, topics: [] };
    }
    const committed = this.manager.offsetsOf(groupId);
    const entry = (topic: string, partitionIndex: number, value: CommittedOffset | undefined): FetchedOffset => {
      if (requireStable && this.manager.hasPendingTransactionalOffset(groupId, topic, partitionIndex)) {
        return { partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: E.UNSTABLE_OFFSET_COMMIT };
      }
      return { partitionIndex, committedOffset: value?.offset ?? -1, committedLeaderEpoch: value?.leaderEpoch ?? -1, metadata: value?.metadata ?? '', errorCode: E.NONE };
    };
    if (topics === null) {
      return {
        errorCode: E.NONE,
        topics: [...(committed ?? [])].map(([name, partitions]) => ({
          name,
          partitions: [...partitions].sort(([a], [b]) => a - b).map(([partition, value]) => entry(name, partition, value)),
        })),
      };
    }
    return {
      errorCode: E.NONE,
      topics: topics.map(({ name, partitionIndexes }) => ({
        name,
        partitions: partitionIndexes.map((partition) => entry(name, partition, committed?.get(name)?.get(partition))),
      })),
    };
  }

  /**
   * OffsetDelete (KIP-496): removes the group's committed offsets of these partitions and writes
   * their tombstones, so that they stay removed across a restart. An Empty group gives up any of
   * its offsets; a consumer group with members only those of topics none of them subscribes to
   * (GROUP_SUBSCRIBED_TO_TOPIC for the others); any other group with members none (NON_EMPTY_GROUP).
   * A group error is the whole answer (no topics), as in Kafka's response. Every partition asked
   * for is answered, whether or not it had an offset.
   */
  async deleteOffsets(groupId: string, topics: ReadonlyArray<{ name: string; partitions: ReadonlyArray<{ partitionIndex: number }> }>): Promise<DeleteOffsetsResult> {
    const statusError = this.validateGroupStatus(groupId, false);
    if (statusError !== null) return { errorCode: statusError, topics: [] };
    // One answer per distinct partition, topics in request order (Kafka keys both by name/index).
    const answers = new Map<string, Map<number, { partitionIndex: number; errorCode: number }>>();
    const eligible: Array<{ topic: string; partition: number; answer: { errorCode: number } }> = [];
    for (const { name, partitions } of topics) {
      let byIndex = answers.get(name);
      if (!byIndex) answers.set(name, (byIndex = new Map()));
      for (const { partitionIndex } of partitions) {
        if (byIndex.has(partitionIndex)) continue;
        // Partitions of no topic are answered before the group is looked at, as Kafka does.
        const answer = { partitionIndex, errorCode: this.knowsPartition(name, partitionIndex) ? E.NONE : E.UNKNOWN_TOPIC_OR_PARTITION };
        byIndex.set(partitionIndex, answer);
        if (answer.errorCode === E.NONE) eligible.push({ topic: name, partition: partitionIndex, answer });
      }
    }
    const result = (): DeleteOffsetsResult => ({
      errorCode: E.NONE,
      topics: [...answers].map(([name, byIndex]) => ({ name, partitions: [...byIndex.values()] })),
    });

    const consumerGroup = this.consumerGroups.get(groupId);
    if (consumerGroup !== undefined) {
      const subscribed = new Set(consumerGroup.members.size === 0 ? [] : [...consumerGroup.members.values()].flatMap((m) => m.subscribedTopicNames));
      const removable = eligible.filter((entry) => {
        if (!subscribed.has(entry.topic)) return true;
        entry.answer.errorCode = E.GROUP_SUBSCRIBED_TO_TOPIC;
        return false;
      });
      if (removable.length === 0) return result();
      try {
        await this.manager.deleteOffsets(groupId, removable);
      } catch (error) {
        return { errorCode: appendErrorCode(error), topics: [] };
      }
      return result();
    }
    const group = this.manager.getGroup(groupId);
    if (!group || group.is('Dead')) return { errorCode: E.GROUP_ID_NOT_FOUND, topics: [] };
    let removable = eligible;
    if (!group.is('Empty')) {
      if (group.protocolType !== CONSUMER_PROTOCOL_TYPE) return { errorCode: E.NON_EMPTY_GROUP, topics: [] };
      removable = [];
      for (const entry of eligible) {
        if (group.isSubscribedToTopic(entry.topic)) entry.answer.errorCode = E.GROUP_SUBSCRIBED_TO_TOPIC;
        else removable.push(entry);
      }
    }
    if (removable.length === 0) return result();
    try {
      await this.manager.deleteOffsets(groupId, removable);
    } catch (error) {
      return { errorCode: appendErrorCode(error), topics: [] };
    }
    // Kafka's offset cleanup: an Empty group left without offsets is gone at once.
    const current = this.manager.getGroup(groupId);
    if (current?.is('Empty') && current.size === 0 && current.pendingMembers.size === 0 && !this.manager.hasOffsets(groupId)) this.forgetGroup(current);
    return result();
  }

  /** Tombstones for every group's offsets of a deleted topic; resolves with how many were removed. */
  removeTopicOffsets(topic: string): Promise<number> {
    return this.manager.removeTopicOffsets(topic);
  }

  // ---- ListGroups, DescribeGroups, DeleteGroups ----------------------------------------------

  /** Filters are case-insensitive; an empty filter lets everything through. Groups are 'classic' or 'consumer' (KIP-848). */
  listGroups(statesFilter: readonly string[] = [], typesFilter: readonly string[] = []): { errorCode: number; groups: GroupListing[] } {
    if (this.closed) return { errorCode: E.COORDINATOR_NOT_AVAILABLE, groups: [] };
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((t) => t.toLowerCase()));
    const groups: GroupListing[] = [];
    const add = (listing: GroupListing) => {
      if (types.size > 0 && !types.has(listing.groupType)) return;
      if (states.size > 0 && !states.has(listing.groupState.toLowerCase())) return;
      groups.push(listing);
    };
    for (const group of this.manager.allGroups()) add({ groupId: group.groupId, protocolType: group.protocolType ?? '', groupState: group.state, groupType: 'classic' });
    for (const group of this.consumerGroups.all()) add({ groupId: group.groupId, protocolType: CONSUMER_PROTOCOL_TYPE, groupState: group.state, groupType: 'consumer' });
    return { errorCode: E.NONE, groups };
  }

  /** ConsumerGroupDescribe (KIP-848): a consumer group's epochs, members and assignments. */
  describeConsumerGroup(groupId: string): ConsumerGroupDescription {
    const empty = { groupState: '', groupEpoch: 0, assignmentEpoch: 0, assignorName: '', members: [] };
    const statusError = this.validateGroupStatus(groupId, true);
    if (statusError !== null) return { errorCode: statusError, errorMessage: null, groupId, ...empty };
    const group = this.consumerGroups.get(groupId);
    if (group === undefined) {
      const classic = this.manager.getGroup(groupId) !== undefined;
      return { errorCode: E.GROUP_ID_NOT_FOUND, errorMessage: classic ? `Group ${groupId} is not a consumer group.` : `Group ${groupId} not found.`, groupId, ...empty };
    }
    return {
      errorCode: E.NONE,
      errorMessage: null,
      groupId,
      groupState: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      assignorName: this.consumerGroups.assignorOf(group),
      members: this.consumerGroups.describe(group),
    };
  }

  describeGroup(groupId: string): GroupDescription {
    const statusError = this.validateGroupStatus(groupId, true);
    if (statusError !== null) return { errorCode: statusError, groupId, groupState: '', protocolType: '', protocolData: '', members: [] };
    const group = this.manager.getGroup(groupId);
    // A consumer group (KIP-848) is not a classic group: DescribeGroups up to v5 answers Dead, as
    // for no group, as Kafka 4 does (v6 would say GROUP_ID_NOT_FOUND); ConsumerGroupDescribe describes it.
    if (!group) return { errorCode: E.NONE, groupId, groupState: 'Dead', protocolType: '', protocolData: '', members: [] };
    const stable = group.is('Stable');
    return {
      errorCode: E.NONE,
      groupId,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: stable ? (group.protocolName ?? '') : '',
      members: [...group.members.values()].map((member) => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        memberMetadata: stable ? member.metadata(group.protocolName!) : EMPTY,
        memberAssignment: stable ? member.assignment : EMPTY,
      })),
    };
  }

  /**
   * Only Empty groups can be deleted (NON_EMPTY_GROUP otherwise); their offsets get tombstones.
   * One result per distinct group id, as Kafka answers.
   */
  async deleteGroups(groupIds: readonly string[]): Promise<Array<{ groupId: string; errorCode: number }>> {
    const results = [...new Set(groupIds)].map((groupId) => ({ groupId, errorCode: E.NONE as number }));
    const deleted: Array<{ groupId: string; errorCode: number }> = [];
    const consumerTombstones: ConsumerGroupRecord[] = [];
    for (const result of results) {
      const statusError = this.validateGroupStatus(result.groupId, true);
      if (statusError !== null) {
        result.errorCode = statusError;
        continue;
      }
      const consumerGroup = this.consumerGroups.get(result.groupId);
      if (consumerGroup !== undefined) {
        if (this.consumerGroups.delete(result.groupId)) {
          deleted.push(result);
          consumerTombstones.push(...this.consumerGroups.deletionRecords(result.groupId));
        } else {
          result.errorCode = E.NON_EMPTY_GROUP;
        }
        continue;
      }
      const group = this.manager.getGroup(result.groupId);
      if (!group || group.is('Dead')) {
        if (this.manager.hasOffsets(result.groupId)) deleted.push(result);
        else result.errorCode = E.GROUP_ID_NOT_FOUND;
      } else if (group.is('Empty')) {
        this.forgetGroup(group);
        deleted.push(result);
      } else {
        result.errorCode = E.NON_EMPTY_GROUP;
      }
    }
    if (deleted.length > 0) {
      try {
        await this.manager.storeConsumerGroupRecords(consumerTombstones);
        await this.manager.deleteGroupRecords(deleted.map(({ groupId }) => groupId));
      } catch (error) {
        const errorCode = appendErrorCode(error);
        for (const result of deleted) result.errorCode = errorCode;
      }
    }
    return results;
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Stops every timer, answers parked JoinGroup and SyncGroup requests with NOT_COORDINATOR (as
   * Kafka does when it unloads a group) and waits for appends in flight. Call before engine.close().
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    clearInterval(this.cleanupTimer);
    this.consumerGroups.close();
    for (const group of this.manager.allGroups()) {
      this.clearJoinTimer(group);
      this.clearSyncTimer(group);
      for (const timer of group.pendingMembers.values()) clearTimeout(timer);
      for (const member of group.members.values()) {
        if (member.heartbeatTimer) clearTimeout(member.heartbeatTimer);
        member.heartbeatTimer = null;
        group.maybeInvokeJoinCallback(member, joinError(member.memberId, E.NOT_COORDINATOR));
        group.maybeInvokeSyncCallback(member, syncError(E.NOT_COORDINATOR));
      }
    }
    this.closing = this.manager.drain();
    return this.closing;
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** JoinGroup, SyncGroup, Heartbeat and LeaveGroup need a non-empty group id; the offset APIs accept ''. */
  private validateGroupStatus(groupId: string | null | undefined, allowEmpty: boolean): number | null {
    if (typeof groupId !== 'string' || (!allowEmpty && groupId === '')) return E.INVALID_GROUP_ID;
    if (this.closed) return E.COORDINATOR_NOT_AVAILABLE;
    const host = this.manager.host;
    if (host !== null) {
      const partition = this.partitionFor(groupId);
      if (!host.leads(partition)) return E.NOT_COORDINATOR;
      if (this.manager.isLoading(partition)) return E.COORDINATOR_LOAD_IN_PROGRESS;
    }
    return null;
  }

  /** A static member's instance id must map to this member id (else FENCED_INSTANCE_ID); the member must exist. */
  private validateCurrentMember(group: Group, memberId: string, groupInstanceId: string | null): number | null {
    if (groupInstanceId !== null) {
      const current = group.staticMembers.get(groupInstanceId);
      if (current === undefined) return E.UNKNOWN_MEMBER_ID;
      if (current !== memberId) return E.FENCED_INSTANCE_ID;
    }
    return group.has(memberId) ? null : E.UNKNOWN_MEMBER_ID;
  }

  /**
   * Whether the topic has this partition, as Kafka's coordinator asks its metadata cache: in a
   * cluster the coordinator need not hold a replica of the partitions a group commits offsets for.
   */
  private knowsPartition(topic: string, partition: number): boolean {
    return this.engine.hasTopic(topic) && Number.isInteger(partition) && partition >= 0 && partition < this.engine.partitionCount(topic);
  }

  /** The group is Dead and forgotten (its records, if any, are the caller's to tombstone). */
  private forgetGroup(group: Group): void {
    group.transitionTo('Dead');
    this.clearGroupTimers(group);
    this.manager.removeGroup(group);
  }

  private clearGroupTimers(group: Group): void {
    this.clearJoinTimer(group);
    this.clearSyncTimer(group);
    for (const timer of group.pendingMembers.values()) clearTimeout(timer);
    group.pendingMembers.clear();
  }

  /** Kafka's offsets cleanup: expired offsets go, and Empty groups left without offsets. */
  private async cleanupGroupMetadata(): Promise<void> {
    try {
      await this.manager.expireOffsets();
    } catch {
      // An append that failed (not the leader any more, a full disk) is retried at the next check.
    }
  }

  private clearJoinTimer(group: Group): void {
    if (group.joinTimer) clearTimeout(group.joinTimer);
    group.joinTimer = null;
  }

  private clearSyncTimer(group: Group): void {
    if (group.syncTimer) clearTimeout(group.syncTimer);
    group.syncTimer = null;
  }

  /** Timers never keep the process alive and do nothing once the coordinator is closed. */
  private timer(delayMs: number, callback: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      if (!this.closed) callback();
    }, Math.min(Math.max(delayMs, 0), TIMER_DELAY_MAX_MS));
    timer.unref();
    return timer;
  }
}

/** Kafka's mapping of append failures to offset-commit errors (GroupMetadataManager.maybeConvertOffsetCommitError). */
function appendErrorCode(error: unknown): number {
  if (error instanceof SluiceError) {
    switch (error.code) {
      case 'UNKNOWN_TOPIC_OR_PARTITION':
      case 'NOT_ENOUGH_REPLICAS':
      case 'NOT_ENOUGH_REPLICAS_AFTER_APPEND':
      case 'REQUEST_TIMED_OUT':
      case 'ENGINE_CLOSED':
        return E.COORDINATOR_NOT_AVAILABLE;
      case 'MESSAGE_TOO_LARGE':
      case 'RECORD_LIST_TOO_LARGE':
      case 'INVALID_FETCH_SIZE':
        return E.INVALID_COMMIT_OFFSET_SIZE;
      default:
        return commonStoreErrorCode(error);
    }
  }
  return commonStoreErrorCode(error);
}

/** Kafka's mapping of failures to store a group's generation (GroupMetadataManager.storeGroup). */
function storeGroupErrorCode(error: unknown): number {
  if (error instanceof SluiceError) {
    switch (error.code) {
      case 'UNKNOWN_TOPIC_OR_PARTITION':
      case 'NOT_ENOUGH_REPLICAS':
      case 'NOT_ENOUGH_REPLICAS_AFTER_APPEND':
      case 'ENGINE_CLOSED':
        return E.COORDINATOR_NOT_AVAILABLE;
      // The members rejoin and the next generation is stored instead.
      case 'REQUEST_TIMED_OUT':
        return E.REBALANCE_IN_PROGRESS;
      case 'MESSAGE_TOO_LARGE':
      case 'RECORD_LIST_TOO_LARGE':
      case 'INVALID_FETCH_SIZE':
        return E.UNKNOWN_SERVER_ERROR;
      default:
        return commonStoreErrorCode(error);
    }
  }
  return commonStoreErrorCode(error);
}

function commonStoreErrorCode(error: unknown): number {
  if (error instanceof SluiceError) {
    if (error.code === 'NOT_LEADER_OR_FOLLOWER' || error.code === 'KAFKA_STORAGE_ERROR') return E.NOT_COORDINATOR;
    return error.errorCode;
  }
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return E.NOT_COORDINATOR; // an I/O failure (KAFKA_STORAGE_ERROR)
  return E.UNKNOWN_SERVER_ERROR;
}
