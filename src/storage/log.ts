// A partition's log: an ordered list of segments, the last one active. Appends take whole,
// producer-encoded batches, validate them per batch as Kafka's log validator does
// (log-validator.ts: CRC, counts, record structure, timestamps, compression.type), stamp offsets
// into the bytes in place and write them with one pwritev. Opening a log recovers it: a clean shutdown
// costs a check of the active segment's tail; an unclean one rescans from the recovery point.
//
// What replication needs of a log (Kafka's UnifiedLog), the rules of leaders and followers being
// the replica manager's: a leader's appends stamp its leader epoch; a follower appends the leader's
// batches as they are (appendAsFollower); every epoch a batch carries is learned into the
// leader-epoch history (leader-epoch-cache.ts), which answers OffsetForLeaderEpoch; truncateTo cuts
// segments, indexes, producer state and epochs together; and a replicated log stores the high
// watermark it is given (clamped to [log start, log end]), where an unreplicated one reports its
// log end offset.
//
// Segments and indexes are read through memory mappings: every public call that touches them runs
// under whileMapped (mapping-faults.ts), so a page the disk could not serve fails the call with EIO,
// which takes the directory offline, instead of handing out the zeros the addon put in its place.
import fs from 'node:fs';
import path from 'node:path';

import { SluiceError } from '../errors.js';
import { whileMapped } from './mapping-faults.js';
import { BATCH_HEADER_BYTES, BATCH_LENGTH_OFFSET, LOG_OVERHEAD } from '../record/batch-format.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  CONTROL_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  TRANSACTIONAL_MASK,
} from '../record/batch-format.js';
import type { EncodedRecordsSummary } from '../record/batch-encoder.js';
import { checkBatch, decodeBatch, stampBaseOffset, stampPartitionLeaderEpoch } from '../record/batch.js';
import { ControlType, controlTypeOf } from '../record/control-record.js';
import { TIMER_DELAY_MAX_MS } from '../limits.js';
import { binding } from '../native/binding.js';
import { scanBatches } from './batch-scanner.js';
import {
  CLEANED_FILE_SUFFIX,
  DELETED_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  OFFSET_DIGITS,
  OFFSET_INDEX_FILE_SUFFIX,
  SWAP_FILE_SUFFIX,
  TIME_INDEX_FILE_SUFFIX,
  segmentFileName,
} from './index-format.js';
import { syncDirectorySync } from './checkpoint-file.js';
import { LeaderEpochCache, UNDEFINED_EPOCH, type EpochEndOffset, type EpochEntry } from './leader-epoch-cache.js';
import type { LogConfig } from './log-config.js';
import { validateBatchForAppend, type AppendOrigin, type ValidatedBatch } from './log-validator.js';
import { PRODUCER_ID_EXPIRATION_MS, ProducerState, type AbortedTransaction } from './producer-state.js';
import { NO_TIMESTAMP, Segment, isOutOfSpace, type BatchAppendInfo, type SegmentRegion } from './segment.js';

export interface LogOpenOptions {
  dir: string;
  config: LogConfig;
  /** Offset up to which the log is known to be on disk (from the recovery-point checkpoint). */
  recoveryPoint?: number;
  logStartOffset?: number;
  /** The data directory's clean-shutdown marker was present. */
  cleanShutdown?: boolean;
  /**
   * The high watermark from replication-offset-checkpoint: the log is replicated and starts with
   * it (clamped to the recovered log). Without it the log reports its log end offset until a
   * replica manager sets one (updateHighWatermark).
   */
  highWatermark?: number;
  /** Clock for roll and retention decisions; tests move it. */
  nowMs?: () => number;
  /** producer.id.expiration.ms (default a day): see expireProducers. */
  producerIdExpirationMs?: number;
}

export interface AppendOptions {
  /** fdatasync before returning (durable once the promise resolves). */
  sync?: boolean;
  /**
   * A leader's epoch: stamped into each batch's partitionLeaderEpoch and learned into the
   * leader-epoch history. Without it (a single broker) the producer's value stays in the bytes and
   * the history is not touched, since the value means nothing (0 from kafkajs, -1 from Java).
   * Fencing a deposed leader is the replica manager's: an epoch below the latest is stamped but
   * teaches the history nothing.
   */
  leaderEpoch?: number;
  /**
   * `records` is one batch that a BatchEncoder encoded in this process (engine.produce), with the
   * summary of its records the encoder made while writing them: validation takes the CRC and the
   * records' structure, count, timestamps and keys from the encoder instead of reading the bytes
   * again, and checks everything else. Never for bytes that came over a network or from a file.
   */
  encodedHere?: EncodedRecordsSummary;
  /**
   * 'coordinator': a coordinator's batch (Kafka's AppendOrigin.COORDINATOR): the transaction
   * coordinator's markers, control batches a client's append may not hold, or the group
   * coordinator's transactional offset commits; neither carries a sequence. Default 'client'.
   */
  origin?: AppendOrigin;
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
  /** The leader-epoch history was rebuilt from the batches (its checkpoint was missing or corrupt). */
  rebuiltLeaderEpochs: boolean;
  /** Cleaned segments whose swap a crash interrupted, swapped in on open (log-cleaner.ts). */
  completedSwaps: number;
}

/** The steps of the cleaner's swap (replaceSegments), named for the tests that crash between them. */
export type SwapStep = 'swap-renamed' | 'old-deleting' | 'old-deleted' | 'swapped';

