// Clients that send without reading cannot grow the broker (issue 7, item 4): 50 connections
// send Fetch 200 times a second and never read their sockets, as the outside check did. The
// broker's RSS stays flat, with zero copy on and off, other clients are served meanwhile (kcat
// reads the whole topic), and the memory is back once the flood is gone. Then the broker-wide
// budgets: queued.max.request.bytes and queued.max.requests make connections wait, never fail,
// and a long poll does not hold a request slot while it waits.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { KafkaClient } from '../../src/client/client.js';
import { Producer } from '../../src/client/producer.js';
import { ApiKey, encodeRequest } from '../../src/protocol/index.js';
import { runFixture, type Child } from '../fixtures/child.js';
import { fetchBody, rssBytes } from '../fixtures/probes.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const FLOOD_CONNECTIONS = 50;
const FETCHES_PER_SECOND = 200;
const RECORDS = 20_000;


function fetchFrame(topic: string): Buffer {
  return encodeRequest({ apiKey: ApiKey.Fetch, apiVersion: 11, correlationId: 1, clientId: 'flood' }, fetchBody(topic));
}


/** Sends `frame` on every connection FETCHES_PER_SECOND times a second; never reads. */
async function flood(port: number, frame: Buffer): Promise<() => void> {
  const sockets = await Promise.all(
    Array.from({ length: FLOOD_CONNECTIONS }, () => new Promise<net.Socket>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
      socket.on('error', () => {});
      socket.pause();
    })),
  );
  const timer = setInterval(() => {
    for (const socket of sockets) {
      // The broker stops reading us: past a few frames our own writes would only pile up here.
      if (socket.writableLength < 64 * 1024) socket.write(frame);
    }
  }, 1000 / FETCHES_PER_SECOND);
  return () => {
    clearInterval(timer);
    for (const socket of sockets) socket.destroy();
  };
}

interface FloodedBroker {
  child: Child;
  port: number;
  dataDir: string;
}

const brokers: FloodedBroker[] = [];

async function startFloodedBroker(config: Record<string, string>): Promise<FloodedBroker> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-backpressure-'));
  const child = runFixture('control-broker.ts', [dataDir, ...Object.entries(config).map(([k, v]) => `${k}=${v}`)], { stdin: true });
  const port = Number((await child.waitFor('listening')).split(' ')[1]);
  const broker = { child, port, dataDir };
  brokers.push(broker);
  const client = await KafkaClient.connect({ brokers: [`127.0.0.1:${port}`] });
  await client.createTopics([{ name: 'stream', partitions: 1 }]);
  const producer = await Producer.create(client, { acks: 1, idempotent: false, lingerMs: 0 });
  const value = 'v'.repeat(100);
  for (let sent = 0; sent < RECORDS; sent += 1000) await producer.send('stream', Array.from({ length: 1000 }, () => ({ value })));
  client.close();
  return broker;
}

async function heapUsed(child: Child): Promise<number> {
  return JSON.parse((await child.ask('memory', 'memory ')).slice('memory '.length)).heapUsed;
}

