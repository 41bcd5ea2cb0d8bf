// Long-poll fetches wait here for appends to the partitions they read. The engine reports every
// append; a waiter is woken by the first append to any of its partitions, or by its timeout.

type Wake = () => void;

export class AppendWaiters {
  private readonly byPartition = new Map<string, Set<Wake>>();

  /** Called by the engine after each append. */
  notify(topic: string, partition: number): void {
    const waiters = this.byPartition.get(key(topic, partition));
    if (!waiters) return;
    for (const wake of [...waiters]) wake();
  }

  /**
   * Resolves on the first append to one of `partitions`, after `timeoutMs`, or when `abort`
   * settles, whichever comes first.
   */
  waitForAppend(partitions: ReadonlyArray<{ topic: string; partition: number }>, timeoutMs: number, abort: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      const keys = partitions.map(({ topic, partition }) => key(topic, partition));
      let timer: NodeJS.Timeout | undefined;
      const wake = () => {
        for (const k of keys) {
          const set = this.byPartition.get(k);
          set?.delete(wake);
          if (set?.size === 0) this.byPartition.delete(k);
        }
        if (timer) clearTimeout(timer);
        resolve();
      };
      for (const k of keys) {
        let set = this.byPartition.get(k);
        if (!set) this.byPartition.set(k, (set = new Set()));
        set.add(wake);
      }
      timer = setTimeout(wake, Math.max(0, timeoutMs));
      void abort.then(wake);
    });
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
