// One segment of a partition log: the .log file and its two sparse indexes, named by the base
// offset. A segment appends whole batches, finds the batch holding an offset through the offset
// index plus a short header walk, and rebuilds its indexes from the .log after a crash.
// Not safe for concurrent use: the Log above it serialises appends (JS runs them on one thread).
import fs from 'node:fs';
import path from 'node:path';

import { SluiceError } from '../errors.js';
import { binding, type MappedIndex, type NativeError, type SegmentFile } from '../native/binding.js';
import { IndexView } from './index-view.js';
import { BATCH_HEADER_BYTES, BATCH_LENGTH_OFFSET, LAST_OFFSET_DELTA_OFFSET, LOG_OVERHEAD, MAX_TIMESTAMP_OFFSET } from '../record/batch-format.js';
import { validateBatch } from '../record/batch.js';
import { INDEX_ALLOCATION_BYTES, MAPPED_ACTIVE_SEGMENT_BYTES_MIN, RECOVERY_READ_BYTES, RELATIVE_OFFSET_MAX } from '../limits.js';
import { scanBatches, type BatchPosition } from './batch-scanner.js';
import { SegmentMapping } from './segment-mapping.js';
import {
  DELETED_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  OFFSET_INDEX_ENTRY_BYTES,
  OFFSET_INDEX_FILE_SUFFIX,
  TIME_INDEX_ENTRY_BYTES,
  TIME_INDEX_FILE_SUFFIX,
  segmentFileName,
} from './index-format.js';
import type { LogConfig } from './log-config.js';

/** Kafka's RecordBatch.NO_TIMESTAMP. */
export const NO_TIMESTAMP = -1;

/** Whole batches of a segment: the file region a read or a sendfile covers. */
export interface SegmentRegion {
  position: number;
  sizeBytes: number;
  /** Base offset of the first batch (may be below the offset asked for). */
  firstOffset: number;
  /** Last offset of the last batch. */
  lastOffset: number;
}

/** What an append tells the segment about the batches it writes. */
export interface AppendInfo {
  lastOffset: number;
  maxTimestamp: number;
  offsetOfMaxTimestamp: number;
  sizeBytes: number;
  /**
   * Each batch, in order, when the append writes many (a follower copies up to
   * replica.fetch.max.bytes at once): the index then gets an entry every index.interval.bytes
   * inside the append, as Kafka's LogSegment does, instead of one for the whole write.
   */
  batches?: readonly BatchAppendInfo[];
}

export interface BatchAppendInfo {
  lastOffset: number;
  maxTimestamp: number;
  sizeBytes: number;
}

export interface RecoveryResult {
  /** Bytes cut from the end of the .log because they were not whole, valid batches. */
  truncatedBytes: number;
  batchCount: number;
}

export class Segment {
  readonly baseOffset: number;
  readonly logPath: string;
  readonly offsetIndexPath: string;
  readonly timeIndexPath: string;
  /** The offset after the last batch; the base offset while empty. */
  nextOffset: number;
  /** Largest timestamp appended so far and the offset that carried it (feeds the time index). */
  maxTimestamp = NO_TIMESTAMP;
  private offsetOfMaxTimestamp = -1;
  private bytesSinceLastIndexEntry = 0;
  /** segment.ms counts from the first batch's max timestamp, as Kafka does, else from creation. */
  private rollingBasedTimestamp: number | undefined;
  private readonly createdMs = Date.now();
  private active: boolean;
  private closed = false;
  /** Readers holding the .log descriptor (a queued sendfile); close() waits for the last. */
  private pins = 0;
  private closeFileWhenUnpinned = false;
  /** Index file sizes before the active segment's were grown: a sane index holds whole entries. */
  private indexFileBytesAtOpen = { offset: 0, time: 0 };
  /** The .log mapped for reads, made by the first read that walks or copies. */
  private readonly mapping: SegmentMapping;

  private constructor(
    readonly dir: string,
    baseOffset: number,
    private config: LogConfig,
    private readonly file: SegmentFile,
    private readonly offsetIndex: MappedIndex,
    private readonly timeIndex: MappedIndex,
    active: boolean,
  ) {
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.logPath = file.path;
    this.offsetIndexPath = offsetIndex.path;
    this.timeIndexPath = timeIndex.path;
    this.active = active;
    this.mapping = new SegmentMapping(file);
  }

