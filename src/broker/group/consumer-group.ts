// A group of the consumer group protocol (KIP-848, Kafka's ConsumerGroup and CurrentAssignmentBuilder):
// the state the coordinator keeps, and how a member moves towards its target assignment.
//
// Three epochs order everything. The group epoch goes up whenever what the assignment depends on
// changes (a member joins or leaves, a subscription or a subscribed topic's partitions change).
// The target assignment is computed for a group epoch (assignmentEpoch). Each member has its own
// epoch, and reaches the assignment epoch by steps, so that no partition is ever owned by two
// members at once:
//   - a member that must give up partitions first gets an assignment without them, at its current
//     epoch (UNREVOKED_PARTITIONS), and moves on once a heartbeat shows it no longer owns them;
//   - a member that should take partitions another member still holds takes the epoch and the free
//     ones (UNRELEASED_PARTITIONS), and the rest at a later heartbeat, once they are released;
//   - otherwise it takes the target and the epoch at once (STABLE).
// Nothing here has timers or I/O: consumer-group-coordinator.ts drives it.
import { assign } from './consumer-group-assignors.js';
import { CONSUMER_PROTOCOL_TYPE } from './consumer-protocol.js';

/** Partitions by topic id. */
export type Assignment = Map<string, Set<number>>;

export type MemberState = 'STABLE' | 'UNREVOKED_PARTITIONS' | 'UNRELEASED_PARTITIONS';
/** Kafka's ConsumerGroup.ConsumerGroupState, as DescribeGroups, ListGroups and tools print it. */
export type ConsumerGroupState = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable';

/** A static member that sent epoch -2 keeps its assignment until it returns or its session ends. */
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

/**
 * What a member that speaks the classic protocol (JoinGroup, SyncGroup, Heartbeat) brings to a
 * consumer group (KIP-848's migration): its session timeout and the protocols of its JoinGroup, in
 * its order of preference. Kafka's ConsumerGroupMemberMetadataValue.ClassicMemberMetadata.
 */
export interface ClassicMemberMetadata {
  sessionTimeoutMs: number;
  supportedProtocols: Array<{ name: string; metadata: Buffer }>;
}

export class ConsumerGroupMember {
  memberEpoch = 0;
  previousMemberEpoch = -1;
  state: MemberState = 'STABLE';
  instanceId: string | null = null;
  rackId: string | null = null;
  clientId = '';
  clientHost = '';
  rebalanceTimeoutMs = 0;
  subscribedTopicNames: string[] = [];
  subscribedTopicRegex: string | null = null;
  serverAssignor: string | null = null;
  /** Set for a member of the classic protocol; null for one that sends ConsumerGroupHeartbeat. */
  classicMemberMetadata: ClassicMemberMetadata | null = null;
  /** What the member may own now. */
  assigned: Assignment = new Map();
  /** What it must give up before it moves on. */
  pendingRevocation: Assignment = new Map();
  sessionTimer: NodeJS.Timeout | null = null;
  rebalanceTimer: NodeJS.Timeout | null = null;
  /** A classic member owes a SyncGroup after its JoinGroup, a JoinGroup after REBALANCE_IN_PROGRESS: each within its rebalance timeout. */
  classicSyncTimer: NodeJS.Timeout | null = null;
  classicJoinTimer: NodeJS.Timeout | null = null;

  constructor(readonly memberId: string) {}

  get usesClassicProtocol(): boolean {
    return this.classicMemberMetadata !== null;
  }

  /** The protocol a classic member's JoinGroup and SyncGroup answers name: the first it supports, as Kafka answers. */
  get classicProtocolName(): string {
    return this.classicMemberMetadata?.supportedProtocols[0]?.name ?? '';
  }
}

export class ConsumerGroup {
  groupEpoch = 0;
  assignmentEpoch = 0;
  readonly members = new Map<string, ConsumerGroupMember>();
  /** group.instance.id -> member id. */
  readonly staticMembers = new Map<string, string>();
  readonly targetAssignment = new Map<string, Assignment>();
  /** "topicId:partition" -> the member that owns it (assigned or pending revocation). */
  private readonly owners = new Map<string, string>();
  /** What the last target assignment was computed from: subscribed topics and their partition counts. */
  subscriptionSignature = '';
  /** When the last member left (offsets of an Empty group expire from then), or null while it has members. */
  emptySinceMs: number | null = null;
  /** A write of its records failed: the next change writes all of them, so the log catches up. */
  needsFullWrite = false;

