// broker.rack on a 3-broker cluster (real etcd, real broker processes): brokers 1 and 2 in rack
// "a", broker 3 in rack "b". Metadata and DescribeCluster give each broker's rack; topics created
// without an explicit assignment, and partitions added later, get rack-aware replicas (every
// partition of replication factor 2 has one replica in each rack, where the rack-unaware
// assignment would put some on brokers 1 and 2 alone); sluice reassign-partitions --generate
// proposes rack-aware moves unless --disable-rack-aware. With replica.selector.class set to
// Kafka's RackAwareReplicaSelector (KIP-392), a consumer that names its rack is sent by the leader
// to the in-sync replica in that rack and reads there: our own requests, kafkajs (rackId), kcat
// (client.rack) and sluice's own consumers (the Fetcher, `sluice consume --consumer-property
// client.rack=b`, a PoolConsumer) read every record.
import fs from 'node:fs';
import path from 'node:path';

import { Connection, describeClusterV1 } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Kafka, logLevel } from 'kafkajs';

import { BrokerConnection } from '../../src/client/connection.js';
import { KafkaClient } from '../../src/client/client.js';
import { Fetcher } from '../../src/client/fetcher.js';
import { PoolConsumer } from '../../src/consumer/pool-consumer.js';
import { Collector, HANDLER } from '../consumer/helpers.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { fetchBody } from '../fixtures/probes.js';
import { kcat } from '../fixtures/kcat.js';
import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { runCli } from '../cli/run-cli.js';
import { tempDir } from '../helpers.js';
import { waitUntil } from './helpers.js';

const RACKS: Record<number, string> = { 1: 'a', 2: 'a', 3: 'b' };

let cluster: LocalCluster;
let client: KafkaClient;

beforeAll(async () => {
  cluster = await startCluster({
    brokers: 3,
    config: {
      'replica.selector.class': 'org.apache.kafka.common.replica.RackAwareReplicaSelector',
      'group.initial.rebalance.delay.ms': 0,
      // Above a consumer's fetch wait below (8 s): a follower learns a new high watermark as it
      // moves, not when its parked fetch of the leader times out. (New partitions, such as
      // __consumer_offsets' when the kafkajs group starts, wait for that fetch to end, as in Kafka.)
      'replica.fetch.wait.max.ms': 10_000,
    },
    brokerConfig: (id) => ({ 'broker.rack': RACKS[id]! }),
  });
  client = await KafkaClient.connect({ brokers: cluster.bootstrapServers.split(',') });
  await waitUntil(async () => (await client.metadata([])).brokers.length === 3, 'every broker to register');
}, 120_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
}, 60_000);

/** Per partition, the racks of its replicas. */
async function racksOfTopic(topic: string): Promise<string[][]> {
  const [described] = (await client.metadata([topic])).topics;
  return described!.partitions.map((p) => p.replicas.map((id) => RACKS[id]!).sort());
}

