// KafkaClient's metadata.max.age.ms: a topic's cached partitions and leaders are asked for again
// once that old, as Kafka's clients do, so a long-lived producer spreads keys over partitions
// added since it first looked (CreatePartitions), instead of the count it saw at its start.
import { afterEach, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { KafkaClient } from '../../src/client/client.js';
import { Producer } from '../../src/client/producer.js';

let broker: Broker | undefined;
let client: KafkaClient | undefined;

afterEach(async () => {
  client?.close();
  await broker?.stop();
  client = undefined;
  broker = undefined;
});

const keyed = (count: number) => Array.from({ length: count }, (_, i) => ({ key: `key-${i}`, value: 'v' }));

it('a producer spreads keys over partitions added once its metadata is metadataMaxAgeMs old', async () => {
  broker = await startBroker({ port: 0 });
  await broker.engine.createTopic('growing', { partitions: 2 });
  client = await KafkaClient.connect({ brokers: [`localhost:${broker.port}`], metadataMaxAgeMs: 100 });
  const producer = await Producer.create(client, { acks: 1 });
  const before = await producer.send('growing', keyed(50));
  expect(new Set(before.map((r) => r.partition))).toEqual(new Set([0, 1]));
  await broker.engine.createPartitions('growing', 4);
  await new Promise((resolve) => setTimeout(resolve, 150));
  const after = await producer.send('growing', keyed(50));
  // murmur2(key) % 4 now: the same keys reach the added partitions too, as with Kafka's producer.
  expect(new Set(after.map((r) => r.partition))).toEqual(new Set([0, 1, 2, 3]));
  expect(broker.engine.partitionLog('growing', 3).logEndOffset).toBeGreaterThan(0);
  await producer.close();
});
