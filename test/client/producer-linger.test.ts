// The producer's linger.ms, as Kafka's RecordAccumulator has it: a batch may be sent unfilled once
// it is linger.ms old, but it is sealed only when a request slot is free to take it; until then it
// keeps taking records. A request is held in flight here by the broker's own budget
// (test/fixtures/request-memory.ts): the producer's next request waits unread until it is released.
import { afterEach, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { KafkaClient } from '../../src/client/client.js';
import { Producer } from '../../src/client/producer.js';
import { holdRequestMemory } from '../fixtures/request-memory.js';
import { BATCH_LENGTH_OFFSET, LOG_OVERHEAD, RECORDS_COUNT_OFFSET } from '../../src/record/batch-format.js';

const POOL_BYTES = 64 * 1024;
const LINGER_MS = 5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let broker: Broker | undefined;
let client: KafkaClient | undefined;

afterEach(async () => {
  client?.close();
  await broker?.stop();
  client = undefined;
  broker = undefined;
});

/** The record count of each batch of partition 0, in log order. */
function batchSizes(topic: string): number[] {
  const log = broker!.engine.partitionLog(topic, 0);
  const read = log.read(0, 1 << 20, { maxOffset: log.logEndOffset, minOneBatch: true });
  const bytes = read === null ? Buffer.alloc(0) : log.readBytes(read);
  const sizes = [];
  for (let at = 0; at < bytes.length; at += LOG_OVERHEAD + bytes.readInt32BE(at + BATCH_LENGTH_OFFSET)) sizes.push(bytes.readInt32BE(at + RECORDS_COUNT_OFFSET));
  return sizes;
}

it('a lingered batch keeps taking records while no request slot is free, and goes out whole when one is', async () => {
  broker = await startBroker({ port: 0, config: { 'queued.max.request.bytes': POOL_BYTES } });
  await broker.engine.createTopic('linger', { partitions: 1 });
  client = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`] });
  const producer = await Producer.create(client, { acks: 1, idempotent: false, lingerMs: LINGER_MS, maxInFlight: 1, batchBytes: 1 << 20 });
  await producer.send('linger', [{ value: 'first' }]);

  const bytesInBefore = broker.metrics.bytesIn;
  const release = await holdRequestMemory(broker.port, POOL_BYTES);
  while (broker.metrics.bytesIn === bytesInBefore) await sleep(1); // the broker has the prefix: the pool is taken
  const held = producer.send('linger', [{ value: 'held' }]);
  const waitsBefore = broker.metrics.requestMemoryWaits;
  while (broker.metrics.requestMemoryWaits === waitsBefore) await sleep(1); // the 'held' request is in flight, unread
  // Each of these lands after the open batch has lingered: it is sendable, but the one slot is taken.
  const later: Array<Promise<unknown>> = [];
  for (let i = 0; i < 3; i++) {
    later.push(producer.send('linger', [{ value: `later ${i}` }]));
    await sleep(LINGER_MS * 3);
  }
  release();
  await Promise.all([held, ...later]);
  expect(batchSizes('linger')).toEqual([1, 1, 3]);
});
