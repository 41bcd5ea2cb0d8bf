// Produce throughput through the broker, 100-byte values without keys, acks=1, one broker process:
// our `sluice perf produce` (default producer settings, and batch.size 256 KiB), kcat (librdkafka's
// defaults) and kafkajs 2.2.4, each against the same broker in the same run.
//
// The clock is the same for every subject: each runs in its own process, timed by this one from
// spawn to exit (start-up, connect, metadata, delivery of every record, close). The warm-up is taken
// out the same way for all: each round runs each subject once more with WARMUP_RECORDS records, and
// its rate is (records - WARMUP_RECORDS) / (time(records) - time(WARMUP_RECORDS)), the records per
// second it adds once started. A subject's own figure is not used: perf produce's from its first
// send to its last acknowledgement is shown in a note only, kcat reports none. Rounds are paired
// (every subject once per round, in the same order) and the medians compared.
//
// Latency: perf produce measures from the send call that hands a record to the producer to the
// acknowledgement of the last record of that call. After the rounds, one run with --throughput at
// half the median rate perf produce reached (by its own clock, the clock its throttle uses) gives
// the p99 the issue asks about (target <= 5 ms).
//
// Targets (issue 10): >= 3M records/s with the defaults; p99 <= 5 ms at half that rate. On the
// shared 2-core machine neither is met: see `_comment_perf_produce` in gates.json for the figures.
// Each subject writes into a topic of its own each round, deleted after its runs (see `fresh`).
// A full run before that change: perf produce 1.50M records/s with defaults, 3.28M at 256 KiB,
// kcat 2.02M; after, two full runs (2026-12-03, load 1-2): 2.42M and 1.71M, 5.03M and 4.03M,
// kcat 1.98M and 1.27M, kcat with batch.size 16 KiB 1.19M and 1.00M. At half the rate reached
// (1.2M and 0.85M records/s) the p99 was 9 and 7 ms after 1 s of warm-up, the end of the
// producer's ramp; with 2 s of warm-up a third full run gave 2.15M records/s with defaults,
// 5.56M at 256 KiB, kcat 2.04M, and a p99 of 5 ms at 1.06M records/s (p50 2 ms).
// With one batch per partition per request and 5 requests in flight, the rate is set by round
// trips, which are set by the broker's per-request work and by the syscalls of both sides (a 16 KiB
// write over loopback costs the producer ~12 us: the kernel delivers it in the sender's call).
// Profiles of a 6M-record run, 2026-12-03: the producer idle 35% and the broker ~40% while the
// broker held a burst's answers until its end; the producer idle 23% once the first went out at
// once (src/broker/connection.ts), 2.04M -> 2.43M records/s by perf produce's clock under the profiler.
// Where the broker's time goes, 2026-12-08 (runs of 6M records by hand against one broker process,
// a new topic each, 1.42-1.54M records/s): 40,541 full 16 KiB batches a run, the broker at ~26 us
// user and ~50 us system CPU per request (its /proc stat), and the producer at 3.1-3.5 s of CPU
// (all threads) per 4.2-4.6 s run. `perf record` of the broker: 24.6% of its samples in
// copy_folio_from_iter_atomic (pwritev's copy into page-cache pages), 7.6% zeroing new pages,
// 11.2% pvm_irq_enable: the page cache taking new pages, which these VMs fault in from the host
// (see the README's Benchmarks). Touching and freeing 1.5 GB just before a run, so the page cache
// took pages the host still backed: 2.06 and 2.11M against 1.72 and 1.81M records/s, alternating.
// The broker's syscalls per request (strace): one pwritev, ~0.35 reads, ~0.45 response writes.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { KafkaClient } from '../src/client/client.js';
import { perfProduce, startBrokerProcess } from './broker-harness.js';
import { benchDir, median, type Row, type RunOptions, type SuiteResult, type Timing } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const RECORD_BYTES = 100;
/** The short run every subject also makes in each round: its time is the warm-up taken out. */
const WARMUP_RECORDS = 10_000;
const LARGE_BATCH_BYTES = 262_144;
/** The latency target at half the maximum rate. */
const P99_TARGET_MS = 5;

