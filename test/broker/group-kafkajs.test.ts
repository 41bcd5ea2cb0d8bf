// End to end: kafkajs consumers in one group against a real broker.
import { Kafka, logLevel, type Consumer, type EachMessagePayload } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { tempDir } from '../helpers.js';

let broker: Broker | undefined;
const consumers: Consumer[] = [];

afterEach(async () => {
  for (const consumer of consumers.splice(0)) await consumer.disconnect().catch(() => {});
  await broker?.stop();
  broker = undefined;
});

async function startWithGroups(dataDir?: string): Promise<Broker> {
  return startBroker({ port: 0, dataDir, config: { 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 3 } });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('kafkajs consumer group', () => {
  it('shares partitions between two consumers, commits, and resumes from the commits', async () => {
    broker = await startWithGroups();
    const kafka = new Kafka({ clientId: 'e2e', brokers: [`localhost:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 50 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 4 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'orders', messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 4 })) });

    const seen = new Map<string, Set<number>>(); // consumer → partitions it read
    const values = new Set<string>();
    const startConsumer = async (name: string) => {
      const consumer = kafka.consumer({ groupId: 'orders-group', heartbeatInterval: 200, sessionTimeout: 10_000, rebalanceTimeout: 10_000, maxWaitTimeInMs: 100 });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic: 'orders', fromBeginning: true });
      seen.set(name, new Set());
      await consumer.run({
        eachMessage: async ({ partition, message }: EachMessagePayload) => {
          seen.get(name)!.add(partition);
          values.add(message.value!.toString());
        },
      });
      return consumer;
    };

    await startConsumer('first');
    await waitFor(() => values.size === 40, 'the first consumer to read everything');
    await startConsumer('second');
    // Both members end up Stable in one generation, with the 4 partitions split between them.
    await waitFor(() => {
      const group = broker!.groups.describeGroup('orders-group');
      return group.groupState === 'Stable' && group.members.length === 2 && group.members.every((m) => m.memberAssignment.length > 0);
    }, 'a stable group of two');
    await producer.send({ topic: 'orders', messages: Array.from({ length: 40 }, (_, i) => ({ value: `w${i}`, partition: i % 4 })) });
    await waitFor(() => values.size === 80, 'the new messages');
    expect(seen.get('second')!.size).toBeGreaterThan(0);

    const description = await admin.describeGroups(['orders-group']);
    expect(description.groups[0]).toMatchObject({ groupId: 'orders-group', state: 'Stable', protocolType: 'consumer', protocol: 'RoundRobinAssigner' });
    expect(description.groups[0]!.members).toHaveLength(2);
    expect((await admin.listGroups()).groups).toEqual([{ groupId: 'orders-group', protocolType: 'consumer' }]);

    // Disconnecting commits and leaves; the committed offsets are the end of every partition.
    for (const consumer of consumers.splice(0)) await consumer.disconnect();
    const committed = await admin.fetchOffsets({ groupId: 'orders-group', topics: ['orders'] });
    expect(committed[0]!.partitions.map((p) => Number(p.offset)).sort()).toEqual([20, 20, 20, 20]);
    expect(broker!.groups.describeGroup('orders-group').groupState).toBe('Empty');

    // A new consumer of the group starts from the commits: it reads only what comes next.
    values.clear();
    await startConsumer('third');
    await producer.send({ topic: 'orders', messages: [{ value: 'after', partition: 1 }] });
    await waitFor(() => values.has('after'), 'the message produced after the commits');
    expect([...values]).toEqual(['after']);
    for (const consumer of consumers.splice(0)) await consumer.disconnect();

    expect(await admin.deleteGroups(['orders-group'])).toEqual([{ groupId: 'orders-group', errorCode: 0 }]);
    expect((await admin.fetchOffsets({ groupId: 'orders-group', topics: ['orders'] }))[0]!.partitions.map((p) => p.offset)).toEqual(['-1', '-1', '-1', '-1']);
    await producer.disconnect();
    await admin.disconnect();
  });

  it('resumes from the commits after a broker restart', async () => {
    const dataDir = tempDir();
    broker = await startWithGroups(dataDir);
    const connect = (port: number) => new Kafka({ clientId: 'restart', brokers: [`localhost:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 50 } });
    let kafka = connect(broker.port);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'jobs', numPartitions: 2 }] });
    await admin.disconnect();
    const consumeUntil = async (client: Kafka, expected: string) => {
      const values: string[] = [];
      const consumer = client.consumer({ groupId: 'workers', heartbeatInterval: 200, maxWaitTimeInMs: 100 });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic: 'jobs', fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }: EachMessagePayload) => void values.push(message.value!.toString()) });
      await waitFor(() => values.includes(expected), expected);
      await consumer.disconnect();
      consumers.splice(consumers.indexOf(consumer), 1);
      return values;
    };

    let producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'jobs', messages: [{ value: 'one', partition: 0 }, { value: 'two', partition: 1 }] });
    await producer.disconnect();
    expect((await consumeUntil(kafka, 'two')).sort()).toEqual(['one', 'two']);

    await broker.stop();
    broker = await startWithGroups(dataDir);
    kafka = connect(broker.port);
    producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'jobs', messages: [{ value: 'three', partition: 0 }] });
    await producer.disconnect();
    expect(await consumeUntil(kafka, 'three')).toEqual(['three']);
  });
});
