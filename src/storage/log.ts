// A partition's log: an ordered list of segments, the last one active. Appends take whole,
// producer-encoded batches, validate them per batch as Kafka's log validator does
// (log-validator.ts: CRC, counts, record structure, timestamps, compression.type), stamp offsets
// into the bytes in place and write them with one pwritev. Opening a log recovers it: a clean shutdown
// costs a check of the active segment's tail; an unclean one rescans from the recovery point.
import fs from 'node:fs';
import path from 'node:path';

import { SluiceError } from '../errors.js';
import { BATCH_HEADER_BYTES, BATCH_LENGTH_OFFSET, LOG_OVERHEAD } from '../record/batch-format.js';
import { decodeBatch, stampBaseOffset, stampPartitionLeaderEpoch } from '../record/batch.js';
import {
  DELETED_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  OFFSET_DIGITS,
  OFFSET_INDEX_FILE_SUFFIX,
  TIME_INDEX_FILE_SUFFIX,
  segmentFileName,
} from './index-format.js';
import type { LogConfig } from './log-config.js';
import { validateBatchForAppend, type ValidatedBatch } from './log-validator.js';
import { ProducerState } from './producer-state.js';
import { NO_TIMESTAMP, Segment, type SegmentRegion } from './segment.js';

export interface LogOpenOptions {
  dir: string;
  config: LogConfig;
  /** Offset up to which the log is known to be on disk (from the recovery-point checkpoint). */
  recoveryPoint?: number;
  logStartOffset?: number;
  /** The data directory's clean-shutdown marker was present. */
  cleanShutdown?: boolean;
  /** Clock for roll and retention decisions; tests move it. */
  nowMs?: () => number;
}

export interface AppendOptions {
  /** fdatasync before returning (durable once the promise resolves). */
  sync?: boolean;
  /** Stamp the partition leader epoch into each batch (replication); default leaves the producer's. */
  leaderEpoch?: number;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** The broker's timestamp when the topic uses LogAppendTime, else -1 (Kafka's convention). */
  logAppendTime: number;
  recordCount: number;
  batchCount: number;
  /** An idempotent producer's retry of a batch already in the log: nothing was appended. */
  duplicate: boolean;
}

export interface ReadOptions {
  /** Exclusive upper bound (the high watermark): batches at or beyond it are not returned. */
  maxOffset?: number;
  minOneBatch?: boolean;
}

/** Whole batches from one segment: its region, and the segment to copy or sendfile them from. */
export interface LogRead {
  segment: Segment;
  region: SegmentRegion;
}

export interface LogRecoveryReport {
  recoveredSegments: number;
  truncatedBytes: number;
  deletedSegments: number;
}

export class Log {
  readonly dir: string;
  private config: LogConfig;
  private segments: Segment[] = [];
  private _logStartOffset: number;
  private _recoveryPoint: number;
  private unflushedMessages = 0;
  private lastFlushMs: number;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushInFlight: Promise<void> | undefined;
  private nextFlush: Promise<void> | undefined;
  /** A segment file was created or removed since the last flush: the directory needs an fsync too. */
  private directoryDirty = true;
  private readonly nowMs: () => number;
  /** Each segment's roll jitter, drawn when it was opened (segment.jitter.ms). */
  private readonly rollJitterMs = new WeakMap<Segment, number>();
  private closed = false;
  /** Idempotent producers' sequence state (rebuilt from the log on open). */
  readonly producers: ProducerState;
  /** What opening found and repaired. */
  readonly recovery: LogRecoveryReport = { recoveredSegments: 0, truncatedBytes: 0, deletedSegments: 0 };

  private constructor(options: LogOpenOptions) {
    this.dir = options.dir;
    this.config = options.config;
    this._logStartOffset = options.logStartOffset ?? 0;
    this._recoveryPoint = options.recoveryPoint ?? 0;
    this.nowMs = options.nowMs ?? Date.now;
    this.lastFlushMs = this.nowMs();
    this.producers = new ProducerState(options.dir);
  }

