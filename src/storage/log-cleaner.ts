// The log cleaner of a data directory (Kafka's LogCleaner): compacts the logs whose cleanup.policy
// includes `compact`, keeping the last record of every key. The main thread decides and swaps; the
// work runs on log.cleaner.threads worker threads (cleaner-pool.ts, shared by every log directory's
// cleaner; cleaner-thread.ts, cleaner-worker.ts, cleaner.ts), so the event
// loop that serves appends and fetches only picks a log, hands a worker the paths of its closed
// segments with the parameters, and swaps each cleaned group into the Log (Log.replaceSegments)
// between two of its appends or reads.
//
// A pass over a log (Kafka's Cleaner.clean), from the first dirty offset to the first uncleanable
// one (log-cleaner-manager.ts): the worker builds the key -> offset map of the dirty part (bounded by
// log.cleaner.dedupe.buffer.size / threads: when the keys do not fit, the pass ends where the map
// filled, and the next pass goes on from there), then rewrites the log from its start up to there
// group by group (segment.bytes), each group into `.cleaned` files that the main thread swaps in.
// The offset the pass reached is the log's new first dirty offset, kept per data directory in
// `cleaner-offset-checkpoint` (Kafka's name, the format of recovery-point-offset-checkpoint),
// written after each pass. Crashes: see Log.replaceSegments and Log.cleanDirectory.
//
// Scheduling (Kafka's CleanerThread.doWork): every log.cleaner.backoff.ms, and whenever a pass ends,
// each idle thread takes the dirtiest log whose dirty ratio is at least min.cleanable.dirty.ratio
// (or whose max.compaction.lag.ms passed). compactNow() cleans a log at once whatever its ratio,
// pass after pass until its cleanable part is clean. With log.cleaner.enable=false only
// compactNow() cleans. A log that failed to clean is left alone (Kafka's uncleanable partitions)
// until compactNow() asks for it again. For cleanup.policy=compact,delete retention runs after
// each pass, and the retention timer leaves a log alone while it is being cleaned.
//
// Broker configs (log-cleaner-config.ts; Kafka's names and defaults): log.cleaner.enable (true), log.cleaner.threads (1),
// log.cleaner.dedupe.buffer.size (128 MiB, split between threads), log.cleaner.io.buffer.size
// (512 KiB: per thread, half of its share for reads and half for writes),
// log.cleaner.io.buffer.load.factor (0.9), log.cleaner.io.max.bytes.per.second (unlimited; each
// thread gets its share, where Kafka's threads share one throttler), log.cleaner.backoff.ms (15 s).
import fs from 'node:fs';
import path from 'node:path';

import { SluiceError } from '../errors.js';
import type { CleanTask, CleanedSegment, CleanerSegment, CleanerStats } from './cleaner.js';
import { CleanerPool, type CleanerSource } from './cleaner-pool.js';
import type { CleanerThread } from './cleaner-thread.js';
import { MalformedCheckpointError, readCheckpoint, writeCheckpoint, type PartitionOffset } from './checkpoint-file.js';
import { CLEANED_FILE_SUFFIX } from './index-format.js';
import { deleteHorizonMs, isCompacted, logToClean, shouldClean, type LogToClean } from './log-cleaner-manager.js';
import type { LogCleanerConfig } from './log-cleaner-config.js';
import type { Log, SwapStep } from './log.js';
import type { Segment } from './segment.js';

/** The first dirty offset of each cleaned log (Kafka's name and format). */
export const CLEANER_OFFSET_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';

/** A log that needs cleaning, as this cleaner offers it to the pool. */
interface Candidate {
  name: string;
  log: Log;
  toClean: LogToClean;
  dirtyRatio: number;
}

/** What the cleaner needs of the LogManager that owns it. */
export interface LogCleanerHost {
  logs(): Iterable<[name: string, log: Log]>;
  getLog(name: string): Log | undefined;
  /** `<topic>-<partition>` as a checkpoint entry, and back. */
  toPartition(name: string): { topic: string; partition: number } | undefined;
  toName(topic: string, partition: number): string;
  nowMs(): number;
  /** A pass ended: compact,delete logs get their retention pass. */
  afterCleaning(name: string, log: Log): void;
  onBackgroundError(error: unknown, task: string): void;
}