/** A batch of a follower's append, checked and located in the records it came in. */
interface ReplicaBatch extends BatchAppendInfo {
  at: number;
  attributes: number;
  baseOffset: number;
  recordCount: number;
  partitionLeaderEpoch: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
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
  /** Deleted segments' files waiting out file.delete.delay.ms (see deleteSegment). */
  private readonly delayedRemovals = new Map<NodeJS.Timeout, string[]>();
  /** Removals of deleted segments' files under way on libuv's threads. */
  private readonly removals = new Set<Promise<void>>();
  /** Idempotent producers' sequence state (rebuilt from the log on open). */
  readonly producers: ProducerState;
  /** producer.id.expiration.ms, as the log manager was opened with it. */
  private readonly producerIdExpirationMs: number;
  /** What opening found and repaired. */
  readonly recovery: LogRecoveryReport = { recoveredSegments: 0, truncatedBytes: 0, deletedSegments: 0, rebuiltLeaderEpochs: false, completedSwaps: 0 };
  /** The partition's leader-epoch history; the log writes it, others read it. */
  private epochs!: LeaderEpochCache;
  /** Set once the log is replicated; undefined: the high watermark is the log end offset. */
  private _highWatermark: number | undefined;

  private constructor(options: LogOpenOptions) {
    this.dir = options.dir;
    this.config = options.config;
    this._logStartOffset = options.logStartOffset ?? 0;
    this._recoveryPoint = options.recoveryPoint ?? 0;
    this.nowMs = options.nowMs ?? Date.now;
    this.lastFlushMs = this.nowMs();
    this.producers = new ProducerState(options.dir);
    this.producerIdExpirationMs = options.producerIdExpirationMs ?? PRODUCER_ID_EXPIRATION_MS;
    this._highWatermark = options.highWatermark;
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

  /**
   * The offset below which records are committed (readable by consumers). An unreplicated log
   * exposes everything appended; a replicated one what its replica manager last set.
   */
  get highWatermark(): number {
    return this._highWatermark ?? this.logEndOffset;
  }

  /**
   * The last stable offset: where read_committed consumers stop, the first offset of the oldest
   * transaction not yet ended (or ended by a marker the high watermark has not passed), else the
   * high watermark (producer-state.ts).
   */
  get lastStableOffset(): number {
    // Never below the log start (Kafka clamps it too): an open transaction whose first records
    // were deleted still holds read_committed readers at the first offset they can read.
    return Math.max(this.producers.lastStableOffset(this.highWatermark), Math.min(this._logStartOffset, this.highWatermark));
  }

  /** The aborted transactions whose records reach into [fromOffset, toOffset), by first offset. */
  abortedTransactions(fromOffset: number, toOffset: number): AbortedTransaction[] {
    return this.producers.abortedTransactions(fromOffset, toOffset);
  }

  /** The log's high watermark is set by replication (from the checkpoint or updateHighWatermark). */
  get isReplicated(): boolean {
    return this._highWatermark !== undefined;
  }

  /**
   * Sets the high watermark, clamped to [log start, log end] as Kafka's updateHighWatermark does,
   * and makes the log replicated (its high watermark no longer follows its end). The leader's rule
   * (min LEO of the ISR) and the follower's (the leader's, capped by its own LEO) are the caller's.
   * Returns the value stored.
   */
  updateHighWatermark(offset: number): number {
    if (!Number.isSafeInteger(offset)) throw new RangeError(`High watermark ${offset} is not an offset`);
    this._highWatermark = Math.min(Math.max(offset, this._logStartOffset), this.logEndOffset);
    return this._highWatermark;
  }

  /** updateHighWatermark, only when it moves the high watermark forward; returns whether it did. */
  maybeIncrementHighWatermark(offset: number): boolean {
    const before = this._highWatermark;
    if (before !== undefined && offset <= before) return false;
    return this.updateHighWatermark(offset) !== before;
  }

  // ---- leader epochs -------------------------------------------------------------------------

  /** The partition's leader-epoch history, for reading (the log is its only writer). */
  get leaderEpochCache(): LeaderEpochCache {
    return this.epochs;
  }

  /** The latest leader epoch the log holds data of (or was assigned as leader), or -1. */
  get latestEpoch(): number {
    return this.epochs.latestEpoch;
  }

  /**
   * A replica becoming leader of `epoch` records that the epoch starts at its log end (Kafka's
   * maybeAssignEpochStartOffset), so OffsetForLeaderEpoch answers for it before it appends. Kafka's
   * assign rules apply: the latest epoch again is a no-op; an older epoch would replace the entries
   * it contradicts, so a replica manager passes only epochs it has fenced the older ones with.
   */
  assignEpochStartOffset(epoch: number, startOffset = this.logEndOffset): void {
    this.ensureOpen();
    this.epochs.assign(epoch, startOffset);
  }

  /** OffsetForLeaderEpoch against this log: the largest epoch <= `epoch` and its end offset. */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.epochs.endOffsetFor(epoch, this.logEndOffset);
  }

  /** The leader epoch of the record at `offset`, or -1 before the first known epoch. */
  epochForOffset(offset: number): number {
    return this.epochs.epochForOffset(offset);
  }

