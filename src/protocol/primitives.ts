// Kafka's primitive wire types: a bounds-checked Reader over a frame and a Writer into one
// pre-sized allocation.
//
// All integers are big-endian. The grammar (Kafka protocol guide, KIP-482 for the compact forms):
//   int8/int16/int32/int64, uint16/uint32, float64     fixed width, two's complement / IEEE 754
//   boolean                                            int8, 0 = false, anything else = true
//   string / nullable string                           int16 length (-1 = null) + UTF-8
//   bytes / nullable bytes                             int32 length (-1 = null) + bytes
//   array / nullable array                             int32 count  (-1 = null) + elements
//   compact string/bytes/array                         unsigned varint (length + 1, 0 = null) + ...
//   unsigned varint                                    LEB128, at most 5 bytes for 32 bits
//   varint / varlong                                   zigzag then LEB128 (5 / 10 bytes)
//   uuid                                               16 bytes; here the canonical 8-4-4-4-12 hex string
//   tagged fields (flexible versions)                  uvarint count, then per field: uvarint tag,
//                                                      uvarint size, `size` bytes of value
//
// Reading: every read checks the remaining bytes first and throws ProtocolError('MALFORMED_FRAME')
// on truncation, negative lengths (other than -1 where null is allowed), lengths larger than what
// is left, and over-long varints; a Buffer RangeError never escapes. Byte fields come back as
// subarrays of the frame (no copy): callers that keep one past the frame's life copy it.
//
// int64 is a JS number, exact to 2^53 (offsets are bounded by OFFSET_MAX = 2^53 - 1 in
// src/limits.ts); the *BigInt variants exist for the rare value that needs all 64 bits.
//
// Writing: the schema layer first computes the exact size of a message, then writes it into one
// Buffer.allocUnsafe of that size (measured against a doubling buffer, see schema.ts). A FileRegion
// (a range of a segment file for sendfile) is not copied: the Writer cuts its buffer there and
// hands back `[bytes, region, bytes, ...]`, so consecutive bytes always stay one Buffer.
import type { FileRegion } from '../native/binding.js';
import { ProtocolError } from './errors.js';

const TWO_POW_32 = 2 ** 32;
const INT16_MAX = 0x7fff;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The all-zero uuid, Kafka's default (Uuid.ZERO_UUID). */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

function malformed(message: string): ProtocolError {
  return new ProtocolError('MALFORMED_FRAME', message);
}

function encodeError(message: string): ProtocolError {
  return new ProtocolError('ENCODE_ERROR', message);
}

/** Zigzag-decodes the LEB128 bytes buffer[start, end) as a 64-bit signed bigint. */
function zigzagDecode64(buffer: Buffer, start: number, end: number): bigint {
  let value = 0n;
  let shift = 0n;
  for (let o = start; o < end; o++, shift += 7n) value |= BigInt(buffer[o]! & 0x7f) << shift;
  value = BigInt.asUintN(64, value);
  return (value >> 1n) ^ -(value & 1n);
}

export function isFileRegion(value: unknown): value is FileRegion {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Uint8Array) &&
    typeof (value as FileRegion).fd === 'number' &&
    typeof (value as FileRegion).position === 'number' &&
    typeof (value as FileRegion).count === 'number'
  );
}

/** A cursor over `buffer[offset, end)`. */
export class Reader {
  readonly buffer: Buffer;
  offset: number;
  readonly end: number;

