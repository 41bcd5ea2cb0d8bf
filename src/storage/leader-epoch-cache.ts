// The leader-epoch history of one partition replica (Kafka's LeaderEpochFileCache, KIP-101): for
// each leader epoch the replica holds data of, the offset its first record got. It answers
// OffsetForLeaderEpoch, and it is what a follower truncates by instead of its high watermark.
//
// The history persists in `leader-epoch-checkpoint` in the partition directory, Kafka's format:
//
//   0              format version
//   2              number of entries
//   0 0            epoch, start offset: one line each, both ascending
//   3 1200
//
// written whole to a .tmp, fsynced and renamed (checkpoint-file.ts) on every change. A new entry
// is on disk before the data it describes (the log learns an epoch before it writes the batches
// that carry it), so after a crash the file may describe offsets past the recovered log end, never
// miss an epoch of data that survived: the log truncates the history to its end when it opens.
import path from 'node:path';

import { readCheckpointFields, writeCheckpointLines, MalformedCheckpointError, parseIntegerField } from './checkpoint-file.js';

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
/** Kafka's OffsetsForLeaderEpochResponse.UNDEFINED_EPOCH: no epoch (also "the batch has none"). */
export const UNDEFINED_EPOCH = -1;
/** Kafka's OffsetsForLeaderEpochResponse.UNDEFINED_EPOCH_OFFSET. */
export const UNDEFINED_EPOCH_OFFSET = -1;
/** Leader epochs are int32 on the wire and in a batch header. */
const EPOCH_MAX = 2 ** 31 - 1;

export interface EpochEntry {
  epoch: number;
  /** Offset of the first record written in this epoch. */
  startOffset: number;
}

/** An OffsetForLeaderEpoch answer: the largest epoch <= the one asked for, and where it ends. */
export interface EpochEndOffset {
  epoch: number;
  endOffset: number;
}

const UNDEFINED_ANSWER: Readonly<EpochEndOffset> = Object.freeze({ epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET });

/** What opening found on disk: a usable checkpoint, none, or one that could not be parsed. */
export type EpochCheckpointState = 'loaded' | 'missing' | 'corrupt';

export class LeaderEpochCache {
  /** Ascending by epoch and by start offset, strictly (assign keeps it so). */
  private entries: EpochEntry[] = [];
  readonly checkpointPath: string;
  /** What the checkpoint held when the cache was opened. */
  readonly openedFrom: EpochCheckpointState;

  private constructor(checkpointPath: string, openedFrom: EpochCheckpointState, entries: EpochEntry[]) {
    this.checkpointPath = checkpointPath;
    this.openedFrom = openedFrom;
    this.entries = entries;
  }

  /**
   * Loads `dir`'s leader-epoch-checkpoint. A missing or unparsable file gives an empty cache with
   * openedFrom saying so; the log then rebuilds the history from its batches (rebuild()). Entries
   * that break the ordering are dropped as assign() would drop them.
   */
  static open(dir: string): LeaderEpochCache {
    const checkpointPath = path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
    let rows: string[][] | null;
    try {
      rows = readCheckpointFields(checkpointPath, 2);
    } catch (error) {
      if (error instanceof MalformedCheckpointError) return new LeaderEpochCache(checkpointPath, 'corrupt', []);
      throw error;
    }
    if (rows === null) return new LeaderEpochCache(checkpointPath, 'missing', []);
    const cache = new LeaderEpochCache(checkpointPath, 'loaded', []);
    for (const [epochText, offsetText] of rows) {
      const epoch = parseIntegerField(epochText!);
      const startOffset = parseIntegerField(offsetText!);
      if (!isEpoch(epoch) || !isOffset(startOffset)) return new LeaderEpochCache(checkpointPath, 'corrupt', []);
      cache.place({ epoch, startOffset });
    }
    return cache;
  }

  // ---- reading -------------------------------------------------------------------------------

