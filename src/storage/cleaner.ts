// The work of one cleaning, as Kafka's Cleaner does it, on plain files: it runs on a cleaner worker
// thread (cleaner-worker.ts) and touches no Log or Segment object, only the segment files the main
// thread names, which are closed segments and do not change while it reads them.
//
//   buildOffsetMap   reads the dirty part [firstDirtyOffset, firstUncleanableOffset) and records
//                    each key's latest offset, until the offset map is full (then the map's latest
//                    offset says how far this pass got; the next pass goes on from there)
//   groupSegments    Kafka's groupSegmentsBySize: adjacent segments from the log start up to where
//                    the map reached, merged while the log, offset index and time index bytes each
//                    stay within segment.bytes / segment.index.bytes and relative offsets fit 31 bits
//   cleanSegments    writes one group into `<base>.log.cleaned` (+ .index.cleaned, .timeindex.cleaned)
//
// The rules per record (Kafka's shouldRetainRecord): a record past the map's latest offset is kept;
// a record without a key is dropped (compacted topics refuse them, so these predate the policy); a
// record whose key the map has at a higher offset is dropped; a tombstone (null value) is dropped
// when its segment was last modified at or before the delete horizon (the last clean segment's
// modification time minus delete.retention.ms); a record of an aborted transaction is dropped, and
// never enters the map, where it would hide its key's committed value. Nothing at or past the last
// stable offset is cleaned (log-cleaner-manager.ts): an open transaction may still abort. Per batch (MemoryRecords.filterTo): a batch keeps
// its base offset and lastOffsetDelta, so offsets never move and a gap is left where records went;
// a batch whose records all stay is copied byte for byte; one with some left is rewritten with
// those records (their bytes copied as they are: offset and timestamp deltas stay relative to the
// batch's unchanged base offset and base timestamp), recompressed in its codec, its count, max
// timestamp and CRC recomputed; one with none left disappears, unless it is the last batch of an
// idempotent producer, which stays as an empty batch (Kafka's RETAIN_EMPTY) so that the producer's
// sequence state survives cleaning. Every batch read is checked (size, magic, CRC): the cleaner
// would otherwise give a corrupt batch a fresh CRC.
//
// One addition to Kafka, for crashes: when a group's last batch loses all its records, the .cleaned
// file ends with an empty batch of that batch's offsets (no producer, no record), so that it ends
// where its group ended. A crash in the middle of a swap is completed on open by replacing the live
// segments the swap file's offsets cover (Kafka's LogLoader rule); without the placeholder, a group
// whose last segments were emptied would leave those old segments beside the new one (a mixture).
// The placeholder is written after the indexes are complete, and the main thread cuts it off once
// the swap is done (Log.replaceSegments): a fetch must not end on a batch without records, on
// which kafkajs, for one, stalls. A crash between the swap and the cut leaves it (an empty batch is
// legal), and the next pass drops it.
import fs from 'node:fs';
import path from 'node:path';

import { SluiceError } from '../errors.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  CONTROL_MASK,
  CompressionId,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  BASE_SEQUENCE_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  NO_TIMESTAMP,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_MASK,
} from '../record/batch-format.js';
import { checkBatch, stampCrc } from '../record/batch.js';
import { getCodec } from '../record/compression.js';
import { VarintReader } from '../record/varint.js';
import { INFLATED_BATCH_BYTES_MAX, RELATIVE_OFFSET_MAX, SEGMENT_BYTES_MAX } from '../limits.js';
import { CleanedSegmentWriter } from './cleaned-segment-writer.js';
import { CLEANED_FILE_SUFFIX, LOG_FILE_SUFFIX, OFFSET_INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX, segmentFileName } from './index-format.js';
import type { OffsetMap } from './offset-map.js';
import type { Throttler } from './throttler.js';