  /**
   * Opens (creating when missing) the segment's files. The active segment's indexes are mapped at
   * segment.index.bytes; a closed segment's at their trimmed size. State past the indexes (next
   * offset, max timestamp) is loaded by loadTail() or recover(), which the Log calls next.
   */
  static open(dir: string, baseOffset: number, config: LogConfig, active: boolean): Segment {
    const logPath = path.join(dir, segmentFileName(baseOffset, LOG_FILE_SUFFIX));
    const offsetIndexPath = path.join(dir, segmentFileName(baseOffset, OFFSET_INDEX_FILE_SUFFIX));
    const timeIndexPath = path.join(dir, segmentFileName(baseOffset, TIME_INDEX_FILE_SUFFIX));
    const indexFileBytes = { offset: fileBytes(offsetIndexPath), time: fileBytes(timeIndexPath) };
    const file = new binding.SegmentFile(logPath);
    const indexes: MappedIndex[] = [];
    try {
      const offsetBytes = indexBytes(indexFileBytes.offset, OFFSET_INDEX_ENTRY_BYTES, config, active);
      indexes.push(new IndexView(new binding.MappedIndex(offsetIndexPath, { kind: 'offset', maxBytes: offsetBytes })));
      const timeBytes = indexBytes(indexFileBytes.time, TIME_INDEX_ENTRY_BYTES, config, active);
      indexes.push(new IndexView(new binding.MappedIndex(timeIndexPath, { kind: 'time', maxBytes: timeBytes })));
    } catch (error) {
      for (const index of indexes) index.close();
      file.close();
      throw error;
    }
    const segment = new Segment(dir, baseOffset, config, file, indexes[0]!, indexes[1]!, active);
    segment.indexFileBytesAtOpen = indexFileBytes;
    if (active && config.preallocate) {
      try {
        file.preallocate(config.segmentBytes);
      } catch (error) {
        segment.closeFiles();
        throw segment.outOfSpace(error, `preallocating ${path.basename(logPath)} (preallocate=true)`, config.segmentBytes);
      }
    }
    return segment;
  }

  get isActive(): boolean {
    return this.active;
  }

  sizeBytes(): number {
    return this.file.size();
  }

  /** The .log descriptor, for sendfile. */
  get fd(): number {
    return this.file.fd;
  }

  updateConfig(config: LogConfig): void {
    this.config = config;
  }

  // ---- loading and recovery ------------------------------------------------------------------

  /**
   * Cheap checks that the index files belong to this .log: whole entries, a last offset entry
   * pointing inside the file, time index entries in order. Kafka's sanityCheck, plus the position.
   * A closed segment's indexes were trimmed to their entries, so a file longer than its entries
   * (which end at the file's first hole) was left mid-rebuild or lost pages.
   */
  indexesLookSane(): boolean {
    const offsetEntries = this.offsetIndex.entries();
    const timeEntries = this.timeIndex.entries();
    if (this.indexFileBytesAtOpen.offset % OFFSET_INDEX_ENTRY_BYTES !== 0) return false;
    if (this.indexFileBytesAtOpen.time % TIME_INDEX_ENTRY_BYTES !== 0) return false;
    if (
      !this.active &&
      (offsetEntries * OFFSET_INDEX_ENTRY_BYTES !== this.indexFileBytesAtOpen.offset ||
        timeEntries * TIME_INDEX_ENTRY_BYTES !== this.indexFileBytesAtOpen.time)
    ) {
      return false;
    }
    if (offsetEntries > 0) {
      const last = offsetEntries - 1;
      // The first batch of a segment is never indexed, so a real entry's relative offset is > 0.
      if (this.offsetIndex.keyAt(last) <= 0 || this.offsetIndex.valueAt(last) >= this.file.size()) return false;
    }
    if (timeEntries > 0 && this.timeIndex.keyAt(timeEntries - 1) < this.timeIndex.keyAt(0)) return false;
    return true;
  }

  /**
   * Loads the state after a clean shutdown: validates the batches after the last index entry
   * (at most index.interval.bytes plus one batch), so a torn tail is caught even when the
   * shutdown marker says all was well. Anything invalid there is cut off.
   */
  loadTail(): RecoveryResult {
    const entries = this.offsetIndex.entries();
    const fromPosition = entries > 0 ? this.offsetIndex.valueAt(entries - 1) : 0;
    const timeEntries = this.timeIndex.entries();
    if (timeEntries > 0) {
      this.maxTimestamp = this.timeIndex.keyAt(timeEntries - 1);
      this.offsetOfMaxTimestamp = this.baseOffset + this.timeIndex.valueAt(timeEntries - 1);
    }
    const result = this.rescan(fromPosition);
    // The indexed batch itself failed validation: what came before it is unknown, so rebuild.
    if (fromPosition > 0 && result.batchCount === 0) return this.recover();
    return result;
  }

