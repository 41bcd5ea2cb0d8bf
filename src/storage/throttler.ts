// Kafka's Throttler, as its log cleaner uses it (log.cleaner.io.max.bytes.per.second): the cleaner
// reports the bytes it reads and writes; once per check interval, when the rate since the last
// check was above the desired one, it sleeps as long as it takes to bring it down. Unlike Kafka's,
// it also checks as soon as an interval's worth of bytes at the desired rate has passed, so that a
// pass shorter than one interval is throttled too. The sleep blocks the calling thread, which is
// the cleaner's worker thread, never the event loop.

/** Kafka's LogCleaner checks its rate every 300 ms. */
export const THROTTLE_CHECK_INTERVAL_MS = 300;

export class Throttler {
  private periodStartMs = performance.now();
  private observedBytes = 0;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));
  /** Milliseconds slept in all, for the cleaning's statistics. */
  sleptMs = 0;

  /** `bytesPerSecond` Infinity: never sleeps. */
  constructor(private readonly bytesPerSecond: number) {}

  /** Starts a new period (a pass begins: the time since the last one is not this pass's). */
  reset(): void {
    this.periodStartMs = performance.now();
    this.observedBytes = 0;
  }

  maybeThrottle(bytes: number): void {
    if (this.bytesPerSecond === Infinity) return;
    this.observedBytes += bytes;
    const nowMs = performance.now();
    const elapsedMs = nowMs - this.periodStartMs;
    const intervalBytes = (this.bytesPerSecond * THROTTLE_CHECK_INTERVAL_MS) / 1000;
    if ((elapsedMs <= THROTTLE_CHECK_INTERVAL_MS && this.observedBytes < intervalBytes) || this.observedBytes === 0) return;
    const rate = (this.observedBytes * 1000) / elapsedMs;
    if (rate > this.bytesPerSecond) {
      const sleepMs = Math.round((this.observedBytes * 1000) / this.bytesPerSecond - elapsedMs);
      if (sleepMs > 0) {
        Atomics.wait(this.sleeper, 0, 0, sleepMs);
        this.sleptMs += sleepMs;
      }
    }
    this.periodStartMs = performance.now();
    this.observedBytes = 0;
  }
}
