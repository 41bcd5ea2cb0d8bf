// A PoolConsumer and a kafkajs consumer in one group. kafkajs 2.2.4 offers one protocol,
// 'RoundRobinAssigner' (kafkajs/src/consumer/assigners/roundRobinAssigner: name 'RoundRobinAssigner',
// subscription version 0); Java and librdkafka name theirs 'range', 'roundrobin', 'cooperative-sticky'.
// Members share a group only through a protocol name they all offer.
import { Kafka, logLevel, type Consumer, type EachMessagePayload } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';

import type { Broker } from '../../src/broker/broker.js';
import { PoolConsumer } from '../../src/consumer/index.js';
import { Collector, HANDLER, produce, startGroupBroker, waitFor } from './helpers.js';

let broker: Broker | undefined;
const kafkajsConsumers: Consumer[] = [];
const pools: PoolConsumer[] = [];
const collectors: Collector[] = [];

afterEach(async () => {
  for (const consumer of kafkajsConsumers.splice(0)) await consumer.disconnect().catch(() => {});
  for (const pool of pools.splice(0)) await pool.stop().catch(() => {});
  for (const collector of collectors.splice(0)) collector.close();
  await broker?.stop();
  broker = undefined;
});

async function kafkajsConsumer(groupId: string, topic: string, values: string[], partitions: Set<number>): Promise<Consumer> {
  const kafka = new Kafka({ clientId: 'kafkajs-member', brokers: [`localhost:${broker!.port}`], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 50 } });
  const consumer = kafka.consumer({ groupId, heartbeatInterval: 100, sessionTimeout: 6000, rebalanceTimeout: 10_000, maxWaitTimeInMs: 100 });
  kafkajsConsumers.push(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    partitions.clear();
    for (const partition of (event.payload.memberAssignment[topic] as number[] | undefined) ?? []) partitions.add(partition);
  });
  await consumer.run({ eachMessage: async ({ message }: EachMessagePayload) => void values.push(message.value!.toString()) });
  return consumer;
}

function pool(groupId: string, topic: string, channel: string, assignors: ConstructorParameters<typeof PoolConsumer>[0]['assignors']): PoolConsumer {
  const created = new PoolConsumer({
    brokers: [`localhost:${broker!.port}`],
    groupId,
    topics: [topic],
    handler: HANDLER,
    concurrency: 2,
    autoOffsetReset: 'earliest',
    heartbeatIntervalMs: 100,
    sessionTimeoutMs: 6000,
    rebalanceTimeoutMs: 10_000,
    autoCommitIntervalMs: 200,
    maxWaitMs: 100,
    assignors,
    workerData: { channel },
  });
  pools.push(created);
  return created;
}

