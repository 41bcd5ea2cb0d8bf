// A reusable cursor over the records of concatenated RecordBatch v2 batches (the bytes of
// engine.fetchBatches, a segment's `.log`, a Fetch response's records): each next() moves to the
// next record and sets plain number fields (offset, timestamp, where its key and value lie), so a
// walk allocates nothing per record. Keys, values and headers become objects only when asked for.
//
// Hand-written, not built on VarintReader/readRecord (record.ts), because this is the hot path of
// every embedded read: the generic decoder made an object, a headers array and a subarray view
// per key and value, and read each varint through a bounds-checked method call; over 1 MiB
// fetches of 100 B records it ran ~2.0-2.6M records/s of CPU, and a third of the decoding time
// was Buffer.subarray. Here varints take an inline one- or two-byte path (a 100 B record's
// length, deltas and value length are all one or two bytes), a record's headers are passed over
// with its length prefix instead of being parsed, and a key or value view is made with Node's own
// Buffer constructor (~40 ns, against ~120 ns for subarray's species lookup and argument checks).
// A walk reading each value's length costs ~30-40 ns a record of CPU; with an object and a value
// view a record (decode-records.ts, engine.fetch) ~145 ns, against ~400-600 before.
//
// What it checks: every length stays inside its record, every record inside its batch, a record's
// fields do not pass its length, and a batch holds exactly recordsCount records. A failure is
// SluiceError('CORRUPT_MESSAGE'), never a RangeError or a view past the batch. It does not check
// CRCs: the log checked each batch's CRC and record structure when it was appended.
import { SluiceError } from '../errors.js';
import { INFLATED_BATCH_BYTES_MAX } from '../limits.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_MIN,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  CONTROL_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  MAX_TIMESTAMP_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_MASK,
} from './batch-format.js';
import { AbortedTransactionFilter, type AbortedTransactionRef } from './aborted-transactions.js';
import { getCodec } from './compression.js';
import { HeaderKeys } from './header-keys.js';
import { VarintReader } from './varint.js';
import type { RecordHeader } from './record.js';

const TWO_POW_32 = 4294967296;

/**
 * The headers of every record that has none: one shared, frozen, empty array, so that a record
 * without headers costs no allocation. Pushing to it throws; copy it (`[...headers]`) to add to it.
 */
export const NO_HEADERS: RecordHeader[] = Object.freeze([]) as unknown as RecordHeader[];

// Node's own Buffer class for views (Buffer[Symbol.species] is its internal FastBuffer, whose
// prototype is Buffer.prototype): `new FastBuffer(arrayBuffer, byteOffset, length)` is exactly
// what buf.subarray() returns, without the species lookup and argument checks (~40 ns against
// ~120 ns a view on the 2-core machine). Checked once here; any other runtime gets subarray.
type ViewConstructor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer;
const FastBuffer = (Buffer as unknown as { [Symbol.species]: ViewConstructor })[Symbol.species];
const fastViews = (() => {
  try {
    const probe = new FastBuffer(new ArrayBuffer(4), 1, 2);
    return Buffer.isBuffer(probe) && Object.getPrototypeOf(probe) === Buffer.prototype && probe.byteOffset === 1 && probe.length === 2;
  } catch {
    return false;
  }
})();

function corrupt(message: string): SluiceError {
  return new SluiceError('CORRUPT_MESSAGE', message);
}

// The errors of RecordCursor.next(), built out of line: their template strings would otherwise
// add to next()'s bytecode, which V8 sizes up when it decides what to optimize and inline.
function badRecordLength(length: number, at: number, limit: number): SluiceError {
  return corrupt(`record length ${length} at byte ${at} does not fit the ${limit - at} bytes left in its batch`);
}

function pastRecord(what: string, length: number, at: number, recordEnd: number): SluiceError {
  return corrupt(`${what} of ${length} bytes at byte ${at} runs past its record's end at byte ${recordEnd}`);
}

function badHeaderCount(count: number, recordAt: number, bytesLeft: number): SluiceError {
  return corrupt(`record at byte ${recordAt}: header count ${count} does not match the ${bytesLeft} bytes left in it`);
}

function bytesAfterLastRecord(bytes: number, batchEnd: number): SluiceError {
  return corrupt(`${bytes} bytes follow the last record of the batch ending at byte ${batchEnd}`);
}

