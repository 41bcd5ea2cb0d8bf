// The idempotent producer, with retries: a batch sent again (as a producer does after a lost
// response) is acknowledged with its original offsets and not appended again; a sequence gap is
// OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch is fenced; and all of it holds after the broker
// restarts, cleanly or after SIGKILL (the state is rebuilt from the log's batch headers).
import { afterEach, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { KafkaErrorCode } from '../../src/errors.js';
import { ApiKey } from '../../src/protocol/index.js';
import { encodeBatch } from '../../src/record/batch.js';
import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { tempDir, waitUntil } from '../helpers.js';

let broker: BrokerProcess | undefined;
let client: KafkaClient | undefined;

afterEach(async () => {
  client?.close();
  await broker?.stop();
});

interface Producer {
  producerId: number;
  producerEpoch: number;
}

function batch(producer: Producer, baseSequence: number, count: number): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ value: `seq-${baseSequence + i}` }));
  return encodeBatch(records, { ...producer, baseSequence });
}

async function produce(records: Buffer): Promise<{ errorCode: number; baseOffset: number }> {
  const connection = await client!.leaderConnection('idem', 0);
  const response = await connection.request(ApiKey.Produce, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'idem', partitionData: [{ index: 0, records }] }] });
  return response.responses[0].partitionResponses[0];
}

async function connect(): Promise<void> {
  client?.close();
  client = await KafkaClient.connect({ brokers: [broker!.address] });
}

async function logEnd(): Promise<number> {
  return client!.listOffset('idem', 0, -1);
}

describe('idempotent produce', () => {
  for (const restart of ['stop', 'kill'] as const) {
    it(`deduplicates retries and refuses gaps, also after a ${restart === 'stop' ? 'clean restart' : 'SIGKILL'}`, async () => {
      const dataDir = tempDir();
      broker = await startBrokerProcess(dataDir);
      await connect();
      await client!.createTopics([{ name: 'idem', partitions: 1 }]);
      const connection = await client!.anyConnection();
      const producer: Producer = await connection.request(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
      expect(producer.producerEpoch).toBe(0);

      const first = batch(producer, 0, 5);
      expect(await produce(Buffer.from(first))).toMatchObject({ errorCode: 0, baseOffset: 0 });
      // The same batch again, as after a lost response: the original offset, nothing appended.
      expect(await produce(Buffer.from(first))).toMatchObject({ errorCode: 0, baseOffset: 0 });
      expect(await logEnd()).toBe(5);
      // A gap in the sequence.
      expect((await produce(batch(producer, 10, 1))).errorCode).toBe(KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      const second = batch(producer, 5, 3);
      expect(await produce(Buffer.from(second))).toMatchObject({ errorCode: 0, baseOffset: 5 });
      expect(await logEnd()).toBe(8);

      client!.close();
      await (restart === 'stop' ? broker.stop() : broker.kill());
      broker = await startBrokerProcess(dataDir);
      await connect();

      // A retry of the last batch after the restart is still recognised.
      expect(await produce(Buffer.from(second))).toMatchObject({ errorCode: 0, baseOffset: 5 });
      expect(await logEnd()).toBe(8);
      expect((await produce(batch(producer, 3, 2))).errorCode).toBe(KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      expect(await produce(batch(producer, 8, 2))).toMatchObject({ errorCode: 0, baseOffset: 8 });
      // An older epoch is fenced once a newer one has written.
      const bumped = { ...producer, producerEpoch: producer.producerEpoch + 1 };
      expect(await produce(batch(bumped, 0, 1))).toMatchObject({ errorCode: 0, baseOffset: 10 });
      expect((await produce(batch(producer, 10, 1))).errorCode).toBe(KafkaErrorCode.INVALID_PRODUCER_EPOCH);
      expect(await logEnd()).toBe(11);
    });
  }
});

describe('DescribeProducers (KIP-664)', () => {
  it("lists each partition's producers with their epoch and last sequence; an unknown partition is UNKNOWN_TOPIC_OR_PARTITION", async () => {
    broker = await startBrokerProcess(tempDir());
    await connect();
    await client!.createTopics([{ name: 'idem', partitions: 1 }]);
    const connection = await client!.anyConnection();
    const init = () => connection.request(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
    const [first, second]: Producer[] = [await init(), await init()];
    expect((await produce(batch(first!, 0, 5))).errorCode).toBe(0);
    expect((await produce(batch(first!, 5, 2))).errorCode).toBe(0);
    expect((await produce(batch(second!, 0, 3))).errorCode).toBe(0);

    const response = await connection.request(ApiKey.DescribeProducers, { topics: [{ name: 'idem', partitionIndexes: [0, 7] }, { name: 'nope', partitionIndexes: [0] }] });
    const [known, missing] = response.topics[0].partitions;
    expect(known.errorCode).toBe(0);
    expect(known.activeProducers).toEqual([
      expect.objectContaining({ producerId: first!.producerId, producerEpoch: 0, lastSequence: 6, coordinatorEpoch: -1, currentTxnStartOffset: -1 }),
      expect.objectContaining({ producerId: second!.producerId, producerEpoch: 0, lastSequence: 2 }),
    ]);
    expect(known.activeProducers[0].lastTimestamp).toBeGreaterThan(0);
    expect(missing.errorCode).toBe(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(response.topics[1].partitions[0].errorCode).toBe(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});

describe('producer.id.expiration.ms', () => {
  it('forgets a producer silent that long every producer.id.expiration.check.interval.ms: DescribeProducers drops it, and its late retry is appended again', async () => {
    broker = await startBrokerProcess(tempDir(), { 'producer.id.expiration.ms': 1500, 'producer.id.expiration.check.interval.ms': 50 });
    await connect();
    await client!.createTopics([{ name: 'idem', partitions: 1 }]);
    const connection = await client!.anyConnection();
    const init = (): Promise<Producer> => connection.request(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
    const producer = await init();
    const first = batch(producer, 0, 5);
    expect(await produce(first)).toMatchObject({ errorCode: 0, baseOffset: 0 });
    // Within the expiration a retry is a duplicate: acknowledged with its offset, not appended.
    expect(await produce(first)).toMatchObject({ errorCode: 0, baseOffset: 0 });
    const producers = async () =>
      (await connection.request(ApiKey.DescribeProducers, { topics: [{ name: 'idem', partitionIndexes: [0] }] })).topics[0].partitions[0].activeProducers as Array<{ producerId: number }>;
    expect((await producers()).map((p) => p.producerId)).toEqual([producer.producerId]);
    // The batch's timestamp is its records' (now): it expires 1.5 s later, at the next check.
    await waitUntil(async () => (await producers()).length === 0, 'the producer to expire');
    expect(await produce(first)).toMatchObject({ errorCode: 0, baseOffset: 5 });
    expect(await logEnd()).toBe(10);
  });
});

