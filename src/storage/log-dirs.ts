// Several log directories (Kafka's log.dirs, JBOD): one LogManager each, with its own lock, clean
// shutdown marker, offset checkpoints and cleaner, and the logs spread over them. A new log goes
// to the directory holding the fewest logs, as Kafka's LogManager.nextLogDirs places partitions
// (by count, not by bytes: partitions grow after placement). It stays there until moved
// (alterLogDir, Kafka's AlterReplicaLogDirs: log-mover.ts).
//
// A directory whose disk fails goes offline, as Kafka's do (KIP-112): an I/O error from any of its
// logs (isLogDirFailure: EIO, EROFS and the like; not a full disk, see below) takes every log in it
// out of service until the process restarts, and the other directories go on. Its partitions then
// answer KAFKA_STORAGE_ERROR rather than being created again elsewhere (their data is on that
// disk), the failure listener is told (the broker reports the replicas to the controller, which
// moves their leadership), and nothing more is written there: no checkpoint, snapshot or
// clean-shutdown marker, so the next open recovers it as after a crash. Kafka takes a directory
// offline on a full disk too; here an out-of-space error stays the one append's or roll's
// KAFKA_STORAGE_ERROR, taken back whole (segment.ts), since retention or an operator frees space
// and the directory can go on: a full disk is not a failed one.
//
// A directory that fails at open (an I/O error creating, locking or loading it) is offline from the
// start while the others open, as in Kafka; all failing is an error. Which partitions it holds is
// then not known: the engine's hosted partitions found in no directory are taken as its
// (openHostedLogs), offline rather than created empty, since an empty log where the records were
// would pass for them.
//
// With one directory, a lookup is the LogManager's own (getLog). Each directory's cleaner keeps its
// own cleaner-offset-checkpoint, and all of them clean on one pool of log.cleaner.threads threads
// (cleaner-pool.ts), as Kafka's threads serve every directory, with one dedupe buffer and I/O rate;
// a free thread takes the dirtiest log of all the directories.
import fs from 'node:fs';

import { SluiceError } from '../errors.js';
import type { Log } from './log.js';
import type { CleaningPass, LogCleanerStats } from './log-cleaner.js';
import type { LogCleanerConfig } from './log-cleaner-config.js';
import type { LogConfig } from './log-config.js';
import { LogManager, logDirName, parseLogDirName, type LogManagerOptions, type LogManagerStartup } from './log-manager.js';
import { LogMove, LogMoveThrottle } from './log-mover.js';
import { CleanerPool } from './cleaner-pool.js';
import { DEFAULT_CLEANER_CONFIG } from './log-cleaner-config.js';
import { faultedMappingsUnder, mappingFaultError } from './mapping-faults.js';
import { MAPPING_FAULT_SWEEP_MS } from '../limits.js';

export type LogDirsOptions = Omit<LogManagerOptions, 'dataDir'> & {
  /** The directories, in the operator's order (absolute paths, no two the same). */
  dirs: readonly string[];
  /** A directory went offline (its disk failed), with the partitions whose logs it held. */
  onLogDirFailure?: (failure: OfflineLogDir) => void;
  /** What moves copy a second at most, from the start (a move a restart interrupted resumes at open). */
  moveBytesPerSecond?: number;
};

/**
 * Errors that are no failure of the disk: a full one (segment.ts takes the write back whole), no
 * descriptors or memory left (the process's limits). Every other errno from a log's file
 * operations (EIO, EROFS, ENOENT of a file the log holds, ...) takes its directory offline.
 */
const NOT_DISK_FAILURES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'EINTR', 'EWOULDBLOCK']);

/** An error from a log's storage that means its directory's disk failed (see the file comment). */
export function isLogDirFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && !NOT_DISK_FAILURES.has(code);
}

/** A directory taken offline, with what failed and the logs it held then. */
export interface OfflineLogDir {
  dir: string;
  /** The failure that took it offline, as its errno code and message. */
  code: string;
  message: string;
  /** The partitions whose logs it held (at open: the hosted partitions found in no directory). */
  partitions: ReadonlyArray<{ topic: string; partition: number }>;
  /** It failed as the directories opened. */
  atOpen: boolean;
}

