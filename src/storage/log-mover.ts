// Moving a partition's log to another log directory while it stays readable and writable (Kafka's
// AlterReplicaLogDirs, KIP-113). As Kafka's ReplicaAlterLogDirsThread does, the move copies the
// live log into a "future" log in the target directory (`<topic>-<partition>.<id>-future`), batch
// by batch as a follower appends its leader's (Log.appendAsFollower: the bytes as they are, their
// leader epochs and producer state rebuilt from them), and swaps it in once it has caught up.
//
// The copy runs on the event loop in steps of MOVE_STEP_BYTES, yielding between them, so requests
// keep being served; what the live log does meanwhile is followed: a truncation is forwarded at
// once (LogDirs), a log start that moved (retention, DeleteRecords) is applied before each step,
// and appends are copied by the next step. Once a step ends with the future at the live log's end,
// the future is flushed (off the loop) and, in the step that catches up after that flush, swapped
// in synchronously: no append can come between the last copy and the swap. The swap renames the
// live directory away first and the future into place second (LogManager.handOver), so a crash
// between them leaves only the complete copy, which the next open adopts (LogDirs.open).
//
// replica.alter.log.dirs.io.max.bytes.per.second caps the bytes all moves together copy a second
// (LogMoveThrottle), so that a move cannot take the disk its producers and consumers need.
//
// A move that a restart interrupts resumes on open, as Kafka's does: its future log is recovered
// (what a crash cut short is dropped) and the copy goes on from its end (LogDirs.open).
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

import { SluiceError } from '../errors.js';
import type { Log } from './log.js';
import type { LogManager } from './log-manager.js';

/**
 * Bytes a step copies before yielding the event loop: a few ms of page-cache copying (~1 GB/s
 * here), so a move holds requests no longer than a large fetch does.
 */
export const MOVE_STEP_BYTES = 4 * 1024 * 1024;
/** Bytes one read of the live log takes (whole batches, at least one): one append of the future. */
const MOVE_READ_BYTES = 1024 * 1024;
/** Under a rate limit a step copies ~this long's worth of bytes, so the pauses between steps stay short. */
const THROTTLED_STEP_MS = 100;
/** The smallest step under a rate limit. */
const THROTTLED_STEP_BYTES_MIN = 4096;
/** How often a move waiting out the rate looks again, so that a raised or removed limit applies soon. */
const THROTTLE_RECHECK_MS = 100;

/**
 * replica.alter.log.dirs.io.max.bytes.per.second: one schedule that every move's copied bytes
 * are admitted on (Kafka's quota for its alter-log-dirs threads is broker-wide). A change applies
 * to the moves under way from their next step.
 */
export class LogMoveThrottle {
  private rate = Infinity;
  /** When the bytes admitted so far are paid for at the rate. */
  private paidUntilMs = 0;

  /** Infinity: no limit (Kafka's default, Long.MAX_VALUE). */
  get bytesPerSecond(): number {
    return this.rate;
  }

  /** A new rate applies at once: moves waiting out the old one go on within THROTTLE_RECHECK_MS. */
  set bytesPerSecond(rate: number) {
    this.rate = rate;
    this.paidUntilMs = 0;
  }

  /** Bytes a step copies before it is admitted. */
  stepBytes(): number {
    if (this.rate === Infinity) return MOVE_STEP_BYTES;
    return Math.min(MOVE_STEP_BYTES, Math.max(THROTTLED_STEP_BYTES_MIN, (this.rate * THROTTLED_STEP_MS) / 1000));
  }

  /** Waits as long as `bytes` just copied take at the rate, after what was copied before them. */
  async admit(bytes: number): Promise<void> {
    if (this.rate === Infinity || bytes === 0) return;
    this.paidUntilMs = Math.max(this.paidUntilMs, performance.now()) + (bytes * 1000) / this.rate;
    for (let waitMs = this.paidUntilMs - performance.now(); waitMs > 0; waitMs = this.paidUntilMs - performance.now()) {
      await sleep(Math.min(waitMs, THROTTLE_RECHECK_MS));
    }
  }
}

export class LogMove {
  /** Settles when the log is in the target directory, or rejects when the move was cancelled or failed. */
  readonly done: Promise<void>;
  private future: Log | undefined;
  private cancelledBy: SluiceError | undefined;