  /**
   * What each batch's partitionLeaderEpoch teaches: an epoch larger than the latest starts at the
   * batch's base offset; a smaller or equal one teaches nothing (Kafka's follower and recovery
   * rule), and -1 (no leader stamped it) neither.
   */
  private learnEpoch(epoch: number, baseOffset: number): void {
    if (epoch > this.epochs.latestEpoch) this.epochs.assign(epoch, baseOffset);
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Base offsets of the segments, oldest first. */
  segmentBaseOffsets(): number[] {
    return this.segments.map((segment) => segment.baseOffset);
  }

  /** The segments as they are now, oldest first, the active one last (a copy of the list). */
  segmentList(): readonly Segment[] {
    return this.segments.slice();
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
    // Index entries are written through a mapping, whose pages may have to be read in first.
    return whileMapped(this.dir, () => this.appendMapped(records, options));
  }

  private appendMapped(records: Buffer, options: AppendOptions): AppendResult {
    this.ensureOpen();
    if (options.leaderEpoch !== undefined && !(Number.isInteger(options.leaderEpoch) && options.leaderEpoch >= 0 && options.leaderEpoch <= 2 ** 31 - 1)) {
      throw new RangeError(`Leader epoch ${options.leaderEpoch} is not an int32 >= 0`);
    }
    const nowMs = this.nowMs();
    const batches = this.validateForAppend(records, nowMs, options.encodedHere, options.origin);
    const duplicate = this.checkProducers(batches, options.origin ?? 'client');
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
    // The epoch is on disk before the data that carries it (leader-epoch-cache.ts says why).
    if (options.leaderEpoch !== undefined) this.learnEpoch(options.leaderEpoch, baseOffset);

    if (this.activeSegment.shouldRoll(sizeBytes, lastOffset, maxTimestamp, nowMs)) this.roll(baseOffset);
    this.activeSegment.append(buffers, { lastOffset, maxTimestamp, offsetOfMaxTimestamp, sizeBytes });

    let batchOffset = baseOffset;
    for (const batch of batches) {
      if (batch.producerId >= 0) {
        this.recordProducerBatch(batch, batchOffset, batch.maxTimestamp > 0 ? batch.maxTimestamp : nowMs, () => controlTypeOf(batch.buffer, batch.at, batch.sizeBytes));
      }
      batchOffset += batch.lastOffsetDelta + 1;
    }
    this.unflushedMessages += recordCount;
    if (this.unflushedMessages >= this.config.flushMessages) void this.flushInBackground();
    else this.scheduleTimedFlush();
    return { baseOffset, lastOffset, logAppendTime, recordCount, batchCount: batches.length, duplicate: false };
  }

  /**
   * Appends batches a leader wrote (Kafka's appendAsFollower): their offsets and leader epochs are
   * the leader's, so the bytes land as they came. Each batch is checked whole, magic 2 and CRC
   * (CORRUPT_MESSAGE), and the offsets must go on from the log end without an overlap
   * (OFFSET_OUT_OF_RANGE for the first batch, CORRUPT_MESSAGE between batches). A gap is Kafka's
   * rule too: a compacted leader's log has gaps where the cleaner removed whole batches. Nothing is written
   * unless every batch passes. What only a producer's batch needs is skipped, as Kafka skips it for
   * replicas: max.message.bytes, timestamp bounds, compression.type, control batches, sequence
   * checks. The epochs the batches carry are learned, and idempotent producers' state is rebuilt
   * from them, so that this replica, once leader, still answers a producer's retry of a copied batch
   * as a duplicate. A trailing incomplete batch (a fetch cut at its byte limit) is left for the next
   * fetch. Synchronous, like a fetcher's append in Kafka: flush() makes it durable.
   */
  appendAsFollower(records: Buffer): AppendResult {
    return whileMapped(this.dir, () => this.appendAsFollowerMapped(records));
  }

  private appendAsFollowerMapped(records: Buffer): AppendResult {
    this.ensureOpen();
    const batches = this.checkReplicaBatches(records);
    if (batches.length === 0) {
      return { baseOffset: this.logEndOffset, lastOffset: this.logEndOffset - 1, logAppendTime: -1, recordCount: 0, batchCount: 0, duplicate: false };
    }
    const first = batches[0]!;
    if (first.baseOffset < this.logEndOffset) {
      // The leader's log start may fall inside a batch (DeleteRecords): a follower with nothing yet
      // fetches from there and gets the whole batch, so it restarts its log at the batch's base,
      // keeping its log start (Kafka does the same in Partition on UnexpectedAppendOffsetException).
      const straddles = first.baseOffset < this.logEndOffset && first.lastOffset >= this.logEndOffset;
      if (!(straddles && this.logEndOffset === this._logStartOffset)) {
        throw new SluiceError(
          'OFFSET_OUT_OF_RANGE',
          `A follower append must start at or after the log end offset ${this.logEndOffset}, but its first batch holds offsets [${first.baseOffset}, ${first.lastOffset}]`,
        );
      }
      this.truncateFullyAndStartAt(first.baseOffset, this._logStartOffset);
    }
    // The epochs are on disk before the data that carries them (leader-epoch-cache.ts says why).
    for (const batch of batches) this.learnEpoch(batch.partitionLeaderEpoch, batch.baseOffset);

    const nowMs = this.nowMs();
    let recordCount = 0;
    for (let start = 0; start < batches.length; ) {
      // As many batches as the active segment takes go in one write; a roll starts the next.
      let end = start;
      let sizeBytes = 0;
      let maxTimestamp = NO_TIMESTAMP;
      let offsetOfMaxTimestamp = -1;
      while (end < batches.length) {
        const batch = batches[end]!;
        if (this.activeSegment.shouldRoll(sizeBytes + batch.sizeBytes, batch.lastOffset, Math.max(maxTimestamp, batch.maxTimestamp), nowMs)) {
          if (end > start) break;
          this.roll(batch.baseOffset);
        }
        sizeBytes += batch.sizeBytes;
        if (batch.maxTimestamp > maxTimestamp) {
          maxTimestamp = batch.maxTimestamp;
          offsetOfMaxTimestamp = batch.lastOffset;
        }
        end++;
      }
      const group = batches.slice(start, end);
      const last = group[group.length - 1]!;
      this.activeSegment.append([records.subarray(group[0]!.at, last.at + last.sizeBytes)], {
        lastOffset: last.lastOffset,
        maxTimestamp,
        offsetOfMaxTimestamp,
        sizeBytes,
        batches: group,
      });
      for (const batch of group) {
        recordCount += batch.recordCount;
        if (batch.producerId < 0) continue;
        const header = { ...batch, lastOffsetDelta: batch.lastOffset - batch.baseOffset };
        this.recordProducerBatch(header, batch.baseOffset, batch.maxTimestamp > 0 ? batch.maxTimestamp : nowMs, () => controlTypeOf(records, batch.at, batch.sizeBytes));
      }
      start = end;
    }
    this.unflushedMessages += recordCount;
    if (this.unflushedMessages >= this.config.flushMessages) void this.flushInBackground();
    else this.scheduleTimedFlush();
    const lastBatch = batches[batches.length - 1]!;
    return { baseOffset: first.baseOffset, lastOffset: lastBatch.lastOffset, logAppendTime: -1, recordCount, batchCount: batches.length, duplicate: false };
  }

  /** Splits a follower's records into batches and checks each (see appendAsFollower). */
  private checkReplicaBatches(records: Buffer): ReplicaBatch[] {
    const batches: ReplicaBatch[] = [];
    let at = 0;
    while (records.length - at >= BATCH_HEADER_BYTES) {
      const sizeBytes = LOG_OVERHEAD + records.readInt32BE(at + BATCH_LENGTH_OFFSET);
      if (sizeBytes >= BATCH_HEADER_BYTES && at + sizeBytes > records.length) break;
      const reason = checkBatch(records, at);
      if (reason !== null) throw new SluiceError('CORRUPT_MESSAGE', `Replicated records: ${reason}`);
      const baseOffset = readInt64(records, at);
      const lastOffsetDelta = records.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      if (!Number.isSafeInteger(baseOffset) || baseOffset < 0 || lastOffsetDelta < 0) {
        throw new SluiceError('CORRUPT_MESSAGE', `Replicated batch at byte ${at} has offsets [${baseOffset}, +${lastOffsetDelta}]`);
      }
      const previous = batches[batches.length - 1];
      if (previous && baseOffset <= previous.lastOffset) {
        throw new SluiceError('CORRUPT_MESSAGE', `Replicated batch at byte ${at} starts at offset ${baseOffset}, but the batch before it ends at ${previous.lastOffset}`);
      }
      batches.push({
        at,
        sizeBytes,
        baseOffset,
        lastOffset: baseOffset + lastOffsetDelta,
        maxTimestamp: readInt64(records, at + MAX_TIMESTAMP_OFFSET),
        recordCount: records.readInt32BE(at + RECORDS_COUNT_OFFSET),
        partitionLeaderEpoch: records.readInt32BE(at + PARTITION_LEADER_EPOCH_OFFSET),
        producerId: readInt64(records, at + PRODUCER_ID_OFFSET),
        producerEpoch: records.readInt16BE(at + PRODUCER_EPOCH_OFFSET),
        baseSequence: records.readInt32BE(at + BASE_SEQUENCE_OFFSET),
        attributes: records.readInt16BE(at + ATTRIBUTES_OFFSET),
      });
      at += sizeBytes;
    }
    return batches;
  }

  /**
   * Sequence checks for idempotent batches (Kafka requires one batch per partition in a produce
   * request, so a duplicate is a whole request). Returns the original append of a duplicate.
   */
  private checkProducers(batches: ValidatedBatch[], origin: AppendOrigin): AppendResult | null {
    const idempotent = batches.filter((batch) => batch.producerId >= 0);
    if (idempotent.length === 0) return null;
    if (batches.length > 1) {
      throw new SluiceError('INVALID_RECORD', `An idempotent producer's append must hold exactly one batch, not ${batches.length}`);
    }
    const batch = idempotent[0]!;
    // A coordinator's batch (a marker, or a group coordinator's transactional offsets) has no
    // sequence to check, only its producer's epoch (Kafka checks sequences for clients only).
    if (origin === 'coordinator') {
      this.producers.checkMarker(batch.producerId, batch.producerEpoch);
      return null;
    }
    const original = this.producers.check(batch, (batch.attributes & TRANSACTIONAL_MASK) !== 0);
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
  private validateForAppend(records: Buffer, nowMs: number, encodedHere: EncodedRecordsSummary | undefined, origin: AppendOrigin = 'client'): ValidatedBatch[] {
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
      if (encodedHere !== undefined && (at !== 0 || sizeBytes !== records.length)) {
        throw new RangeError(`an encodedHere append holds exactly one batch: ${records.length} bytes hold one of ${sizeBytes} at byte ${at}`);
      }
      batches.push(validateBatchForAppend(records, at, sizeBytes, this.config, nowMs, path.basename(this.dir), encodedHere, origin));
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
    // Off the append path, as Kafka's since KAFKA-15046 (producer-state.ts says why).
    this.producers.writeSnapshotInBackground(this.logEndOffset);
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
    }, Math.min(dueInMs, TIMER_DELAY_MAX_MS));
    this.flushTimer.unref();
  }