  /**
   * Rebuilds both indexes from the .log, validating every batch; cuts the file at the first invalid
   * byte. Discarding the old entries frees their pages; each page the new ones fill is allocated as
   * they are appended, so on a full disk this fails with KAFKA_STORAGE_ERROR saying how much it needs.
   */
  recover(): RecoveryResult {
    try {
      return this.rebuildIndexes();
    } catch (error) {
      throw this.outOfSpace(error, `rebuilding the indexes of ${path.basename(this.logPath)}`, this.rebuildIndexBytesMax());
    }
  }

  private rebuildIndexes(): RecoveryResult {
    this.offsetIndex.truncateEntries(0);
    this.timeIndex.truncateEntries(0);
    this.offsetIndex.resize(indexBytes(0, OFFSET_INDEX_ENTRY_BYTES, this.config, true));
    this.timeIndex.resize(indexBytes(0, TIME_INDEX_ENTRY_BYTES, this.config, true));
    this.maxTimestamp = NO_TIMESTAMP;
    this.offsetOfMaxTimestamp = -1;
    const result = this.rescan(0);
    if (!this.active) {
      // As at roll: the final entry records the segment's max timestamp for retention and lookups.
      this.maybeAppendTimeEntry();
      this.trimIndexes();
    }
    return result;
  }

  /**
   * Most disk space a rebuild of the indexes allocates: an offset entry needs more than
   * index.interval.bytes of batches (and at least one batch header) since the last, a time entry
   * comes with an offset entry or at the end, and each index allocates whole pages.
   */
  private rebuildIndexBytesMax(): number {
    const offsetEntries = Math.floor(this.file.size() / Math.max(this.config.indexIntervalBytes + 1, BATCH_HEADER_BYTES));
    const pages = (bytes: number) => Math.ceil(bytes / INDEX_ALLOCATION_BYTES) * INDEX_ALLOCATION_BYTES;
    return pages(offsetEntries * OFFSET_INDEX_ENTRY_BYTES) + pages((offsetEntries + 1) * TIME_INDEX_ENTRY_BYTES);
  }

  /**
   * An out-of-space error (ENOSPC, EDQUOT) while `doing` something that needs `bytesNeeded`, as
   * KAFKA_STORAGE_ERROR naming the partition directory, the need and the free space; any other
   * error unchanged.
   */
  private outOfSpace(error: unknown, doing: string, bytesNeeded: number): unknown {
    if (!isOutOfSpace(error)) return error;
    let free = '';
    try {
      const stats = fs.statfsSync(this.dir);
      free = `, and ${stats.bavail * stats.bsize} bytes are free`;
    } catch {
      // The need is the point of the message; the free space only helps.
    }
    return new SluiceError(
      'KAFKA_STORAGE_ERROR',
      `Out of disk space in partition directory ${this.dir}: ${doing} needs up to ${bytesNeeded} bytes${free} (${(error as Error).message})`,
      { cause: error },
    );
  }

