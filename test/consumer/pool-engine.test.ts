// PoolConsumer over an embedded Engine: no broker, every partition, offsets in the data directory.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';

import { offsetsFilePath } from '../../src/consumer/engine-source.js';
import { PoolConsumer } from '../../src/consumer/index.js';
import { Engine } from '../../src/engine/engine.js';
import { encodeBatch } from '../../src/record/batch.js';
import { encodeMarkerBatch } from '../../src/record/control-record.js';
import { tempDir } from '../helpers.js';
import { Collector, HANDLER, range, sleep, waitFor } from './helpers.js';

const collectors: Collector[] = [];
const engines: Engine[] = [];

afterEach(async () => {
  for (const collector of collectors.splice(0)) collector.close();
  for (const engine of engines.splice(0)) await engine.close();
});

async function open(dataDir: string): Promise<Engine> {
  const engine = await Engine.open({ dataDir });
  engines.push(engine);
  return engine;
}

function consumer(engine: Engine, channel: string, groupId = 'embedded'): PoolConsumer {
  return new PoolConsumer({ engine, groupId, topics: ['events'], handler: HANDLER, concurrency: 2, autoOffsetReset: 'earliest', partitionMaxBytes: 4096, workerData: { channel } });
}

describe('PoolConsumer on an embedded engine', () => {
  it('reads every partition, follows appends, and resumes from its commits after reopening', async () => {
    const dataDir = tempDir();
    let engine = await open(dataDir);
    await engine.createTopic('events', { partitions: 3 });
    for (let i = 0; i < 30; i++) await engine.produce('events', range(0, 20).map((j) => ({ value: `first-${i}-${j}` })), { partition: i % 3 });
    const first = new Collector('engine-first');
    collectors.push(first);
    let pool = consumer(engine, 'engine-first');
    await pool.start();
    expect(pool.assignment).toEqual([0, 1, 2].map((partition) => ({ topic: 'events', partition })));
    await waitFor(() => first.records >= 600, 'the records already there');
    // Appended while it runs: picked up without polling.
    await engine.produce('events', [{ value: 'live' }], { partition: 1 });
    await waitFor(() => first.values().includes('live'), 'the appended record');
    for (const partition of [0, 2]) expect(first.offsetsOf(partition)).toEqual(range(0, 200));
    expect(first.offsetsOf(1)).toEqual(range(0, 201));
    await pool.stop();
    expect(fs.readFileSync(offsetsFilePath(engine, 'embedded'), 'utf8').split('\n').slice(2).sort()).toEqual(['', 'events 0 200', 'events 1 201', 'events 2 200']);

    await engine.close();
    engines.splice(engines.indexOf(engine), 1);
    engine = await open(dataDir);
    await engine.produce('events', [{ value: 'after-reopen' }], { partition: 2 });
    const second = new Collector('engine-second');
    collectors.push(second);
    pool = consumer(engine, 'engine-second');
    await pool.start();
    await waitFor(() => second.records >= 1, 'the record after the reopen');
    await sleep(200);
    expect(second.values()).toEqual(['after-reopen']);
    expect(second.offsetsOf(2)).toEqual([200]);
    await pool.stop();
  });

  it('takes a partition added to its topic at the first append, and reads it from its start', async () => {
    const engine = await open(tempDir());
    await engine.createTopic('events', { partitions: 1 });
    const seen = new Collector('engine-added');
    collectors.push(seen);
    // 'latest': a partition that appears later still loses nothing, as all of it came after the start.
    const pool = new PoolConsumer({ engine, groupId: 'growing', topics: ['events'], handler: HANDLER, concurrency: 2, autoOffsetReset: 'latest', workerData: { channel: 'engine-added' } });
    await pool.start();
    await engine.createPartitions('events', 2);
    await engine.produce('events', [{ value: 'p1-a' }, { value: 'p1-b' }], { partition: 1 });
    await waitFor(() => seen.records >= 2, 'the records of the added partition');
    expect(pool.assignment).toEqual([0, 1].map((partition) => ({ topic: 'events', partition })));
    expect(seen.offsetsOf(1)).toEqual([0, 1]);
    await engine.produce('events', [{ value: 'p0' }], { partition: 0 });
    await waitFor(() => seen.records >= 3, 'a record of the first partition');
    // Appends while it stops take nothing back.
    const stopped = pool.stop();
    for (let i = 0; i < 20; i++) await engine.produce('events', [{ value: `late-${i}` }], { partition: i % 2 });
    await stopped;
    expect(pool.assignment).toEqual([]);
  });

  it('allows one consumer per group and engine, and refuses unknown topics', async () => {
    const engine = await open(tempDir());
    await engine.createTopic('events', { partitions: 1 });
    const a = consumer(engine, 'engine-claim');
    await a.start();
    await expect(consumer(engine, 'engine-claim').start()).rejects.toThrow(/already has a pool consumer/);
    await a.stop();
    const b = new PoolConsumer({ engine, groupId: 'g', topics: ['missing'], handler: HANDLER, concurrency: 1 });
    await expect(b.start()).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });

  it('fails start() when the handler module cannot be loaded', async () => {
    const engine = await open(tempDir());
    await engine.createTopic('events', { partitions: 1 });
    const pool = new PoolConsumer({ engine, groupId: 'g', topics: ['events'], handler: new URL('./no-such-handler.js', import.meta.url), concurrency: 1 });
    await expect(pool.start()).rejects.toThrow(/no-such-handler/);
  });
});