/** Runs a command to its exit; returns its wall time from spawn, in ms. */
function spawnToExit(command: string, args: string[]): Promise<number> {
  const spawnedMs = performance.now();
  return new Promise<number>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - spawnedMs) : reject(new Error(`${command} exited ${code}`))));
  });
}

/** A file of `records` 100-byte lines (99 bytes and the newline kcat splits on). */
function linesFile(dir: string, records: number): string {
  const file = path.join(dir, `lines-${records}.txt`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, ('x'.repeat(RECORD_BYTES - 1) + '\n').repeat(records));
  return file;
}

/** kcat -P of the lines of `file`, acks=1, with librdkafka's defaults unless `extra` sets some. */
function kcat(address: string, topic: string, file: string, extra: string[] = []): Promise<number> {
  return spawnToExit('kcat', ['-b', address, '-P', '-t', topic, '-X', 'acks=1', ...extra, '-l', file]);
}

/** kafkajs in its own process (bench/fixtures/kafkajs-produce.ts), sends of 1000 awaited in turn. */
function kafkajs(address: string, topic: string, records: number): Promise<number> {
  return spawnToExit(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures', 'kafkajs-produce.ts'), address, topic, String(records), String(RECORD_BYTES)]);
}

/**
 * Records per second a subject adds once started: the warm-up run's time taken out. NaN when the
 * run was no longer than the warm-up's (its start-up's jitter outweighed its records): that round
 * measured nothing for it, and the medians leave it out.
 */
function marginalRate(records: number, ms: number, warmupMs: number): number {
  const deltaMs = ms - warmupMs;
  if (deltaMs <= 0) {
    process.stderr.write(`produce: a run of ${records} records (${ms.toFixed(0)} ms) was no longer than the warm-up's (${warmupMs.toFixed(0)} ms): round left out\n`);
    return Number.NaN;
  }
  return ((records - WARMUP_RECORDS) * 1000) / deltaMs;
}

interface Round {
  perfDefaults: number;
  perfLarge: number;
  kcat: number;
  kcat16k?: number;
  kafkajs: number;
  /** perf produce's own figures (first send to last acknowledgement), for the notes. */
  perfDefaultsOwn: number;
  perfDefaultsP99Ms: number;
}

export async function run(options: RunOptions): Promise<SuiteResult> {
  // A quick run's 2M: with 600k, perf produce at 256 KiB (~5M records/s) added ~120 ms to its
  // ~800 ms of start-up, and a fresh-clone CI run (2026-12-07) measured it shorter than its warm-up.
  const records = options.quick ? 2_000_000 : 3_000_000;
  const kafkajsRecords = options.quick ? 60_000 : 300_000;
  const rounds = options.quick ? 3 : 5;
  const dir = benchDir('produce');
  const warmupFile = linesFile(dir, WARMUP_RECORDS);
  const file = linesFile(dir, records);
  const broker = await startBrokerProcess(path.join(dir, 'data'));
  const admin = await KafkaClient.connect({ brokers: [broker.address], clientId: 'produce-bench-admin' });
  try {
    const perfRun = async (topic: string, count: number, extra: string[]) => perfProduce(broker.address, topic, count, RECORD_BYTES, 1, extra);
    // Each subject writes into a topic of its own for the round, deleted after its runs, so that
    // every subject appends into pages the broker has just freed, not memory the host must fault
    // in again (see bench/engine-produce.bench.ts): while the topics grew across rounds, the later
    // subjects of a run measured the host's page faults.
    const fresh = async <T>(topic: string, runs: (topic: string) => Promise<T>): Promise<T> => {
      try {
        return await runs(topic);
      } finally {
        await admin.deleteTopics([topic]);
      }
    };
    const results: Round[] = [];
    for (let round = 0; round < rounds; round++) {
      const [defaultsWarm, defaults] = await fresh(`perf-defaults-${round}`, async (topic) => [await perfRun(topic, WARMUP_RECORDS, []), await perfRun(topic, records, [])]);
      const largeFlags = ['--batch-size', String(LARGE_BATCH_BYTES)];
      const [largeWarm, large] = await fresh(`perf-large-${round}`, async (topic) => [await perfRun(topic, WARMUP_RECORDS, largeFlags), await perfRun(topic, records, largeFlags)]);
      const [kcatWarmMs, kcatMs] = await fresh(`perf-kcat-${round}`, async (topic) => [await kcat(broker.address, topic, warmupFile), await kcat(broker.address, topic, file)]);
      const result: Round = {
        perfDefaults: marginalRate(records, defaults.spawnToExitMs, defaultsWarm.spawnToExitMs),
        perfLarge: marginalRate(records, large.spawnToExitMs, largeWarm.spawnToExitMs),
        kcat: marginalRate(records, kcatMs, kcatWarmMs),
        kafkajs: 0,
        perfDefaultsOwn: defaults.recordsPerSec,
        perfDefaultsP99Ms: defaults.p99Ms,
      };
      if (!options.quick) {
        // librdkafka with Kafka's batch.size: the same batch bound as perf produce's defaults.
        const smallBatch = ['-X', 'batch.size=16384'];
        const [warmMs, ms] = await fresh(`perf-kcat-16k-${round}`, async (topic) => [await kcat(broker.address, topic, warmupFile, smallBatch), await kcat(broker.address, topic, file, smallBatch)]);
        result.kcat16k = marginalRate(records, ms, warmMs);
      }
      const [kafkajsWarmMs, kafkajsMs] = await fresh(`perf-kafkajs-${round}`, async (topic) => [await kafkajs(broker.address, topic, WARMUP_RECORDS), await kafkajs(broker.address, topic, kafkajsRecords)]);
      result.kafkajs = marginalRate(kafkajsRecords, kafkajsMs, kafkajsWarmMs);
      results.push(result);
    }
    // Rounds that measured nothing for a subject (marginalRate) are left out of its median; with none
    // left the median is NaN, and a ratio of it fails its gate.
    const of = (pick: (round: Round) => number) => {
      const measured = results.map(pick).filter((rate) => Number.isFinite(rate));
      return measured.length === 0 ? Number.NaN : median(measured);
    };
    const perfDefaults = of((r) => r.perfDefaults);
    const perfLarge = of((r) => r.perfLarge);
    const kcatRate = of((r) => r.kcat);
    const kafkajsRate = of((r) => r.kafkajs);
    const perfOwn = of((r) => r.perfDefaultsOwn);

    // p99 at half the rate perf produce reached by its own clock, over ~5-6 s of sending, the first
    // two seconds of them warm-up (--warmup-records, Kafka 4.0's KIP-1052): a fresh producer
    // process runs its first ~0.5 s unoptimised, slower than half its rate, and the backlog it
    // builds then (latencies of 30-150 ms) was 1-10% of a 3 s run, so the whole run's p99 measured
    // the start. With one second of warm-up at 1.2M records/s the p99 after it was 9 ms, the ramp's
    // tail; by hand, after two seconds, 3 ms (p50 1 ms). Both are reported.
    const halfRate = Math.max(1, Math.round(perfOwn / 2));
    const warmupRecords = Math.max(WARMUP_RECORDS, 2 * halfRate);
    const throttledRecords = Math.max(2 * warmupRecords, halfRate * (options.quick ? 5 : 6));
    const throttled = await fresh('perf-half-rate', (topic) => perfRun(topic, throttledRecords, ['--throughput', String(halfRate), '--warmup-records', String(warmupRecords)]));

    const workload = 'produce 100 B records, acks=1 (spawn to exit, warm-up run taken out)';
    const rows: Row[] = [
      { suite: 'produce', workload, subject: 'sluice perf produce (batch.size 16 KiB)', recordsPerSec: perfDefaults, bytesPerSec: perfDefaults * RECORD_BYTES },
      { suite: 'produce', workload, subject: 'sluice perf produce (batch.size 256 KiB)', recordsPerSec: perfLarge, bytesPerSec: perfLarge * RECORD_BYTES },
      { suite: 'produce', workload, subject: 'kcat (librdkafka 2.0.2 defaults)', recordsPerSec: kcatRate, bytesPerSec: kcatRate * RECORD_BYTES },
      { suite: 'produce', workload, subject: 'kafkajs 2.2.4 (sends of 1000)', recordsPerSec: kafkajsRate, bytesPerSec: kafkajsRate * RECORD_BYTES },
    ];
    const ratios = [
      { name: 'perf_produce_vs_kcat', value: perfDefaults / kcatRate, description: 'sluice perf produce (defaults) / kcat (defaults), same broker, both timed spawn to exit' },
      { name: 'perf_produce_256k_vs_kcat', value: perfLarge / kcatRate, description: 'sluice perf produce (batch.size 256 KiB) / kcat (defaults), same broker, both timed spawn to exit' },
      { name: 'perf_produce_vs_kafkajs', value: perfDefaults / kafkajsRate, description: 'sluice perf produce (defaults) / kafkajs, same broker, both timed spawn to exit' },
    ];
    if (!options.quick) {
      const kcat16k = of((r) => r.kcat16k!);
      rows.push({ suite: 'produce', workload, subject: 'kcat (librdkafka 2.0.2, batch.size 16 KiB)', recordsPerSec: kcat16k, bytesPerSec: kcat16k * RECORD_BYTES });
      ratios.push({ name: 'perf_produce_vs_kcat_16k', value: perfDefaults / kcat16k, description: 'sluice perf produce (defaults) / kcat with batch.size 16384: the same batch bound' });
    }
    const p99Samples = results.map((r) => r.perfDefaultsP99Ms);
    const timings: Timing[] = [
      {
        name: 'perf_produce_p99_at_half_rate',
        medianMs: throttled.p99Ms,
        maxMs: throttled.p99Ms,
        samplesMs: [throttled.p99Ms],
        targetMs: P99_TARGET_MS,
        description: `sluice perf produce --throughput ${halfRate} (half the ${(perfOwn / 1e6).toFixed(2)}M records/s it reached by its own clock), defaults: p99 latency from hand-over to acknowledgement, after 2 s of warm-up records (the whole run's: ${throttled.wholeRunP99Ms} ms)`,
      },
      {
        name: 'perf_produce_p99_at_max_rate',
        medianMs: median(p99Samples),
        maxMs: Math.max(...p99Samples),
        samplesMs: p99Samples,
        description: 'sluice perf produce, defaults, no --throughput: p99 latency (the tool keeps ~1 MiB in flight)',
      },
    ];
    const m = (rate: number) => `${(rate / 1e6).toFixed(2)}M`;
    return {
      rows,
      ratios,
      timings,
      notes: [
        `sluice perf produce, spawn to exit with the warm-up taken out: ${m(perfDefaults)} records/s with defaults, ${m(perfLarge)} with batch.size 256 KiB; kcat ${m(kcatRate)} (target >= 3M with defaults)`,
        `perf produce's own clock (first send to last acknowledgement), defaults: ${m(perfOwn)} records/s; at --throughput ${halfRate}: p50 ${throttled.p50Ms} ms, p99 ${throttled.p99Ms} ms after 2 s of warm-up (target <= ${P99_TARGET_MS} ms), ${throttled.wholeRunP99Ms} ms over the whole run`,
      ],
    };
  } finally {
    admin.close();
    await broker.stop();
  }
}
