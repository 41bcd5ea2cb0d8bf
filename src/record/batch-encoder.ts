// Encoding records into RecordBatch v2 (layout in batch-format.ts) in one pass, into one reusable
// buffer. Per record: bound its fields (a Buffer's length, a string's at 3 bytes a unit), then
// write them straight behind a length prefix sized from that bound; headers are checked and
// bounded one by one as they are written, so a record's headers are walked once. The batch header
// and the CRC are written last, once per batch. Nothing is allocated per record.
//
// Why it is shaped this way (engine.produce of 1,000 records of 100 B a call, 2-core machine):
// the two-pass encoder it replaces cost ~500 us a batch (a sizing pass pushing every length into a
// scratch array, a second pass reading them back, Buffer.write for every short string) and left
// a fresh 110 KB buffer per batch to the garbage collector. Here a short ASCII string (a key, a
// header key) is measured and copied by a charCodeAt loop: Buffer.write costs ~160 ns a call
// whatever the length, the loop ~5 ns for 10 characters.
//
// A BatchEncoder's buffer is reused: a batch it returns is a view that stays valid until the next
// reset() and encode(). Callers that keep batches (a producer's in-flight requests) copy them, as
// encodeBatch() does; the engine appends them before it encodes again.
import { binding } from '../native/binding.js';
import { SluiceError } from '../errors.js';
import { ENCODE_BUFFER_BYTES_INITIAL, ENCODE_BUFFER_BYTES_RETAINED_MAX } from '../limits.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_OFFSET,
  CONTROL_MASK,
  CRC_OFFSET,
  CRC_START_OFFSET,
  CompressionId,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_MASK,
  VARINT_BYTES_MAX,
  type CompressionName,
} from './batch-format.js';
import { getCodec } from './compression.js';
import type { RecordData, RecordInput } from './record.js';
import type { RecordsSummary } from './record-walk.js';
import { sizeOfVarlong, writeVarlong } from './varint.js';

export type TimestampType = 'create' | 'logAppend';

export interface EncodeBatchOptions {
  baseOffset?: number;
  compression?: CompressionName;
  /** The codec's level (Kafka's compression.<codec>.level); omitted, the codec's default. */
  compressionLevel?: number;
  /**
   * 'logAppend' sets attribute bit 3 and maxTimestamp = `now` (what a broker with
   * message.timestamp.type=LogAppendTime writes); record deltas still hold the given timestamps.
   */
  timestampType?: TimestampType;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  partitionLeaderEpoch?: number;
  transactional?: boolean;
  /** Marks a control batch (transaction markers); the records must then be control records. */
  control?: boolean;
  /** Timestamp for records without one, and the LogAppendTime; defaults to Date.now(). */
  now?: number;
}

/**
 * What walkRecords() would find in the records of the batch encode() just returned (uncompressed),
 * and how many records have a null key: the encoder knows it without reading its bytes back.
 */
export interface EncodedRecordsSummary extends RecordsSummary {
  keylessCount: number;
}

const TWO_POW_32 = 4294967296;

/**
 * Strings shorter than this many UTF-16 units are copied in JS when they are ASCII (keys, header
 * keys, ids): Buffer.byteLength and Buffer.write cost ~40 and ~100-160 ns a call, the loop a few ns
 * a character. 63 is the longest length whose varint is one byte, which is what lets the loop
 * write the string before knowing it is ASCII.
 */
const SHORT_STRING_UNITS = 64;

/** Below this many bytes a byte loop beats Uint8Array.set, whose call costs ~40 ns. */
const SHORT_COPY_BYTES = 16;

function invalidRecord(message: string): SluiceError {
  return new SluiceError('INVALID_RECORD', message);
}

function writeInt64(buf: Buffer, at: number, value: number, what: string): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what} ${value} is not a safe integer`);
  const hi = Math.floor(value / TWO_POW_32);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(value - hi * TWO_POW_32, at + 4);
}

function int32Option(value: number, what: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} ${value} is not an integer in [${min}, ${max}]`);
  }
  return value;
}

/**
 * Bytes a key, value or header value takes at most, its length prefix included (1 for null): a
 * string's UTF-8 is at most 3 bytes a UTF-16 unit. Throws INVALID_RECORD for other types.
 */
