// A broker whose descriptors run out is not killed by it (issue 7, items 1 and 2): a Fetch whose
// sendfile cannot dup(2) a descriptor closes its own connection, accept(2) failing is logged, not
// thrown; connections and partitions each stay inside their share of `ulimit -n`; and a topic is
// created whole or not at all, across a failure and across a crash.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { BrokerConnection } from '../../src/client/connection.js';
import { KafkaClient } from '../../src/client/client.js';
import { Producer } from '../../src/client/producer.js';
import { Engine } from '../../src/engine/engine.js';
import { ApiKey } from '../../src/protocol/index.js';
import { INLINE_TRANSMIT_BYTES_MAX, descriptorBudget } from '../../src/limits.js';
import { runFixture, type Child } from '../fixtures/child.js';
import { fetchBody } from '../fixtures/probes.js';

/** Low enough to exhaust in a test, high enough for the test's own clients: 96 connections, 192 segments. */
const DESCRIPTOR_LIMIT = 1024;

interface ControlledBroker {
  child: Child;
  port: number;
  dataDir: string;
  metrics(): Promise<any>;
  stop(): Promise<void>;
}

async function startControlledBroker(config: Record<string, string> = {}): Promise<ControlledBroker> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-descriptors-'));
  const args = [dataDir, ...Object.entries(config).map(([k, v]) => `${k}=${v}`)];
  const child = runFixture('control-broker.ts', args, { stdin: true, descriptorLimit: DESCRIPTOR_LIMIT });
  const port = Number((await child.waitFor('listening')).split(' ')[1]);
  return {
    child,
    port,
    dataDir,
    metrics: async () => JSON.parse((await child.ask('metrics', 'metrics ')).slice('metrics '.length)),
    stop: async () => {
      if (child.process.exitCode === null) child.process.kill('SIGTERM');
      await child.exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function fetchOnce(connection: BrokerConnection, topic: string): Promise<any> {
  return connection.request(ApiKey.Fetch, fetchBody(topic, { minBytes: 0 }), 11);
}

async function produceRecords(port: number, topic: string, count: number, options: { partitions?: number; valueBytes?: number } = {}): Promise<void> {
  const { partitions = 1, valueBytes = 0 } = options;
  const client = await KafkaClient.connect({ brokers: [`127.0.0.1:${port}`] });
  await client.createTopics([{ name: topic, partitions }]);
  const producer = await Producer.create(client, { acks: 1, idempotent: false, lingerMs: 0 });
  const records = Array.from({ length: count }, (_, i) => ({ partition: i % partitions, value: `record-${i}`.padEnd(valueBytes, '.') }));
  await producer.send(topic, records);
  client.close();
}

describe('descriptors run out', () => {
  let broker: ControlledBroker;

  beforeAll(async () => {
    broker = await startControlledBroker();
    await produceRecords(broker.port, 'events', 100);
    // Two partitions of ~1.2 MB: a fetch of both (1 MiB each) is more than the event loop sends
    // itself (INLINE_TRANSMIT_BYTES_MAX), so the transfer thread, and its dup(2), take the rest.
    await produceRecords(broker.port, 'large', 2400, { partitions: 2, valueBytes: 1000 });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('a Fetch that cannot get a descriptor for sendfile fails its connection alone; the broker serves on', async () => {
    const victim = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port });
    const bystander = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port });
    const hogged = Number((await broker.child.ask('hog', 'hogged ')).split(' ')[1]);
    expect(hogged).toBeGreaterThan(0);

    // dup(2) of the socket and the segment fails with EMFILE: the victim's connection is closed.
    expect(INLINE_TRANSMIT_BYTES_MAX).toBeLessThan(2 << 20);
    await expect(victim.request(ApiKey.Fetch, fetchBody('large', { minBytes: 0, partitions: [0, 1] }), 11)).rejects.toThrow();
    // Its closing gave a descriptor back: take it too. A connection attempt now fails at
    // accept(2); libuv sheds it (accepting into a reserved descriptor and closing), the broker goes on.
    await broker.child.ask('hog', 'hogged ');
    const refused = net.connect(broker.port, '127.0.0.1');
    refused.on('error', () => {});
    await new Promise((resolve) => refused.on('close', resolve));

    await broker.child.ask('free', 'freed');
    // Nothing ended the process: the open bystander and a new client are served, by sendfile.
    const answer = await fetchOnce(bystander, 'events');
    expect(answer.responses[0].partitions[0].errorCode).toBe(0);
    expect(answer.responses[0].partitions[0].records.length).toBeGreaterThan(0);
    const fresh = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port });
    expect((await fetchOnce(fresh, 'events')).responses[0].partitions[0].records.length).toBeGreaterThan(0);
    bystander.close();
    fresh.close();

    const metrics = await broker.metrics();
    expect(metrics.transferFailures.EMFILE).toBeGreaterThanOrEqual(1);
    expect(broker.child.process.exitCode).toBeNull();
  });

  it('a flood of idle connections is refused past its descriptor share, and open connections still fetch by sendfile', async () => {
    const { connectionsMax } = descriptorBudget(DESCRIPTOR_LIMIT);
    const reader = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port });
    const flood: net.Socket[] = [];
    const closedByBroker: Array<Promise<unknown>> = [];
    // In bursts no larger than the listen backlog (socket.listen.backlog.size, 50): past it the
    // kernel drops handshakes that a client which never sends cannot notice.
    for (let burst = 0; flood.length < connectionsMax + 50; burst++) {
      const sockets = Array.from({ length: Math.min(25, connectionsMax + 50 - flood.length) }, () => {
        const socket = net.connect(broker.port, '127.0.0.1');
        socket.on('error', () => {});
        closedByBroker.push(new Promise((resolve) => socket.on('close', resolve)));
        return socket;
      });
      flood.push(...sockets);
      await Promise.all(sockets.map((socket) => once(socket, 'connect').catch(() => undefined)));
    }
    // Wait until the broker has taken its fill and refused the rest.
    let metrics = await broker.metrics();
    while (metrics.connectionsRefused < 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      metrics = await broker.metrics();
    }
    expect(metrics.connections).toBeLessThanOrEqual(connectionsMax);
    const zeroCopyBefore = metrics.bytesSentZeroCopy;
    const answer = await fetchOnce(reader, 'events');
    expect(answer.responses[0].partitions[0].records.length).toBeGreaterThan(0);
    expect((await broker.metrics()).bytesSentZeroCopy).toBeGreaterThan(zeroCopyBefore);
    for (const socket of flood) socket.destroy();
    await Promise.all(closedByBroker);
    reader.close();
  });
});

