// What the producer's batches carry through: a batch that cannot be encoded (a malformed record)
// fails the calls with records in it and nothing else. Its sequence numbers are not taken, so the
// idempotent producer's next batch for the partition is in sequence, and the other partitions'
// batches of the same request still go out.
import { afterEach, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { KafkaClient } from '../../src/client/client.js';
import { Producer, type ProducerRecord } from '../../src/client/producer.js';

let broker: Broker | undefined;
let client: KafkaClient | undefined;

afterEach(async () => {
  client?.close();
  await broker?.stop();
  client = undefined;
  broker = undefined;
});

async function setUp(topic: string, partitions: number): Promise<void> {
  broker = await startBroker({ port: 0 });
  await broker.engine.createTopic(topic, { partitions });
  client = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`] });
}

async function values(topic: string, partition = 0): Promise<string[]> {
  const { records } = await broker!.engine.fetch(topic, partition, { offset: 0, maxBytes: 64 << 20 });
  return records.map((record) => record.value!.toString());
}

it('a malformed record fails only its batch, and the idempotent producer goes on with the next sequence number', async () => {
  await setUp('bad', 1);
  const producer = await Producer.create(client!, { acks: -1, lingerMs: 0 });
  await expect(producer.send('bad', [{ value: 'first' }])).resolves.toHaveLength(1);
  const malformed = producer.send('bad', [{ value: 42 as unknown as string }]);
  await expect(malformed).rejects.toMatchObject({ code: 'INVALID_RECORD', message: expect.stringContaining('Produce to bad-0 failed') });
  // Before, the failed batch had taken sequence numbers: this one then met OUT_OF_ORDER_SEQUENCE_NUMBER until delivery.timeout.ms.
  await expect(producer.send('bad', [{ value: 'after' }])).resolves.toMatchObject([{ partition: 0, offset: 1 }]);
  expect(await values('bad')).toEqual(['first', 'after']);
});

it('a malformed batch fails alone: the batch of another partition in the same request lands', async () => {
  await setUp('two', 2);
  const producer = await Producer.create(client!, { acks: -1, lingerMs: 0 });
  // Both calls add to an open batch before the linger timer fires, which sends both in one request.
  const malformed = producer.send('two', [{ partition: 0, value: 42 as unknown as string }]);
  const good = producer.send('two', [{ partition: 1, value: 'good' }]);
  await expect(malformed).rejects.toMatchObject({ code: 'INVALID_RECORD' });
  await expect(good).resolves.toMatchObject([{ partition: 1, offset: 0 }]);
  await expect(producer.send('two', [{ partition: 0, value: 'after' }])).resolves.toMatchObject([{ partition: 0, offset: 0 }]);
  expect(await values('two', 0)).toEqual(['after']);
  expect(await values('two', 1)).toEqual(['good']);
});

it('a call that fills many batches, among others, lands whole and in order, and learns each record\'s offset', async () => {
  await setUp('many', 1);
  const producer = await Producer.create(client!, { acks: -1, batchBytes: 1024, lingerMs: 1 });
  const calls: Array<Promise<Array<{ offset: number }>>> = [];
  const sent: string[] = [];
  for (let call = 0; call < 40; call++) {
    const records: ProducerRecord[] = [];
    for (let i = 0; i < 50; i++) {
      const value = `call ${call} record ${i} `.padEnd(100, '.');
      records.push({ value, key: i % 3 === 0 ? null : `k${i}`, headers: i % 5 === 0 ? { n: String(i) } : undefined });
      sent.push(value);
    }
    calls.push(producer.send('many', records));
  }
  const results = await Promise.all(calls);
  expect(results.flat().map((result) => result.offset)).toEqual(sent.map((_, offset) => offset));
  expect(await values('many')).toEqual(sent);
});