function dataBytesMax(data: RecordData | undefined, what: string, index: number): number {
  if (data === null || data === undefined) return 1;
  if (typeof data === 'string') return VARINT_BYTES_MAX + 3 * data.length;
  if (data instanceof Uint8Array) return sizeOfLength(data.length) + data.length;
  throw invalidRecord(`record ${index}: ${what} must be a Buffer, a string or null, not ${typeof data}`);
}

// dataBytesMax with the type a field most often has tested first: a key or header value is most
// often a string, a value bytes. Encoding 1,000 keyed records with two headers (bench/engine-
// produce's shape) took 136-142 us a batch this way against 152-153 through dataBytesMax alone
// (the two alternating in one process, min of 16 rounds).
function keyBytesMax(key: RecordData | undefined, index: number): number {
  return typeof key === 'string' ? VARINT_BYTES_MAX + 3 * key.length : dataBytesMax(key, 'key', index);
}

function valueBytesMax(value: RecordData | undefined, index: number): number {
  return value instanceof Uint8Array ? sizeOfLength(value.length) + value.length : dataBytesMax(value, 'value', index);
}

function headerValueBytesMax(value: RecordData | undefined, index: number): number {
  return typeof value === 'string' ? VARINT_BYTES_MAX + 3 * value.length : dataBytesMax(value, 'header value', index);
}

function headerKeyBytesMax(key: unknown, index: number): number {
  if (typeof key !== 'string') throw invalidRecord(`record ${index}: header keys must be strings`);
  return VARINT_BYTES_MAX + 3 * key.length;
}

type HeaderList = ReadonlyArray<{ key: string; value: RecordData | undefined }>;
type HeaderObject = { readonly [key: string]: RecordData | undefined | readonly RecordData[] };
const hasOwn = Object.prototype.hasOwnProperty;

function invalidTimestamp(timestamp: unknown, index: number): SluiceError {
  return invalidRecord(`record ${index}: timestamp ${timestamp} is not an integer number of milliseconds >= -1`);
}

/**
 * Throws INVALID_RECORD, naming `index`, for what encode() would refuse in the record itself: it
 * is not an object; a key, value or header value is not a Buffer, a string or null; a header key
 * is not a string; a timestamp is not an integer >= -1. For callers that take records now and
 * encode them later (a producer's batches hold several calls' records), so that a malformed
 * record fails its own call, as Kafka's producer throws a record's serialization error from send().
 */
export function checkRecord(record: RecordInput, index: number): void {
  if (record === null || typeof record !== 'object') throw invalidRecord(`record ${index} is not an object`);
  const timestamp = record.timestamp;
  if (timestamp !== undefined && timestamp !== null && (!Number.isSafeInteger(timestamp) || timestamp < -1)) throw invalidTimestamp(timestamp, index);
  keyBytesMax(record.key, index);
  valueBytesMax(record.value, index);
  const headers = record.headers;
  if (headers === undefined || headers === null) return;
  if (Array.isArray(headers)) {
    for (const header of headers as HeaderList) {
      headerKeyBytesMax(header?.key, index);
      headerValueBytesMax(header.value, index);
    }
    return;
  }
  const object = headers as HeaderObject;
  for (const key in object) {
    if (!hasOwn.call(object, key)) continue;
    const value = object[key];
    if (Array.isArray(value)) for (const item of value as readonly RecordData[]) headerValueBytesMax(item, index);
    else headerValueBytesMax(value as RecordData | undefined, index);
  }
}

/** Bytes of the zigzag varint of a length or count `n` >= 0 (exact for any safe integer). */
function sizeOfLength(n: number): number {
  return n < 0x40 ? 1 : n < 0x2000 ? 2 : n < 0x100000 ? 3 : n < 0x8000000 ? 4 : 5;
}

/** Zigzag varint of a non-negative int32 or -1, inline: lengths and indexes are all a record holds. */
function writeLength(buf: Buffer, at: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v;
  return at;
}

