// Owns a data directory: its lock, the clean-shutdown marker, the offset checkpoints, and one Log
// per `<topic>-<partition>` directory. Kafka's LogManager, without the topic metadata, which the
// engine keeps (storage knows logs by name, not topics by config).
//
// The high watermarks of replicated logs persist in replication-offset-checkpoint (Kafka's
// ReplicaManager writes it; here the owner of the data directory does), every
// replica.high.watermark.checkpoint.interval.ms and on close, so a restarted replica starts from
// the high watermark it had. A log with no entry there is unreplicated (its high watermark is its
// log end) until a replica manager sets one.
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

import { SluiceError } from '../errors.js';
import { TIMER_DELAY_MAX_MS } from '../limits.js';
import { binding, type NativeError } from '../native/binding.js';
import {
  MalformedCheckpointError,
  checkpointText,
  partitionOffsetLines,
  readCheckpoint,
  syncDirectorySync,
  writeCheckpoint,
  writeFileAtomically,
  writeFileAtomicallyInBackground,
  type PartitionOffset,
} from './checkpoint-file.js';
import { Log, type LogOpenOptions } from './log.js';
import type { CleanerPool } from './cleaner-pool.js';
import { LogCleaner } from './log-cleaner.js';
import { DEFAULT_CLEANER_CONFIG, type LogCleanerConfig } from './log-cleaner-config.js';
import type { LogConfig } from './log-config.js';
import { isOutOfSpace } from './segment.js';

export const LOCK_FILE = '.lock';
export const CLEAN_SHUTDOWN_FILE = '.sluice_cleanshutdown';
export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
/** High watermarks of the replicated logs (Kafka's name and format). */
export const REPLICATION_OFFSET_CHECKPOINT_FILE = 'replication-offset-checkpoint';
/** Kafka's replica.high.watermark.checkpoint.interval.ms default. */
export const HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS = 5000;
/** Kafka's producer.id.expiration.check.interval.ms default. */
export const PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS = 10 * 60 * 1000;
/** A log directory renamed with this suffix is being deleted; the next open finishes the job. */
export const DELETE_DIR_SUFFIX = '-delete';
/**
 * A copy of a log being moved here from another directory (AlterReplicaLogDirs), named
 * `<topic>-<partition>.<id>-future` as Kafka names it. LogDirs.open decides what a leftover one is.
 */
export const FUTURE_DIR_SUFFIX = '-future';

export interface LogManagerOptions {
  dataDir: string;
  /** The config of a partition's log, or undefined when it belongs to no topic (its directory is removed). */
  configFor: (topic: string, partition: number) => LogConfig | undefined;
  nowMs?: () => number;
  /** Kafka's log.retention.check.interval.ms (5 minutes); 0 disables the timer. */
  retentionCheckIntervalMs?: number;
  /** Kafka's log.flush.offset.checkpoint.interval.ms (1 minute): the recovery points; 0 disables the timer. */
  checkpointIntervalMs?: number;
  /** Kafka's log.flush.start.offset.checkpoint.interval.ms (1 minute): the log start offsets; 0 disables the timer. */
  logStartOffsetCheckpointIntervalMs?: number;
  /** Kafka's replica.high.watermark.checkpoint.interval.ms (5 s); 0 disables the timer. */
  highWatermarkCheckpointIntervalMs?: number;
  /** Kafka's producer.id.expiration.ms (1 day): a producer whose last batch is this old is forgotten, unless its transaction is open. */
  producerIdExpirationMs?: number;
  /** Kafka's producer.id.expiration.check.interval.ms (10 minutes): how often every log forgets its expired producers; 0 disables the timer. */
  producerIdExpirationCheckIntervalMs?: number;
  /** Failures of the timers' work (retention, checkpoints); default: a process warning. */
  onBackgroundError?: (error: unknown, task: string) => void;
  /** The log cleaner's broker configs (log.cleaner.*); default Kafka's. */
  cleaner?: Readonly<LogCleanerConfig>;
  /** The cleaner threads, shared with other directories (LogDirs); default: threads of this directory's own. */
  cleanerPool?: CleanerPool;
}

