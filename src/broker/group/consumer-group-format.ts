// Kafka's records of consumer groups (KIP-848) in __consumer_offsets, byte for byte (the
// ConsumerGroup*Key.json and *Value.json of Kafka's group coordinator): what a coordinator needs to
// take a consumer group over after a restart or a move, with its epochs and every member's
// subscription, target and current assignment.
//
//   key   type int16 | groupId string [| memberId string]      (not flexible)
//   value version int16 (0) | the value's fields                (flexible: compact lengths, tagged fields)
//   type 3 ConsumerGroupMetadata             value: epoch int32
//   type 5 ConsumerGroupMemberMetadata       value: instanceId, rackId, clientId, clientHost,
//                                            subscribedTopicNames, subscribedTopicRegex, rebalanceTimeoutMs, serverAssignor,
//                                            tag 0: classicMemberMetadata (sessionTimeoutMs, supportedProtocols) or none
//   type 6 ConsumerGroupTargetAssignmentMetadata  value: assignmentEpoch int32
//   type 7 ConsumerGroupTargetAssignmentMember    value: topicPartitions [topicId uuid, partitions [int32]]
//   type 8 ConsumerGroupCurrentMemberAssignment   value: memberEpoch, previousMemberEpoch, state int8,
//                                            assignedPartitions, partitionsPendingRevocation
// A null value is a tombstone. Type 4 (subscribed topics' metadata, which Kafka 4.1 stopped
// writing) is read past: sluice computes the same from the topics it knows.
//
// The values are declared with the protocol's schema DSL, whose codec already writes Kafka's
// flexible encoding; the keys are plain int16-prefixed strings (record-fields.ts).
import { decodeMessage, defineMessage, encodeMessage, type Decoded, type Input } from '../../protocol/schema.js';
import { RecordWriter, corruptRecord, readRecord } from './record-fields.js';

export const CONSUMER_GROUP_RECORD_TYPES = { metadata: 3, partitionMetadata: 4, memberMetadata: 5, targetMetadata: 6, targetMember: 7, currentAssignment: 8 } as const;
const T = CONSUMER_GROUP_RECORD_TYPES;
const VALUE_VERSION = 0;

/** Kafka's MemberState bytes. */
export const MEMBER_STATE_BYTES = { STABLE: 0, UNREVOKED_PARTITIONS: 1, UNRELEASED_PARTITIONS: 2 } as const;

const topicPartitionsFields = [
  { name: 'topicId', type: 'uuid', versions: '0+' },
  { name: 'partitions', type: '[]int32', versions: '0+' },
] as const;

// apiKey and type only satisfy defineMessage: these are record values, not requests.
const MetadataValue = defineMessage({
  name: 'ConsumerGroupMetadataValue',
  apiKey: T.metadata,
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [{ name: 'epoch', type: 'int32', versions: '0+' }],
});

