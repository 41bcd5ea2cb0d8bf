// Produce throughput through the broker, 100-byte records, acks=1, one broker process: our
// `sluice perf produce` (default producer settings, and batch.size 256 KiB), kcat (librdkafka's
// defaults) and kafkajs 2.2.4, each against the same broker in the same run.
//
// Expected on the 2-core reference machine: sluice perf produce >= 1M records/s. The producer
// side is the bottleneck (encoding records in JS); the broker appends per batch.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { perfProduce, startBrokerProcess } from './broker-harness.js';
import { benchDir, timed, type Row, type RunOptions, type SuiteResult } from './harness.js';

const require = createRequire(import.meta.url);
const RECORD_BYTES = 100;

/** kcat -P of `records` 100-byte lines from a file, timed from spawn to exit (delivery included). */
async function kcatProduce(address: string, topic: string, records: number, dir: string): Promise<number> {
  const file = path.join(dir, 'lines.txt');
  const line = 'x'.repeat(RECORD_BYTES - 1) + '\n';
  fs.writeFileSync(file, line.repeat(records));
  const ms = await timed(
    () =>
      new Promise<void>((resolve, reject) => {
        const child = spawn('kcat', ['-b', address, '-P', '-t', topic, '-X', 'acks=1', '-l', file], { stdio: 'ignore' });
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`kcat exited ${code}`))));
      }),
  );
  return (records * 1000) / ms;
}

/** kafkajs: sends of 1000 messages awaited one after another, acks=1. */
async function kafkajsProduce(address: string, topic: string, records: number): Promise<number> {
  const { Kafka, logLevel, Partitioners } = require('kafkajs');
  const producer = new Kafka({ clientId: 'bench', brokers: [address], logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const value = Buffer.alloc(RECORD_BYTES, 120);
  const messages = Array.from({ length: 1000 }, () => ({ value }));
  const ms = await timed(async () => {
    for (let sent = 0; sent < records; sent += messages.length) await producer.send({ topic, acks: 1, messages });
  });
  await producer.disconnect();
  return (records * 1000) / ms;
}

export async function run(options: RunOptions): Promise<SuiteResult> {
  const records = options.quick ? 1_000_000 : 5_000_000;
  const dir = benchDir('produce');
  const broker = await startBrokerProcess(path.join(dir, 'data'));
  try {
    const defaults = await perfProduce(broker.address, 'perf-defaults', records, RECORD_BYTES, 1);
    const large = await perfProduce(broker.address, 'perf-large', records, RECORD_BYTES, 1, ['--batch-size', '262144']);
    const kcat = await kcatProduce(broker.address, 'perf-kcat', records, dir);
    const kafkajs = await kafkajsProduce(broker.address, 'perf-kafkajs', Math.min(records, options.quick ? 200_000 : 500_000));
    const workload = 'produce 100 B records, acks=1';
    const rows: Row[] = [
      { suite: 'produce', workload, subject: 'sluice perf produce (batch.size 16 KiB)', recordsPerSec: defaults.recordsPerSec, bytesPerSec: defaults.mbPerSec * 1024 * 1024 },
      { suite: 'produce', workload, subject: 'sluice perf produce (batch.size 256 KiB)', recordsPerSec: large.recordsPerSec, bytesPerSec: large.mbPerSec * 1024 * 1024 },
      { suite: 'produce', workload, subject: 'kcat (librdkafka 2.0.2 defaults)', recordsPerSec: kcat, bytesPerSec: kcat * RECORD_BYTES },
      { suite: 'produce', workload, subject: 'kafkajs 2.2.4 (sends of 1000)', recordsPerSec: kafkajs, bytesPerSec: kafkajs * RECORD_BYTES },
    ];
    return {
      rows,
      ratios: [
        { name: 'perf_produce_vs_kcat', value: defaults.recordsPerSec / kcat, description: 'sluice perf produce (defaults) / kcat, same broker' },
        { name: 'perf_produce_vs_kafkajs', value: defaults.recordsPerSec / kafkajs, description: 'sluice perf produce (defaults) / kafkajs, same broker' },
      ],
      notes: [
        `sluice perf produce: ${(defaults.recordsPerSec / 1e6).toFixed(2)}M records/s with defaults (p50 ${defaults.p50Ms} ms, p99 ${defaults.p99Ms} ms), ${(large.recordsPerSec / 1e6).toFixed(2)}M with batch.size 256 KiB (target >= 1M)`,
      ],
    };
  } finally {
    await broker.stop();
  }
}