// The position after the last varint read by the slow readers below (one module slot instead of
// a result object: the readers run on the cursor's hot path and never re-enter).
let slowEnd = 0;

/** Reads the varints and varlongs that do not fit the cursor's fast paths (VarintReader's checks and messages). */
const slowReader = new VarintReader(new Uint8Array(0));

/** A zigzag varint at `at` of more than two bytes, or one near `limit`; sets slowEnd. */
function readVarintSlow(buf: Buffer, at: number, limit: number): number {
  const value = slowReader.reset(buf, at, limit).readVarint();
  slowEnd = slowReader.pos;
  return value;
}

/** A zigzag varlong at `at` (a JS number, exact to 2^53), ending before `limit`; sets slowEnd. */
function readVarlongSlow(buf: Buffer, at: number, limit: number): number {
  const value = slowReader.reset(buf, at, limit).readVarlong();
  slowEnd = slowReader.pos;
  return value;
}

export interface ReadRecordsOptions {
  /**
   * Records below this offset are passed over: a fetch returns whole batches, so the first may
   * begin before the offset asked for. Default: every record.
   */
  fromOffset?: number;
  /** Also walk control batches (transaction markers); default false, as engine.fetch. */
  includeControl?: boolean;
  /**
   * read_committed: the aborted transactions the bytes reach into (a Fetch response's list, or
   * engine.fetchBatches'); their records are passed over. Default: none.
   */
  abortedTransactions?: readonly AbortedTransactionRef[];
  /** Bound on a compressed batch's inflated size (default src/limits.ts INFLATED_BATCH_BYTES_MAX); beyond it, CORRUPT_MESSAGE. */
  maxDecompressedBytes?: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * Walks the records of the batches in a buffer. Use it as
 *
 *   const cursor = readRecords(batches, { fromOffset });
 *   while (cursor.next()) total += cursor.valueLength;
 *
 * and read the current record's fields between next() calls. `keyOffset`/`valueOffset` are
 * positions in `cursor.buffer`: the bytes given for an uncompressed batch, the batch's inflated
 * records for a compressed one (decompressed once per batch, with the codecs registered in
 * compression.ts; a codec without an implementation is UNSUPPORTED_COMPRESSION_TYPE). key(),
 * value() and headers() make views of those bytes (no copy) on demand.
 *
 * A batch cut short at the end of the bytes (a Fetch response may end with one) ends the walk, as
 * Kafka's consumers treat it; `truncatedBytes` then says how many bytes were left unread.
 */
export class RecordCursor {
  // ---- the current record (valid after next() returned true) -------------------------------
  offset = -1;
  /** Milliseconds since the epoch (the batch's append time when the topic uses LogAppendTime). */
  timestamp = -1;
  /** The bytes keyOffset, valueOffset and the headers are positions in. */
  buffer: Buffer = EMPTY;
  keyOffset = 0;
  /** -1 for a null key. */
  keyLength = -1;
  valueOffset = 0;
  /** -1 for a null value. */
  valueLength = -1;
  headerCount = 0;

  // ---- the current batch --------------------------------------------------------------------
  batchBaseOffset = -1;
  batchLastOffset = -1;
  /** The batch's attributes (codec in bits 0-2, timestamp type, transactional, control). */
  batchAttributes = 0;
  /** Bytes of a batch cut short at the end of the buffer, once the walk has ended; else 0. */
  truncatedBytes = 0;

  // `buffer`'s ArrayBuffer and byteOffset, read once per batch: the getters cost ~50 ns a view.
  private arrayBuffer: ArrayBufferLike = EMPTY.buffer;
  private arrayOffset = EMPTY.byteOffset;
  private bytes: Buffer = EMPTY;
  private end = 0;
  /** Where the next batch starts in `bytes`. */
  private nextBatchAt = 0;
  private pos = 0;
  private recordsEnd = 0;
  private recordsLeft = 0;
  private baseTimestamp = 0;
  /** The batch's LogAppendTime, or -1 when its records carry their own (CreateTime). */
  private logAppendTime = -1;
  private headersAt = 0;
  private fromOffset = -Infinity;
  private includeControl = false;
  private aborted: AbortedTransactionFilter | null = null;
  private maxDecompressedBytes = INFLATED_BATCH_BYTES_MAX;
  /** headers()' keys, decoded once while records repeat them (header-keys.ts). */
  private readonly headerKeys = new HeaderKeys();