  constructor(buffer: Buffer, offset = 0, end = buffer.length) {
    if (!Number.isInteger(offset) || !Number.isInteger(end) || offset < 0 || end > buffer.length || offset > end) {
      throw malformed(`reader bounds [${offset}, ${end}) outside a ${buffer.length}-byte buffer`);
    }
    this.buffer = buffer;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** Moves past `count` bytes and returns where they start. */
  private take(count: number, what: string): number {
    const start = this.offset;
    if (count > this.end - start) {
      throw malformed(`truncated ${what}: needs ${count} bytes at offset ${start}, ${this.end - start} left`);
    }
    this.offset = start + count;
    return start;
  }

  skip(count: number): void {
    if (count < 0) throw malformed(`negative skip ${count}`);
    this.take(count, 'bytes');
  }

  /** A reader over the next `count` bytes (which this reader moves past). */
  subReader(count: number): Reader {
    const start = this.take(count, 'field');
    return new Reader(this.buffer, start, start + count);
  }

  readInt8(): number {
    return (this.buffer[this.take(1, 'int8')]! << 24) >> 24;
  }

  readUInt8(): number {
    return this.buffer[this.take(1, 'uint8')]!;
  }

  readBoolean(): boolean {
    return this.buffer[this.take(1, 'boolean')] !== 0;
  }

  readInt16(): number {
    const o = this.take(2, 'int16');
    const b = this.buffer;
    return (((b[o]! << 8) | b[o + 1]!) << 16) >> 16;
  }

  readUInt16(): number {
    const o = this.take(2, 'uint16');
    const b = this.buffer;
    return (b[o]! << 8) | b[o + 1]!;
  }

  readInt32(): number {
    const o = this.take(4, 'int32');
    const b = this.buffer;
    return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  }

  readUInt32(): number {
    return this.readInt32() >>> 0;
  }

  /** int64 as a number: exact for |value| <= 2^53, rounded beyond. */
  readInt64(): number {
    const o = this.take(8, 'int64');
    const b = this.buffer;
    const high = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
    const low = ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0;
    return high * TWO_POW_32 + low;
  }

  readInt64BigInt(): bigint {
    return this.buffer.readBigInt64BE(this.take(8, 'int64'));
  }

  readFloat64(): number {
    return this.buffer.readDoubleBE(this.take(8, 'float64'));
  }

  /** Unsigned LEB128 of at most 5 bytes (32 bits), as Kafka's ByteUtils.readUnsignedVarint. */
  readUnsignedVarint(): number {
    const b = this.buffer;
    const end = this.end;
    let o = this.offset;
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (o >= end) throw malformed(`truncated varint at offset ${this.offset}`);
      const byte = b[o++]!;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        this.offset = o;
        return value >>> 0;
      }
    }
    if (o >= end) throw malformed(`truncated varint at offset ${this.offset}`);
    const last = b[o++]!;
    if (last > 0x0f) throw malformed(`varint longer than 32 bits at offset ${this.offset}`);
    this.offset = o;
    return (value | (last << 28)) >>> 0;
  }

  /** Zigzag varint (32 bits). */
  readVarint(): number {
    const u = this.readUnsignedVarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Zigzag varlong (64 bits, at most 10 bytes) as a number: exact for |value| <= 2^53. */
  readVarlong(): number {
    const b = this.buffer;
    const end = this.end;
    const start = this.offset;
    let o = start;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (o >= end) throw malformed(`truncated varlong at offset ${start}`);
      const byte = b[o++]!;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        this.offset = o;
        // Up to 7 bytes (49 bits) the double is exact; beyond, redo it in bigint.
        if (i >= 7) return Number(zigzagDecode64(b, start, o));
        // Zigzag: even -> value / 2, odd -> -(value + 1) / 2.
        return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      }
      scale *= 128;
    }
    throw malformed(`varlong longer than 64 bits at offset ${start}`);
  }

  private utf8(length: number, what: string): string {
    const start = this.take(length, what);
    return this.buffer.toString('utf8', start, start + length);
  }

  readNullableString(): string | null {
    const length = this.readInt16();
    if (length < 0) {
      if (length === -1) return null;
      throw malformed(`negative string length ${length}`);
    }
    return this.utf8(length, 'string');
  }

  readString(): string {
    const value = this.readNullableString();
    if (value === null) throw malformed('null in a non-nullable string');
    return value;
  }

  readCompactNullableString(): string | null {
    const lengthPlusOne = this.readUnsignedVarint();
    if (lengthPlusOne === 0) return null;
    if (lengthPlusOne - 1 > INT16_MAX) throw malformed(`compact string length ${lengthPlusOne - 1} above 32767`);
    return this.utf8(lengthPlusOne - 1, 'compact string');
  }

  readCompactString(): string {
    const value = this.readCompactNullableString();
    if (value === null) throw malformed('null in a non-nullable compact string');
    return value;
  }

  /** Subarray of the frame (no copy), or null. */
  readNullableBytes(): Buffer | null {
    const length = this.readInt32();
    if (length < 0) {
      if (length === -1) return null;
      throw malformed(`negative bytes length ${length}`);
    }
    const start = this.take(length, 'bytes');
    return this.buffer.subarray(start, start + length);
  }

  readBytes(): Buffer {
    const value = this.readNullableBytes();
    if (value === null) throw malformed('null in non-nullable bytes');
    return value;
  }

  readCompactNullableBytes(): Buffer | null {
    const lengthPlusOne = this.readUnsignedVarint();
    if (lengthPlusOne === 0) return null;
    const start = this.take(lengthPlusOne - 1, 'compact bytes');
    return this.buffer.subarray(start, start + lengthPlusOne - 1);
  }

  readCompactBytes(): Buffer {
    const value = this.readCompactNullableBytes();
    if (value === null) throw malformed('null in non-nullable compact bytes');
    return value;
  }

  readUuid(): string {
    const start = this.take(16, 'uuid');
    const hex = this.buffer.toString('hex', start, start + 16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /**
   * An int32 element count: -1 for null, otherwise at most the bytes left (each element takes at
   * least one byte), as Kafka checks, so a forged count cannot make us allocate a huge array.
   */
  readArrayLength(): number {
    const length = this.readInt32();
    if (length < -1) throw malformed(`negative array length ${length}`);
    if (length > this.end - this.offset) {
      throw malformed(`array length ${length} larger than the ${this.end - this.offset} bytes left`);
    }
    return length;
  }

  /** A compact (uvarint + 1) element count, -1 for null; same bound as readArrayLength. */
  readCompactArrayLength(): number {
    const length = this.readUnsignedVarint() - 1;
    if (length > this.end - this.offset) {
      throw malformed(`compact array length ${length} larger than the ${this.end - this.offset} bytes left`);
    }
    return length;
  }

  readNullableArray<T>(readElement: (reader: Reader) => T): T[] | null {
    const length = this.readArrayLength();
    if (length === -1) return null;
    const out = new Array<T>(length);
    for (let i = 0; i < length; i++) out[i] = readElement(this);
    return out;
  }

  readArray<T>(readElement: (reader: Reader) => T): T[] {
    const value = this.readNullableArray(readElement);
    if (value === null) throw malformed('null in a non-nullable array');
    return value;
  }

  readCompactNullableArray<T>(readElement: (reader: Reader) => T): T[] | null {
    const length = this.readCompactArrayLength();
    if (length === -1) return null;
    const out = new Array<T>(length);
    for (let i = 0; i < length; i++) out[i] = readElement(this);
    return out;
  }

  readCompactArray<T>(readElement: (reader: Reader) => T): T[] {
    const value = this.readCompactNullableArray(readElement);
    if (value === null) throw malformed('null in a non-nullable compact array');
    return value;
  }

  /**
   * A tagged-field section. `onField(tag, reader)` gets a reader bounded to the field's bytes and
   * returns whether it knew the tag; unknown fields are skipped either way.
   */
  readTaggedFields(onField?: (tag: number, reader: Reader) => void): void {
    const count = this.readUnsignedVarint();
    if (count > this.end - this.offset) throw malformed(`tagged field count ${count} larger than the bytes left`);
    for (let i = 0; i < count; i++) {
      const tag = this.readUnsignedVarint();
      const size = this.readUnsignedVarint();
      const field = this.subReader(size);
      if (onField !== undefined) onField(tag, field);
    }
  }
}

// ---- sizes ----------------------------------------------------------------------------------

export function sizeOfUnsignedVarint(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

export function sizeOfVarint(value: number): number {
  return sizeOfUnsignedVarint(((value << 1) ^ (value >> 31)) >>> 0);
}

export function sizeOfVarlong(value: number): number {
  // Bits of the zigzag value: 2|v| for v >= 0, 2|v| - 1 for v < 0; 7 bits per byte.
  const magnitude = value >= 0 ? value : -value - 1;
  let size = 1;
  for (let rest = magnitude * 2; rest >= 128; rest = Math.floor(rest / 128)) size++;
  return size;
}

/** int16 length + UTF-8 bytes. */
export function sizeOfString(value: string | null): number {
  return value === null ? 2 : 2 + Buffer.byteLength(value, 'utf8');
}

/** uvarint (length + 1) + UTF-8 bytes. */
export function sizeOfCompactString(value: string | null): number {
  if (value === null) return 1;
  const length = Buffer.byteLength(value, 'utf8');
  return sizeOfUnsignedVarint(length + 1) + length;
}

export function sizeOfBytes(value: Uint8Array | null): number {
  return value === null ? 4 : 4 + value.length;
}

export function sizeOfCompactBytes(value: Uint8Array | null): number {
  return value === null ? 1 : sizeOfUnsignedVarint(value.length + 1) + value.length;
}

// ---- writer ---------------------------------------------------------------------------------

export interface WriterOptions {
  /** Whether FileRegions may be written (responses, for sendfile); requests must be one Buffer. */
  allowRegions?: boolean;
}

/**
 * Writes into a Buffer of exactly the measured size. Integer values are not range-checked here:
 * the schema layer validates every value in its size pass, before anything is written. Writing
 * past the end is caught by finish() (a codec bug, reported as a plain Error).
 */
export class Writer {
  readonly buffer: Buffer;
  offset = 0;
  private readonly allowRegions: boolean;
  private parts: Array<Buffer | FileRegion> | null = null;
  private segmentStart = 0;

  constructor(capacityOrBuffer: number | Buffer, options: WriterOptions = {}) {
    this.buffer = typeof capacityOrBuffer === 'number' ? Buffer.allocUnsafe(capacityOrBuffer) : capacityOrBuffer;
    this.allowRegions = options.allowRegions ?? false;
  }

  // Integers are stored byte by byte: 5x faster than Buffer#writeInt32BE, whose argument checks
  // duplicate the schema layer's (which validates every value before writing). Writes past the
  // end are dropped by the typed array and caught by finish().

  writeInt8(value: number): void {
    this.buffer[this.offset++] = value;
  }

  writeUInt8(value: number): void {
    this.buffer[this.offset++] = value;
  }

  writeBoolean(value: boolean): void {
    this.buffer[this.offset++] = value ? 1 : 0;
  }

  writeInt16(value: number): void {
    const b = this.buffer;
    const o = this.offset;
    b[o] = value >>> 8;
    b[o + 1] = value;
    this.offset = o + 2;
  }

  writeUInt16(value: number): void {
    this.writeInt16(value);
  }

  writeInt32(value: number): void {
    const b = this.buffer;
    const o = this.offset;
    b[o] = value >>> 24;
    b[o + 1] = value >>> 16;
    b[o + 2] = value >>> 8;
    b[o + 3] = value;
    this.offset = o + 4;
  }

  writeUInt32(value: number): void {
    this.writeInt32(value);
  }

  /** int64 from a number (any integer within ±2^63) or a bigint. */
  writeInt64(value: number | bigint): void {
    if (typeof value === 'bigint') {
      this.offset = this.buffer.writeBigInt64BE(value, this.offset);
    } else if (Number.isSafeInteger(value)) {
      const high = Math.floor(value / TWO_POW_32);
      this.writeInt32(high);
      this.writeInt32(value - high * TWO_POW_32);
    } else if (Number.isInteger(value)) {
      this.offset = this.buffer.writeBigInt64BE(BigInt(value), this.offset);
    } else {
      throw encodeError(`int64 value ${value} is not an integer`);
    }
  }

  writeFloat64(value: number): void {
    this.offset = this.buffer.writeDoubleBE(value, this.offset);
  }

  writeUnsignedVarint(value: number): void {
    const b = this.buffer;
    let v = value >>> 0;
    if (v !== value) throw encodeError(`unsigned varint ${value} outside [0, 2^32)`);
    while (v >= 0x80) {
      b[this.offset++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[this.offset++] = v;
  }

  writeVarint(value: number): void {
    this.writeUnsignedVarint(((value << 1) ^ (value >> 31)) >>> 0);
  }

  writeVarlong(value: number): void {
    if (!Number.isSafeInteger(value)) throw encodeError(`varlong ${value} is not a safe integer`);
    const b = this.buffer;
    if (value >= 2 ** 52 || value <= -(2 ** 52)) {
      // 2 * |value| would not be exact as a double: zigzag in bigint.
      let zigzag = BigInt.asUintN(64, (BigInt(value) << 1n) ^ (BigInt(value) >> 63n));
      while (zigzag >= 128n) {
        b[this.offset++] = Number(zigzag & 0x7fn) | 0x80;
        zigzag >>= 7n;
      }
      b[this.offset++] = Number(zigzag);
      return;
    }
    let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
    while (zigzag >= 128) {
      b[this.offset++] = (zigzag % 128) | 0x80;
      zigzag = Math.floor(zigzag / 128);
    }
    b[this.offset++] = zigzag;
  }

  /** int16 length + UTF-8. The string is written first, its length then filled in before it. */
  writeNullableString(value: string | null): void {
    if (value === null) {
      this.writeInt16(-1);
      return;
    }
    const start = this.offset;
    const length = this.buffer.write(value, start + 2, 'utf8');
    if (length > INT16_MAX) throw encodeError(`string of ${length} bytes above the 32767-byte limit`);
    this.writeInt16(length);
    this.offset = start + 2 + length;
  }

  writeString(value: string): void {
    this.writeNullableString(value);
  }

  writeCompactNullableString(value: string | null): void {
    if (value === null) {
      this.buffer[this.offset++] = 0;
      return;
    }
    const length = Buffer.byteLength(value, 'utf8');
    if (length > INT16_MAX) throw encodeError(`string of ${length} bytes above the 32767-byte limit`);
    this.writeUnsignedVarint(length + 1);
    this.offset += this.buffer.write(value, this.offset, 'utf8');
  }

  writeCompactString(value: string): void {
    this.writeCompactNullableString(value);
  }

  writeRaw(bytes: Uint8Array): void {
    this.buffer.set(bytes, this.offset);
    this.offset += bytes.length;
  }

  writeNullableBytes(value: Uint8Array | null): void {
    if (value === null) {
      this.writeInt32(-1);
      return;
    }
    this.writeInt32(value.length);
    this.writeRaw(value);
  }

  writeBytes(value: Uint8Array): void {
    this.writeNullableBytes(value);
  }

  writeCompactNullableBytes(value: Uint8Array | null): void {
    if (value === null) {
      this.buffer[this.offset++] = 0;
      return;
    }
    this.writeUnsignedVarint(value.length + 1);
    this.writeRaw(value);
  }

  writeCompactBytes(value: Uint8Array): void {
    this.writeCompactNullableBytes(value);
  }

  writeUuid(value: string): void {
    if (typeof value !== 'string' || !UUID_PATTERN.test(value)) {
      throw encodeError(`uuid ${String(value)} is not in the canonical 8-4-4-4-12 hex form`);
    }
    const b = this.buffer;
    let o = this.offset;
    for (let i = 0; i < 36; i += 2) {
      if (i === 8 || i === 13 || i === 18 || i === 23) i++;
      b[o++] = parseInt(value.slice(i, i + 2), 16);
    }
    this.offset = o;
  }

  writeArrayLength(length: number | null): void {
    this.writeInt32(length === null ? -1 : length);
  }

  writeCompactArrayLength(length: number | null): void {
    this.writeUnsignedVarint(length === null ? 0 : length + 1);
  }

  /** An empty tagged-field section. */
  writeEmptyTaggedFields(): void {
    this.buffer[this.offset++] = 0;
  }

  /** A file region, passed through to the output parts without being read. */
  writeRegion(region: FileRegion): void {
    if (!this.allowRegions) throw encodeError('a FileRegion cannot be encoded here (only in responses)');
    if (this.parts === null) this.parts = [];
    if (this.offset > this.segmentStart) this.parts.push(this.buffer.subarray(this.segmentStart, this.offset));
    if (region.count > 0) this.parts.push(region);
    this.segmentStart = this.offset;
  }

  /** The written parts: Buffers (never two in a row) and FileRegions, in order. */
  finish(): Array<Buffer | FileRegion> {
    if (this.offset !== this.buffer.length) {
      // The measured size and the written bytes disagree: a bug in the codec, not bad input.
      throw new Error(`protocol writer: wrote ${this.offset} bytes into a ${this.buffer.length}-byte buffer`);
    }
    if (this.parts === null) return [this.buffer];
    if (this.offset > this.segmentStart) this.parts.push(this.buffer.subarray(this.segmentStart, this.offset));
    return this.parts;
  }
}
