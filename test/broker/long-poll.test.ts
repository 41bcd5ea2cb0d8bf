// A long-poll Fetch leaves nothing behind once it is woken or times out (issue 7, item 5): every
// wait used to attach a reaction to the broker-lifetime `stopping` promise, and 100,000 waits kept
// about 98 MiB. A million waits here, woken by appends, by timeouts and by aborts, and the heap is
// back at its baseline; through the broker, a closed connection ends its long poll at once.
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AppendWaiters } from '../../src/broker/append-waiters.js';
import { startBroker, type Broker } from '../../src/index.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/index.js';
import { fetchBody } from '../fixtures/probes.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapUsedAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const partitions = [{ topic: 'events', partition: 0 }, { topic: 'events', partition: 1 }];

describe('AppendWaiters', () => {
  it('a million waits, woken by appends, timeouts and aborts, leave the heap at its baseline', async () => {
    const waiters = new AppendWaiters();
    const ROUND = 10_000;
    const rounds = async (count: number) => {
      for (let round = 0; round < count; round++) {
        // One signal a wait, as each request has its own (its connection's).
        const aborts = Array.from({ length: ROUND }, () => new AbortController());
        const waits = aborts.map((abort) => waiters.waitForAppend(partitions, round % 4 === 2 ? 1 : 60_000, abort.signal));
        if (round % 4 === 0 || round % 4 === 1) waiters.notify('events', round % 2);
        else if (round % 4 === 3) for (const abort of aborts) abort.abort();
        await Promise.all(waits); // round % 4 === 2: their 1 ms timeouts
      }
    };
    // Warm up what the rounds allocate for good (compiled code, the timer lists, the map's table).
    await rounds(8);
    const baseline = heapUsedAfterGc();
    await rounds(100);
    expect(waiters.waitedPartitions).toBe(0);
    const after = heapUsedAfterGc();
    // The old waiter kept ~1 KiB per wait: a million would be ~1 GB. Now nothing stays.
    expect(after - baseline).toBeLessThan(4 * 1024 * 1024);
  }, 120_000);

  it('close() wakes every waiter and later waits return at once', async () => {
    const waiters = new AppendWaiters();
    const waits = Array.from({ length: 100 }, () => waiters.waitForAppend(partitions, 60_000));
    waiters.close();
    await Promise.all(waits);
    await waiters.waitForAppend(partitions, 60_000);
    expect(waiters.waitedPartitions).toBe(0);
  });
});

describe('long polls through the broker', () => {
  let broker: Broker;

  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
    await broker.engine.createTopic('events', { partitions: 2 });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  function longPoll(connection: BrokerConnection, maxWaitMs: number): Promise<any> {
    return connection.request(ApiKey.Fetch, fetchBody('events', { partitions: [0, 1], maxWaitMs }), 11);
  }

  it('timed-out polls, woken polls and polls of closed connections leave no waiter behind', async () => {
    const connections = await Promise.all(Array.from({ length: 20 }, () => BrokerConnection.connect({ host: '127.0.0.1', port: broker.port })));
    for (let round = 0; round < 5; round++) await Promise.all(connections.map((connection) => longPoll(connection, 5)));
    expect(broker.appendWaitersPartitions).toBe(0);

    const polls = connections.map((connection) => longPoll(connection, 60_000).catch((error: Error) => error));
    while (broker.appendWaitersPartitions < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    // Half the clients go away mid-poll: their waits end with their connections, not in 60 s.
    for (const connection of connections.slice(10)) connection.close();
    while (broker.connectionCount > 10) await new Promise((resolve) => setTimeout(resolve, 10));
    await broker.engine.produce('events', [{ value: 'wake' }], { partition: 1 });
    const answers = await Promise.all(polls.slice(0, 10));
    for (const answer of answers) expect(answer.responses[0].partitions[1].records.length).toBeGreaterThan(0);
    expect(broker.appendWaitersPartitions).toBe(0);
    for (const connection of connections.slice(0, 10)) connection.close();
  });
});
