// Kafka's variable-length integers (org.apache.kafka.common.utils.ByteUtils): LEB128 groups of
// 7 bits, least significant first, high bit set on every byte but the last.
//   unsigned varint  uint32, at most 5 bytes
//   varint           int32 zigzag-mapped ((n << 1) ^ (n >> 31)) so small negatives stay short
//   varlong          int64 zigzag-mapped, at most 10 bytes
//
// Varlongs are JS numbers exact to 2^53 (timestamps, deltas); the 64-bit arithmetic is done on
// two 32-bit words, because the zigzag value of a negative 53-bit number needs 54 bits, which a
// double cannot hold exactly. Values beyond 2^53 read back as the nearest double; the *BigInt
// variants are exact over the whole int64 range.
//
// Writers take (buf, at, value) and return the offset after the last byte written; they do not
// check bounds (callers size the buffer first with the sizeOf* functions). Readers go through a
// VarintReader, a cursor over a byte range: reading past its end, or a varint longer than 5
// (varlong 10) bytes, throws SluiceError('CORRUPT_MESSAGE'), never a RangeError.
import { SluiceError } from '../errors.js';
import { VARINT_BYTES_MAX, VARLONG_BYTES_MAX } from './batch-format.js';

const TWO_POW_32 = 4294967296;

