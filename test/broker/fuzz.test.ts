// The broker's fuzz test (issue 7): the request frames real clients send — kafkajs, @platformatic/kafka
// and kcat, recorded through a proxy, CreateTopics and CreatePartitions among them — mutated by a
// seeded generator and sent to a broker process, FUZZ_FRAMES of them (100,000 by default). The
// broker must survive every one (the process never exits), keep its RSS bounded, and still serve
// a real client at the end. The data directory is a small tmpfs of the test's own: mutated
// CreateTopics frames create topics. A failure prints the seed; FUZZ_SEED=<seed> replays the same
// frames (their interleaving over the connections depends on timing).
import net from 'node:net';
import { Admin, Producer as PlatformaticProducer, stringSerializers } from '@platformatic/kafka';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { Producer } from '../../src/client/producer.js';
import { runFixture, type Child } from '../fixtures/child.js';
import { kcat } from '../fixtures/kcat.js';
import { startRecordingProxy } from '../fixtures/recording-proxy.js';
import { mountTmpfs, tmpfsRefused, type Tmpfs } from '../fixtures/tmpfs.js';
import { prng } from '../fixtures/random.js';
import { rssBytes } from '../fixtures/probes.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 0x5eed_b10c);
const FRAMES = Number(process.env['FUZZ_FRAMES'] ?? 100_000);
/** Connections sending at once: a frame that gets no answer (acks=0, a long poll) holds only its own. */
const WORKERS = 16;
/** A frame not answered within this is abandoned with its connection (a long poll, a cut frame). */
const ANSWER_WAIT_MS = 100;
/** Bounds the broker's descriptors (and so its partitions) the way an operator's ulimit would. */
const DESCRIPTOR_LIMIT = 4096;
/** The broker process's RSS may not pass this (it starts near 100 MiB). */
const RSS_BYTES_MAX = 768 * 1024 * 1024;



/** Frames of what real clients do, recorded through a proxy in front of a broker. */
async function recordRealClients(tmpfs: Tmpfs): Promise<Buffer[]> {
  const proxy = await startRecordingProxy();
  const dir = `${tmpfs.dir}/recording`;
  const child = runFixture('broker-process.ts', [dir, `advertised.listeners=PLAINTEXT://127.0.0.1:${proxy.port}`, 'group.initial.rebalance.delay.ms=0']);
  try {
    proxy.forwardTo(Number((await child.waitFor('listening')).split(' ')[1]));
    const address = `127.0.0.1:${proxy.port}`;

    const kafka = new Kafka({ brokers: [address], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'fz-a', numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '3600000' }] }, { topic: 'fz-b' }] });
    await admin.createPartitions({ topicPartitions: [{ topic: 'fz-b', count: 4 }] });
    await admin.fetchTopicMetadata({ topics: ['fz-a'] });
    await admin.describeConfigs({ resources: [{ type: 2, name: 'fz-a' }], includeSynonyms: false });
    await admin.alterConfigs({ resources: [{ type: 2, name: 'fz-a', configEntries: [{ name: 'segment.ms', value: '600000' }] }], validateOnly: false });
    await admin.fetchTopicOffsetsByTimestamp('fz-a', Date.now() - 1000);
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic: 'fz-a', messages: [{ key: 'k', value: 'v', headers: { h: 'x' } }, { value: 'w' }] });
    await producer.send({ topic: 'fz-b', compression: CompressionTypes.GZIP, messages: Array.from({ length: 20 }, (_, i) => ({ value: `gz-${i}` })) });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'fz-group', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'fz-a', fromBeginning: true });
    let seen = 0;
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async () => {
          if (++seen >= 2) resolve();
        },
      });
    });
    await consumer.stop();
    await consumer.disconnect();
    await admin.deleteTopics({ topics: ['fz-b'] });
    await admin.disconnect();

    const platformaticAdmin = new Admin({ clientId: 'fz-platformatic', bootstrapBrokers: [address] });
    await platformaticAdmin.createTopics({ topics: ['fz-c'], partitions: 2, replicas: 1 });
    await platformaticAdmin.createPartitions({ topics: [{ name: 'fz-c', count: 3 }] });
    await platformaticAdmin.close();
    const platformaticProducer = new PlatformaticProducer({ clientId: 'fz-platformatic', bootstrapBrokers: [address], serializers: stringSerializers });
    await platformaticProducer.send({ messages: [{ topic: 'fz-c', key: 'k', value: 'v' }] });
    await platformaticProducer.close();

    await kcat(['-b', address, '-P', '-t', 'fz-a', '-K:'], 'a:1\nb:2\n');
    await kcat(['-b', address, '-C', '-t', 'fz-a', '-o', 'beginning', '-e', '-q']);
    await kcat(['-b', address, '-L']);
    return proxy.frames;
  } finally {
    child.process.kill('SIGKILL');
    await child.exited;
    await proxy.close();
  }
}

/** One mutation of a recorded frame (size prefix included); most keep the prefix honest. */
function mutator(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  return (source: Buffer): Buffer => {
    let body = Buffer.from(source.subarray(4));
    switch (int(7)) {
      case 0: // flip a few bytes
      case 1:
        for (let i = 0, n = 1 + int(4); i < n; i++) body[int(body.length)] = int(256);
        break;
      case 2: // cut short
        body = body.subarray(0, int(body.length));
        break;
      case 3: // a length, count or partition number set to something huge or negative
        if (body.length >= 12) body.writeInt32BE([0x7fffffff, -1, -2 - int(100), 8193, 65536][int(5)]!, 8 + int(body.length - 11));
        break;
      case 4: // garbage behind the header
        body = Buffer.concat([body.subarray(0, 10), Buffer.from(Array.from({ length: int(64) }, () => int(256)))]);
        break;
      case 5: // varints that never end, -1 lengths everywhere
        body = Buffer.concat([body.subarray(0, 8), Buffer.alloc(int(40), 0xff)]);
        break;
      default: // a valid frame, unchanged: the broker must still act on it
        break;
    }
    const frame = Buffer.alloc(4 + body.length);
    body.copy(frame, 4);
    // One in twenty keeps the source's size prefix: the broker waits for bytes that never come.
    frame.writeInt32BE(int(20) === 0 ? source.readInt32BE(0) : body.length);
    return frame;
  };
}