/**
 * Writes a string's UTF-8 length then its bytes. A short one is copied by a charCodeAt loop that
 * also finds whether it is ASCII (then its length, one varint byte below 64, is its unit count);
 * otherwise it is written again, measured, by Buffer.write.
 */
function writeString(buf: Buffer, at: number, s: string): number {
  const units = s.length;
  if (units < SHORT_STRING_UNITS) {
    const start = at + 1;
    let seen = 0;
    for (let j = 0; j < units; j++) {
      const c = s.charCodeAt(j);
      seen |= c;
      buf[start + j] = c;
    }
    if (seen < 0x80) {
      buf[at] = units << 1;
      return start + units;
    }
  }
  const length = Buffer.byteLength(s, 'utf8');
  at = writeLength(buf, at, length);
  return at + buf.write(s, at, length, 'utf8');
}

/** Writes a key, value or header value (checked by dataBytesMax): its length, then its bytes. */
function writeData(buf: Buffer, at: number, data: RecordData | undefined): number {
  if (data === null || data === undefined) {
    buf[at] = 1; // zigzag -1: null
    return at + 1;
  }
  if (typeof data === 'string') return writeString(buf, at, data);
  const length = data.length;
  at = writeLength(buf, at, length);
  if (length <= SHORT_COPY_BYTES) {
    for (let j = 0; j < length; j++) buf[at + j] = data[j]!;
  } else {
    buf.set(data, at);
  }
  return at + length;
}


/**
 * Encodes batches into one growing, reused buffer. Single-threaded and synchronous: encode()
 * calls no user code, and the views it returns stay valid until the next reset() then encode().
 */
export class BatchEncoder {
  private buf: Buffer;
  private used = 0;
  // What the last writeRecords() found, kept in fields so that it allocates no result object.
  private baseTimestamp = 0;
  private maxTimestamp = 0;
  private minCheckedTimestamp = NaN;
  private maxCheckedTimestamp = NaN;
  private keylessCount = 0;
  private recordCount = 0;

  constructor(initialBytes = ENCODE_BUFFER_BYTES_INITIAL) {
    this.buf = Buffer.allocUnsafeSlow(initialBytes);
  }

  /**
   * Starts over at the buffer's beginning: batches returned before are overwritten by the next
   * encode(). A buffer grown past ENCODE_BUFFER_BYTES_RETAINED_MAX by a large batch is let go.
   */
  reset(): void {
    this.used = 0;
    if (this.buf.length > ENCODE_BUFFER_BYTES_RETAINED_MAX) this.buf = Buffer.allocUnsafeSlow(ENCODE_BUFFER_BYTES_INITIAL);
  }