  private rescan(fromPosition: number): RecoveryResult {
    const endPosition = this.file.size();
    let chunk = Buffer.allocUnsafe(Math.min(RECOVERY_READ_BYTES, Math.max(endPosition - fromPosition, 0)));
    let chunkPosition = fromPosition;
    let chunkBytes = 0;
    let validBytes = fromPosition;
    let lastIndexEntryPosition = fromPosition;
    let nextOffset = fromPosition === 0 ? this.baseOffset : -1;
    let batchCount = 0;
    this.rollingBasedTimestamp = undefined;

    while (validBytes + BATCH_HEADER_BYTES <= endPosition) {
      if (validBytes + LOG_OVERHEAD > chunkPosition + chunkBytes || validBytes < chunkPosition) {
        chunkPosition = validBytes;
        chunkBytes = this.file.readSync(chunkPosition, chunk, 0, Math.min(chunk.length, endPosition - chunkPosition));
      }
      let at = validBytes - chunkPosition;
      const sizeBytes = LOG_OVERHEAD + chunk.readInt32BE(at + BATCH_LENGTH_OFFSET);
      if (sizeBytes < BATCH_HEADER_BYTES || validBytes + sizeBytes > endPosition) break;
      if (at + sizeBytes > chunkBytes) {
        // The batch runs past the chunk: read it from its start, growing the buffer if it is larger.
        if (sizeBytes > chunk.length) chunk = Buffer.allocUnsafe(sizeBytes);
        chunkPosition = validBytes;
        chunkBytes = this.file.readSync(chunkPosition, chunk, 0, Math.min(chunk.length, endPosition - chunkPosition));
        at = 0;
        if (chunkBytes < sizeBytes) break;
      }
      try {
        validateBatch(chunk.subarray(at, at + sizeBytes));
      } catch {
        break;
      }
      const baseOffset = Number(chunk.readBigInt64BE(at));
      const header = batchSummary(chunk, at);
      // Offsets must grow from batch to batch and stay in this segment; anything else is corruption.
      if (baseOffset < this.baseOffset || (nextOffset >= 0 && baseOffset < nextOffset)) break;
      if (validBytes - lastIndexEntryPosition > this.config.indexIntervalBytes) {
        this.appendIndexEntries(header.lastOffset, validBytes, header.maxTimestamp, header.lastOffset);
        lastIndexEntryPosition = validBytes;
      } else {
        this.trackMaxTimestamp(header.maxTimestamp, header.lastOffset);
      }
      if (this.rollingBasedTimestamp === undefined && validBytes === 0) this.rollingBasedTimestamp = header.maxTimestamp;
      nextOffset = header.lastOffset + 1;
      validBytes += sizeBytes;
      batchCount++;
    }

    if (this.rollingBasedTimestamp === undefined && validBytes > 0) this.rollingBasedTimestamp = this.firstBatchTimestamp();
    const truncatedBytes = endPosition - validBytes;
    if (truncatedBytes > 0) this.truncateFile(validBytes);
    this.nextOffset = nextOffset >= 0 ? nextOffset : this.baseOffset;
    this.bytesSinceLastIndexEntry = validBytes - lastIndexEntryPosition;
    return { truncatedBytes, batchCount };
  }

  private firstBatchTimestamp(): number | undefined {
    for (const batch of scanBatches(this.file, 0, this.file.size())) return batch.maxTimestamp;
    return undefined;
  }

  // ---- appends -------------------------------------------------------------------------------

  /**
   * True when batches of `sizeBytes` ending at `lastOffset` must go to a new segment instead.
   * segment.ms is measured as Kafka measures it: from the first batch's timestamp to the incoming
   * batch's, so a log of old timestamps does not roll on every append; without a first batch,
   * from the segment's creation on the wall clock.
   */
  shouldRoll(sizeBytes: number, lastOffset: number, maxTimestamp: number, nowMs: number): boolean {
    const size = this.file.size();
    if (size === 0) return false; // an empty segment takes anything; an oversized batch is refused upstream
    const waitedMs = this.rollingBasedTimestamp !== undefined && this.rollingBasedTimestamp >= 0
      ? maxTimestamp - this.rollingBasedTimestamp
      : nowMs - this.createdMs;
    return (
      size > this.config.segmentBytes - sizeBytes ||
      waitedMs > this.config.segmentMs ||
      this.offsetIndex.isFull() ||
      this.timeIndex.isFull() ||
      lastOffset - this.baseOffset > RELATIVE_OFFSET_MAX
    );
  }

  /**
   * Writes the batches (one pwritev) and indexes them; returns the position of the first byte.
   * All or nothing: a partial write (ENOSPC, EIO), or an index entry whose page cannot be allocated
   * on a full disk (ENOSPC), takes the batches and any entry back out before the error is thrown,
   * so the next append does not follow half a batch and an index never points past the .log.
   */
  append(buffers: readonly Uint8Array[], info: AppendInfo): number {
    if (info.batches && info.batches.length > 1) return this.appendBatches(buffers, info, info.batches);
    const sizeBefore = this.file.size();
    const indexEntryDue = this.bytesSinceLastIndexEntry > this.config.indexIntervalBytes;
    const before = indexEntryDue ? this.indexState() : undefined;
    let position: number;
    try {
      position = this.file.append(buffers);
      if (indexEntryDue) this.appendIndexEntries(info.lastOffset, position, info.maxTimestamp, info.offsetOfMaxTimestamp);
    } catch (error) {
      this.undoAppend(sizeBefore, before);
      throw error;
    }
    if (indexEntryDue) {
      this.bytesSinceLastIndexEntry = 0;
    } else {
      this.trackMaxTimestamp(info.maxTimestamp, info.offsetOfMaxTimestamp);
    }
    this.bytesSinceLastIndexEntry += info.sizeBytes;
    if (this.rollingBasedTimestamp === undefined) this.rollingBasedTimestamp = info.maxTimestamp;
    this.nextOffset = info.lastOffset + 1;
    return position;
  }

