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
// Key versions 2+ are other coordinator records (2 = GroupMetadata); readers skip them.
import { SluiceError } from '../../errors.js';

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const OFFSET_COMMIT_VALUE_VERSION = 3;
/** Key version of Kafka's GroupMetadata records (members, generation), which we do not write. */
export const GROUP_METADATA_KEY_VERSION = 2;

/** An int16 length prefix caps every string at 32767 bytes. */
const STRING_BYTES_MAX = 0x7fff;

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
  const group = utf8(key.group, 'group id');
  const topic = utf8(key.topic, 'topic');
  const buf = Buffer.allocUnsafe(2 + 2 + group.length + 2 + topic.length + 4);
  let at = buf.writeInt16BE(OFFSET_COMMIT_KEY_VERSION, 0);
  at = writeString(buf, at, group);
  at = writeString(buf, at, topic);
  buf.writeInt32BE(key.partition, at);
  return buf;
}

export function encodeOffsetCommitValue(value: OffsetCommitValue): Buffer {
  const metadata = utf8(value.metadata, 'offset metadata');
  const buf = Buffer.allocUnsafe(2 + 8 + 4 + 2 + metadata.length + 8);
  let at = buf.writeInt16BE(OFFSET_COMMIT_VALUE_VERSION, 0);
  at = buf.writeBigInt64BE(BigInt(value.offset), at);
  at = buf.writeInt32BE(value.leaderEpoch, at);
  at = writeString(buf, at, metadata);
  buf.writeBigInt64BE(BigInt(value.commitTimestamp), at);
  return buf;
}

/** The key's version; offset commits are 0 and 1. */
export function recordKeyVersion(key: Buffer): number {
  if (key.length < 2) throw corrupt('a key shorter than its version');
  return key.readInt16BE(0);
}

export function isOffsetCommitKey(key: Buffer): boolean {
  const version = recordKeyVersion(key);
  return version === 0 || version === 1;
}

export function decodeOffsetCommitKey(key: Buffer): OffsetCommitKey {
  const reader = new Reader(key);
  const version = reader.int16();
  if (version !== 0 && version !== 1) throw corrupt(`offset commit key version ${version}`);
  const group = reader.string();
  const topic = reader.string();
  const partition = reader.int32();
  return { group, topic, partition };
}

export function decodeOffsetCommitValue(value: Buffer): OffsetCommitValue {
  const reader = new Reader(value);
  const version = reader.int16();
  if (version < 0 || version > 4) throw corrupt(`offset commit value version ${version}`);
  const offset = reader.int64();
  const leaderEpoch = version >= 3 ? reader.int32() : -1;
  const metadata = version >= 4 ? reader.compactString() : reader.string();
  const commitTimestamp = reader.int64();
  // v1's expireTimestamp and v4's tagged fields follow; nothing we use.
  return { offset, leaderEpoch, metadata, commitTimestamp };
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

function utf8(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > STRING_BYTES_MAX) throw new SluiceError('INVALID_REQUEST', `The ${what} is ${bytes.length} bytes; at most ${STRING_BYTES_MAX} fit in an offsets record`);
  return bytes;
}

function writeString(buf: Buffer, at: number, bytes: Buffer): number {
  at = buf.writeInt16BE(bytes.length, at);
  return at + bytes.copy(buf, at);
}

function corrupt(what: string): SluiceError {
  return new SluiceError('CORRUPT_MESSAGE', `__consumer_offsets: cannot read ${what}`);
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  private need(bytes: number): void {
    if (this.at + bytes > this.buf.length) throw corrupt('a truncated record');
  }

  int16(): number {
    this.need(2);
    const value = this.buf.readInt16BE(this.at);
    this.at += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.buf.readInt32BE(this.at);
    this.at += 4;
    return value;
  }

  int64(): number {
    this.need(8);
    const value = Number(this.buf.readBigInt64BE(this.at));
    this.at += 8;
    return value;
  }

  string(): string {
    const length = this.int16();
    if (length < 0) throw corrupt('a null string');
    return this.bytes(length);
  }

  compactString(): string {
    let lengthPlusOne = 0;
    for (let shift = 0; ; shift += 7) {
      this.need(1);
      const byte = this.buf[this.at++]!;
      lengthPlusOne |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      if (shift >= 28) throw corrupt('an over-long varint');
    }
    if (lengthPlusOne === 0) throw corrupt('a null string');
    return this.bytes(lengthPlusOne - 1);
  }

  private bytes(length: number): string {
    this.need(length);
    const text = this.buf.toString('utf8', this.at, this.at + length);
    this.at += length;
    return text;
  }
}