describe('broker.rack', () => {
  it("Metadata and DescribeCluster (@platformatic/kafka) give each broker's rack", async () => {
    const brokers = (await client.metadata([])).brokers.sort((a, b) => a.nodeId - b.nodeId);
    expect(brokers.map((b) => [b.nodeId, b.rack])).toEqual([[1, 'a'], [2, 'a'], [3, 'b']]);
    const connection = new Connection('racks-test');
    try {
      await connection.connect(cluster.brokers[0]!.host, cluster.brokers[0]!.port);
      const described = await describeClusterV1.api.async(connection, false, 1);
      expect(described.brokers.map((b) => [b.brokerId, b.rack]).sort()).toEqual([[1, 'a'], [2, 'a'], [3, 'b']]);
    } finally {
      await connection.close();
    }
  });

  it('a topic and the partitions added to it get one replica in each rack', async () => {
    await client.createTopics([{ name: 'spread', partitions: 6, replicationFactor: 2 }]);
    expect(await racksOfTopic('spread')).toEqual(Array.from({ length: 6 }, () => ['a', 'b']));
    await client.createPartitions('spread', 9);
    await waitUntil(async () => (await client.metadata(['spread'])).topics[0]!.partitions.length === 9, 'the topic to have 9 partitions');
    expect(await racksOfTopic('spread')).toEqual(Array.from({ length: 9 }, () => ['a', 'b']));
  });

  it('reassign-partitions --generate is rack-aware unless --disable-rack-aware', async () => {
    const dir = tempDir('racks-');
    const file = path.join(dir, 'topics.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, topics: [{ topic: 'spread' }] }));
    const proposed = async (...extra: string[]) => {
      const result = await runCli(['reassign-partitions', '--bootstrap-server', cluster.bootstrapServers, '--generate', '--topics-to-move-json-file', file, '--broker-list', '1,2,3', ...extra]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const json = JSON.parse(result.stdout.trimEnd().split('\n').at(-1)!);
      return (json.partitions as Array<{ replicas: number[] }>).map((p) => p.replicas.map((id) => RACKS[id]!).sort().join(''));
    };
    expect(new Set(await proposed())).toEqual(new Set(['ab']));
    // Rack-unaware, the 9 partitions over 3 brokers put some on brokers 1 and 2 together.
    expect(await proposed('--disable-rack-aware')).toContain('aa');
  });

  it('sluice broker-api-versions prints each broker with its rack', async () => {
    const result = await runCli(['broker-api-versions', '--bootstrap-server', cluster.bootstrapServers]);
    expect(result.code).toBe(0);
    const nodes = result.stdout.split('\n').filter((line) => line.endsWith(' -> ('));
    expect(nodes).toEqual(cluster.brokers.map((b) => `${b.host}:${b.port} (id: ${b.id} rack: ${RACKS[b.id]}) -> (`));
  });
});

describe('follower fetching (replica.selector.class RackAwareReplicaSelector)', () => {
  const TOPIC = 'nearby';
  const RECORDS = 100;

  beforeAll(async () => {
    // Led by broker 1 (rack a); broker 3 is the one replica in rack b.
    await client.createTopics([{ name: TOPIC, assignments: [[1, 2, 3]] }]);
    const producer = new Kafka({ clientId: 'racks-producer', brokers: cluster.bootstrapServers.split(','), logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: TOPIC, acks: -1, messages: Array.from({ length: RECORDS }, (_, i) => ({ value: `r${i}` })) });
    await producer.disconnect();
    await waitUntil(async () => (await client.metadata([TOPIC])).topics[0]!.partitions[0]!.isr.length === 3, 'the ISR to hold all three replicas');
  }, 60_000);

  async function fetchFrom(brokerId: number, rackId: string) {
    const broker = cluster.brokers[brokerId - 1]!;
    const connection = await BrokerConnection.connect({ host: broker.host, port: broker.port });
    try {
      const response = await connection.request(ApiKey.Fetch, { ...fetchBody(TOPIC), rackId }, 12);
      return response.responses[0].partitions[0];
    } finally {
      connection.close();
    }
  }

  it('the leader sends a consumer in rack b to broker 3 with no records, which serves it to its high watermark', async () => {
    const redirected = await fetchFrom(1, 'b');
    expect(redirected).toMatchObject({ errorCode: 0, preferredReadReplica: 3, highWatermark: RECORDS });
    expect(redirected.records.length).toBe(0);
    // The leader's own rack, and no rack: the leader serves.
    for (const rack of ['a', '']) {
      const served = await fetchFrom(1, rack);
      expect(served).toMatchObject({ errorCode: 0, preferredReadReplica: -1 });
      expect(served.records.length).toBeGreaterThan(0);
    }
    // The follower learns the high watermark from its next fetch of the leader.
    await waitUntil(async () => (await fetchFrom(3, 'b')).highWatermark === RECORDS, "broker 3's high watermark to reach the leader's");
    const fromFollower = await fetchFrom(3, 'b');
    expect(fromFollower).toMatchObject({ errorCode: 0, preferredReadReplica: -1 });
    expect(fromFollower.records.length).toBeGreaterThan(0);
    // A consumer without a rack is never sent there: come by stale metadata, it goes back to the leader.
    expect((await fetchFrom(3, '')).errorCode).toBe(6); // NOT_LEADER_OR_FOLLOWER
  });

  it('a follower learns each new high watermark at once: a fetch parked there gets the next record, not its timeout', async () => {
    const broker = cluster.brokers[2]!;
    const connection = await BrokerConnection.connect({ host: broker.host, port: broker.port, requestTimeoutMs: 60_000 });
    try {
      // Waits up to 8 s for a record past the 100 there; replica.fetch.wait.max.ms is 10 s.
      const parked = connection.request(ApiKey.Fetch, { ...fetchBody(TOPIC, { fetchOffset: RECORDS, maxWaitMs: 8_000 }), rackId: 'b' }, 12);
      const producer = new Kafka({ clientId: 'racks-late', brokers: cluster.bootstrapServers.split(','), logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      await producer.send({ topic: TOPIC, acks: -1, messages: [{ value: 'late' }] });
      await producer.disconnect();
      const answer = (await parked).responses[0].partitions[0];
      expect(answer).toMatchObject({ errorCode: 0, highWatermark: RECORDS + 1 });
      expect(answer.records.length).toBeGreaterThan(0);
    } finally {
      connection.close();
    }
  });

  it('kafkajs with rackId b reads every record, told to read at broker 3', async () => {
    const messages: string[] = [];
    const kafka = new Kafka({
      clientId: 'racks-consumer',
      brokers: cluster.bootstrapServers.split(','),
      logLevel: logLevel.INFO,
      logCreator: () => ({ log }: any) => void messages.push(log.message),
    });
    const consumer = kafka.consumer({ groupId: 'racks-kafkajs', rackId: 'b' });
    const values: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }: any) => void values.push(message.value.toString()) });
      // Its group's first join creates __consumer_offsets, whose partitions each follower starts
      // fetching when its fetch in flight ends (up to replica.fetch.wait.max.ms, 10 s, as in
      // Kafka); after the leader's redirect kafkajs waits out its maxWaitTime (5 s) once.
      await waitUntil(async () => values.length >= RECORDS + 1, 'kafkajs to read every record', 60_000);
    } finally {
      await consumer.disconnect();
    }
    expect(values).toEqual([...Array.from({ length: RECORDS }, (_, i) => `r${i}`), 'late']);
    expect(messages).toContain('Preferred read replica is now 3');
  }, 90_000);

  it('kcat (librdkafka) with client.rack b reads every record, moving to broker 3', async () => {
    const result = await kcat(['-b', cluster.bootstrapServers, '-C', '-t', TOPIC, '-o', 'beginning', '-e', '-X', 'client.rack=b', '-d', 'fetch']);
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toEqual([...Array.from({ length: RECORDS }, (_, i) => `r${i}`), 'late']);
    // librdkafka's fetch debug line when a leader names a preferred read replica.
    expect(result.stderr).toMatch(/Topic nearby \[0\]: migrating from broker 1 to 3 \(leader is 1\): preferred replica updated/);
  });

  it("sluice's Fetcher with clientRack b moves to broker 3 and reads every record there", async () => {
    const fetcher = new Fetcher(client, { clientRack: 'b', maxWaitMs: 100 });
    await fetcher.assign(TOPIC, 0, 'earliest');
    const values: string[] = [];
    await waitUntil(async () => {
      for (const record of (await fetcher.fetch()).records) values.push(record.value!.toString());
      return values.length >= RECORDS + 1;
    }, 'the Fetcher to read every record', 30_000);
    expect(values).toEqual([...Array.from({ length: RECORDS }, (_, i) => `r${i}`), 'late']);
    expect(fetcher.preferredReadReplica(TOPIC, 0)).toBe(3);
    // In the leader's rack it stays at the leader.
    const atLeader = new Fetcher(client, { clientRack: 'a', maxWaitMs: 100 });
    await atLeader.assign(TOPIC, 0, 'earliest');
    expect((await atLeader.fetch()).records.length).toBeGreaterThan(0);
    expect(atLeader.preferredReadReplica(TOPIC, 0)).toBe(-1);
  });

  it('sluice consume --consumer-property client.rack=b and a PoolConsumer with clientRack b read every record', async () => {
    const result = await runCli(['consume', '--bootstrap-server', cluster.bootstrapServers, '--topic', TOPIC, '--from-beginning',
      '--consumer-property', 'client.rack=b', '--max-messages', String(RECORDS + 1), '--timeout-ms', '20000']);
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toEqual([...Array.from({ length: RECORDS }, (_, i) => `r${i}`), 'late']);

    const collector = new Collector('racks-pool');
    const pool = new PoolConsumer({
      brokers: cluster.bootstrapServers.split(','),
      groupId: 'racks-pool',
      topics: [TOPIC],
      handler: HANDLER,
      concurrency: 1,
      autoOffsetReset: 'earliest',
      clientRack: 'b',
      workerData: { channel: collector.name },
    });
    await pool.start();
    try {
      await waitUntil(() => collector.records >= RECORDS + 1, 'the PoolConsumer to handle every record', 60_000);
      // Read at broker 3, the in-sync replica in rack b, not at the leader.
      expect(pool.preferredReadReplica(TOPIC, 0)).toBe(3);
    } finally {
      await pool.stop();
      collector.close();
    }
    expect(collector.offsetsOf(0)).toEqual(Array.from({ length: RECORDS + 1 }, (_, i) => i));
  }, 90_000);
});
