// Three real brokers and a real etcd in this process (issue 8): topics with replication factor 3
// are replicated byte for byte, acks=all waits for the ISR, followers refuse to lead, controlled
// shutdown moves leadership, and a returning broker rejoins the ISR. kafkajs is the client.
import fs from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BrokerConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { encodeBatch } from '../../src/record/batch.js';
import { KafkaClient } from '../../src/client/client.js';
import { Producer } from '../../src/client/producer.js';
import { startInProcessCluster, brokerHost, type InProcessCluster } from '../fixtures/cluster-in-process.js';
import { kafka } from '../fixtures/kafkajs.js';
import { fetchBody } from '../fixtures/probes.js';
import { waitUntil } from './helpers.js';

let cluster: InProcessCluster;
let client: any;
let admin: any;

beforeAll(async () => {
  cluster = await startInProcessCluster({ brokers: 3, config: { 'group.initial.rebalance.delay.ms': 0, 'replica.lag.time.max.ms': 5000 } });
  client = kafka(cluster.bootstrapServers);
  admin = client.admin();
  await admin.connect();
}, 60_000);

afterAll(async () => {
  await admin?.disconnect();
  await cluster?.stop();
}, 120_000);

interface PartitionMetadata {
  partitionId: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

async function partitions(topic: string): Promise<PartitionMetadata[]> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0].partitions;
}

async function connectTo(brokerId: number): Promise<BrokerConnection> {
  const port = cluster.brokers.get(brokerId)!.port;
  return BrokerConnection.connect({ host: brokerHost(brokerId), port });
}

/**
 * Partition 0 of a topic of replication factor 2: stops its follower, waits for the ISR to shrink
 * to the leader, sends the leader one acks=all batch and starts the follower again. The produce
 * answer's error code, and the broker stopped.
 */
async function acksAllWithFollowerStopped(topic: string): Promise<{ errorCode: number; stopped: number }> {
  const [state] = await partitions(topic);
  const stopped = state!.replicas.find((id) => id !== state!.leader)!;
  await cluster.stopBroker(stopped);
  try {
    await waitUntil(async () => (await partitions(topic))[0]!.isr.length === 1, 'the ISR shrinks to the leader');
    const connection = await connectTo(state!.leader);
    try {
      const produced = await connection.request(ApiKey.Produce, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records: encodeBatch([{ value: Buffer.from('x') }]) }] }],
      });
      return { errorCode: produced.responses[0].partitionResponses[0].errorCode, stopped };
    } finally {
      connection.close();
    }
  } finally {
    await cluster.startBroker(stopped);
  }
}