const MemberMetadataValue = defineMessage({
  name: 'ConsumerGroupMemberMetadataValue',
  apiKey: T.memberMetadata,
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [
    { name: 'instanceId', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'rackId', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'clientId', type: 'string', versions: '0+' },
    { name: 'clientHost', type: 'string', versions: '0+' },
    { name: 'subscribedTopicNames', type: '[]string', versions: '0+' },
    { name: 'subscribedTopicRegex', type: 'string', versions: '0+', nullableVersions: '0+' },
    { name: 'rebalanceTimeoutMs', type: 'int32', versions: '0+', default: -1 },
    { name: 'serverAssignor', type: 'string', versions: '0+', nullableVersions: '0+' },
    {
      // A member that speaks the classic protocol (JoinGroup, SyncGroup, Heartbeat) in a consumer group.
      name: 'classicMemberMetadata',
      type: 'ClassicMemberMetadata',
      versions: '0+',
      nullableVersions: '0+',
      default: null,
      taggedVersions: '0+',
      tag: 0,
      fields: [
        { name: 'sessionTimeoutMs', type: 'int32', versions: '0+' },
        {
          name: 'supportedProtocols',
          type: '[]ClassicProtocol',
          versions: '0+',
          fields: [
            { name: 'name', type: 'string', versions: '0+' },
            { name: 'metadata', type: 'bytes', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

const TargetMetadataValue = defineMessage({
  name: 'ConsumerGroupTargetAssignmentMetadataValue',
  apiKey: T.targetMetadata,
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [{ name: 'assignmentEpoch', type: 'int32', versions: '0+' }],
});

const TargetMemberValue = defineMessage({
  name: 'ConsumerGroupTargetAssignmentMemberValue',
  apiKey: T.targetMember,
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [{ name: 'topicPartitions', type: '[]TopicPartition', versions: '0+', fields: topicPartitionsFields }],
});

const CurrentAssignmentValue = defineMessage({
  name: 'ConsumerGroupCurrentMemberAssignmentValue',
  apiKey: T.currentAssignment,
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [
    { name: 'memberEpoch', type: 'int32', versions: '0+' },
    { name: 'previousMemberEpoch', type: 'int32', versions: '0+' },
    { name: 'state', type: 'int8', versions: '0+' },
    { name: 'assignedPartitions', type: '[]TopicPartitions', versions: '0+', fields: topicPartitionsFields },
    { name: 'partitionsPendingRevocation', type: '[]TopicPartitions', versions: '0+', fields: topicPartitionsFields },
  ],
});

export type MemberMetadataRecord = Decoded<typeof MemberMetadataValue>;
export type TargetMemberRecord = Decoded<typeof TargetMemberValue>;
export type CurrentAssignmentRecord = Decoded<typeof CurrentAssignmentValue>;

/** One record of a consumer group; `value` null is a tombstone. */
export type ConsumerGroupRecord =
  | { type: typeof T.metadata; groupId: string; value: { epoch: number } | null }
  | { type: typeof T.memberMetadata; groupId: string; memberId: string; value: MemberMetadataRecord | null }
  | { type: typeof T.targetMetadata; groupId: string; value: { assignmentEpoch: number } | null }
  | { type: typeof T.targetMember; groupId: string; memberId: string; value: TargetMemberRecord | null }
  | { type: typeof T.currentAssignment; groupId: string; memberId: string; value: CurrentAssignmentRecord | null };

const VALUE_SCHEMAS = {
  [T.metadata]: MetadataValue,
  [T.memberMetadata]: MemberMetadataValue,
  [T.targetMetadata]: TargetMetadataValue,
  [T.targetMember]: TargetMemberValue,
  [T.currentAssignment]: CurrentAssignmentValue,
} as const;

const WITH_MEMBER: ReadonlySet<number> = new Set([T.memberMetadata, T.targetMember, T.currentAssignment]);

export function encodeConsumerGroupRecord(record: ConsumerGroupRecord): { key: Buffer; value: Buffer | null } {
  const key = new RecordWriter().int16(record.type).string(record.groupId, 'group id');
  if ('memberId' in record) key.string(record.memberId, 'member id');
  if (record.value === null) return { key: key.toBuffer(), value: null };
  const header = Buffer.alloc(2);
  header.writeInt16BE(VALUE_VERSION, 0);
  const body = encodeMessage(VALUE_SCHEMAS[record.type], VALUE_VERSION, record.value as Input<(typeof VALUE_SCHEMAS)[typeof record.type]>);
  return { key: key.toBuffer(), value: Buffer.concat([header, body]) };
}

/** The key's record type, when it is one of a consumer group's (3-8), else null. */
export function consumerGroupRecordType(key: Buffer): number | null {
  if (key.length < 2) return null;
  const type = key.readInt16BE(0);
  return type >= T.metadata && type <= T.currentAssignment ? type : null;
}

/** Decodes a record whose key consumerGroupRecordType accepted; type 4 gives null (not kept). */
export function decodeConsumerGroupRecord(key: Buffer, value: Buffer | null): ConsumerGroupRecord | null {
  const { type, groupId, memberId } = readRecord(key, 'a consumer group record key', (reader) => {
    const type = reader.readInt16();
    const groupId = reader.readString();
    return { type, groupId, memberId: WITH_MEMBER.has(type) ? reader.readString() : '' };
  });
  if (type === T.partitionMetadata) return null;
  const schema = VALUE_SCHEMAS[type as keyof typeof VALUE_SCHEMAS];
  if (schema === undefined) throw corruptRecord(`consumer group record type ${type}`);
  let decoded: unknown = null;
  if (value !== null) {
    decoded = readRecord(value, `a consumer group record value of type ${type}`, (reader) => {
      const version = reader.readInt16();
      if (version !== VALUE_VERSION) throw corruptRecord(`consumer group record value version ${version}`);
      return decodeMessage(schema, VALUE_VERSION, value.subarray(2));
    });
  }
  return (WITH_MEMBER.has(type) ? { type, groupId, memberId, value: decoded } : { type, groupId, value: decoded }) as ConsumerGroupRecord;
}