  static open(options: LogOpenOptions): Log {
    const log = new Log(options);
    fs.mkdirSync(log.dir, { recursive: true });
    try {
      log.load(options.cleanShutdown ?? false);
    } catch (error) {
      for (const segment of log.segments) segment.close();
      throw error;
    }
    return log;
  }

  // ---- state ---------------------------------------------------------------------------------

  get logEndOffset(): number {
    return this.activeSegment.nextOffset;
  }

  get logStartOffset(): number {
    return this._logStartOffset;
  }

  get recoveryPoint(): number {
    return this._recoveryPoint;
  }

  /** Single-replica logs expose everything appended; replication will hold this back to the ISR. */
  get highWatermark(): number {
    return this.logEndOffset;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Base offsets of the segments, oldest first. */
  segmentBaseOffsets(): number[] {
    return this.segments.map((segment) => segment.baseOffset);
  }

  sizeBytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.sizeBytes();
    return total;
  }

  get currentConfig(): Readonly<LogConfig> {
    return this.config;
  }

  updateConfig(config: LogConfig): void {
    this.config = config;
    for (const segment of this.segments) segment.updateConfig(this.segmentConfig(segment));
  }

  /**
   * Opens a segment of this log with its own roll jitter (segment.jitter.ms): Kafka draws a
   * random amount below min(segment.jitter.ms, segment.ms) once per segment and rolls it that much
   * before segment.ms, so that partitions created together do not all roll at once.
   */
  private openSegment(baseOffset: number, active: boolean): Segment {
    const { segmentJitterMs, segmentMs } = this.config;
    const jitterMs = segmentJitterMs > 0 ? Math.floor(Math.random() * Math.min(segmentJitterMs, segmentMs)) : 0;
    const segment = Segment.open(this.dir, baseOffset, { ...this.config, segmentMs: segmentMs - jitterMs }, active);
    this.rollJitterMs.set(segment, jitterMs);
    return segment;
  }

  /** The config a segment rolls by: the log's, with segment.ms shortened by the segment's jitter. */
  private segmentConfig(segment: Segment): LogConfig {
    const jitterMs = this.rollJitterMs.get(segment) ?? 0;
    return jitterMs === 0 ? this.config : { ...this.config, segmentMs: Math.max(1, this.config.segmentMs - jitterMs) };
  }

