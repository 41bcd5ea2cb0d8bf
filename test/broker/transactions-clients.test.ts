// Transactions with @platformatic/kafka 1.35 (beginTransaction, send, commit, abort, and offsets
// sent for its consumer's message) and read back by librdkafka (kcat, read_committed by default)
// and platformatic's read_committed consumer, against a sluice broker process.
import { Consumer, FetchIsolationLevels, MessagesStreamModes, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { kcat } from '../fixtures/kcat.js';
import { tempDir } from '../helpers.js';

let broker: BrokerProcess;

beforeAll(async () => {
  broker = await startBrokerProcess(tempDir(), { 'group.initial.rebalance.delay.ms': 0, 'transaction.state.log.num.partitions': 3, 'offsets.topic.num.partitions': 3 });
});

afterAll(async () => {
  await broker?.stop();
});

function producer(transactionalId: string) {
  return new Producer({ clientId: 'platformatic-txn', bootstrapBrokers: [broker.address], serializers: stringSerializers, idempotent: true, transactionalId });
}

/** `count` values of `topic` read from the start by a read_committed platformatic consumer. */
async function consumeCommitted(topic: string, count: number, groupId: string): Promise<string[]> {
  const consumer = new Consumer({
    groupId,
    clientId: 'platformatic-txn-reader',
    bootstrapBrokers: [broker.address],
    deserializers: stringDeserializers,
    maxWaitTime: 200,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
  });
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
  const values: string[] = [];
  for await (const message of stream) {
    values.push(message.value as string);
    if (values.length >= count) break;
  }
  await stream.close();
  await consumer.close();
  return values;
}

describe('transactions with @platformatic/kafka and librdkafka', () => {
  it('platformatic commits and aborts; kcat and platformatic read_committed read the committed records only', async () => {
    const topic = 'platformatic-txn';
    const writer = producer('platformatic-txn-1');
    await writer.metadata({ topics: [topic], autocreateTopics: true });
    for (const [values, end] of [
      [['c1', 'c2'], 'commit'],
      [['a1', 'a2'], 'abort'],
      [['c3'], 'commit'],
    ] as const) {
      const transaction = await writer.beginTransaction();
      await transaction.send({ messages: values.map((value) => ({ topic, value, partition: 0 })) });
      await transaction[end]();
    }
    await writer.close();

    expect(await consumeCommitted(topic, 3, 'platformatic-committed')).toEqual(['c1', 'c2', 'c3']);
    // librdkafka reads read_committed by default, and skips the markers and the aborted records.
    const read = await kcat(['-C', '-b', broker.address, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\\n']);
    expect(read).toMatchObject({ code: 0, stdout: 'c1\nc2\nc3\n' });
    const uncommitted = await kcat(['-C', '-b', broker.address, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\\n', '-X', 'isolation.level=read_uncommitted']);
    expect(uncommitted).toMatchObject({ code: 0, stdout: 'c1\nc2\na1\na2\nc3\n' });
  });

  it('a consume-transform-produce loop commits its consumer\'s offsets with its output (addConsumer, addOffset)', async () => {
    const input = 'platformatic-txn-in';
    const output = 'platformatic-txn-out';
    const seed = new Producer({ clientId: 'seed', bootstrapBrokers: [broker.address], serializers: stringSerializers });
    await seed.metadata({ topics: [input], autocreateTopics: true });
    await seed.send({ messages: ['x', 'y', 'z'].map((value) => ({ topic: input, value, partition: 0 })) });
    await seed.close();

    const consumer = new Consumer({ groupId: 'transformer', clientId: 'transformer', bootstrapBrokers: [broker.address], deserializers: stringDeserializers, maxWaitTime: 200, autocommit: false });
    const writer = producer('platformatic-transformer');
    await writer.metadata({ topics: [output], autocreateTopics: true });
    const stream = await consumer.consume({ topics: [input], mode: MessagesStreamModes.EARLIEST });
    let seen = 0;
    for await (const message of stream) {
      const transaction = await writer.beginTransaction();
      await transaction.addConsumer(consumer);
      await transaction.send({ messages: [{ topic: output, value: (message.value as string).toUpperCase(), partition: 0 }] });
      await transaction.addOffset(message);
      await transaction.commit();
      if (++seen === 3) break;
    }
    await stream.close();
    await consumer.close();
    await writer.close();

    expect(await consumeCommitted(output, 3, 'output-reader')).toEqual(['X', 'Y', 'Z']);
    // The group's committed offset moved with the transactions: past the last record read.
    const offsets = await kcat(['-C', '-b', broker.address, '-G', 'transformer', input, '-e', '-q', '-f', '%s\\n', '-X', 'auto.offset.reset=earliest'], '', 20_000);
    expect(offsets).toMatchObject({ code: 0, stdout: '' });
  });
});