/** One pass, as the cleaner reports it. */
export interface CleaningPass extends CleanerStats {
  startMs: number;
  endMs: number;
  firstDirtyOffset: number;
  /** Where the pass stopped: the new first dirty offset. */
  endOffset: number;
  /** Segments swapped out and cleaned ones swapped in. */
  segmentsReplaced: number;
  segmentsWritten: number;
}

/** A compacted log as the cleaner sees it (Engine.cleanerStats). */
export interface LogCleanerStats {
  firstDirtyOffset: number;
  firstUncleanableOffset: number;
  cleanBytes: number;
  dirtyBytes: number;
  /** dirtyBytes / (cleanBytes + dirtyBytes): cleaned at min.cleanable.dirty.ratio or above. */
  dirtyRatio: number;
  needCompactionNow: boolean;
  inProgress: boolean;
  /** The last pass failed; the log is left alone until compactNow(). */
  uncleanable: string | null;
  /** Passes completed since the engine opened. */
  passes: number;
  /** When the last pass ended (the log's clock), or null. */
  lastCleanedMs: number | null;
  lastPass: CleaningPass | null;
  /** Bytes read and written by cleaning this log since the engine opened. */
  bytesRead: number;
  bytesWritten: number;
}

/** For tests that crash the process at a step of a pass: the .cleaned files are whole, a swap step, the checkpoint is written. */
export type CleanerStep = 'cleaned' | SwapStep | 'checkpointed';
export const cleanerTestHooks: { onStep?: (step: CleanerStep, name: string) => void } = {};

interface LogState {
  passes: number;
  lastCleanedMs: number | null;
  lastPass: CleaningPass | null;
  bytesRead: number;
  bytesWritten: number;
  uncleanable: string | null;
}

/** A pass in progress. */
interface Job {
  name: string;
  log: Log;
  toClean: LogToClean;
  /** The segments planned, by base offset: a swap replaces exactly these objects. */
  segments: Map<number, Segment>;
  /** A truncation or deletion of the log: the pass stops at its next group. */
  aborted: boolean;
  done: Promise<CleaningPass | null>;
  /** The thread it runs on: a closing cleaner terminates it to stop the pass. */
  thread: CleanerThread;
  segmentsReplaced: number;
  segmentsWritten: number;
}