  /** A copy of the history, oldest first. */
  epochEntries(): EpochEntry[] {
    return this.entries.map((entry) => ({ ...entry }));
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  latestEntry(): EpochEntry | undefined {
    const last = this.entries[this.entries.length - 1];
    return last && { ...last };
  }

  /** The epoch being written (the latest one with a start offset), or UNDEFINED_EPOCH. */
  get latestEpoch(): number {
    return this.entries[this.entries.length - 1]?.epoch ?? UNDEFINED_EPOCH;
  }

  earliestEntry(): EpochEntry | undefined {
    const first = this.entries[0];
    return first && { ...first };
  }

  /** The entry of exactly `epoch`, if the replica holds data of it. */
  epochEntry(epoch: number): EpochEntry | undefined {
    const found = this.entries.find((entry) => entry.epoch === epoch);
    return found && { ...found };
  }

  /** The largest epoch below `epoch`, or UNDEFINED_EPOCH (a follower asks about it next, KIP-279). */
  previousEpoch(epoch: number): number {
    let previous = UNDEFINED_EPOCH;
    for (const entry of this.entries) {
      if (entry.epoch >= epoch) break;
      previous = entry.epoch;
    }
    return previous;
  }

  /** The epoch of the record at `offset`, or UNDEFINED_EPOCH when it lies before the first entry. */
  epochForOffset(offset: number): number {
    let epoch = UNDEFINED_EPOCH;
    for (const entry of this.entries) {
      if (entry.startOffset > offset) break;
      epoch = entry.epoch;
    }
    return epoch;
  }

  /**
   * OffsetForLeaderEpoch as Kafka answers it: the largest epoch <= `requestedEpoch` and its end
   * offset, which is the start offset of the next epoch in the history, or `logEndOffset` when it
   * is the latest. UNDEFINED (-1, -1) when the history is empty, when `requestedEpoch` is
   * UNDEFINED_EPOCH, or when it is past the latest epoch. An epoch older than every entry (its data
   * went with retention) is answered with itself and the first entry's start offset, so the
   * follower truncates to where the leader's history begins (Kafka since 2.0; the KIP-101 text had
   * UNDEFINED there, which sent followers back to truncating by high watermark).
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): EpochEndOffset {
    if (requestedEpoch === UNDEFINED_EPOCH || this.entries.length === 0) return { ...UNDEFINED_ANSWER };
    const latest = this.entries[this.entries.length - 1]!;
    // The epoch still being written (on a leader: its own) ends at the log end.
    if (requestedEpoch === latest.epoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    const next = this.entries.findIndex((entry) => entry.epoch > requestedEpoch);
    if (next < 0) return { ...UNDEFINED_ANSWER };
    const endOffset = this.entries[next]!.startOffset;
    if (next === 0) return { epoch: requestedEpoch, endOffset };
    return { epoch: this.entries[next - 1]!.epoch, endOffset };
  }

  // ---- changing ------------------------------------------------------------------------------

  /**
   * Records that `epoch` starts at `startOffset`, as Kafka's assign: an entry for the latest epoch
   * at the same or a later offset is ignored (an epoch is assigned once, by its first batch); an
   * entry that would break the ordering removes the entries it conflicts with (every entry of an
   * epoch >= `epoch` or starting at >= `startOffset`), since the log that wrote them was cut below
   * them. Writes the checkpoint before the change is visible; returns whether anything changed.
   */
  assign(epoch: number, startOffset: number): boolean {
    if (!isEpoch(epoch) || !isOffset(startOffset)) {
      throw new RangeError(`Invalid leader epoch entry (epoch ${epoch}, start offset ${startOffset})`);
    }
    const latest = this.entries[this.entries.length - 1];
    if (latest && latest.epoch === epoch && startOffset >= latest.startOffset) return false;
    const next = this.entries.filter((entry) => entry.epoch < epoch && entry.startOffset < startOffset);
    next.push({ epoch, startOffset });
    // On disk first: a failed write (a full disk) leaves memory and file as they were.
    this.write(next);
    this.entries = next;
    return true;
  }

  /**
   * Removes the entries starting at or after `endOffset` (the log was truncated there). With
   * `persist` false the file is left as it is: opening does this, and the next open does it again.
   */
  truncateFromEnd(endOffset: number, persist = true): boolean {
    if (endOffset < 0) return false;
    let keep = this.entries.length;
    while (keep > 0 && this.entries[keep - 1]!.startOffset >= endOffset) keep--;
    if (keep === this.entries.length) return false;
    this.entries = this.entries.slice(0, keep);
    if (persist) this.write(this.entries);
    return true;
  }

  /**
   * Drops the history below `startOffset` (retention, DeleteRecords), as Kafka's truncateFromStart:
   * the entries starting at or below it go, and the last of them comes back starting at
   * `startOffset`, because its epoch still covers the first record kept.
   */
  truncateFromStart(startOffset: number, persist = true): boolean {
    if (startOffset < 0) return false;
    let removed = 0;
    while (removed < this.entries.length && this.entries[removed]!.startOffset <= startOffset) removed++;
    if (removed === 0) return false;
    const covering = this.entries[removed - 1]!;
    if (removed === 1 && covering.startOffset === startOffset) return false;
    this.entries = [{ epoch: covering.epoch, startOffset }, ...this.entries.slice(removed)];
    if (persist) this.write(this.entries);
    return true;
  }

  /** Forgets every entry (the log was emptied). */
  clear(): void {
    if (this.entries.length === 0) return;
    this.entries = [];
    this.write(this.entries);
  }

  /** Replaces the history with what the batches of a log say, and writes it (see Log's recovery). */
  rebuild(epochStarts: Iterable<EpochEntry>): void {
    this.entries = [];
    for (const entry of epochStarts) this.place(entry);
    this.write(this.entries);
  }

  /** Inserts without writing, keeping the ordering as assign() does. */
  private place({ epoch, startOffset }: EpochEntry): void {
    const latest = this.entries[this.entries.length - 1];
    if (latest && latest.epoch === epoch && startOffset >= latest.startOffset) return;
    this.entries = this.entries.filter((entry) => entry.epoch < epoch && entry.startOffset < startOffset);
    this.entries.push({ epoch, startOffset });
  }

  private write(entries: readonly EpochEntry[]): void {
    writeCheckpointLines(this.checkpointPath, entries.map((entry) => `${entry.epoch} ${entry.startOffset}`));
  }
}

function isEpoch(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && value <= EPOCH_MAX;
}

function isOffset(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
