// The three real clients together: the same records read back identically by kafkajs,
// @platformatic/kafka and kcat; auto-create on and off; reading from an offset after the broker
// restarts (cleanly and after SIGKILL); a long-poll fetch woken by a produce.
import { Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { afterEach, describe, expect, it } from 'vitest';

import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { Partitioners, kafka } from '../fixtures/kafkajs.js';
import { kcat } from '../fixtures/kcat.js';
import { tempDir } from '../helpers.js';

const brokers: BrokerProcess[] = [];

afterEach(async () => {
  for (const broker of brokers.splice(0)) await broker.stop();
});

async function start(dataDir = tempDir(), config: Record<string, string | number | boolean> = {}): Promise<BrokerProcess> {
  const broker = await startBrokerProcess(dataDir, { 'group.initial.rebalance.delay.ms': 0, ...config });
  brokers.push(broker);
  return broker;
}

type Row = string; // "partition|offset|key|value|headers"

async function readWithKcat(broker: BrokerProcess, topic: string): Promise<Row[]> {
  const result = await kcat(['-b', broker.address, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-Z', '-f', '%p|%o|%k|%s|%h\\n']);
  return result.stdout.split('\n').filter((line) => line !== '').sort();
}

async function readWithKafkajs(broker: BrokerProcess, topic: string, count: number): Promise<Row[]> {
  const consumer = kafka([broker.address]).consumer({ groupId: `kafkajs-${topic}`, maxWaitTimeInMs: 200 });
  const rows: Row[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }: any) => {
        const headers = Object.entries(message.headers ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',');
        rows.push(`${partition}|${message.offset}|${message.key?.toString() ?? 'NULL'}|${message.value?.toString() ?? 'NULL'}|${headers}`);
        if (rows.length === count) resolve();
      },
    });
  });
  await done;
  await consumer.disconnect();
  return rows.sort();
}

async function readWithPlatformatic(broker: BrokerProcess, topic: string, count: number): Promise<Row[]> {
  const consumer = new Consumer({ groupId: `platformatic-${topic}`, clientId: 'interop', bootstrapBrokers: [broker.address], deserializers: stringDeserializers, maxWaitTime: 200 });
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
  const rows: Row[] = [];
  for await (const message of stream) {
    const headers = [...(message.headers as Map<string, string>)].map(([k, v]) => `${k}=${v}`).join(',');
    rows.push(`${message.partition}|${message.offset}|${message.key ?? 'NULL'}|${message.value ?? 'NULL'}|${headers}`);
    if (rows.length === count) break;
  }
  await stream.close();
  await consumer.close();
  return rows.sort();
}

describe('three clients, one log', () => {
  it('read the same records identically', async () => {
    const broker = await start();
    const admin = kafka([broker.address]).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'shared', numPartitions: 3 }] });
    await admin.disconnect();
    const producer = kafka([broker.address]).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const messages = Array.from({ length: 60 }, (_, i) => ({
      key: i % 10 === 0 ? null : `key-${i % 7}`,
      value: i % 13 === 0 ? null : `value-${i}`,
      headers: i % 3 === 0 ? { h: `x${i}` } : undefined,
    }));
    await producer.send({ topic: 'shared', messages });
    await producer.disconnect();

    const viaKcat = await readWithKcat(broker, 'shared');
    expect(viaKcat).toHaveLength(60);
    expect(await readWithKafkajs(broker, 'shared', 60)).toEqual(viaKcat);
    expect(await readWithPlatformatic(broker, 'shared', 60)).toEqual(viaKcat);
  });
});

describe('auto.create.topics.enable', () => {
  it('creates a topic on first metadata request when on', async () => {
    const broker = await start(tempDir(), { 'auto.create.topics.enable': true, 'num.partitions': 2 });
    const produced = await kcat(['-b', broker.address, '-P', '-t', 'auto-on'], 'hello\n');
    expect(produced.code).toBe(0);
    const metadata = await kcat(['-b', broker.address, '-L', '-t', 'auto-on']);
    expect(metadata.stdout).toMatch(/topic "auto-on" with 2 partitions/);
  });

  it('refuses unknown topics when off', async () => {
    const broker = await start(tempDir(), { 'auto.create.topics.enable': false });
    const metadata = await kcat(['-b', broker.address, '-L', '-t', 'auto-off']);
    expect(metadata.stdout).toMatch(/topic "auto-off" with 0 partitions: Broker: Unknown topic or partition/);
    const producer = kafka([broker.address]).producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    await expect(producer.send({ topic: 'auto-off', messages: [{ value: 'x' }] })).rejects.toThrow(/does not host this topic-partition|UNKNOWN_TOPIC/i);
    await producer.disconnect();
  });
});

describe('restarts', () => {
  for (const how of ['stop', 'kill'] as const) {
    it(`consumes from an offset after the broker ${how === 'stop' ? 'stops cleanly' : 'is killed'} and restarts`, async () => {
      const dataDir = tempDir();
      let broker = await start(dataDir);
      await kcat(['-b', broker.address, '-P', '-t', 'durable', '-X', 'acks=all'], Array.from({ length: 20 }, (_, i) => `line-${i}`).join('\n') + '\n');
      brokers.splice(brokers.indexOf(broker), 1);
      await (how === 'stop' ? broker.stop() : broker.kill());
      broker = await start(dataDir);
      const fromTen = await kcat(['-b', broker.address, '-C', '-t', 'durable', '-o', '10', '-e', '-q', '-f', '%o:%s\\n']);
      expect(fromTen.stdout.trim().split('\n')).toEqual(Array.from({ length: 10 }, (_, i) => `${10 + i}:line-${10 + i}`));
      const consumer = kafka([broker.address]).consumer({ groupId: 'after-restart', maxWaitTimeInMs: 200 });
      await consumer.connect();
      await consumer.subscribe({ topic: 'durable', fromBeginning: true });
      const seen: string[] = [];
      await new Promise<void>((resolve) => void consumer.run({ eachMessage: async ({ message }: any) => void (seen.push(message.value.toString()), seen.length === 20 && resolve()) }));
      await consumer.disconnect();
      expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => `line-${i}`));
    });
  }
});

describe('long-poll fetch', () => {
  it('wakes a waiting kafkajs consumer when a record is produced', async () => {
    const broker = await start();
    const client = kafka([broker.address]);
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'wake' }] });
    await admin.disconnect();
    // max wait longer than the test's own timeout: the record can only arrive in time if the
    // broker answers the held fetch when the append happens.
    const consumer = client.consumer({ groupId: 'waker', maxWaitTimeInMs: 120_000 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'wake', fromBeginning: true });
    let joined!: () => void;
    const groupJoined = new Promise<void>((resolve) => (joined = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    const received = new Promise<string>((resolve) => void consumer.run({ eachMessage: async ({ message }: any) => resolve(message.value.toString()) }));
    await groupJoined;
    await new Promise((resolve) => setTimeout(resolve, 500)); // the consumer is now parked in a fetch
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: 'wake', messages: [{ value: 'ring' }] });
    await producer.disconnect();
    expect(await received).toBe('ring');
    await consumer.disconnect();
  });
});
