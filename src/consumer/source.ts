// Where a PoolConsumer's batches come from: a consumer group on brokers (broker-source.ts) or an
// embedded Engine read in-process (engine-source.ts). A source assigns partitions through the
// hooks, reads whole batches from given positions, and stores committed offsets.
import type { CommitOffset, RevokeReason, TopicPartition } from '../client/group-member.js';
import { iterateBatches, type BatchHeader } from '../record/batch.js';

export interface SourceHooks {
  assigned(partitions: TopicPartition[]): Promise<void>;
  revoking(partitions: TopicPartition[], reason: RevokeReason): Promise<void>;
  /** The source cannot go on (fenced, protocol mismatch after start, ...). */
  failed(error: Error): void;
}

export interface WantedPartition {
  topic: string;
  partition: number;
  position: number;
}

/** Whole batches of one partition, in an ArrayBuffer of their own (cloned to a worker as is). */
export interface Chunk {
  bytes: Uint8Array;
  /** The position they were read from: records below it are skipped. */
  startOffset: number;
  /** Last offset of the last batch + 1: the position after them, and the offset to commit. */
  nextOffset: number;
  /** False when every batch is a control batch or below startOffset: nothing for the handler. */
  needsHandler: boolean;
}

export interface FetchedPartition {
  topic: string;
  partition: number;
  /** The position the read was made at (stale results are dropped by the consumer). */
  position: number;
  chunk?: Chunk;
  /** OFFSET_OUT_OF_RANGE: the position to go on from, per autoOffsetReset. */
  resetTo?: number;
}

export interface Source {
  /** Batches from our own log were CRC-checked on append; fetched ones are checked again. */
  readonly skipCrc: boolean;
  start(hooks: SourceHooks): Promise<void>;
  /** Where newly assigned partitions start: the committed offset, else per autoOffsetReset. */
  startPositions(partitions: TopicPartition[]): Promise<Map<string, number>>;
  /** One round of reads (it may wait for data, and returns early when `wake` rings where it can). */
  fetch(wanted: WantedPartition[], maxBytes: number, wake: Doorbell): Promise<FetchedPartition[]>;
  commit(offsets: CommitOffset[]): Promise<void>;
  /** Revokes everything through hooks.revoking(…, 'stop'), then leaves. */
  stop(): Promise<void>;
}

/** A wake-up that is never lost: a ring with nobody waiting makes the next wait() return at once. */
export class Doorbell {
  private rung = false;
  private waiters: Array<() => void> = [];

  ring(): void {
    this.rung = true;
    for (const wake of this.waiters.splice(0)) wake();
  }

  wait(): Promise<void> {
    if (this.rung) {
      this.rung = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  clear(): void {
    this.rung = false;
  }

  /** Resolves when any of the bells rings; its wake-up is taken off the others, so nothing piles up. */
  static any(bells: readonly Doorbell[]): Promise<void> {
    for (const bell of bells) {
      if (bell.rung) {
        bell.rung = false;
        return Promise.resolve();
      }
    }
    return new Promise((resolve) => {
      const wake = () => {
        for (const bell of bells) bell.waiters = bell.waiters.filter((w) => w !== wake);
        resolve();
      };
      for (const bell of bells) bell.waiters.push(wake);
    });
  }
}

/**
 * The whole batches at the start of `bytes` (a read may end inside a batch), copied into an
 * exact-size ArrayBuffer: a view of a larger buffer would clone all of it to the worker.
 * Undefined when not one whole batch is there. `keep` (read_committed: not of an aborted
 * transaction) leaves batches out, which the position still moves past.
 */
export function chunkOf(bytes: Uint8Array, startOffset: number, copy: boolean, keep?: (header: BatchHeader) => boolean): Chunk | undefined {
  const batches = iterateBatches(bytes);
  let nextOffset = -1;
  let needsHandler = false;
  let kept: Array<[start: number, end: number]> | null = null;
  for (const { at, header } of batches) {
    nextOffset = header.lastOffset + 1;
    if (keep !== undefined && !keep(header)) {
      // The batches before this one, kept so far, as one range.
      kept ??= [[0, at]];
      continue;
    }
    if (kept !== null) {
      const last = kept[kept.length - 1]!;
      if (last[1] === at) last[1] = at + header.sizeBytes;
      else kept.push([at, at + header.sizeBytes]);
    }
    if (!header.isControl && header.lastOffset >= startOffset && header.recordsCount > 0) needsHandler = true;
  }
  if (nextOffset < 0) return undefined;
  if (kept !== null) {
    const own = new Uint8Array(kept.reduce((sum, [start, end]) => sum + end - start, 0));
    let at = 0;
    for (const [start, end] of kept) {
      own.set(bytes.subarray(start, end), at);
      at += end - start;
    }
    return { bytes: own, startOffset, nextOffset: Math.max(nextOffset, startOffset), needsHandler };
  }
  const whole = batches.wholeBytes;
  let own = bytes.subarray(0, whole);
  if (copy || own.byteOffset !== 0 || own.byteLength !== own.buffer.byteLength) {
    own = new Uint8Array(whole);
    own.set(bytes.subarray(0, whole));
  }
  return { bytes: own, startOffset, nextOffset: Math.max(nextOffset, startOffset), needsHandler };
}

export function keyOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