  /**
   * Encodes `records` as one RecordBatch v2 with offsetDeltas 0..n-1, behind the batches encoded
   * since the last reset(). Returns a view of the encoder's buffer. Throws INVALID_RECORD for an
   * empty list or malformed records (naming the record's index in `records`),
   * UNSUPPORTED_COMPRESSION_TYPE for a codec without an implementation, RangeError for
   * out-of-range options. The batch's base timestamp is the first record's (as the Java
   * producer's), so later records may have negative deltas.
   */
  encode(records: readonly RecordInput[], options: EncodeBatchOptions = {}): Buffer {
    if (!Array.isArray(records) || records.length === 0) throw invalidRecord('a batch needs at least one record');
    const now = options.now ?? Date.now();
    if (!Number.isSafeInteger(now)) throw new RangeError(`now ${now} is not an integer`);
    const codec = getCodec(options.compression ?? 'none');
    const start = this.used;
    const recordsStart = start + BATCH_HEADER_BYTES;
    this.ensure(start, recordsStart);
    let end = this.writeRecords(records, recordsStart, now);
    if (codec.id !== CompressionId.none) {
      const compressed = codec.compress(this.buf.subarray(recordsStart, end), options.compressionLevel);
      this.ensure(recordsStart, recordsStart + compressed.length);
      this.buf.set(compressed, recordsStart);
      end = recordsStart + compressed.length;
    }
    const buf = this.buf;
    const logAppend = options.timestampType === 'logAppend';
    let attributes: number = codec.id;
    if (logAppend) attributes |= TIMESTAMP_TYPE_MASK;
    if (options.transactional) attributes |= TRANSACTIONAL_MASK;
    if (options.control) attributes |= CONTROL_MASK;

    writeInt64(buf, start, options.baseOffset ?? 0, 'baseOffset');
    buf.writeInt32BE(end - start - LOG_OVERHEAD, start + BATCH_LENGTH_OFFSET);
    buf.writeInt32BE(
      int32Option(options.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH, 'partitionLeaderEpoch', -(2 ** 31), 2 ** 31 - 1),
      start + PARTITION_LEADER_EPOCH_OFFSET,
    );
    buf[start + MAGIC_OFFSET] = MAGIC_V2;
    buf.writeInt16BE(attributes, start + ATTRIBUTES_OFFSET);
    buf.writeInt32BE(records.length - 1, start + LAST_OFFSET_DELTA_OFFSET);
    writeInt64(buf, start + BASE_TIMESTAMP_OFFSET, this.baseTimestamp, 'baseTimestamp');
    writeInt64(buf, start + MAX_TIMESTAMP_OFFSET, logAppend ? now : this.maxTimestamp, 'maxTimestamp');
    writeInt64(buf, start + PRODUCER_ID_OFFSET, options.producerId ?? NO_PRODUCER_ID, 'producerId');
    buf.writeInt16BE(int32Option(options.producerEpoch ?? NO_PRODUCER_EPOCH, 'producerEpoch', -32768, 32767), start + PRODUCER_EPOCH_OFFSET);
    buf.writeInt32BE(int32Option(options.baseSequence ?? NO_SEQUENCE, 'baseSequence', -(2 ** 31), 2 ** 31 - 1), start + BASE_SEQUENCE_OFFSET);
    buf.writeInt32BE(records.length, start + RECORDS_COUNT_OFFSET);
    buf.writeUInt32BE(binding.crc32c(buf, start + CRC_START_OFFSET, end), start + CRC_OFFSET);
    this.used = end;
    return buf.subarray(start, end);
  }

  /** The records of the batch encode() returned last, as walkRecords() would summarise them. */
  summary(): EncodedRecordsSummary {
    return {
      count: this.recordCount,
      maxTimestamp: this.maxTimestamp,
      minCheckedTimestamp: this.minCheckedTimestamp,
      maxCheckedTimestamp: this.maxCheckedTimestamp,
      offsetDeltasInOrder: true,
      keylessCount: this.keylessCount,
    };
  }

