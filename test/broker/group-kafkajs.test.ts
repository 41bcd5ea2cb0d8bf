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

    // consumer → its partitions in the generation it last joined (kafkajs's GROUP_JOIN event)
    const assigned = new Map<string, number[]>();
    const values = new Set<string>();
    const startConsumer = async (name: string) => {
      const consumer = kafka.consumer({ groupId: 'orders-group', heartbeatInterval: 200, sessionTimeout: 10_000, rebalanceTimeout: 10_000, maxWaitTimeInMs: 100 });
      consumers.push(consumer);
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }: { payload: { memberAssignment: Record<string, number[]> } }) => {
        assigned.set(name, [...(payload.memberAssignment.orders ?? [])].sort());
      });
      await consumer.connect();
      await consumer.subscribe({ topic: 'orders', fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }: EachMessagePayload) => {
          values.add(message.value!.toString());
        },
      });
      return consumer;
    };

    await startConsumer('first');
    await waitFor(() => values.size === 40, 'the first consumer to read everything');
    await startConsumer('second');
    // Both consumers got partitions: a stable group of two whose assignments, as each consumer
    // took them up, split the 4 partitions between them. (Which consumer reads which of the next
    // records is the assignment's business, not something to assert on a busy machine.)
    await waitFor(() => {
      const group = broker!.groups.describeGroup('orders-group');
      const first = assigned.get('first') ?? [];
      const second = assigned.get('second') ?? [];
      return group.groupState === 'Stable' && group.members.length === 2 && first.length > 0 && second.length > 0 && [...first, ...second].sort().join() === '0,1,2,3';
    }, 'both consumers to hold partitions of a stable group of two');
    await producer.send({ topic: 'orders', messages: Array.from({ length: 40 }, (_, i) => ({ value: `w${i}`, partition: i % 4 })) });
    await waitFor(() => values.size === 80, 'the new messages');

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
    /** Runs a consumer of the group until it has received every one of `expected`; returns all it received. */
    const consumeUntil = async (client: Kafka, expected: string[]) => {
      const values: string[] = [];
      const consumer = client.consumer({ groupId: 'workers', heartbeatInterval: 200, maxWaitTimeInMs: 100 });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic: 'jobs', fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }: EachMessagePayload) => void values.push(message.value!.toString()) });
      await waitFor(() => expected.every((value) => values.includes(value)), expected.join(', '));
      await consumer.disconnect();
      consumers.splice(consumers.indexOf(consumer), 1);
      return values;
    };
    const committed = async (client: Kafka) => {
      const admin = client.admin();
      await admin.connect();
      const [jobs] = await admin.fetchOffsets({ groupId: 'workers', topics: ['jobs'] });
      await admin.disconnect();
      return jobs!.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
    };

    let producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'jobs', messages: [{ value: 'one', partition: 0 }, { value: 'two', partition: 1 }] });
    await producer.disconnect();
    expect((await consumeUntil(kafka, ['one', 'two'])).sort()).toEqual(['one', 'two']);
    expect(await committed(kafka)).toEqual([1, 1]); // a clean disconnect commits what was read

    await broker.stop();
    broker = await startWithGroups(dataDir);
    kafka = connect(broker.port);
    expect(await committed(kafka)).toEqual([1, 1]); // the commits survived the restart
    producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'jobs', messages: [{ value: 'three', partition: 0 }] });
    await producer.disconnect();
    // 'three' follows 'one' in partition 0, and records of a partition arrive in order: a consumer
    // that resumed at the commits received nothing before it.
    expect(await consumeUntil(kafka, ['three'])).toEqual(['three']);
  });

  it('takes a running member back after a broker restart: the group is Stable again, the member keeps its id, nothing is read twice', async () => {
    const dataDir = tempDir();
    broker = await startWithGroups(dataDir);
    const port = broker.port;
    const kafka = new Kafka({ clientId: 'restart', brokers: [`localhost:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 50, initialRetryTime: 100, maxRetryTime: 1000 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'live', numPartitions: 2 }] });
    await admin.disconnect();
    const send = async (values: string[]) => {
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: 'live', messages: values.map((value, i) => ({ value, partition: i % 2 })) });
      await producer.disconnect();
    };

    const read: string[] = [];
    const memberIds: string[] = [];
    const consumer = kafka.consumer({ groupId: 'live-group', heartbeatInterval: 200, sessionTimeout: 20_000, rebalanceTimeout: 20_000, maxWaitTimeInMs: 100 });
    consumers.push(consumer);
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }: any) => memberIds.push(payload.memberId));
    await consumer.connect();
    await consumer.subscribe({ topic: 'live', fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }: EachMessagePayload) => {
        read.push(message.value!.toString());
        await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
      },
    });
    await send(['a', 'b']);
    await waitFor(() => read.length === 2, 'a and b');

    // The broker restarts on the same port and data directory: its coordinator takes the group
    // back from __consumer_offsets, members and generation included. The member's heartbeats and
    // commits go on; should kafkajs rejoin (a heartbeat that met the shutdown), it is known by its id.
    await broker.stop();
    broker = await startBroker({ port, dataDir, config: { 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 3 } });
    expect(broker.groups.describeGroup('live-group').groupState).toBe('Stable');
    await send(['c', 'd']);
    await waitFor(() => read.length >= 4, 'c and d');
    await sleep(500);
    expect(read.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(new Set(memberIds).size).toBe(1);
  });
});