describe('PoolConsumer with kafkajs in one group', () => {
  it('shares a topic with a kafkajs consumer through a common protocol, either one leading', async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('both', { partitions: 4 });
    await produce(broker, 'both', 400, { partitions: 4, prefix: 'first' });
    const seen = new Collector('interop');
    collectors.push(seen);
    const kafkajsValues: string[] = [];
    const kafkajsPartitions = new Set<number>();
    const all = () => [...seen.values(), ...kafkajsValues];

    // Ours first: it leads, and kafkajs decodes the assignment our leader computed.
    const ours = pool('mixed', 'both', 'interop', ['cooperative-sticky', 'RoundRobinAssigner']);
    await ours.start();
    await kafkajsConsumer('mixed', 'both', kafkajsValues, kafkajsPartitions);
    await waitFor(() => {
      const group = broker!.groups.describeGroup('mixed');
      return group.groupState === 'Stable' && group.members.length === 2 && ours.assignment.length === 2 && kafkajsPartitions.size === 2;
    }, 'a stable group of two');
    expect(ours.groupMember!.isLeader).toBe(true);
    expect(broker.groups.describeGroup('mixed').protocolData).toBe('RoundRobinAssigner');
    expect(ours.groupMember!.rebalanceProtocol).toBe('eager'); // not every assignor offered is cooperative
    expect([...ours.assignment.map((p) => p.partition), ...kafkajsPartitions].sort()).toEqual([0, 1, 2, 3]);
    await waitFor(() => new Set(all()).size === 400, 'the first records');
    await produce(broker, 'both', 400, { partitions: 4, prefix: 'second' });
    // Both members hold partitions (checked above); which of them reads which of these records is the
    // assignment's business, so only that every record arrives is asserted.
    await waitFor(() => new Set(all()).size === 800, 'the second records');

    // Ours leaves; a new PoolConsumer joins a group that kafkajs now leads.
    await ours.stop();
    const next = pool('mixed', 'both', 'interop', ['RoundRobinAssigner']);
    await next.start();
    await waitFor(() => next.assignment.length === 2 && kafkajsPartitions.size === 2, 'the assignment from the kafkajs leader');
    expect(next.groupMember!.isLeader).toBe(false);
    await produce(broker, 'both', 400, { partitions: 4, prefix: 'third' });
    await waitFor(() => new Set(all()).size === 1200, 'the third records');
  });

  it('is refused with INCONSISTENT_GROUP_PROTOCOL when it shares no protocol with the group', async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('apart', { partitions: 2 });
    const values: string[] = [];
    await kafkajsConsumer('apart-group', 'apart', values, new Set());
    await waitFor(() => broker!.groups.describeGroup('apart-group').groupState === 'Stable', 'the kafkajs group');
    const ours = pool('apart-group', 'apart', 'apart', ['range', 'cooperative-sticky']);
    await expect(ours.start()).rejects.toMatchObject({ code: 'INCONSISTENT_GROUP_PROTOCOL' });
    expect(broker.groups.describeGroup('apart-group').members).toHaveLength(1);
  });
});

describe('PoolConsumer with a transactional kafkajs producer', () => {
  it('read_committed hands the handler committed records only, and moves past aborted ones', async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('txn-pool', { partitions: 1 });
    const kafka = new Kafka({ clientId: 'txn-writer', brokers: [`localhost:${broker.port}`], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ transactionalId: 'txn-pool-writer', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const expected: string[] = [];
    for (let t = 0; t < 6; t++) {
      const transaction = await producer.transaction();
      const values = [`t${t}-a`, `t${t}-b`];
      await transaction.send({ topic: 'txn-pool', messages: values.map((value) => ({ value })) });
      if (t % 3 === 1) await transaction.abort();
      else {
        await transaction.commit();
        expected.push(...values);
      }
    }
    // An aborted transaction last: the consumer must move past it, not fetch it forever.
    const last = await producer.transaction();
    await last.send({ topic: 'txn-pool', messages: [{ value: 'last-aborted' }] });
    await last.abort();
    await producer.disconnect();

    const committed = new Collector(`txn-pool-${process.pid}`);
    collectors.push(committed);
    const consumer = new PoolConsumer({
      brokers: [`localhost:${broker.port}`],
      groupId: 'txn-pool-group',
      topics: ['txn-pool'],
      handler: HANDLER,
      concurrency: 1,
      autoOffsetReset: 'earliest',
      maxWaitMs: 100,
      autoCommitIntervalMs: 100,
      isolationLevel: 'read_committed',
      workerData: { channel: committed.name },
    });
    pools.push(consumer);
    await consumer.start();
    await waitFor(() => committed.records >= expected.length, 'the committed records');
    // The group's commit reaches the log end: past the aborted tail and its marker.
    const end = broker.engine.partitionLog('txn-pool', 0).logEndOffset;
    const committedOffset = () => broker!.groups.fetchOffsets('txn-pool-group', [{ name: 'txn-pool', partitionIndexes: [0] }]).topics[0]!.partitions[0]!.committedOffset;
    await waitFor(() => committedOffset() === end, 'the commit past the last abort');
    expect(committed.values()).toEqual(expected);
  });
});
