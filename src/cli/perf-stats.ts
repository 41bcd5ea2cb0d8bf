// kafka-producer-perf-test's statistics and its two line shapes (Stats.printWindow and
// Stats.printTotal in the Java tool):
//   N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency.
//   N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency, P50 ms 50th, P95 ms 95th, P99 ms 99th, P99.9 ms 99.9th.
// We measure latency per producer.send call (a chunk of records), and weigh each sample by its
// record count, so averages and percentiles are over records as in Kafka's tool. MB is 2^20 bytes.

const MB = 1024 * 1024;

export class LatencyStats {
  private readonly startMs: number;
  private count = 0;
  private bytes = 0;
  private latencySumMs = 0;
  private latencyMaxMs = 0;
  private windowStartMs: number;
  private windowCount = 0;
  private windowBytes = 0;
  private windowLatencySumMs = 0;
  private windowLatencyMaxMs = 0;
  // One sample per chunk: a million records in chunks of 500 are 2000 samples.
  private samplesMs: number[] = [];
  private sampleCounts: number[] = [];

  constructor(
    private readonly reportIntervalMs: number,
    private readonly print: (line: string) => void,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.startMs = nowMs();
    this.windowStartMs = this.startMs;
  }

  /** `records` records of `bytes` bytes in all were acknowledged `latencyMs` after being sent. */
  record(records: number, bytes: number, latencyMs: number): void {
    this.count += records;
    this.bytes += bytes;
    this.latencySumMs += latencyMs * records;
    this.latencyMaxMs = Math.max(this.latencyMaxMs, latencyMs);
    this.windowCount += records;
    this.windowBytes += bytes;
    this.windowLatencySumMs += latencyMs * records;
    this.windowLatencyMaxMs = Math.max(this.windowLatencyMaxMs, latencyMs);
    this.samplesMs.push(latencyMs);
    this.sampleCounts.push(records);
    const now = this.nowMs();
    if (now - this.windowStartMs >= this.reportIntervalMs) this.printWindow(now);
  }

  private printWindow(now: number): void {
    const elapsedS = (now - this.windowStartMs) / 1000;
    this.print(
      `${this.windowCount} records sent, ${(this.windowCount / elapsedS).toFixed(1)} records/sec (${(this.windowBytes / MB / elapsedS).toFixed(2)} MB/sec), ` +
        `${(this.windowLatencySumMs / Math.max(1, this.windowCount)).toFixed(1)} ms avg latency, ${this.windowLatencyMaxMs.toFixed(1)} ms max latency.`,
    );
    this.windowStartMs = now;
    this.windowCount = 0;
    this.windowBytes = 0;
    this.windowLatencySumMs = 0;
    this.windowLatencyMaxMs = 0;
  }

  /** The record-weighted latency percentiles, in whole milliseconds as Kafka prints them. */
  percentiles(...fractions: number[]): number[] {
    const order = this.samplesMs.map((_, i) => i).sort((a, b) => this.samplesMs[a]! - this.samplesMs[b]!);
    return fractions.map((fraction) => {
      const target = fraction * this.count;
      let seen = 0;
      for (const i of order) {
        seen += this.sampleCounts[i]!;
        if (seen >= target) return Math.round(this.samplesMs[i]!);
      }
      return order.length === 0 ? 0 : Math.round(this.samplesMs[order[order.length - 1]!]!);
    });
  }

  totalLine(endMs = this.nowMs()): string {
    const elapsedS = Math.max(endMs - this.startMs, 1e-3) / 1000;
    const [p50, p95, p99, p999] = this.percentiles(0.5, 0.95, 0.99, 0.999);
    return (
      `${this.count} records sent, ${(this.count / elapsedS).toFixed(6)} records/sec (${(this.bytes / MB / elapsedS).toFixed(2)} MB/sec), ` +
      `${(this.latencySumMs / Math.max(1, this.count)).toFixed(2)} ms avg latency, ${this.latencyMaxMs.toFixed(2)} ms max latency, ` +
      `${p50} ms 50th, ${p95} ms 95th, ${p99} ms 99th, ${p999} ms 99.9th.`
    );
  }
}

/** kafka-consumer-perf-test's date format, yyyy-MM-dd HH:mm:ss:SSS in local time. */
export function formatPerfDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}:${String(d.getMilliseconds()).padStart(3, '0')}`;
}

export const CONSUMER_PERF_HEADER =
  'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec';

/** kafka-consumer-perf-test's values line (its "%s, %s, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f"). */
export function consumerPerfLine(startMs: number, endMs: number, bytes: number, messages: number, rebalanceMs: number, fetchMs: number): string {
  const mb = bytes / MB;
  const elapsedS = Math.max(endMs - startMs, 1) / 1000;
  const fetchS = Math.max(fetchMs, 1) / 1000;
  return [
    formatPerfDate(startMs),
    formatPerfDate(endMs),
    mb.toFixed(4),
    (mb / elapsedS).toFixed(4),
    String(messages),
    (messages / elapsedS).toFixed(4),
    String(rebalanceMs),
    String(fetchMs),
    (mb / fetchS).toFixed(4),
    (messages / fetchS).toFixed(4),
  ].join(', ');
}