  /** Starts a walk over `bytes` (whole batches back to back); returns the cursor. */
  reset(bytes: Uint8Array, options: ReadRecordsOptions = {}): this {
    this.bytes = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = bytes.length;
    this.nextBatchAt = 0;
    this.pos = 0;
    this.recordsEnd = 0;
    this.recordsLeft = 0;
    this.truncatedBytes = 0;
    this.fromOffset = options.fromOffset ?? -Infinity;
    this.includeControl = options.includeControl ?? false;
    this.aborted = options.abortedTransactions !== undefined && options.abortedTransactions.length > 0 ? new AbortedTransactionFilter(options.abortedTransactions) : null;
    this.maxDecompressedBytes = options.maxDecompressedBytes ?? INFLATED_BATCH_BYTES_MAX;
    this.clearRecord();
    return this;
  }

  /** No current record: key(), value() and headers() answer null, null and NO_HEADERS. */
  private clearRecord(): void {
    this.offset = -1;
    this.timestamp = -1;
    this.keyLength = -1;
    this.valueLength = -1;
    this.headerCount = 0;
  }

  /** read_committed: whether the batch at `at` is not of an aborted transaction (every batch, markers included, goes through the filter in order). */
  private keepCommitted(at: number, attributes: number): boolean {
    const bytes = this.bytes;
    const lastOffset = bytes.readInt32BE(at) * TWO_POW_32 + bytes.readUInt32BE(at + 4) + bytes.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
    const producerId = readInt64(bytes, at + PRODUCER_ID_OFFSET);
    return this.aborted!.keep(lastOffset, (attributes & CONTROL_MASK) !== 0, (attributes & TRANSACTIONAL_MASK) !== 0, producerId);
  }

  /** Moves to the next record at or past fromOffset; false at the end of the bytes. */
  next(): boolean {
    for (;;) {
      if (this.recordsLeft === 0 && !this.enterNextBatch()) return false;
      const buf = this.buffer;
      const limit = this.recordsEnd;
      let p = this.pos;
      let b: number;

      // length varint: one byte up to 63, two up to 8191 (a 100 B record takes two).
      let length: number;
      if (p + 1 < limit && (b = buf[p]!) < 0x80) {
        length = (b >>> 1) ^ -(b & 1);
        p += 1;
      } else if (p + 2 < limit && buf[p + 1]! < 0x80) {
        const u = (buf[p]! & 0x7f) | (buf[p + 1]! << 7);
        length = (u >>> 1) ^ -(u & 1);
        p += 2;
      } else {
        length = readVarintSlow(buf, p, limit);
        p = slowEnd;
      }
      const recordEnd = p + length;
      // 6: attributes, timestampDelta, offsetDelta, keyLength, valueLength, headerCount.
      if (length < 6 || recordEnd > limit) throw badRecordLength(length, p, limit);
      p += 1; // attributes, unused

      let timestampDelta: number;
      if ((b = buf[p]!) < 0x80) {
        timestampDelta = (b >>> 1) ^ -(b & 1);
        p += 1;
      } else {
        timestampDelta = readVarlongSlow(buf, p, recordEnd);
        p = slowEnd;
      }
      let offsetDelta: number;
      if (p < recordEnd && (b = buf[p]!) < 0x80) {
        offsetDelta = (b >>> 1) ^ -(b & 1);
        p += 1;
      } else if (p + 1 < recordEnd && buf[p + 1]! < 0x80) {
        const u = (buf[p]! & 0x7f) | (buf[p + 1]! << 7);
        offsetDelta = (u >>> 1) ^ -(u & 1);
        p += 2;
      } else {
        offsetDelta = readVarintSlow(buf, p, recordEnd);
        p = slowEnd;
      }
      let keyLength: number;
      if (p < recordEnd && (b = buf[p]!) < 0x80) {
        keyLength = (b >>> 1) ^ -(b & 1);
        p += 1;
      } else {
        keyLength = readVarintSlow(buf, p, recordEnd);
        p = slowEnd;
      }
      const keyOffset = p;
      if (keyLength > 0) {
        p += keyLength;
        if (p > recordEnd) throw pastRecord('key', keyLength, keyOffset, recordEnd);
      }
      let valueLength: number;
      if (p < recordEnd && (b = buf[p]!) < 0x80) {
        valueLength = (b >>> 1) ^ -(b & 1);
        p += 1;
      } else if (p + 1 < recordEnd && buf[p + 1]! < 0x80) {
        const u = (buf[p]! & 0x7f) | (buf[p + 1]! << 7);
        valueLength = (u >>> 1) ^ -(u & 1);
        p += 2;
      } else {
        valueLength = readVarintSlow(buf, p, recordEnd);
        p = slowEnd;
      }
      const valueOffset = p;
      if (valueLength > 0) {
        p += valueLength;
        if (p > recordEnd) throw pastRecord('value', valueLength, valueOffset, recordEnd);
      }
      let headerCount: number;
      if (p < recordEnd && (b = buf[p]!) < 0x80) {
        headerCount = (b >>> 1) ^ -(b & 1);
        p += 1;
      } else {
        headerCount = readVarintSlow(buf, p, recordEnd);
        p = slowEnd;
      }
      // Headers take at least 2 bytes each; with none, the fields must end the record exactly.
      if (headerCount < 0 || (headerCount === 0 ? p !== recordEnd : headerCount * 2 > recordEnd - p)) throw badHeaderCount(headerCount, recordEnd - length, recordEnd - p);
      this.pos = recordEnd;
      if (--this.recordsLeft === 0 && recordEnd !== limit) throw bytesAfterLastRecord(limit - recordEnd, limit);
      const offset = this.batchBaseOffset + offsetDelta;
      if (offset < this.fromOffset) continue;
      this.offset = offset;
      this.timestamp = this.logAppendTime === -1 ? this.baseTimestamp + timestampDelta : this.logAppendTime;
      this.keyOffset = keyOffset;
      this.keyLength = keyLength;
      this.valueOffset = valueOffset;
      this.valueLength = valueLength;
      this.headerCount = headerCount;
      this.headersAt = p;
      return true;
    }
  }