describe('a replicated topic', () => {
  it('is created with replication factor 3: every partition has a leader, 3 replicas and a full ISR', async () => {
    await admin.createTopics({ topics: [{ topic: 'rep', numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    const found = await partitions('rep');
    expect(found).toHaveLength(3);
    for (const partition of found) {
      expect(partition.replicas.sort()).toEqual([1, 2, 3]);
      expect(partition.isr.sort()).toEqual([1, 2, 3]);
      expect(partition.replicas).toContain(partition.leader);
    }
    // Kafka's assignment spreads the preferred leaders over the brokers.
    expect(new Set(found.map((p) => p.leader)).size).toBe(3);
    // One cluster: every broker reports the id kept in etcd.
    expect(new Set([...cluster.brokers.values()].map((broker) => broker.clusterId)).size).toBe(1);
  });

  it('acknowledges acks=all writes that every replica then holds byte for byte', async () => {
    const producer = client.producer();
    await producer.connect();
    for (let i = 0; i < 30; i++) {
      await producer.send({ topic: 'rep', acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${i}-${j}`, value: `v${i}-${j}` })) });
    }
    await producer.disconnect();
    for (let partition = 0; partition < 3; partition++) {
      await waitUntil(() => {
        const bytes = [...cluster.logBytes('rep', partition).values()];
        return bytes[0]!.length > 0 && bytes.every((b) => b.equals(bytes[0]!));
      }, `partition ${partition} identical on every broker`);
    }
    const total = [0, 1, 2].reduce((sum, p) => sum + cluster.brokers.get(1)!.engine.partitionLog('rep', p).logEndOffset, 0);
    expect(total).toBe(300);
  });

  it('reads back every acknowledged record through a consumer group', async () => {
    const consumer = client.consumer({ groupId: 'rep-readers' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'rep', fromBeginning: true });
    const seen = new Set<string>();
    await consumer.run({ eachMessage: async ({ message }: any) => void seen.add(message.value.toString()) });
    await waitUntil(() => seen.size === 300, 'the consumer read all 300 records', 30_000);
    await consumer.disconnect();
  });

  it('answers acks=all requests pipelined on one connection in order, each once the ISR holds it', async () => {
    const [p0] = await partitions('rep');
    const connection = await connectTo(p0!.leader);
    const leaderLog = cluster.brokers.get(p0!.leader)!.engine.partitionLog('rep', 0);
    const startOffset = leaderLog.logEndOffset;
    const answered: number[] = [];
    try {
      // Sent without waiting: the leader takes each while the ones before it wait for the followers.
      const requests = Array.from({ length: 10 }, (_, i) =>
        connection
          .request(ApiKey.Produce, {
            transactionalId: null,
            acks: -1,
            timeoutMs: 10_000,
            topicData: [{ name: 'rep', partitionData: [{ index: 0, records: encodeBatch(Array.from({ length: 5 }, (_, j) => ({ value: `pipelined ${i}-${j}` }))) }] }],
          })
          .then((response) => {
            const partition = response.responses[0].partitionResponses[0];
            expect(partition.errorCode).toBe(0);
            // The high watermark covers the request's records when it is answered.
            expect(leaderLog.highWatermark).toBeGreaterThanOrEqual(partition.baseOffset + 5);
            answered.push(i);
            return partition.baseOffset as number;
          }),
      );
      const baseOffsets = await Promise.all(requests);
      expect(answered).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(baseOffsets).toEqual(Array.from({ length: 10 }, (_, i) => startOffset + i * 5));
    } finally {
      connection.close();
    }
  });

  it('deletes records on the leader only (NOT_LEADER_OR_FOLLOWER on a follower); followers take its new log start', async () => {
    await admin.createTopics({ topics: [{ topic: 'trimmed', numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'trimmed', acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })) });
    await producer.disconnect();
    const [state] = await partitions('trimmed');
    const deleteBefore = async (brokerId: number, offset: number) => {
      const connection = await connectTo(brokerId);
      try {
        const response = await connection.request(ApiKey.DeleteRecords, { topics: [{ name: 'trimmed', partitions: [{ partitionIndex: 0, offset }] }], timeoutMs: 5000 });
        return response.topics[0].partitions[0];
      } finally {
        connection.close();
      }
    };
    const follower = state!.replicas.find((id) => id !== state!.leader)!;
    expect((await deleteBefore(follower, 4)).errorCode).toBe(6); // NOT_LEADER_OR_FOLLOWER
    expect(cluster.brokers.get(follower)!.engine.partitionLog('trimmed', 0).logStartOffset).toBe(0);
    expect(await deleteBefore(state!.leader, 4)).toMatchObject({ errorCode: 0, lowWatermark: 4 });
    await waitUntil(() => state!.replicas.every((id) => cluster.brokers.get(id)!.engine.partitionLog('trimmed', 0).logStartOffset === 4), 'every replica to start at offset 4');
  });

  it('serves a Fetch naming a replica id (records past the high watermark) only to the partition\'s followers', async () => {
    await admin.createTopics({ topics: [{ topic: 'peeked', numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    const [state] = await partitions('peeked');
    const connection = await connectTo(state!.leader);
    try {
      const fetchAs = async (replicaId: number) => {
        const response = await connection.request(ApiKey.Fetch, { ...fetchBody('peeked'), replicaId }, 12);
        return response.responses[0].partitions[0].errorCode;
      };
      expect(await fetchAs(99)).toBe(6); // NOT_LEADER_OR_FOLLOWER: no broker 99 holds a replica
      expect(await fetchAs(state!.leader)).toBe(6); // the leader is not its own follower
      expect(await fetchAs(-1)).toBe(0); // a consumer
    } finally {
      connection.close();
    }
  });

  it('refuses produce and ListOffsets on a follower with NOT_LEADER_OR_FOLLOWER', async () => {
    const [p0] = await partitions('rep');
    const follower = p0!.replicas.find((id) => id !== p0!.leader)!;
    const connection = await connectTo(follower);
    try {
      const produced = await connection.request(ApiKey.Produce, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: 'rep', partitionData: [{ index: 0, records: encodeBatch([{ value: Buffer.from('x') }]) }] }],
      });
      expect(produced.responses[0].partitionResponses[0].errorCode).toBe(6);
      const listed = await connection.request(ApiKey.ListOffsets, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: 'rep', partitions: [{ partitionIndex: 0, currentLeaderEpoch: 0, timestamp: -1 }] }],
      });
      expect(listed.topics[0].partitions[0].errorCode).toBe(6);
    } finally {
      connection.close();
    }
  });
});

describe("sluice's own producer", () => {
  it('sends each partition to its own leader and follows a leader that moves', async () => {
    await admin.createTopics({ topics: [{ topic: 'own', numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    const client = await KafkaClient.connect({ brokers: cluster.bootstrapServers, clientId: 'own-producer' });
    const producer = await Producer.create(client, { acks: -1, retries: 20 });
    try {
      const acked = await producer.send('own', Array.from({ length: 30 }, (_, i) => ({ value: `r${i}`, partition: i % 3 })));
      expect(acked.map((r) => r.partition).sort()).toEqual(Array.from({ length: 30 }, (_, i) => i % 3).sort());
      // Move partition 0's leadership away (controlled shutdown); the producer's cached leader is stale.
      const [p0] = await partitions('own');
      await cluster.stopBroker(p0!.leader);
      try {
        const after = await producer.send('own', Array.from({ length: 30 }, (_, i) => ({ value: `s${i}`, partition: i % 3 })));
        expect(after.every((r) => r.offset >= 10)).toBe(true);
      } finally {
        await cluster.startBroker(p0!.leader);
      }
    } finally {
      await producer.close();
      await client.close();
    }
    await waitUntil(async () => (await partitions('own')).every((p) => p.isr.length === 3), 'a full ISR again');
  });
});

describe('leadership moves', () => {
  it('controlled shutdown moves leadership off a broker; producers carry on; it rejoins the ISR on return', async () => {
    await admin.createTopics({ topics: [{ topic: 'moving', numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'moving', acks: -1, messages: [{ value: 'before' }] });
    const [before] = await partitions('moving');
    await cluster.stopBroker(before!.leader);
    const [after] = await partitions('moving');
    expect(after!.leader).not.toBe(before!.leader);
    // The leader moved before the broker exited; the ISR change reaches the metadata a moment later
    // (the new leader's AlterPartition, then the controller's update), so wait for it.
    await waitUntil(async () => !(await partitions('moving'))[0]!.isr.includes(before!.leader), 'the stopped broker leaves the ISR', 30_000);
    await producer.send({ topic: 'moving', acks: -1, messages: [{ value: 'during' }] });
    await cluster.startBroker(before!.leader);
    await waitUntil(async () => (await partitions('moving'))[0]!.isr.length === 3, 'the returning broker is back in the ISR', 30_000);
    await producer.send({ topic: 'moving', acks: -1, messages: [{ value: 'after' }] });
    await producer.disconnect();
    await waitUntil(() => {
      const bytes = [...cluster.logBytes('moving', 0).values()];
      return bytes.length === 3 && bytes.every((b) => b.equals(bytes[0]!));
    }, 'every replica holds the three records');
  });

  it('answers OffsetForLeaderEpoch from the epoch history, and fences requests with stale or future leader epochs', async () => {
    // 'moving' changed leaders above: its leader is at epoch >= 1, and epoch 0 ended where epoch 1 began.
    const connection = await connectTo((await partitions('moving'))[0]!.leader);
    try {
      const metadata = await connection.request(ApiKey.Metadata, { topics: [{ name: 'moving', topicId: '00000000-0000-0000-0000-000000000000' }], allowAutoTopicCreation: false }, 9);
      const epoch: number = metadata.topics[0].partitions[0].leaderEpoch;
      expect(epoch).toBeGreaterThanOrEqual(1);
      const endOf = async (leaderEpoch: number, currentLeaderEpoch: number) => {
        const answer = await connection.request(ApiKey.OffsetForLeaderEpoch, { replicaId: -1, topics: [{ topic: 'moving', partitions: [{ partition: 0, currentLeaderEpoch, leaderEpoch }] }] }, 4);
        return answer.topics[0].partitions[0];
      };
      const first = await endOf(0, epoch);
      expect(first.errorCode).toBe(0);
      expect(first.leaderEpoch).toBe(0);
      expect(Number(first.endOffset)).toBe(1); // 'before' was the one record of epoch 0
      const latest = await endOf(epoch, epoch);
      expect(latest.leaderEpoch).toBe(epoch);
      expect(Number(latest.endOffset)).toBe(cluster.brokers.get((await partitions('moving'))[0]!.leader)!.engine.partitionLog('moving', 0).logEndOffset);
      expect((await endOf(0, epoch - 1)).errorCode).toBe(74); // FENCED_LEADER_EPOCH
      expect((await endOf(0, epoch + 1)).errorCode).toBe(75); // UNKNOWN_LEADER_EPOCH
      const listed = await connection.request(ApiKey.ListOffsets, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: 'moving', partitions: [{ partitionIndex: 0, currentLeaderEpoch: epoch - 1, timestamp: -1 }] }],
      });
      expect(listed.topics[0].partitions[0].errorCode).toBe(74);
    } finally {
      connection.close();
    }
  });

  it('refuses acks=all with NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas', async () => {
    await admin.createTopics({
      topics: [{ topic: 'guarded', numPartitions: 1, replicationFactor: 2, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
      waitForLeaders: true,
    });
    const { errorCode } = await acksAllWithFollowerStopped('guarded');
    expect(errorCode).toBe(19);
  });

  it('takes topic configs altered on any broker to every replica through etcd, where later changes of the topic keep them', async () => {
    await admin.createTopics({ topics: [{ topic: 'tuned', numPartitions: 1, replicationFactor: 2 }], waitForLeaders: true });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: 'tuned', configEntries: [{ name: 'min.insync.replicas', value: '2' }, { name: 'retention.ms', value: '600000' }] }] });
    const wanted = { 'min.insync.replicas': '2', 'retention.ms': '600000' };
    const [state] = await partitions('tuned');
    const overridesOn = (id: number) => cluster.brokers.get(id)!.engine.describeTopic('tuned').overrides;
    await waitUntil(() => state!.replicas.every((id) => JSON.stringify(overridesOn(id)) === JSON.stringify(wanted)), 'every replica to hold the altered configs');
    // A change of the topic's record (here a partition added) once put every broker's configs back
    // to the record's, which the alteration had not reached.
    await admin.createPartitions({ topicPartitions: [{ topic: 'tuned', count: 2 }] });
    await waitUntil(() => state!.replicas.every((id) => cluster.brokers.get(id)!.engine.describeTopic('tuned').partitionCount === 2), 'the new partition on every replica');
    for (const id of state!.replicas) expect(overridesOn(id)).toEqual(wanted);

    // The leader acts on it: acks=all is refused once the ISR is below the altered min.insync.replicas.
    const { errorCode, stopped } = await acksAllWithFollowerStopped('tuned');
    expect(errorCode).toBe(19); // NOT_ENOUGH_REPLICAS
    expect(overridesOn(stopped)).toEqual(wanted);
  });
});

describe('partition logs on the brokers', () => {
  /** The partitions of `topic` whose log directories are in the broker's data directory. */
  const directoriesOf = (brokerId: number, topic: string) =>
    fs
      .readdirSync(cluster.dataDirOf(brokerId))
      .filter((name) => name.startsWith(`${topic}-`) && /^\d+$/.test(name.slice(topic.length + 1)))
      .map((name) => Number(name.slice(topic.length + 1)))
      .sort((a, b) => a - b);

  it('keeps on each broker the logs of the partitions it is a replica of, and no others, as partitions are added', async () => {
    await admin.createTopics({ topics: [{ topic: 'spread', numPartitions: 3, replicationFactor: 2 }], waitForLeaders: true });
    await admin.createPartitions({ topicPartitions: [{ topic: 'spread', count: 5 }] });
    const layout = await partitions('spread');
    expect(layout).toHaveLength(5);
    for (const [id, broker] of cluster.brokers) {
      const replicaOf = layout.filter(({ replicas }) => replicas.includes(id)).map(({ partitionId }) => partitionId).sort((a, b) => a - b);
      expect(replicaOf.length).toBeLessThan(5);
      await waitUntil(() => JSON.stringify(directoriesOf(id, 'spread')) === JSON.stringify(replicaOf), `broker ${id} to hold the logs of partitions ${replicaOf}`);
      const local = broker.engine.describeTopic('spread');
      expect(local.partitionCount).toBe(5);
      expect(local.partitions.map(({ partition }) => partition)).toEqual(replicaOf);
    }
    // A group's coordinator takes commits for every partition of the topic, those it holds no replica of too.
    await admin.setOffsets({ groupId: 'spread-readers', topic: 'spread', partitions: layout.map(({ partitionId }) => ({ partition: partitionId, offset: '0' })) });
    const [committed] = await admin.fetchOffsets({ groupId: 'spread-readers', topics: ['spread'] });
    const offsets = new Map(committed.partitions.map(({ partition, offset }: { partition: number; offset: string }) => [partition, offset]));
    expect(offsets).toEqual(new Map(layout.map(({ partitionId }) => [partitionId, '0'])));
  });

  it('refuses a CreateTopics or CreatePartitions no broker could hold before it reaches etcd, and every broker stays up', async () => {
    // 10,001 is above the engine's partitions per topic. Proposed to etcd, it once made every
    // broker's own copy of the topic fail to grow, an unhandled rejection that ended each process.
    await expect(admin.createPartitions({ topicPartitions: [{ topic: 'spread', count: 10_001 }] })).rejects.toMatchObject({ type: 'INVALID_PARTITIONS' });
    // 2^31 - 1 partitions: the replica assignment once looped that many times, filling a broker's heap.
    await expect(admin.createPartitions({ topicPartitions: [{ topic: 'spread', count: 2 ** 31 - 1 }] })).rejects.toMatchObject({ type: 'INVALID_PARTITIONS' });
    await expect(admin.createTopics({ topics: [{ topic: 'endless', numPartitions: 2 ** 31 - 1, replicationFactor: 1 }] })).rejects.toMatchObject({
      errors: [expect.objectContaining({ type: 'INVALID_PARTITIONS' })],
    });
    expect(await partitions('spread')).toHaveLength(5);
    for (const broker of cluster.brokers.values()) expect(broker.engine.describeTopic('spread').partitionCount).toBe(5);
    const producer = client.producer();
    await producer.connect();
    const [ack] = await producer.send({ topic: 'spread', acks: -1, messages: [{ value: 'still replicated' }] });
    await producer.disconnect();
    expect(ack.errorCode).toBe(0);
  });
});
