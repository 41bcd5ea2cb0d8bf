// Writes the segment a log cleaning produces (`<base>.log.cleaned` and its two indexes): the .log
// through a write buffer, and the indexes as a segment's rescan would build them from that .log
// (segment.ts), so that the swapped-in segment opens as any closed one does, without a rebuild:
//   - an offset index entry (the batch's last offset, its position) for a batch that starts more
//     than index.interval.bytes after the last indexed one; the first batch never;
//   - a time index entry with each offset entry when the max timestamp grew, and a last one at the
//     end, as at roll;
//   - both trimmed to their entries, as a closed segment's are.
// Every file is fsynced before the main thread renames it: a .swap is always whole.
import fs from 'node:fs';

import { SluiceError } from '../errors.js';
import { MAX_TIMESTAMP_OFFSET, NO_TIMESTAMP } from '../record/batch-format.js';
import { SEGMENT_BYTES_MAX } from '../limits.js';
import { OFFSET_INDEX_ENTRY_BYTES, TIME_INDEX_ENTRY_BYTES } from './index-format.js';
import type { Throttler } from './throttler.js';

export class CleanedSegmentWriter {
  private readonly fd: number;
  private readonly buffer: Buffer;
  private buffered = 0;
  private position = 0;
  private lastIndexEntryPosition = 0;
  private readonly offsetEntries: number[] = [];
  private readonly timeEntries: number[] = [];
  private readonly offsetEntriesMax: number;
  private readonly timeEntriesMax: number;
  private maxTimestamp = NO_TIMESTAMP;
  private offsetOfMaxTimestamp = -1;
  private lastOffset = -1;

  constructor(
    private readonly paths: { logPath: string; offsetIndexPath: string; timeIndexPath: string },
    private readonly baseOffset: number,
    private readonly indexIntervalBytes: number,
    segmentIndexBytes: number,
    bufferBytes: number,
    private readonly throttler: Throttler,
  ) {
    this.fd = fs.openSync(paths.logPath, 'w');
    this.buffer = Buffer.allocUnsafe(bufferBytes);
    this.offsetEntriesMax = Math.floor(segmentIndexBytes / OFFSET_INDEX_ENTRY_BYTES);
    this.timeEntriesMax = Math.floor(segmentIndexBytes / TIME_INDEX_ENTRY_BYTES);
  }

  append(buf: Buffer, at: number, sizeBytes: number, lastOffset: number): void {
    if (this.position + sizeBytes > SEGMENT_BYTES_MAX) {
      throw new SluiceError('KAFKA_STORAGE_ERROR', `The cleaned segment ${this.paths.logPath} would pass ${SEGMENT_BYTES_MAX} bytes`);
    }
    const maxTimestamp = readInt64(buf, at + MAX_TIMESTAMP_OFFSET);
    if (this.position - this.lastIndexEntryPosition > this.indexIntervalBytes && this.offsetEntries.length < this.offsetEntriesMax) {
      this.trackMaxTimestamp(maxTimestamp, lastOffset);
      this.offsetEntries.push(lastOffset - this.baseOffset, this.position);
      this.maybeAppendTimeEntry();
      this.lastIndexEntryPosition = this.position;
    } else {
      this.trackMaxTimestamp(maxTimestamp, lastOffset);
    }
    if (this.buffered + sizeBytes > this.buffer.length) this.flushBuffer();
    if (sizeBytes > this.buffer.length) {
      this.writeFully(buf.subarray(at, at + sizeBytes));
    } else {
      buf.copy(this.buffer, this.buffered, at, at + sizeBytes);
      this.buffered += sizeBytes;
    }
    this.position += sizeBytes;
    this.lastOffset = lastOffset;
  }

  /**
   * Writes what is buffered and both indexes, fsyncs the three files; returns the .log's size.
   * A `placeholder` batch goes after the last one without being indexed or counted in the max
   * timestamp: the segment is whole and its indexes right with it or, once it is cut off again,
   * without it (see cleaner.ts).
   */
  finish(placeholder?: Buffer): { sizeBytes: number; lastOffset: number } {
    this.flushBuffer();
    this.maybeAppendTimeEntry();
    if (placeholder) this.writeFully(placeholder);
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    const offsetIndex = Buffer.allocUnsafe((this.offsetEntries.length / 2) * OFFSET_INDEX_ENTRY_BYTES);
    for (let i = 0; i < this.offsetEntries.length; i += 2) {
      offsetIndex.writeUInt32BE(this.offsetEntries[i]!, i * 4);
      offsetIndex.writeUInt32BE(this.offsetEntries[i + 1]!, i * 4 + 4);
    }
    const timeIndex = Buffer.allocUnsafe((this.timeEntries.length / 2) * TIME_INDEX_ENTRY_BYTES);
    for (let i = 0, at = 0; i < this.timeEntries.length; i += 2, at += TIME_INDEX_ENTRY_BYTES) {
      timeIndex.writeBigInt64BE(BigInt(this.timeEntries[i]!), at);
      timeIndex.writeUInt32BE(this.timeEntries[i + 1]!, at + 8);
    }
    writeFileSynced(this.paths.offsetIndexPath, offsetIndex);
    writeFileSynced(this.paths.timeIndexPath, timeIndex);
    this.throttler.maybeThrottle(offsetIndex.length + timeIndex.length);
    return { sizeBytes: this.position + (placeholder?.length ?? 0), lastOffset: this.lastOffset };
  }

  /** Removes the files of a cleaning that failed. */
  abandon(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // closed by finish() already
    }
    for (const file of [this.paths.logPath, this.paths.offsetIndexPath, this.paths.timeIndexPath]) fs.rmSync(file, { force: true });
  }

  private trackMaxTimestamp(timestamp: number, offset: number): void {
    if (timestamp > this.maxTimestamp) {
      this.maxTimestamp = timestamp;
      this.offsetOfMaxTimestamp = offset;
    }
  }

  private maybeAppendTimeEntry(): void {
    if (this.maxTimestamp === NO_TIMESTAMP || this.timeEntries.length / 2 >= this.timeEntriesMax) return;
    const entries = this.timeEntries.length;
    if (entries > 0 && this.timeEntries[entries - 2]! >= this.maxTimestamp) return;
    this.timeEntries.push(this.maxTimestamp, this.offsetOfMaxTimestamp - this.baseOffset);
  }

  private flushBuffer(): void {
    if (this.buffered === 0) return;
    this.writeFully(this.buffer.subarray(0, this.buffered));
    this.buffered = 0;
  }

  private writeFully(bytes: Buffer): void {
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(this.fd, bytes, written, bytes.length - written);
    this.throttler.maybeThrottle(bytes.length);
  }
}

function writeFileSynced(filePath: string, bytes: Buffer): void {
  const fd = fs.openSync(filePath, 'w');
  try {
    if (bytes.length > 0) fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const TWO_POW_32 = 4294967296;

function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}