  /** Makes room for bytes up to `need`, keeping the bytes [0, keep) written so far. */
  private ensure(keep: number, need: number): Buffer {
    if (need <= this.buf.length) return this.buf;
    const grown = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, keep);
    this.buf = grown;
    return grown;
  }

  /** Writes every record from `at`; returns the end. Sets baseTimestamp and maxTimestamp. */
  private writeRecords(records: readonly RecordInput[], at: number, now: number): number {
    let buf = this.buf;
    const count = records.length;
    let baseTimestamp = now;
    let maxTimestamp = now;
    // Timestamps other than -1 (NO_TIMESTAMP), those message.timestamp.*.max.ms bounds apply to.
    let minChecked = Infinity;
    let maxChecked = -Infinity;
    let keyless = 0;
    for (let i = 0; i < count; i++) {
      const record = records[i]!;
      if (record === null || typeof record !== 'object') throw invalidRecord(`record ${i} is not an object`);
      let timestamp = record.timestamp;
      if (timestamp === undefined || timestamp === null) {
        timestamp = now;
      } else if (!Number.isSafeInteger(timestamp) || timestamp < -1) {
        throw invalidTimestamp(timestamp, i);
      }
      if (i === 0) {
        baseTimestamp = timestamp;
        maxTimestamp = timestamp;
      } else if (timestamp > maxTimestamp) {
        maxTimestamp = timestamp;
      }
      if (timestamp !== -1) {
        if (timestamp < minChecked) minChecked = timestamp;
        if (timestamp > maxChecked) maxChecked = timestamp;
      }
      const key = record.key;
      if (key === null || key === undefined) keyless++;
      const value = record.value;
      const headers = record.headers;
      const timestampDelta = timestamp - baseTimestamp;
      // The body's length prefix goes first, so its size is reserved from an upper bound of the
      // fields before the headers (strings at 3 bytes a unit) plus 64 bytes for any headers, which
      // are measured as they are written; the body is moved in the rare case its real length takes
      // another number of varint bytes (a body under 64 bytes, or one across 8,192).
      const fixedMax = 2 + sizeOfVarlong(timestampDelta) + sizeOfLength(i) + keyBytesMax(key, i) + valueBytesMax(value, i);
      const reserved = sizeOfLength(headers === undefined || headers === null ? fixedMax : fixedMax + 64);
      if (at + reserved + fixedMax > buf.length) buf = this.ensure(at, at + reserved + fixedMax);

      const bodyStart = at + reserved;
      let end = bodyStart;
      buf[end++] = 0; // attributes: none defined for records
      end = (timestampDelta | 0) === timestampDelta ? writeLength(buf, end, timestampDelta) : writeVarlong(buf, end, timestampDelta);
      end = writeLength(buf, end, i);
      end = writeData(buf, end, key);
      end = writeData(buf, end, value);
      if (headers === undefined || headers === null) {
        buf[end++] = 0;
      } else {
        end = this.writeHeaders(end, headers, i);
        buf = this.buf;
      }
      const body = end - bodyStart;
      const prefix = sizeOfLength(body);
      if (prefix !== reserved) {
        if (prefix > reserved && end + prefix - reserved > buf.length) buf = this.ensure(end, end + prefix - reserved);
        buf.copyWithin(at + prefix, bodyStart, end);
        end += prefix - reserved;
      }
      writeLength(buf, at, body);
      at = end;
    }
    this.baseTimestamp = baseTimestamp;
    this.maxTimestamp = maxTimestamp;
    this.minCheckedTimestamp = minChecked === Infinity ? NaN : minChecked;
    this.maxCheckedTimestamp = maxChecked === -Infinity ? NaN : maxChecked;
    this.keylessCount = keyless;
    this.recordCount = count;
    return at;
  }

  /**
   * Writes a record's header count and headers from `at`, checking each as it goes (INVALID_RECORD
   * for a header key that is not a string or a value of the wrong type) and growing the buffer
   * header by header; returns the end. The count is written as one byte and the headers moved in
   * the rare case there are 64 or more.
   */
  private writeHeaders(at: number, headers: NonNullable<RecordInput['headers']>, index: number): number {
    let buf = this.buf;
    const countAt = at;
    let end = at + 1;
    let count = 0;
    if (Array.isArray(headers)) {
      for (const header of headers as HeaderList) {
        const keyMax = headerKeyBytesMax(header?.key, index);
        const value = header.value;
        const max = keyMax + headerValueBytesMax(value, index);
        if (end + max > buf.length) buf = this.ensure(end, end + max);
        end = writeString(buf, end, header.key);
        end = writeData(buf, end, value);
        count++;
      }
    } else {
      const object = headers as HeaderObject;
      for (const key in object) {
        if (!hasOwn.call(object, key)) continue;
        const value = object[key];
        if (Array.isArray(value)) {
          for (const item of value as readonly RecordData[]) {
            const max = VARINT_BYTES_MAX + 3 * key.length + headerValueBytesMax(item, index);
            if (end + max > buf.length) buf = this.ensure(end, end + max);
            end = writeString(buf, end, key);
            end = writeData(buf, end, item);
            count++;
          }
        } else {
          // A for-in key is a string: no check.
          const max = VARINT_BYTES_MAX + 3 * key.length + headerValueBytesMax(value as RecordData | undefined, index);
          if (end + max > buf.length) buf = this.ensure(end, end + max);
          end = writeString(buf, end, key);
          end = writeData(buf, end, value as RecordData | undefined);
          count++;
        }
      }
    }
    const countBytes = sizeOfLength(count);
    if (countBytes > 1) {
      if (end + countBytes - 1 > buf.length) buf = this.ensure(end, end + countBytes - 1);
      buf.copyWithin(countAt + countBytes, countAt + 1, end);
      end += countBytes - 1;
    }
    writeLength(buf, countAt, count);
    return end;
  }
}

