// What a log checks and fixes in a producer's batch before storing it, as Kafka's LogValidator
// does for RecordBatch v2 from a client, per batch:
//   - the header: CRC (CORRUPT_MESSAGE); count = lastOffsetDelta + 1 > 0, no control batch, a
//     sequence when there is a producer id (INVALID_RECORD);
//   - the records: their structure, and that there are as many as the header counts
//     (INVALID_RECORD); read by a native walk over the bytes (src/record/record-walk.ts);
//   - timestamps: with message.timestamp.type=CreateTime every record's timestamp within
//     [now - before.max.ms, now + after.max.ms] (INVALID_TIMESTAMP, naming the records), and the
//     header's maxTimestamp recomputed from the records and rewritten (with the CRC it is covered
//     by) when it lied; with LogAppendTime the broker's clock stamped into the header;
//   - compression.type: a batch in another codec than the topic's is recompressed, one already in
//     it is stored as it came;
//   - cleanup.policy with compact: every record has a key (INVALID_RECORD naming the records, as
//     Kafka's "Compacted topic cannot accept message without key"), compressed ones inflated to see.
// Edits are made in place in the request's bytes; a recompressed batch is a new buffer.
import { RecordValidationError, SluiceError, type RecordError } from '../errors.js';
import { INFLATED_BATCH_BYTES_MAX } from '../limits.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  COMPRESSION_CODEC_MASK,
  CONTROL_MASK,
  CompressionId,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_TIMESTAMP,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
} from '../record/batch-format.js';
import { checkBatchIntegrity, decodeBatch, recompressBatch, stampLogAppendTime, stampMaxTimestamp } from '../record/batch.js';
import { getCodec } from '../record/compression.js';
// The log may have to inflate or write any of Kafka's codecs, so it brings their implementations.
import '../record/codecs/index.js';
import type { EncodedRecordsSummary } from '../record/batch-encoder.js';
import { walkRecords, type RecordsSummary } from '../record/record-walk.js';
import { VarintReader } from '../record/varint.js';
import { timestampBoundsMs, type LogConfig } from './log-config.js';

/** A batch as it will be written, with what the log needs from its header. */
export interface ValidatedBatch {
  /** The bytes holding the batch: the request's own (edited in place) or a recompressed copy. */
  buffer: Buffer;
  /** Where the batch starts in `buffer`. */
  at: number;
  sizeBytes: number;
  lastOffsetDelta: number;
  recordCount: number;
  /** The batch's max timestamp as stored (the broker's clock under LogAppendTime). */
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** The header's attributes (transactional and control bits among them). */
  attributes: number;
}

/** Who writes a batch: a client's Produce, or the transaction coordinator's markers (Kafka's AppendOrigin). */
export type AppendOrigin = 'client' | 'coordinator';

const TWO_POW_32 = 4294967296;

function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}

function invalidRecord(message: string): SluiceError {
  return new SluiceError('INVALID_RECORD', message);
}

/**
 * Validates the batch of `sizeBytes` at `at` in `records` for an append at `nowMs` under `config`
 * (sizes against max.message.bytes are the caller's). Returns the batch to write. `topicPartition`
 * (`<topic>-<partition>`) names the partition in refusals that Kafka words with it.
 * `encodedHere`: the batch was encoded in this process by a BatchEncoder (engine.produce), which
 * computed its CRC over these very bytes and summarised its records as it wrote them: neither is
 * computed a second time (for 1,000 records of 100 B they are ~25 and ~17 us of an append of
 * ~100 us), and everything else is checked as for any batch.
 */
