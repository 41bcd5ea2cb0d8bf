// The log cleaner's threads (Kafka's log.cleaner.threads): log.cleaner.threads of them in all,
// shared by the cleaners of every log directory (log-dirs.ts), as Kafka's threads serve every
// directory. Each thread gets its share of log.cleaner.dedupe.buffer.size, .io.buffer.size and
// .io.max.bytes.per.second. A thread is made on first use and kept idle between passes.
//
// A free thread takes the dirtiest log of every directory (Kafka's grabFilthiestCompactedLog over
// all of them): each directory's cleaner names its own dirtiest candidate (CleanerSource), and the
// one with the highest dirty ratio gets the thread.
//
//   const pool = new CleanerPool(config);
//   const remove = pool.addSource(cleaner); // its candidates compete for the threads
//   pool.schedule();                        // free threads to the dirtiest candidates (on a timer, at a pass's end)
//   const thread = pool.take();            // an idle or new thread, or undefined when all are busy
//   const { thread, cancel } = pool.wait(); // the next one free (compactNow)
//   pool.release(thread);                  // its pass ended: to a waiter, or idle
//   pool.reconfigure(config);              // dynamic log.cleaner.*: busy threads end after their pass
//   await pool.close();
//
// A cleaner that closes stops its own passes by terminating their threads (CleanerThread.terminate:
// its worker starts again on next use), which it then releases like any other.
import { CleanerThread } from './cleaner-thread.js';
import type { LogCleanerConfig } from './log-cleaner-config.js';

/** A directory's cleaner, as the pool sees it; C is what it offers (a log and its plan). */
export interface CleanerSource<C extends { readonly dirtyRatio: number } = { readonly dirtyRatio: number }> {
  /** Its dirtiest log that needs cleaning now and is not being cleaned, or undefined. */
  dirtiest(): C | undefined;
  /** Starts a pass over `candidate` (what dirtiest() just returned) on `thread`. */
  begin(thread: CleanerThread, candidate: C): void;
}

export class CleanerPool {
  private readonly threads: CleanerThread[] = [];
  private readonly idle: CleanerThread[] = [];
  /** Threads made under an earlier config (reconfigure): ended once their pass is done. */
  private readonly stale = new Set<CleanerThread>();
  private readonly waiting: Array<(thread: CleanerThread | undefined) => void> = [];
  private readonly sources = new Set<CleanerSource>();
  /** A schedule() is queued for the next turn. */
  private scheduled = false;
  private closed = false;

  constructor(
    private config: Readonly<LogCleanerConfig>,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** An idle thread, or a new one while fewer than log.cleaner.threads exist; undefined when all are busy. */
  take(): CleanerThread | undefined {
    if (this.closed) return undefined;
    return this.idle.pop() ?? (this.threads.length < this.config.threads ? this.newThread() : undefined);
  }

  /** take() would give a thread. */
  private hasFree(): boolean {
    return !this.closed && (this.idle.length > 0 || this.threads.length < this.config.threads);
  }

  /** A thread once one is free (undefined once the pool closes); cancel() gives up waiting, with undefined. */
  wait(): { thread: Promise<CleanerThread | undefined>; cancel(): void } {
    const free = this.take();
    if (free !== undefined || this.closed) return { thread: Promise.resolve(free), cancel: () => {} };
    let resolve!: (thread: CleanerThread | undefined) => void;
    const thread = new Promise<CleanerThread | undefined>((r) => (resolve = r));
    this.waiting.push(resolve);
    return {
      thread,
      cancel: () => {
        const index = this.waiting.indexOf(resolve);
        if (index >= 0) this.waiting.splice(index, 1);
        resolve(undefined);
      },
    };
  }

  /** A pass on `thread` ended: the thread goes to a waiter, or idle (and the cleaners are told). */
  release(thread: CleanerThread): void {
    if (this.closed) return;
    if (this.stale.has(thread)) {
      // Made under an earlier config: a waiter gets a thread of the current one.
      this.retire(thread);
      const waiter = this.waiting.length > 0 && this.threads.length < this.config.threads ? this.waiting.shift() : undefined;
      if (waiter) waiter(this.newThread());
      else this.notifyIdle();
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter) return waiter(thread);
    this.idle.push(thread);
    this.notifyIdle();
  }

  /** A directory's cleaner whose logs compete for the threads; returns its removal. */
  addSource<C extends { readonly dirtyRatio: number }>(source: CleanerSource<C>): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }

  /**
   * Gives each free thread the dirtiest candidate of all sources, until no thread is free or no
   * log needs cleaning. Ties go to the source added first (the directories' order).
   */
  schedule(): void {
    // With every thread busy the candidates are not looked for: a pass's end schedules again.
    while (this.hasFree()) {
      let best: { source: CleanerSource; candidate: { dirtyRatio: number } } | undefined;
      for (const source of this.sources) {
        const candidate = source.dirtiest();
        if (candidate !== undefined && (best === undefined || candidate.dirtyRatio > best.candidate.dirtyRatio)) best = { source, candidate };
      }
      if (best === undefined) return;
      const thread = this.take();
      if (thread === undefined) return;
      best.source.begin(thread, best.candidate);
    }
  }

  /**
   * New log.cleaner.* settings (dynamic broker configs), as Kafka's LogCleaner.reconfigure takes
   * them: idle threads end now, busy ones after their pass; later passes run on threads made with
   * the new settings.
   */
  reconfigure(config: Readonly<LogCleanerConfig>): void {
    if (this.closed) return;
    this.config = config;
    for (const thread of this.threads) this.stale.add(thread);
    for (const thread of this.idle.splice(0)) this.retire(thread);
    this.notifyIdle();
  }

  /** Ends every thread (stopping their passes); waiters get undefined. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sources.clear();
    for (const waiter of this.waiting.splice(0)) waiter(undefined);
    await Promise.all(this.threads.map((thread) => thread.terminate()));
  }

  /** A thread may be free: schedule() on the next turn, once however many passes ended in this one. */
  private notifyIdle(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      try {
        this.schedule();
      } catch (error) {
        // A thread that cannot start (no tsx for the sources, no memory): tried again at the next schedule.
        this.onError(error);
      }
    });
  }

  private retire(thread: CleanerThread): void {
    this.stale.delete(thread);
    const index = this.threads.indexOf(thread);
    if (index >= 0) this.threads.splice(index, 1);
    thread.terminate().catch(this.onError);
  }

  private newThread(): CleanerThread {
    const { threads, dedupeBufferBytes, ioBufferBytes, loadFactor, ioMaxBytesPerSecond } = this.config;
    const thread = new CleanerThread({
      // Kafka caps a thread's share at Int.MaxValue bytes.
      dedupeBufferBytes: Math.min(Math.floor(dedupeBufferBytes / threads), 2 ** 31 - 1),
      loadFactor,
      ioBufferBytes: Math.max(1024, Math.floor(ioBufferBytes / threads / 2)),
      bytesPerSecond: ioMaxBytesPerSecond / threads,
    });
    this.threads.push(thread);
    return thread;
  }
}