/** A move under way (LogDirs.moves): the future log's progress in the target directory. */
export interface LogDirMove {
  topic: string;
  partition: number;
  from: string;
  to: string;
  /** The future log's end offset, its bytes, and how many offsets it is behind the live log. */
  logEndOffset: number;
  sizeBytes: number;
  lag: number;
}

export class LogDirs {
  /** How the directories were found on open: clean only when every one was, the recoveries summed. */
  readonly startup: LogManagerStartup;
  /** Moves under way, by `<topic>-<partition>`. */
  private readonly moving = new Map<string, LogMove>();
  /** replica.alter.log.dirs.io.max.bytes.per.second, for every move together. */
  private readonly moveThrottle = new LogMoveThrottle();
  /** Where a log not created yet goes when it is (preferDir), by `<topic>-<partition>`. */
  private readonly preferred = new Map<string, LogManager>();
  /** Every directory, in the operator's order, online or not. */
  private readonly allDirs: readonly string[];
  /** The directories taken offline (a failed disk), by path. */
  private readonly offline = new Map<string, OfflineLogDir>();
  /** The logs of offline directories: `<topic>-<partition>` to its directory. */
  private readonly offlineLogs = new Map<string, string>();
  onLogDirFailure: (failure: OfflineLogDir) => void = () => {};
  /** sweepMappingFaults on a timer that keeps no process alive. */
  private readonly faultSweep: NodeJS.Timeout;

  private constructor(
    /** Every directory, in the operator's order. */
    dirs: readonly string[],
    /** The online directories: one that fails leaves this list (failDir). */
    private readonly managers: LogManager[],
    /** The cleaner's settings (log.cleaner.*), as configured. */
    private cleaner: LogCleanerConfig,
    /** The cleaner threads every directory's cleaner shares. */
    private readonly cleanerPool: CleanerPool,
    private readonly onBackgroundError: (error: unknown, task: string) => void,
  ) {
    this.allDirs = [...dirs];
    // Faults left from an earlier engine over these directories (its views, read since) are not ours.
    faultedMappingsUnder(this.allDirs);
    this.faultSweep = setInterval(() => this.sweepMappingFaults(), MAPPING_FAULT_SWEEP_MS).unref();
    this.startup = {
      cleanShutdown: managers.every((manager) => manager.startup.cleanShutdown),
      recoveredSegments: managers.reduce((sum, manager) => sum + manager.startup.recoveredSegments, 0),
      truncatedBytes: managers.reduce((sum, manager) => sum + manager.startup.truncatedBytes, 0),
    };
  }