  constructor(readonly groupId: string) {}

  get state(): ConsumerGroupState {
    if (this.members.size === 0) return 'Empty';
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning';
    for (const member of this.members.values()) {
      if (member.memberEpoch !== this.assignmentEpoch || member.state !== 'STABLE') return 'Reconciling';
    }
    return 'Stable';
  }

  bumpGroupEpoch(): void {
    this.groupEpoch++;
  }

  /** Adds a member or replaces one under the same id, keeping the partition owners in step. */
  putMember(member: ConsumerGroupMember): void {
    const previous = this.members.get(member.memberId);
    if (previous) this.release(previous);
    this.members.set(member.memberId, member);
    if (member.instanceId !== null) this.staticMembers.set(member.instanceId, member.memberId);
    this.claim(member);
  }

  /** Removes a member: its partitions are free for others. */
  removeMember(memberId: string): ConsumerGroupMember | undefined {
    const member = this.members.get(memberId);
    if (!member) return undefined;
    this.release(member);
    this.members.delete(memberId);
    this.targetAssignment.delete(memberId);
    if (member.instanceId !== null && this.staticMembers.get(member.instanceId) === memberId) this.staticMembers.delete(member.instanceId);
    return member;
  }

  /**
   * Whether a classic member may join with these protocols: the consumer protocol type, and one
   * protocol every classic member supports (any, while the group has no classic member).
   */
  supportsClassicProtocols(protocolType: string, names: readonly string[]): boolean {
    if (protocolType !== CONSUMER_PROTOCOL_TYPE || names.length === 0) return false;
    const classic = [...this.members.values()].filter((m) => m.usesClassicProtocol);
    return names.some((name) => classic.every((m) => m.classicMemberMetadata!.supportedProtocols.some((p) => p.name === name)));
  }

  /** Whether every member but `memberId` speaks the classic protocol, and it does not (KIP-848's downgrade). */
  allMembersUseClassicProtocolExcept(memberId: string): boolean {
    const member = this.members.get(memberId);
    if (member === undefined || member.usesClassicProtocol) return false;
    for (const other of this.members.values()) if (other !== member && !other.usesClassicProtocol) return false;
    return true;
  }

  /** A member with partitions of its target still held by others (Kafka's waitingOnUnreleasedPartition). */
  waitingOnUnreleasedPartition(member: ConsumerGroupMember): boolean {
    if (member.state !== 'UNRELEASED_PARTITIONS') return false;
    for (const [topicId, partitions] of this.targetAssignment.get(member.memberId) ?? new Map<string, Set<number>>()) {
      const assigned = member.assigned.get(topicId);
      for (const p of partitions) {
        if (assigned?.has(p)) continue;
        const owner = this.ownerOf(topicId, p);
        if (owner !== undefined && owner !== member.memberId) return true;
      }
    }
    return false;
  }

  /** The member that owns a partition, if any. */
  ownerOf(topicId: string, partition: number): string | undefined {
    return this.owners.get(`${topicId}:${partition}`);
  }

  /** Computes a new target assignment for the group epoch. */
  computeTargetAssignment(assignor: string, subscribedTopicIds: (member: ConsumerGroupMember) => ReadonlySet<string>, partitionCounts: ReadonlyMap<string, number>): void {
    const members = new Map(
      [...this.members.values()].map((member) => [member.memberId, { topics: subscribedTopicIds(member), target: this.targetAssignment.get(member.memberId) }]),
    );
    const target = assign(assignor, { members, partitionCounts });
    this.targetAssignment.clear();
    for (const [memberId, assignment] of target) this.targetAssignment.set(memberId, assignment);
    this.assignmentEpoch = this.groupEpoch;
  }

  /**
   * Moves a member as far towards its target as it can now (Kafka's CurrentAssignmentBuilder).
   * `owned`: the partitions the member's heartbeat says it owns, or null when it did not say.
   * Returns whether the member's epoch or assignment changed.
   */
  reconcile(member: ConsumerGroupMember, owned: Assignment | null): boolean {
    if (member.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) return false;
    const before = { epoch: member.memberEpoch, assigned: member.assigned };
    if (member.state === 'UNREVOKED_PARTITIONS') {
      // It moves on once it no longer owns any partition it was asked to give up.
      if (owned === null || overlaps(owned, member.pendingRevocation)) {
        return false;
      }
      this.release(member);
      member.pendingRevocation = new Map();
      member.state = 'STABLE';
      this.claim(member);
    }
    if (member.state === 'STABLE' && member.memberEpoch === this.assignmentEpoch) return false;
    this.nextAssignment(member);
    return member.memberEpoch !== before.epoch || !sameAssignment(member.assigned, before.assigned);
  }

