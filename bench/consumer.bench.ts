// The pool consumer: batches of an embedded log through piscina workers, and group rebalances.
//
// - Crossing to the workers: 1000-record batches as raw bytes decoded in the worker (PoolConsumer's
//   way) against record objects decoded on the main thread and structured-cloned, same 2 workers.
// - Trivial handler throughput from an embedded log (4 partitions, batches of 1000 100-byte
//   records, one batch per handler call, 2 workers), against the ceiling of reading and decoding
//   the same batches inline on the main thread with no pool.
// - CPU-heavy handler (FNV-1a over each value, 100 rounds: ~10-20 us a record), 1 worker and 2
//   workers side by side: the pool's scaling (pool_two_workers_vs_one).
// - Rebalance time, 3 members on 12 partitions: from a third GroupMember's start() until all
//   three hold 4 partitions in one stable generation, eager (range) and cooperative-sticky (two
//   rounds), with heartbeat.interval.ms 100 (existing members learn of a rebalance from a
//   heartbeat, so this is the heartbeat interval plus the join/sync round trips); and the consumer
//   group protocol (KIP-848, the broker's uniform assignor, group.consumer.heartbeat.interval.ms
//   100): members revoke at one heartbeat and the newcomer takes the partitions at its next.
//
// Expected on the 2-core reference machine: trivial >= 1M records/s; two workers >= 1.7x one;
// raw bytes several times faster than cloned records; rebalance ~100-300 ms at a 100 ms heartbeat.
import { Piscina } from 'piscina';

import { startBroker } from '../src/broker/broker.js';
import { KafkaClient } from '../src/client/client.js';
import { GroupMember } from '../src/client/group-member.js';
import { decodeRecords } from '../src/consumer/batch.js';
import { PoolConsumer } from '../src/consumer/index.js';
import { Engine } from '../src/engine/engine.js';
import { decodeBatch, encodeBatch } from '../src/record/batch.js';
import { benchDir, fill, inRoundOrder, median, type Ratio, type Row, type RunOptions, type SuiteResult } from './harness.js';

