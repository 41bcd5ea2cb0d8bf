// Kafka's GroupMetadata records in __consumer_offsets, byte for byte (GroupMetadataKey.json and
// GroupMetadataValue.json): what a coordinator needs to take a group over after a restart or a
// move, with its generation, protocol, leader and every member's subscription and assignment.
//
//   key   version int16 (2) | group string
//   value (we write version 3, read 0-4; 4 is flexible):
//         version int16 | protocolType string | generation int32 | protocol nullable string
//         | leader nullable string | currentStateTimestamp int64 (v2+)
//         | members int32 count, each:
//             memberId string | groupInstanceId nullable string (v3+) | clientId string
//             | clientHost string | rebalanceTimeout int32 (v1+) | sessionTimeout int32
//             | subscription bytes | assignment bytes
//   A null value is a tombstone: the group is gone.
import { GROUP_METADATA_KEY_VERSION } from './offset-format.js';
import { RecordWriter, corruptRecord, ownBytes, readRecord } from './record-fields.js';

export const GROUP_METADATA_VALUE_VERSION = 3;

export interface GroupMetadataMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  /** The member's metadata for the group's protocol. */
  subscription: Buffer;
  assignment: Buffer;
}

export interface GroupMetadataValue {
  protocolType: string;
  generationId: number;
  protocolName: string | null;
  leaderId: string | null;
  /** When the group entered its current state (-1: unknown): offsets of an Empty group expire from it. */
  currentStateTimestamp: number;
  members: GroupMetadataMember[];
}

export function isGroupMetadataKey(key: Buffer): boolean {
  return key.length >= 2 && key.readInt16BE(0) === GROUP_METADATA_KEY_VERSION;
}

export function encodeGroupMetadataKey(groupId: string): Buffer {
  return new RecordWriter().int16(GROUP_METADATA_KEY_VERSION).string(groupId, 'group id').toBuffer();
}

export function decodeGroupMetadataKey(key: Buffer): string {
  return readRecord(key, 'a group metadata key', (reader) => {
    const version = reader.readInt16();
    if (version !== GROUP_METADATA_KEY_VERSION) throw corruptRecord(`group metadata key version ${version}`);
    return reader.readString();
  });
}

export function encodeGroupMetadataValue(value: GroupMetadataValue): Buffer {
  const writer = new RecordWriter()
    .int16(GROUP_METADATA_VALUE_VERSION)
    .string(value.protocolType, 'protocol type')
    .int32(value.generationId)
    .nullableString(value.protocolName, 'protocol name')
    .nullableString(value.leaderId, 'leader id')
    .int64(value.currentStateTimestamp)
    .int32(value.members.length);
  for (const member of value.members) {
    writer
      .string(member.memberId, 'member id')
      .nullableString(member.groupInstanceId, 'group instance id')
      .string(member.clientId, 'client id')
      .string(member.clientHost, 'client host')
      .int32(member.rebalanceTimeoutMs)
      .int32(member.sessionTimeoutMs)
      .bytes(member.subscription)
      .bytes(member.assignment);
  }
  return writer.toBuffer();
}

export function decodeGroupMetadataValue(value: Buffer): GroupMetadataValue {
  return readRecord(value, 'a group metadata value', (reader) => {
    const version = reader.readInt16();
    if (version < 0 || version > 4) throw corruptRecord(`group metadata value version ${version}`);
    const flexible = version >= 4;
    const string = () => (flexible ? reader.readCompactString() : reader.readString());
    const nullableString = () => (flexible ? reader.readCompactNullableString() : reader.readNullableString());
    const bytes = () => ownBytes(flexible ? reader.readCompactNullableBytes() : reader.readNullableBytes());
    const protocolType = string();
    const generationId = reader.readInt32();
    const protocolName = nullableString();
    const leaderId = nullableString();
    const currentStateTimestamp = version >= 2 ? reader.readInt64() : -1;
    const count = flexible ? reader.readCompactArrayLength() : reader.readArrayLength();
    const members: GroupMetadataMember[] = [];
    for (let i = 0; i < count; i++) {
      const memberId = string();
      const groupInstanceId = version >= 3 ? nullableString() : null;
      const clientId = string();
      const clientHost = string();
      const rebalanceTimeoutMs = version >= 1 ? reader.readInt32() : -1;
      const sessionTimeoutMs = reader.readInt32();
      const subscription = bytes();
      const assignment = bytes();
      if (flexible) reader.readTaggedFields();
      // v0 had no rebalance timeout: Kafka takes the session timeout for it.
      members.push({ memberId, groupInstanceId, clientId, clientHost, rebalanceTimeoutMs: rebalanceTimeoutMs < 0 ? sessionTimeoutMs : rebalanceTimeoutMs, sessionTimeoutMs, subscription, assignment });
    }
    return { protocolType, generationId, protocolName, leaderId, currentStateTimestamp, members };
  });
}