afterAll(async () => {
  for (const { child, dataDir } of brokers) {
    child.process.kill('SIGTERM');
    await child.exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

describe.each([
  ['zero copy', 'true'],
  ['copying through JS', 'false'],
])('clients that send Fetch and never read (%s)', (_mode, zeroCopy) => {
  it('leave the broker RSS flat, and other clients are served meanwhile', async () => {
    const broker = await startFloodedBroker({ 'sluice.fetch.zero.copy': zeroCopy });
    const pid = broker.child.process.pid!;
    const heapBefore = await heapUsed(broker.child);
    const stop = await flood(broker.port, fetchFrame('stream'));
    try {
      await sleep(2000); // every connection has its one response in flight by now
      const rssWarm = rssBytes(pid);
      // Meanwhile: our client produces and fetches, and kcat reads the whole topic.
      const client = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`] });
      const producer = await Producer.create(client, { acks: 1, idempotent: false, lingerMs: 0 });
      const [ack] = await producer.send('stream', [{ value: 'during the flood' }]);
      expect(ack!.offset).toBe(RECORDS);
      client.close();
      const { stdout } = await run('kcat', ['-b', `127.0.0.1:${broker.port}`, '-C', '-t', 'stream', '-o', 'beginning', '-e', '-q', '-f', '%o\n'], {
        maxBuffer: 64 << 20,
      });
      expect(stdout.trim().split('\n')).toHaveLength(RECORDS + 1);
      await sleep(4000);
      const rssLate = rssBytes(pid);
      // Before the fix this grew by 0.7 KiB per queued response: 50 x 200/s x 4 s = 40,000
      // responses, ~28 MiB with zero copy, gigabytes copying. Now each connection holds one.
      expect(rssLate - rssWarm).toBeLessThan(24 * 1024 * 1024);
    } finally {
      stop();
    }
    // And the memory is back once they are gone (connections close on the broker's side too).
    let heapAfter = await heapUsed(broker.child);
    for (let i = 0; i < 50 && heapAfter - heapBefore > 8 * 1024 * 1024; i++) {
      await sleep(100);
      heapAfter = await heapUsed(broker.child);
    }
    expect(heapAfter - heapBefore).toBeLessThan(8 * 1024 * 1024);
  }, 60_000);
});

describe('broker-wide request budgets', () => {
  let broker: Broker | undefined;

  afterEach(async () => {
    await broker?.stop();
    broker = undefined;
  });

  it('queued.max.request.bytes makes connections wait for memory, never fail; a frame larger than the pool passes alone', async () => {
    broker = await startBroker({ port: 0, config: { 'queued.max.request.bytes': 64 * 1024, 'message.max.bytes': 1 << 20 } });
    await broker.engine.createTopic('big', { partitions: 4 });
    const clients = await Promise.all(Array.from({ length: 4 }, () => KafkaClient.connect({ brokers: [`127.0.0.1:${broker!.port}`] })));
    const value = Buffer.alloc(200 * 1024, 7); // each produce frame is 3x the whole pool
    await Promise.all(
      clients.map(async (client, i) => {
        const producer = await Producer.create(client, { acks: 1, idempotent: false, lingerMs: 0 });
        for (let n = 0; n < 5; n++) await producer.send('big', [{ value, partition: i }]);
        client.close();
      }),
    );
    for (let partition = 0; partition < 4; partition++) expect(broker.engine.latestOffset('big', partition)).toBe(5);
    expect(broker.metrics.requestMemoryWaits).toBeGreaterThan(0);
  });

  it('queued.max.requests=1 serves every client in turn, and a parked long poll does not hold the slot', async () => {
    broker = await startBroker({ port: 0, config: { 'queued.max.requests': 1 } });
    await broker.engine.createTopic('quiet', { partitions: 1 });
    const poller = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port });
    let pollDone = false;
    const poll = poller.request(ApiKey.Fetch, fetchBody('quiet', { maxWaitMs: 20_000 }), 11).then(() => (pollDone = true));
    while (broker.appendWaitersPartitions === 0) await sleep(10);
    // The long poll waits for 20 s; metadata, produce and fetch on other connections go through.
    const others = await Promise.all(Array.from({ length: 5 }, () => KafkaClient.connect({ brokers: [`127.0.0.1:${broker!.port}`] })));
    await Promise.all(others.map(async (client) => expect((await client.metadata(['quiet'])).topics).toHaveLength(1)));
    expect(pollDone).toBe(false);
    // An append wakes the poll, which is answered with the record.
    const producer = await Producer.create(others[0]!, { acks: 1, idempotent: false, lingerMs: 0 });
    await producer.send('quiet', [{ value: 'wake up' }]);
    await poll;
    for (const client of others) client.close();
    poller.close();
  });
});