const PARTITIONS = 4;
const RECORD_BYTES = 100;
const BATCH_RECORDS = 1000;
const HANDLER = new URL('../test/fixtures/pool-handler.ts', import.meta.url);
const CROSSING_WORKER = new URL('../test/fixtures/pool-bench-worker.ts', import.meta.url);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function run(options: RunOptions): Promise<SuiteResult> {
  const rows: Row[] = [];
  const ratios: Ratio[] = [];
  const notes: string[] = [];

  // ---- crossing ------------------------------------------------------------------------------
  const batch = encodeBatch(Array.from({ length: BATCH_RECORDS }, (_, i) => ({ key: `k${i}`, value: fill(RECORD_BYTES, i) })));
  const crossing = await measureCrossing(batch, options.quick ? 600 : 2000);
  rows.push({ suite: 'consumer', workload: 'to 2 workers, 1000 x 100 B', subject: 'raw bytes, decoded in worker', recordsPerSec: crossing.bytes, medianNs: crossing.bytesMainNs });
  rows.push({ suite: 'consumer', workload: 'to 2 workers, 1000 x 100 B', subject: 'records cloned from main', recordsPerSec: crossing.records, medianNs: crossing.recordsMainNs });
  ratios.push({ name: 'pool_raw_bytes_vs_cloned_records', value: crossing.bytes / crossing.records, description: 'records/s, raw batch bytes decoded in the worker / decoded records structured-cloned' });

  // ---- an embedded log -----------------------------------------------------------------------
  const totalRecords = options.quick ? 1_000_000 : 3_000_000;
  const engine = await Engine.open({ dataDir: benchDir('consumer') });
  await engine.createTopic('work', { partitions: PARTITIONS });
  for (let written = 0; written < totalRecords; written += BATCH_RECORDS) {
    await engine.appendBatches('work', (written / BATCH_RECORDS) % PARTITIONS, Buffer.from(batch));
  }
  try {
    const inline = measureInline(engine, totalRecords);
    const trivial = await measurePool(engine, { groupId: 'trivial', concurrency: 2, batchBytes: batch.length, total: totalRecords });
    rows.push({ suite: 'consumer', workload: 'trivial handler, embedded log', subject: 'PoolConsumer, 2 workers', recordsPerSec: trivial });
    rows.push({ suite: 'consumer', workload: 'trivial handler, embedded log', subject: 'inline read+decode ceiling', recordsPerSec: inline });
    ratios.push({ name: 'pool_trivial_vs_inline_decode', value: trivial / inline, description: 'trivial handler: pool (2 workers) / read+decode on the main thread' });
    notes.push(`pool consumer, trivial handler: ${(trivial / 1e6).toFixed(2)}M records/s (target >= 1M on 2 cores)`);

    // CPU-heavy: fewer records, the same batches; 1 and 2 workers alternate, and the ratio is the
    // median of the pairs, so that a burst of load from elsewhere on the machine hits one pair.
    // A quick run's pairs were three of 60,000 records, 1 worker always first, and their median
    // fell to 1.37 in a fresh-clone CI run (1.58-1.74 otherwise): now five of 100,000, the order
    // inside a pair alternating.
    const heavyRecords = options.quick ? 100_000 : 200_000;
    const pairs = 5;
    const hashRounds = 100;
    const one: number[] = [];
    const two: number[] = [];
    for (let pair = 0; pair < pairs; pair++) {
      for (const concurrency of inRoundOrder([1, 2], pair)) {
        (concurrency === 1 ? one : two).push(await measurePool(engine, { groupId: `heavy-${concurrency}-${pair}`, concurrency, batchBytes: batch.length, total: heavyRecords, workerData: { hashRounds } }));
      }
    }
    rows.push({ suite: 'consumer', workload: 'CPU-heavy handler', subject: 'PoolConsumer, 1 worker', recordsPerSec: median(one) });
    rows.push({ suite: 'consumer', workload: 'CPU-heavy handler', subject: 'PoolConsumer, 2 workers', recordsPerSec: median(two) });
    ratios.push({
      name: 'pool_two_workers_vs_one',
      value: median(two.map((rate, i) => rate / one[i]!)),
      target: 1.7,
      description: 'CPU-heavy handler: records/s with 2 workers / with 1 (median of alternating pairs)',
    });
  } finally {
    await engine.close();
  }

  // ---- rebalance -----------------------------------------------------------------------------
  const rounds = options.quick ? 3 : 7;
  for (const assignor of ['range', 'cooperative-sticky', 'consumer protocol (uniform)'] as const) {
    const times: number[] = [];
    for (let round = 0; round < rounds; round++) times.push(await measureRebalance(assignor));
    const ms = median(times);
    rows.push({ suite: 'consumer', workload: 'rebalance, 3 members x 12 partitions', subject: `${assignor} (heartbeat 100 ms)`, medianNs: ms * 1e6 });
    notes.push(`rebalance of 3 members on 12 partitions, ${assignor}: median ${ms.toFixed(0)} ms (heartbeat.interval.ms 100)`);
  }
  return { rows, ratios, notes };
}

/** Records/s through 2 workers either way, and main-thread time per batch (median). */
async function measureCrossing(batch: Buffer, batches: number): Promise<{ bytes: number; records: number; bytesMainNs: number; recordsMainNs: number }> {
  const pool = new Piscina({ filename: new URL(CROSSING_WORKER).pathname, minThreads: 2, maxThreads: 2, execArgv: withTsx() });
  try {
    await Promise.all([pool.run({ records: [] }), pool.run({ records: [] })]);
    const go = async (mode: 'bytes' | 'records') => {
      const mainNs: number[] = [];
      const pending: Array<Promise<unknown>> = [];
      const start = performance.now();
      for (let i = 0; i < batches; i++) {
        const t = performance.now();
        if (mode === 'bytes') {
          const bytes = new Uint8Array(batch.length);
          bytes.set(batch);
          pending.push(pool.run({ bytes }));
        } else {
          pending.push(pool.run({ records: decodeBatch(batch, 0, { skipCrc: true }).records }));
        }
        mainNs.push((performance.now() - t) * 1e6);
        if (pending.length >= 4) await pending.shift();
      }
      await Promise.all(pending);
      return { rate: (batches * BATCH_RECORDS) / ((performance.now() - start) / 1000), mainNs: median(mainNs) };
    };
    await go('bytes'); // warm-up
    await go('records');
    const bytes = await go('bytes');
    const records = await go('records');
    return { bytes: bytes.rate, records: records.rate, bytesMainNs: bytes.mainNs, recordsMainNs: records.mainNs };
  } finally {
    await pool.destroy();
  }
}

