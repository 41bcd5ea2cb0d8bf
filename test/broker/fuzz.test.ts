// The broker's fuzz test (issue 7): the request frames real clients send — kafkajs, @platformatic/kafka
// and kcat, recorded through a proxy, CreateTopics and CreatePartitions among them — mutated by a
// seeded generator and sent to a broker process, FUZZ_FRAMES of them (100,000 by default). The
// broker must survive every one (the process never exits), keep its RSS bounded, and still serve
// a real client at the end. The data directory is a small tmpfs of the test's own: mutated
// CreateTopics frames create topics. A failure prints the seed; FUZZ_SEED=<seed> replays the same
// frames (their interleaving over the connections depends on timing).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { Producer } from '../../src/client/producer.js';
import { runFixture, type Child } from '../fixtures/child.js';
import { mutator, recordRealClients, worker } from '../fixtures/fuzz.js';
import { kcat } from '../fixtures/kcat.js';
import { mountTmpfs, tmpfsRefused, type Tmpfs } from '../fixtures/tmpfs.js';
import { prng } from '../fixtures/random.js';
import { rssBytes } from '../fixtures/probes.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 0x5eed_b10c);
const FRAMES = Number(process.env['FUZZ_FRAMES'] ?? 100_000);
/** Connections sending at once: a frame that gets no answer (acks=0, a long poll) holds only its own. */
const WORKERS = 16;
/** Bounds the broker's descriptors (and so its partitions) the way an operator's ulimit would. */
const DESCRIPTOR_LIMIT = 4096;
/** The broker process's RSS may not pass this (it starts near 100 MiB). */
const RSS_BYTES_MAX = 768 * 1024 * 1024;

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
    // Still a broker: a real client deletes the topics the mutated CreateTopics frames made (with
    // many frames they fill the descriptor budget, and a create is refused POLICY_VIOLATION, as the
    // broker should), then creates a topic, produces and reads back.
    const client = await KafkaClient.connect({ brokers: [`127.0.0.1:${port}`] });
    const created = (await client.metadata()).topics.map((topic) => topic.name).filter((name) => !name.startsWith('__'));
    if (created.length > 0) await client.deleteTopics(created);
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