  /** append() of many batches in one write, indexed batch by batch as recovery would index them. */
  private appendBatches(buffers: readonly Uint8Array[], info: AppendInfo, batches: readonly BatchAppendInfo[]): number {
    const sizeBefore = this.file.size();
    const before = this.indexState();
    let position: number;
    let bytesSinceLastIndexEntry = this.bytesSinceLastIndexEntry;
    try {
      position = this.file.append(buffers);
      let batchPosition = position;
      for (const batch of batches) {
        if (bytesSinceLastIndexEntry > this.config.indexIntervalBytes) {
          this.appendIndexEntries(batch.lastOffset, batchPosition, batch.maxTimestamp, batch.lastOffset);
          bytesSinceLastIndexEntry = 0;
        } else {
          this.trackMaxTimestamp(batch.maxTimestamp, batch.lastOffset);
        }
        bytesSinceLastIndexEntry += batch.sizeBytes;
        batchPosition += batch.sizeBytes;
      }
    } catch (error) {
      this.undoAppend(sizeBefore, before);
      throw error;
    }
    this.bytesSinceLastIndexEntry = bytesSinceLastIndexEntry;
    // As recovery computes it: segment.ms counts from the segment's first batch.
    if (this.rollingBasedTimestamp === undefined) this.rollingBasedTimestamp = batches[0]!.maxTimestamp;
    this.nextOffset = info.lastOffset + 1;
    return position;
  }

  /** Takes a failed append's bytes and index entries back out. */
  private undoAppend(sizeBefore: number, before: IndexState | undefined): void {
    try {
      this.truncateFile(sizeBefore);
      if (before) this.restoreIndexState(before);
    } catch {
      // The error that matters is the write's; recovery will cut a torn tail on the next open.
    }
  }

  private indexState(): IndexState {
    return {
      offsetEntries: this.offsetIndex.entries(),
      timeEntries: this.timeIndex.entries(),
      maxTimestamp: this.maxTimestamp,
      offsetOfMaxTimestamp: this.offsetOfMaxTimestamp,
    };
  }

  private restoreIndexState(state: IndexState): void {
    this.offsetIndex.truncateEntries(state.offsetEntries);
    this.timeIndex.truncateEntries(state.timeEntries);
    this.maxTimestamp = state.maxTimestamp;
    this.offsetOfMaxTimestamp = state.offsetOfMaxTimestamp;
  }

  private trackMaxTimestamp(timestamp: number, offset: number): void {
    if (timestamp > this.maxTimestamp) {
      this.maxTimestamp = timestamp;
      this.offsetOfMaxTimestamp = offset;
    }
  }

  private appendIndexEntries(lastOffset: number, position: number, maxTimestamp: number, offsetOfMaxTimestamp: number): void {
    this.trackMaxTimestamp(maxTimestamp, offsetOfMaxTimestamp);
    this.offsetIndex.append(lastOffset - this.baseOffset, position);
    this.maybeAppendTimeEntry();
  }

  /** A time index entry only when the timestamp grew past the last entry's, as Kafka's TimeIndex. */
  private maybeAppendTimeEntry(): void {
    if (this.maxTimestamp === NO_TIMESTAMP || this.timeIndex.isFull()) return;
    const entries = this.timeIndex.entries();
    if (entries > 0 && this.timeIndex.keyAt(entries - 1) >= this.maxTimestamp) return;
    this.timeIndex.append(this.maxTimestamp, this.offsetOfMaxTimestamp - this.baseOffset);
  }

  /**
   * The segment is no longer appended to: record the final max timestamp, trim the indexes. On a
   * full disk the final entry's page may not be allocatable: this throws ENOSPC and the segment
   * stays active, so the append that rolled fails whole and a later one rolls again.
   */
  becomeInactive(): void {
    if (!this.active) return;
    this.maybeAppendTimeEntry();
    this.trimIndexes();
    this.active = false;
  }