export interface LogManagerStartup {
  /** The previous process closed the data directory cleanly. */
  cleanShutdown: boolean;
  recoveredSegments: number;
  truncatedBytes: number;
}

/** `<topic>-<partition>` ↔ (topic, partition); a topic may itself contain '-'. */
export function logDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export function parseLogDirName(name: string): { topic: string; partition: number } | undefined {
  const dash = name.lastIndexOf('-');
  if (dash <= 0) return undefined;
  const partitionText = name.slice(dash + 1);
  if (!/^\d+$/.test(partitionText)) return undefined;
  return { topic: name.slice(0, dash), partition: Number(partitionText) };
}

export class LogManager {
  readonly dataDir: string;
  readonly startup: LogManagerStartup;
  private readonly logs = new Map<string, Log>();
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  /** The replication-offset-checkpoint text as last written or read; an unchanged one is not rewritten. */
  private highWatermarkText: string | undefined;
  /** The background write of replication-offset-checkpoint in flight, if any. */
  private highWatermarkWrite: Promise<void> | null = null;
  /** A write was asked for while one was in flight: it follows. */
  private highWatermarkRewrite = false;
  /** Background checkpoint writes in flight, by file (one at a time each). */
  private readonly checkpointWrites = new Map<string, Promise<void>>();
  /** Bumped by each synchronous checkpoint(): a background one started before it is dropped. */
  private checkpointGeneration = 0;
  /** Compacts the logs whose cleanup.policy includes compact (log-cleaner.ts). */
  private logCleaner!: LogCleaner;
  /** Directories of deleted logs being removed (deleteLogs). */
  private readonly removals = new Set<Promise<void>>();

  private constructor(
    private readonly options: LogManagerOptions,
    private readonly lockFd: number,
    cleanShutdown: boolean,
  ) {
    this.dataDir = options.dataDir;
    this.startup = { cleanShutdown, recoveredSegments: 0, truncatedBytes: 0 };
  }

  /** Locks the directory (refusing a second process) and opens, recovering as needed, every log in it. */
  static open(options: LogManagerOptions): LogManager {
    fs.mkdirSync(options.dataDir, { recursive: true });
    const lockPath = path.join(options.dataDir, LOCK_FILE);
    let lockFd: number;
    try {
      lockFd = binding.lockFile(lockPath);
    } catch (error) {
      const code = (error as NativeError).code;
      if (code === 'EWOULDBLOCK' || code === 'EAGAIN') {
        throw new SluiceError('DATA_DIR_LOCKED', `Data directory ${options.dataDir} is in use by another process (${lockPath} is locked)`);
      }
      throw error;
    }
    const markerPath = path.join(options.dataDir, CLEAN_SHUTDOWN_FILE);
    const cleanShutdown = fs.existsSync(markerPath);
    const manager = new LogManager(options, lockFd, cleanShutdown);
    try {
      // The marker is consumed on open: if this process dies, the next open sees an unclean shutdown.
      if (cleanShutdown) {
        fs.rmSync(markerPath);
        syncDirectorySync(options.dataDir);
      }
      manager.loadLogs(cleanShutdown);
      manager.logCleaner = manager.createCleaner();
      manager.startTimers();
      manager.logCleaner.start();
    } catch (error) {
      void manager.logCleaner?.close();
      manager.closeLogs(); // its own failure (a snapshot on a full disk) must not hide why opening failed
      binding.unlockFile(lockFd);
      throw error;
    }
    return manager;
  }