export function validateBatchForAppend(
  records: Buffer,
  at: number,
  sizeBytes: number,
  config: Readonly<LogConfig>,
  nowMs: number,
  topicPartition = '',
  encodedHere?: EncodedRecordsSummary,
  origin: AppendOrigin = 'client',
): ValidatedBatch {
  const reason = checkBatchIntegrity(records, at, sizeBytes, encodedHere === undefined);
  if (reason !== null) throw new SluiceError('CORRUPT_MESSAGE', reason);

  // Kafka's LogValidator.validateBatch, for a batch from a client.
  const attributes = records.readInt16BE(at + ATTRIBUTES_OFFSET);
  const lastOffsetDelta = records.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
  const recordCount = records.readInt32BE(at + RECORDS_COUNT_OFFSET);
  const producerId = readInt64(records, at + PRODUCER_ID_OFFSET);
  const baseSequence = records.readInt32BE(at + BASE_SEQUENCE_OFFSET);
  if (lastOffsetDelta + 1 <= 0) throw invalidRecord(`Batch at byte ${at} has an invalid offset range: [0, ${lastOffsetDelta}]`);
  if (recordCount <= 0) throw invalidRecord(`Invalid reported count for record batch: ${recordCount}`);
  if (lastOffsetDelta + 1 !== recordCount) {
    throw invalidRecord(`Inconsistent batch offset range [0, ${lastOffsetDelta}] and count of records ${recordCount}`);
  }
  const control = (attributes & CONTROL_MASK) !== 0;
  if (control && origin === 'client') throw invalidRecord('Clients are not allowed to write control records');
  // The coordinators' own batches (markers, transactional offset commits) carry no sequence.
  if (producerId >= 0 && baseSequence < 0 && origin === 'client') throw invalidRecord(`Invalid sequence number ${baseSequence} in record batch with producerId ${producerId}`);

  const sourceCodec = getCodec(attributes & COMPRESSION_CODEC_MASK);
  const targetCodec = config.compressionType === 'producer' ? sourceCodec : getCodec(config.compressionType === 'uncompressed' ? 'none' : config.compressionType);
  const createTime = config.messageTimestampType === 'CreateTime';
  const producerSetLogAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0;
  const baseTimestamp = readInt64(records, at + BASE_TIMESTAMP_OFFSET);
  const headerMaxTimestamp = readInt64(records, at + MAX_TIMESTAMP_OFFSET);
  const bounds = timestampBoundsMs(config);
  const bounded = bounds.beforeMaxMs !== Infinity || bounds.afterMaxMs !== Infinity;
  const recompress = targetCodec.id !== sourceCodec.id;
  const compacted = config.cleanupPolicy.includes('compact');

  // When the records must be read. Uncompressed, always: walking them is a pass over bytes the CRC
  // just read (native, about the CRC's cost). Compressed, only when something depends on them:
  // recompression inflates anyway; timestamp bounds apply to each record; and a CreateTime header
  // whose maxTimestamp is -1 (sarama writes that) or below its baseTimestamp cannot be the largest
  // record timestamp, since baseTimestamp is the first record's. Otherwise the header is kept as
  // the producer wrote it, and that is enough because the broker itself never reads inside a
  // compressed batch: it takes offsets from lastOffsetDelta (held equal to the count above), the
  // time index, retention and ListOffsets from maxTimestamp (now known not to be the -1 that
  // broke them), and serves fetches from the bytes as stored; a consumer inflates the records and
  // its decoder checks them. What this gives up, where Kafka would refuse: a self-consistent header
  // over records that do not match it (a count or a max that lies in a way no client we know of
  // does) is stored as it came. Inflating every compressed batch would cost the broker what
  // inflating costs the consumer (gzip ~300 MB/s a core) on its hot path, for every produce.
  // A compacted topic's batch is read whatever its codec: every record must have a key.
  const mustReadRecords =
    sourceCodec.id === CompressionId.none ||
    recompress ||
    compacted ||
    (createTime && !producerSetLogAppendTime && (bounded || headerMaxTimestamp < baseTimestamp || headerMaxTimestamp === NO_TIMESTAMP));

  let raw: Buffer | undefined;
  let summary: RecordsSummary | undefined;
  if (mustReadRecords) {
    raw = sourceCodec.id === CompressionId.none ? records.subarray(at + RECORDS_OFFSET, at + sizeBytes) : inflate(records, at, sizeBytes, sourceCodec.name);
    if (!Number.isSafeInteger(baseTimestamp)) throw new SluiceError('INVALID_TIMESTAMP', `baseTimestamp ${baseTimestamp} is beyond 2^53 ms`);
    summary = encodedHere ?? walkRecords(raw, 0, raw.length, baseTimestamp);
    if (summary.count !== recordCount) {
      throw invalidRecord(`Batch at byte ${at} declares ${recordCount} records but holds ${summary.count}`);
    }
    if (compacted && (encodedHere === undefined || encodedHere.keylessCount > 0)) checkKeys(raw, recordCount, topicPartition);
  }

  // Timestamps, as LogValidator.validateTimestamp: under CreateTime a record's timestamp is its
  // own, or the header's maxTimestamp when the producer marked the batch LogAppendTime (then -1
  // is refused); under LogAppendTime a producer may not mark the batch LogAppendTime itself.
  let maxTimestamp: number;
  if (!createTime) {
    if (producerSetLogAppendTime) throw logAppendTimeFromProducer(recordCount);
    maxTimestamp = nowMs;
  } else if (producerSetLogAppendTime) {
    if (headerMaxTimestamp === NO_TIMESTAMP) throw logAppendTimeFromProducer(recordCount);
    if (outOfBounds(headerMaxTimestamp, headerMaxTimestamp, nowMs, bounds)) throw timestampsOutOfBounds(records, at, nowMs, bounds);
    maxTimestamp = headerMaxTimestamp;
  } else if (summary) {
    if (outOfBounds(summary.minCheckedTimestamp, summary.maxCheckedTimestamp, nowMs, bounds)) throw timestampsOutOfBounds(records, at, nowMs, bounds);
    maxTimestamp = summary.maxTimestamp;
    if (!Number.isSafeInteger(maxTimestamp)) throw new SluiceError('INVALID_TIMESTAMP', `Record timestamp ${maxTimestamp} is beyond 2^53 ms`);
  } else {
    maxTimestamp = headerMaxTimestamp;
  }

  let buffer = records;
  let batchAt = at;
  let batchBytes = sizeBytes;
  if (recompress) {
    buffer = recompressBatch(records, at, raw!, targetCodec, levelFor(config, targetCodec.name));
    batchAt = 0;
    batchBytes = buffer.length;
    if (batchBytes > config.maxMessageBytes) {
      throw new SluiceError('MESSAGE_TOO_LARGE', `A batch of ${batchBytes} bytes in ${targetCodec.name} exceeds max.message.bytes (${config.maxMessageBytes})`);
    }
  }
  // LogAppendTime costs one CRC pass over the batch (Kafka pays it too); so does a lying header.
  if (createTime) stampMaxTimestamp(buffer, batchAt, 'create', maxTimestamp);
  else stampLogAppendTime(buffer, batchAt, maxTimestamp);

  return {
    buffer,
    at: batchAt,
    sizeBytes: batchBytes,
    lastOffsetDelta,
    recordCount,
    maxTimestamp,
    producerId,
    producerEpoch: records.readInt16BE(at + PRODUCER_EPOCH_OFFSET),
    baseSequence,
    attributes: buffer.readInt16BE(batchAt + ATTRIBUTES_OFFSET),
  };
}

