// Other clients keep their latency while 50 connections send Fetch 200 times a second and never
// read (issue 7, item 4). One client's produce round trip (acks=1, one 100 B record, our own
// producer over TCP) is timed on a quiet broker process and again during the flood, in the same
// run; the broker's RSS is read before and after the flood.
//
// Expected on the 2-core reference machine: the flood costs the other client little, since each
// non-reading connection stops being read once its one response fills its socket buffer; the RSS
// does not grow with the number of requests sent.
import fs from 'node:fs';
import net from 'node:net';

import { KafkaClient } from '../src/client/client.js';
import { Producer } from '../src/client/producer.js';
import { ApiKey, encodeRequest } from '../src/protocol/index.js';
import { startBrokerProcess } from './broker-harness.js';
import { benchDir, type RunOptions, type SuiteResult } from './harness.js';

const FLOOD_CONNECTIONS = 50;
const FETCHES_PER_SECOND = 200;

function percentile(sortedMs: readonly number[], fraction: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor(sortedMs.length * fraction))]!;
}

function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

async function roundTrips(producer: Producer, count: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await producer.send('latency', [{ value: 'x'.repeat(100) }]);
    ms.push(performance.now() - started);
  }
  return ms.sort((a, b) => a - b);
}

async function startFlood(port: number): Promise<() => void> {
  const frame = encodeRequest({ apiKey: ApiKey.Fetch, apiVersion: 11, correlationId: 1, clientId: 'flood' }, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 50 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic: 'stream', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1 }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
  const sockets = await Promise.all(Array.from({ length: FLOOD_CONNECTIONS }, () => new Promise<net.Socket>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', () => {});
    socket.pause();
  })));
  const timer = setInterval(() => {
    for (const socket of sockets) if (socket.writableLength < 64 * 1024) socket.write(frame);
  }, 1000 / FETCHES_PER_SECOND);
  return () => {
    clearInterval(timer);
    for (const socket of sockets) socket.destroy();
  };
}

export async function run(options: RunOptions): Promise<SuiteResult> {
  const samples = options.quick ? 300 : 2000;
  const broker = await startBrokerProcess(benchDir('slow-readers'));
  const client = await KafkaClient.connect({ brokers: [broker.address] });
  try {
    await client.createTopics([{ name: 'stream', partitions: 1 }, { name: 'latency', partitions: 1 }]);
    const producer = await Producer.create(client, { acks: 1, idempotent: false, lingerMs: 0 });
    for (let i = 0; i < 20; i++) await producer.send('stream', Array.from({ length: 1000 }, () => ({ value: 'v'.repeat(100) })));
    await roundTrips(producer, 50); // warm-up
    const quiet = await roundTrips(producer, samples);
    const rssBefore = rssBytes(broker.child.pid!);
    const stop = await startFlood(broker.port);
    let flooded: number[];
    let rssAfter: number;
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      flooded = await roundTrips(producer, samples);
      rssAfter = rssBytes(broker.child.pid!);
    } finally {
      stop();
    }
    const row = (subject: string, sorted: number[]) => ({
      suite: 'slow-readers',
      workload: 'produce round trip, 1 x 100 B',
      subject,
      // A round trip's time, not a rate: one record at a time, a loop's "records/s" (~550) only
      // restates the mean, and the chart drew it as "1k records/s" for both subjects.
      medianNs: percentile(sorted, 0.5) * 1e6,
    });
    return {
      rows: [row('sluice, quiet', quiet), row(`sluice, ${FLOOD_CONNECTIONS} slow readers`, flooded)],
      ratios: [
        {
          name: 'latency_p50_quiet_vs_slow_readers',
          value: percentile(quiet, 0.5) / percentile(flooded, 0.5),
          description: `median produce round trip without / with ${FLOOD_CONNECTIONS} connections sending Fetch ${FETCHES_PER_SECOND}/s unread (1 = unaffected)`,
        },
        {
          name: 'latency_p99_quiet_vs_slow_readers',
          value: percentile(quiet, 0.99) / percentile(flooded, 0.99),
          description: 'the same at p99',
        },
      ],
      notes: [
        `slow readers: p50 ${percentile(quiet, 0.5).toFixed(2)} -> ${percentile(flooded, 0.5).toFixed(2)} ms, p99 ${percentile(quiet, 0.99).toFixed(2)} -> ${percentile(flooded, 0.99).toFixed(2)} ms; ` +
          `broker RSS ${(rssBefore / 2 ** 20).toFixed(0)} -> ${(rssAfter / 2 ** 20).toFixed(0)} MiB after ${samples} round trips under the flood`,
      ],
    };
  } finally {
    client.close();
    await broker.stop();
  }
}
