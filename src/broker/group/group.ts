// One classic consumer group's membership state (Kafka's GroupMetadata and MemberMetadata): its
// state machine, members, static members, pending members, the protocols they support, and the
// JoinGroup/SyncGroup requests parked until the group moves on. No timers and no I/O here: the
// coordinator drives transitions and owns the clock.
//
//   Empty ──join──▶ PreparingRebalance ──all joined / timeout──▶ CompletingRebalance
//     ▲                 ▲        │ (no members left)                 │ leader's SyncGroup
//     └─────────────────┼────────┘                                   ▼
//                       └───── member joins, leaves or expires ─── Stable
//   any state ──DeleteGroups (Empty only)──▶ Dead
import { KafkaErrorCode } from '../../errors.js';
import { CONSUMER_PROTOCOL_TYPE, subscribedTopicsOf } from './consumer-protocol.js';
import type { ClassicGroupSnapshot } from './group-conversion.js';
import type { GroupMetadataValue } from './group-metadata-format.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

const VALID_PREVIOUS_STATES: Record<GroupState, readonly GroupState[]> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  /** Every member with its metadata for the chosen protocol, for the leader; empty for the others. */
  members: Array<{ memberId: string; groupInstanceId: string | null; metadata: Buffer }>;
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

const EMPTY = Buffer.alloc(0);

/** Kafka's JoinGroupResult(memberId, error). */
export function joinError(memberId: string, errorCode: number): JoinResult {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, memberId, members: [] };
}

export function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

/** What a member is made of: its JoinGroup's identity, timeouts and protocols. */
export interface MemberFields {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  /** In the member's order of preference. */
  protocols: Protocol[];
}

export class Member {
  memberId: string;
  readonly groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  readonly protocolType: string;
  /** In the member's order of preference. */
  protocols: Protocol[];
  assignment: Buffer = EMPTY;
  awaitingJoin: ((result: JoinResult) => void) | null = null;
  awaitingSync: ((result: SyncResult) => void) | null = null;
  /** Added by a JoinGroup whose rebalance has not completed yet: expires after NEW_MEMBER_JOIN_TIMEOUT_MS. */
  isNew = false;
  /** The session (or new-member) expiration; owned by the coordinator. */
  heartbeatTimer: NodeJS.Timeout | null = null;

  constructor(fields: MemberFields) {
    this.memberId = fields.memberId;
    this.groupInstanceId = fields.groupInstanceId;
    this.clientId = fields.clientId;
    this.clientHost = fields.clientHost;
    this.rebalanceTimeoutMs = fields.rebalanceTimeoutMs;
    this.sessionTimeoutMs = fields.sessionTimeoutMs;
    this.protocolType = fields.protocolType;
    this.protocols = fields.protocols;
  }

  /** Who the member is and its timeouts: what its record and a conversion keep of it. */
  identity(): Omit<MemberFields, 'protocolType' | 'protocols'> {
    const { memberId, groupInstanceId, clientId, clientHost, rebalanceTimeoutMs, sessionTimeoutMs } = this;
    return { memberId, groupInstanceId, clientId, clientHost, rebalanceTimeoutMs, sessionTimeoutMs };
  }

  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null;
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  metadata(protocol: string): Buffer {
    const found = this.protocols.find((p) => p.name === protocol);
    if (!found) throw new Error(`Member ${this.memberId} does not support protocol ${protocol}`);
    return found.metadata;
  }

  /** Same protocols, same order, same metadata bytes. */
  matches(protocols: readonly Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every((p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata));
  }

  /** The member's most preferred protocol among the candidates. */
  vote(candidates: ReadonlySet<string>): string {
    const found = this.protocols.find((p) => candidates.has(p.name));
    if (!found) throw new Error(`Member ${this.memberId} supports none of the candidate protocols`);
    return found.name;
  }
}