  // ---- reads ---------------------------------------------------------------------------------

  /**
   * Whole batches starting with the one that holds `startOffset`, up to `maxBytes` (at least one
   * batch unless minOneBatch is false), from a single segment. Null at the end of the log.
   * Offsets below the log start or above the log end are OFFSET_OUT_OF_RANGE.
   */
  read(startOffset: number, maxBytes: number, options: ReadOptions = {}): LogRead | null {
    return whileMapped(this.dir, () => this.readMapped(startOffset, maxBytes, options));
  }

  private readMapped(startOffset: number, maxBytes: number, options: ReadOptions): LogRead | null {
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
    return whileMapped(this.dir, () => read.segment.readBytes(read.region.position, read.region.sizeBytes));
  }

  /**
   * The bytes of a read() without copying them: a view over the segment's read mapping, which
   * stays readable after the segment is deleted (segment-mapping.ts); a copy when the file cannot
   * be mapped.
   */
  readView(read: LogRead): Buffer {
    return read.segment.view(read.region.position, read.region.sizeBytes) ?? this.readBytes(read);
  }

  /**
   * Copies the bytes of a read() into `target` from `targetOffset` (which must have room for
   * region.sizeBytes); returns the bytes copied. Lets a consumer reuse one buffer for every read.
   */
  readInto(read: LogRead, target: Uint8Array, targetOffset = 0): number {
    if (target.length - targetOffset < read.region.sizeBytes) {
      throw new RangeError(`readInto: ${read.region.sizeBytes} bytes do not fit in ${target.length - targetOffset}`);
    }
    return whileMapped(this.dir, () => read.segment.readInto(read.region.position, read.region.sizeBytes, target, targetOffset));
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
    return whileMapped(this.dir, () => this.offsetForTimestampMapped(timestamp));
  }