/** A closed segment as the main thread saw it when it planned the cleaning. */
export interface CleanerSegment {
  baseOffset: number;
  logPath: string;
  offsetIndexPath: string;
  timeIndexPath: string;
  /** Bytes of the .log; a closed segment does not grow. */
  sizeBytes: number;
  /** The next segment's base offset: every offset of this segment is below it. */
  endOffset: number;
}

/** What the main thread hands a worker for one pass over one log. */
export interface CleanTask {
  /** The log's directory, where the .cleaned files are written. */
  dir: string;
  /** For messages: `<topic>-<partition>`. */
  name: string;
  /** Every segment from the log's first up to the first uncleanable one, oldest first. */
  segments: CleanerSegment[];
  firstDirtyOffset: number;
  /** A position at or before the batch holding firstDirtyOffset, in the segment holding it. */
  firstDirtyPosition: number;
  /** The base offset of the first segment not cleaned (the active one, or one the lag or the high watermark keeps). */
  firstUncleanableOffset: number;
  /** Tombstones in segments last modified at or before this are dropped. */
  deleteHorizonMs: number;
  /** Last offset of each idempotent producer's last batch: those batches are kept, empty if need be. */
  producerLastOffsets: ReadonlyArray<readonly [producerId: number, lastOffset: number]>;
  /** Transactions aborted below firstUncleanableOffset: their records are no record of their keys, and go. */
  abortedTransactions: ReadonlyArray<{ producerId: number; firstOffset: number; lastOffset: number }>;
  segmentBytes: number;
  segmentIndexBytes: number;
  indexIntervalBytes: number;
  maxMessageBytes: number;
}

export interface CleanerStats {
  /** Bytes and records read while building the offset map. */
  mapBytesRead: number;
  mapRecordsRead: number;
  /** Bytes and records read and written while cleaning the groups. */
  bytesRead: number;
  recordsRead: number;
  bytesWritten: number;
  recordsWritten: number;
  /** Keyless records dropped (Kafka's invalid messages). */
  invalidRecords: number;
  /** Tombstones dropped past the delete horizon. */
  tombstonesRemoved: number;
  /** Share of the offset map's bound in use when the map was built. */
  bufferUtilization: number;
  /** Time the throttle slept (log.cleaner.io.max.bytes.per.second). */
  throttledMs: number;
}

export function emptyStats(): CleanerStats {
  return { mapBytesRead: 0, mapRecordsRead: 0, bytesRead: 0, recordsRead: 0, bytesWritten: 0, recordsWritten: 0, invalidRecords: 0, tombstonesRemoved: 0, bufferUtilization: 0, throttledMs: 0 };
}

/** A group's replacement, written and flushed under its .cleaned names. */
export interface CleanedSegment {
  baseOffset: number;
  /** Base offsets of the segments it replaces, oldest first; the first is baseOffset. */
  replaces: number[];
  logPath: string;
  offsetIndexPath: string;
  timeIndexPath: string;
  /** Bytes of the .log, the placeholder included. */
  sizeBytes: number;
  /** Last offset of its last batch (before the placeholder), or -1 when every record went. */
  lastOffset: number;
  /** Bytes of the placeholder batch at the end of the .log, to cut off after the swap; 0: none. */
  placeholderBytes: number;
}

/** The paths of a segment's files with `suffix` (.cleaned, .swap) after each name. */
export function segmentPaths(dir: string, baseOffset: number, suffix = ''): { logPath: string; offsetIndexPath: string; timeIndexPath: string } {
  return {
    logPath: path.join(dir, segmentFileName(baseOffset, LOG_FILE_SUFFIX) + suffix),
    offsetIndexPath: path.join(dir, segmentFileName(baseOffset, OFFSET_INDEX_FILE_SUFFIX) + suffix),
    timeIndexPath: path.join(dir, segmentFileName(baseOffset, TIME_INDEX_FILE_SUFFIX) + suffix),
  };
}

