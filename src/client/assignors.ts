// Client-side partition assignment for the classic consumer protocol (protocol type "consumer"):
// the assignors under the protocol names kafkajs, librdkafka and Java clients use, so that their
// members can share a group with ours. The bytes members exchange (subscription and assignment)
// are Kafka's, in protocol/consumer-protocol.ts.
import { SluiceError } from '../errors.js';
import { decodeMessage, defineMessage, encodeMessage } from '../protocol/schema.js';
import { groupByTopic, topicPartitionFields, ungroup, type Subscription, type TopicPartition } from '../protocol/consumer-protocol.js';

export {
  ASSIGNMENT_VERSION,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type Subscription,
  type TopicPartition,
} from '../protocol/consumer-protocol.js';

export interface MemberSubscription {
  memberId: string;
  groupInstanceId: string | null;
  subscription: Subscription;
}

/**
 * eager: every member gives up all of its partitions before it rejoins. cooperative (KIP-429):
 * members keep their partitions through the rebalance and give up only those assigned elsewhere,
 * which a second rebalance then hands to their new owners.
 */
export type RebalanceProtocol = 'eager' | 'cooperative';

export interface Assignor {
  /** The protocol name in JoinGroup: members share a group only through a common name. */
  readonly name: string;
  /** A member rebalances cooperatively only when every assignor it offers supports it (Kafka's rule). */
  readonly rebalanceProtocols: readonly RebalanceProtocol[];
  /** The ConsumerProtocolSubscription version this assignor's members send. */
  readonly subscriptionVersion: number;
  /** userData for the subscription, from what the member held in its last generation. */
  userData?(previous: { partitions: readonly TopicPartition[]; generationId: number }): Buffer | null;
  /** Partitions per member id (members left out get nothing). Runs on the leader only. */
  assign(members: readonly MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): Map<string, TopicPartition[]>;
}

// ---- the consumer protocol's bytes ------------------------------------------------------------

/** Kafka's StickyAssignor userData (StickyAssignorUserDataV1, no version prefix): the previous assignment and its generation. */
const StickyUserDataSchema = defineMessage({
  name: 'StickyAssignorUserData',
  apiKey: -1,
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: 'none',
  fields: [
    {
      name: 'previousAssignment',
      type: '[]TopicPartition',
      versions: '0+',
      fields: topicPartitionFields('0+'),
    },
    { name: 'generation', type: 'int32', versions: '0+', default: -1 },
  ],
});

export function sortPartitions(partitions: TopicPartition[]): TopicPartition[] {
  return partitions.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

export function partitionKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

// ---- assignors ------------------------------------------------------------------------------

/** Kafka's member order for assignors: static members by instance id first, then by member id. */
function compareMembers(a: MemberSubscription, b: MemberSubscription): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) return compareStrings(a.groupInstanceId, b.groupInstanceId);
  if (a.groupInstanceId !== null) return -1;
  if (b.groupInstanceId !== null) return 1;
  return compareStrings(a.memberId, b.memberId);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function emptyAssignment(members: readonly MemberSubscription[]): Map<string, TopicPartition[]> {
  return new Map(members.map((m) => [m.memberId, []]));
}

/** The topics a member subscribes to that exist (have a partition count). */
function subscribedTopics(member: MemberSubscription, partitionsPerTopic: ReadonlyMap<string, number>): Set<string> {
  return new Set(member.subscription.topics.filter((topic) => (partitionsPerTopic.get(topic) ?? 0) > 0));
}

/**
 * RangeAssignor ("range"): per topic, the sorted subscribers take contiguous ranges; the first
 * (partitions % members) of them one partition more.
 */
export const rangeAssignor: Assignor = {
  name: 'range',
  rebalanceProtocols: ['eager'],
  subscriptionVersion: 1,
  assign(members, partitionsPerTopic) {
    const result = emptyAssignment(members);
    const sorted = [...members].sort(compareMembers);
    const topics = [...new Set(members.flatMap((m) => m.subscription.topics))].sort(compareStrings);
    for (const topic of topics) {
      const count = partitionsPerTopic.get(topic) ?? 0;
      const subscribers = sorted.filter((m) => m.subscription.topics.includes(topic));
      if (count === 0 || subscribers.length === 0) continue;
      const each = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      subscribers.forEach((member, i) => {
        const start = each * i + Math.min(i, extra);
        const length = each + (i < extra ? 1 : 0);
        for (let partition = start; partition < start + length; partition++) result.get(member.memberId)!.push({ topic, partition });
      });
    }
    return result;
  },
};