export class Group {
  readonly groupId: string;
  private currentState: GroupState = 'Empty';
  protocolType: string | null = null;
  protocolName: string | null = null;
  generationId = 0;
  leaderId: string | null = null;
  /** In join order: the first member is the first leader. */
  readonly members = new Map<string, Member>();
  /** group.instance.id → member id */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, each with its expiration. */
  readonly pendingMembers = new Map<string, NodeJS.Timeout>();
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  /** Set when a member joins during the initial (generation 0) rebalance: the initial delay is extended. */
  newMemberAdded = false;
  /** The pending join completion (DelayedJoin / InitialDelayedJoin); owned by the coordinator. */
  joinTimer: NodeJS.Timeout | null = null;
  joinTimerIsInitial = false;
  /** The pending-sync expiration; owned by the coordinator. */
  syncTimer: NodeJS.Timeout | null = null;
  /**
   * Topics the members of a consumer group subscribe to, as of the current generation; null when
   * not known (no generation yet, another protocol type, or metadata that does not parse).
   */
  private subscribedTopics: ReadonlySet<string> | null = null;
  private readonly supportedProtocols = new Map<string, number>();
  private awaitingJoinCount = 0;
  /**
   * When the group entered its current state (Kafka's currentStateTimestamp), null when not known
   * (a group loaded from a record that had none): an Empty group's offsets expire from it.
   */
  currentStateTimestampMs: number | null;

  constructor(
    groupId: string,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.groupId = groupId;
    this.currentStateTimestampMs = nowMs();
  }

  /**
   * A group as its last GroupMetadata record left it (Kafka's GroupMetadata.loadGroup): Stable
   * with those members and assignments, or Empty without members. Each member supports the one
   * protocol the record names, with its subscription as the metadata.
   */
  static restore(groupId: string, record: GroupMetadataValue, nowMs: () => number = Date.now): Group {
    const group = new Group(groupId, nowMs);
    group.protocolType = record.protocolType;
    group.generationId = record.generationId;
    group.protocolName = record.protocolName;
    for (const m of record.members) {
      const member = new Member({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        protocolType: record.protocolType,
        protocols: record.protocolName === null ? [] : [{ name: record.protocolName, metadata: m.subscription }],
      });
      member.assignment = m.assignment;
      group.add(member, null);
    }
    group.leaderId = record.leaderId !== null && group.members.has(record.leaderId) ? record.leaderId : (group.members.keys().next().value ?? null);
    group.currentState = group.members.size > 0 && record.protocolName !== null ? 'Stable' : 'Empty';
    group.currentStateTimestampMs = record.currentStateTimestamp >= 0 ? record.currentStateTimestamp : null;
    group.subscribedTopics = group.computeSubscribedTopics();
    return group;
  }

  /**
   * The record that lets another coordinator take the group over (restore() reads it back), with
   * the members' current assignments or, for the leader's SyncGroup, the ones about to be handed out.
   */
  toRecord(assignments?: ReadonlyMap<string, Buffer>): GroupMetadataValue {
    const protocol = this.protocolName;
    return {
      protocolType: this.protocolType ?? '',
      generationId: this.generationId,
      protocolName: protocol,
      leaderId: this.leaderId,
      currentStateTimestamp: this.currentStateTimestampMs ?? -1,
      members: [...this.members.values()].map((m) => ({
        ...m.identity(),
        subscription: protocol === null ? EMPTY : m.metadata(protocol),
        assignment: assignments === undefined ? m.assignment : (assignments.get(m.memberId) ?? EMPTY),
      })),
    };
  }

  /** The group's members as a conversion to a consumer group takes them (KIP-848's upgrade). */
  snapshot(): ClassicGroupSnapshot {
    return {
      groupId: this.groupId,
      protocolType: this.protocolType,
      generationId: this.generationId,
      protocolName: this.protocolName,
      members: [...this.members.values()].map((m) => ({
        ...m.identity(),
        protocols: m.protocols,
        assignment: m.assignment,
      })),
    };
  }