  private get activeSegment(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  private ensureOpen(): void {
    if (this.closed) throw new SluiceError('ENGINE_CLOSED', `Log ${this.dir} is closed`);
  }

  // ---- appends -------------------------------------------------------------------------------

  /**
   * Appends one or more whole batches (the bytes of a produce request's records field). Every
   * batch is checked before anything is written, so a bad batch appends nothing. Offsets are
   * assigned by writing the base offset into each batch's bytes: `records` is modified in place.
   */
  async append(records: Buffer, options: AppendOptions = {}): Promise<AppendResult> {
    const result = this.appendSync(records, options);
    if (options.sync) await this.flush();
    return result;
  }

  /** The write half of append(), without waiting for any flush. */
  appendSync(records: Buffer, options: AppendOptions = {}): AppendResult {
    this.ensureOpen();
    const nowMs = this.nowMs();
    const batches = this.validateForAppend(records, nowMs);
    const duplicate = this.checkProducers(batches);
    if (duplicate) return duplicate;
    const logAppendTime = this.config.messageTimestampType === 'LogAppendTime' ? nowMs : -1;

    const baseOffset = this.logEndOffset;
    let nextOffset = baseOffset;
    let maxTimestamp = NO_TIMESTAMP;
    let offsetOfMaxTimestamp = -1;
    let recordCount = 0;
    let sizeBytes = 0;
    let rewritten = false;
    for (const batch of batches) {
      stampBaseOffset(batch.buffer, batch.at, nextOffset);
      if (options.leaderEpoch !== undefined) stampPartitionLeaderEpoch(batch.buffer, batch.at, options.leaderEpoch);
      nextOffset += batch.lastOffsetDelta + 1;
      recordCount += batch.recordCount;
      sizeBytes += batch.sizeBytes;
      if (batch.buffer !== records) rewritten = true;
      if (batch.maxTimestamp > maxTimestamp) {
        maxTimestamp = batch.maxTimestamp;
        offsetOfMaxTimestamp = nextOffset - 1;
      }
    }
    const lastOffset = nextOffset - 1;
    // The request's bytes go out as one buffer unless a batch was recompressed into its own.
    const buffers = rewritten ? batches.map((batch) => batch.buffer.subarray(batch.at, batch.at + batch.sizeBytes)) : [records];

    if (this.activeSegment.shouldRoll(sizeBytes, lastOffset, maxTimestamp, nowMs)) this.roll(baseOffset);
    this.activeSegment.append(buffers, { lastOffset, maxTimestamp, offsetOfMaxTimestamp, sizeBytes });

    let batchOffset = baseOffset;
    for (const batch of batches) {
      if (batch.producerId >= 0) this.producers.record(batch, batchOffset, batch.maxTimestamp > 0 ? batch.maxTimestamp : nowMs);
      batchOffset += batch.lastOffsetDelta + 1;
    }
    this.unflushedMessages += recordCount;
    if (this.unflushedMessages >= this.config.flushMessages) void this.flushInBackground();
    else this.scheduleTimedFlush();
    return { baseOffset, lastOffset, logAppendTime, recordCount, batchCount: batches.length, duplicate: false };
  }

  /**
   * Sequence checks for idempotent batches (Kafka requires one batch per partition in a produce
   * request, so a duplicate is a whole request). Returns the original append of a duplicate.
   */
  private checkProducers(batches: ValidatedBatch[]): AppendResult | null {
    const idempotent = batches.filter((batch) => batch.producerId >= 0);
    if (idempotent.length === 0) return null;
    if (batches.length > 1) {
      throw new SluiceError('INVALID_RECORD', `An idempotent producer's append must hold exactly one batch, not ${batches.length}`);
    }
    const batch = idempotent[0]!;
    const original = this.producers.check(batch);
    if (!original) return null;
    return {
      baseOffset: original.firstOffset,
      lastOffset: original.lastOffset,
      logAppendTime: -1,
      recordCount: 0,
      batchCount: 0,
      duplicate: true,
    };
  }

  /**
   * Splits the request's records into batches and validates each as Kafka's log validator does
   * (log-validator.ts): nothing is written unless every batch passes.
   */
  private validateForAppend(records: Buffer, nowMs: number): ValidatedBatch[] {
    if (records.length > this.config.segmentBytes) {
      throw new SluiceError('RECORD_LIST_TOO_LARGE', `Records of ${records.length} bytes exceed segment.bytes (${this.config.segmentBytes})`);
    }
    const batches: ValidatedBatch[] = [];
    let at = 0;
    while (at < records.length) {
      if (records.length - at < BATCH_HEADER_BYTES) {
        throw new SluiceError('CORRUPT_MESSAGE', `Records end with ${records.length - at} bytes, too few for a batch header (${BATCH_HEADER_BYTES})`);
      }
      const sizeBytes = LOG_OVERHEAD + records.readInt32BE(at + BATCH_LENGTH_OFFSET);
      if (sizeBytes > this.config.maxMessageBytes) {
        throw new SluiceError('MESSAGE_TOO_LARGE', `A batch of ${sizeBytes} bytes exceeds max.message.bytes (${this.config.maxMessageBytes})`);
      }
      if (sizeBytes < BATCH_HEADER_BYTES || at + sizeBytes > records.length) {
        throw new SluiceError('CORRUPT_MESSAGE', `Batch at byte ${at} declares ${sizeBytes} bytes, but ${records.length - at} remain`);
      }
      batches.push(validateBatchForAppend(records, at, sizeBytes, this.config, nowMs));
      at += sizeBytes;
    }
    if (batches.length === 0) throw new SluiceError('CORRUPT_MESSAGE', 'No batch to append');
    // Recompression (compression.type) may have grown the batches past what a segment holds.
    const sizeBytes = batches.reduce((sum, batch) => sum + batch.sizeBytes, 0);
    if (sizeBytes > this.config.segmentBytes) {
      throw new SluiceError('RECORD_LIST_TOO_LARGE', `Records of ${sizeBytes} bytes as stored exceed segment.bytes (${this.config.segmentBytes})`);
    }
    return batches;
  }

  /** Starts a new active segment at `baseOffset`; the old one is trimmed and flushed in the background. */
  roll(baseOffset = this.logEndOffset): Segment {
    this.ensureOpen();
    const previous = this.activeSegment;
    if (previous.sizeBytes() === 0 && previous.baseOffset === baseOffset) return previous;
    previous.becomeInactive();
    // As Kafka does at each roll: recovery after a crash replays at most one segment's headers.
    this.producers.writeSnapshot(this.logEndOffset);
    const segment = this.openSegment(baseOffset, true);
    segment.recover();
    this.segments.push(segment);
    this.directoryDirty = true;
    // Kafka flushes the rolled segment asynchronously, so the recovery point can move past it.
    void this.flushInBackground();
    return segment;
  }

  // ---- durability ----------------------------------------------------------------------------

  /**
   * fdatasyncs every segment appended to since the last flush, then moves the recovery point to
   * the log end offset as it was when the flush began. Callers arriving while a flush runs share
   * the next one (group commit): N concurrent sync appends cost two fdatasyncs, not N.
   */
  flush(): Promise<void> {
    if (this.flushInFlight) {
      this.nextFlush ??= this.flushInFlight.then(() => {
        this.nextFlush = undefined;
        return this.flush();
      });
      return this.nextFlush;
    }
    const flushing = this.flushOnce().finally(() => {
      if (this.flushInFlight === flushing) this.flushInFlight = undefined;
    });
    this.flushInFlight = flushing;
    return flushing;
  }

  private async flushOnce(): Promise<void> {
    const upToOffset = this.logEndOffset;
    this.unflushedMessages = 0;
    this.lastFlushMs = this.nowMs();
    const dirty = this.segments.filter((segment) => segment.nextOffset > this._recoveryPoint || segment.isActive);
    const syncDir = this.directoryDirty;
    this.directoryDirty = false;
    await Promise.all(dirty.map((segment) => segment.flush()));
    if (syncDir) await syncDirectory(this.dir);
    if (upToOffset > this._recoveryPoint) this._recoveryPoint = upToOffset;
  }

  private flushInBackground(): Promise<void> {
    return this.flush().catch(() => {
      // A background flush that fails leaves the recovery point where it was; the next open
      // rescans from there, which is exactly the safety net a failed flush needs.
    });
  }

  private scheduleTimedFlush(): void {
    if (!Number.isFinite(this.config.flushMs) || this.flushTimer) return;
    const dueInMs = Math.max(0, this.config.flushMs - (this.nowMs() - this.lastFlushMs));
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (!this.closed) void this.flushInBackground();
    }, dueInMs);
    this.flushTimer.unref();
  }

  // ---- reads ---------------------------------------------------------------------------------

  /**
   * Whole batches starting with the one that holds `startOffset`, up to `maxBytes` (at least one
   * batch unless minOneBatch is false), from a single segment. Null at the end of the log.
   * Offsets below the log start or above the log end are OFFSET_OUT_OF_RANGE.
   */
  read(startOffset: number, maxBytes: number, options: ReadOptions = {}): LogRead | null {
    this.ensureOpen();
    this.checkOffsetInRange(startOffset);
    const maxOffset = Math.min(options.maxOffset ?? this.logEndOffset, this.logEndOffset);
    if (startOffset >= maxOffset) return null;
    for (let i = this.segmentIndexFor(startOffset); i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      if (segment.baseOffset >= maxOffset) return null;
      const region = segment.read(Math.max(startOffset, segment.baseOffset), maxBytes, this.maxPosition(segment, maxOffset), options.minOneBatch ?? true);
      if (region) return { segment, region };
    }
    return null;
  }

  /** Reads and copies the bytes of a read() (the path for embedded callers and TLS). */
  readBytes(read: LogRead): Buffer {
    return read.segment.readBytes(read.region.position, read.region.sizeBytes);
  }

  /**
   * Copies the bytes of a read() into `target` from `targetOffset` (which must have room for
   * region.sizeBytes); returns the bytes copied. Lets a consumer reuse one buffer for every read.
   */
  readInto(read: LogRead, target: Uint8Array, targetOffset = 0): number {
    if (target.length - targetOffset < read.region.sizeBytes) {
      throw new RangeError(`readInto: ${read.region.sizeBytes} bytes do not fit in ${target.length - targetOffset}`);
    }
    return read.segment.readInto(read.region.position, read.region.sizeBytes, target, targetOffset);
  }

  /** Where reads of `segment` must stop so that no batch at or past `maxOffset` is returned. */
  private maxPosition(segment: Segment, maxOffset: number): number {
    if (maxOffset >= segment.nextOffset) return segment.sizeBytes();
    return segment.translateOffset(maxOffset)?.position ?? segment.sizeBytes();
  }

  checkOffsetInRange(offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < this._logStartOffset || offset > this.logEndOffset) {
      throw new SluiceError(
        'OFFSET_OUT_OF_RANGE',
        `Offset ${offset} is out of range: the log holds [${this._logStartOffset}, ${this.logEndOffset})`,
      );
    }
  }

  /** Index of the segment holding `offset`: the last one whose base offset is <= it. */
  private segmentIndexFor(offset: number): number {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  /**
   * The first record whose timestamp is >= `timestamp` and offset >= the log start (Kafka's
   * ListOffsets by time), or null when every record is older.
   */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | null {
    this.ensureOpen();
    for (const segment of this.segments) {
      if (segment.largestTimestamp() < timestamp) continue;
      const first = segment.findBatchByTimestamp(timestamp);
      if (!first) continue;
      // Usually the first batch whose maxTimestamp reaches the target holds the record; the scan
      // goes on when it does not (its records lie below the log start, or a compressed batch's
      // header, kept as the producer wrote it, claims more than its records hold).
      for (const batch of segment.batchesFrom(first.baseOffset)) {
        if (batch.maxTimestamp < timestamp || batch.lastOffset < this._logStartOffset) continue;
        const { records } = decodeBatch(segment.readBytes(batch.position, batch.sizeBytes));
        for (const record of records) {
          if (record.timestamp >= timestamp && record.offset >= this._logStartOffset) return { offset: record.offset, timestamp: record.timestamp };
        }
      }
    }
    return null;
  }

  /** The largest timestamp in the log and the offset of its record's batch (ListOffsets -3). */
  maxTimestampAndOffset(): { offset: number; timestamp: number } | null {
    let best: { offset: number; timestamp: number } | null = null;
    for (const segment of this.segments) {
      const timestamp = segment.largestTimestamp();
      if (timestamp !== NO_TIMESTAMP && (!best || timestamp > best.timestamp)) {
        const found = this.offsetForTimestamp(timestamp);
        if (found) best = found;
      }
    }
    return best;
  }

  // ---- truncation and retention --------------------------------------------------------------

  /**
   * Removes every batch from the one holding `offset` on (replication truncates a follower to the
   * leader's log). The log end becomes the first removed batch's base offset.
   */
  truncateTo(offset: number): void {
    this.ensureOpen();
    if (offset >= this.logEndOffset) return;
    if (offset <= this.segments[0]!.baseOffset && offset < this._logStartOffset) {
      this.truncateFullyAndStartAt(offset);
      return;
    }
    while (this.segments.length > 1 && this.activeSegment.baseOffset > offset) {
      this.segments.pop()!.delete();
    }
    this.activeSegment.becomeActive();
    this.activeSegment.truncateTo(offset);
    if (this._recoveryPoint > this.logEndOffset) this._recoveryPoint = this.logEndOffset;
    this.rebuildProducerState(null);
  }

  /** Deletes everything and starts an empty log at `offset`. */
  truncateFullyAndStartAt(offset: number): void {
    this.ensureOpen();
    for (const segment of this.segments) segment.delete();
    this.segments = [];
    const segment = this.openSegment(offset, true);
    segment.recover();
    this.segments.push(segment);
    this.directoryDirty = true;
    this._logStartOffset = offset;
    this._recoveryPoint = offset;
    this.producers.clear();
    this.producers.deleteSnapshot();
  }

  /**
   * Moves the log start offset forward (DeleteRecords): records below it are no longer readable,
   * and whole segments below it are deleted. Beyond the high watermark is OFFSET_OUT_OF_RANGE.
   */
  deleteRecordsBefore(offset: number): number {
    this.ensureOpen();
    if (!Number.isSafeInteger(offset) || offset > this.highWatermark || offset < 0) {
      throw new SluiceError('OFFSET_OUT_OF_RANGE', `Cannot delete records before ${offset}: the high watermark is ${this.highWatermark}`);
    }
    if (offset > this._logStartOffset) this._logStartOffset = offset;
    this.deleteSegmentsWhile((_segment, next) => next !== undefined && next.baseOffset <= this._logStartOffset);
    return this._logStartOffset;
  }

  /**
   * Kafka's retention pass over closed segments: delete the oldest while they are past
   * retention.ms, while the log exceeds retention.bytes by at least the segment (both only with
   * cleanup.policy delete), or while they lie wholly below the log start offset. The active
   * segment is never deleted.
   */
  deleteRetainedSegments(): number {
    this.ensureOpen();
    const nowMs = this.nowMs();
    // Time and size retention belong to cleanup.policy=delete; a compact-only topic keeps its
    // segments for the cleaner (Kafka's LogManager skips them too).
    const retains = this.config.cleanupPolicy.includes('delete');
    let excessBytes = retains && this.config.retentionBytes >= 0 ? this.sizeBytes() - this.config.retentionBytes : -1;
    return this.deleteSegmentsWhile((segment, next) => {
      const belowStart = next !== undefined && next.baseOffset <= this._logStartOffset;
      const expired = retains && this.config.retentionMs >= 0 && nowMs - this.segmentTimestamp(segment) > this.config.retentionMs;
      const oversized = excessBytes >= 0 && excessBytes - segment.sizeBytes() >= 0;
      if (!(belowStart || expired || oversized)) return false;
      if (excessBytes >= 0) excessBytes -= segment.sizeBytes();
      return true;
    });
  }

  private segmentTimestamp(segment: Segment): number {
    const timestamp = segment.largestTimestamp();
    return timestamp !== NO_TIMESTAMP ? timestamp : fs.statSync(segment.logPath).mtimeMs;
  }

  private deleteSegmentsWhile(predicate: (segment: Segment, next: Segment | undefined) => boolean): number {
    let deleted = 0;
    while (this.segments.length > 1) {
      const segment = this.segments[0]!;
      if (!predicate(segment, this.segments[1])) break;
      this.segments.shift();
      segment.delete();
      deleted++;
    }
    if (this.segments[0]!.baseOffset > this._logStartOffset) this._logStartOffset = this.segments[0]!.baseOffset;
    return deleted;
  }

  // ---- lifetime ------------------------------------------------------------------------------

  /** Closes every segment (the active one's indexes are trimmed). Does not flush: see flush(). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    try {
      this.producers.expire(this.nowMs());
      this.producers.writeSnapshot(this.logEndOffset);
    } finally {
      for (const segment of this.segments) segment.close();
    }
  }

  /** Closes the log and removes its directory. */
  delete(): void {
    this.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // ---- loading -------------------------------------------------------------------------------

  private load(cleanShutdown: boolean): void {
    const baseOffsets = this.cleanDirectory();
    if (baseOffsets.length === 0) baseOffsets.push(this._logStartOffset);
    const recoverFromBase = cleanShutdown ? Infinity : floorOf(baseOffsets, this._recoveryPoint);

    for (let i = 0; i < baseOffsets.length; i++) {
      const baseOffset = baseOffsets[i]!;
      const isLast = i === baseOffsets.length - 1;
      const indexesExisted = indexFilesExist(this.dir, baseOffset);
      const segment = this.openSegment(baseOffset, isLast);
      this.segments.push(segment);
      if (!isLast) segment.nextOffset = baseOffsets[i + 1]!;

      const mustRecover = baseOffset >= recoverFromBase || !indexesExisted || !segment.indexesLookSane();
      if (!mustRecover && !isLast) continue;
      const result = mustRecover ? segment.recover() : segment.loadTail();
      if (mustRecover) this.recovery.recoveredSegments++;
      this.recovery.truncatedBytes += result.truncatedBytes;
      if (result.truncatedBytes > 0 && !isLast) {
        // Everything after a corrupt byte is suspect: Kafka drops the later segments, and so do we.
        for (const later of baseOffsets.slice(i + 1)) {
          Segment.open(this.dir, later, this.config, false).delete();
          this.recovery.deletedSegments++;
        }
        segment.becomeActive();
        break;
      }
    }

    if (this.segments[0]!.baseOffset > this._logStartOffset) this._logStartOffset = this.segments[0]!.baseOffset;
    if (this._logStartOffset > this.logEndOffset) this.truncateFullyAndStartAt(this._logStartOffset);
    if (this._recoveryPoint > this.logEndOffset) this._recoveryPoint = this.logEndOffset;
    if (cleanShutdown) this._recoveryPoint = this.logEndOffset;
    this.rebuildProducerState(this.producers.loadSnapshot());
  }

  /**
   * Replays idempotent batch headers after `snapshotOffset` (null: from the log start) into the
   * producer state. A snapshot past the log end (the log was cut by recovery) is discarded.
   */
  private rebuildProducerState(snapshotOffset: number | null): void {
    let from = snapshotOffset;
    if (from === null || from > this.logEndOffset || from < this._logStartOffset) {
      this.producers.clear();
      from = this._logStartOffset;
    }
    for (let i = this.segmentIndexFor(from); i < this.segments.length; i++) {
      for (const batch of this.segments[i]!.batchesFrom(from)) {
        if (batch.producerId < 0) continue;
        this.producers.record(
          { producerId: batch.producerId, producerEpoch: batch.producerEpoch, baseSequence: batch.baseSequence, lastOffsetDelta: batch.lastOffset - batch.baseOffset },
          batch.baseOffset,
          batch.maxTimestamp,
        );
      }
    }
  }

  /**
   * Finishes interrupted deletions and removes index files with no .log beside them; returns the
   * base offsets of the segments, ascending.
   */
  private cleanDirectory(): number[] {
    const names = fs.readdirSync(this.dir);
    const logNames = new Set(names.filter((name) => name.endsWith(LOG_FILE_SUFFIX) && isSegmentName(name, LOG_FILE_SUFFIX)));
    for (const name of names) {
      const stale =
        name.endsWith(DELETED_FILE_SUFFIX) ||
        name.endsWith('.cleaned') ||
        name.endsWith('.swap') ||
        ([OFFSET_INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX].some((suffix) => name.endsWith(suffix) && isSegmentName(name, suffix)) &&
          !logNames.has(name.slice(0, OFFSET_DIGITS) + LOG_FILE_SUFFIX));
      if (stale) fs.rmSync(path.join(this.dir, name), { force: true });
    }
    return [...logNames].map((name) => Number(name.slice(0, OFFSET_DIGITS))).sort((a, b) => a - b);
  }
}

function isSegmentName(name: string, suffix: string): boolean {
  return name.length === OFFSET_DIGITS + suffix.length && /^\d+$/.test(name.slice(0, OFFSET_DIGITS));
}

function indexFilesExist(dir: string, baseOffset: number): boolean {
  return [OFFSET_INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX].every((suffix) => fs.existsSync(path.join(dir, segmentFileName(baseOffset, suffix))));
}

/** The largest value in sorted `values` that is <= `target`, or the first value. */
function floorOf(values: number[], target: number): number {
  let floor = values[0]!;
  for (const value of values) if (value <= target) floor = value;
  return floor;
}

/** fsync a directory so that created, renamed and deleted names survive a power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
