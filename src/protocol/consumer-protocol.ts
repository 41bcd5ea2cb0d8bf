// Kafka's consumer protocol (protocol type "consumer"): the subscription a member puts in JoinGroup
// and the assignment it gets back in SyncGroup, byte for byte Kafka's ConsumerProtocolSubscription
// and ConsumerProtocolAssignment. Our client writes and reads them (client/assignors.ts), and so
// does the broker when a consumer group (KIP-848) hosts classic members.
//
//   subscription v0: version int16 | topics [string] | userData bytes (nullable)
//                v1: + ownedPartitions [topic string, partitions [int32]]
//                v2: + generationId int32        v3: + rackId string (nullable)
//   assignment   v0-v3: version int16 | [topic string, partitions [int32]] | userData bytes
//
// A reader meets newer versions by parsing them as the newest it knows (fields are only ever
// appended), as Kafka's ConsumerProtocol does.
import { SluiceError } from '../errors.js';
import { decodeMessage, defineMessage, encodeMessage } from './schema.js';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface Subscription {
  topics: string[];
  userData: Buffer | null;
  /** v1+: what the member holds while it joins (cooperative rebalancing; empty with eager). */
  ownedPartitions: TopicPartition[];
  /** v2+: the generation those partitions were assigned in, -1 when unknown. */
  generationId: number;
  /** v3+: the member's client.rack, null when not set (or not sent). */
  rackId?: string | null;
}

/** The TopicPartition struct of these data schemas (and of the sticky assignor's userData): a topic and its partitions. */
export function topicPartitionFields<V extends string>(versions: V) {
  return [
    { name: 'topic', type: 'string', versions },
    { name: 'partitions', type: '[]int32', versions },
  ] as const;
}

// Kafka's data schemas (ConsumerProtocolSubscription.json, ConsumerProtocolAssignment.json) through
// the same declarative codec as the APIs; apiKey/type are placeholders, these are not requests.
const SubscriptionSchema = defineMessage({
  name: 'ConsumerProtocolSubscription',
  apiKey: -1,
  type: 'request',
  validVersions: [0, 3],
  flexibleVersions: 'none',
  fields: [
    { name: 'topics', type: '[]string', versions: '0+' },
    { name: 'userData', type: 'bytes', versions: '0+', nullableVersions: '0+', default: null },
    {
      name: 'ownedPartitions',
      type: '[]TopicPartition',
      versions: '1+',
      fields: topicPartitionFields('1+'),
    },
    { name: 'generationId', type: 'int32', versions: '2+', default: -1 },
    { name: 'rackId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
  ],
});

const AssignmentSchema = defineMessage({
  name: 'ConsumerProtocolAssignment',
  apiKey: -1,
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: 'none',
  fields: [
    {
      name: 'assignedPartitions',
      type: '[]TopicPartition',
      versions: '0+',
      fields: topicPartitionFields('0+'),
    },
    { name: 'userData', type: 'bytes', versions: '0+', nullableVersions: '0+', default: null },
  ],
});

/** Assignment v0-v2 share one layout; v1 tells a reader the sender knows cooperative rebalancing. */
export const ASSIGNMENT_VERSION = 1;

function withVersion(version: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + body.length);
  out.writeInt16BE(version, 0);
  body.copy(out, 2);
  return out;
}

/** The version a subscription or an assignment was written in (its first two bytes). */
export function consumerProtocolVersion(bytes: Buffer): number {
  return readVersion(bytes, 'the consumer protocol');
}

function readVersion(bytes: Buffer, what: string): number {
  if (bytes.length < 2) throw new SluiceError('INVALID_REQUEST', `${what}: ${bytes.length} bytes, no version`);
  const version = bytes.readInt16BE(0);
  if (version < 0) throw new SluiceError('INVALID_REQUEST', `${what}: version ${version}`);
  return version;
}

export function encodeSubscription(subscription: Subscription, version = 1): Buffer {
  return withVersion(
    version,
    encodeMessage(SubscriptionSchema, version, {
      topics: subscription.topics,
      userData: subscription.userData,
      ownedPartitions: groupByTopic(subscription.ownedPartitions),
      generationId: subscription.generationId,
      rackId: subscription.rackId ?? null,
    }),
  );
}

export function decodeSubscription(bytes: Buffer): Subscription {
  const version = Math.min(readVersion(bytes, 'ConsumerProtocolSubscription'), SubscriptionSchema.validVersions[1]);
  const decoded = decodeMessage(SubscriptionSchema, version, bytes.subarray(2));
  return {
    topics: decoded.topics,
    userData: decoded.userData,
    ownedPartitions: ungroup(decoded.ownedPartitions ?? []),
    generationId: decoded.generationId ?? -1,
    rackId: decoded.rackId ?? null,
  };
}

export function encodeAssignment(partitions: readonly TopicPartition[], userData: Buffer | null = null, version = ASSIGNMENT_VERSION): Buffer {
  return withVersion(version, encodeMessage(AssignmentSchema, version, { assignedPartitions: groupByTopic(partitions), userData }));
}

/** An empty buffer (what the coordinator gives a member the leader left out) is no partitions. */
export function decodeAssignment(bytes: Buffer): { partitions: TopicPartition[]; userData: Buffer | null } {
  if (bytes.length === 0) return { partitions: [], userData: null };
  const version = Math.min(readVersion(bytes, 'ConsumerProtocolAssignment'), AssignmentSchema.validVersions[1]);
  const decoded = decodeMessage(AssignmentSchema, version, bytes.subarray(2));
  return { partitions: ungroup(decoded.assignedPartitions), userData: decoded.userData };
}

export function groupByTopic(partitions: readonly TopicPartition[]): Array<{ topic: string; partitions: number[] }> {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = byTopic.get(topic);
    if (list) list.push(partition);
    else byTopic.set(topic, [partition]);
  }
  return [...byTopic].map(([topic, list]) => ({ topic, partitions: list.sort((a, b) => a - b) }));
}

export function ungroup(grouped: ReadonlyArray<{ topic: string; partitions: readonly number[] }>): TopicPartition[] {
  return grouped.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })));
}