/** Whether the batch at `at` is transactional and of a transaction the task lists as aborted. */
function isAbortedBatch(task: CleanTask, buf: Buffer, at: number, baseOffset: number): boolean {
  if (task.abortedTransactions.length === 0 || (buf.readInt16BE(at + ATTRIBUTES_OFFSET) & TRANSACTIONAL_MASK) === 0) return false;
  const producerId = readInt64(buf, at + PRODUCER_ID_OFFSET);
  return task.abortedTransactions.some((txn) => txn.producerId === producerId && txn.firstOffset <= baseOffset && baseOffset <= txn.lastOffset);
}

/** Where one record of a batch's (inflated) records region lies, and what the cleaner needs of it. */
interface RecordSpans {
  count: number;
  start: Int32Array;
  end: Int32Array;
  keyStart: Int32Array;
  /** -1 for a null key. */
  keyLength: Int32Array;
  offsetDelta: Int32Array;
  timestampDelta: Float64Array;
  nullValue: Uint8Array;
}

export class Cleaner {
  private readBuffer: Buffer;
  private spans: RecordSpans;
  private readonly producerLastOffsets = new Map<number, number>();

  /**
   * `ioBufferBytes`: the read buffer (Kafka's log.cleaner.io.buffer.size share); it grows for a
   * batch larger than itself, up to the batch limit.
   */
  constructor(
    private readonly map: OffsetMap,
    private readonly throttler: Throttler,
    private readonly ioBufferBytes: number,
  ) {
    this.readBuffer = Buffer.allocUnsafe(ioBufferBytes);
    this.spans = allocateSpans(1024);
  }

  /**
   * Kafka's buildOffsetMap: the latest offset of each key in the dirty part, until the map is full.
   * Returns the end offset of this pass: the cleaning covers [log start, endOffset), and endOffset
   * is where the next pass starts.
   */
  buildOffsetMap(task: CleanTask, stats: CleanerStats): number {
    this.map.clear();
    const { firstDirtyOffset, firstUncleanableOffset } = task;
    let full = false;
    for (const segment of task.segments) {
      if (full) break;
      if (segment.endOffset <= firstDirtyOffset || segment.baseOffset >= firstUncleanableOffset) continue;
      const from = segment.baseOffset <= firstDirtyOffset ? task.firstDirtyPosition : 0;
      full = this.withSegment(segment, (fd) => {
        for (const batch of this.readBatches(fd, segment, from, task.maxMessageBytes)) {
          stats.mapBytesRead += batch.sizeBytes;
          const { buf, at } = batch;
          const lastOffset = batch.baseOffset + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
          if (lastOffset < firstDirtyOffset) continue;
          // An aborted transaction's record must not hide the committed value of its key.
          if ((buf.readInt16BE(at + ATTRIBUTES_OFFSET) & CONTROL_MASK) === 0 && !isAbortedBatch(task, buf, at, batch.baseOffset)) {
            const spans = this.scanRecords(buf, at, batch.sizeBytes, task.name);
            for (let i = 0; i < spans.count; i++) {
              const offset = batch.baseOffset + spans.offsetDelta[i]!;
              stats.mapRecordsRead++;
              if (spans.keyLength[i]! < 0 || offset < firstDirtyOffset) continue;
              if (this.map.isFull) return true;
              const keyStart = spans.keyStart[i]!;
              this.map.put(this.recordsBuf, keyStart, keyStart + spans.keyLength[i]!, offset);
            }
          }
          this.map.updateLatestOffset(lastOffset);
        }
        return false;
      });
    }
    stats.bufferUtilization = this.map.utilization;
    return Math.max(this.map.latestOffset + 1, firstDirtyOffset);
  }

