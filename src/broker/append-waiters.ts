// Long-poll fetches wait here for appends to the partitions they read. The engine reports every
// append; a waiter is woken by the first append to any of its partitions, by its timeout, or by
// its request's abort signal (the connection closed, the broker stopping), whichever comes first.
// A woken waiter leaves nothing behind: its entries, timer and abort listener are all removed, so
// a million waits cost no memory once they are over.

type Wake = () => void;

export class AppendWaiters {
  private readonly byPartition = new Map<string, Set<Wake>>();
  private closed = false;

  /** Called by the engine after each append. */
  notify(topic: string, partition: number): void {
    const waiters = this.byPartition.get(key(topic, partition));
    if (!waiters) return;
    for (const wake of [...waiters]) wake();
  }

  /** Partitions with at least one waiter (for tests and metrics). */
  get waitedPartitions(): number {
    return this.byPartition.size;
  }

  /** Wakes every waiter; later waits return at once. */
  close(): void {
    this.closed = true;
    for (const waiters of [...this.byPartition.values()]) for (const wake of [...waiters]) wake();
  }

  /** Resolves on the first append to one of `partitions`, after `timeoutMs`, or on `signal`'s abort. */
  waitForAppend(partitions: ReadonlyArray<{ topic: string; partition: number }>, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted || partitions.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const keys = partitions.map(({ topic, partition }) => key(topic, partition));
      const wake = () => {
        for (const k of keys) {
          const set = this.byPartition.get(k);
          if (set === undefined) continue;
          set.delete(wake);
          if (set.size === 0) this.byPartition.delete(k);
        }
        clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      for (const k of keys) {
        let set = this.byPartition.get(k);
        if (!set) this.byPartition.set(k, (set = new Set()));
        set.add(wake);
      }
      const timer = setTimeout(wake, Math.max(0, timeoutMs));
      signal?.addEventListener('abort', wake, { once: true });
    });
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