  /** The current record's key as a view of `buffer` (no copy), or null. */
  key(): Buffer | null {
    const length = this.keyLength;
    if (length < 0) return null;
    return fastViews ? new FastBuffer(this.arrayBuffer, this.arrayOffset + this.keyOffset, length) : this.buffer.subarray(this.keyOffset, this.keyOffset + length);
  }

  /** The current record's value as a view of `buffer` (no copy), or null. */
  value(): Buffer | null {
    const length = this.valueLength;
    if (length < 0) return null;
    return fastViews ? new FastBuffer(this.arrayBuffer, this.arrayOffset + this.valueOffset, length) : this.buffer.subarray(this.valueOffset, this.valueOffset + length);
  }

  /**
   * The current record's headers in the order they were produced, values as views of `buffer`;
   * NO_HEADERS (shared, frozen) when it has none. Parsed on each call.
   */
  headers(): RecordHeader[] {
    const count = this.headerCount;
    if (count === 0) return NO_HEADERS;
    const buf = this.buffer;
    const end = this.pos; // the record's end: next() left the cursor there
    let p = this.headersAt;
    const headers: RecordHeader[] = new Array(count);
    for (let h = 0; h < count; h++) {
      const keyLength = readVarintSlow(buf, p, end);
      p = slowEnd;
      if (keyLength < 0 || p + keyLength > end) throw corrupt(`header key of ${keyLength} bytes at byte ${p} does not fit its record`);
      const key = this.headerKeys.keyAt(h, buf, p, keyLength);
      p += keyLength;
      const valueLength = readVarintSlow(buf, p, end);
      p = slowEnd;
      if (valueLength > end - p) throw corrupt(`header value of ${valueLength} bytes at byte ${p} does not fit its record`);
      const value = valueLength < 0 ? null : fastViews ? new FastBuffer(this.arrayBuffer, this.arrayOffset + p, valueLength) : buf.subarray(p, p + valueLength);
      headers[h] = { key, value };
      if (valueLength > 0) p += valueLength;
    }
    if (p !== end) throw corrupt(`record ending at byte ${end}: its ${count} headers end at byte ${p}`);
    return headers;
  }

