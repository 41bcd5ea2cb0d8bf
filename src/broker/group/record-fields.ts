// The primitive fields of the coordinator's records in __consumer_offsets (offset-format.ts,
// group-metadata-format.ts), in Kafka's layouts: big-endian integers; a string is an int16 byte
// length then UTF-8 (-1: null); bytes an int32 length then the bytes; flexible versions use an
// unsigned-varint length + 1 instead (0: null) and end each struct with tagged fields. Records are
// written here (RecordWriter) and read with the protocol's Reader (readRecord), whose errors become
// CORRUPT_MESSAGE.
import { SluiceError } from '../../errors.js';
import { ProtocolError } from '../../protocol/errors.js';
import { Reader } from '../../protocol/primitives.js';

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

/**
 * Reads one record with the protocol's Reader (src/protocol/primitives.ts), whose truncation and
 * length errors become CORRUPT_MESSAGE naming `what`: a record in the log is not a malformed frame.
 */
export function readRecord<T>(buffer: Buffer, what: string, read: (reader: Reader) => T): T {
  try {
    return read(new Reader(buffer));
  } catch (error) {
    if (error instanceof ProtocolError) throw corruptRecord(`${what}: ${error.message}`);
    throw error;
  }
}

/** Bytes a record keeps after the read (the record's own buffer may be reused); null reads as empty. */
export function ownBytes(bytes: Buffer | null): Buffer {
  return bytes === null ? Buffer.alloc(0) : Buffer.from(bytes);
}