  /** The segment is the log's end again (after a truncation): give the indexes room to grow. */
  becomeActive(): void {
    if (this.active) return;
    this.offsetIndex.resize(indexBytes(this.offsetIndex.entries() * OFFSET_INDEX_ENTRY_BYTES, OFFSET_INDEX_ENTRY_BYTES, this.config, true));
    this.timeIndex.resize(indexBytes(this.timeIndex.entries() * TIME_INDEX_ENTRY_BYTES, TIME_INDEX_ENTRY_BYTES, this.config, true));
    this.active = true;
  }

  private trimIndexes(): void {
    this.offsetIndex.resize(this.offsetIndex.entries() * OFFSET_INDEX_ENTRY_BYTES);
    this.timeIndex.resize(this.timeIndex.entries() * TIME_INDEX_ENTRY_BYTES);
  }

  // ---- reads ---------------------------------------------------------------------------------

  /** `offset` as an offset-index key: relative to the segment, clamped to the key's range. */
  private relativeOffset(offset: number): number {
    return Math.max(0, Math.min(offset - this.baseOffset, RELATIVE_OFFSET_MAX));
  }

  /** Where to start walking for `offset`: the indexed batch at or below it, else the file start. */
  private lookupPosition(offset: number): number {
    const slot = this.offsetIndex.lookup(this.relativeOffset(offset));
    return slot < 0 ? 0 : this.offsetIndex.valueAt(slot);
  }

  /**
   * The batches from the index's best start for `offset` to `endPosition`: callers skip those
   * that end before `offset`. An index entry holds the last offset of the batch it points at
   * (Kafka's format), so the entry found for `offset` usually points at the batch before the one
   * that holds it. When the next entry's batch already starts at or before `offset`, nothing
   * between the two can hold `offset`, and the walk starts there: a random read of batches larger
   * than the scan's 8 KiB chunk saves the pread of the earlier batch's header. Otherwise (batches
   * smaller than index.interval.bytes, or `offset` in a compacted gap) it starts at the entry found.
   */
  private *batchesNear(offset: number, endPosition: number): Generator<BatchPosition> {
    const relative = this.relativeOffset(offset);
    const slot = this.offsetIndex.lookup(relative);
    const next = slot + 1;
    if (slot >= 0 && this.offsetIndex.keyAt(slot) < relative && next < this.offsetIndex.entries()) {
      const later = scanBatches(this.file, this.offsetIndex.valueAt(next), endPosition, this.mapped(endPosition));
      const first = later.next();
      if (!first.done && first.value.baseOffset <= offset) {
        yield first.value;
        yield* later;
        return;
      }
      later.return(undefined);
    }
    yield* scanBatches(this.file, slot < 0 ? 0 : this.offsetIndex.valueAt(slot), endPosition, this.mapped(endPosition));
  }

  /** The first batch whose last offset is >= `offset`, or null when the segment ends before it. */
  translateOffset(offset: number): BatchPosition | null {
    for (const batch of this.batchesNear(offset, this.file.size())) {
      if (batch.lastOffset >= offset) return batch;
    }
    return null;
  }

  /**
   * Whole batches from the one holding `startOffset`, at most `maxBytes` of them, ending before
   * `maxPosition`. With `minOneBatch` the first batch is returned even when larger than maxBytes
   * (KIP-74), so a consumer never stalls on a big batch.
   */
  read(startOffset: number, maxBytes: number, maxPosition = this.file.size(), minOneBatch = true): SegmentRegion | null {
    let region: SegmentRegion | null = null;
    for (const batch of this.batchesNear(startOffset, maxPosition)) {
      if (region === null) {
        if (batch.lastOffset < startOffset) continue;
        if (batch.sizeBytes > maxBytes && !minOneBatch) return null;
        region = { position: batch.position, sizeBytes: batch.sizeBytes, firstOffset: batch.baseOffset, lastOffset: batch.lastOffset };
      } else {
        if (region.sizeBytes + batch.sizeBytes > maxBytes) break;
        region.sizeBytes += batch.sizeBytes;
        region.lastOffset = batch.lastOffset;
      }
      // No batch is smaller than its header: when not even one more would fit, stop before the
      // scan reads the next header (a pread of its own when batches are larger than the scan's
      // 8 KiB chunk: one of the three a random read of 100 KB batches made).
      if (region.sizeBytes + BATCH_HEADER_BYTES > maxBytes) break;
    }
    return region;
  }

