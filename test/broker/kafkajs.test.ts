// kafkajs 2.2.4 against a sluice broker process: admin, producer, and (with consumer groups) consumer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { CompressionTypes, Partitioners, kafka } from '../fixtures/kafkajs.js';
import { kcat } from '../fixtures/kcat.js';
import { tempDir } from '../helpers.js';

let broker: BrokerProcess;
let client: any;
let admin: any;
const dataDir = tempDir();

beforeAll(async () => {
  broker = await startBrokerProcess(dataDir, { 'group.initial.rebalance.delay.ms': 0 });
  client = kafka([broker.address]);
  admin = client.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
  await broker?.stop();
});

/** Records of one partition, read with kcat: "offset|key|value|headers". */
async function readBack(topic: string, partition = 0): Promise<string[]> {
  const result = await kcat(['-b', broker.address, '-C', '-t', topic, '-p', String(partition), '-o', 'beginning', '-e', '-q', '-Z', '-f', '%o|%k|%s|%h\\n']);
  return result.stdout.split('\n').filter((line) => line !== '');
}

describe('kafkajs admin', () => {
  it('creates, lists, describes and deletes topics', async () => {
    expect(await admin.createTopics({ topics: [{ topic: 'admin-a', numPartitions: 3 }, { topic: 'admin-b', configEntries: [{ name: 'retention.ms', value: '1000' }] }] })).toBe(true);
    expect(await admin.listTopics()).toEqual(expect.arrayContaining(['admin-a', 'admin-b']));
    const metadata = await admin.fetchTopicMetadata({ topics: ['admin-a'] });
    expect(metadata.topics[0].partitions).toHaveLength(3);
    const configs = await admin.describeConfigs({ resources: [{ type: 2, name: 'admin-b' }], includeSynonyms: false });
    const retention = configs.resources[0].configEntries.find((entry: { configName: string }) => entry.configName === 'retention.ms');
    expect(retention.configValue).toBe('1000');
    await admin.createPartitions({ topicPartitions: [{ topic: 'admin-a', count: 5 }] });
    expect((await admin.fetchTopicMetadata({ topics: ['admin-a'] })).topics[0].partitions).toHaveLength(5);
    await admin.deleteTopics({ topics: ['admin-a', 'admin-b'] });
    expect(await admin.listTopics()).not.toEqual(expect.arrayContaining(['admin-a']));
  });

  it('refuses an existing topic and an invalid name with Kafka errors', async () => {
    await admin.createTopics({ topics: [{ topic: 'twice' }] });
    expect(await admin.createTopics({ topics: [{ topic: 'twice' }] })).toBe(false); // kafkajs: false when it already exists
    const error = await admin.createTopics({ topics: [{ topic: 'bad name!' }] }).catch((e: unknown) => e);
    expect(error.errors[0].type).toBe('INVALID_TOPIC_EXCEPTION');
  });
});

describe('kafkajs ACL admin', () => {
  // Kafka's broker without an authorizer (its default) answers every ACL request SECURITY_DISABLED.
  const acl = { resourceType: 2, resourceName: 'orders', resourcePatternType: 3, principal: 'User:alice', host: '*', operation: 3, permissionType: 3 };
  const errorOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: any) => error);

  it('answers describe, create and delete as a Kafka broker without an authorizer: SECURITY_DISABLED', async () => {
    for (const error of [await errorOf(admin.describeAcls(acl)), await errorOf(admin.createAcls({ acl: [acl] })), await errorOf(admin.deleteAcls({ filters: [acl] }))]) {
      expect(error).toMatchObject({ name: 'KafkaJSProtocolError', type: 'SECURITY_DISABLED', message: 'Security features are disabled' });
    }
  });
});

describe('kafkajs producer', () => {
  it('produces keys, values, headers and null values', async () => {
    await admin.createTopics({ topics: [{ topic: 'kj-records' }] });
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const acks = await producer.send({
      topic: 'kj-records',
      messages: [
        { key: 'k1', value: 'v1', headers: { source: 'kafkajs' } },
        { key: 'k2', value: null },
        { value: 'no key' },
      ],
    });
    await producer.disconnect();
    expect(acks[0]).toMatchObject({ topicName: 'kj-records', partition: 0, errorCode: 0, baseOffset: '0' });
    expect(await readBack('kj-records')).toEqual(['0|k1|v1|source=kafkajs', '1|k2|NULL|', '2|NULL|no key|']);
  });

  for (const [name, type] of Object.entries({ gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD })) {
    it(`produces ${name}-compressed batches`, async () => {
      const topic = `kj-${name}`;
      await admin.createTopics({ topics: [{ topic }] });
      const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const messages = Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: `value ${i} ${'z'.repeat(i)}` }));
      await producer.send({ topic, messages, compression: type });
      await producer.disconnect();
      const lines = await readBack(topic);
      expect(lines.map((line) => line.split('|')[2])).toEqual(messages.map((m) => m.value));
    });
  }

  for (const acks of [0, 1, -1]) {
    it(`produces with acks=${acks}`, async () => {
      const topic = `kj-acks${acks}`;
      await admin.createTopics({ topics: [{ topic }] });
      const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      await producer.send({ topic, acks, messages: [{ value: 'a' }, { value: 'b' }] });
      await producer.disconnect();
      // acks=0 has no answer to wait for: the records may still be in flight.
      for (let attempt = 0; attempt < 50 && (await readBack(topic)).length < 2; attempt++) await new Promise((r) => setTimeout(r, 100));
      expect((await readBack(topic)).map((line) => line.split('|')[2])).toEqual(['a', 'b']);
    });
  }

  it('runs the idempotent producer: sequences accepted in order, one copy of each record', async () => {
    await admin.createTopics({ topics: [{ topic: 'kj-idempotent', numPartitions: 2 }] });
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    for (let i = 0; i < 20; i++) {
      await producer.send({ topic: 'kj-idempotent', acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ key: `key-${j}`, value: `${i}-${j}` })) });
    }
    await producer.disconnect();
    const values = [...(await readBack('kj-idempotent', 0)), ...(await readBack('kj-idempotent', 1))].map((line) => line.split('|')[2]);
    expect(values).toHaveLength(200);
    expect(new Set(values).size).toBe(200);
  });

  it('lists offsets: earliest, latest and by timestamp', async () => {
    await admin.createTopics({ topics: [{ topic: 'kj-offsets' }] });
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: 'kj-offsets', messages: [1, 2, 3, 4].map((i) => ({ value: `v${i}`, timestamp: String(1_000_000 * i) })) });
    await producer.disconnect();
    expect(await admin.fetchTopicOffsets('kj-offsets')).toEqual([expect.objectContaining({ partition: 0, offset: '4', low: '0', high: '4' })]);
    expect(await admin.fetchTopicOffsetsByTimestamp('kj-offsets', 2_500_000)).toEqual([{ partition: 0, offset: '2' }]);
    await admin.deleteTopicRecords({ topic: 'kj-offsets', partitions: [{ partition: 0, offset: '1' }] });
    expect((await admin.fetchTopicOffsets('kj-offsets'))[0]).toMatchObject({ low: '1', high: '4' });
  });
});