  private offsetForTimestampMapped(timestamp: number): { offset: number; timestamp: number } | null {
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
    return whileMapped(this.dir, () => this.maxTimestampAndOffsetMapped());
  }

  private maxTimestampAndOffsetMapped(): { offset: number; timestamp: number } | null {
    let best: { offset: number; timestamp: number } | null = null;
    for (const segment of this.segments) {
      const timestamp = segment.largestTimestamp();
      if (timestamp !== NO_TIMESTAMP && (!best || timestamp > best.timestamp)) {
        const found = this.offsetForTimestampMapped(timestamp);
        if (found) best = found;
      }
    }
    return best;
  }

  // ---- truncation and retention --------------------------------------------------------------

  /**
   * Removes every batch from the one holding `offset` on (a follower cutting its divergent tail,
   * KIP-101). The log end becomes the first removed batch's base offset (`offset` itself at a batch
   * boundary, which is where epochs and high watermarks fall). Segments, indexes, producer state,
   * the leader-epoch history, the high watermark, the recovery point and the log start all follow.
   * Returns whether anything was removed. At or past the log end only the epoch history is cut to
   * it, as Kafka does: a leader that assigned an epoch and appended nothing leaves an entry there.
   */
  truncateTo(offset: number): boolean {
    return whileMapped(this.dir, () => this.truncateToMapped(offset));
  }