  /** Steps to the next batch with records to walk; false (and the walk's end) when there is none. */
  private enterNextBatch(): boolean {
    const bytes = this.bytes;
    const end = this.end;
    for (;;) {
      const at = this.nextBatchAt;
      const left = end - at;
      if (left === 0) return this.finish(0);
      if (left < BATCH_HEADER_BYTES) return this.finish(left);
      const batchLength = bytes.readInt32BE(at + BATCH_LENGTH_OFFSET);
      if (batchLength < BATCH_LENGTH_MIN) throw corrupt(`batchLength ${batchLength} at byte ${at + BATCH_LENGTH_OFFSET} is below the minimum ${BATCH_LENGTH_MIN}`);
      const sizeBytes = LOG_OVERHEAD + batchLength;
      if (sizeBytes > left) return this.finish(left);
      const magic = bytes[at + MAGIC_OFFSET];
      if (magic !== MAGIC_V2) throw corrupt(`magic ${magic} at byte ${at + MAGIC_OFFSET}, expected ${MAGIC_V2}`);
      this.nextBatchAt = at + sizeBytes;
      const attributes = bytes.readInt16BE(at + ATTRIBUTES_OFFSET);
      if (this.aborted !== null && !this.keepCommitted(at, attributes)) continue;
      if ((attributes & CONTROL_MASK) !== 0 && !this.includeControl) continue;
      const baseOffset = bytes.readInt32BE(at) * TWO_POW_32 + bytes.readUInt32BE(at + 4);
      const lastOffset = baseOffset + bytes.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      if (lastOffset < this.fromOffset) continue;
      const count = bytes.readInt32BE(at + RECORDS_COUNT_OFFSET);
      if (count < 0) throw corrupt(`negative recordsCount ${count} at byte ${at + RECORDS_COUNT_OFFSET}`);
      if (count === 0) continue;
      this.batchBaseOffset = baseOffset;
      this.batchLastOffset = lastOffset;
      this.batchAttributes = attributes;
      this.baseTimestamp = readInt64(bytes, at + BASE_TIMESTAMP_OFFSET);
      this.logAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0 ? readInt64(bytes, at + MAX_TIMESTAMP_OFFSET) : -1;
      const codecId = attributes & COMPRESSION_CODEC_MASK;
      if (codecId === 0) {
        this.setBuffer(bytes);
        this.pos = at + RECORDS_OFFSET;
        this.recordsEnd = at + sizeBytes;
      } else {
        const inflated = inflate(bytes, at, sizeBytes, codecId, this.maxDecompressedBytes);
        this.setBuffer(inflated);
        this.pos = 0;
        this.recordsEnd = inflated.length;
      }
      // 7: the smallest record (record.ts RECORD_BYTES_MIN).
      if (count * 7 > this.recordsEnd - this.pos) {
        throw corrupt(`batch at byte ${at}: recordsCount ${count} cannot fit in ${this.recordsEnd - this.pos} bytes of records`);
      }
      this.recordsLeft = count;
      return true;
    }
  }

  private setBuffer(buffer: Buffer): void {
    if (buffer === this.buffer) return;
    this.buffer = buffer;
    this.arrayBuffer = buffer.buffer;
    this.arrayOffset = buffer.byteOffset;
  }

  private finish(truncatedBytes: number): false {
    this.truncatedBytes = truncatedBytes;
    // Lets go of the caller's bytes: a cursor kept for reuse should not pin the last fetch.
    this.bytes = EMPTY;
    this.end = 0;
    this.nextBatchAt = 0;
    this.setBuffer(EMPTY);
    this.clearRecord();
    return false;
  }
}

function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}

function inflate(bytes: Buffer, at: number, sizeBytes: number, codecId: number, maxBytes: number): Buffer {
  const codec = getCodec(codecId); // UNSUPPORTED_COMPRESSION_TYPE when none is registered
  try {
    return codec.decompress(bytes.subarray(at + RECORDS_OFFSET, at + sizeBytes), maxBytes);
  } catch (error) {
    throw new SluiceError('CORRUPT_MESSAGE', `batch at byte ${at}: ${codec.name} records do not decompress: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });
  }
}

/** A cursor over the records of the batches in `bytes` (see RecordCursor). */
export function readRecords(bytes: Uint8Array, options?: ReadRecordsOptions): RecordCursor {
  return new RecordCursor().reset(bytes, options);
}
