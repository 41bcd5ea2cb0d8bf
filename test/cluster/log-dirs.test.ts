// Three real brokers and a real etcd in this process, each broker with two log directories
// (log.dirs, JBOD): replicas of a topic with replication factor 3 are spread over each broker's
// directories and replicated byte for byte; a broker that stops and comes back finds each replica
// in the directory it left it in, catches up and rejoins the ISR. kafkajs is the client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startInProcessCluster, type InProcessCluster } from '../fixtures/cluster-in-process.js';
import { kafka } from '../fixtures/kafkajs.js';
import { waitUntil } from './helpers.js';

const TOPIC = 'jbod';
const PARTITIONS = 4;

let cluster: InProcessCluster;
let client: any;
let admin: any;

beforeAll(async () => {
  cluster = await startInProcessCluster({ brokers: 3, logDirs: 2, config: { 'group.initial.rebalance.delay.ms': 0, 'replica.lag.time.max.ms': 5000 } });
  client = kafka(cluster.bootstrapServers);
  admin = client.admin();
  await admin.connect();
}, 60_000);

afterAll(async () => {
  await admin?.disconnect();
  await cluster?.stop();
}, 120_000);

/** Every running broker's log of the partition, as bytes from offset 0 to its log end. */
function logBytes(partition: number): Map<number, Buffer> {
  const bytes = new Map<number, Buffer>();
  for (const [id, broker] of cluster.brokers) {
    const log = broker.engine.partitionLog(TOPIC, partition);
    const read = log.read(log.logStartOffset, 64 * 1024 * 1024, { maxOffset: log.logEndOffset });
    bytes.set(id, read === null ? Buffer.alloc(0) : log.readBytes(read));
  }
  return bytes;
}

/** Every partition has all three brokers in its ISR, and every replica's log equals its leader's, with the high watermark at its end. */
async function inSync(records: number): Promise<boolean> {
  const metadata = await admin.fetchTopicMetadata({ topics: [TOPIC] });
  if (!metadata.topics[0].partitions.every((p: { isr: number[] }) => p.isr.length === 3)) return false;
  let total = 0;
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const logs = [...logBytes(partition).values()];
    if (logs.length !== 3 || !logs.every((bytes) => bytes.equals(logs[0]!))) return false;
    for (const broker of cluster.brokers.values()) {
      const log = broker.engine.partitionLog(TOPIC, partition);
      if (log.highWatermark !== log.logEndOffset) return false;
    }
    total += cluster.brokers.get(1)!.engine.latestOffset(TOPIC, partition);
  }
  return total === records;
}

async function produce(from: number, count: number): Promise<void> {
  const producer = client.producer();
  await producer.connect();
  try {
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const messages = Array.from({ length: count / PARTITIONS }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}`, partition }));
      await producer.send({ topic: TOPIC, acks: -1, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

describe('a cluster of brokers with two log directories each', () => {
  let placement: Map<number, string[]>;

  it('spreads the replicas over each broker\'s directories and replicates them byte for byte', async () => {
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3 }], waitForLeaders: true });
    await produce(0, 400);
    await waitUntil(() => inSync(400), 'every replica in sync');
    placement = new Map();
    for (const [id, broker] of cluster.brokers) {
      const dirs = Array.from({ length: PARTITIONS }, (_, partition) => broker.engine.logDirOf(TOPIC, partition));
      // Both directories hold some of the four replicas.
      for (const dir of broker.engine.logDirs) expect(dirs.filter((d) => d === dir).length).toBeGreaterThanOrEqual(1);
      expect(new Set(dirs)).toEqual(new Set(broker.engine.logDirs));
      expect(broker.engine.logDirs[0]).toBe(cluster.dataDirOf(id));
      placement.set(id, dirs);
    }
  });

  it('a broker that stops and returns keeps each replica in its directory, catches up and rejoins the ISR', async () => {
    await cluster.stopBroker(2);
    await produce(400, 200);
    const broker = await cluster.startBroker(2);
    expect(Array.from({ length: PARTITIONS }, (_, partition) => broker.engine.logDirOf(TOPIC, partition))).toEqual(placement.get(2));
    await waitUntil(() => inSync(600), 'broker 2 caught up and back in every ISR');
  });
});