  private loadLogs(cleanShutdown: boolean): void {
    const recoveryPoints = offsetsByDir(readCheckpoint(path.join(this.dataDir, RECOVERY_POINT_CHECKPOINT_FILE)));
    const logStartOffsets = offsetsByDir(readCheckpoint(path.join(this.dataDir, LOG_START_OFFSET_CHECKPOINT_FILE)));
    const highWatermarks = offsetsByDir(this.readHighWatermarks());
    for (const entry of fs.readdirSync(this.dataDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = path.join(this.dataDir, entry.name);
      if (entry.name.endsWith(DELETE_DIR_SUFFIX)) {
        fs.rmSync(dir, { recursive: true, force: true });
        continue;
      }
      const parsed = parseLogDirName(entry.name);
      if (!parsed) continue;
      const config = this.options.configFor(parsed.topic, parsed.partition);
      if (!config) {
        // A topic deleted while its directories were being removed, or a creation that crashed
        // before its metadata was written: finish the deletion, or undo the creation.
        fs.rmSync(dir, { recursive: true, force: true });
        continue;
      }
      let log: Log;
      try {
        log = Log.open({
          dir,
          config,
          cleanShutdown,
          recoveryPoint: recoveryPoints.get(entry.name) ?? 0,
          logStartOffset: logStartOffsets.get(entry.name) ?? 0,
          highWatermark: highWatermarks.get(entry.name),
          ...this.logDefaults(),
        });
      } catch (error) {
        throw openError(dir, error);
      }
      this.logs.set(entry.name, log);
      this.startup.recoveredSegments += log.recovery.recoveredSegments;
      this.startup.truncatedBytes += log.recovery.truncatedBytes;
    }
  }

  private createCleaner(): LogCleaner {
    return new LogCleaner(this.dataDir, this.options.cleaner ?? DEFAULT_CLEANER_CONFIG, {
      logs: () => this.logs.entries(),
      getLog: (name) => this.logs.get(name),
      toPartition: parseLogDirName,
      toName: logDirName,
      nowMs: this.options.nowMs ?? Date.now,
      afterCleaning: (_name, log) => {
        // Kafka's cleaner runs the retention of compact,delete logs after cleaning them.
        if (log.currentConfig.cleanupPolicy.includes('delete') && log.deleteRetainedSegments() > 0) this.checkpoint();
      },
      onBackgroundError: (error, task) => this.onBackgroundError(error, task),
    }, this.options.cleanerPool);
  }

  /** The data directory's log cleaner. */
  get cleaner(): LogCleaner {
    return this.logCleaner;
  }

  private onBackgroundError(error: unknown, task: string): void {
    if (this.options.onBackgroundError) this.options.onBackgroundError(error, task);
    else process.emitWarning(`sluice: background ${task} failed: ${String(error)}`);
  }

  private startTimers(): void {
    const onError = (error: unknown, task: string) => this.onBackgroundError(error, task);
    // A timer's task that throws (a full disk, no descriptors left) would end the process; it is
    // reported instead, and the next tick tries again.
    const every = (ms: number | undefined, fallbackMs: number, name: string, task: () => void) => {
      const interval = ms ?? fallbackMs;
      if (interval <= 0) return;
      const timer = setInterval(() => {
        try {
          task();
        } catch (error) {
          onError(error, name);
        }
      }, Math.min(interval, TIMER_DELAY_MAX_MS));
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.retentionCheckIntervalMs, 5 * 60 * 1000, 'retention', () => this.runRetention());
    every(this.options.checkpointIntervalMs, 60 * 1000, 'checkpoint', () => this.checkpointInBackground(RECOVERY_POINT_CHECKPOINT_FILE));
    every(this.options.logStartOffsetCheckpointIntervalMs, 60 * 1000, 'log start offset checkpoint', () => this.checkpointInBackground(LOG_START_OFFSET_CHECKPOINT_FILE));
    every(this.options.highWatermarkCheckpointIntervalMs, HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS, 'high watermark checkpoint', () =>
      this.checkpointHighWatermarksInBackground(),
    );
    every(this.options.producerIdExpirationCheckIntervalMs, PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS, 'producer expiration', () => {
      for (const log of this.logs.values()) log.expireProducers();
    });
  }

  /**
   * The high watermarks a previous process checkpointed. A malformed file (the atomic write makes
   * one unlikely) is set aside with a warning rather than refusing to open the data directory: each
   * replicated log then waits for its replica manager to set its high watermark, which is where
   * Kafka starts a log with no checkpointed one.
   */
  private readHighWatermarks(): PartitionOffset[] {
    const filePath = path.join(this.dataDir, REPLICATION_OFFSET_CHECKPOINT_FILE);
    try {
      const entries = readCheckpoint(filePath);
      this.highWatermarkText = fs.existsSync(filePath) ? checkpointText(partitionOffsetLines(entries)) : undefined;
      return entries;
    } catch (error) {
      if (!(error instanceof MalformedCheckpointError)) throw error;
      process.emitWarning(`sluice: ignoring ${error.message}; replicated logs start without a high watermark`);
      return [];
    }
  }

  /**
   * Writes the high watermark of every replicated log to replication-offset-checkpoint. Skipped
   * when nothing changed since the last write, so a broker without replication never writes it and
   * an idle one does not fsync every 5 seconds. While a background write is in flight, another is
   * asked for after it instead, so that the older one never lands after this one.
   */
  checkpointHighWatermarks(): void {
    if (this.closed) return;
    if (this.highWatermarkWrite !== null) {
      this.highWatermarkRewrite = true;
      return;
    }
    const text = this.highWatermarkCheckpointText();
    if (text === undefined) return;
    writeFileAtomically(path.join(this.dataDir, REPLICATION_OFFSET_CHECKPOINT_FILE), text);
    this.highWatermarkText = text;
  }

  /**
   * The periodic checkpointHighWatermarks, off the event loop: Kafka writes it from its scheduler
   * thread, never from a request's path. Its fsyncs took 1-5 ms, and once 290 ms, on the brokers of
   * bench/cluster.bench.ts: every acks=all write waiting on that broker waited as long.
   */
  private checkpointHighWatermarksInBackground(): void {
    if (this.closed || this.highWatermarkWrite !== null) return;
    const text = this.highWatermarkCheckpointText();
    if (text === undefined) return;
    this.highWatermarkRewrite = false;
    this.highWatermarkWrite = writeFileAtomicallyInBackground(path.join(this.dataDir, REPLICATION_OFFSET_CHECKPOINT_FILE), text)
      .then(
        () => {
          this.highWatermarkText = text;
        },
        (error: unknown) => this.onBackgroundError(error, 'high watermark checkpoint'),
      )
      .finally(() => {
        this.highWatermarkWrite = null;
        if (this.highWatermarkRewrite) this.checkpointHighWatermarksInBackground();
      });
  }

  /** The checkpoint's text now, or undefined when it would not change the file. */
  private highWatermarkCheckpointText(): string | undefined {
    const entries: PartitionOffset[] = [];
    for (const [name, log] of this.logs) {
      if (!log.isReplicated) continue;
      const { topic, partition } = parseLogDirName(name)!;
      entries.push({ topic, partition, offset: log.highWatermark });
    }
    const text = checkpointText(partitionOffsetLines(entries));
    if (text === this.highWatermarkText || (entries.length === 0 && this.highWatermarkText === undefined)) return undefined;
    return text;
  }

  /** Segments of every log, each holding 3 descriptors open (the descriptor budget counts these). */
  /** The logs this directory holds. */
  get logCount(): number {
    return this.logs.size;
  }

  segmentCount(): number {
    let count = 0;
    for (const log of this.logs.values()) count += log.segmentCount;
    return count;
  }

  private ensureOpen(): void {
    if (this.closed) throw new SluiceError('ENGINE_CLOSED', `Data directory ${this.dataDir} is closed`);
  }

  getLog(topic: string, partition: number): Log | undefined {
    return this.logs.get(logDirName(topic, partition));
  }

  /** Opens the log, creating its directory when new. */
  createLog(topic: string, partition: number, config: LogConfig): Log {
    this.createLogs(topic, [partition], config);
    return this.getLog(topic, partition)!;
  }

  /**
   * Opens the topic's logs of `partitions`, creating the directories that are new, all or none: a
   * failure (EMFILE, ENOSPC) closes and removes the ones this call opened. One fsync of the data
   * directory covers every new name: one a log was 13% of a cluster broker's time creating 2,000.
   */
  createLogs(topic: string, partitions: readonly number[], config: LogConfig): void {
    this.ensureOpen();
    const opened: number[] = [];
    try {
      for (const partition of partitions) {
        const name = logDirName(topic, partition);
        if (this.logs.has(name)) continue;
        const dir = path.join(this.dataDir, name);
        const existed = fs.existsSync(dir);
        try {
          this.logs.set(name, Log.open({ dir, config, ...this.logDefaults() }));
        } catch (error) {
          // Opening a new log's first segment failed: leave no directory behind.
          if (!existed) fs.rmSync(dir, { recursive: true, force: true });
          throw error;
        }
        opened.push(partition);
      }
      if (opened.length > 0) syncDirectorySync(this.dataDir);
    } catch (error) {
      this.deleteLogs(topic, opened);
      throw error;
    }
  }

  /** Closes and removes the partition's log (deleteLogs). */
  deleteLog(topic: string, partition: number): void {
    this.deleteLogs(topic, [partition]);
  }

  /**
   * Closes the topic's logs of `partitions` and renames their directories to `*-delete` names, so
   * that a crash mid-delete never leaves a half log (the next open removes such directories), with
   * one fsync of the data directory and one high-watermark checkpoint for them all; the files are
   * then removed off the event loop, as Kafka's LogManager does. One fsync, one checkpoint and one
   * synchronous removal a log held a cluster broker's loop past its 9 s etcd lease while it
   * deleted the 2,000 logs of a topic of 6,000 partitions.
   */
  deleteLogs(topic: string, partitions: readonly number[]): void {
    this.ensureOpen();
    const doomed: DetachedLog[] = [];
    for (const partition of partitions) {
      const detached = this.detach(topic, partition, false);
      if (detached) doomed.push(detached);
    }
    if (doomed.length === 0) return;
    syncDirectorySync(this.dataDir);
    for (const detached of doomed) this.removeDetached(detached);
    if (doomed.some(({ log }) => log.isReplicated)) this.checkpointHighWatermarksNow();
  }

  /** What every log of this directory opens with besides its own state. */
  private logDefaults(): Pick<LogOpenOptions, 'nowMs' | 'producerIdExpirationMs'> {
    return { nowMs: this.options.nowMs, producerIdExpirationMs: this.options.producerIdExpirationMs };
  }

  /** Takes a log out of this directory: closed, renamed to a `*-delete` name, forgotten by the cleaner. */
  private detach(topic: string, partition: number, snapshot: boolean): DetachedLog | undefined {
    const name = logDirName(topic, partition);
    const log = this.logs.get(name);
    if (!log) return undefined;
    this.logs.delete(name);
    this.logCleaner.forget(name);
    log.close({ snapshot });
    const dir = path.join(this.dataDir, `${name}.${randomUUID().replaceAll('-', '')}${DELETE_DIR_SUFFIX}`);
    fs.renameSync(log.dir, dir);
    return { topic, partition, dir, log };
  }

  /**
   * The high watermarks written at once when a log leaves or arrives: a deleted log's must not
   * outlive it (a log created again under its name starts unreplicated), a moved one's goes with
   * it. If this write fails, the next one (5 s on) writes the same entries.
   */
  private checkpointHighWatermarksNow(): void {
    try {
      this.checkpointHighWatermarks();
    } catch (error) {
      this.onBackgroundError(error, 'high watermark checkpoint');
    }
  }

  private removeDetached({ dir, log }: DetachedLog): void {
    this.removeInBackground(dir, log.settled());
  }

  // ---- moves between directories (log-dirs.ts) ----------------------------------------------

  /** An empty log in a `*-future` directory of this one, which the log map does not hold. */
  openFutureLog(topic: string, partition: number, config: LogConfig): Log {
    this.ensureOpen();
    const dir = path.join(this.dataDir, `${logDirName(topic, partition)}.${randomUUID().replaceAll('-', '')}${FUTURE_DIR_SUFFIX}`);
    try {
      return Log.open({ dir, config, ...this.logDefaults() });
    } catch (error) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw openError(dir, error);
    }
  }