/**
 * RoundRobinAssignor ("roundrobin"): every partition of every subscribed topic, sorted by topic
 * and partition, dealt to the sorted members in turn, skipping members not subscribed to its topic.
 */
export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  rebalanceProtocols: ['eager'],
  subscriptionVersion: 1,
  assign(members, partitionsPerTopic) {
    const result = emptyAssignment(members);
    const sorted = [...members].sort(compareMembers);
    if (sorted.length === 0) return result;
    const subscriptions = sorted.map((m) => subscribedTopics(m, partitionsPerTopic));
    const topics = [...new Set(subscriptions.flatMap((s) => [...s]))].sort(compareStrings);
    let next = 0;
    for (const topic of topics) {
      for (let partition = 0; partition < partitionsPerTopic.get(topic)!; partition++) {
        while (!subscriptions[next % sorted.length]!.has(topic)) next++;
        result.get(sorted[next % sorted.length]!.memberId)!.push({ topic, partition });
        next++;
      }
    }
    return result;
  },
};

/** kafkajs's default assigner: the same dealing as roundrobin, under kafkajs's protocol name. */
export const kafkajsRoundRobinAssignor: Assignor = { ...roundRobinAssignor, name: 'RoundRobinAssigner', subscriptionVersion: 0 };

/**
 * CooperativeStickyAssignor ("cooperative-sticky"): balanced (partition counts of members with the
 * same subscription differ by at most one) while moving as few partitions as possible from their
 * current owners. Ownership comes from the subscriptions' ownedPartitions (cooperative members,
 * newest generation wins a conflict) and, for members that rebalance eagerly and so own nothing
 * while they join, from their previous assignment in userData (Kafka's StickyAssignor userData
 * layout: [topic, [partition]] then generation int32).
 *
 * A partition moving from one cooperative owner to another is left out of this assignment: its
 * owner revokes it and rejoins, and the next rebalance gives it to its new member (KIP-429).
 */
export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  rebalanceProtocols: ['cooperative', 'eager'],
  subscriptionVersion: 2,
  userData(previous) {
    if (previous.partitions.length === 0) return null;
    return encodeMessage(StickyUserDataSchema, 0, { previousAssignment: groupByTopic(previous.partitions), generation: previous.generationId });
  },
  assign(members, partitionsPerTopic) {
    return stickyAssign(members, partitionsPerTopic);
  },
};

function decodeStickyUserData(userData: Buffer | null): { partitions: TopicPartition[]; generationId: number } | null {
  // Kafka 2.4-2.8's cooperative-sticky sent only the generation (4 bytes): no previous assignment.
  if (userData === null || userData.length <= 4) return null;
  try {
    const decoded = decodeMessage(StickyUserDataSchema, 0, userData);
    return { partitions: ungroup(decoded.previousAssignment), generationId: decoded.generation };
  } catch {
    return null; // userData of another assignor's making: no stickiness hint from it
  }
}

interface Claim {
  memberId: string;
  generationId: number;
  /** Held right now by a cooperative member (not just a hint from the last generation). */
  held: boolean;
}

