// Consume throughput through the broker: our Fetcher (Kafka's consumer defaults: 1 MiB per
// partition, 50 MiB per fetch) reading a 4-partition topic of 100-byte records from a broker
// process, with fetched records sent by sendfile (zero copy) and, side by side in the same run,
// copied through JS by a broker started with sluice.fetch.zero.copy=false. The ceiling is a plain
// sendfile of the same segment files to a loopback reader.
//
// Expected on the 2-core reference machine: >= 2M records/s; zero copy >= 1.3x the copying path.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import path from 'node:path';

import { Engine } from '../src/engine/engine.js';
import { KafkaClient } from '../src/client/client.js';
import { Fetcher } from '../src/client/fetcher.js';
import { binding } from '../src/native/binding.js';
import { encodeBatch } from '../src/record/batch.js';
import { startBrokerProcess } from './broker-harness.js';
import { benchDir, fill, median, timed, type RunOptions, type SuiteResult } from './harness.js';

const PARTITIONS = 4;
const RECORD_BYTES = 100;
const BATCH_RECORDS = 1000;

export async function run(options: RunOptions): Promise<SuiteResult> {
  const totalRecords = options.quick ? 1_000_000 : 4_000_000;
  const rounds = options.quick ? 5 : 7;
  const dataDir = benchDir('fetch');
  const engine = await Engine.open({ dataDir });
  await engine.createTopic('consume', { partitions: PARTITIONS });
  const batch = encodeBatch(Array.from({ length: BATCH_RECORDS }, (_, i) => ({ value: fill(RECORD_BYTES, i) })));
  for (let written = 0; written < totalRecords; written += BATCH_RECORDS) {
    await engine.appendBatches('consume', (written / BATCH_RECORDS) % PARTITIONS, Buffer.from(batch));
  }
  await engine.close();
  const logBytes = PARTITIONS * fs.statSync(path.join(dataDir, 'consume-0', '00000000000000000000.log')).size;

  const consumeAll = async (zeroCopy: boolean) => {
    const broker = await startBrokerProcess(dataDir, { 'sluice.fetch.zero.copy': String(zeroCopy) });
    try {
      const client = await KafkaClient.connect({ brokers: [broker.address] });
      const fetcher = new Fetcher(client, { countOnly: true, maxWaitMs: 100 });
      for (let partition = 0; partition < PARTITIONS; partition++) await fetcher.assign('consume', partition, 0);
      let records = 0;
      const ms = await timed(async () => {
        while (records < totalRecords) records += (await fetcher.fetch()).recordCount;
      });
      client.close();
      return ms;
    } finally {
      await broker.stop();
    }
  };

  const zeroCopyMs: number[] = [];
  const copyingMs: number[] = [];
  const pairedRatios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const z = await consumeAll(true);
    const c = await consumeAll(false);
    zeroCopyMs.push(z);
    copyingMs.push(c);
    pairedRatios.push(c / z);
  }
  const ceilingMs = await plainSendfileMs(dataDir, rounds);

  const recordsPerSec = (ms: number[]) => (totalRecords * 1000) / median(ms);
  const bytesPerSec = (ms: number[]) => (logBytes * 1000) / median(ms);
  return {
    rows: [
      { suite: 'fetch', workload: 'consume via Fetch, 100 B records', subject: 'sluice sendfile fetch', recordsPerSec: recordsPerSec(zeroCopyMs), bytesPerSec: bytesPerSec(zeroCopyMs), medianNs: median(zeroCopyMs) * 1e6 },
      { suite: 'fetch', workload: 'consume via Fetch, 100 B records', subject: 'sluice copying fetch', recordsPerSec: recordsPerSec(copyingMs), bytesPerSec: bytesPerSec(copyingMs), medianNs: median(copyingMs) * 1e6 },
      { suite: 'fetch', workload: 'consume via Fetch, 100 B records', subject: 'plain sendfile ceiling', bytesPerSec: bytesPerSec(ceilingMs), medianNs: median(ceilingMs) * 1e6 },
    ],
    ratios: [
      { name: 'fetch_zero_copy_vs_copying', value: median(pairedRatios), target: 1.3, description: 'consume through sendfile fetch / through a broker copying records in JS (median of paired rounds)' },
      { name: 'fetch_vs_sendfile_ceiling', value: median(ceilingMs) / median(zeroCopyMs), description: 'sendfile fetch MB/s / plain sendfile of the same files to a loopback reader' },
    ],
    notes: [`consume via sendfile fetch: ${(recordsPerSec(zeroCopyMs) / 1e6).toFixed(2)}M records/s (target >= 2M)`],
  };
}

const SINK = `
const net = require('node:net');
const socket = net.connect({ port: Number(process.argv[1]), host: '127.0.0.1',
  onread: { buffer: Buffer.allocUnsafe(4 * 1024 * 1024), callback: () => true } });
socket.on('error', () => {});
`;

/** Sends every segment file of the topic to a loopback reader with sendfile, `rounds` times. */
async function plainSendfileMs(dataDir: string, rounds: number): Promise<number[]> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const sink = spawn(process.execPath, ['-e', SINK, String((server.address() as net.AddressInfo).port)], { stdio: 'ignore' });
  const [socket] = (await once(server, 'connection')) as [net.Socket];
  const socketFd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
  const files = Array.from({ length: PARTITIONS }, (_, p) => path.join(dataDir, `consume-${p}`, '00000000000000000000.log'));
  const fds = files.map((file) => fs.openSync(file, 'r'));
  const times: number[] = [];
  for (let round = -1; round < rounds; round++) {
    const ms = await timed(async () => {
      for (const fd of fds) await binding.sendfile(socketFd, fd, 0, fs.fstatSync(fd).size);
    });
    if (round >= 0) times.push(ms);
  }
  for (const fd of fds) fs.closeSync(fd);
  socket.destroy();
  server.close();
  sink.kill();
  return times;
}