  /**
   * An Empty group takes the members of a consumer group that becomes a classic one (KIP-848's
   * downgrade): Stable in that generation, with their assignments and the protocol they vote for,
   * as Kafka's ClassicGroup.fromConsumerGroup leaves it.
   */
  adoptStable(snapshot: ClassicGroupSnapshot, protocolType: string): void {
    if (!this.is('Empty') || this.members.size > 0) throw new Error(`Group ${this.groupId} is not Empty: it cannot take over a consumer group's members`);
    this.generationId = snapshot.generationId;
    for (const m of snapshot.members) {
      const member = new Member({ ...m, protocolType });
      member.assignment = m.assignment;
      this.add(member, null);
    }
    this.protocolType = protocolType;
    this.protocolName = this.selectProtocol();
    this.subscribedTopics = this.computeSubscribedTopics();
    this.currentState = 'Stable';
    this.currentStateTimestampMs = this.nowMs();
  }

  get state(): GroupState {
    return this.currentState;
  }

  is(state: GroupState): boolean {
    return this.currentState === state;
  }

  transitionTo(state: GroupState): void {
    if (!VALID_PREVIOUS_STATES[state].includes(this.currentState)) {
      throw new Error(`Group ${this.groupId} should be in one of ${VALID_PREVIOUS_STATES[state].join(', ')} to move to ${state}, but is ${this.currentState}`);
    }
    this.currentState = state;
    this.currentStateTimestampMs = this.nowMs();
  }

  /** A rebalance can start from Stable, CompletingRebalance and Empty. */
  get canRebalance(): boolean {
    return VALID_PREVIOUS_STATES.PreparingRebalance.includes(this.currentState);
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): Member {
    const member = this.members.get(memberId);
    if (!member) throw new Error(`Group ${this.groupId} has no member ${memberId}`);
    return member;
  }

  get size(): number {
    return this.members.size;
  }

  get numAwaitingJoin(): number {
    return this.awaitingJoinCount;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  /** The longest rebalance timeout of the members: how long a rebalance waits for them. */
  get rebalanceTimeoutMs(): number {
    let timeout = 0;
    for (const member of this.members.values()) timeout = Math.max(timeout, member.rebalanceTimeoutMs);
    return timeout;
  }

  add(member: Member, callback: ((result: JoinResult) => void) | null): void {
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) throw new Error(`Static member ${member.groupInstanceId} is already in group ${this.groupId}`);
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    this.countProtocols(member, 1);
    member.awaitingJoin = callback;
    if (callback !== null) this.awaitingJoinCount++;
    const pending = this.pendingMembers.get(member.memberId);
    if (pending) clearTimeout(pending);
    this.pendingMembers.delete(member.memberId);
  }

  /** Takes the member out (no callbacks invoked); the next member in join order leads if it led. */
  remove(memberId: string): Member | undefined {
    const member = this.members.get(memberId);
    if (member) {
      this.members.delete(memberId);
      this.countProtocols(member, -1);
      if (member.isAwaitingJoin) this.awaitingJoinCount--;
      if (member.groupInstanceId !== null) this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.isLeader(memberId)) this.leaderId = this.members.keys().next().value ?? null;
    const pending = this.pendingMembers.get(memberId);
    if (pending) clearTimeout(pending);
    this.pendingMembers.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    return member;
  }

  updateMember(member: Member, protocols: Protocol[], rebalanceTimeoutMs: number, sessionTimeoutMs: number, callback: ((result: JoinResult) => void) | null): void {
    this.countProtocols(member, -1);
    member.protocols = protocols;
    this.countProtocols(member, 1);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    if (callback !== null && !member.isAwaitingJoin) this.awaitingJoinCount++;
    else if (callback === null && member.isAwaitingJoin) this.awaitingJoinCount--;
    member.awaitingJoin = callback;
  }

  maybeInvokeJoinCallback(member: Member, result: JoinResult): boolean {
    const callback = member.awaitingJoin;
    if (callback === null) return false;
    member.awaitingJoin = null;
    this.awaitingJoinCount--;
    callback(result);
    return true;
  }