function stickyAssign(members: readonly MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): Map<string, TopicPartition[]> {
  const sorted = [...members].sort(compareMembers);
  const order = new Map(sorted.map((m, i) => [m.memberId, i]));
  const subscriptions = new Map(sorted.map((m) => [m.memberId, subscribedTopics(m, partitionsPerTopic)]));
  const exists = (tp: TopicPartition) => tp.partition >= 0 && tp.partition < (partitionsPerTopic.get(tp.topic) ?? 0);

  // Who owns what now: newest generation wins; a held partition beats a hint of the same generation.
  const claims = new Map<string, Claim>();
  const claim = (memberId: string, tp: TopicPartition, generationId: number, held: boolean) => {
    if (!exists(tp) || !subscriptions.get(memberId)!.has(tp.topic)) return;
    const key = partitionKey(tp);
    const current = claims.get(key);
    if (current && (current.generationId > generationId || (current.generationId === generationId && (current.held || !held)))) return;
    claims.set(key, { memberId, generationId, held });
  };
  for (const member of sorted) {
    const { ownedPartitions, generationId, userData } = member.subscription;
    for (const tp of ownedPartitions) claim(member.memberId, tp, generationId, true);
    const previous = ownedPartitions.length === 0 ? decodeStickyUserData(userData) : null;
    for (const tp of previous?.partitions ?? []) claim(member.memberId, tp, previous!.generationId, false);
  }

  const assigned = new Map<string, string[]>(sorted.map((m) => [m.memberId, []]));
  const owner = new Map<string, string>();
  const give = (key: string, memberId: string) => {
    assigned.get(memberId)!.push(key);
    owner.set(key, memberId);
  };
  const all: TopicPartition[] = [];
  for (const topic of [...new Set([...subscriptions.values()].flatMap((s) => [...s]))].sort(compareStrings)) {
    for (let partition = 0; partition < partitionsPerTopic.get(topic)!; partition++) all.push({ topic, partition });
  }
  const topicOf = new Map(all.map((tp) => [partitionKey(tp), tp.topic]));
  for (const tp of all) {
    const key = partitionKey(tp);
    const current = claims.get(key);
    if (current) give(key, current.memberId);
  }
  // Unowned partitions go to the least loaded subscriber.
  for (const tp of all) {
    const key = partitionKey(tp);
    if (owner.has(key)) continue;
    let best: string | undefined;
    for (const member of sorted) {
      if (!subscriptions.get(member.memberId)!.has(tp.topic)) continue;
      if (best === undefined || assigned.get(member.memberId)!.length < assigned.get(best)!.length) best = member.memberId;
    }
    if (best !== undefined) give(key, best);
  }
  // Balance: move a partition from a member to a subscriber with at least two fewer, until no
  // such move exists. Each move lowers the sum of squared counts, so this ends; the partitions
  // that move are the ones last given (newly assigned first, owned ones last).
  for (let moved = true; moved; ) {
    moved = false;
    const byLoad = [...sorted].sort((a, b) => assigned.get(b.memberId)!.length - assigned.get(a.memberId)!.length || order.get(a.memberId)! - order.get(b.memberId)!);
    for (const from of byLoad) {
      const list = assigned.get(from.memberId)!;
      for (let i = list.length - 1; i >= 0 && !moved; i--) {
        const key = list[i]!;
        const topic = topicOf.get(key)!;
        let to: string | undefined;
        for (const member of sorted) {
          if (!subscriptions.get(member.memberId)!.has(topic)) continue;
          const count = assigned.get(member.memberId)!.length;
          if (count < list.length - 1 && (to === undefined || count < assigned.get(to)!.length)) to = member.memberId;
        }
        if (to !== undefined) {
          list.splice(i, 1);
          give(key, to);
          moved = true;
        }
      }
      if (moved) break;
    }
  }

  const result = emptyAssignment(members);
  for (const [memberId, keys] of assigned) {
    for (const key of keys) {
      // Held by another member now: that member revokes it first (cooperative), it comes next round.
      const current = claims.get(key);
      if (current && current.held && current.memberId !== memberId) continue;
      const [topic, partition] = key.split('\u0000') as [string, string];
      result.get(memberId)!.push({ topic, partition: Number(partition) });
    }
    sortPartitions(result.get(memberId)!);
  }
  return result;
}

const BUILT_IN: Readonly<Record<string, Assignor>> = {
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
  RoundRobinAssigner: kafkajsRoundRobinAssignor,
};

export type AssignorName = 'range' | 'roundrobin' | 'cooperative-sticky' | 'RoundRobinAssigner';

/** A built-in assignor by its protocol name, or the assignor given. */
export function resolveAssignor(spec: AssignorName | Assignor): Assignor {
  if (typeof spec !== 'string') return spec;
  const assignor = BUILT_IN[spec];
  if (!assignor) throw new SluiceError('INVALID_CONFIG', `Unknown assignor '${spec}' (known: ${Object.keys(BUILT_IN).join(', ')})`);
  return assignor;
}
