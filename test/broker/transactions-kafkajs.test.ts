// Transactions (KIP-98) end to end with kafkajs against a real broker: a transactional producer's
// commits are read by read_committed consumers and its aborts are not; offsets sent in a
// transaction (consume-transform-produce) count only when it commits; a second producer with the
// same transactional id fences the first; and a transaction open when the broker restarts is
// still there, and ends as its producer says.
import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { tempDir, waitUntil } from '../helpers.js';

let broker: Broker | undefined;
const consumers: Consumer[] = [];
const disconnects: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const consumer of consumers.splice(0)) await consumer.disconnect().catch(() => {});
  for (const disconnect of disconnects.splice(0)) await disconnect().catch(() => {});
  await broker?.stop();
  broker = undefined;
});

const BROKER_CONFIG = { 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 3, 'transaction.state.log.num.partitions': 3 };

function client(port: number): Kafka {
  return new Kafka({ clientId: 'txn', brokers: [`localhost:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 50 } });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Values a consumer of `topic` reads from the start, read_committed unless told otherwise. */
async function consume(kafka: Kafka, topic: string, groupId: string, readUncommitted = false): Promise<string[]> {
  const values: string[] = [];
  const consumer = kafka.consumer({ groupId, readUncommitted, maxWaitTimeInMs: 100 });
  consumers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }: { message: KafkaMessage }) => void values.push(message.value!.toString()) });
  return values;
}

describe('kafkajs transactions', () => {
  it('read_committed consumers read committed transactions and never aborted ones', async () => {
    broker = await startBroker({ port: 0, config: BROKER_CONFIG });
    const kafka = client(broker.port);
    const admin = kafka.admin();
    await admin.connect();
    disconnects.push(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'events', numPartitions: 2 }] });

    const producer = kafka.producer({ transactionalId: 'tx-1', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    disconnects.push(() => producer.disconnect());
    const send = async (values: string[], commit: boolean) => {
      const transaction = await producer.transaction();
      await transaction.send({ topic: 'events', messages: values.map((value, i) => ({ value, partition: i % 2 })) });
      if (commit) await transaction.commit();
      else await transaction.abort();
    };
    await send(['c1', 'c2', 'c3'], true);
    await send(['a1', 'a2'], false);
    await send(['c4', 'c5'], true);

    // The transaction still open holds read_committed readers at its first offset (the LSO).
    const open = await producer.transaction();
    await open.send({ topic: 'events', messages: [{ value: 'open', partition: 0 }] });

    const committed = await consume(kafka, 'events', 'committed');
    const everything = await consume(kafka, 'events', 'uncommitted', true);
    await waitUntil(() => committed.length >= 5 && everything.length >= 8, 'both consumers');
    await sleep(300);
    expect([...committed].sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
    expect([...everything].sort()).toEqual(['a1', 'a2', 'c1', 'c2', 'c3', 'c4', 'c5', 'open']);

    // read_committed latest offsets stop at the open transaction; it commits and they move on.
    const [p0Before] = (await admin.fetchTopicOffsets('events')).filter((p) => p.partition === 0);
    await open.commit();
    await waitUntil(() => committed.includes('open'), 'the committed open transaction');
    const [p0After] = (await admin.fetchTopicOffsets('events')).filter((p) => p.partition === 0);
    expect(Number(p0After!.offset)).toBeGreaterThan(Number(p0Before!.offset));
  });

  it('sendOffsets commits a consumer group\'s offsets with the transaction, and not when it aborts', async () => {
    const dataDir = tempDir();
    broker = await startBroker({ port: 0, dataDir, config: BROKER_CONFIG });
    const port = broker.port;
    const kafka = client(broker.port);
    const admin = kafka.admin();
    await admin.connect();
    disconnects.push(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'in', numPartitions: 1 }, { topic: 'out', numPartitions: 1 }] });

    const producer = kafka.producer({ transactionalId: 'tx-offsets', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    disconnects.push(() => producer.disconnect());
    const offsetOf = async () => (await admin.fetchOffsets({ groupId: 'etl', topics: ['in'] }))[0]!.partitions[0]!.offset;

    const aborted = await producer.transaction();
    await aborted.send({ topic: 'out', messages: [{ value: 'x' }] });
    await aborted.sendOffsets({ consumerGroupId: 'etl', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '5' }] }] });
    await aborted.abort();
    expect(await offsetOf()).toBe('-1');

    const committed = await producer.transaction();
    await committed.send({ topic: 'out', messages: [{ value: 'y' }] });
    await committed.sendOffsets({ consumerGroupId: 'etl', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '7' }] }] });
    expect(await offsetOf()).toBe('-1');
    await committed.commit();
    expect(await offsetOf()).toBe('7');

    // Read back from __consumer_offsets by a restarted broker: the committed offset, not the aborted one.
    await broker.stop();
    broker = await startBroker({ port, dataDir, config: BROKER_CONFIG });
    expect(await offsetOf()).toBe('7');
  });

  it('three producers committing and aborting at random, interleaved: read_committed reads exactly the committed records, in order', async () => {
    broker = await startBroker({ port: 0, config: BROKER_CONFIG });
    const kafka = client(broker.port);
    const admin = kafka.admin();
    await admin.connect();
    disconnects.push(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'mixed', numPartitions: 3 }] });

    // A seeded generator: the same interleaving of commits and aborts every run.
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const committed: string[] = [];
    const aborted: string[] = [];
    await Promise.all(
      [0, 1, 2].map(async (p) => {
        const producer = kafka.producer({ transactionalId: `mixed-${p}`, idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
        disconnects.push(() => producer.disconnect());
        for (let t = 0; t < 15; t++) {
          const transaction = await producer.transaction();
          const values = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, i) => `p${p}-t${t}-m${i}`);
          for (const value of values) await transaction.send({ topic: 'mixed', messages: [{ value, partition: Math.floor(random() * 3) }] });
          if (random() < 0.5) {
            await transaction.commit();
            committed.push(...values);
          } else {
            await transaction.abort();
            aborted.push(...values);
          }
        }
      }),
    );
    expect(committed.length).toBeGreaterThan(0);
    expect(aborted.length).toBeGreaterThan(0);

    const read: Array<{ partition: number; value: string }> = [];
    const consumer = kafka.consumer({ groupId: 'mixed-reader', maxWaitTimeInMs: 100 });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: 'mixed', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ partition, message }) => void read.push({ partition, value: message.value!.toString() }) });
    await waitUntil(() => read.length >= committed.length, 'every committed record');
    await sleep(300);
    expect(read.map(({ value }) => value).sort()).toEqual([...committed].sort());
    // In each partition, each producer's records in the order it wrote them.
    const order = (value: string) => value.split('-').slice(1).map((part) => Number(part.slice(1)));
    for (const partition of [0, 1, 2]) {
      for (const p of [0, 1, 2]) {
        const mine = read.filter((r) => r.partition === partition && r.value.startsWith(`p${p}-`)).map((r) => order(r.value));
        const sorted = [...mine].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
        expect(mine).toEqual(sorted);
      }
    }
  });

  it('a second producer with the same transactional id fences the first, aborting its open transaction', async () => {
    broker = await startBroker({ port: 0, config: BROKER_CONFIG });
    const kafka = client(broker.port);
    const admin = kafka.admin();
    await admin.connect();
    disconnects.push(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'fenced', numPartitions: 1 }] });

    const first = kafka.producer({ transactionalId: 'tx-shared', idempotent: true, maxInFlightRequests: 1, retry: { retries: 1, initialRetryTime: 50 } });
    await first.connect();
    disconnects.push(() => first.disconnect());
    const zombie = await first.transaction();
    await zombie.send({ topic: 'fenced', messages: [{ value: 'zombie' }] });

    const second = kafka.producer({ transactionalId: 'tx-shared', idempotent: true, maxInFlightRequests: 1 });
    await second.connect();
    disconnects.push(() => second.disconnect());
    const live = await second.transaction();
    await live.send({ topic: 'fenced', messages: [{ value: 'live' }] });
    await live.commit();

    await expect(zombie.commit()).rejects.toThrow();
    const values = await consume(kafka, 'fenced', 'reader');
    await waitUntil(() => values.length >= 1, 'the live value');
    await sleep(300);
    expect(values).toEqual(['live']);
  });

  it('a transaction open across a broker restart is still open, and commits', async () => {
    const dataDir = tempDir();
    broker = await startBroker({ port: 0, dataDir, config: BROKER_CONFIG });
    const port = broker.port;
    const kafka = client(port);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'restart', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer({ transactionalId: 'tx-restart', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    disconnects.push(() => producer.disconnect());
    const transaction = await producer.transaction();
    await transaction.send({ topic: 'restart', messages: [{ value: 'before' }] });

    await broker.stop();
    broker = await startBroker({ port, dataDir, config: BROKER_CONFIG });
    await transaction.send({ topic: 'restart', messages: [{ value: 'after' }] });
    await transaction.commit();

    const values = await consume(client(port), 'restart', 'reader');
    await waitUntil(() => values.length >= 2, 'both values');
    expect(values).toEqual(['before', 'after']);
  });
});