  maybeInvokeSyncCallback(member: Member, result: SyncResult): boolean {
    const callback = member.awaitingSync;
    if (callback === null) return false;
    member.awaitingSync = null;
    callback(result);
    return true;
  }

  /** If the leader did not rejoin, any member that did leads; false when none did (or no leader). */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader?.isAwaitingJoin) return true;
    for (const member of this.members.values()) {
      if (member.isAwaitingJoin) {
        this.leaderId = member.memberId;
        return true;
      }
    }
    return false;
  }

  /**
   * A static member rejoined with a new member id: the old id is fenced (its parked requests get
   * FENCED_INSTANCE_ID) and the member keeps its place, assignment and leadership under the new id.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): Member {
    const member = this.get(oldMemberId);
    this.members.delete(oldMemberId);
    this.maybeInvokeJoinCallback(member, joinError(oldMemberId, KafkaErrorCode.FENCED_INSTANCE_ID));
    this.maybeInvokeSyncCallback(member, syncError(KafkaErrorCode.FENCED_INSTANCE_ID));
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    this.staticMembers.set(groupInstanceId, newMemberId);
    return member;
  }

  /** True when every member has rejoined and no MEMBER_ID_REQUIRED member is still expected. */
  get hasAllMembersJoined(): boolean {
    return this.members.size === this.awaitingJoinCount && this.pendingMembers.size === 0;
  }

  /**
   * Whether a member with these protocols may join: an Empty group takes any non-empty protocol
   * type and list; otherwise the type must match and one protocol must be supported by every member.
   */
  supportsProtocols(protocolType: string, protocols: readonly Protocol[]): boolean {
    if (this.is('Empty')) return protocolType !== '' && protocols.length > 0;
    return this.protocolType === protocolType && protocols.some((p) => (this.supportedProtocols.get(p.name) ?? 0) === this.members.size);
  }

  /**
   * The protocol for the next generation: among those every member supports, each member votes for
   * its most preferred, and the most votes win (ties go to the protocol that reached the count first).
   */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error(`Cannot select a protocol for empty group ${this.groupId}`);
    const candidates = new Set<string>();
    for (const [name, count] of this.supportedProtocols) if (count === this.members.size) candidates.add(name);
    const votes = new Map<string, number>();
    let best = '';
    let bestVotes = 0;
    for (const member of this.members.values()) {
      const choice = member.vote(candidates);
      const count = (votes.get(choice) ?? 0) + 1;
      votes.set(choice, count);
      if (count > bestVotes) {
        best = choice;
        bestVotes = count;
      }
    }
    return best;
  }

  initNextGeneration(): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('CompletingRebalance');
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('Empty');
    }
    this.pendingSyncMembers.clear();
  }

  /**
   * Whether the group consumes `topic` (OffsetDelete refuses to delete its offsets then). When the
   * topics are not known, a consumer group is taken to subscribe to everything and any other group
   * to nothing, as Kafka's ClassicGroup.isSubscribedToTopic does.
   */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics === null ? this.protocolType === CONSUMER_PROTOCOL_TYPE : this.subscribedTopics.has(topic);
  }

  /** The union of the members' subscriptions, read from their metadata for the chosen protocol. */
  private computeSubscribedTopics(): ReadonlySet<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return null;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === null) return null;
    const topics = new Set<string>();
    for (const member of this.members.values()) {
      const subscribed = subscribedTopicsOf(member.metadata(this.protocolName));
      if (subscribed === null) return null;
      for (const topic of subscribed) topics.add(topic);
    }
    return topics;
  }

  /** Every member with its metadata for the current protocol (the leader's JoinGroup response). */
  currentMemberMetadata(): JoinResult['members'] {
    const protocol = this.protocolName!;
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata(protocol) }));
  }

  private countProtocols(member: Member, delta: number): void {
    for (const { name } of member.protocols) this.supportedProtocols.set(name, (this.supportedProtocols.get(name) ?? 0) + delta);
  }
}
