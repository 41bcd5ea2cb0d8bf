// The primitive fields of the coordinator's records in __consumer_offsets (offset-format.ts,
// group-metadata-format.ts), in Kafka's layouts: big-endian integers; a string is an int16 byte
// length then UTF-8 (-1: null); bytes an int32 length then the bytes; flexible versions use an
// unsigned-varint length + 1 instead (0: null) and end each struct with tagged fields. Readers
// throw CORRUPT_MESSAGE on a record that is shorter than its fields say.
import { SluiceError } from '../../errors.js';

/** An int16 length prefix caps every string at 32767 bytes. */
export const STRING_BYTES_MAX = 0x7fff;

export function corruptRecord(what: string): SluiceError {
  return new SluiceError('CORRUPT_MESSAGE', `__consumer_offsets: cannot read ${what}`);
}

/** UTF-8 bytes of a string field, refused when longer than an int16 length can say. */
export function utf8(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > STRING_BYTES_MAX) throw new SluiceError('INVALID_REQUEST', `The ${what} is ${bytes.length} bytes; at most ${STRING_BYTES_MAX} fit in an offsets record`);
  return bytes;
}

/** Builds a non-flexible record from its fields in order; sizes are known only at the end. */
export class RecordWriter {
  private readonly parts: Buffer[] = [];

  int16(value: number): this {
    const buf = Buffer.allocUnsafe(2);
    buf.writeInt16BE(value, 0);
    this.parts.push(buf);
    return this;
  }

  int32(value: number): this {
    const buf = Buffer.allocUnsafe(4);
    buf.writeInt32BE(value, 0);
    this.parts.push(buf);
    return this;
  }

  int64(value: number): this {
    const buf = Buffer.allocUnsafe(8);
    buf.writeBigInt64BE(BigInt(value), 0);
    this.parts.push(buf);
    return this;
  }

  string(text: string, what: string): this {
    const bytes = utf8(text, what);
    this.int16(bytes.length);
    this.parts.push(bytes);
    return this;
  }

  nullableString(text: string | null, what: string): this {
    return text === null ? this.int16(-1) : this.string(text, what);
  }

  bytes(bytes: Buffer): this {
    this.int32(bytes.length);
    this.parts.push(bytes);
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export class RecordReader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  private need(bytes: number): void {
    if (bytes < 0 || this.at + bytes > this.buf.length) throw corruptRecord('a truncated record');
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
    const text = this.nullableString();
    if (text === null) throw corruptRecord('a null string');
    return text;
  }

  nullableString(): string | null {
    const length = this.int16();
    return length < 0 ? null : this.text(length);
  }

  bytes(): Buffer {
    const length = this.int32();
    if (length < 0) return Buffer.alloc(0);
    return this.slice(length);
  }

  compactString(): string {
    const text = this.compactNullableString();
    if (text === null) throw corruptRecord('a null string');
    return text;
  }

  compactNullableString(): string | null {
    const lengthPlusOne = this.unsignedVarint();
    return lengthPlusOne === 0 ? null : this.text(lengthPlusOne - 1);
  }

  compactBytes(): Buffer {
    const lengthPlusOne = this.unsignedVarint();
    return lengthPlusOne === 0 ? Buffer.alloc(0) : this.slice(lengthPlusOne - 1);
  }

  /** Skips a tagged-field section: a count, then (tag, size, bytes) each. */
  skipTaggedFields(): void {
    const count = this.unsignedVarint();
    for (let i = 0; i < count; i++) {
      this.unsignedVarint();
      const size = this.unsignedVarint();
      this.slice(size);
    }
  }

  unsignedVarint(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      this.need(1);
      const byte = this.buf[this.at++]!;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value >>> 0;
      if (shift >= 28) throw corruptRecord('an over-long varint');
    }
  }

  private text(length: number): string {
    this.need(length);
    const text = this.buf.toString('utf8', this.at, this.at + length);
    this.at += length;
    return text;
  }

  private slice(length: number): Buffer {
    this.need(length);
    const bytes = Buffer.from(this.buf.subarray(this.at, this.at + length));
    this.at += length;
    return bytes;
  }
}
