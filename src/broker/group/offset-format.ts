// Kafka's record formats in __consumer_offsets, byte for byte, so that Kafka's own tools can read
// our offsets topic and we can read theirs. All integers big-endian; a string is an int16 byte
// length then UTF-8 (flexible versions: an unsigned varint length + 1, then tagged fields).
//
//   key   (OffsetCommitKey, version 0 and 1 share a layout):
//         version int16 | group string | topic string | partition int32
//   value (OffsetCommitValue; we write version 3, read 0-4):
//         version int16 | offset int64 | leaderEpoch int32 (v3+) | metadata string
//         | commitTimestamp int64 | expireTimestamp int64 (v1 only) | tagged fields (v4)
//   A null value is a tombstone: the group's offset for that partition is gone.
//
// Key version 2 is a group's metadata (group-metadata-format.ts); other versions are skipped.
import { RecordWriter, corruptRecord, readRecord } from './record-fields.js';

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const OFFSET_COMMIT_VALUE_VERSION = 3;
/** Key version of Kafka's GroupMetadata records (group-metadata-format.ts). */
export const GROUP_METADATA_KEY_VERSION = 2;

export interface OffsetCommitKey {
  group: string;
  topic: string;
  partition: number;
}

export interface OffsetCommitValue {
  offset: number;
  /** -1 when the client did not send one. */
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
}

export function encodeOffsetCommitKey(key: OffsetCommitKey): Buffer {
  return new RecordWriter().int16(OFFSET_COMMIT_KEY_VERSION).string(key.group, 'group id').string(key.topic, 'topic').int32(key.partition).toBuffer();
}

export function encodeOffsetCommitValue(value: OffsetCommitValue): Buffer {
  return new RecordWriter()
    .int16(OFFSET_COMMIT_VALUE_VERSION)
    .int64(value.offset)
    .int32(value.leaderEpoch)
    .string(value.metadata, 'offset metadata')
    .int64(value.commitTimestamp)
    .toBuffer();
}

/** The key's version: 0 and 1 are offset commits, 2 group metadata. */
export function recordKeyVersion(key: Buffer): number {
  if (key.length < 2) throw corruptRecord('a key shorter than its version');
  return key.readInt16BE(0);
}

export function isOffsetCommitKey(key: Buffer): boolean {
  const version = recordKeyVersion(key);
  return version === 0 || version === 1;
}

export function decodeOffsetCommitKey(key: Buffer): OffsetCommitKey {
  return readRecord(key, 'an offset commit key', (reader) => {
    const version = reader.readInt16();
    if (version !== 0 && version !== 1) throw corruptRecord(`offset commit key version ${version}`);
    const group = reader.readString();
    const topic = reader.readString();
    const partition = reader.readInt32();
    return { group, topic, partition };
  });
}

export function decodeOffsetCommitValue(value: Buffer): OffsetCommitValue {
  return readRecord(value, 'an offset commit value', (reader) => {
    const version = reader.readInt16();
    if (version < 0 || version > 4) throw corruptRecord(`offset commit value version ${version}`);
    const offset = reader.readInt64();
    const leaderEpoch = version >= 3 ? reader.readInt32() : -1;
    const metadata = version >= 4 ? reader.readCompactString() : reader.readString();
    const commitTimestamp = reader.readInt64();
    // v1's expireTimestamp and v4's tagged fields follow; nothing we use.
    return { offset, leaderEpoch, metadata, commitTimestamp };
  });
}

/** Java's String.hashCode: over UTF-16 code units, as JS strings hold them, wrapping at 32 bits. */
export function javaStringHashCode(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(31, hash) + text.charCodeAt(i)) | 0;
  return hash;
}

/**
 * The __consumer_offsets partition of a group, as Kafka computes it
 * (Utils.abs(groupId.hashCode) % partitions, where Utils.abs maps MIN_VALUE to 0).
 */
export function offsetsPartitionFor(groupId: string, partitionCount: number): number {
  const hash = javaStringHashCode(groupId);
  return (hash === -0x80000000 ? 0 : Math.abs(hash)) % partitionCount;
}
