// PoolConsumer against a real broker, with real piscina workers running test/fixtures/pool-handler.ts.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { afterEach, describe, expect, it } from 'vitest';

import type { Broker } from '../../src/broker/broker.js';
import { HandlerError, PoolConsumer, type PoolBatch, type PoolConsumerOptions } from '../../src/consumer/index.js';
import { Collector, HANDLER, committed, produce, range, sleep, startGroupBroker, waitFor } from './helpers.js';

let broker: Broker | undefined;
const consumers: PoolConsumer[] = [];
const collectors: Collector[] = [];

afterEach(async () => {
  for (const consumer of consumers.splice(0)) await consumer.stop().catch(() => {});
  for (const collector of collectors.splice(0)) collector.close();
  await broker?.stop();
  broker = undefined;
});

function collector(name: string): Collector {
  const created = new Collector(name);
  collectors.push(created);
  return created;
}

function consumer(options: Partial<PoolConsumerOptions> & Pick<PoolConsumerOptions, 'groupId' | 'topics'>): PoolConsumer {
  const created = new PoolConsumer({
    brokers: [`localhost:${broker!.port}`],
    handler: HANDLER,
    concurrency: 2,
    autoOffsetReset: 'earliest',
    heartbeatIntervalMs: 100,
    sessionTimeoutMs: 6000,
    autoCommitIntervalMs: 200,
    maxWaitMs: 100,
    ...options,
  });
  consumers.push(created);
  return created;
}

