// Which part of a compacted log is cleanable and how dirty it is (Kafka's LogCleanerManager and
// LogToClean), computed on the main thread from the Log's segments as they are now.
//
//   firstDirtyOffset        where the last cleaning stopped (cleaner-offset-checkpoint), or the log
//                           start when there is none or it is outside the log
//   firstUncleanableOffset  the base offset of the segment holding the lowest of: the high
//                           watermark (no transactions here, so the last stable offset is the high
//                           watermark), the active segment's base offset, and the base offset of the
//                           first dirty segment with a record younger than min.compaction.lag.ms.
//                           Cleaning works on whole segments below it.
//   dirty ratio             bytes of the segments over [firstDirty, firstUncleanable) divided by
//                           those plus the clean segments' (below firstDirty)
//   needCompactionNow       max.compaction.lag.ms: the first batch of some dirty segment is older
//                           than that, so the log is cleaned whatever its ratio
//
// A log is cleaned when it has cleanable bytes and its dirty ratio is at least
// min.cleanable.dirty.ratio (Kafka compares with >; at the default 0.5 the two differ only at exactly
// half), or when it needs compaction now; of several, the dirtiest first.
import fs from 'node:fs';

import type { LogConfig } from './log-config.js';
import type { Log } from './log.js';
import { NO_TIMESTAMP, type Segment } from './segment.js';

export interface LogToClean {
  firstDirtyOffset: number;
  firstUncleanableOffset: number;
  /** Bytes of the segments below the first dirty offset. */
  cleanBytes: number;
  /** Bytes of the segments over [firstDirtyOffset, firstUncleanableOffset). */
  cleanableBytes: number;
  /** cleanableBytes / (cleanBytes + cleanableBytes); 0 for an empty log. */
  dirtyRatio: number;
  needCompactionNow: boolean;
  /** The segments as they were when this was computed, oldest first, the active one last. */
  segments: readonly Segment[];
}

export function isCompacted(config: Readonly<LogConfig>): boolean {
  return config.cleanupPolicy.includes('compact');
}

/** The cleanable part of `log` at `nowMs`, given the checkpointed first dirty offset. */
export function logToClean(log: Log, checkpointedDirtyOffset: number | undefined, nowMs: number): LogToClean {
  const config = log.currentConfig;
  const segments = log.segmentList();
  const active = segments[segments.length - 1]!;
  const endOf = (i: number) => (i + 1 < segments.length ? segments[i + 1]!.baseOffset : log.logEndOffset);
  let firstDirtyOffset = checkpointedDirtyOffset ?? log.logStartOffset;
  if (firstDirtyOffset < log.logStartOffset || firstDirtyOffset > log.logEndOffset) firstDirtyOffset = log.logStartOffset;

  // Kafka's firstUncleanableOffset: nothing at or past the last stable offset (an open
  // transaction's records may still be aborted), which is at most the high watermark.
  let uncleanableOffset = Math.min(log.lastStableOffset, active.baseOffset);
  if (config.minCompactionLagMs > 0) {
    for (let i = 0; i < segments.length - 1; i++) {
      if (endOf(i) <= firstDirtyOffset) continue;
      if (segments[i]!.largestTimestamp() > nowMs - config.minCompactionLagMs) {
        uncleanableOffset = Math.min(uncleanableOffset, segments[i]!.baseOffset);
        break;
      }
    }
  }
  // Whole segments only: the one holding the uncleanable offset is not cleaned.
  let firstUncleanableOffset = segments[0]!.baseOffset;
  for (const segment of segments) if (segment.baseOffset <= uncleanableOffset) firstUncleanableOffset = segment.baseOffset;

  let cleanBytes = 0;
  let cleanableBytes = 0;
  let earliestDirtyTimestamp = Infinity;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.baseOffset < firstDirtyOffset) cleanBytes += segment.sizeBytes();
    if (segment.baseOffset < firstUncleanableOffset && endOf(i) > firstDirtyOffset) {
      cleanableBytes += segment.sizeBytes();
      if (config.maxCompactionLagMs !== Infinity && earliestDirtyTimestamp === Infinity) {
        const timestamp = firstBatchTimestamp(segment);
        if (timestamp > 0) earliestDirtyTimestamp = timestamp;
      }
    }
  }
  const totalBytes = cleanBytes + cleanableBytes;
  return {
    firstDirtyOffset,
    firstUncleanableOffset,
    cleanBytes,
    cleanableBytes,
    dirtyRatio: totalBytes === 0 ? 0 : cleanableBytes / totalBytes,
    // Kafka's maxCompactionDelay > 0: the oldest dirty batch is older than max.compaction.lag.ms.
    needCompactionNow: earliestDirtyTimestamp < nowMs - config.maxCompactionLagMs,
    segments,
  };
}

/** Whether a log with this cleanable part is cleaned now (`force`: whatever its ratio). */
export function shouldClean(toClean: LogToClean, config: Readonly<LogConfig>, force = false): boolean {
  if (toClean.cleanableBytes === 0) return false;
  return force || toClean.needCompactionNow || toClean.dirtyRatio >= config.minCleanableDirtyRatio;
}

/**
 * Kafka's legacy delete horizon: the last modification of the last segment below the first dirty
 * offset, minus delete.retention.ms; 0 before the first cleaning. A tombstone is dropped once its
 * segment was last modified at or before it, that is once the clean part of the log holds data
 * written delete.retention.ms after it: a consumer that read up to the clean part within
 * delete.retention.ms has seen the tombstone.
 */
export function deleteHorizonMs(toClean: LogToClean, config: Readonly<LogConfig>): number {
  let lastClean: Segment | undefined;
  for (const segment of toClean.segments) if (segment.baseOffset < toClean.firstDirtyOffset) lastClean = segment;
  if (!lastClean) return 0;
  return fs.statSync(lastClean.logPath).mtimeMs - config.deleteRetentionMs;
}

/** Kafka's getFirstBatchTimestamp: the max timestamp of the segment's first batch, or -1. */
function firstBatchTimestamp(segment: Segment): number {
  for (const batch of segment.batchesFrom(segment.baseOffset)) return batch.maxTimestamp;
  return NO_TIMESTAMP;
}
