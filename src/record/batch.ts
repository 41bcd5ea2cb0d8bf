// RecordBatch v2 as whole batches (the layout is documented in batch-format.ts). Everything the
// broker and the storage do per batch lives here and costs O(header) plus one CRC:
//   readBatchHeader      the 61 header bytes as a plain object
//   checkBatch           size, magic, CRC and count checks; returns a reason or null (no throw)
//   validateBatch        the same, throwing SluiceError('CORRUPT_MESSAGE')
//   stamp*               in-place edits the log makes on append
//   recompressBatch      the same batch with its records in another codec
//   iterateBatches       walks concatenated batches, stopping at a torn or corrupt tail
// Per-record work (encodeBatch, decodeBatch) is for producers, consumers and tools.
import { binding } from '../native/binding.js';
import { SluiceError } from '../errors.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_MIN,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  COMPRESSION_NAMES,
  CONTROL_MASK,
  CRC_OFFSET,
  CRC_START_OFFSET,
  CompressionId,
  type CompressionName,
  DELETE_HORIZON_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_MASK,
} from './batch-format.js';
import { type CompressionCodec, getCodec } from './compression.js';
import { BatchEncoder, type EncodeBatchOptions, type TimestampType } from './batch-encoder.js';
import { type DecodedRecord, RECORD_BYTES_MIN, readRecord, type RecordInput } from './record.js';

export type { EncodeBatchOptions, TimestampType } from './batch-encoder.js';
import { VarintReader } from './varint.js';

export interface BatchHeader {
  baseOffset: number;
  /** Bytes after the batchLength field; the batch is sizeBytes = 12 + batchLength. */
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  /** The stored CRC-32C, unsigned. */
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
  /** Derived: LOG_OVERHEAD + batchLength. */
  sizeBytes: number;
  /** Derived: baseOffset + lastOffsetDelta. */
  lastOffset: number;
  /** Derived: the codec id, attributes bits 0-2. */
  compression: number;
  /** Derived: the codec's name, undefined for ids Kafka does not define (5-7). */
  compressionName: CompressionName | undefined;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  hasDeleteHorizon: boolean;
}

export interface DecodedBatch {
  header: BatchHeader;
  records: DecodedRecord[];
}

export interface DecodeBatchOptions {
  /** Skip the CRC check, for bytes already validated (e.g. read back from a recovered log). */
  skipCrc?: boolean;
  /** Upper bound on a compressed batch's inflated size; beyond it, CORRUPT_MESSAGE. */
  maxDecompressedBytes?: number;
}

const TWO_POW_32 = 4294967296;

function asBuffer(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

function corrupt(message: string): SluiceError {
  return new SluiceError('CORRUPT_MESSAGE', message);
}

function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}