export class LogCleaner {
  private readonly checkpointPath: string;
  private readonly checkpoints = new Map<string, number>();
  private readonly states = new Map<string, LogState>();
  private readonly jobs = new Map<string, Job>();
  /** The threads: shared with the other log directories' cleaners (LogDirs), or this cleaner's own. */
  private readonly pool: CleanerPool;
  private readonly ownsPool: boolean;
  private readonly leavePool: () => void;
  /** compactNow() calls waiting for a thread: given up at close. */
  private readonly waits = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly dataDir: string,
    private currentConfig: Readonly<LogCleanerConfig>,
    private readonly host: LogCleanerHost,
    pool?: CleanerPool,
  ) {
    this.ownsPool = pool === undefined;
    this.pool = pool ?? new CleanerPool(currentConfig, (error) => host.onBackgroundError(error, 'log cleaner'));
    this.leavePool = this.pool.addSource(this.source);
    this.checkpointPath = path.join(dataDir, CLEANER_OFFSET_CHECKPOINT_FILE);
    let entries: PartitionOffset[] = [];
    try {
      entries = readCheckpoint(this.checkpointPath);
    } catch (error) {
      if (!(error instanceof MalformedCheckpointError)) throw error;
      // Only costs work: every compacted log is cleaned again from its start.
      process.emitWarning(`sluice: ignoring ${error.message}; compacted logs are cleaned again from their start`);
    }
    for (const entry of entries) this.checkpoints.set(host.toName(entry.topic, entry.partition), entry.offset);
  }

  get config(): Readonly<LogCleanerConfig> {
    return this.currentConfig;
  }

  /**
   * New log.cleaner.* settings on a running cleaner (dynamic broker configs), as Kafka's
   * LogCleaner.reconfigure takes them: the new backoff, and with enable false no new pass starts.
   * The threads (their number, buffers and I/O rate) are the pool's: its owner reconfigures it
   * (this cleaner when the pool is its own, LogDirs when shared).
   */
  reconfigure(config: Readonly<LogCleanerConfig>): void {
    if (this.closed) return;
    this.currentConfig = config;
    if (this.ownsPool) this.pool.reconfigure(config);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.start();
  }

  /** Starts the background cleaning (log.cleaner.enable). */
  start(): void {
    if (!this.config.enable || this.timer || this.closed) return;
    this.timer = setInterval(() => this.schedule(), Math.max(this.config.backoffMs, 1));
    this.timer.unref();
    setImmediate(() => this.schedule());
  }

  /** Stops every pass of this cleaner (their .cleaned files are removed) and, when the pool is its own, ends the threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.leavePool();
    for (const cancel of [...this.waits]) cancel();
    const jobs = [...this.jobs.values()];
    for (const job of jobs) job.aborted = true;
    // Terminating a thread stops its pass; the pass's end releases the thread to the pool.
    await Promise.all(jobs.map((job) => job.thread.terminate()));
    await Promise.all(jobs.map((job) => job.done.catch(() => null)));
    if (this.ownsPool) await this.pool.close();
    for (const job of jobs) removeCleanedFiles(job.log.dir);
  }

  /** A pass of `name` is running. */
  isCleaning(name: string): boolean {
    return this.jobs.has(name);
  }

  /** The log was truncated or is being deleted: its pass swaps in nothing more. */
  abort(name: string): void {
    const job = this.jobs.get(name);
    if (job) job.aborted = true;
  }

  /** Kafka's maybeTruncateCheckpoint: a truncation below the first dirty offset makes what follows dirty. */
  truncateCheckpoint(name: string, offset: number): void {
    const checkpointed = this.checkpoints.get(name);
    if (checkpointed === undefined || checkpointed <= offset) return;
    this.checkpoints.set(name, offset);
    this.writeCheckpoint();
  }

  /** The log was deleted: its pass stops, its checkpoint entry and statistics go. */
  forget(name: string): void {
    this.abort(name);
    this.states.delete(name);
    if (this.checkpoints.delete(name)) this.writeCheckpoint();
  }

  /** The cleaner's view of a log, or undefined when its cleanup.policy has no `compact`. */
  stats(name: string): LogCleanerStats | undefined {
    const log = this.host.getLog(name);
    if (!log || !isCompacted(log.currentConfig)) return undefined;
    const toClean = logToClean(log, this.checkpoints.get(name), this.host.nowMs());
    const state = this.state(name);
    return {
      firstDirtyOffset: toClean.firstDirtyOffset,
      firstUncleanableOffset: toClean.firstUncleanableOffset,
      cleanBytes: toClean.cleanBytes,
      dirtyBytes: toClean.cleanableBytes,
      dirtyRatio: toClean.dirtyRatio,
      needCompactionNow: toClean.needCompactionNow,
      inProgress: this.jobs.has(name),
      uncleanable: state.uncleanable,
      passes: state.passes,
      lastCleanedMs: state.lastCleanedMs,
      lastPass: state.lastPass,
      bytesRead: state.bytesRead,
      bytesWritten: state.bytesWritten,
    };
  }

  /**
   * Cleans `name` now, whatever its dirty ratio, pass after pass until its cleanable part is clean
   * (or a pass makes no progress); waits for a pass already running first. Resolves with the
   * passes made; rejects with the failure of one.
   */
  async cleanNow(name: string): Promise<CleaningPass[]> {
    const passes: CleaningPass[] = [];
    for (;;) {
      const running = this.jobs.get(name);
      if (running) {
        await running.done.catch(() => {});
        continue;
      }
      const log = this.host.getLog(name);
      if (this.closed || !log || !isCompacted(log.currentConfig)) return passes;
      if (!shouldClean(logToClean(log, this.checkpoints.get(name), this.host.nowMs()), log.currentConfig, true)) return passes;
      const wait = this.pool.wait();
      this.waits.add(wait.cancel);
      const thread = await wait.thread;
      this.waits.delete(wait.cancel);
      if (thread === undefined) return passes;
      if (this.closed) {
        this.pool.release(thread);
        return passes;
      }
      // Planned once the thread is ours: a pass that ran meanwhile changed the segments.
      const toClean = this.jobs.has(name) || this.host.getLog(name) !== log ? undefined : logToClean(log, this.checkpoints.get(name), this.host.nowMs());
      if (!toClean || !shouldClean(toClean, log.currentConfig, true)) {
        this.pool.release(thread);
        if (!toClean) continue;
        return passes;
      }
      this.state(name).uncleanable = null;
      const pass = await this.run(thread, name, log, toClean, true);
      if (pass === null) return passes;
      passes.push(pass);
      if (pass.endOffset <= toClean.firstDirtyOffset) return passes;
    }
  }

  /**
   * Gives each idle thread the dirtiest log that needs cleaning, of this directory and the others
   * sharing the pool (Kafka's grabFilthiestCompactedLog): see CleanerPool.schedule.
   */
  private schedule(): void {
    if (this.closed || !this.config.enable) return;
    try {
      this.pool.schedule();
    } catch (error) {
      // A thread that cannot start (no tsx for the sources, no memory): reported, tried again at the next tick.
      this.host.onBackgroundError(error, 'log cleaner');
    }
  }

  /** This directory's part in the pool's choice (CleanerPool.schedule). */
  private readonly source: CleanerSource<Candidate> = {
    dirtiest: () => this.dirtiest(),
    begin: (thread, { name, log, toClean }) => void this.run(thread, name, log, toClean, false).catch(() => {}),
  };

  /** The dirtiest log here whose dirty ratio (or max.compaction.lag.ms) calls for a pass, not being cleaned. */
  private dirtiest(): Candidate | undefined {
    if (this.closed || !this.config.enable) return undefined;
    let dirtiest: Candidate | undefined;
    for (const [name, log] of this.host.logs()) {
      if (this.jobs.has(name) || !isCompacted(log.currentConfig) || this.state(name).uncleanable !== null) continue;
      let toClean: LogToClean;
      try {
        toClean = logToClean(log, this.checkpoints.get(name), this.host.nowMs());
      } catch (error) {
        this.host.onBackgroundError(error, `log cleaner (${name})`);
        continue;
      }
      if (!shouldClean(toClean, log.currentConfig)) continue;
      if (!dirtiest || toClean.dirtyRatio > dirtiest.dirtyRatio) dirtiest = { name, log, toClean, dirtyRatio: toClean.dirtyRatio };
    }
    return dirtiest;
  }

  /** One pass over one log on `thread`; the thread is released (and the scheduler run) at its end. */
  private run(thread: CleanerThread, name: string, log: Log, toClean: LogToClean, rethrow: boolean): Promise<CleaningPass | null> {
    const job: Job = { name, log, toClean, segments: new Map(toClean.segments.map((s) => [s.baseOffset, s])), aborted: false, done: undefined!, thread, segmentsReplaced: 0, segmentsWritten: 0 };
    const startMs = this.host.nowMs();
    const task = this.task(name, log, toClean);
    job.done = (async () => {
      try {
        const outcome = await thread.clean(task, (cleaned) => this.swap(job, cleaned));
        if (outcome.type === 'failed') {
          if (job.aborted || this.closed) return null;
          const error = new SluiceError('KAFKA_STORAGE_ERROR', `Cleaning ${name} failed: ${outcome.error.message}`);
          this.state(name).uncleanable = error.message;
          throw error;
        }
        this.account(name, outcome.stats);
        if (outcome.type === 'stopped' || job.aborted) return null;
        return this.passDone(job, startMs, outcome.endOffset, outcome.stats);
      } finally {
        this.jobs.delete(name);
        this.pool.release(thread);
      }
    })();
    this.jobs.set(name, job);
    return job.done.catch((error: unknown) => {
      if (!this.closed) this.host.onBackgroundError(error, `log cleaner (${name})`);
      if (rethrow) throw error;
      return null;
    });
  }

  private task(name: string, log: Log, toClean: LogToClean): CleanTask {
    const config = log.currentConfig;
    const segments: CleanerSegment[] = [];
    const all = toClean.segments;
    for (let i = 0; i < all.length - 1 && all[i]!.baseOffset < toClean.firstUncleanableOffset; i++) {
      const segment = all[i]!;
      segments.push({
        baseOffset: segment.baseOffset,
        logPath: segment.logPath,
        offsetIndexPath: segment.offsetIndexPath,
        timeIndexPath: segment.timeIndexPath,
        sizeBytes: segment.sizeBytes(),
        endOffset: all[i + 1]!.baseOffset,
      });
    }
    // Where the map starts reading: the batch holding the first dirty offset, found by the index.
    const dirtySegment = all.findLast((segment) => segment.baseOffset <= toClean.firstDirtyOffset);
    const firstDirtyPosition = dirtySegment ? (dirtySegment.translateOffset(toClean.firstDirtyOffset)?.position ?? dirtySegment.sizeBytes()) : 0;
    return {
      dir: log.dir,
      name,
      segments,
      firstDirtyOffset: toClean.firstDirtyOffset,
      firstDirtyPosition,
      firstUncleanableOffset: toClean.firstUncleanableOffset,
      deleteHorizonMs: deleteHorizonMs(toClean, config),
      producerLastOffsets: log.producers.lastBatchOffsets(),
      abortedTransactions: log.abortedTransactions(log.logStartOffset, toClean.firstUncleanableOffset),
      segmentBytes: config.segmentBytes,
      segmentIndexBytes: config.segmentIndexBytes,
      indexIntervalBytes: config.indexIntervalBytes,
      maxMessageBytes: config.maxMessageBytes,
    };
  }

  /** A group is written: swap it in (Log.replaceSegments), unless the pass was aborted. Returns whether to go on. */
  private swap(job: Job, cleaned: CleanedSegment): boolean {
    const old = cleaned.replaces.map((base) => job.segments.get(base));
    if (job.aborted || this.closed || old.some((segment) => segment === undefined)) {
      removeFiles(cleaned);
      return false;
    }
    cleanerTestHooks.onStep?.('cleaned', job.name);
    let segment: Segment | null;
    try {
      const keepBytes = cleaned.placeholderBytes > 0 ? cleaned.sizeBytes - cleaned.placeholderBytes : undefined;
      segment = job.log.replaceSegments(old as Segment[], keepBytes, (step) => cleanerTestHooks.onStep?.(step, job.name));
    } catch (error) {
      // The files are left as the crash-safe order left them; the next open completes or undoes the swap.
      job.aborted = true;
      this.state(job.name).uncleanable = `swapping in ${cleaned.logPath}: ${(error as Error).message}`;
      this.host.onBackgroundError(error, `log cleaner (${job.name})`);
      return false;
    }
    if (!segment) {
      removeFiles(cleaned);
      job.aborted = true;
      return false;
    }
    job.segmentsReplaced += old.length;
    job.segmentsWritten++;
    return true;
  }

  private passDone(job: Job, startMs: number, endOffset: number, stats: CleanerStats): CleaningPass {
    const state = this.state(job.name);
    const endMs = this.host.nowMs();
    const pass: CleaningPass = {
      ...stats,
      startMs,
      endMs,
      firstDirtyOffset: job.toClean.firstDirtyOffset,
      endOffset,
      segmentsReplaced: job.segmentsReplaced,
      segmentsWritten: job.segmentsWritten,
    };
    state.passes++;
    state.lastCleanedMs = endMs;
    state.lastPass = pass;
    this.checkpoints.set(job.name, endOffset);
    try {
      this.writeCheckpoint();
      cleanerTestHooks.onStep?.('checkpointed', job.name);
      this.host.afterCleaning(job.name, job.log);
    } catch (error) {
      this.host.onBackgroundError(error, `log cleaner (${job.name})`);
    }
    return pass;
  }

  private account(name: string, stats: CleanerStats): void {
    const state = this.state(name);
    state.bytesRead += stats.mapBytesRead + stats.bytesRead;
    state.bytesWritten += stats.bytesWritten;
  }

  private writeCheckpoint(): void {
    const entries: PartitionOffset[] = [];
    for (const [name, offset] of this.checkpoints) {
      const partition = this.host.getLog(name) ? this.host.toPartition(name) : undefined;
      if (partition) entries.push({ ...partition, offset });
    }
    writeCheckpoint(this.checkpointPath, entries);
  }

  private state(name: string): LogState {
    let state = this.states.get(name);
    if (!state) {
      state = { passes: 0, lastCleanedMs: null, lastPass: null, bytesRead: 0, bytesWritten: 0, uncleanable: null };
      this.states.set(name, state);
    }
    return state;
  }
}

/** Removes a group's .cleaned files (a pass that will not swap them in). */
function removeFiles(cleaned: CleanedSegment): void {
  for (const file of [cleaned.logPath, cleaned.offsetIndexPath, cleaned.timeIndexPath]) fs.rmSync(file, { force: true });
}

/** Removes every .cleaned file of a log directory (a pass stopped mid-group). */
function removeCleanedFiles(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) if (name.endsWith(CLEANED_FILE_SUFFIX)) fs.rmSync(path.join(dir, name), { force: true });
}