describe('PoolConsumer on an embedded engine, read_committed', () => {
  it('hands the handler committed records only, waits at an open transaction, and goes on at its marker', async () => {
    const engine = await open(tempDir());
    await engine.createTopic('events', { partitions: 1 });
    const transactional = (producerId: number, baseSequence: number, values: string[]) =>
      encodeBatch(values.map((value) => ({ value })), { producerId, producerEpoch: 0, baseSequence, transactional: true });
    const marker = (producerId: number, commit: boolean) => encodeMarkerBatch({ producerId, producerEpoch: 0, commit, coordinatorEpoch: 0, timestamp: Date.now() });
    await engine.produce('events', [{ value: 'plain' }], { partition: 0 });
    await engine.appendBatches('events', 0, transactional(1, 0, ['committed-1']));
    await engine.appendBatches('events', 0, transactional(2, 0, ['aborted']));
    await engine.appendBatches('events', 0, marker(1, true), { origin: 'coordinator' });
    await engine.appendBatches('events', 0, marker(2, false), { origin: 'coordinator' });
    await engine.appendBatches('events', 0, transactional(3, 0, ['open']));
    await engine.produce('events', [{ value: 'after-open' }], { partition: 0 });

    const committed = new Collector('engine-read-committed');
    collectors.push(committed);
    const pool = new PoolConsumer({
      engine,
      groupId: 'committed',
      topics: ['events'],
      handler: HANDLER,
      concurrency: 1,
      autoOffsetReset: 'earliest',
      isolationLevel: 'read_committed',
      workerData: { channel: 'engine-read-committed' },
    });
    await pool.start();
    await waitFor(() => committed.records >= 2, 'the committed records');
    await sleep(200);
    // Producer 3's open transaction holds the consumer before 'open' and 'after-open'.
    expect(committed.values()).toEqual(['plain', 'committed-1']);
    await engine.appendBatches('events', 0, marker(3, true), { origin: 'coordinator' });
    await waitFor(() => committed.records >= 4, 'the records after the commit');
    expect(committed.values()).toEqual(['plain', 'committed-1', 'open', 'after-open']);
    await pool.stop();
    expect(() => new PoolConsumer({ engine, groupId: 'g', topics: ['events'], handler: HANDLER, isolationLevel: 'committed' as never })).toThrow(/isolationLevel/);
    // A broker-mode option with an engine would do nothing: refused, not ignored.
    expect(() => new PoolConsumer({ engine, groupId: 'g', topics: ['events'], handler: HANDLER, clientRack: 'a', sessionTimeoutMs: 10_000, receiveBufferBytes: 65_536 })).toThrow(
      'clientRack, sessionTimeoutMs, receiveBufferBytes apply only with brokers, not with engine',
    );
  });
});