describe('PoolConsumer on a broker', () => {
  it('keeps each partition in order under concurrency 4 and handles every record once', async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('orders', { partitions: 8 });
    await produce(broker, 'orders', 4000, { partitions: 8, perBatch: 50 });
    const seen = collector('order-test');
    const shared = new SharedArrayBuffer(4 * 64);
    const pool = consumer({
      groupId: 'order-group',
      topics: ['orders'],
      concurrency: 4,
      // Small reads: many handler batches per partition, so that order is really at stake.
      partitionMaxBytes: 2048,
      workerData: { channel: 'order-test', shared, sleepMaxMs: 5 },
    });
    await pool.start();
    await waitFor(() => seen.records >= 4000, 'every record');
    await sleep(300); // anything handled twice would show up now

    const counters = new Int32Array(shared);
    expect(counters[1]).toBe(0); // never two batches of one partition in workers at once
    expect(counters[4]).toBeGreaterThan(1); // partitions did run in parallel
    for (let partition = 0; partition < 8; partition++) expect(seen.offsetsOf(partition)).toEqual(range(0, 500));
    expect(pool.metrics.recordsProcessed).toBe(4000);
    expect(pool.metrics.batchesProcessed).toBeGreaterThan(8 * 4);

    await pool.stop();
    expect(committed(broker, 'order-group', 'orders', 8)).toEqual(Array(8).fill(500));
    expect(broker.groups.describeGroup('order-group').groupState).toBe('Empty');
  });

  it('retries a failing batch with backoff, then hands it to onError and goes on', async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('jobs', { partitions: 1 });
    await broker.engine.produce('jobs', [{ value: 'one' }, { value: 'poison' }, { value: 'two' }], { partition: 0 });
    const seen = collector('retry-test');
    const shared = new SharedArrayBuffer(4 * 64);
    const failures: Array<{ error: HandlerError; batch: PoolBatch }> = [];
    const pool = consumer({
      groupId: 'retry-group',
      topics: ['jobs'],
      retries: 3,
      retryBackoffMs: 10,
      workerData: { channel: 'retry-test', shared, poison: 'poison' },
      onError: (error, batch) => void failures.push({ error, batch }),
    });
    await pool.start();
    await waitFor(() => failures.length === 1, 'onError');
    expect(new Int32Array(shared)[2]).toBe(4); // the first attempt and 3 retries
    const [{ error, batch }] = failures as [{ error: HandlerError; batch: PoolBatch }];
    expect(error).toBeInstanceOf(HandlerError);
    expect(error).toMatchObject({ topic: 'jobs', partition: 0, startOffset: 0, nextOffset: 3, attempts: 4 });
    expect((error.cause as Error).message).toBe('poison in jobs-0');
    expect(batch.records.map((r) => r.value!.toString())).toEqual(['one', 'poison', 'two']);
    expect(pool.metrics).toMatchObject({ handlerFailures: 4, batchesFailed: 1 });

    // The batch counts as done: the partition goes on and its commit moves past it.
    await broker.engine.produce('jobs', [{ value: 'after' }], { partition: 0 });
    await waitFor(() => seen.values().includes('after'), 'the next record');
    await pool.stop();
    expect(committed(broker, 'retry-group', 'jobs', 1)).toEqual([4]);
  });

  it('without onError stops only the failing partition, emits error and does not commit past it', async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('mixed', { partitions: 2 });
    await broker.engine.produce('mixed', [{ value: 'a' }], { partition: 0 });
    await broker.engine.produce('mixed', [{ value: 'poison' }], { partition: 0 });
    const seen = collector('stop-test');
    const errors: Error[] = [];
    const pool = consumer({ groupId: 'stop-group', topics: ['mixed'], retries: 1, retryBackoffMs: 10, partitionMaxBytes: 1, workerData: { channel: 'stop-test', poison: 'poison' } });
    pool.on('error', (error) => errors.push(error));
    await pool.start();
    await waitFor(() => errors.length === 1, "the 'error' event");
    expect(errors[0]).toMatchObject({ name: 'HandlerError', topic: 'mixed', partition: 0, startOffset: 1, attempts: 2 });

    await broker.engine.produce('mixed', [{ value: 'p0-later' }], { partition: 0 });
    await broker.engine.produce('mixed', [{ value: 'p1' }], { partition: 1 });
    await waitFor(() => seen.values().includes('p1'), 'the other partition');
    await sleep(300);
    expect(seen.values()).not.toContain('p0-later');
    await pool.stop();
    expect(committed(broker, 'stop-group', 'mixed', 2)).toEqual([1, 1]);
  });

  it('shares partitions between two members of a group; the survivor takes over those of one that stops', async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('shared', { partitions: 6 });
    await produce(broker, 'shared', 600, { partitions: 6, prefix: 'first', perBatch: 20 });
    const seenA = collector('share-a');
    const seenB = collector('share-b');
    const a = consumer({ groupId: 'share-group', topics: ['shared'], partitionMaxBytes: 1024, workerData: { channel: 'share-a', sleepMaxMs: 2 } });
    const b = consumer({ groupId: 'share-group', topics: ['shared'], partitionMaxBytes: 1024, workerData: { channel: 'share-b', sleepMaxMs: 2 } });
    await a.start();
    await b.start();
    const partitionsOf = (c: PoolConsumer) => c.assignment.map((p) => p.partition).sort();
    await waitFor(() => a.assignment.length === 3 && b.assignment.length === 3, 'three partitions each');
    expect([...partitionsOf(a), ...partitionsOf(b)].sort()).toEqual(range(0, 6));
    await waitFor(() => seenA.records + seenB.records >= 600, 'the first records');

    // Every partition a member holds from here on: what it owns now and whatever a rebalance on a
    // busy machine might hand it later.
    const held = new Map([a, b].map((member) => [member, new Set(partitionsOf(member))]));
    for (const member of [a, b]) member.on('assigned', (partitions: Array<{ partition: number }>) => partitions.forEach((p) => held.get(member)!.add(p.partition)));
    await produce(broker, 'shared', 600, { partitions: 6, prefix: 'second', perBatch: 20 });
    const second = () => [...seenA.values(), ...seenB.values()].filter((v) => v.startsWith('second')).length;
    await waitFor(() => second() >= 600, 'the second records');
    // Each partition's second records went to a member that held it.
    for (const [member, seen] of [[a, seenA], [b, seenB]] as const) {
      for (const batch of seen.batches.filter((x) => x.values[0]!.startsWith('second'))) expect(held.get(member)!.has(batch.partition)).toBe(true);
    }

    await a.stop();
    await waitFor(() => b.assignment.length === 6, 'the survivor to own all six');
    await produce(broker, 'shared', 600, { partitions: 6, prefix: 'third', perBatch: 20 });
    await waitFor(() => seenB.values().filter((v) => v.startsWith('third')).length >= 600, 'the third records, all on the survivor');
    const all = [...seenA.values(), ...seenB.values()];
    expect(new Set(all).size).toBe(1800);
    await b.stop();
    expect(committed(broker, 'share-group', 'shared', 6)).toEqual(Array(6).fill(300));
  });

  it('reads partitions added to its topic once its leader has looked (metadataMaxAgeMs)', async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('growing', { partitions: 2 });
    await produce(broker, 'growing', 100, { partitions: 2 });
    const seen = collector('growing-test');
    const pool = consumer({ groupId: 'growing-group', topics: ['growing'], metadataMaxAgeMs: 100, workerData: { channel: 'growing-test' } });
    await pool.start();
    await waitFor(() => seen.records >= 100, 'the records of the first two partitions');
    await broker.engine.createPartitions('growing', 4);
    await waitFor(() => pool.assignment.length === 4, 'the added partitions to be assigned');
    await produce(broker, 'growing', 400, { partitions: 4, prefix: 'w' });
    await waitFor(() => seen.records >= 500, 'the records of every partition');
    expect(new Set(seen.values()).size).toBe(500);
  });

  it('also works with the eager protocol (range)', async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('eager', { partitions: 4 });
    await produce(broker, 'eager', 400, { partitions: 4 });
    const seen = collector('eager-test');
    const revoked: number[][] = [];
    const a = consumer({ groupId: 'eager-group', topics: ['eager'], assignors: ['range'], workerData: { channel: 'eager-test' } });
    a.on('revoked', (partitions) => revoked.push(partitions.map((p) => p.partition)));
    await a.start();
    await waitFor(() => seen.records >= 400, 'the records');
    const b = consumer({ groupId: 'eager-group', topics: ['eager'], assignors: ['range'], workerData: { channel: 'eager-test' } });
    await b.start();
    await waitFor(() => a.assignment.length === 2 && b.assignment.length === 2, 'two partitions each');
    expect(revoked[0]).toEqual([0, 1, 2, 3]); // eager: everything is given up before rejoining
    expect(a.groupMember!.protocolName).toBe('range');
    expect(a.groupMember!.rebalanceProtocol).toBe('eager');
    await produce(broker, 'eager', 400, { partitions: 4, prefix: 'w' });
    await waitFor(() => seen.records >= 800, 'the new records');
    expect(new Set(seen.values()).size).toBe(800);
  });

  it("sets its connections' SO_SNDBUF and SO_RCVBUF to sendBufferBytes and receiveBufferBytes (send.buffer.bytes, receive.buffer.bytes)", async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('buffers', { partitions: 1 });
    await produce(broker, 'buffers', 100, { partitions: 1 });
    const seen = collector('buffers-test');
    const pool = consumer({ groupId: 'buffers-group', topics: ['buffers'], sendBufferBytes: 90_000, receiveBufferBytes: 70_000, workerData: { channel: 'buffers-test' } });
    await pool.start();
    await waitFor(() => seen.records >= 100, 'the records');
    // ss(8) shows Linux's doubled figures; every connection to the broker is the consumer's, and
    // one that is just being opened may show before its buffers are set.
    let buffers: Array<{ receiveBytes: number; sendBytes: number }> = [];
    for (const deadline = Date.now() + 30_000; ; await sleep(20)) {
      const { stdout } = await promisify(execFile)('ss', ['-tmnH', 'state', 'established', `( dport = :${broker.port} )`]);
      buffers = [...stdout.matchAll(/skmem:\(r\d+,rb(\d+),t\d+,tb(\d+)/g)].map((match) => ({ receiveBytes: Number(match[1]), sendBytes: Number(match[2]) }));
      if ((buffers.length > 0 && buffers.every((seen) => seen.receiveBytes === 140_000 && seen.sendBytes === 180_000)) || Date.now() > deadline) break;
    }
    expect(buffers.length).toBeGreaterThan(0);
    expect(buffers).toEqual(buffers.map(() => ({ receiveBytes: 140_000, sendBytes: 180_000 })));
  });
});