/** Sends frames one at a time on a connection, each answered, refused (closed) or abandoned. */
async function worker(port: number, next: () => Buffer | undefined, counts: { answered: number; closed: number; abandoned: number }): Promise<void> {
  let frame = next();
  while (frame !== undefined) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    let received = 0;
    let answers = 0;
    socket.on('data', (chunk) => {
      received += chunk.length;
      // Responses are whole frames; counting their bytes is enough to tell one arrived.
      answers++;
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await Promise.race([new Promise((resolve) => socket.on('connect', resolve)), closed]);
    while (frame !== undefined && !socket.destroyed) {
      const answersBefore = answers;
      socket.write(frame);
      const outcome = await Promise.race([
        closed.then(() => 'closed' as const),
        new Promise<'answered' | 'abandoned'>((resolve) => {
          const started = Date.now();
          const poll = setInterval(() => {
            if (answers > answersBefore) {
              clearInterval(poll);
              resolve('answered');
            } else if (Date.now() - started >= ANSWER_WAIT_MS || socket.destroyed) {
              clearInterval(poll);
              resolve('abandoned');
            }
          }, 2);
        }),
      ]);
      counts[outcome]++;
      frame = next();
      if (outcome !== 'answered') break;
    }
    socket.destroy();
    await closed;
    void received;
  }
}

describe.skipIf(tmpfsRefused !== undefined)(`the broker under ${FRAMES} mutated frames of real clients (seed ${SEED})`, () => {
  let tmpfs: Tmpfs;
  let recorded: Buffer[];
  let broker: Child;
  let port: number;

  beforeAll(async () => {
    tmpfs = mountTmpfs(512 << 20);
    recorded = await recordRealClients(tmpfs);
    broker = runFixture('control-broker.ts', [`${tmpfs.dir}/fuzz`, 'log.level=error'], { descriptorLimit: DESCRIPTOR_LIMIT, stdin: true });
    port = Number((await broker.waitFor('listening')).split(' ')[1]);
  }, 120_000);

  afterAll(async () => {
    if (broker && broker.process.exitCode === null) {
      broker.process.kill('SIGTERM');
      await broker.exited;
    }
    tmpfs?.unmount();
  });

  it('recorded what real clients send, CreateTopics and CreatePartitions among it', () => {
    const apiKeys = new Set(recorded.map((frame) => frame.readInt16BE(4)));
    for (const apiKey of [0, 1, 3, 11, 14, 18, 19, 20, 32, 33, 37]) expect(apiKeys).toContain(apiKey);
  });

  it('survives every frame, with RSS bounded, and serves a client after', async () => {
    const random = prng(SEED);
    const mutate = mutator(random);
    let sent = 0;
    const next = () => (sent < FRAMES ? (sent++, mutate(recorded[Math.floor(random() * recorded.length)]!)) : undefined);
    const counts = { answered: 0, closed: 0, abandoned: 0 };
    const pid = broker.process.pid!;
    let rssMax = 0;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssBytes(pid))), 250);
    const died = broker.exited.then((code) => {
      throw new Error(`the broker exited with ${code} after ${sent} frames (seed ${SEED})`);
    });
    try {
      await Promise.race([Promise.all(Array.from({ length: WORKERS }, () => worker(port, next, counts))), died]);
    } finally {
      clearInterval(sampler);
    }
    const metrics = JSON.parse((await broker.ask('metrics', 'metrics ')).slice('metrics '.length));
    // Every connection the workers closed is closed on the broker's side too (none leaks, refusing clients later).
    expect(metrics.connections).toBeLessThanOrEqual(WORKERS);
    expect(sent).toBe(FRAMES);
    expect(broker.process.exitCode).toBeNull();
    expect(counts.answered).toBeGreaterThan(FRAMES / 10);
    expect(counts.closed).toBeGreaterThan(FRAMES / 10);
    expect(rssMax).toBeLessThan(RSS_BYTES_MAX);
    // Still a broker: a real client creates a topic, produces and reads back.
    const client = await KafkaClient.connect({ brokers: [`127.0.0.1:${port}`] });
    await client.createTopics([{ name: 'after-the-fuzz', partitions: 1 }]);
    const producer = await Producer.create(client, { acks: -1, idempotent: false, lingerMs: 0 });
    const [ack] = await producer.send('after-the-fuzz', [{ value: 'still standing' }]);
    client.close();
    expect(ack!.offset).toBe(0);
    const { stdout } = await kcat(['-b', `127.0.0.1:${port}`, '-C', '-t', 'after-the-fuzz', '-o', 'beginning', '-e', '-q']);
    expect(stdout.trim()).toBe('still standing');
    console.log(
      `fuzz seed ${SEED}: ${FRAMES} frames, ${counts.answered} answered, ${counts.closed} closed by the broker, ${counts.abandoned} abandoned; ` +
        `RSS max ${(rssMax / 1048576).toFixed(0)} MiB; ${metrics.connectionsOpened} connections opened, ${metrics.connectionsRefused} refused`,
    );
  }, 900_000);
});