  /** The batches from the one holding `offset` to the end of the segment. */
  *batchesFrom(offset: number): Generator<BatchPosition> {
    for (const batch of this.batchesNear(offset, this.file.size())) {
      if (batch.lastOffset >= offset) yield batch;
    }
  }

  /** The first batch whose max timestamp is >= `timestamp`, starting from the time index's hint. */
  findBatchByTimestamp(timestamp: number): BatchPosition | null {
    const slot = this.timeIndex.lookup(timestamp);
    const startOffset = slot < 0 ? this.baseOffset : this.baseOffset + this.timeIndex.valueAt(slot);
    const endPosition = this.file.size();
    for (const batch of scanBatches(this.file, this.lookupPosition(startOffset), endPosition, this.mapped(endPosition))) {
      if (batch.maxTimestamp >= timestamp) return batch;
    }
    return null;
  }

  /** The largest timestamp in a closed segment: its time index's last entry (written on roll). */
  largestTimestamp(): number {
    if (this.active || this.maxTimestamp !== NO_TIMESTAMP) return this.maxTimestamp;
    const entries = this.timeIndex.entries();
    return entries > 0 ? this.timeIndex.keyAt(entries - 1) : NO_TIMESTAMP;
  }

  /** Copies `sizeBytes` from `position` into a new Buffer (the non-zero-copy path). */
  readBytes(position: number, sizeBytes: number): Buffer {
    const target = Buffer.allocUnsafe(sizeBytes);
    const read = this.readInto(position, sizeBytes, target, 0);
    return read === sizeBytes ? target : target.subarray(0, read);
  }

  /** Copies `sizeBytes` from `position` into `target` (a caller's reusable buffer); returns the bytes read. */
  readInto(position: number, sizeBytes: number, target: Uint8Array, targetOffset: number): number {
    const end = Math.min(position + sizeBytes, this.file.size());
    const mapped = this.mapped(end);
    if (mapped === null) return this.file.readSync(position, target, targetOffset, sizeBytes);
    return end > position ? mapped.copy(target, targetOffset, position, end) : 0;
  }

  /**
   * The bytes at `position` as a view over the mapped .log, without a copy; null when the file
   * cannot be mapped (read with readBytes then). The view stays readable after the segment is
   * closed or deleted; only a truncation below its end (a follower's, of records the leader never
   * committed) turns the cut part into zeros.
   */
  view(position: number, sizeBytes: number): Buffer | null {
    const end = Math.min(position + sizeBytes, this.file.size());
    const mapped = this.mapped(end);
    return mapped === null ? null : mapped.subarray(position, Math.max(position, end));
  }

  /**
   * The read mapping when it covers [0, endPosition). The active segment is mapped at twice its
   * size (at least 1 MiB, at most segment.bytes), so a reader that follows appends maps again
   * about 11 times over a 1 GiB segment, not at every append; mapping segment.bytes at once would
   * be cheaper still for the kernel, but V8 counts an ArrayBuffer's length as external memory and
   * collects garbage for it (17 ms a 1 GiB mapping, measured here).
   */
  private mapped(endPosition: number): Buffer | null {
    if (this.closed) return null;
    const sizeBytes = this.file.size();
    const mapBytes = this.active ? Math.min(Math.max(MAPPED_ACTIVE_SEGMENT_BYTES_MIN, 2 * sizeBytes), this.config.segmentBytes) : sizeBytes;
    return this.mapping.covering(endPosition, mapBytes);
  }

  readBytesAsync(position: number, sizeBytes: number): Promise<Buffer> {
    const target = Buffer.allocUnsafe(sizeBytes);
    return this.file.read(position, target, 0, sizeBytes).then((read) => (read === sizeBytes ? target : target.subarray(0, read)));
  }