  /** A `*-future` directory left by a restart, opened (and recovered) to go on with its move. */
  reopenFutureLog(dir: string, config: LogConfig): Log {
    this.ensureOpen();
    try {
      return Log.open({ dir, config, ...this.logDefaults() });
    } catch (error) {
      throw openError(dir, error);
    }
  }

  /** Closes a future log that will not be adopted and removes its directory off the event loop. */
  discardFutureLog(future: Log): void {
    future.close({ snapshot: false });
    const dir = `${future.dir.slice(0, -FUTURE_DIR_SUFFIX.length)}${DELETE_DIR_SUFFIX}`;
    fs.renameSync(future.dir, dir);
    this.removeInBackground(dir, future.settled());
  }

  /** The `*-future` directories found here: `<topic>-<partition>` and path. */
  futureDirs(): Array<{ topic: string; partition: number; dir: string }> {
    const found = [];
    for (const entry of fs.readdirSync(this.dataDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || !entry.name.endsWith(FUTURE_DIR_SUFFIX)) continue;
      const dot = entry.name.lastIndexOf('.');
      const parsed = dot > 0 ? parseLogDirName(entry.name.slice(0, dot)) : undefined;
      if (parsed) found.push({ ...parsed, dir: path.join(this.dataDir, entry.name) });
    }
    return found;
  }