  private nextAssignment(member: ConsumerGroupMember): void {
    const target = this.targetAssignment.get(member.memberId) ?? new Map<string, Set<number>>();
    const kept: Assignment = new Map();
    const revoke: Assignment = new Map();
    const free: Assignment = new Map();
    let unreleased = false;
    for (const topicId of new Set([...member.assigned.keys(), ...target.keys()])) {
      const current = member.assigned.get(topicId) ?? new Set<number>();
      const wanted = target.get(topicId) ?? new Set<number>();
      for (const p of current) addTo(wanted.has(p) ? kept : revoke, topicId, p);
      for (const p of wanted) {
        if (current.has(p)) continue;
        const owner = this.ownerOf(topicId, p);
        if (owner === undefined || owner === member.memberId) addTo(free, topicId, p);
        else unreleased = true;
      }
    }
    this.release(member);
    if (revoke.size > 0) {
      // Give up first, at the current epoch: the partitions it keeps, nothing new yet.
      member.assigned = kept;
      member.pendingRevocation = revoke;
      member.state = 'UNREVOKED_PARTITIONS';
    } else {
      for (const [topicId, partitions] of free) for (const p of partitions) addTo(kept, topicId, p);
      member.assigned = kept;
      member.pendingRevocation = new Map();
      if (member.memberEpoch !== this.assignmentEpoch) {
        member.previousMemberEpoch = member.memberEpoch;
        member.memberEpoch = this.assignmentEpoch;
      }
      member.state = unreleased ? 'UNRELEASED_PARTITIONS' : 'STABLE';
    }
    this.claim(member);
  }

  /** A member rejoining with epoch 0 owns nothing any more: it starts over from its target. */
  resetMember(member: ConsumerGroupMember): void {
    this.release(member);
    member.assigned = new Map();
    member.pendingRevocation = new Map();
    member.state = 'STABLE';
    member.previousMemberEpoch = -1;
    member.memberEpoch = 0;
  }

  private claim(member: ConsumerGroupMember): void {
    for (const assignment of [member.assigned, member.pendingRevocation]) {
      for (const [topicId, partitions] of assignment) for (const p of partitions) this.owners.set(`${topicId}:${p}`, member.memberId);
    }
  }

  private release(member: ConsumerGroupMember): void {
    for (const assignment of [member.assigned, member.pendingRevocation]) {
      for (const [topicId, partitions] of assignment) {
        for (const p of partitions) {
          const key = `${topicId}:${p}`;
          if (this.owners.get(key) === member.memberId) this.owners.delete(key);
        }
      }
    }
  }
}

function addTo(assignment: Assignment, topicId: string, partition: number): void {
  let partitions = assignment.get(topicId);
  if (!partitions) assignment.set(topicId, (partitions = new Set()));
  partitions.add(partition);
}

function overlaps(a: Assignment, b: Assignment): boolean {
  for (const [topicId, partitions] of b) {
    const other = a.get(topicId);
    if (other) for (const p of partitions) if (other.has(p)) return true;
  }
  return false;
}

/** Whether every partition of `a` is in `b`. */
export function isSubset(a: Assignment, b: Assignment): boolean {
  for (const [topicId, partitions] of a) {
    const other = b.get(topicId);
    for (const p of partitions) if (!other?.has(p)) return false;
  }
  return true;
}

export function sameAssignment(a: Assignment, b: Assignment): boolean {
  return isSubset(a, b) && isSubset(b, a);
}

export function toAssignment(topicPartitions: ReadonlyArray<{ topicId: string; partitions: readonly number[] }>): Assignment {
  const assignment: Assignment = new Map();
  for (const { topicId, partitions } of topicPartitions) for (const p of partitions) addTo(assignment, topicId, p);
  return assignment;
}

/** Kafka's wire form: topics and partitions in order, empty topics left out. */
export function toTopicPartitions(assignment: Assignment): Array<{ topicId: string; partitions: number[] }> {
  return [...assignment]
    .filter(([, partitions]) => partitions.size > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topicId, partitions]) => ({ topicId, partitions: [...partitions].sort((x, y) => x - y) }));
}