  /**
   * Cleans one group (see groupSegmentsBySize) into `<first base>.log.cleaned` and its indexes,
   * flushed, with the last segment's modification time (Kafka keeps it, so the delete horizon of
   * later cleanings still measures from when the data was written).
   */
  cleanSegments(task: CleanTask, group: readonly CleanerSegment[], stats: CleanerStats): CleanedSegment {
    const baseOffset = group[0]!.baseOffset;
    this.producerLastOffsets.clear();
    for (const [producerId, lastOffset] of task.producerLastOffsets) this.producerLastOffsets.set(producerId, lastOffset);
    const paths = segmentPaths(task.dir, baseOffset, CLEANED_FILE_SUFFIX);
    const writer = new CleanedSegmentWriter(paths, baseOffset, task.indexIntervalBytes, task.segmentIndexBytes, this.ioBufferBytes, this.throttler);
    // The header of the group's last batch when it was dropped (see the placeholder above).
    const lastDropped = Buffer.allocUnsafe(BATCH_HEADER_BYTES);
    let lastWasDropped = false;
    try {
      for (const segment of group) {
        const retainDeletes = fs.statSync(segment.logPath).mtimeMs > task.deleteHorizonMs;
        this.withSegment(segment, (fd) => {
          for (const batch of this.readBatches(fd, segment, 0, task.maxMessageBytes)) {
            stats.bytesRead += batch.sizeBytes;
            lastWasDropped = !this.cleanBatch(task, batch, retainDeletes, writer, stats);
            if (lastWasDropped) batch.buf.copy(lastDropped, 0, batch.at, batch.at + BATCH_HEADER_BYTES);
          }
        });
      }
      const placeholder = lastWasDropped ? emptyBatch(lastDropped, 0, true) : undefined;
      const { sizeBytes, lastOffset } = writer.finish(placeholder);
      const modifiedMs = fs.statSync(group[group.length - 1]!.logPath).mtime;
      fs.utimesSync(paths.logPath, modifiedMs, modifiedMs);
      return { baseOffset, replaces: group.map((segment) => segment.baseOffset), ...paths, sizeBytes, lastOffset, placeholderBytes: placeholder?.length ?? 0 };
    } catch (error) {
      writer.abandon();
      throw error;
    }
  }

  /** Writes what is left of one batch; returns false when nothing of it was written. */
  private cleanBatch(task: CleanTask, batch: ReadBatch, retainDeletes: boolean, writer: CleanedSegmentWriter, stats: CleanerStats): boolean {
    const { buf, at, sizeBytes, baseOffset } = batch;
    const recordCount = buf.readInt32BE(at + RECORDS_COUNT_OFFSET);
    stats.recordsRead += recordCount;
    const attributes = buf.readInt16BE(at + ATTRIBUTES_OFFSET);
    const lastOffset = baseOffset + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
    // A batch wholly past the map's reach, or a control batch (a transaction marker, which stays
    // as long as the records it ends might), stays as it is.
    if (baseOffset > this.map.latestOffset || attributes & CONTROL_MASK) {
      writer.append(buf, at, sizeBytes, lastOffset);
      stats.recordsWritten += recordCount;
      stats.bytesWritten += sizeBytes;
      return true;
    }
    const spans = this.scanRecords(buf, at, sizeBytes, task.name);
    const records = this.recordsBuf;
    const kept: number[] = [];
    const aborted = isAbortedBatch(task, buf, at, baseOffset);
    for (let i = 0; i < spans.count; i++) {
      const offset = baseOffset + spans.offsetDelta[i]!;
      if (offset > this.map.latestOffset) {
        kept.push(i);
        continue;
      }
      // Kafka's cleaner removes aborted transactions' records (their ABORT marker stays).
      if (aborted) continue;
      const keyLength = spans.keyLength[i]!;
      if (keyLength < 0) {
        stats.invalidRecords++;
        continue;
      }
      const keyStart = spans.keyStart[i]!;
      const found = this.map.get(records, keyStart, keyStart + keyLength);
      if (found >= 0 && offset < found) continue;
      if (spans.nullValue[i] && !retainDeletes) {
        stats.tombstonesRemoved++;
        continue;
      }
      kept.push(i);
    }
    const producerId = readInt64(buf, at + PRODUCER_ID_OFFSET);
    let out: Buffer;
    let outAt = 0;
    if (kept.length > 0 && kept.length === spans.count) {
      out = buf;
      outAt = at;
    } else if (kept.length > 0) {
      out = rebuildBatch(buf, at, records, spans, kept);
    } else if (producerId >= 0 && this.producerLastOffsets.get(producerId) === lastOffset) {
      out = emptyBatch(buf, at, false);
    } else {
      return false;
    }
    const outBytes = LOG_OVERHEAD + out.readInt32BE(outAt + BATCH_LENGTH_OFFSET);
    writer.append(out, outAt, outBytes, lastOffset);
    stats.recordsWritten += kept.length;
    stats.bytesWritten += outBytes;
    return true;
  }