  /**
   * Makes a future log (open, or a `*-future` directory left by a crash) this directory's log of
   * the partition: renamed to `<topic>-<partition>` and opened. An open one is closed first (its
   * producer snapshot written), so it reopens as after a clean shutdown; a leftover one is recovered.
   */
  adoptFutureLog(topic: string, partition: number, future: Log | string, config: LogConfig, highWatermark?: number): Log {
    this.ensureOpen();
    const name = logDirName(topic, partition);
    if (this.logs.has(name)) throw new SluiceError('KAFKA_STORAGE_ERROR', `${this.dataDir} already holds ${name}`);
    const open = typeof future !== 'string';
    const from = open ? future.dir : future;
    const recoveryPoint = open ? future.recoveryPoint : 0;
    const logStartOffset = open ? future.logStartOffset : 0;
    if (open) future.close();
    const dir = path.join(this.dataDir, name);
    fs.renameSync(from, dir);
    let log: Log;
    try {
      log = Log.open({ dir, config, cleanShutdown: open, recoveryPoint, logStartOffset, highWatermark, ...this.logDefaults() });
    } catch (error) {
      fs.renameSync(dir, from);
      throw openError(dir, error);
    }
    syncDirectorySync(this.dataDir);
    this.logs.set(name, log);
    this.checkpoint();
    if (highWatermark !== undefined) this.checkpointHighWatermarksNow();
    return log;
  }

