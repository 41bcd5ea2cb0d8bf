// @platformatic/kafka 1.35 against a sluice broker process: admin, producer (acks, compression,
// idempotence), and a consumer group reading everything back. Its zstd needs node:zlib's zstd,
// which Node 20 lacks, so on Node 20 it supports none, gzip, snappy and lz4.
import { Admin, Consumer, MessagesStreamModes, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { kcat } from '../fixtures/kcat.js';
import { tempDir } from '../helpers.js';

let broker: BrokerProcess;
let admin: Admin;

beforeAll(async () => {
  broker = await startBrokerProcess(tempDir(), { 'group.initial.rebalance.delay.ms': 0 });
  admin = new Admin({ clientId: 'platformatic-admin', bootstrapBrokers: [broker.address] });
});

afterAll(async () => {
  await admin?.close();
  await broker?.stop();
});

function producer(options: Record<string, unknown> = {}) {
  return new Producer({ clientId: 'platformatic-producer', bootstrapBrokers: [broker.address], serializers: stringSerializers, ...options });
}

/** Reads `count` records of `topic` from the beginning with a consumer group. */
async function consume(topic: string, count: number, groupId = `group-${topic}`) {
  const consumer = new Consumer({ groupId, clientId: 'platformatic-consumer', bootstrapBrokers: [broker.address], deserializers: stringDeserializers, maxWaitTime: 200 });
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
  const messages: Array<{ key: string | null; value: string | null; headers: Map<string, string>; partition: number; offset: bigint }> = [];
  for await (const message of stream) {
    messages.push({ key: message.key as string | null, value: message.value as string | null, headers: message.headers as Map<string, string>, partition: message.partition, offset: message.offset });
    if (messages.length >= count) break;
  }
  await stream.close();
  await consumer.close();
  return messages;
}

describe('@platformatic/kafka admin', () => {
  it('creates, lists and deletes topics', async () => {
    await admin.createTopics({ topics: ['pa-one', 'pa-two'], partitions: 3, replicas: 1 });
    expect(await admin.listTopics()).toEqual(expect.arrayContaining(['pa-one', 'pa-two']));
    await admin.deleteTopics({ topics: ['pa-two'] });
    const topics = await admin.listTopics();
    expect(topics).toContain('pa-one');
    expect(topics).not.toContain('pa-two');
  });
});

describe('@platformatic/kafka configs', () => {
  it('describes topic configs, alters them incrementally (SET, DELETE) and with AlterConfigs', async () => {
    await admin.createTopics({ topics: ['pa-configs'], partitions: 1, replicas: 1 });
    const TOPIC = 2;
    const SET = 0;
    const DELETE = 1;
    const valueOf = async (name: string) => {
      const [description] = await admin.describeConfigs({ resources: [{ resourceType: TOPIC, resourceName: 'pa-configs', configurationKeys: [name] }] });
      return description!.configs.find((c) => c.name === name)?.value;
    };
    expect(await valueOf('retention.ms')).toBe('604800000');
    await admin.incrementalAlterConfigs({ resources: [{ resourceType: TOPIC, resourceName: 'pa-configs', configs: [{ name: 'retention.ms', configOperation: SET, value: '60000' }] }] });
    expect(await valueOf('retention.ms')).toBe('60000');
    await admin.incrementalAlterConfigs({ resources: [{ resourceType: TOPIC, resourceName: 'pa-configs', configs: [{ name: 'retention.ms', configOperation: DELETE }] }] });
    expect(await valueOf('retention.ms')).toBe('604800000');
    await admin.alterConfigs({ resources: [{ resourceType: TOPIC, resourceName: 'pa-configs', configs: [{ name: 'segment.bytes', value: '1048576' }] }] });
    expect(await valueOf('segment.bytes')).toBe('1048576');
    await expect(
      admin.incrementalAlterConfigs({ resources: [{ resourceType: TOPIC, resourceName: 'pa-configs', configs: [{ name: 'retention.ms', configOperation: SET, value: 'soon' }] }] }),
    ).rejects.toThrow();
  });
});

describe('@platformatic/kafka producer and consumer', () => {
  it('produces keys, values, headers and consumes them back through a group', async () => {
    await admin.createTopics({ topics: ['pk-records'], partitions: 2, replicas: 1 });
    const p = producer();
    await p.send({
      messages: [
        { topic: 'pk-records', key: 'a', value: 'first', headers: new Map([['source', 'platformatic']]), partition: 0 },
        { topic: 'pk-records', key: 'b', value: 'second', partition: 1 },
        { topic: 'pk-records', key: 'c', value: 'third', partition: 0 },
      ],
    });
    await p.close();
    const messages = await consume('pk-records', 3);
    const byKey = new Map(messages.map((m) => [m.key, m]));
    expect(byKey.get('a')).toMatchObject({ value: 'first', partition: 0, offset: 0n });
    expect(byKey.get('a')!.headers.get('source')).toBe('platformatic');
    expect(byKey.get('b')).toMatchObject({ value: 'second', partition: 1, offset: 0n });
    expect(byKey.get('c')).toMatchObject({ value: 'third', partition: 0, offset: 1n });
  });

  for (const compression of ['gzip', 'snappy', 'lz4'] as const) {
    it(`produces ${compression}-compressed batches that kcat reads back`, async () => {
      const topic = `pk-${compression}`;
      await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
      const p = producer();
      const values = Array.from({ length: 50 }, (_, i) => `value-${i}-${'q'.repeat(i)}`);
      await p.send({ messages: values.map((value, i) => ({ topic, key: `k${i}`, value, partition: 0 })), compression });
      await p.close();
      const read = await kcat(['-b', broker.address, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\\n']);
      expect(read.stdout.trim().split('\n')).toEqual(values);
    });
  }

  for (const acks of [0, 1, -1]) {
    it(`produces with acks=${acks}`, async () => {
      const topic = `pk-acks${acks}`;
      await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
      const p = producer();
      await p.send({ messages: [{ topic, value: 'x', partition: 0 }, { topic, value: 'y', partition: 0 }], acks });
      await p.close();
      const messages = await consume(topic, 2);
      expect(messages.map((m) => m.value)).toEqual(['x', 'y']);
    });
  }

  it('produces idempotently: one copy of each record', async () => {
    await admin.createTopics({ topics: ['pk-idempotent'], partitions: 1, replicas: 1 });
    const p = producer({ idempotent: true });
    for (let i = 0; i < 10; i++) {
      await p.send({ messages: Array.from({ length: 10 }, (_, j) => ({ topic: 'pk-idempotent', value: `${i}-${j}`, partition: 0 })) });
    }
    await p.close();
    const messages = await consume('pk-idempotent', 100);
    expect(new Set(messages.map((m) => m.value)).size).toBe(100);
  });
});