/**
 * Kafka's LogValidator for a compacted topic: a record without a key could never be cleaned, so
 * it is refused, each one named (the walk before this checked the records' structure).
 */
function checkKeys(raw: Buffer, recordCount: number, topicPartition: string): void {
  const reader = new VarintReader(raw, 0, raw.length);
  const recordErrors: RecordError[] = [];
  for (let batchIndex = 0; batchIndex < recordCount; batchIndex++) {
    const length = reader.readVarint();
    const end = reader.pos + length;
    reader.skip(1); // attributes
    reader.readVarlong(); // timestampDelta
    reader.readVarint(); // offsetDelta
    if (reader.readVarint() < 0) {
      recordErrors.push({ batchIndex, message: `Compacted topic cannot accept message without key in topic partition ${topicPartition}.` });
    }
    reader.pos = end;
  }
  if (recordErrors.length === 0) return;
  throw new RecordValidationError(
    'INVALID_RECORD',
    `One or more records have been rejected due to ${recordErrors.length} record errors in total, and only showing the first three errors at most: ` +
      `[${recordErrors.slice(0, 3).map((error) => `RecordError(batchIndex=${error.batchIndex}, message='${error.message}')`).join(', ')}]`,
    recordErrors,
  );
}

function inflate(records: Buffer, at: number, sizeBytes: number, codecName: string): Buffer {
  const codec = getCodec(records.readInt16BE(at + ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK);
  try {
    return codec.decompress(records.subarray(at + RECORDS_OFFSET, at + sizeBytes), INFLATED_BATCH_BYTES_MAX);
  } catch (error) {
    throw new SluiceError('CORRUPT_MESSAGE', `Batch at byte ${at}: its ${codecName} records do not decompress: ${(error as Error)?.message ?? error}`, { cause: error });
  }
}

/** Compression level for `codec` from the topic's compression.<codec>.level; undefined: the codec's default. */
function levelFor(config: Readonly<LogConfig>, codec: string): number | undefined {
  if (codec === 'gzip') return config.compressionGzipLevel;
  if (codec === 'zstd') return config.compressionZstdLevel;
  return undefined;
}

interface Bounds {
  beforeMaxMs: number;
  afterMaxMs: number;
}

/** Kafka's recordHasInvalidTimestamp over the batch's range of checked timestamps (NaN: none). */
function outOfBounds(minTimestamp: number, maxTimestamp: number, nowMs: number, bounds: Bounds): boolean {
  return nowMs - minTimestamp > bounds.beforeMaxMs || maxTimestamp - nowMs > bounds.afterMaxMs;
}

function logAppendTimeFromProducer(recordCount: number): RecordValidationError {
  const recordErrors: RecordError[] = [];
  for (let i = 0; i < recordCount; i++) {
    recordErrors.push({ batchIndex: i, message: 'Invalid timestamp type in message. Producer should not set timestamp type to LogAppendTime.' });
  }
  return new RecordValidationError('INVALID_TIMESTAMP', 'One or more records have been rejected due to invalid timestamp', recordErrors);
}

/** The refusal for timestamps out of bounds, naming each offending record (decoded: the rare path). */
function timestampsOutOfBounds(records: Buffer, at: number, nowMs: number, bounds: Bounds): RecordValidationError {
  const low = nowMs - bounds.beforeMaxMs;
  const high = nowMs + bounds.afterMaxMs;
  // As Kafka prints the range, with an unbounded side at Long.MAX_VALUE ms (without Java's overflow).
  const longMs = (ms: number) => (ms === Infinity ? 2n ** 63n - 1n : BigInt(ms));
  const range = `[${BigInt(nowMs) - longMs(bounds.beforeMaxMs)}, ${BigInt(nowMs) + longMs(bounds.afterMaxMs)}]`;
  const recordErrors: RecordError[] = [];
  const decoded = decodeBatch(records, at, { skipCrc: true, maxDecompressedBytes: INFLATED_BATCH_BYTES_MAX });
  decoded.records.forEach((record, batchIndex) => {
    if (record.timestamp === NO_TIMESTAMP || (record.timestamp >= low && record.timestamp <= high)) return;
    recordErrors.push({
      batchIndex,
      message: `Timestamp ${record.timestamp} of message with offset ${record.offset} is out of range. The timestamp should be within ${range}`,
    });
  });
  return new RecordValidationError('INVALID_TIMESTAMP', 'One or more records have been rejected due to invalid timestamp', recordErrors);
}