  /**
   * Hands the partition's log over to another directory's `adopt` (which returns it opened there):
   * this one is renamed away first, so a crash between the two renames leaves only the new copy,
   * which the next open adopts (LogDirs.open). If `adopt` fails, the log is put back.
   */
  handOver(topic: string, partition: number, adopt: () => Log): Log {
    this.ensureOpen();
    const config = this.requireLog(topic, partition).currentConfig;
    const detached = this.detach(topic, partition, true)!;
    syncDirectorySync(this.dataDir);
    let adopted: Log;
    try {
      adopted = adopt();
    } catch (error) {
      const dir = path.join(this.dataDir, logDirName(topic, partition));
      fs.renameSync(detached.dir, dir);
      const { log } = detached;
      const highWatermark = log.isReplicated ? log.highWatermark : undefined;
      this.logs.set(logDirName(topic, partition), Log.open({ dir, config, cleanShutdown: true, recoveryPoint: log.recoveryPoint, logStartOffset: log.logStartOffset, highWatermark, ...this.logDefaults() }));
      throw error;
    }
    this.removeDetached(detached);
    this.checkpoint();
    if (detached.log.isReplicated) this.checkpointHighWatermarksNow();
    return adopted;
  }

  /**
   * Removes a renamed-away log directory on libuv's threads, once `after` settles (the log's
   * background writes, which could otherwise create a file in it mid-removal); close() waits for it.
   */
  private removeInBackground(dir: string, after: Promise<void> = Promise.resolve()): void {
    // A cleaner thread may still be closing a .cleaned file in it: retry ENOTEMPTY.
    const removal = after
      .then(() => fs.promises.rm(dir, { recursive: true, force: true, maxRetries: 3 }))
      .catch((error: unknown) => this.onBackgroundError(error, `removing ${path.basename(dir)} (the next open removes it)`))
      .finally(() => this.removals.delete(removal));
    this.removals.add(removal);
  }

