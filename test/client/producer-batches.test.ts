// What fails when a producer cannot send a record. A malformed record fails its own send() call,
// before any of its records is taken, as Kafka's producer throws a record's serialization error
// from send(): the other calls whose records share its batch are not touched. A batch that cannot
// be encoded (its compressor throws) fails the calls with records in it and nothing else: it takes
// no sequence numbers, so the idempotent producer's next batch for its partition is in sequence,
// and the other partitions' batches of the same request still go out. A batch the broker refuses
// after it took sequence numbers leaves a gap the broker would refuse every later batch for: the
// producer bumps its epoch (KIP-360) and starts its sequences over.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { KafkaClient } from '../../src/client/client.js';
import { Producer, type ProducerRecord } from '../../src/client/producer.js';
import { BATCH_LENGTH_OFFSET, LOG_OVERHEAD, PRODUCER_EPOCH_OFFSET } from '../../src/record/batch-format.js';
import { findCodec, registerCodec } from '../../src/record/compression.js';

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

it('a malformed record fails its own call only: the calls sharing its batch land', async () => {
  await setUp('bad', 1);
  const producer = await Producer.create(client!, { acks: -1, lingerMs: 0 });
  // All three calls add to one open batch before the linger timer fires.
  const before = producer.send('bad', [{ value: 'before' }]);
  const malformed = producer.send('bad', [{ value: 'dropped with its call' }, { value: 42 as unknown as string }]);
  const after = producer.send('bad', [{ value: 'after' }]);
  await expect(malformed).rejects.toMatchObject({ code: 'INVALID_RECORD', message: expect.stringContaining('record 1: value must be') });
  await expect(Promise.all([before, after])).resolves.toMatchObject([[{ offset: 0 }], [{ offset: 1 }]]);
  expect(await values('bad')).toEqual(['before', 'after']);
});

describe('a batch whose encoding fails (here its compressor throws)', () => {
  const snappy = findCodec('snappy')!;
  beforeAll(() => {
    registerCodec({
      ...snappy,
      compress(data: Buffer, level?: number): Buffer {
        if (data.includes('poison')) throw new Error('the compressor failed');
        return snappy.compress(data, level);
      },
    });
  });
  afterAll(() => registerCodec(snappy));

  it('fails alone: the batch of another partition in the same request lands, and its own partition goes on in sequence', async () => {
    await setUp('two', 2);
    const producer = await Producer.create(client!, { acks: -1, lingerMs: 0, compression: 'snappy' });
    await expect(producer.send('two', [{ partition: 0, value: 'first' }])).resolves.toMatchObject([{ partition: 0, offset: 0 }]);
    // Both calls add to an open batch before the linger timer fires, which sends both in one request.
    const poisoned = producer.send('two', [{ partition: 0, value: 'poison' }]);
    const good = producer.send('two', [{ partition: 1, value: 'good' }]);
    await expect(poisoned).rejects.toThrow('the compressor failed');
    await expect(good).resolves.toMatchObject([{ partition: 1, offset: 0 }]);
    // Had the failed batch taken sequence numbers, this one would meet OUT_OF_ORDER_SEQUENCE_NUMBER until delivery.timeout.ms.
    await expect(producer.send('two', [{ partition: 0, value: 'after' }])).resolves.toMatchObject([{ partition: 0, offset: 1 }]);
    expect(await values('two', 0)).toEqual(['first', 'after']);
    expect(await values('two', 1)).toEqual(['good']);
  });
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

it('after the broker refuses a batch (MESSAGE_TOO_LARGE), the idempotent producer bumps its epoch and the batches behind it land in order', async () => {
  broker = await startBroker({ port: 0 });
  await broker.engine.createTopic('large', { partitions: 1, config: { 'max.message.bytes': '2000' } });
  client = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`] });
  // 1 KiB batches: the large record's batch is sealed alone and sent at once; the small ones follow it in a batch of their own.
  const producer = await Producer.create(client, { acks: -1, lingerMs: 0, batchBytes: 1024, deliveryTimeoutMs: 20_000 });
  await expect(producer.send('large', [{ value: 'first' }])).resolves.toMatchObject([{ offset: 0 }]);
  const large = producer.send('large', [{ value: 'x'.repeat(5000) }]);
  const small = Array.from({ length: 5 }, (_, i) => producer.send('large', [{ value: `small ${i}` }]));
  await expect(large).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
  // Without the bump their sequence numbers follow the refused batch's: OUT_OF_ORDER_SEQUENCE_NUMBER until delivery.timeout.ms.
  expect((await Promise.all(small)).map(([result]) => result!.offset)).toEqual([1, 2, 3, 4, 5]);
  await expect(producer.send('large', [{ value: 'last' }])).resolves.toMatchObject([{ offset: 6 }]);
  expect(await values('large')).toEqual(['first', 'small 0', 'small 1', 'small 2', 'small 3', 'small 4', 'last']);
  const log = broker.engine.partitionLog('large', 0);
  const read = log.read(0, 1 << 20, { maxOffset: log.logEndOffset, minOneBatch: true })!;
  const bytes = log.readBytes(read);
  const epochs: number[] = [];
  for (let at = 0; at < bytes.length; at += LOG_OVERHEAD + bytes.readInt32BE(at + BATCH_LENGTH_OFFSET)) epochs.push(bytes.readInt16BE(at + PRODUCER_EPOCH_OFFSET));
  expect(epochs[0]).toBe(0);
  expect(epochs.slice(1).every((epoch) => epoch === 1)).toBe(true);
});