  /**
   * Removes every batch from the one holding `offset` on. Returns the bytes cut. Batches are whole
   * on disk, so the log ends at that batch's base offset (the same as `offset` at a batch boundary).
   */
  truncateTo(offset: number): number {
    const batch = this.translateOffset(offset);
    if (batch === null) return 0;
    const cutBytes = this.file.size() - batch.position;
    this.truncateFile(batch.position);
    const relative = batch.baseOffset - this.baseOffset;
    // Offset index keys are the last offsets of indexed batches: keep those below the cut.
    this.offsetIndex.truncateEntries(relative > 0 ? this.offsetIndex.lookup(relative - 1) + 1 : 0);
    let timeEntries = this.timeIndex.entries();
    while (timeEntries > 0 && this.timeIndex.valueAt(timeEntries - 1) >= relative) timeEntries--;
    this.timeIndex.truncateEntries(timeEntries);
    this.maxTimestamp = NO_TIMESTAMP;
    this.offsetOfMaxTimestamp = -1;
    this.loadTail();
    return cutBytes;
  }

  // ---- durability and lifetime ---------------------------------------------------------------

  async flush(): Promise<void> {
    await Promise.all([this.file.sync(), this.offsetIndex.sync(), this.timeIndex.sync()]);
  }

  /**
   * Keeps the .log descriptor open until the returned release is called, even across close() or
   * delete(): a fetch response queued behind other writes sends from `fd` later, and a retention
   * pass in between must not close it (the number could then name another file).
   */
  pin(): () => void {
    this.pins++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.pins--;
      if (this.pins === 0 && this.closeFileWhenUnpinned) this.file.close();
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.active) {
        try {
          this.maybeAppendTimeEntry();
        } catch (error) {
          // On a full disk the final entry may have no page. It only saves work: the next open
          // finds this segment last and recomputes its max timestamp from the batches after the
          // last offset entry (loadTail), so the files still close trimmed.
          if (!isOutOfSpace(error)) throw error;
        }
        this.trimIndexes();
      }
    } finally {
      // Also when the trim fails (a failed disk): the descriptors and the mapping are let go.
      this.closeFiles();
    }
  }

  /** Cuts the .log; the mapping's cut pages are zero pages now (native truncate), so map again. */
  private truncateFile(sizeBytes: number): void {
    this.mapping.drop();
    this.file.truncate(sizeBytes);
  }

  private closeFiles(): void {
    this.mapping.drop();
    this.offsetIndex.close();
    this.timeIndex.close();
    if (this.pins > 0) this.closeFileWhenUnpinned = true;
    else this.file.close();
  }

  /**
   * Closes the segment and renames its files to `*.deleted` names (the .log first), Kafka's
   * asyncDeleteSegment: from here they are no segment's, and a crash at any point leaves names the
   * next open recognises and removes, never half a segment. Returns the renamed paths, for the
   * caller to remove (Log removes them off the event loop, after file.delete.delay.ms).
   */
  markDeleted(): string[] {
    this.close();
    const renamed: string[] = [];
    for (const live of [this.logPath, this.offsetIndexPath, this.timeIndexPath]) {
      try {
        fs.renameSync(live, live + DELETED_FILE_SUFFIX);
        renamed.push(live + DELETED_FILE_SUFFIX);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return renamed;
  }

  /** Closes and removes the files at once (markDeleted, then removal). */
  delete(): void {
    for (const file of this.markDeleted()) fs.rmSync(file, { force: true });
  }
}

interface IndexState {
  offsetEntries: number;
  timeEntries: number;
  maxTimestamp: number;
  offsetOfMaxTimestamp: number;
}

/** ENOSPC, or EDQUOT (a quota is a full disk to the writer), from the addon or node:fs. */
export function isOutOfSpace(error: unknown): boolean {
  const code = (error as NativeError | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

function fileBytes(filePath: string): number {
  try {
    return fs.statSync(filePath).size;
  } catch {
    return 0;
  }
}

/**
 * Mapping size: the configured capacity when active, rounded down to whole entries as Kafka does
 * (10 MiB holds 1,310,720 offset entries or 873,813 time entries); the file as it is when closed.
 */
function indexBytes(existingBytes: number, entryBytes: number, config: LogConfig, active: boolean): number {
  if (!active) return existingBytes;
  return Math.max(existingBytes, config.segmentIndexBytes - (config.segmentIndexBytes % entryBytes));
}

function batchSummary(buf: Buffer, at: number): { lastOffset: number; maxTimestamp: number } {
  const baseOffset = Number(buf.readBigInt64BE(at));
  return {
    lastOffset: baseOffset + buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET),
    maxTimestamp: Number(buf.readBigInt64BE(at + MAX_TIMESTAMP_OFFSET)),
  };
}