  /** The bytes the last scanRecords() read records from: the batch itself, or its inflated records. */
  private recordsBuf: Buffer = Buffer.alloc(0);

  /**
   * Locates every record of the batch at buf[at, at + sizeBytes), inflating compressed records
   * (into recordsBuf). Throws CORRUPT_MESSAGE for a record whose fields do not add up.
   */
  private scanRecords(buf: Buffer, at: number, sizeBytes: number, name: string): RecordSpans {
    const count = buf.readInt32BE(at + RECORDS_COUNT_OFFSET);
    const codecId = buf.readInt16BE(at + ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK;
    let records: Buffer;
    let start: number;
    let end: number;
    if (codecId === CompressionId.none) {
      records = buf;
      start = at + RECORDS_OFFSET;
      end = at + sizeBytes;
    } else {
      try {
        records = getCodec(codecId).decompress(buf.subarray(at + RECORDS_OFFSET, at + sizeBytes), INFLATED_BATCH_BYTES_MAX);
      } catch (error) {
        throw new SluiceError('CORRUPT_MESSAGE', `${name}: a batch at offset ${readInt64(buf, at)} does not decompress: ${(error as Error).message}`, { cause: error });
      }
      start = 0;
      end = records.length;
    }
    this.recordsBuf = records;
    if (this.spans.start.length < count) this.spans = allocateSpans(Math.max(count, this.spans.start.length * 2));
    const spans = this.spans;
    const reader = new VarintReader(records, start, end);
    for (let i = 0; i < count; i++) {
      spans.start[i] = reader.pos;
      const length = reader.readVarint();
      const bodyStart = reader.pos;
      if (length < 6 || length > end - bodyStart) throw new SluiceError('CORRUPT_MESSAGE', `${name}: record ${i} of the batch at offset ${readInt64(buf, at)} has length ${length}`);
      reader.readInt8();
      spans.timestampDelta[i] = reader.readVarlong();
      spans.offsetDelta[i] = reader.readVarint();
      const keyLength = reader.readVarint();
      spans.keyLength[i] = keyLength < 0 ? -1 : keyLength;
      spans.keyStart[i] = reader.pos;
      if (keyLength > 0) reader.skip(keyLength);
      spans.nullValue[i] = reader.readVarint() < 0 ? 1 : 0;
      reader.pos = bodyStart + length;
      spans.end[i] = reader.pos;
    }
    spans.count = count;
    return spans;
  }

  private withSegment<T>(segment: CleanerSegment, use: (fd: number) => T): T {
    const fd = fs.openSync(segment.logPath, 'r');
    try {
      return use(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * The whole batches of a segment file from `position` to its size as planned, each checked
   * (size, magic, CRC), read in ioBufferBytes chunks; the buffer grows for a larger batch. A batch
   * yielded is valid until the next one is asked for.
   */
  private *readBatches(fd: number, segment: CleanerSegment, position: number, maxMessageBytes: number): Generator<ReadBatch> {
    const endPosition = segment.sizeBytes;
    while (position < endPosition) {
      const chunkBytes = fs.readSync(fd, this.readBuffer, 0, Math.min(this.readBuffer.length, endPosition - position), position);
      this.throttler.maybeThrottle(chunkBytes);
      let at = 0;
      while (chunkBytes - at >= LOG_OVERHEAD) {
        const sizeBytes = LOG_OVERHEAD + this.readBuffer.readInt32BE(at + BATCH_LENGTH_OFFSET);
        if (sizeBytes < BATCH_HEADER_BYTES) throw corrupt(segment, position + at, `a batch length of ${sizeBytes} bytes`);
        if (at + sizeBytes > chunkBytes) break;
        const reason = checkBatch(this.readBuffer, at, sizeBytes);
        if (reason !== null) throw corrupt(segment, position + at, reason);
        yield { buf: this.readBuffer, at, sizeBytes, baseOffset: readInt64(this.readBuffer, at) };
        at += sizeBytes;
      }
      if (at === 0) {
        // Not one whole batch in the buffer: Kafka's growBuffers, up to the largest batch allowed.
        const needed = chunkBytes >= LOG_OVERHEAD ? LOG_OVERHEAD + this.readBuffer.readInt32BE(BATCH_LENGTH_OFFSET) : LOG_OVERHEAD;
        if (position + needed > endPosition) throw corrupt(segment, position, `a torn batch of ${needed} bytes where ${endPosition - position} remain`);
        const limit = Math.max(maxMessageBytes, this.ioBufferBytes, needed);
        if (needed > SEGMENT_BYTES_MAX || this.readBuffer.length >= limit) throw corrupt(segment, position, `a batch of ${needed} bytes`);
        this.readBuffer = Buffer.allocUnsafe(Math.min(Math.max(this.readBuffer.length * 2, needed), limit));
        continue;
      }
      position += at;
    }
    if (this.readBuffer.length > this.ioBufferBytes) this.readBuffer = Buffer.allocUnsafe(this.ioBufferBytes);
  }
}

interface ReadBatch {
  buf: Buffer;
  at: number;
  sizeBytes: number;
  baseOffset: number;
}

/**
 * Kafka's groupSegmentsBySize: adjacent segments merged while the group's log bytes stay within
 * `segmentBytes`, each index's bytes within `segmentIndexBytes`, and its offsets within 2^31 of the
 * group's base (relative offsets are 4 bytes). A segment's last offset is taken as the next one's
 * base minus one, the last segment's as firstUncleanableOffset minus one.
 */
export function groupSegmentsBySize(
  segments: readonly CleanerSegment[],
  segmentBytes: number,
  segmentIndexBytes: number,
  firstUncleanableOffset: number,
): CleanerSegment[][] {
  const sizes = segments.map((segment) => ({ log: segment.sizeBytes, index: fileBytes(segment.offsetIndexPath), time: fileBytes(segment.timeIndexPath) }));
  const groups: CleanerSegment[][] = [];
  let i = 0;
  while (i < segments.length) {
    const group = [segments[i]!];
    let logBytes = sizes[i]!.log;
    let indexBytes = sizes[i]!.index;
    let timeIndexBytes = sizes[i]!.time;
    i++;
    while (i < segments.length) {
      const next = sizes[i]!;
      const lastOffsetOfNext = i + 1 < segments.length ? segments[i + 1]!.baseOffset - 1 : firstUncleanableOffset - 1;
      const fits =
        logBytes + next.log <= segmentBytes &&
        indexBytes + next.index <= segmentIndexBytes &&
        timeIndexBytes + next.time <= segmentIndexBytes &&
        (next.log === 0 || lastOffsetOfNext - group[0]!.baseOffset <= RELATIVE_OFFSET_MAX);
      if (!fits) break;
      group.push(segments[i]!);
      logBytes += next.log;
      indexBytes += next.index;
      timeIndexBytes += next.time;
      i++;
    }
    groups.push(group);
  }
  return groups;
}

/**
 * The batch at buf[at..] with only the records `kept` (indexes into spans, whose bytes are in
 * `records`): header fields kept but batchLength, recordsCount, maxTimestamp (CreateTime: the
 * largest kept record's) and the CRC; the records recompressed in the batch's codec.
 */
function rebuildBatch(buf: Buffer, at: number, records: Buffer, spans: RecordSpans, kept: readonly number[]): Buffer {
  let rawBytes = 0;
  for (const i of kept) rawBytes += spans.end[i]! - spans.start[i]!;
  const raw = Buffer.allocUnsafe(rawBytes);
  let rawAt = 0;
  const baseTimestamp = readInt64(buf, at + BASE_TIMESTAMP_OFFSET);
  let maxTimestamp = NO_TIMESTAMP;
  for (const i of kept) {
    rawAt += records.copy(raw, rawAt, spans.start[i]!, spans.end[i]!);
    const timestamp = baseTimestamp + spans.timestampDelta[i]!;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
  }
  const attributes = buf.readInt16BE(at + ATTRIBUTES_OFFSET);
  const codecId = attributes & COMPRESSION_CODEC_MASK;
  const body = codecId === CompressionId.none ? raw : getCodec(codecId).compress(raw);
  const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + body.length);
  buf.copy(out, 0, at, at + BATCH_HEADER_BYTES);
  body.copy(out, BATCH_HEADER_BYTES);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  out.writeInt32BE(kept.length, RECORDS_COUNT_OFFSET);
  // Under LogAppendTime the header's maxTimestamp is the broker's stamp and stays.
  if ((attributes & TIMESTAMP_TYPE_MASK) === 0) writeInt64(out, MAX_TIMESTAMP_OFFSET, maxTimestamp);
  stampCrc(out, 0);
  return out;
}

/**
 * Kafka's DefaultRecordBatch.writeEmptyHeader: the batch's offsets, producer fields, epoch and
 * max timestamp with no records, uncompressed, base timestamp -1. A `placeholder` (a group's last
 * batch, kept for its offsets only) gets no producer: replaying it must not teach the producer
 * state a batch that is not the producer's last.
 */
function emptyBatch(buf: Buffer, at: number, placeholder: boolean): Buffer {
  const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES);
  buf.copy(out, 0, at, at + BATCH_HEADER_BYTES);
  out.writeInt32BE(BATCH_HEADER_BYTES - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  out.writeInt16BE(out.readInt16BE(ATTRIBUTES_OFFSET) & ~COMPRESSION_CODEC_MASK, ATTRIBUTES_OFFSET);
  writeInt64(out, BASE_TIMESTAMP_OFFSET, NO_TIMESTAMP);
  if (placeholder) {
    writeInt64(out, PRODUCER_ID_OFFSET, NO_PRODUCER_ID);
    out.writeInt16BE(NO_PRODUCER_EPOCH, PRODUCER_EPOCH_OFFSET);
    out.writeInt32BE(NO_SEQUENCE, BASE_SEQUENCE_OFFSET);
  }
  out.writeInt32BE(0, RECORDS_COUNT_OFFSET);
  stampCrc(out, 0);
  return out;
}

function allocateSpans(capacity: number): RecordSpans {
  return {
    count: 0,
    start: new Int32Array(capacity),
    end: new Int32Array(capacity),
    keyStart: new Int32Array(capacity),
    keyLength: new Int32Array(capacity),
    offsetDelta: new Int32Array(capacity),
    timestampDelta: new Float64Array(capacity),
    nullValue: new Uint8Array(capacity),
  };
}

function corrupt(segment: CleanerSegment, position: number, what: string): SluiceError {
  return new SluiceError('CORRUPT_MESSAGE', `Cannot clean ${segment.logPath}: ${what} at position ${position}`);
}

function fileBytes(filePath: string): number {
  try {
    return fs.statSync(filePath).size;
  } catch {
    return 0;
  }
}

const TWO_POW_32 = 4294967296;

function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}

function writeInt64(buf: Buffer, at: number, value: number): void {
  const hi = Math.floor(value / TWO_POW_32);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(value - hi * TWO_POW_32, at + 4);
}
