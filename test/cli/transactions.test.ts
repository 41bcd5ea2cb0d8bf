// `sluice transactions`, as kafka-transactions: list and describe a kafkajs producer's open
// transaction, describe a partition's producers, and find and abort a hanging transaction (one a
// partition holds open that no coordinator knows of), after which read_committed reads past it.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { KafkaClient } from '../../src/client/client.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { encodeBatch } from '../../src/record/batch.js';
import { runCli } from './run-cli.js';

let broker: Broker;
let bootstrap: string[];

beforeAll(async () => {
  // Without KIP-890's verification, as a broker before Kafka 3.6, so that a test can leave a
  // transaction hanging for find-hanging and abort to find and end.
  broker = await startBroker({
    port: 0,
    config: { 'transaction.state.log.num.partitions': 2, 'offsets.topic.num.partitions': 2, 'transaction.partition.verification.enable': false },
  });
  bootstrap = ['--bootstrap-server', `localhost:${broker.port}`];
});

afterAll(async () => {
  await broker?.stop();
});

/** A table's rows as arrays of cells (Kafka's: padded cells, each followed by a tab). */
function rows(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => line.split('\t').map((cell) => cell.trim()).filter((cell, i, all) => i < all.length - 1 || cell !== ''));
}

describe('sluice transactions', () => {
  it('lists and describes an open transaction and its partition\'s producers', async () => {
    await broker.engine.createTopic('listed', { partitions: 2 });
    const kafka = new Kafka({ clientId: 'cli', brokers: [`localhost:${broker.port}`], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ transactionalId: 'cli-open', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const transaction = await producer.transaction();
    await transaction.send({ topic: 'listed', messages: [{ value: 'v', partition: 1 }] });

    const list = await runCli(['transactions', ...bootstrap, 'list']);
    expect(list.code).toBe(0);
    expect(rows(list.stdout)[0]).toEqual(['TransactionalId', 'Coordinator', 'ProducerId', 'TransactionState']);
    expect(rows(list.stdout)).toContainEqual(['cli-open', '1', expect.stringMatching(/^\d+$/), 'Ongoing']);

    const described = await runCli(['transactions', ...bootstrap, 'describe', '--transactional-id', 'cli-open']);
    expect(described.code).toBe(0);
    const [header, row] = rows(described.stdout);
    expect(header).toEqual(['CoordinatorId', 'TransactionalId', 'ProducerId', 'ProducerEpoch', 'TransactionState', 'TransactionTimeoutMs', 'CurrentTransactionStartTimeMs', 'TransactionDurationMs', 'TopicPartitions']);
    expect(row).toEqual(['1', 'cli-open', expect.any(String), '0', 'Ongoing', '60000', expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/), 'listed-1']);

    const producers = await runCli(['transactions', ...bootstrap, 'describe-producers', '--topic', 'listed', '--partition', '1']);
    expect(rows(producers.stdout)).toEqual([
      ['ProducerId', 'ProducerEpoch', 'LatestCoordinatorEpoch', 'LastSequence', 'LastTimestamp', 'CurrentTransactionStartOffset'],
      [row![2], '0', '-1', '0', expect.stringMatching(/^\d+$/), '0'],
    ]);
    await transaction.commit();
    await producer.disconnect();

    const unknown = await runCli(['transactions', ...bootstrap, 'describe', '--transactional-id', 'nobody']);
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining('TRANSACTIONAL_ID_NOT_FOUND') });
  });

  it('finds a hanging transaction and aborts it, so read_committed reads past it', async () => {
    await broker.engine.createTopic('hanging', { partitions: 1 });
    // A transactional batch from a producer no coordinator knows (an idempotent producer id).
    const client = await KafkaClient.connect({ brokers: [`localhost:${broker.port}`] });
    const connection = await client.anyConnection();
    const { producerId, producerEpoch } = await connection.request(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
    const records = encodeBatch([{ value: 'stuck' }], { producerId, producerEpoch, baseSequence: 0, transactional: true });
    await connection.request(ApiKey.Produce, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'hanging', partitionData: [{ index: 0, records }] }] });
    await broker.engine.produce('hanging', [{ value: 'after' }], { partition: 0 });
    const readCommittedEnd = () => connection.request(ApiKey.ListOffsets, { replicaId: -1, isolationLevel: 1, topics: [{ name: 'hanging', partitions: [{ partitionIndex: 0, timestamp: -1 }] }] }, 5);
    expect(Number((await readCommittedEnd()).topics[0].partitions[0].offset)).toBe(0);

    const found = await runCli(['transactions', ...bootstrap, 'find-hanging', '--topic', 'hanging', '--max-transaction-timeout', '0']);
    expect(found.code).toBe(0);
    expect(rows(found.stdout)).toEqual([
      ['Topic', 'Partition', 'ProducerId', 'ProducerEpoch', 'CoordinatorEpoch', 'StartOffset', 'LastTimestamp', 'Duration(min)'],
      ['hanging', '0', String(producerId), String(producerEpoch), '-1', '0', expect.stringMatching(/^\d+$/), '0'],
    ]);

    const aborted = await runCli(['transactions', ...bootstrap, 'abort', '--topic', 'hanging', '--partition', '0', '--start-offset', '0']);
    expect(aborted).toMatchObject({ code: 0, stderr: '' });
    expect(Number((await readCommittedEnd()).topics[0].partitions[0].offset)).toBe(3);
    const again = await runCli(['transactions', ...bootstrap, 'find-hanging', '--topic', 'hanging', '--max-transaction-timeout', '0']);
    expect(rows(again.stdout)).toHaveLength(1);
    const read = await runCli(['consume', ...bootstrap, '--topic', 'hanging', '--from-beginning', '--timeout-ms', '1000', '--isolation-level', 'read_committed']);
    expect(read).toMatchObject({ code: 0, stdout: 'after\n' });
    client.close();

    const usage = await runCli(['transactions', ...bootstrap, 'find-hanging']);
    expect(usage).toMatchObject({ code: 1, stderr: expect.stringContaining('requires either --topic or --broker-id') });
  });
});