/** Workers inherit execArgv; from the sources they need tsx (PoolConsumer adds it itself). */
function withTsx(): string[] {
  return process.execArgv.some((arg) => arg.includes('tsx')) ? process.execArgv : [...process.execArgv, '--import', import.meta.resolve('tsx')];
}

/** Reading and decoding every batch on the main thread: what one thread does without a pool. */
function measureInline(engine: Engine, total: number): number {
  const start = performance.now();
  let records = 0;
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const log = engine.partitionLog('work', partition);
    for (let offset = 0; offset < log.logEndOffset; ) {
      const read = log.read(offset, 1024 * 1024)!;
      const bytes = Buffer.allocUnsafeSlow(read.region.sizeBytes);
      log.readInto(read, bytes);
      records += decodeRecords(bytes, offset, true).length;
      offset = read.region.lastOffset + 1;
    }
  }
  if (records !== total) throw new Error(`inline read ${records} of ${total} records`);
  return records / ((performance.now() - start) / 1000);
}

/**
 * Steady-state records/s of a PoolConsumer over the whole topic: timed from the first 10% handled
 * (workers started and warm) to the last record.
 */
async function measurePool(engine: Engine, options: { groupId: string; concurrency: number; batchBytes: number; total: number; workerData?: unknown }): Promise<number> {
  const consumer = new PoolConsumer({
    engine,
    groupId: options.groupId,
    topics: ['work'],
    handler: HANDLER,
    concurrency: options.concurrency,
    autoOffsetReset: 'earliest',
    // One RecordBatch (1000 records) per handler call.
    partitionMaxBytes: options.batchBytes,
    workerData: options.workerData,
  });
  await consumer.start();
  try {
    const warm = Math.floor(options.total / 10);
    while (consumer.metrics.recordsProcessed < warm) await sleep(2);
    const start = performance.now();
    const startRecords = consumer.metrics.recordsProcessed;
    while (consumer.metrics.recordsProcessed < options.total) await sleep(2);
    return (consumer.metrics.recordsProcessed - startRecords) / ((performance.now() - start) / 1000);
  } finally {
    await consumer.stop();
  }
}

/** Milliseconds from a third member's start() until the group of three is stable with 4 partitions each. */
async function measureRebalance(assignor: 'range' | 'cooperative-sticky' | 'consumer protocol (uniform)'): Promise<number> {
  const consumerProtocol = assignor === 'consumer protocol (uniform)';
  const broker = await startBroker({
    port: 0,
    config: { 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 1, 'group.consumer.heartbeat.interval.ms': 100 },
  });
  const clients: KafkaClient[] = [];
  const members: GroupMember[] = [];
  try {
    await broker.engine.createTopic('rebalance', { partitions: 12 });
    const join = async () => {
      const client = await KafkaClient.connect({ brokers: [`localhost:${broker.port}`] });
      clients.push(client);
      const member = consumerProtocol
        ? new GroupMember(client, { groupId: 'bench', topics: ['rebalance'], groupProtocol: 'consumer' })
        : new GroupMember(client, { groupId: 'bench', topics: ['rebalance'], assignors: [assignor], heartbeatIntervalMs: 100, sessionTimeoutMs: 10_000 });
      members.push(member);
      return member;
    };
    const first = await join();
    await first.start();
    const second = await join();
    await second.start();
    while (!(first.assignment.length === 6 && second.assignment.length === 6)) await sleep(1);
    const third = await join();
    const start = performance.now();
    await third.start();
    const stable = () => (consumerProtocol ? broker.groups.describeConsumerGroup('bench') : broker.groups.describeGroup('bench')).groupState === 'Stable';
    const settled = () => members.every((m) => m.assignment.length === 4 && m.generationId === third.generationId) && stable();
    while (!settled()) await sleep(1);
    return performance.now() - start;
  } finally {
    for (const member of members) await member.stop();
    for (const client of clients) client.close();
    await broker.stop();
  }
}
