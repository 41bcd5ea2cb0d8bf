// Shared benchmark plumbing: tinybench runs, the units a row reports, temporary directories.
// Every suite measures its ceiling (and, where there is one, a peer) in the same process and
// run, so the ratios it reports compare like with like on a shared, noisy machine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Bench } from 'tinybench';

export interface RunOptions {
  /** The gate's short run: smaller data, shorter timings. */
  quick: boolean;
}

export interface Row {
  suite: string;
  /** What was measured, e.g. "append 100 B x 1000". */
  workload: string;
  /** sluice, ceiling, or the peer's name. */
  subject: string;
  recordsPerSec?: number;
  bytesPerSec?: number;
  /** Median time of one operation (one lookup, one batch) in nanoseconds. */
  medianNs?: number;
}

export interface Ratio {
  name: string;
  value: number;
  /** What the issue asks for, for the report; the gate's thresholds live in gates.json. */
  target?: number;
  description: string;
}

/**
 * An absolute time (a failover, a rebalance): printed and kept in results.json, never gated, since
 * on a shared machine only ratios measured side by side are stable enough to gate on.
 */
export interface Timing {
  name: string;
  medianMs: number;
  maxMs: number;
  /** Every round's figure, in the order measured. */
  samplesMs: number[];
  /** The goal the issue sets, for the report. */
  targetMs?: number;
  description: string;
}

export interface SuiteResult {
  rows: Row[];
  ratios: Ratio[];
  timings?: Timing[];
  notes?: string[];
}

export interface Measured {
  /** Iterations per second (mean). */
  opsPerSec: number;
  /** Median iteration time in nanoseconds. */
  medianNs: number;
}

/** Runs `fn` under tinybench for `timeMs` and returns its mean rate and median latency. */
export async function measure(name: string, fn: () => unknown, timeMs: number, iterations = 16): Promise<Measured> {
  const bench = new Bench({ time: timeMs, iterations, warmupTime: Math.min(100, timeMs / 4), warmupIterations: 4, throws: true });
  bench.add(name, fn);
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (result.state !== 'completed') throw new Error(`benchmark ${name} ended ${result.state}`);
  return { opsPerSec: 1000 / result.latency.mean, medianNs: result.latency.p50 * 1e6 };
}

/**
 * `items` rotated to start at a different one each round, for paired rounds: whoever runs right
 * after another meets the writeback, page use or load it left, so each takes every place in turn.
 */
export function inRoundOrder<T>(items: readonly T[], round: number): T[] {
  return items.map((_, i) => items[(i + round) % items.length]!);
}

/** Milliseconds one call of `fn` takes (for workloads of a whole transfer per call). */
export async function timed(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const created: string[] = [];

export function benchDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sluice-bench-${prefix}-`));
  created.push(dir);
  return dir;
}

export function removeBenchDirs(): void {
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export function mb(bytesPerSec: number): string {
  return (bytesPerSec / 1e6).toFixed(0);
}

export function fill(size: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    buf[i] = x >>> 24;
  }
  return buf;
}