  /**
   * Log.truncateTo on a partition's log, then the recovery points and log starts are checkpointed
   * at once, as Kafka's LogManager.truncateTo does: a checkpointed recovery point above the new log
   * end would, after a crash, pass over what a follower appends there next without recovering it.
   * Replica managers truncate through here.
   */
  truncateTo(topic: string, partition: number, offset: number): boolean {
    this.ensureOpen();
    const log = this.requireLog(topic, partition);
    const truncated = log.truncateTo(offset);
    if (truncated) {
      this.logCleaner.abort(logDirName(topic, partition));
      this.logCleaner.truncateCheckpoint(logDirName(topic, partition), log.logEndOffset);
      this.checkpoint();
    }
    return truncated;
  }

  /** Log.truncateFullyAndStartAt on a partition's log, then the checkpoints (see truncateTo). */
  truncateFullyAndStartAt(topic: string, partition: number, offset: number, logStartOffset = offset): void {
    this.ensureOpen();
    this.requireLog(topic, partition).truncateFullyAndStartAt(offset, logStartOffset);
    this.logCleaner.abort(logDirName(topic, partition));
    this.logCleaner.truncateCheckpoint(logDirName(topic, partition), offset);
    this.checkpoint();
  }

  private requireLog(topic: string, partition: number): Log {
    const log = this.getLog(topic, partition);
    if (!log) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host this topic-partition: ${topic}-${partition}`);
    return log;
  }

  allLogs(): IterableIterator<[string, Log]> {
    return this.logs.entries();
  }

  /**
   * One retention pass over every log; returns the segments deleted. A log being cleaned is left to
   * the cleaner, which runs its retention when the pass ends (as Kafka's does for compact,delete).
   */
  runRetention(): number {
    if (this.closed) return 0;
    let deleted = 0;
    for (const [name, log] of this.logs) if (!this.logCleaner.isCleaning(name)) deleted += log.deleteRetainedSegments();
    if (deleted > 0) this.checkpoint();
    return deleted;
  }

  /** Writes the recovery points and log start offsets of every log. */
  checkpoint(): void {
    if (this.closed) return;
    // A background checkpoint in flight holds older offsets (a truncation may have lowered them
    // since): it must not land after this one.
    this.checkpointGeneration++;
    const { recoveryPoints, logStartOffsets } = this.checkpointEntries();
    writeCheckpoint(path.join(this.dataDir, RECOVERY_POINT_CHECKPOINT_FILE), recoveryPoints);
    writeCheckpoint(path.join(this.dataDir, LOG_START_OFFSET_CHECKPOINT_FILE), logStartOffsets);
  }

  /**
   * A periodic checkpoint, its fsyncs off the event loop (Kafka writes it from its scheduler
   * thread): two fsyncs every minute on each broker's request path otherwise. The recovery points
   * and the log start offsets have their own timers, as Kafka's (log.flush.offset.checkpoint.interval.ms,
   * log.flush.start.offset.checkpoint.interval.ms). Dropped when a synchronous checkpoint (a
   * truncation, DeleteRecords, retention) is written meanwhile.
   */
  private checkpointInBackground(file: typeof RECOVERY_POINT_CHECKPOINT_FILE | typeof LOG_START_OFFSET_CHECKPOINT_FILE): void {
    if (this.closed || this.checkpointWrites.has(file)) return;
    const generation = this.checkpointGeneration;
    const superseded = () => this.closed || this.checkpointGeneration !== generation;
    const { recoveryPoints, logStartOffsets } = this.checkpointEntries();
    const entries = file === RECOVERY_POINT_CHECKPOINT_FILE ? recoveryPoints : logStartOffsets;
    const write = (async () => {
      const outcome = await writeFileAtomicallyInBackground(path.join(this.dataDir, file), checkpointText(partitionOffsetLines(entries)), superseded);
      // A synchronous checkpoint landed while this older one was renamed over it: write the newest again.
      if (outcome === 'raced' && !this.closed) this.checkpoint();
    })()
      .catch((error: unknown) => this.onBackgroundError(error, 'checkpoint'))
      .finally(() => this.checkpointWrites.delete(file));
    this.checkpointWrites.set(file, write);
  }

  private checkpointEntries(): { recoveryPoints: PartitionOffset[]; logStartOffsets: PartitionOffset[] } {
    const recoveryPoints: PartitionOffset[] = [];
    const logStartOffsets: PartitionOffset[] = [];
    for (const [name, log] of this.logs) {
      const { topic, partition } = parseLogDirName(name)!;
      recoveryPoints.push({ topic, partition, offset: log.recoveryPoint });
      logStartOffsets.push({ topic, partition, offset: log.logStartOffset });
    }
    return { recoveryPoints, logStartOffsets };
  }

  async flushAll(): Promise<void> {
    await Promise.all([...this.logs.values()].map((log) => log.flush()));
  }

  /**
   * A clean shutdown: flush every log, checkpoint, close, leave the marker, release the lock.
   * The next open then trusts the files and only checks each active segment's tail.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const timer of this.timers) clearInterval(timer);
    try {
      await this.logCleaner.close();
      await Promise.all(this.removals);
      await this.flushAll();
      await Promise.all(this.checkpointWrites.values());
      this.checkpoint();
      while (this.highWatermarkWrite !== null) {
        this.highWatermarkRewrite = false;
        await this.highWatermarkWrite;
      }
      this.checkpointHighWatermarks();
      this.closed = true;
      // A log that did not close whole (no space for its producer snapshot) gets no marker: the
      // next open recovers instead of trusting the files.
      const error = this.closeLogs();
      // A roll's snapshot still being written (the close's own supersedes it), and deleted
      // segments' files, whose removal the close started (file.delete.delay.ms is not waited out).
      await Promise.all([...this.logs.values()].map((log) => log.settled()));
      if (error !== undefined) throw error;
      fs.writeFileSync(path.join(this.dataDir, CLEAN_SHUTDOWN_FILE), '');
      syncDirectorySync(this.dataDir);
    } finally {
      this.closed = true;
      this.closeLogs();
      binding.unlockFile(this.lockFd);
    }
  }

  /**
   * Lets go of a directory whose disk failed (LogDirs: Kafka's offline log dir, KIP-112): the
   * timers stopped, the cleaner told to stop, every log closed with nothing written (no producer
   * snapshot, checkpoint or clean-shutdown marker: the next open recovers the directory as after a
   * crash), the lock released. Returns the names of the logs it held. Throws nothing: on a failed
   * disk every write fails, and what matters is that the other directories go on.
   */
  abandon(): string[] {
    const names = [...this.logs.keys()];
    if (this.closed) return names;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.logCleaner.close().catch(() => {}); // its passes are aborted; their .cleaned files stay for the next open to remove
    for (const log of this.logs.values()) {
      try {
        log.close({ snapshot: false });
      } catch {
        // its segments' index trims fail on that disk too
      }
    }
    this.logs.clear();
    try {
      binding.unlockFile(this.lockFd);
    } catch {
      // the descriptor goes with the process
    }
    return names;
  }

  /** Closes every log, also after one fails (each closes its segments regardless); returns the first failure. */
  private closeLogs(): unknown {
    let firstError: unknown;
    for (const log of this.logs.values()) {
      try {
        log.close();
      } catch (error) {
        firstError ??= error;
      }
    }
    return firstError;
  }
}

/**
 * A full disk while a log opens is KAFKA_STORAGE_ERROR naming the partition directory. The
 * segments already say what they need (an index rebuild, a preallocation) in a SluiceError; any
 * other out-of-space error keeps its call and file in the message.
 */
function openError(dir: string, error: unknown): unknown {
  if (error instanceof SluiceError || !isOutOfSpace(error)) return error;
  return new SluiceError('KAFKA_STORAGE_ERROR', `Out of disk space opening partition directory ${dir}: ${(error as Error).message}`, { cause: error });
}

interface DetachedLog {
  topic: string;
  partition: number;
  /** Where its directory was renamed to. */
  dir: string;
  log: Log;
}

function offsetsByDir(entries: PartitionOffset[]): Map<string, number> {
  return new Map(entries.map((entry) => [logDirName(entry.topic, entry.partition), entry.offset]));
}