  /**
   * Opens the future log at once (DescribeLogDirs lists it from then on), or, when `after` is a
   * cancelled move of the same partition, once that move's future is gone: two futures of one
   * partition must never be on disk together at a swap (LogDirs.open adopts a future alone).
   */
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly source: LogManager,
    readonly target: LogManager,
    private readonly throttle: LogMoveThrottle,
    after: Promise<unknown> | null,
    /** A future log's directory left by a restart: the move goes on from what it holds (recovered first). */
    resumeFrom?: string,
  ) {
    if (resumeFrom !== undefined) this.future = this.target.reopenFutureLog(resumeFrom, this.liveLog().currentConfig);
    else if (after === null) this.future = this.openFuture();
    this.done = this.run(after);
  }

  /** Whether the move was cancelled (its rejection is then no failure). */
  get cancelled(): boolean {
    return this.cancelledBy !== undefined;
  }

  /** The future log's end, size and distance behind the live log (DescribeLogDirs' future replica). */
  progress(): { logEndOffset: number; sizeBytes: number; lag: number } | undefined {
    const future = this.future;
    const live = this.source.getLog(this.topic, this.partition);
    if (future === undefined || live === undefined || this.cancelledBy !== undefined) return undefined;
    return { logEndOffset: future.logEndOffset, sizeBytes: future.sizeBytes(), lag: Math.max(0, live.logEndOffset - future.logEndOffset) };
  }

  /** Stops the move; its future log is removed at its next step. */
  cancel(reason: string): void {
    this.cancelledBy ??= new SluiceError('KAFKA_STORAGE_ERROR', `The move of ${this.topic}-${this.partition} to ${this.target.dataDir} was cancelled: ${reason}`);
  }

  /** The live log was truncated: the future drops what the live log no longer has, before any append comes. */
  sourceTruncated(): void {
    const live = this.source.getLog(this.topic, this.partition);
    if (this.future !== undefined && live !== undefined) this.alignStart(live);
  }

  private openFuture(): Log {
    return this.target.openFutureLog(this.topic, this.partition, this.liveLog().currentConfig);
  }

  private async run(after: Promise<unknown> | null): Promise<void> {
    let swapped = false;
    try {
      if (after !== null) {
        await after.catch(() => {});
        this.future = this.openFuture();
      }
      let flushed = false;
      let copied = 0;
      for (;;) {
        // A macrotask turn each step, throttled or not: awaiting only promises would keep the
        // event loop from I/O until the whole log was copied.
        await nextTurn();
        await this.throttle.admit(copied);
        const { caughtUp, bytes } = this.copyStep(this.liveLog(), this.throttle.stepBytes());
        copied = bytes;
        if (!caughtUp) continue;
        if (!flushed) {
          // Durable up to here before the live copy goes away; what the last steps add is as
          // durable as the live log's own unflushed tail.
          await this.future!.flush();
          flushed = true;
          continue;
        }
        this.swap(this.liveLog());
        swapped = true;
        return;
      }
    } finally {
      if (!swapped && this.future !== undefined) this.target.discardFutureLog(this.future);
    }
  }

  private liveLog(): Log {
    if (this.cancelledBy) throw this.cancelledBy;
    const live = this.source.getLog(this.topic, this.partition);
    if (!live) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `${this.topic}-${this.partition} left ${this.source.dataDir} during its move`);
    return live;
  }

  /** The future starts where the live log starts and ends no later than it does. */
  private alignStart(live: Log): void {
    const future = this.future!;
    if (future.logEndOffset > live.logEndOffset) future.truncateTo(live.logEndOffset);
    if (future.logEndOffset < live.logStartOffset) future.truncateFullyAndStartAt(live.logStartOffset);
    else if (future.logStartOffset < live.logStartOffset) future.deleteRecordsBefore(live.logStartOffset);
  }

  /** Copies about `stepBytes` (whole batches); says whether the future has reached the live log's end. */
  private copyStep(live: Log, stepBytes: number): { caughtUp: boolean; bytes: number } {
    const future = this.future!;
    this.alignStart(live);
    let copied = 0;
    while (copied < stepBytes && future.logEndOffset < live.logEndOffset) {
      const read = live.read(future.logEndOffset, Math.min(MOVE_READ_BYTES, stepBytes - copied));
      if (read === null) {
        // No batch left below the live log's end: its active segment starts past its last batch
        // (compaction emptied the one before). The future's next segment starts there too.
        future.roll(live.logEndOffset);
        break;
      }
      const endBefore = future.logEndOffset;
      const bytes = live.readView(read);
      future.appendAsFollower(bytes);
      if (future.logEndOffset <= endBefore) throw new SluiceError('KAFKA_STORAGE_ERROR', `Copying ${this.topic}-${this.partition} made no progress at offset ${endBefore}`);
      copied += bytes.length;
    }
    return { caughtUp: future.logEndOffset === live.logEndOffset, bytes: copied };
  }

  /** In the step that caught up: the live log's epochs the batches did not carry, then the two renames. */
  private swap(live: Log): void {
    const future = this.future!;
    // An epoch assigned by a leader that has appended nothing yet is in the history, not in a batch.
    for (const entry of live.leaderEpochCache.epochEntries()) {
      if (entry.epoch > future.latestEpoch) future.assignEpochStartOffset(entry.epoch, entry.startOffset);
    }
    const highWatermark = live.isReplicated ? live.highWatermark : undefined;
    const config = live.currentConfig;
    this.source.handOver(this.topic, this.partition, () => this.target.adoptFutureLog(this.topic, this.partition, future, config, highWatermark));
  }
}