  private truncateToMapped(offset: number): boolean {
    this.ensureOpen();
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`Cannot truncate to offset ${offset}`);
    if (offset >= this.logEndOffset) {
      this.epochs.truncateFromEnd(this.logEndOffset);
      return false;
    }
    if (offset < this.segments[0]!.baseOffset) {
      this.truncateFullyAndStartAt(offset);
      return true;
    }
    while (this.segments.length > 1 && this.activeSegment.baseOffset > offset) {
      this.deleteSegment(this.segments.pop()!);
      this.directoryDirty = true;
    }
    this.activeSegment.becomeActive();
    this.activeSegment.truncateTo(offset);
    // The log never ends past `offset` (Kafka's LocalLog.truncateTo sets its end to `offset`).
    // Where compaction emptied the segment below it (segment 40..80 cleaned to nothing, truncated
    // to 50), no batch is cut and the segment's own end stays at 80: a follower would then fetch
    // from 80 and skip the leader's 50-79. A cut inside a batch still ends the log at that batch's
    // start (offset 7 in the batch [6, 7]: 6), below `offset`, where nothing is skipped either.
    this.activeSegment.nextOffset = Math.min(this.activeSegment.nextOffset, offset);
    const logEndOffset = this.logEndOffset;
    if (this._recoveryPoint > logEndOffset) this._recoveryPoint = logEndOffset;
    if (this._logStartOffset > logEndOffset) this._logStartOffset = logEndOffset;
    if (this._highWatermark !== undefined && this._highWatermark > logEndOffset) this._highWatermark = logEndOffset;
    this.reloadProducerState();
    this.epochs.truncateFromEnd(logEndOffset);
    return true;
  }

  /**
   * Deletes everything and starts an empty log at `offset` (a follower too far behind the leader's
   * log start). The log start becomes `logStartOffset`, which a follower whose first fetched batch
   * begins below its log start keeps above the segment's base.
   */
  truncateFullyAndStartAt(offset: number, logStartOffset = offset): void {
    this.ensureOpen();
    for (const segment of this.segments) this.deleteSegment(segment);
    this.segments = [];
    const segment = this.openSegment(offset, true);
    segment.recover();
    this.segments.push(segment);
    this.directoryDirty = true;
    this._logStartOffset = logStartOffset;
    this._recoveryPoint = offset;
    if (this._highWatermark !== undefined) this._highWatermark = Math.max(offset, logStartOffset);
    this.producers.clear();
    this.producers.deleteSnapshot();
    this.epochs.clear();
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
    this.epochs.truncateFromStart(this._logStartOffset);
    this.producers.dropAbortedBefore(this._logStartOffset);
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

  /**
   * Deletes the oldest segments while `predicate` holds. As in Kafka, a segment whose records reach
   * the high watermark is kept, so the log start never passes it (unreplicated, the high watermark
   * is the log end, and the active segment is never deleted anyway).
   */
  private deleteSegmentsWhile(predicate: (segment: Segment, next: Segment | undefined) => boolean): number {
    let deleted = 0;
    while (this.segments.length > 1) {
      const segment = this.segments[0]!;
      const next = this.segments[1]!;
      if (next.baseOffset > this.highWatermark || !predicate(segment, next)) break;
      this.segments.shift();
      this.deleteSegment(segment);
      deleted++;
    }
    if (this.segments[0]!.baseOffset > this._logStartOffset) this._logStartOffset = this.segments[0]!.baseOffset;
    if (deleted > 0) {
      this.directoryDirty = true;
      this.epochs.truncateFromStart(this._logStartOffset);
      this.producers.dropAbortedBefore(this._logStartOffset);
    }
    return deleted;
  }

  // ---- the cleaner's swap --------------------------------------------------------------------

  /**
   * Swaps a cleaned segment in for the segments it replaces (Kafka's replaceSegments), on the event
   * loop between appends and reads. The cleaner wrote `<base>.log.cleaned` and its indexes
   * (flushed), `base` being old[0]'s base offset; here they are renamed to `.swap`, the old
   * segments are deleted (each renamed to .deleted first), and the `.swap` files renamed to the live
   * names. A crash leaves either the old segments and a .cleaned (deleted on open) or a .swap
   * (its swap is completed on open, see cleanDirectory), never a mixture. Then the .log is cut to
   * `keepBytes` when given (the cleaner's placeholder batch at its end served only the swap).
   * Readers holding an old segment keep its descriptor (Segment.pin); the list of segments changes
   * in one step. Returns null, changing nothing, when `old` are no longer adjacent closed segments
   * of this log (retention, DeleteRecords or a truncation took some while the cleaner worked): the
   * caller then deletes the .cleaned files. `onStep` is for tests that crash between the steps.
   */
  replaceSegments(old: readonly Segment[], keepBytes?: number, onStep?: (step: SwapStep) => void): Segment | null {
    this.ensureOpen();
    const first = this.segments.indexOf(old[0]!);
    const after = first + old.length;
    if (first < 0 || after >= this.segments.length || old.some((segment, i) => this.segments[first + i] !== segment)) return null;
    const baseOffset = old[0]!.baseOffset;
    const next = this.segments[after]!;
    const names = [OFFSET_INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX, LOG_FILE_SUFFIX].map((suffix) => path.join(this.dir, segmentFileName(baseOffset, suffix)));
    // The indexes before the .log: only a .log.swap starts a swap on open (whose indexes are rebuilt).
    for (const live of names) fs.renameSync(live + CLEANED_FILE_SUFFIX, live + SWAP_FILE_SUFFIX);
    onStep?.('swap-renamed');
    for (let i = old.length - 1; i >= 0; i--) {
      this.deleteSegment(old[i]!);
      if (i === old.length - 1) onStep?.('old-deleting');
    }
    onStep?.('old-deleted');
    for (const live of names) fs.renameSync(live + SWAP_FILE_SUFFIX, live);
    onStep?.('swapped');
    if (keepBytes !== undefined) fs.truncateSync(names[2]!, keepBytes);
    this.directoryDirty = true;
    const segment = this.openSegment(baseOffset, false);
    try {
      if (!segment.indexesLookSane()) segment.recover();
    } catch (error) {
      segment.close();
      throw error;
    }
    segment.nextOffset = next.baseOffset;
    this.segments.splice(first, old.length, segment);
    // The names are durable at the next flush; a crash of the process alone loses none of them.
    void syncDirectory(this.dir).catch(() => {});
    return segment;
  }

  /**
   * Takes a segment out of the log: its files are renamed to `*.deleted` now and removed on
   * libuv's threads after file.delete.delay.ms, as Kafka's asyncDeleteSegment. Removing them on
   * the event loop held it 120-225 ms a 1 GiB segment (measured: an unlink frees the file's
   * extents and drops its cached pages), a stall of every client of a broker for each segment
   * retention took; readers that pinned the segment keep reading from their descriptors.
   */
  private deleteSegment(segment: Segment): void {
    const files = segment.markDeleted();
    const timer = setTimeout(() => {
      this.delayedRemovals.delete(timer);
      this.removeFiles(files);
    }, Math.min(this.config.fileDeleteDelayMs, TIMER_DELAY_MAX_MS));
    timer.unref();
    this.delayedRemovals.set(timer, files);
  }

  private removeFiles(files: readonly string[]): void {
    const removal = Promise.all(files.map((file) => fs.promises.rm(file, { force: true })))
      .then(
        () => {},
        () => {}, // what is left is removed by the next open (cleanDirectory)
      )
      .finally(() => this.removals.delete(removal));
    this.removals.add(removal);
  }

  /**
   * Settles once the log's background writes are done: the roll's producer snapshot, and the
   * removal of deleted segments' files (close() starts those still waiting out
   * file.delete.delay.ms, so after a close this is every deleted file).
   */
  async settled(): Promise<void> {
    await this.producers.snapshotWritten();
    while (this.removals.size > 0) await Promise.all(this.removals);
  }

  // ---- lifetime ------------------------------------------------------------------------------

  /**
   * Forgets the producers whose last batch is producer.id.expiration.ms old or more, unless a
   * transaction of theirs is open, as Kafka's removeExpiredProducers does every
   * producer.id.expiration.check.interval.ms: a batch of a forgotten producer is taken with any
   * sequence, so a retry that comes this late is appended again. Returns how many went.
   */
  expireProducers(): number {
    return this.producers.expire(this.nowMs(), this.producerIdExpirationMs);
  }

  /**
   * Closes every segment (the active one's indexes are trimmed), after writing the producer
   * snapshot unless `snapshot: false` (a log about to be deleted). Does not flush: see flush().
   */
  close(options: { snapshot?: boolean } = {}): void {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const [timer, files] of this.delayedRemovals) {
      clearTimeout(timer);
      this.removeFiles(files);
    }
    this.delayedRemovals.clear();
    try {
      // Writing one (with its fsync) for each log deleted was 85% of a cluster broker's time
      // deleting 2,000 logs.
      if (options.snapshot !== false) {
        this.expireProducers();
        this.producers.writeSnapshot(this.logEndOffset);
      }
    } finally {
      for (const segment of this.segments) segment.close();
    }
  }

  /** Closes the log and removes its directory. */
  delete(): void {
    this.close({ snapshot: false });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // ---- loading -------------------------------------------------------------------------------

  private load(cleanShutdown: boolean): void {
    // Read before the segments load: truncateFullyAndStartAt below must see the history it clears.
    this.epochs = LeaderEpochCache.open(this.dir);
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
    this.loadLeaderEpochs();
    if (this._highWatermark !== undefined) this.updateHighWatermark(this._highWatermark);
  }

  /**
   * The leader-epoch history as of the recovered log. A checkpoint that loaded is cut to the log:
   * entries at or past the log end describe data a crash took (they were written before it), and
   * history below the log start went with retention; the file is left as it is, and the next open
   * cuts it again, until the next change rewrites it. A missing or corrupt checkpoint of a
   * replicated log is rebuilt from the batches' partitionLeaderEpoch, the rule appends learn by,
   * and written, so that the header scan (one read per batch) is paid once. An unreplicated log
   * (no checkpointed high watermark) has no checkpoint because it never learned an epoch: its
   * batches carry whatever the producer wrote there (0 from kafkajs, -1 from Java), and it is left
   * without one, so a single broker writes and scans nothing more at open than it did.
   */
  private loadLeaderEpochs(): void {
    if (this.epochs.openedFrom === 'loaded') {
      this.epochs.truncateFromEnd(this.logEndOffset, false);
      this.epochs.truncateFromStart(this._logStartOffset, false);
      return;
    }
    if (this.epochs.openedFrom === 'missing' && (!this.isReplicated || this.logEndOffset === this.segments[0]!.baseOffset)) return;
    // From the batch holding the log start, whose epoch then starts at the log start, as
    // truncateFromStart would leave it.
    const starts: EpochEntry[] = [];
    let latest = UNDEFINED_EPOCH;
    for (let i = this.segmentIndexFor(this._logStartOffset); i < this.segments.length; i++) {
      for (const batch of this.segments[i]!.batchesFrom(this._logStartOffset)) {
        if (batch.partitionLeaderEpoch <= latest) continue;
        latest = batch.partitionLeaderEpoch;
        starts.push({ epoch: latest, startOffset: Math.max(batch.baseOffset, this._logStartOffset) });
      }
    }
    this.recovery.rebuiltLeaderEpochs = true;
    try {
      this.epochs.rebuild(starts);
    } catch (error) {
      // The history is in memory and can always be rebuilt again: a full disk must not stop the
      // log from opening for it (the next open scans again).
      if (!isOutOfSpace(error)) throw error;
    }
  }

  /**
   * Producer state after a truncation: the snapshot if it is as of an offset the log still holds
   * (then the batches after it are replayed), else a replay of the whole log. A snapshot past the
   * new end describes batches that are gone, and is deleted: left there, a log that grows past its
   * offset again would load it on the next open.
   */
  private reloadProducerState(): void {
    const snapshotOffset = this.producers.loadSnapshot();
    // A roll's snapshot still being written counts as there: deleting supersedes it too.
    const pastEnd = (offset: number | null) => offset !== null && offset > this.logEndOffset;
    if (pastEnd(snapshotOffset) || pastEnd(this.producers.pendingSnapshotOffset())) this.producers.deleteSnapshot();
    this.rebuildProducerState(snapshotOffset);
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
      const segment = this.segments[i]!;
      for (const batch of segment.batchesFrom(from)) {
        if (batch.producerId < 0) continue;
        const header = { ...batch, lastOffsetDelta: batch.lastOffset - batch.baseOffset };
        this.recordProducerBatch(header, batch.baseOffset, batch.maxTimestamp, () => controlTypeOf(segment.readBytes(batch.position, batch.sizeBytes), 0, batch.sizeBytes));
      }
    }
    this.producers.dropAbortedBefore(this._logStartOffset);
  }

  /**
   * Records a producer's appended batch at `baseOffset` in the producer state: a transactional
   * batch opens its producer's transaction, a COMMIT or ABORT marker (`controlType` reads it,
   * only for a control batch) ends it.
   */
  private recordProducerBatch(
    batch: { producerId: number; producerEpoch: number; baseSequence: number; lastOffsetDelta: number; attributes: number },
    baseOffset: number,
    timestamp: number,
    controlType: () => number,
  ): void {
    if ((batch.attributes & CONTROL_MASK) === 0) {
      this.producers.record(batch, baseOffset, timestamp, (batch.attributes & TRANSACTIONAL_MASK) !== 0);
      return;
    }
    const type = controlType();
    if (type === ControlType.COMMIT || type === ControlType.ABORT) {
      this.producers.recordMarker(batch.producerId, batch.producerEpoch, baseOffset, type === ControlType.COMMIT, timestamp);
    }
  }

  /**
   * Finishes interrupted deletions and swaps, and removes index files with no .log beside them;
   * returns the base offsets of the segments, ascending. As Kafka's LogLoader: a `.cleaned` file is
   * a cleaning that did not reach its swap and is deleted; a `.log.swap` is a swap under way,
   * completed here: the live segments its offsets cover (from its base offset to its last batch)
   * are deleted and it takes their place, its indexes rebuilt (index files named .swap are
   * deleted). A .swap above the lowest .cleaned belongs to an operation that did not finish and is
   * deleted too, Kafka's rule.
   */
  private cleanDirectory(): number[] {
    let names = fs.readdirSync(this.dir);
    const swapSuffix = LOG_FILE_SUFFIX + SWAP_FILE_SUFFIX;
    const cleanedBases = names.filter((name) => name.endsWith(CLEANED_FILE_SUFFIX)).map((name) => Number(name.slice(0, OFFSET_DIGITS)));
    const minCleanedBase = cleanedBases.length > 0 ? Math.min(...cleanedBases) : Infinity;
    const swaps: number[] = [];
    for (const name of names) {
      if (name.endsWith(swapSuffix) && isSegmentName(name, swapSuffix) && Number(name.slice(0, OFFSET_DIGITS)) <= minCleanedBase) {
        swaps.push(Number(name.slice(0, OFFSET_DIGITS)));
        continue;
      }
      if (name.endsWith(DELETED_FILE_SUFFIX) || name.endsWith(CLEANED_FILE_SUFFIX) || name.endsWith(SWAP_FILE_SUFFIX)) fs.rmSync(path.join(this.dir, name), { force: true });
    }
    if (swaps.length > 0) {
      for (const baseOffset of swaps.sort((a, b) => a - b)) this.completeSwap(baseOffset, names);
      names = fs.readdirSync(this.dir);
    }
    const logNames = new Set(names.filter((name) => name.endsWith(LOG_FILE_SUFFIX) && isSegmentName(name, LOG_FILE_SUFFIX)));
    for (const name of names) {
      const orphanIndex =
        [OFFSET_INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX].some((suffix) => name.endsWith(suffix) && isSegmentName(name, suffix)) &&
        !logNames.has(name.slice(0, OFFSET_DIGITS) + LOG_FILE_SUFFIX);
      if (orphanIndex) fs.rmSync(path.join(this.dir, name), { force: true });
    }
    return [...logNames].map((name) => Number(name.slice(0, OFFSET_DIGITS))).sort((a, b) => a - b);
  }

  /** Completes the swap of `<baseOffset>.log.swap` over the live segments it covers (see cleanDirectory). */
  private completeSwap(baseOffset: number, names: readonly string[]): void {
    const livePath = path.join(this.dir, segmentFileName(baseOffset, LOG_FILE_SUFFIX));
    const swapPath = livePath + SWAP_FILE_SUFFIX;
    // The swap file was flushed before its rename, so its batches are whole: the last one ends its range.
    const file = new binding.SegmentFile(swapPath, { create: false, readOnly: true });
    let endOffset = baseOffset;
    try {
      for (const batch of scanBatches(file, 0, file.size())) endOffset = batch.lastOffset + 1;
    } finally {
      file.close();
    }
    for (const name of names) {
      if (!(name.endsWith(LOG_FILE_SUFFIX) && isSegmentName(name, LOG_FILE_SUFFIX))) continue;
      const oldBase = Number(name.slice(0, OFFSET_DIGITS));
      if (oldBase !== baseOffset && !(oldBase > baseOffset && oldBase < endOffset)) continue;
      const oldPath = path.join(this.dir, name);
      if (!fs.existsSync(oldPath)) continue;
      fs.renameSync(oldPath, oldPath + DELETED_FILE_SUFFIX);
      for (const suffix of [OFFSET_INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX]) fs.rmSync(path.join(this.dir, segmentFileName(oldBase, suffix)), { force: true });
      fs.rmSync(oldPath + DELETED_FILE_SUFFIX, { force: true });
    }
    fs.renameSync(swapPath, livePath);
    syncDirectorySync(this.dir);
    this.recovery.completedSwaps++;
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

const TWO_POW_32 = 4294967296;

/** An int64 field as a number (offsets and timestamps stay below 2^53). */
function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
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
