// The transaction APIs on the wire, against a broker process: Kafka's errors for each misuse, the
// coordinator's timeout abort (which fences the producer), require_stable offset fetches while a
// transaction holds offsets, read_committed ListOffsets and Fetch (the last stable offset and the
// aborted transactions), DescribeTransactions and ListTransactions, and a SIGKILL of the broker
// between a transaction's decision and its markers' completion.
import { afterEach, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { KafkaErrorCode as E } from '../../src/errors.js';
import { ApiKey } from '../../src/protocol/index.js';
import { encodeBatch } from '../../src/record/batch.js';
import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { tempDir } from '../helpers.js';

const OPERATION_NOT_ATTEMPTED = 55;
const BROKER_CONFIG = { 'transaction.state.log.num.partitions': '2', 'offsets.topic.num.partitions': '2' };

let broker: BrokerProcess | undefined;
let client: KafkaClient | undefined;

afterEach(async () => {
  client?.close();
  await broker?.stop();
});

async function start(config: Record<string, string> = {}, dataDir = tempDir()): Promise<void> {
  broker = await startBrokerProcess(dataDir, { ...BROKER_CONFIG, ...config });
  client = await KafkaClient.connect({ brokers: [broker.address] });
}

async function request<T = any>(apiKey: number, body: object, version?: number): Promise<T> {
  return (await client!.anyConnection()).request<T>(apiKey, body, version);
}

interface Producer {
  producerId: number;
  producerEpoch: number;
}

async function initProducer(transactionalId: string, transactionTimeoutMs = 60_000): Promise<Producer & { errorCode: number }> {
  return request(ApiKey.InitProducerId, { transactionalId, transactionTimeoutMs, producerId: -1, producerEpoch: -1 });
}

async function addPartitions(transactionalId: string, producer: Producer, topics: Array<{ name: string; partitions: number[] }>, version = 3) {
  const response = await request(
    ApiKey.AddPartitionsToTxn,
    { v3AndBelowTransactionalId: transactionalId, v3AndBelowProducerId: producer.producerId, v3AndBelowProducerEpoch: producer.producerEpoch, v3AndBelowTopics: topics },
    version,
  );
  return response.resultsByTopicV3AndBelow.flatMap((topic: any) => topic.resultsByPartition.map((p: any) => [`${topic.name}-${p.partitionIndex}`, p.partitionErrorCode]));
}

async function endTxn(transactionalId: string, producer: Producer, committed: boolean, version = 3): Promise<number> {
  return (await request(ApiKey.EndTxn, { transactionalId, ...producer, committed }, version)).errorCode;
}

async function produce(topic: string, partition: number, producer: Producer, baseSequence: number, values: string[], transactionalId: string): Promise<number> {
  const records = encodeBatch(values.map((value) => ({ value })), { ...producer, baseSequence, transactional: true });
  const connection = await client!.leaderConnection(topic, partition);
  const response = await connection.request(ApiKey.Produce, { transactionalId, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] });
  return response.responses[0].partitionResponses[0].errorCode;
}

async function listOffset(topic: string, isolationLevel: number): Promise<number> {
  const response = await request(ApiKey.ListOffsets, { replicaId: -1, isolationLevel, topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1 }] }] }, 5);
  return Number(response.topics[0].partitions[0].offset);
}