/** int32 → its zigzag image as an unsigned 32-bit number. */
export function zigzagEncode32(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

/** The zigzag image (uint32) back to the int32. */
export function zigzagDecode32(value: number): number {
  return (value >>> 1) ^ -(value & 1);
}

/** Bytes of `value` (a uint32) as an unsigned varint: 1 to 5. */
export function sizeOfUnsignedVarint(value: number): number {
  const v = value >>> 0;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Bytes of `value` (an int32) as a zigzag varint: 1 to 5. */
export function sizeOfVarint(value: number): number {
  return sizeOfUnsignedVarint((value << 1) ^ (value >> 31));
}

/** Bytes of `value` (a safe integer) as a zigzag varlong: 1 to 10 (at most 8 within ±2^53). */
export function sizeOfVarlong(value: number): number {
  if ((value | 0) === value) return sizeOfUnsignedVarint((value << 1) ^ (value >> 31));
  const hi = highWord(value);
  const lo = (value - hi * TWO_POW_32) >>> 0;
  const zzHi = ((hi << 1) | (lo >>> 31)) ^ (hi >> 31);
  if (zzHi === 0) return sizeOfUnsignedVarint((lo << 1) ^ (hi >> 31));
  const bits = 64 - Math.clz32(zzHi);
  return Math.ceil(bits / 7);
}

/** Writes `value` (a uint32) as an unsigned varint at `at`; returns the offset after it. */
export function writeUnsignedVarint(buf: Uint8Array, at: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v;
  return at;
}

/** Writes `value` (an int32) as a zigzag varint at `at`; returns the offset after it. */
export function writeVarint(buf: Uint8Array, at: number, value: number): number {
  return writeUnsignedVarint(buf, at, (value << 1) ^ (value >> 31));
}

/** Writes `value` (a safe integer) as a zigzag varlong at `at`; returns the offset after it. */
export function writeVarlong(buf: Uint8Array, at: number, value: number): number {
  // Every int32 has the same zigzag image in 32 and 64 bits, and almost every varlong Kafka
  // writes (timestamp deltas) is one.
  if ((value | 0) === value) return writeUnsignedVarint(buf, at, (value << 1) ^ (value >> 31));
  if (!Number.isSafeInteger(value)) throw new RangeError(`varlong value ${value} is not a safe integer`);
  const hi = highWord(value);
  const lo = (value - hi * TWO_POW_32) >>> 0;
  return writeZigzagWords(buf, at, ((hi << 1) | (lo >>> 31)) ^ (hi >> 31), (lo << 1) ^ (hi >> 31));
}

/** Bytes of a bigint (an int64) as a zigzag varlong: 1 to 10. */
export function sizeOfVarlongBigInt(value: bigint): number {
  const zz = zigzagEncode64(value);
  let size = 1;
  for (let v = zz >> 7n; v !== 0n; v >>= 7n) size++;
  return size;
}

/** Writes a bigint (an int64) as a zigzag varlong at `at`; returns the offset after it. */
export function writeVarlongBigInt(buf: Uint8Array, at: number, value: bigint): number {
  const zz = zigzagEncode64(value);
  return writeZigzagWords(buf, at, Number(zz >> 32n) | 0, Number(zz & 0xffffffffn) | 0);
}

/** Decodes one unsigned varint at `at`: the value and the offset after it. Allocates a result. */
export function readUnsignedVarint(buf: Uint8Array, at = 0): { value: number; offset: number } {
  const reader = new VarintReader(buf, at);
  const value = reader.readUnsignedVarint();
  return { value, offset: reader.pos };
}

/** Decodes one zigzag varint at `at`: the value and the offset after it. Allocates a result. */
export function readVarint(buf: Uint8Array, at = 0): { value: number; offset: number } {
  const reader = new VarintReader(buf, at);
  const value = reader.readVarint();
  return { value, offset: reader.pos };
}

/** Decodes one zigzag varlong at `at`: the value and the offset after it. Allocates a result. */
export function readVarlong(buf: Uint8Array, at = 0): { value: number; offset: number } {
  const reader = new VarintReader(buf, at);
  const value = reader.readVarlong();
  return { value, offset: reader.pos };
}

/**
 * A cursor over bytes [pos, end) of a buffer. Every read checks the end and throws
 * SluiceError('CORRUPT_MESSAGE') naming the byte position (relative to the buffer) on bad input.
 */
export class VarintReader {
  pos: number;
  /** Exclusive end of the readable range; record decoding narrows it to one record at a time. */
  end: number;
  // The two 32-bit words of the last varlong read (its zigzag image), kept on the instance so
  // the number and bigint readers share one loop without allocating.
  private hi = 0;
  private lo = 0;

  constructor(
    public buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  /** Points the reader at bytes [start, end) of `buf`: one reader reused instead of one made per read. */
  reset(buf: Uint8Array, start: number, end: number): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  readUnsignedVarint(): number {
    const { buf, end } = this;
    let pos = this.pos;
    if (pos >= end) throw this.pastEnd(pos, 1);
    let b = buf[pos++];
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let value = b & 0x7f;
    for (let shift = 7; ; shift += 7) {
      if (pos >= end) throw this.pastEnd(pos, 1);
      b = buf[pos++];
      if (shift === 28) {
        // As ByteUtils.readUnsignedVarint: a fifth byte ends the varint, its bits above 32 drop.
        if (b >= 0x80) throw corrupt(`varint longer than ${VARINT_BYTES_MAX} bytes at byte ${this.pos}`);
        value |= b << 28;
        break;
      }
      value |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    this.pos = pos;
    return value >>> 0;
  }

  readVarint(): number {
    const u = this.readUnsignedVarint();
    return (u >>> 1) ^ -(u & 1);
  }

  readVarlong(): number {
    const { buf, end } = this;
    const pos = this.pos;
    if (pos < end && buf[pos] < 0x80) {
      const u = buf[pos];
      this.pos = pos + 1;
      return (u >>> 1) ^ -(u & 1);
    }
    this.readZigzagWords();
    const sign = -(this.lo & 1);
    const rLo = ((this.lo >>> 1) | (this.hi << 31)) ^ sign;
    const rHi = (this.hi >>> 1) ^ sign;
    return rHi * TWO_POW_32 + (rLo >>> 0);
  }

  readVarlongBigInt(): bigint {
    this.readZigzagWords();
    const zz = (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
    return (zz >> 1n) ^ -(zz & 1n);
  }

  readInt8(): number {
    if (this.pos >= this.end) throw this.pastEnd(this.pos, 1);
    const b = this.buf[this.pos++];
    return (b << 24) >> 24;
  }

  /** `length` bytes as a view of the underlying buffer (no copy); moves past them. */
  readBytes(length: number): Buffer {
    const pos = this.pos;
    if (length > this.end - pos) throw this.pastEnd(pos, length);
    this.pos = pos + length;
    const buf = this.buf;
    // A Buffer's own subarray makes the view in ~120 ns, Buffer.from(arrayBuffer, ...) in ~180 (its
    // argument checks): a fetch of 100 B records makes one a record.
    return Buffer.isBuffer(buf) ? buf.subarray(pos, pos + length) : Buffer.from(buf.buffer, buf.byteOffset + pos, length);
  }

  /** `length` bytes decoded as UTF-8; moves past them. */
  readUtf8(length: number): string {
    const pos = this.pos;
    if (length > this.end - pos) throw this.pastEnd(pos, length);
    this.pos = pos + length;
    const buf = this.buf;
    return Buffer.isBuffer(buf)
      ? buf.toString('utf8', pos, pos + length)
      : Buffer.from(buf.buffer, buf.byteOffset + pos, length).toString('utf8');
  }

  skip(length: number): void {
    if (length > this.end - this.pos) throw this.pastEnd(this.pos, length);
    this.pos += length;
  }

  private readZigzagWords(): void {
    const { buf, end } = this;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift > 63) throw corrupt(`varlong longer than ${VARLONG_BYTES_MAX} bytes at byte ${this.pos}`);
      if (pos >= end) throw this.pastEnd(pos, 1);
      const b = buf[pos++];
      const bits = b & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= bits << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (shift - 32);
      if (b < 0x80) break;
    }
    this.pos = pos;
    this.hi = hi;
    this.lo = lo;
  }

  private pastEnd(pos: number, wanted: number): SluiceError {
    return corrupt(`read of ${wanted} byte(s) at byte ${pos} runs past the end at byte ${this.end}`);
  }
}

function corrupt(message: string): SluiceError {
  return new SluiceError('CORRUPT_MESSAGE', message);
}

/** The signed high 32-bit word of a safe integer (floor(value / 2^32)). */
function highWord(value: number): number {
  return Math.floor(value / TWO_POW_32);
}

function zigzagEncode64(value: bigint): bigint {
  const v = BigInt.asIntN(64, value);
  return BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
}

/** Emits a 64-bit zigzag image given as two 32-bit words, 7 bits at a time. */
function writeZigzagWords(buf: Uint8Array, at: number, zzHi: number, zzLo: number): number {
  let hi = zzHi >>> 0;
  let lo = zzLo >>> 0;
  while (hi !== 0 || lo >= 0x80) {
    buf[at++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[at++] = lo;
  return at;
}