function writeInt64(buf: Buffer, at: number, value: number, what: string): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what} ${value} is not a safe integer`);
  const hi = Math.floor(value / TWO_POW_32);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(value - hi * TWO_POW_32, at + 4);
}

function isPosition(buf: Uint8Array, at: number): boolean {
  return Number.isInteger(at) && at >= 0 && at <= buf.length;
}

/**
 * The header of the batch at `at`. Reads only the 61 header bytes and checks nothing else (no
 * CRC, no magic): use checkBatch/validateBatch for that. 64-bit fields are JS numbers, exact
 * to 2^53. Throws CORRUPT_MESSAGE when fewer than 61 bytes are there.
 */
export function readBatchHeader(buf: Uint8Array, at = 0): BatchHeader {
  if (!isPosition(buf, at) || buf.length - at < BATCH_HEADER_BYTES) {
    throw corrupt(`batch header at byte ${at} is truncated: ${buf.length - at} bytes, a header needs ${BATCH_HEADER_BYTES}`);
  }
  const b = asBuffer(buf);
  const baseOffset = readInt64(b, at);
  const batchLength = b.readInt32BE(at + BATCH_LENGTH_OFFSET);
  const attributes = b.readInt16BE(at + ATTRIBUTES_OFFSET);
  const lastOffsetDelta = b.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
  const compression = attributes & COMPRESSION_CODEC_MASK;
  return {
    baseOffset,
    batchLength,
    partitionLeaderEpoch: b.readInt32BE(at + PARTITION_LEADER_EPOCH_OFFSET),
    magic: b.readInt8(at + MAGIC_OFFSET),
    crc: b.readUInt32BE(at + CRC_OFFSET),
    attributes,
    lastOffsetDelta,
    baseTimestamp: readInt64(b, at + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64(b, at + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(b, at + PRODUCER_ID_OFFSET),
    producerEpoch: b.readInt16BE(at + PRODUCER_EPOCH_OFFSET),
    baseSequence: b.readInt32BE(at + BASE_SEQUENCE_OFFSET),
    recordsCount: b.readInt32BE(at + RECORDS_COUNT_OFFSET),
    sizeBytes: LOG_OVERHEAD + batchLength,
    lastOffset: baseOffset + lastOffsetDelta,
    compression,
    compressionName: COMPRESSION_NAMES[compression],
    timestampType: attributes & TIMESTAMP_TYPE_MASK ? 'logAppend' : 'create',
    isTransactional: (attributes & TRANSACTIONAL_MASK) !== 0,
    isControl: (attributes & CONTROL_MASK) !== 0,
    hasDeleteHorizon: (attributes & DELETE_HORIZON_MASK) !== 0,
  };
}

/**
 * Checks the batch at `at` without throwing: returns null when it is whole and intact, or a
 * sentence saying what is wrong and at which byte. `limitBytes` is how many bytes from `at`
 * belong to the region being checked (default: to the end of `buf`); the batch must fit in it.
 *
 * Checks, in order: at least 61 bytes; batchLength >= 49 and the whole batch within the limit;
 * magic 2; the CRC-32C of [at+21, end) equals the stored CRC; recordsCount >= 0; when there
 * are records, lastOffsetDelta >= 0 (compaction may leave gaps, so not == recordsCount-1) and,
 * uncompressed, at least 7 bytes per record. It does not look inside records or compressed data.
 * Size limits (message.max.bytes) are the caller's.
 */
export function checkBatch(buf: Uint8Array, at = 0, limitBytes?: number): string | null {
  return check(buf, at, limitBytes, true);
}

/**
 * checkBatch without the record-count checks: the batch is whole, magic 2, and its CRC holds.
 * For a caller that checks the counts itself with its own error (a broker's log validator answers
 * a count the records cannot fill with INVALID_RECORD, as Kafka does, not CORRUPT_MESSAGE).
 * `verifyCrc` false skips only the CRC, for bytes whose CRC the caller has just computed itself.
 */
export function checkBatchIntegrity(buf: Uint8Array, at = 0, limitBytes?: number, verifyCrc = true): string | null {
  return check(buf, at, limitBytes, verifyCrc, false);
}

function check(buf: Uint8Array, at: number, limitBytes: number | undefined, verifyCrc: boolean, checkCounts = true): string | null {
  if (!isPosition(buf, at)) return `batch position ${at} is outside the ${buf.length}-byte buffer`;
  const available = buf.length - at;
  const limit = limitBytes === undefined || !(limitBytes >= 0) || limitBytes > available ? available : Math.floor(limitBytes);
  if (limit < BATCH_HEADER_BYTES) {
    return `batch at byte ${at} is truncated: ${limit} bytes, a batch header needs ${BATCH_HEADER_BYTES}`;
  }
  const b = asBuffer(buf);
  const batchLength = b.readInt32BE(at + BATCH_LENGTH_OFFSET);
  if (batchLength < BATCH_LENGTH_MIN) {
    return `batchLength ${batchLength} at byte ${at + BATCH_LENGTH_OFFSET} is below the minimum ${BATCH_LENGTH_MIN}`;
  }
  const sizeBytes = LOG_OVERHEAD + batchLength;
  if (sizeBytes > limit) {
    return `batch at byte ${at} is truncated: its batchLength says ${sizeBytes} bytes, ${limit} are there`;
  }
  const magic = b.readInt8(at + MAGIC_OFFSET);
  if (magic !== MAGIC_V2) return `magic ${magic} at byte ${at + MAGIC_OFFSET}, expected ${MAGIC_V2}`;
  if (verifyCrc) {
    const stored = b.readUInt32BE(at + CRC_OFFSET);
    const computed = binding.crc32c(b, at + CRC_START_OFFSET, at + sizeBytes);
    if (stored !== computed) {
      return `CRC mismatch in batch at byte ${at}: stored 0x${hex32(stored)}, computed 0x${hex32(computed)} over bytes ${at + CRC_START_OFFSET}..${at + sizeBytes}`;
    }
  }
  if (!checkCounts) return null;
  const recordsCount = b.readInt32BE(at + RECORDS_COUNT_OFFSET);
  if (recordsCount < 0) return `negative recordsCount ${recordsCount} at byte ${at + RECORDS_COUNT_OFFSET}`;
  if (recordsCount > 0) {
    const lastOffsetDelta = b.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
    if (lastOffsetDelta < 0) return `negative lastOffsetDelta ${lastOffsetDelta} at byte ${at + LAST_OFFSET_DELTA_OFFSET} in a batch of ${recordsCount} records`;
    const compression = b.readInt16BE(at + ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK;
    if (compression === CompressionId.none && recordsCount > (sizeBytes - RECORDS_OFFSET) / RECORD_BYTES_MIN) {
      return `recordsCount ${recordsCount} at byte ${at + RECORDS_COUNT_OFFSET} cannot fit in ${sizeBytes - RECORDS_OFFSET} bytes of records`;
    }
  }
  return null;
}

/**
 * checkBatch, throwing SluiceError('CORRUPT_MESSAGE', reason) when the batch is not whole and
 * intact. Returns the batch's size in bytes. Never throws anything else, whatever the bytes.
 */
export function validateBatch(buf: Uint8Array, at = 0, limitBytes?: number): number {
  const reason = checkBatch(buf, at, limitBytes);
  if (reason !== null) throw corrupt(reason);
  return LOG_OVERHEAD + asBuffer(buf).readInt32BE(at + BATCH_LENGTH_OFFSET);
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function checkStampPosition(buf: Uint8Array, at: number): void {
  if (!Number.isInteger(at) || at < 0 || buf.length - at < BATCH_HEADER_BYTES) {
    throw new RangeError(`no batch header at byte ${at} of a ${buf.length}-byte buffer`);
  }
}

/** Writes baseOffset in place. Outside the CRC, so the batch stays valid. */
export function stampBaseOffset(buf: Uint8Array, at: number, baseOffset: number): void {
  checkStampPosition(buf, at);
  if (baseOffset < 0) throw new RangeError(`baseOffset ${baseOffset} is negative`);
  writeInt64(asBuffer(buf), at, baseOffset, 'baseOffset');
}

/** Writes partitionLeaderEpoch in place. Outside the CRC, so the batch stays valid. */
export function stampPartitionLeaderEpoch(buf: Uint8Array, at: number, epoch: number): void {
  checkStampPosition(buf, at);
  asBuffer(buf).writeInt32BE(epoch, at + PARTITION_LEADER_EPOCH_OFFSET);
}

/**
 * Marks the batch LogAppendTime with maxTimestamp = `timestamp` and recomputes the CRC, in place
 * (Kafka's broker does the same for topics with message.timestamp.type=LogAppendTime). Readers
 * then report `timestamp` for every record. Expects a whole batch at `at`.
 */
export function stampLogAppendTime(buf: Uint8Array, at: number, timestamp: number): void {
  checkStampPosition(buf, at);
  const b = asBuffer(buf);
  b.writeInt16BE(b.readInt16BE(at + ATTRIBUTES_OFFSET) | TIMESTAMP_TYPE_MASK, at + ATTRIBUTES_OFFSET);
  writeInt64(b, at + MAX_TIMESTAMP_OFFSET, timestamp, 'timestamp');
  stampCrc(b, at);
}

/**
 * Sets the batch's timestamp type and maxTimestamp, as Kafka's DefaultRecordBatch.setMaxTimestamp:
 * when either changes, the attributes and maxTimestamp are written and the CRC recomputed (one
 * pass over the batch); when neither does, nothing is touched. Returns whether the batch changed.
 */
export function stampMaxTimestamp(buf: Uint8Array, at: number, timestampType: TimestampType, maxTimestamp: number): boolean {
  checkStampPosition(buf, at);
  const b = asBuffer(buf);
  const attributes = b.readInt16BE(at + ATTRIBUTES_OFFSET);
  const wanted = timestampType === 'logAppend' ? attributes | TIMESTAMP_TYPE_MASK : attributes & ~TIMESTAMP_TYPE_MASK;
  if (wanted === attributes && readInt64(b, at + MAX_TIMESTAMP_OFFSET) === maxTimestamp) return false;
  b.writeInt16BE(wanted, at + ATTRIBUTES_OFFSET);
  writeInt64(b, at + MAX_TIMESTAMP_OFFSET, maxTimestamp, 'maxTimestamp');
  stampCrc(b, at);
  return true;
}

/**
 * A copy of the batch at `at` whose records region is `records` (the uncompressed records)
 * compressed with `codec` at `level`: every header field is kept (offset deltas, timestamps,
 * producer id, epoch and sequence, attributes) except the codec bits, batchLength and CRC. This is
 * how a broker stores a batch in the topic's compression.type; the records themselves are not
 * re-encoded, so their deltas are the producer's.
 */
export function recompressBatch(buf: Uint8Array, at: number, records: Uint8Array, codec: CompressionCodec, level?: number): Buffer {
  checkStampPosition(buf, at);
  const source = asBuffer(buf);
  const raw = asBuffer(records);
  const compressed = codec.id === CompressionId.none ? raw : codec.compress(raw, level);
  const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + compressed.length);
  source.copy(out, 0, at, at + BATCH_HEADER_BYTES);
  out.set(compressed, BATCH_HEADER_BYTES);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  out.writeInt16BE((out.readInt16BE(ATTRIBUTES_OFFSET) & ~COMPRESSION_CODEC_MASK) | codec.id, ATTRIBUTES_OFFSET);
  stampCrc(out, 0);
  return out;
}

/** Recomputes and stores the CRC of the whole batch at `at` (after an edit inside the CRC range). */
export function stampCrc(buf: Uint8Array, at = 0): void {
  checkStampPosition(buf, at);
  const b = asBuffer(buf);
  const end = at + LOG_OVERHEAD + b.readInt32BE(at + BATCH_LENGTH_OFFSET);
  if (end > b.length || end < at + BATCH_HEADER_BYTES) throw new RangeError(`batch at byte ${at} is not whole in the buffer`);
  b.writeUInt32BE(binding.crc32c(b, at + CRC_START_OFFSET, end), at + CRC_OFFSET);
}

// encodeBatch's own encoder: its buffer is reused by every call, and each batch copied out of it.
let sharedEncoder: BatchEncoder | undefined;

/**
 * Encodes `records` as one RecordBatch v2 with offsetDeltas 0..n-1 (BatchEncoder, one pass into a
 * reused buffer), and returns a copy the caller owns: it may be a slice of Node's shared buffer
 * pool (as Buffer.from's) and is fully written.
 * Throws INVALID_RECORD for an empty list or malformed records, UNSUPPORTED_COMPRESSION_TYPE for
 * a codec without an implementation, RangeError for out-of-range options.
 */
export function encodeBatch(records: readonly RecordInput[], options: EncodeBatchOptions = {}): Buffer {
  // 64 KiB: a client producer's batches (batch.size 16 KiB by default) fit without growing.
  sharedEncoder ??= new BatchEncoder(64 * 1024);
  sharedEncoder.reset();
  return Buffer.from(sharedEncoder.encode(records, options));
}

/**
 * Validates the batch at `at` (see checkBatch; `skipCrc` skips only the CRC), inflates its
 * records if compressed, and decodes every record. For an uncompressed batch the keys, values
 * and header values are views of `buf` (no copy): copy them to keep them past `buf`'s reuse.
 * Throws CORRUPT_MESSAGE for any malformed byte (never a RangeError), and
 * UNSUPPORTED_COMPRESSION_TYPE when the batch's codec has no registered implementation.
 */
export function decodeBatch(buf: Uint8Array, at = 0, options: DecodeBatchOptions = {}): DecodedBatch {
  const b = asBuffer(buf);
  const reason = check(b, at, undefined, options.skipCrc !== true);
  if (reason !== null) throw corrupt(reason);
  const header = readBatchHeader(b, at);
  const end = at + header.sizeBytes;
  const codecId = header.compression;
  let reader: VarintReader;
  if (codecId === CompressionId.none) {
    reader = new VarintReader(b, at + RECORDS_OFFSET, end);
  } else {
    const codec = getCodec(codecId);
    let inflated: Buffer;
    try {
      inflated = codec.decompress(b.subarray(at + RECORDS_OFFSET, end), options.maxDecompressedBytes);
    } catch (error) {
      throw new SluiceError('CORRUPT_MESSAGE', `batch at byte ${at}: ${codec.name} records do not decompress: ${(error as Error)?.message ?? error}`, {
        cause: error,
      });
    }
    reader = new VarintReader(inflated, 0, inflated.length);
  }
  const count = header.recordsCount;
  if (count * RECORD_BYTES_MIN > reader.remaining) {
    throw corrupt(`batch at byte ${at}: recordsCount ${count} cannot fit in ${reader.remaining} bytes of records`);
  }
  const logAppendTime = header.timestampType === 'logAppend' ? header.maxTimestamp : null;
  const records: DecodedRecord[] = new Array(count);
  for (let i = 0; i < count; i++) {
    records[i] = readRecord(reader, header.baseOffset, header.baseTimestamp, logAppendTime);
  }
  if (reader.remaining !== 0) {
    throw corrupt(`batch at byte ${at}: ${reader.remaining} bytes follow the last of its ${count} records`);
  }
  return { header, records };
}

export interface IterateBatchesOptions {
  /** First byte to look at (default 0). */
  start?: number;
  /** Exclusive end of the region (default buf.length). */
  end?: number;
  /** Also check each batch's CRC and counts (checkBatch); default false (size and magic only). */
  validate?: boolean;
}

export interface BatchAt {
  /** Byte position of the batch in the buffer. */
  at: number;
  header: BatchHeader;
}

export type BatchScanStop = 'end' | 'incomplete' | 'corrupt';

/**
 * Walks concatenated batches. Iterate it (for..of), then read where and why it stopped:
 * - `position`: the byte after the last whole batch yielded; `wholeBytes` = position - start.
 * - `stop`: 'end' (the region ends exactly after a batch), 'incomplete' (a tail shorter than its
 *   batch: a torn write, or a read that cut a batch; `nextBatchBytes` says how many bytes that
 *   batch needs when its length could be read, else 0), or 'corrupt' (a batchLength below the
 *   minimum, a magic other than 2, or with `validate` any checkBatch failure; `error` says what).
 * `stop` is null until the iteration has finished.
 */
export class BatchIterator implements IterableIterator<BatchAt> {
  readonly start: number;
  readonly end: number;
  position: number;
  stop: BatchScanStop | null = null;
  error: string | null = null;
  nextBatchBytes = 0;
  private readonly buf: Buffer;
  private readonly validate: boolean;

  constructor(buf: Uint8Array, options: IterateBatchesOptions = {}) {
    this.buf = asBuffer(buf);
    const end = options.end === undefined ? buf.length : Math.max(0, Math.min(buf.length, Math.floor(options.end)));
    const start = options.start === undefined ? 0 : Math.max(0, Math.min(end, Math.floor(options.start)));
    this.start = start;
    this.end = end;
    this.position = start;
    this.validate = options.validate ?? false;
  }

  get wholeBytes(): number {
    return this.position - this.start;
  }

  [Symbol.iterator](): BatchIterator {
    return this;
  }

  next(): IteratorResult<BatchAt> {
    if (this.stop !== null) return { done: true, value: undefined };
    const { buf, position: at, end } = this;
    const left = end - at;
    if (left === 0) return this.finish('end', null);
    if (left < LOG_OVERHEAD) return this.finish('incomplete', `batch at byte ${at} is truncated: ${left} bytes, its length field ends at ${LOG_OVERHEAD}`);
    const batchLength = buf.readInt32BE(at + BATCH_LENGTH_OFFSET);
    if (batchLength < BATCH_LENGTH_MIN) {
      return this.finish('corrupt', `batchLength ${batchLength} at byte ${at + BATCH_LENGTH_OFFSET} is below the minimum ${BATCH_LENGTH_MIN}`);
    }
    const sizeBytes = LOG_OVERHEAD + batchLength;
    if (sizeBytes > left) {
      this.nextBatchBytes = sizeBytes;
      return this.finish('incomplete', `batch at byte ${at} is truncated: its batchLength says ${sizeBytes} bytes, ${left} are there`);
    }
    const magic = buf.readInt8(at + MAGIC_OFFSET);
    if (magic !== MAGIC_V2) return this.finish('corrupt', `magic ${magic} at byte ${at + MAGIC_OFFSET}, expected ${MAGIC_V2}`);
    if (this.validate) {
      const reason = checkBatch(buf, at, sizeBytes);
      if (reason !== null) return this.finish('corrupt', reason);
    }
    const header = readBatchHeader(buf, at);
    this.position = at + sizeBytes;
    return { done: false, value: { at, header } };
  }

  private finish(stop: BatchScanStop, error: string | null): IteratorResult<BatchAt> {
    this.stop = stop;
    this.error = error;
    return { done: true, value: undefined };
  }
}

/** Walks the concatenated batches of `buf`; see BatchIterator for how it reports its stop. */
export function iterateBatches(buf: Uint8Array, options?: IterateBatchesOptions): BatchIterator {
  return new BatchIterator(buf, options);
}