describe('the partition budget', () => {
  let broker: ControlledBroker;
  let kafka: Kafka;

  beforeAll(async () => {
    broker = await startControlledBroker();
    kafka = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('refuses a CreateTopics past the descriptor budget with POLICY_VIOLATION, before creating anything', async () => {
    const { segmentsMax } = (await broker.metrics()).descriptors;
    expect(segmentsMax).toBe(descriptorBudget(DESCRIPTOR_LIMIT).segmentsMax);
    const admin = kafka.admin();
    await admin.connect();
    try {
      // The bit-flipped request from the outside check asked for 8,193 partitions.
      await expect(admin.createTopics({ topics: [{ topic: 'huge', numPartitions: 8193 }] })).rejects.toMatchObject({
        errors: [expect.objectContaining({ type: 'POLICY_VIOLATION' })],
      });
      await admin.createTopics({ topics: [{ topic: 'fits', numPartitions: 100 }] });
      await expect(admin.createTopics({ topics: [{ topic: 'overflows', numPartitions: segmentsMax }] })).rejects.toMatchObject({
        errors: [expect.objectContaining({ type: 'POLICY_VIOLATION' })],
      });
      await expect(admin.createPartitions({ topicPartitions: [{ topic: 'fits', count: segmentsMax + 1 }] })).rejects.toMatchObject({ type: 'POLICY_VIOLATION' });
      expect((await admin.listTopics()).sort()).toEqual(['fits']);
      const metadata = await admin.fetchTopicMetadata({ topics: ['fits'] });
      expect(metadata.topics[0]!.partitions).toHaveLength(100);
      const directories = fs.readdirSync(broker.dataDir).filter((name) => /-\d+$/.test(name));
      expect(directories.filter((name) => !name.startsWith('fits-'))).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });
});

describe('a topic is created whole or not at all', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-whole-topic-'));
  });

  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(dataDir);
  });

  afterAll(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('removes the partitions it made when creation fails half-way, and a retry succeeds', async () => {
    const engine = await Engine.open({ dataDir });
    // A file where partition 5's directory must go makes the sixth Log.open fail.
    fs.writeFileSync(path.join(dataDir, 'half-5'), 'in the way');
    await expect(engine.createTopic('half', { partitions: 8 })).rejects.toThrow();
    expect(engine.listTopics()).not.toContain('half');
    // No log directory is left; those made were renamed to *-delete, removed in the background.
    expect(fs.readdirSync(dataDir).filter((name) => /^half-\d+$/.test(name) && name !== 'half-5')).toEqual([]);
    fs.rmSync(path.join(dataDir, 'half-5'));
    await engine.createTopic('half', { partitions: 8 });
    expect(engine.describeTopic('half').partitions).toHaveLength(8);
    await engine.close();
    expect(fs.readdirSync(dataDir).filter((name) => name.endsWith('-delete'))).toEqual([]);
  });

  it('a crash before the metadata commit leaves no topic; one during CreatePartitions leaves the old count', async () => {
    let engine = await Engine.open({ dataDir });
    await engine.createTopic('grown', { partitions: 2 });
    await engine.close();
    // What the crash left: directories of a topic never committed, and of partitions past a count.
    for (const name of ['ghost-0', 'ghost-1', 'grown-2', 'grown-3']) fs.mkdirSync(path.join(dataDir, name));
    engine = await Engine.open({ dataDir });
    expect(engine.listTopics()).toEqual(['grown']);
    expect(engine.describeTopic('grown').partitions).toHaveLength(2);
    expect(fs.readdirSync(dataDir).filter((name) => /-\d+$/.test(name)).sort()).toEqual(['grown-0', 'grown-1']);
    await engine.createPartitions('grown', 4);
    expect(engine.describeTopic('grown').partitions).toHaveLength(4);
    await engine.close();
  });
});
