// The stats Kafka's quota managers measure with (org.apache.kafka.common.metrics.stats):
//   - Rate over SampledStat windows, for bytes: client quotas (client-quotas.ts) and replication
//     quotas (replication-quotas.ts). Bytes are added to the current window; the rate is their sum
//     over the windows kept, divided by the time they span, taken as at least all windows but one,
//     so that a new sensor starts with a burst of that many windows' worth rather than a rate over
//     a few ms.
//   - TokenBucket, for controller_mutation_rate (KIP-599): credits refill at the rate up to a burst
//     of the windows' worth; a mutation takes its partitions' worth and may leave the bucket below
//     zero, and the bucket is over its quota while it is.

/** What a rate is measured over: Kafka's quota.window.num and quota.window.size.seconds (or their replication.quota.* twins). */
export interface QuotaWindow {
  windowCount: number;
  windowMs: number;
}

/** Kafka's Rate over SampledStat windows: bytes recorded, and their rate over the windows kept. */
export class RateSensor {
  private readonly starts: number[] = [];
  private readonly bytes: number[] = [];
  lastRecordMs = 0;

  constructor(private readonly window: QuotaWindow) {}

  record(bytes: number, nowMs: number): void {
    this.purge(nowMs);
    const last = this.starts.length - 1;
    if (last < 0 || nowMs >= this.starts[last]! + this.window.windowMs) {
      this.starts.push(nowMs);
      this.bytes.push(0);
      if (this.starts.length > this.window.windowCount) {
        this.starts.shift();
        this.bytes.shift();
      }
    }
    this.bytes[this.bytes.length - 1]! += bytes;
    this.lastRecordMs = nowMs;
  }

  /** Bytes a second, and the elapsed time it is taken over (at least windowCount - 1 windows). */
  rate(nowMs: number): { bytesPerSecond: number; elapsedMs: number } {
    this.purge(nowMs);
    let total = 0;
    for (const bytes of this.bytes) total += bytes;
    let elapsedMs = nowMs - (this.starts[0] ?? nowMs);
    const fullWindows = Math.floor(elapsedMs / this.window.windowMs);
    const minFullWindows = this.window.windowCount - 1;
    if (fullWindows < minFullWindows) elapsedMs += (minFullWindows - fullWindows) * this.window.windowMs;
    // One window (quota.window.num=1) pads nothing: a rate over at least a millisecond.
    elapsedMs = Math.max(elapsedMs, 1);
    return { bytesPerSecond: (total * 1000) / elapsedMs, elapsedMs };
  }

  /** Windows that ended more than the whole span ago no longer count. */
  private purge(nowMs: number): void {
    const spanMs = this.window.windowCount * this.window.windowMs;
    while (this.starts.length > 0 && this.starts[0]! + spanMs <= nowMs) {
      this.starts.shift();
      this.bytes.shift();
    }
  }
}

/** Kafka's TokenBucket: credits refilled at `ratePerSecond` up to a burst of the windows' worth. */
/** A TokenBucket's state, as a cluster keeps one bucket for every broker (client-quotas.ts). */
export interface TokenBucketState {
  tokens: number | undefined;
  lastMs: number;
  lastRatePerSecond: number;
}

export class TokenBucket {
  private tokens: number | undefined;
  private lastMs = 0;
  private lastRatePerSecond = 0;

  constructor(
    private readonly window: QuotaWindow,
    state?: TokenBucketState,
  ) {
    if (state !== undefined) ({ tokens: this.tokens, lastMs: this.lastMs, lastRatePerSecond: this.lastRatePerSecond } = state);
  }

  get state(): TokenBucketState {
    return { tokens: this.tokens, lastMs: this.lastMs, lastRatePerSecond: this.lastRatePerSecond };
  }

  /** The credits left at `nowMs` for a quota of `ratePerSecond` (negative: over it); a new bucket starts full. */
  credits(ratePerSecond: number, nowMs: number): number {
    const burst = this.burst(ratePerSecond);
    this.tokens = this.tokens === undefined ? burst : Math.min(burst, this.tokens + (ratePerSecond * Math.max(nowMs - this.lastMs, 0)) / 1000);
    this.lastMs = nowMs;
    this.lastRatePerSecond = ratePerSecond;
    return this.tokens;
  }

  /** Takes `permits` credits (after refilling); returns what is left. */
  take(permits: number, ratePerSecond: number, nowMs: number): number {
    this.tokens = this.credits(ratePerSecond, nowMs) - permits;
    return this.tokens;
  }

  /** Refilled to its burst by `nowMs` at the last rate it saw: as good as a new bucket, so it may be dropped. */
  isFull(nowMs: number): boolean {
    const tokens = this.tokens ?? 0;
    return tokens + (this.lastRatePerSecond * Math.max(nowMs - this.lastMs, 0)) / 1000 >= this.burst(this.lastRatePerSecond);
  }

  private burst(ratePerSecond: number): number {
    return ratePerSecond * this.window.windowCount * (this.window.windowMs / 1000);
  }
}
