// A broker-wide budget of units handed out first come, first served: Kafka's request queue
// (queued.max.requests, in requests) and memory pool (queued.max.request.bytes, in bytes) are
// both this. A connection that cannot take what it needs stops reading its socket and waits in
// line; whoever gives units back wakes the line in order. Like Kafka's non-strict
// SimpleMemoryPool, a take succeeds while anything is left, so one frame larger than the whole
// pool still gets through alone instead of waiting forever.

export class Budget {
  private available: number;
  /** Waiting takers in arrival order (a Set keeps insertion order and deletes in O(1)). */
  private readonly line = new Set<{ units: number; granted: () => void }>();

  /** `capacityUnits` may be Infinity (Kafka's -1: unbounded). */
  constructor(readonly capacityUnits: number) {
    this.available = capacityUnits;
  }

  /** Units left (may be negative after a non-strict take). */
  get availableUnits(): number {
    return this.available;
  }

  get usedUnits(): number {
    return this.capacityUnits - this.available;
  }

  get waiting(): number {
    return this.line.size;
  }

  /** Takes the units now if any are left and no one waits ahead. */
  tryTake(units: number): boolean {
    if (this.available <= 0 || this.line.size > 0) return false;
    this.available -= units;
    return true;
  }

  /**
   * Waits in line; `granted` runs once the units were taken on the caller's behalf. Returns a
   * cancel for a caller that goes away first (a closed connection).
   */
  waitToTake(units: number, granted: () => void): () => void {
    const taker = { units, granted };
    this.line.add(taker);
    return () => {
      this.line.delete(taker);
    };
  }

  give(units: number): void {
    this.available += units;
    const granted: Array<() => void> = [];
    for (const taker of this.line) {
      if (this.available <= 0) break;
      this.line.delete(taker);
      this.available -= taker.units;
      granted.push(taker.granted);
    }
    // Called after the line is settled: a woken taker may give or wait again at once.
    for (const wake of granted) wake();
  }
}