describe('the transaction APIs', () => {
  it('answers misuse with Kafka\'s errors', async () => {
    await start({ 'transaction.max.timeout.ms': '60000' });
    await client!.createTopics([{ name: 't', partitions: 1 }]);
    expect((await initProducer('tx', 60_001)).errorCode).toBe(E.INVALID_TRANSACTION_TIMEOUT);
    const producer = await initProducer('tx');
    expect(producer).toMatchObject({ errorCode: E.NONE, producerEpoch: 0 });

    // Nothing open: EndTxn is INVALID_TXN_STATE.
    expect(await endTxn('tx', producer, true)).toBe(E.INVALID_TXN_STATE);
    // Another producer id, an unknown transactional id.
    expect(await addPartitions('tx', { producerId: producer.producerId + 1, producerEpoch: 0 }, [{ name: 't', partitions: [0] }])).toEqual([['t-0', E.INVALID_PRODUCER_ID_MAPPING]]);
    expect(await addPartitions('nobody', producer, [{ name: 't', partitions: [0] }])).toEqual([['t-0', E.INVALID_PRODUCER_ID_MAPPING]]);
    // An unknown partition fails alone; the rest are not attempted.
    expect(await addPartitions('tx', producer, [{ name: 't', partitions: [0, 7] }])).toEqual([
      ['t-0', OPERATION_NOT_ATTEMPTED],
      ['t-7', E.UNKNOWN_TOPIC_OR_PARTITION],
    ]);

    // A second InitProducerId bumps the epoch: the old epoch is fenced, by the name its version knows.
    const bumped = await initProducer('tx');
    expect(bumped).toMatchObject({ producerId: producer.producerId, producerEpoch: 1 });
    expect(await addPartitions('tx', producer, [{ name: 't', partitions: [0] }], 3)).toEqual([['t-0', E.PRODUCER_FENCED]]);
    expect(await addPartitions('tx', producer, [{ name: 't', partitions: [0] }], 1)).toEqual([['t-0', E.INVALID_PRODUCER_EPOCH]]);
    expect(await endTxn('tx', producer, false, 1)).toBe(E.INVALID_PRODUCER_EPOCH);
    // KIP-360: naming the epoch the last InitProducerId bumped from is that request's retry (its
    // answer lost): the same answer. Naming any other producer or epoch is fenced.
    const retried = await request(ApiKey.InitProducerId, { transactionalId: 'tx', transactionTimeoutMs: 60_000, ...producer }, 4);
    expect(retried).toMatchObject({ errorCode: E.NONE, producerId: bumped.producerId, producerEpoch: bumped.producerEpoch });
    const stale = await request(ApiKey.InitProducerId, { transactionalId: 'tx', transactionTimeoutMs: 60_000, producerId: producer.producerId, producerEpoch: 5 }, 4);
    expect(stale.errorCode).toBe(E.PRODUCER_FENCED);

    // The open transaction's data with the old epoch is refused by the partition too.
    expect(await addPartitions('tx', bumped, [{ name: 't', partitions: [0] }])).toEqual([['t-0', E.NONE]]);
    expect(await produce('t', 0, bumped, 0, ['v'], 'tx')).toBe(E.NONE);
    expect(await produce('t', 0, producer, 0, ['old'], 'tx')).toBe(E.INVALID_PRODUCER_EPOCH);
    expect(await endTxn('tx', bumped, true)).toBe(E.NONE);
    // A retried EndTxn is answered as the first was; the other outcome is INVALID_TXN_STATE.
    expect(await endTxn('tx', bumped, true)).toBe(E.NONE);
    expect(await endTxn('tx', bumped, false)).toBe(E.INVALID_TXN_STATE);
  });

  it('aborts a transaction past its timeout and fences its producer; require_stable waits for it', async () => {
    await start({ 'transaction.abort.timed.out.transaction.cleanup.interval.ms': '100' });
    await client!.createTopics([{ name: 't', partitions: 1 }]);
    const producer = await initProducer('slow', 500);
    expect(await addPartitions('slow', producer, [{ name: 't', partitions: [0] }])).toEqual([['t-0', E.NONE]]);
    expect(await produce('t', 0, producer, 0, ['a', 'b'], 'slow')).toBe(E.NONE);
    // Offsets in the transaction (AddOffsetsToTxn, then TxnOffsetCommit at the group's coordinator).
    expect((await request(ApiKey.AddOffsetsToTxn, { transactionalId: 'slow', ...producer, groupId: 'g' })).errorCode).toBe(E.NONE);
    const committed = await (await client!.coordinatorConnection('g')).request(ApiKey.TxnOffsetCommit, {
      transactionalId: 'slow',
      groupId: 'g',
      ...producer,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 2, committedMetadata: null }] }],
    });
    expect(committed.topics[0].partitions[0].errorCode).toBe(E.NONE);
    const fetchOffset = async (requireStable: boolean) =>
      (await (await client!.coordinatorConnection('g')).request(ApiKey.OffsetFetch, { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0] }], requireStable }, 7)).topics[0].partitions[0];
    expect(await fetchOffset(true)).toMatchObject({ errorCode: E.UNSTABLE_OFFSET_COMMIT });
    expect(await fetchOffset(false)).toMatchObject({ errorCode: E.NONE, committedOffset: -1 });
    // While it is open, read_committed's latest offset is where it began.
    expect(await listOffset('t', 1)).toBe(0);
    expect(await listOffset('t', 0)).toBe(2);

    // The coordinator aborts it after 500 ms, at a bumped epoch: the producer is fenced.
    let describe: any;
    const deadline = Date.now() + 30_000;
    do {
      await new Promise((resolve) => setTimeout(resolve, 100));
      describe = (await request(ApiKey.DescribeTransactions, { transactionalIds: ['slow'] })).transactionStates[0];
    } while (describe.transactionState !== 'CompleteAbort' && Date.now() < deadline);
    expect(describe).toMatchObject({ errorCode: E.NONE, transactionState: 'CompleteAbort', producerEpoch: producer.producerEpoch + 1, topics: [] });
    expect(await endTxn('slow', producer, true)).toBe(E.PRODUCER_FENCED);
    expect(await fetchOffset(true)).toMatchObject({ errorCode: E.NONE, committedOffset: -1 });
    // The abort marker is at offset 2: read_committed reads to the end again, and a fetch lists the abort.
    expect(await listOffset('t', 1)).toBe(3);
    const fetched = await request(ApiKey.Fetch, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 1,
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
    }, 11);
    expect(fetched.responses[0].partitions[0]).toMatchObject({ lastStableOffset: 3, abortedTransactions: [{ producerId: producer.producerId, firstOffset: 0 }] });

    const list = await request(ApiKey.ListTransactions, { stateFilters: ['CompleteAbort', 'Nonsense'], producerIdFilters: [], durationFilter: -1 }, 1);
    expect(list).toMatchObject({ errorCode: E.NONE, unknownStateFilters: ['Nonsense'], transactionStates: [{ transactionalId: 'slow', producerId: producer.producerId, transactionState: 'CompleteAbort' }] });
    expect((await request(ApiKey.DescribeTransactions, { transactionalIds: ['unknown'] })).transactionStates[0].errorCode).toBe(E.TRANSACTIONAL_ID_NOT_FOUND);
  });

  it('forgets a transactional id idle past transactional.id.expiration.ms, also after a restart', async () => {
    const dataDir = tempDir();
    const config = { 'transactional.id.expiration.ms': '300', 'transaction.remove.expired.transaction.cleanup.interval.ms': '100' };
    await start(config, dataDir);
    await client!.createTopics([{ name: 't', partitions: 1 }]);
    const producer = await initProducer('idle');
    expect(await addPartitions('idle', producer, [{ name: 't', partitions: [0] }])).toEqual([['t-0', E.NONE]]);
    expect(await endTxn('idle', producer, false)).toBe(E.NONE);
    const describe = async () => (await request(ApiKey.DescribeTransactions, { transactionalIds: ['idle'] })).transactionStates[0].errorCode;
    const deadline = Date.now() + 30_000;
    while ((await describe()) !== E.TRANSACTIONAL_ID_NOT_FOUND && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await describe()).toBe(E.TRANSACTIONAL_ID_NOT_FOUND);
    await broker!.stop();
    client!.close();
    await start(config, dataDir);
    expect(await describe()).toBe(E.TRANSACTIONAL_ID_NOT_FOUND);
    // The id starts over: a new producer id.
    expect((await initProducer('idle')).producerId).not.toBe(producer.producerId);
  });

  it('refuses a transactional write to a partition outside the transaction (KIP-890 verification), over v4 too', async () => {
    await start();
    await client!.createTopics([{ name: 't', partitions: 2 }]);
    const producer = await initProducer('verified');
    expect(await addPartitions('verified', producer, [{ name: 't', partitions: [0] }])).toEqual([['t-0', E.NONE]]);
    // t-1 is not in the transaction: taking the batch would open a transaction no marker closes.
    expect(await produce('t', 1, producer, 0, ['stray'], 'verified')).toBe(E.INVALID_TXN_STATE);
    expect(await produce('t', 0, producer, 0, ['a'], 'verified')).toBe(E.NONE);
    const latest = async (partition: number, isolationLevel: number) => {
      const response = await request(ApiKey.ListOffsets, { replicaId: -1, isolationLevel, topics: [{ name: 't', partitions: [{ partitionIndex: partition, timestamp: -1 }] }] }, 5);
      return Number(response.topics[0].partitions[0].offset);
    };
    expect([await latest(1, 0), await latest(1, 1)]).toEqual([0, 0]);

    // AddPartitionsToTxn v4: VerifyOnly checks, without it the partitions are added.
    const v4 = async (transaction: object) => {
      const response = await request(ApiKey.AddPartitionsToTxn, { transactions: [{ transactionalId: 'verified', ...producer, topics: [{ name: 't', partitions: [0, 1] }], ...transaction }] }, 4);
      expect(response.errorCode).toBe(E.NONE);
      return response.resultsByTransaction[0].topicResults[0].resultsByPartition.map((p: any) => p.partitionErrorCode);
    };
    expect(await v4({ verifyOnly: true })).toEqual([E.NONE, E.INVALID_TXN_STATE]);
    expect(await v4({ verifyOnly: true, producerEpoch: producer.producerEpoch + 1 })).toEqual([E.PRODUCER_FENCED, E.PRODUCER_FENCED]);
    expect(await v4({ verifyOnly: false })).toEqual([E.NONE, E.NONE]);
    expect(await v4({ verifyOnly: true })).toEqual([E.NONE, E.NONE]);
    expect(await produce('t', 1, producer, 0, ['b'], 'verified')).toBe(E.NONE);
    expect(await endTxn('verified', producer, true)).toBe(E.NONE);
    const deadline = Date.now() + 30_000;
    while ((await latest(1, 1)) !== 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect([await latest(0, 1), await latest(1, 1)]).toEqual([2, 2]);
  });

  it('with transaction.partition.verification.enable=false takes the stray write, and it hangs', async () => {
    await start({ 'transaction.partition.verification.enable': 'false' });
    await client!.createTopics([{ name: 't', partitions: 1 }]);
    const producer = await initProducer('unverified');
    expect(await produce('t', 0, producer, 0, ['stray'], 'unverified')).toBe(E.NONE);
    // The transaction the write opened holds read_committed at its first offset.
    expect([await listOffset('t', 0), await listOffset('t', 1)]).toEqual([1, 0]);
  });

  it('keeps a plain commit appended after a transactional one when the transaction commits, also on load', async () => {
    const dataDir = tempDir();
    await start({}, dataDir);
    await client!.createTopics([{ name: 't', partitions: 2 }]);
    const producer = await initProducer('racing');
    expect((await request(ApiKey.AddOffsetsToTxn, { transactionalId: 'racing', ...producer, groupId: 'g' })).errorCode).toBe(E.NONE);
    const coordinator = await client!.coordinatorConnection('g');
    const txnCommit = await coordinator.request(ApiKey.TxnOffsetCommit, {
      transactionalId: 'racing',
      groupId: 'g',
      ...producer,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 10, committedMetadata: null }, { partitionIndex: 1, committedOffset: 11, committedMetadata: null }] }],
    });
    expect(txnCommit.topics[0].partitions.map((p: any) => p.errorCode)).toEqual([E.NONE, E.NONE]);
    // A plain commit of partition 0 lands after the transaction's, before its marker.
    const plain = await coordinator.request(ApiKey.OffsetCommit, {
      groupId: 'g',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 20, committedLeaderEpoch: -1, committedMetadata: null }] }],
    }, 8);
    expect(plain.topics[0].partitions[0].errorCode).toBe(E.NONE);
    expect(await endTxn('racing', producer, true)).toBe(E.NONE);

    // Kafka keeps whichever commit is later in the log: 20 for partition 0, the transaction's 11 for 1.
    const fetchOffsets = async () => {
      const response = await (await client!.coordinatorConnection('g')).request(ApiKey.OffsetFetch, { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0, 1] }], requireStable: true }, 7);
      return response.topics[0].partitions.map((p: any) => [p.errorCode, Number(p.committedOffset)]);
    };
    const deadline = Date.now() + 30_000;
    while ((await fetchOffsets()).some(([errorCode]: number[]) => errorCode !== E.NONE) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await fetchOffsets()).toEqual([[E.NONE, 20], [E.NONE, 11]]);

    await broker!.stop();
    client!.close();
    await start({}, dataDir);
    expect(await fetchOffsets()).toEqual([[E.NONE, 20], [E.NONE, 11]]);
  });

  it('keeps a committed transaction committed through a SIGKILL, its offsets and its state', async () => {
    const dataDir = tempDir();
    await start({}, dataDir);
    await client!.createTopics([{ name: 't', partitions: 1 }]);
    const producer = await initProducer('durable');
    expect(await addPartitions('durable', producer, [{ name: 't', partitions: [0] }])).toEqual([['t-0', E.NONE]]);
    expect(await produce('t', 0, producer, 0, ['a'], 'durable')).toBe(E.NONE);
    expect((await request(ApiKey.AddOffsetsToTxn, { transactionalId: 'durable', ...producer, groupId: 'g' })).errorCode).toBe(E.NONE);
    const txnCommit = await (await client!.coordinatorConnection('g')).request(ApiKey.TxnOffsetCommit, {
      transactionalId: 'durable',
      groupId: 'g',
      ...producer,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }] }],
    });
    expect(txnCommit.topics[0].partitions[0].errorCode).toBe(E.NONE);
    expect(await endTxn('durable', producer, true)).toBe(E.NONE);

    await broker!.kill();
    client!.close();
    await start({}, dataDir);
    expect((await request(ApiKey.DescribeTransactions, { transactionalIds: ['durable'] })).transactionStates[0]).toMatchObject({ transactionState: 'CompleteCommit', producerEpoch: 0 });
    expect(await listOffset('t', 1)).toBe(2);
    const offsets = await (await client!.coordinatorConnection('g')).request(ApiKey.OffsetFetch, { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0] }], requireStable: true }, 7);
    expect(offsets.topics[0].partitions[0]).toMatchObject({ errorCode: E.NONE, committedOffset: 1 });
    // The next InitProducerId bumps the epoch it left.
    expect(await initProducer('durable')).toMatchObject({ producerId: producer.producerId, producerEpoch: 1 });
  });
});
