// AlterPartitionReassignments (45) and ListPartitionReassignments (46) on a single broker, through
// the project's client (which sends a cancel as a null replica list, as Kafka's admin does): the
// broker holds every replica itself, so a target of itself alone is in place already, any other
// names brokers that do not exist, a cancel finds nothing in flight, and nothing is ever listed.
// The cluster's reassignments are tested in test/cluster/reassignment.test.ts and controller.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { startBroker, type Broker } from '../../src/index.js';

let broker: Broker;
let client: KafkaClient;

beforeAll(async () => {
  broker = await startBroker({ port: 0, config: { 'node.id': 4 } });
  client = await KafkaClient.connect({ brokers: [`localhost:${broker.port}`] });
  await client.createTopics([{ name: 'solo', partitions: 2 }]);
});

afterAll(async () => {
  client?.close();
  await broker?.stop();
});

describe('partition reassignments on a single broker', () => {
  it("answers each partition with Kafka's error, or none when the target is this broker alone", async () => {
    const results = await client.alterPartitionReassignments([
      { topic: 'solo', partition: 0, replicas: [4] },
      { topic: 'solo', partition: 1, replicas: [4, 5] },
      { topic: 'solo', partition: 1, replicas: null },
      { topic: 'solo', partition: 7, replicas: [4] },
      { topic: 'absent', partition: 0, replicas: [4] },
    ]);
    expect(results.map(({ topic, partition, error }) => [topic, partition, error?.code ?? null])).toEqual([
      ['solo', 0, null],
      ['solo', 1, 'INVALID_REPLICA_ASSIGNMENT'],
      ['solo', 1, 'NO_REASSIGNMENT_IN_PROGRESS'],
      ['solo', 7, 'UNKNOWN_TOPIC_OR_PARTITION'],
      ['absent', 0, 'UNKNOWN_TOPIC_OR_PARTITION'],
    ]);
    expect(await client.listPartitionReassignments(null)).toEqual([]);
    expect(await client.listPartitionReassignments([{ topic: 'solo', partition: 0 }])).toEqual([]);
  });
});