  /**
   * Opens every directory (locking each). A log found in two directories is refused, as Kafka
   * refuses to start: which copy is the replica is not for us to guess.
   */
  static async open(options: LogDirsOptions): Promise<LogDirs> {
    const { dirs, ...managerOptions } = options;
    if (dirs.length === 0) throw new SluiceError('INVALID_CONFIG', 'No log directory given');
    if (new Set(dirs).size !== dirs.length) throw new SluiceError('INVALID_CONFIG', `A log directory is listed twice: ${dirs.join(',')}`);
    const managers: LogManager[] = [];
    const resumable: Array<{ topic: string; partition: number; dir: string; manager: LogManager }> = [];
    // Background work (flushes, checkpoints, retention, the cleaner) meets a failed disk as often
    // as a request does: its I/O errors take the directory offline too, once the LogDirs exists.
    let opened: LogDirs | undefined;
    const backgroundError = (dir: string) => (error: unknown, task: string) => {
      opened?.failDirOn(dir, error);
      if (managerOptions.onBackgroundError) managerOptions.onBackgroundError(error, task);
      else process.emitWarning(`sluice: background ${task} failed: ${String(error)}`);
    };
    const failedAtOpen: Array<{ dir: string; error: unknown }> = [];
    const cleaner = managerOptions.cleaner ?? DEFAULT_CLEANER_CONFIG;
    const cleanerPool = new CleanerPool(cleaner, (error) =>
      managerOptions.onBackgroundError ? managerOptions.onBackgroundError(error, 'log cleaner') : process.emitWarning(`sluice: background log cleaner failed: ${String(error)}`),
    );
    try {
      dirs.forEach((dir) => {
        try {
          managers.push(LogManager.open({ ...managerOptions, dataDir: dir, cleaner, cleanerPool, onBackgroundError: backgroundError(dir) }));
        } catch (error) {
          if (!isLogDirFailure(error)) throw error;
          failedAtOpen.push({ dir, error });
        }
      });
      if (managers.length === 0) {
        const { error } = failedAtOpen[0]!;
        throw new SluiceError('KAFKA_STORAGE_ERROR', `Every log directory failed to open (${dirs.join(', ')}): ${(error as Error).message}`, { cause: error });
      }
      const seen = new Map<string, string>();
      for (const manager of managers) {
        for (const [name] of manager.allLogs()) {
          const other = seen.get(name);
          if (other !== undefined) {
            throw new SluiceError('KAFKA_STORAGE_ERROR', `Duplicate log directories for ${name} are found in both ${other} and ${manager.dataDir}: remove the copy that is not the replica`);
          }
          seen.set(name, manager.dataDir);
        }
      }
      // A move's future log left by a restart. Where no directory holds the log any more, the crash
      // came between the swap's two renames (LogManager.handOver): the future is complete and is
      // adopted. Where the log is still in another directory, the move resumes from what was
      // copied, as Kafka's does. Two futures of one partition (never on disk together by design)
      // are both removed: which was asked for last is not on disk.
      const futures = managers.flatMap((manager) => manager.futureDirs().map((found) => ({ ...found, manager })));
      const futuresOf = (name: string) => futures.filter((f) => logDirName(f.topic, f.partition) === name).length;
      for (const future of futures) {
        const { topic, partition, dir, manager } = future;
        const name = logDirName(topic, partition);
        const live = seen.get(name);
        const config = futuresOf(name) === 1 && live === undefined ? managerOptions.configFor(topic, partition) : undefined;
        if (config !== undefined) {
          manager.adoptFutureLog(topic, partition, dir, config);
          seen.set(name, manager.dataDir);
        } else if (futuresOf(name) === 1 && live !== undefined && live !== manager.dataDir) {
          resumable.push(future);
        } else {
          // A second future, one of a topic gone, or one beside its own live log.
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
    } catch (error) {
      await Promise.allSettled(managers.map((manager) => manager.close()));
      await cleanerPool.close();
      throw error;
    }
    const logDirs = new LogDirs(dirs, managers, cleaner, cleanerPool, options.onBackgroundError ?? (() => {}));
    for (const { dir, error } of failedAtOpen) logDirs.offline.set(dir, { ...failureOf(dir, error), partitions: [], atOpen: true });
    if (options.onLogDirFailure) logDirs.onLogDirFailure = options.onLogDirFailure;
    opened = logDirs;
    logDirs.moveBytesPerSecond = options.moveBytesPerSecond ?? Infinity;
    for (const { topic, partition, dir, manager } of resumable) logDirs.resumeMove(topic, partition, dir, manager);
    return logDirs;
  }

  /** Resumes a move from its future log's directory (LogDirs.open); a failure is reported, not thrown. */
  private resumeMove(topic: string, partition: number, futureDir: string, target: LogManager): void {
    const name = logDirName(topic, partition);
    let move: LogMove;
    try {
      move = new LogMove(topic, partition, this.managerOf(topic, partition)!, target, this.moveThrottle, null, futureDir);
    } catch (error) {
      fs.rmSync(futureDir, { recursive: true, force: true });
      this.onBackgroundError(error, `resuming the move of ${name} to ${target.dataDir}`);
      return;
    }
    this.track(name, move);
    // Nobody awaits a resumed move: its failure is reported, its cancellation (a close, a new move) is not.
    move.done.catch((error: unknown) => {
      if (!move.cancelled) this.onBackgroundError(error, `moving ${name} to ${target.dataDir}`);
    });
  }

  private track(name: string, move: LogMove): void {
    this.moving.set(name, move);
    const forget = () => {
      if (this.moving.get(name) === move) this.moving.delete(name);
    };
    move.done.then(forget, forget);
  }

  /** The directories, in the order given, online or not. */
  get dirs(): string[] {
    return [...this.allDirs];
  }

  // ---- failed disks (KIP-112) ----------------------------------------------------------------

  /**
   * An error from the log of `topic`-`partition`: when it is a disk failure (isLogDirFailure), the
   * directory holding the log goes offline. Returns whether the log's directory is offline now.
   */
  reportFailure(topic: string, partition: number, error: unknown): boolean {
    const name = logDirName(topic, partition);
    if (this.offlineLogs.has(name)) return true;
    const manager = this.managerOf(topic, partition);
    if (manager === undefined || !isLogDirFailure(error)) return false;
    this.failDir(manager, error);
    return true;
  }

  /**
   * Takes offline the directories of mapped files whose reads faulted outside a log call, where no
   * call could fail for them (a view a caller read after fetchBatches returned it: mapping-faults.ts).
   * Runs once a second; returns whether a directory went offline.
   */
  sweepMappingFaults(): boolean {
    let failed = false;
    for (const manager of [...this.managers]) {
      const [file] = faultedMappingsUnder([manager.dataDir]);
      if (file === undefined) continue;
      this.failDir(manager, mappingFaultError(file));
      failed = true;
    }
    return failed;
  }

  /** failDir for the directory at `dir`, when `error` is a disk failure and it is still online. */
  private failDirOn(dir: string, error: unknown): void {
    const manager = this.managers.find((m) => m.dataDir === dir);
    if (manager !== undefined && isLogDirFailure(error)) this.failDir(manager, error);
  }

  /**
   * Takes a directory offline: out of the lookups first (no request reaches its logs after this),
   * its moves cancelled (to it or from it), then its logs closed with nothing written
   * (LogManager.abandon), then the listener told.
   */
  private failDir(manager: LogManager, error: unknown): void {
    const index = this.managers.indexOf(manager);
    if (index < 0) return;
    this.managers.splice(index, 1);
    for (const [name, preferred] of this.preferred) if (preferred === manager) this.preferred.delete(name);
    for (const move of this.moving.values()) {
      if (move.target === manager || move.source === manager) move.cancel(`log directory ${manager.dataDir} went offline`);
    }
    const names = manager.abandon();
    faultedMappingsUnder([manager.dataDir]); // its faults are this failure's: none is left for a reopen
    for (const name of names) this.offlineLogs.set(name, manager.dataDir);
    const partitions = names.map((name) => parseLogDirName(name)!);
    const failure: OfflineLogDir = { ...failureOf(manager.dataDir, error), partitions, atOpen: false };
    this.offline.set(manager.dataDir, failure);
    this.onLogDirFailure(failure);
  }

  /**
   * At open, the logs of partitions the engine hosted before: those found in no directory are
   * created, unless a directory failed at open, which may hold them (see the file comment): then
   * they are offline, listed with the first such directory (which of them holds a log cannot be
   * read; the engine's error names them all).
   */
  openHostedLogs(topic: string, partitions: readonly number[], config: LogConfig): void {
    const failed = this.offlineDirs().find((dir) => dir.atOpen);
    if (failed === undefined) return this.createLogs(topic, partitions, config);
    for (const partition of partitions) {
      if (this.managerOf(topic, partition) !== undefined) continue;
      this.offlineLogs.set(logDirName(topic, partition), failed.dir);
      (failed.partitions as Array<{ topic: string; partition: number }>).push({ topic, partition });
    }
  }

  /** The offline directory that held this log, or undefined. */
  offlineDirOf(topic: string, partition: number): OfflineLogDir | undefined {
    const dir = this.offlineLogs.get(logDirName(topic, partition));
    return dir === undefined ? undefined : this.offline.get(dir);
  }

  /** The directories offline now, in the operator's order. */
  offlineDirs(): OfflineLogDir[] {
    return this.allDirs.filter((dir) => this.offline.has(dir)).map((dir) => this.offline.get(dir)!);
  }

  /** The directory holding a log, or undefined when no directory does. */
  dirOf(topic: string, partition: number): string | undefined {
    return this.managerOf(topic, partition)?.dataDir;
  }

  private managerOf(topic: string, partition: number): LogManager | undefined {
    return this.managers.find((manager) => manager.getLog(topic, partition) !== undefined);
  }

  segmentCount(): number {
    return this.managers.reduce((sum, manager) => sum + manager.segmentCount(), 0);
  }

  /** On every produce and fetch: one directory (the usual case) costs one map lookup, as before. */
  getLog(topic: string, partition: number): Log | undefined {
    const managers = this.managers;
    if (managers.length === 1) return managers[0]!.getLog(topic, partition);
    for (let i = 0; i < managers.length; i++) {
      const log = managers[i]!.getLog(topic, partition);
      if (log !== undefined) return log;
    }
    return undefined;
  }

  /**
   * Opens the logs, creating the missing ones, each in its preferred directory (preferDir) or else
   * in the one that then holds the fewest (the first listed of those tied).
   */
  createLogs(topic: string, partitions: readonly number[], config: LogConfig): void {
    const counts = this.managers.map((manager) => manager.logCount);
    const placed = new Map<LogManager, number[]>();
    for (const partition of partitions) {
      // Its data is on the failed disk: a new empty log elsewhere would pass for the replica.
      if (this.offlineLogs.has(logDirName(topic, partition))) continue;
      let manager = this.managerOf(topic, partition);
      if (manager === undefined && this.managers.length === 0) {
        throw new SluiceError('KAFKA_STORAGE_ERROR', `No log directory is online to create ${topic}-${partition} in (offline: ${this.allDirs.join(',')})`);
      }
      if (manager === undefined) {
        let fewest = 0;
        for (let i = 1; i < counts.length; i++) if (counts[i]! < counts[fewest]!) fewest = i;
        manager = this.takePreferred(topic, partition) ?? this.managers[fewest]!;
        counts[this.managers.indexOf(manager)]!++;
      }
      const list = placed.get(manager) ?? [];
      list.push(partition);
      placed.set(manager, list);
    }
    for (const [manager, list] of placed) manager.createLogs(topic, list, config);
  }

  /**
   * The directory a partition's log is created in when this broker comes to hold it (Kafka's
   * LogManager.maybeUpdatePreferredLogDir, which AlterReplicaLogDirs sets for a replica that a
   * reassignment is about to add): used once, and forgotten on close.
   */
  preferDir(topic: string, partition: number, dir: string): void {
    this.preferred.set(logDirName(topic, partition), this.requireDir(dir));
  }

  /** The directory at `dir`; LOG_DIR_NOT_FOUND when it is not one of them, KAFKA_STORAGE_ERROR when offline. */
  private requireDir(dir: string): LogManager {
    const failure = this.offline.get(dir);
    if (failure !== undefined) throw new SluiceError('KAFKA_STORAGE_ERROR', `Log directory ${dir} is offline (${failure.code}: ${failure.message})`);
    const manager = this.managers.find((m) => m.dataDir === dir);
    if (!manager) throw new SluiceError('LOG_DIR_NOT_FOUND', `${dir} is not one of the log directories (${this.dirs.join(',')})`);
    return manager;
  }

  private takePreferred(topic: string, partition: number): LogManager | undefined {
    const name = logDirName(topic, partition);
    const manager = this.preferred.get(name);
    this.preferred.delete(name);
    return manager;
  }

  deleteLog(topic: string, partition: number): void {
    this.deleteLogs(topic, [partition]);
  }

  deleteLogs(topic: string, partitions: readonly number[]): void {
    for (const partition of partitions) {
      this.moving.get(logDirName(topic, partition))?.cancel('its log was deleted');
      // One on a failed disk stays there (the next open with that disk back finds it); the name is free here.
      this.offlineLogs.delete(logDirName(topic, partition));
    }
    for (const manager of this.managers) {
      const held = partitions.filter((partition) => manager.getLog(topic, partition) !== undefined);
      if (held.length > 0) manager.deleteLogs(topic, held);
    }
  }

  truncateTo(topic: string, partition: number, offset: number): boolean {
    const truncated = this.requireManager(topic, partition).truncateTo(topic, partition, offset);
    if (truncated) this.moving.get(logDirName(topic, partition))?.sourceTruncated();
    return truncated;
  }

  truncateFullyAndStartAt(topic: string, partition: number, offset: number): void {
    this.requireManager(topic, partition).truncateFullyAndStartAt(topic, partition, offset);
    this.moving.get(logDirName(topic, partition))?.sourceTruncated();
  }

  /**
   * Moves a partition's log to `dir`, one of the directories, while it stays live (log-mover.ts);
   * settles once it is there. A move of it already under way to another directory is cancelled
   * (as Kafka replaces the future replica), and so is one when `dir` is where the log already is.
   */
  alterLogDir(topic: string, partition: number, dir: string): Promise<void> {
    let target: LogManager;
    let source: LogManager;
    try {
      target = this.requireDir(dir);
      source = this.requireManager(topic, partition);
    } catch (error) {
      return Promise.reject(error);
    }
    const name = logDirName(topic, partition);
    const previous = this.moving.get(name);
    if (previous?.target === target) return previous.done;
    previous?.cancel(`the log was asked to move to ${dir} instead`);
    this.moving.delete(name);
    if (source === target) return Promise.resolve();
    let move: LogMove;
    try {
      move = new LogMove(topic, partition, source, target, this.moveThrottle, previous?.done ?? null);
    } catch (error) {
      return Promise.reject(error);
    }
    this.track(name, move);
    return move.done;
  }

  /** The bytes a second all moves together copy at most (Infinity: no limit); applies to moves under way. */
  set moveBytesPerSecond(rate: number) {
    this.moveThrottle.bytesPerSecond = rate;
  }

  /** The moves under way, with their future logs' progress. */
  moves(): LogDirMove[] {
    const moves: LogDirMove[] = [];
    for (const move of this.moving.values()) {
      const progress = move.progress();
      const from = this.dirOf(move.topic, move.partition);
      if (progress && from !== undefined) moves.push({ topic: move.topic, partition: move.partition, from, to: move.target.dataDir, ...progress });
    }
    return moves;
  }

  private requireManager(topic: string, partition: number): LogManager {
    const manager = this.managerOf(topic, partition);
    if (!manager) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host this topic-partition: ${topic}-${partition}`);
    return manager;
  }

  /** Every log with its directory's name for it (`<topic>-<partition>`). */
  *allLogs(): IterableIterator<[string, Log]> {
    for (const manager of this.managers) yield* manager.allLogs();
  }

  runRetention(): number {
    let deleted = 0;
    for (const manager of [...this.managers]) {
      try {
        deleted += manager.runRetention();
      } catch (error) {
        this.failOrThrow(manager, error);
      }
    }
    return deleted;
  }

  checkpoint(): void {
    for (const manager of [...this.managers]) {
      try {
        manager.checkpoint();
      } catch (error) {
        this.failOrThrow(manager, error);
      }
    }
  }

  async flushAll(): Promise<void> {
    await Promise.all(this.managers.map((manager) => manager.flushAll().catch((error: unknown) => this.failOrThrow(manager, error))));
  }

  /** Work done in every directory: a disk failure takes that one offline and the others go on; any other error is thrown. */
  private failOrThrow(manager: LogManager, error: unknown): void {
    if (!isLogDirFailure(error)) throw error;
    this.failDir(manager, error);
  }

  /** The cleaner's settings, as configured (one pool of threads for every directory). */
  get cleanerConfig(): Readonly<LogCleanerConfig> {
    return this.cleaner;
  }

  reconfigureCleaner(config: LogCleanerConfig): void {
    this.cleaner = config;
    this.cleanerPool.reconfigure(config);
    for (const manager of this.managers) manager.cleaner.reconfigure(config);
  }

  cleanNow(topic: string, partition: number): Promise<CleaningPass[]> {
    return this.requireManager(topic, partition).cleaner.cleanNow(logDirName(topic, partition));
  }

  cleanerStats(topic: string, partition: number): LogCleanerStats | undefined {
    return this.managerOf(topic, partition)?.cleaner.stats(logDirName(topic, partition));
  }

  /** Closes every directory (see LogManager.close); the first failure is thrown after all have closed. */
  async close(): Promise<void> {
    clearInterval(this.faultSweep);
    const moves = [...this.moving.values()];
    for (const move of moves) move.cancel('the log directories are closing');
    await Promise.allSettled(moves.map((move) => move.done));
    const results = await Promise.allSettled(this.managers.map((manager) => manager.close()));
    await this.cleanerPool.close();
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

function failureOf(dir: string, error: unknown): Pick<OfflineLogDir, 'dir' | 'code' | 'message'> {
  const { code, message } = error as { code?: string; message?: string };
  return { dir, code: code ?? 'UNKNOWN', message: message ?? String(error) };
}
