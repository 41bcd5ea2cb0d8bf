// OffsetDelete (API 47, KIP-496) through @platformatic/kafka's Admin.deleteConsumerGroupOffsets
// against a broker process: an inactive group's offsets are removed and stay removed across a
// restart of the broker; an active consumer group keeps the offsets of the topics it consumes
// (GROUP_SUBSCRIBED_TO_TOPIC) and gives up the others; an unknown group is GROUP_ID_NOT_FOUND.
// (kafkajs 2.2.4 has no call for this API; kcat neither.) The CLI's --delete-offsets is tested in
// test/cli/groups.test.ts.
import { Admin, Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { afterEach, describe, expect, it } from 'vitest';

import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { waitForStableGroup } from '../fixtures/groups.js';
import { kafka } from '../fixtures/kafkajs.js';
import { tempDir } from '../helpers.js';

let broker: BrokerProcess | undefined;
const closers: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  await broker?.stop();
  broker = undefined;
});

async function startBroker(dataDir: string): Promise<BrokerProcess> {
  broker = await startBrokerProcess(dataDir, { 'group.initial.rebalance.delay.ms': 0 });
  return broker;
}

function adminOf(address: string): Admin {
  // No retries: UNKNOWN_TOPIC_OR_PARTITION is retriable to the client, and the test wants the answer.
  const admin = new Admin({ clientId: 'offset-delete', bootstrapBrokers: [address], retries: 0 });
  closers.push(() => admin.close());
  return admin;
}

/** Committed offsets of `topic` by partition (-1: none), read back with kafkajs. */
async function committed(address: string, groupId: string, topic: string): Promise<number[]> {
  const admin = kafka([address]).admin();
  await admin.connect();
  try {
    const [found] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return found!.partitions.sort((a: { partition: number }, b: { partition: number }) => a.partition - b.partition).map((p: { offset: string }) => Number(p.offset));
  } finally {
    await admin.disconnect();
  }
}

/** A standalone commit (no group membership), as kafka-consumer-groups --reset-offsets does. */
async function commit(address: string, groupId: string, topic: string, offsets: number[]): Promise<void> {
  const admin = kafka([address]).admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId, topic, partitions: offsets.map((offset, partition) => ({ partition, offset: String(offset) })) });
  } finally {
    await admin.disconnect();
  }
}

/** The Kafka error names in a rejected @platformatic/kafka admin call (its errors nest). */
async function kafkaErrorsOf(call: Promise<unknown>): Promise<string[]> {
  const failure = await call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error,
  );
  const names: string[] = [];
  const collect = (error: unknown) => {
    const { apiId, errors } = (error ?? {}) as { apiId?: string; errors?: unknown };
    if (apiId !== undefined) names.push(apiId);
    if (Array.isArray(errors)) errors.forEach(collect);
  };
  collect(failure);
  return names;
}

describe('OffsetDelete with @platformatic/kafka', () => {
  it("removes an inactive group's offsets, and they stay removed across a broker restart", async () => {
    const dataDir = tempDir();
    let { address } = await startBroker(dataDir);
    let admin = adminOf(address);
    await admin.createTopics({ topics: ['orders'], partitions: 3, replicas: 1 });
    await commit(address, 'billing', 'orders', [5, 6, 7]);

    const deleted = await admin.deleteConsumerGroupOffsets({ groupId: 'billing', topics: [{ name: 'orders', partitionIndexes: [0, 2] }] });
    expect(deleted).toEqual([{ name: 'orders', partitionIndexes: [0, 2] }]);
    expect(await committed(address, 'billing', 'orders')).toEqual([-1, 6, -1]);

    await admin.close();
    closers.splice(0);
    await broker!.stop();
    ({ address } = await startBroker(dataDir));
    expect(await committed(address, 'billing', 'orders')).toEqual([-1, 6, -1]);

    // The last offset removed: Kafka's cleanup then forgets the Empty group altogether.
    admin = adminOf(address);
    await admin.deleteConsumerGroupOffsets({ groupId: 'billing', topics: [{ name: 'orders', partitionIndexes: [1] }] });
    expect(await committed(address, 'billing', 'orders')).toEqual([-1, -1, -1]);
    expect(await kafkaErrorsOf(admin.deleteConsumerGroupOffsets({ groupId: 'billing', topics: [{ name: 'orders', partitionIndexes: [1] }] }))).toEqual(['GROUP_ID_NOT_FOUND']);
    expect((await admin.listGroups()).has('billing')).toBe(false);
  }, 60_000);

  it('refuses the topics an active consumer group consumes and removes the others', async () => {
    const { address } = await startBroker(tempDir());
    const admin = adminOf(address);
    await admin.createTopics({ topics: ['live', 'retired'], partitions: 2, replicas: 1 });
    await commit(address, 'readers', 'retired', [3, 4]);
    await commit(address, 'readers', 'live', [0, 0]);

    const consumer = new Consumer({ groupId: 'readers', clientId: 'reader', bootstrapBrokers: [address], deserializers: stringDeserializers, maxWaitTime: 200 });
    closers.push(() => consumer.close());
    const stream = await consumer.consume({ topics: ['live'], mode: MessagesStreamModes.COMMITTED });
    closers.push(() => stream.close());
    await waitForStableGroup(address, 'readers', 1);

    expect(await kafkaErrorsOf(admin.deleteConsumerGroupOffsets({ groupId: 'readers', topics: [{ name: 'live', partitionIndexes: [0, 1] }] }))).toEqual([
      'GROUP_SUBSCRIBED_TO_TOPIC',
      'GROUP_SUBSCRIBED_TO_TOPIC',
    ]);
    expect(await committed(address, 'readers', 'live')).toEqual([0, 0]);

    const deleted = await admin.deleteConsumerGroupOffsets({ groupId: 'readers', topics: [{ name: 'retired', partitionIndexes: [0, 1] }] });
    expect(deleted).toEqual([{ name: 'retired', partitionIndexes: [0, 1] }]);
    expect(await committed(address, 'readers', 'retired')).toEqual([-1, -1]);

    expect(await kafkaErrorsOf(admin.deleteConsumerGroupOffsets({ groupId: 'nobody', topics: [{ name: 'live', partitionIndexes: [0] }] }))).toEqual(['GROUP_ID_NOT_FOUND']);
    expect(await kafkaErrorsOf(admin.deleteConsumerGroupOffsets({ groupId: 'readers', topics: [{ name: 'missing', partitionIndexes: [0] }] }))).toEqual([
      'UNKNOWN_TOPIC_OR_PARTITION',
    ]);
  }, 60_000);
});
