// A cluster broker's disk fails (KIP-112): three real brokers and a real etcd, broker 1 with its
// second log directory on an ext4 that the test shuts down (test/fixtures/failing-disk.ts: every
// operation there then returns EIO). Broker 1 leads every partition of a topic with replication
// factor 3 and min.insync.replicas 2, half of them in that directory. Once the disk fails, while
// kafkajs keeps producing with acks=all, broker 1 takes the directory offline and reports its
// replicas there to the controller; the controller moves their leadership to brokers 2 and 3 and
// takes broker 1 out of their ISRs (Metadata lists it as their offline replica), and leaves broker 1 leading the partitions of its healthy
// directory. Every acknowledged record is read back once, in order. Broker 1 restarted with the
// disk still failed starts with the directory offline and stays out of those partitions; restarted
// on the disk mounted again it recovers the directory, catches up and rejoins every ISR.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { startInProcessCluster, type InProcessCluster } from '../fixtures/cluster-in-process.js';
import { failingDiskRefused, mountFailingDisk, type FailingDisk } from '../fixtures/failing-disk.js';
import { kafka } from '../fixtures/kafkajs.js';
import { waitUntil } from './helpers.js';

const TOPIC = 'failing';
const PARTITIONS = 4;

let disk: FailingDisk;
let cluster: InProcessCluster;
let failing: string;

describe.skipIf(failingDiskRefused !== undefined)('a cluster broker whose log directory fails', () => {
  beforeAll(async () => {
    disk = mountFailingDisk();
    failing = path.join(disk.dir, 'logs');
    cluster = await startInProcessCluster({
      brokers: 3,
      logDirs: 2,
      logDirsFor: (id, dirs) => (id === 1 ? [dirs[0]!, failing] : dirs),
      config: { 'group.initial.rebalance.delay.ms': 0, 'replica.lag.time.max.ms': 5000, 'auto.leader.rebalance.enable': false },
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    disk?.unmount();
  }, 120_000);

  it('moves the leadership of the failed directory\'s partitions away and loses no acknowledged record; a restart on the disk brings the replicas back', async () => {
    const client = kafka(cluster.bootstrapServers);
    const admin = client.admin();
    await admin.connect();
    const producer = client.producer({ idempotent: true });
    await producer.connect();
    const sent = new Map<number, string[]>(Array.from({ length: PARTITIONS }, (_, p) => [p, []]));
    const send = async (round: number) => {
      for (let p = 0; p < PARTITIONS; p++) {
        const values = Array.from({ length: 20 }, (_, i) => `r${round} p${p} ${i}`);
        await producer.send({ topic: TOPIC, acks: -1, messages: values.map((value) => ({ value, partition: p })) });
        sent.get(p)!.push(...values);
      }
    };
    try {
      // Broker 1 first in every assignment: it leads them all.
      await admin.createTopics({
        topics: [{ topic: TOPIC, replicaAssignment: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, replicas: [1, 2, 3] })), configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
        waitForLeaders: true,
      });
      const one = cluster.brokers.get(1)!;
      const onFailing = [...Array(PARTITIONS).keys()].filter((p) => one.engine.logDirOf(TOPIC, p) === failing);
      const onHealthy = [...Array(PARTITIONS).keys()].filter((p) => !onFailing.includes(p));
      expect(onFailing).toHaveLength(2);
      for (let round = 0; round < 3; round++) await send(round);

      disk.fail();
      for (let round = 3; round < 10; round++) await send(round);

      expect(one.engine.offlineLogDirs().map(({ dir }) => dir)).toEqual([failing]);
      const settled = async () => {
        const { topics } = await admin.fetchTopicMetadata({ topics: [TOPIC] });
        return topics[0].partitions.every((p: { partitionId: number; leader: number; isr: number[]; offlineReplicas: number[] }) =>
          onFailing.includes(p.partitionId)
            ? p.leader !== 1 && !p.isr.includes(1) && p.offlineReplicas.includes(1)
            : p.leader === 1 && p.isr.includes(1) && p.offlineReplicas.length === 0,
        );
      };
      await waitUntil(settled, 'the failed directory\'s partitions led elsewhere, broker 1 out of their ISR and listed offline; the others still led by broker 1');

      // Broker 1 answers DescribeLogDirs with the directory offline.
      const sluice = await KafkaClient.connect({ brokers: cluster.bootstrapServers });
      try {
        const dirs = await sluice.logDirs(1, null);
        expect(dirs.find((dir) => dir.logDir === failing)?.error?.code).toBe('KAFKA_STORAGE_ERROR');
      } finally {
        await sluice.close();
      }

      // Every acknowledged record, once, in order, from the leaders now.
      const consumer = client.consumer({ groupId: 'after-the-failure' });
      const read = new Map<number, string[]>(Array.from({ length: PARTITIONS }, (_, p) => [p, []]));
      await consumer.connect();
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ partition, message }: { partition: number; message: { value: Buffer | null } }) => void read.get(partition)!.push(message.value!.toString()) });
      const total = () => [...read.values()].reduce((sum, values) => sum + values.length, 0);
      await waitUntil(() => total() >= PARTITIONS * 200, 'every acknowledged record read');
      await consumer.disconnect();
      for (let p = 0; p < PARTITIONS; p++) expect(read.get(p)).toEqual(sent.get(p));

      // Restarted with the disk still failed, broker 1 starts with the directory offline and reports
      // its replicas there again: the controller keeps it out of those partitions.
      await cluster.stopBroker(1);
      const restarted = await cluster.startBroker(1);
      expect(restarted.engine.offlineLogDirs()).toMatchObject([{ dir: failing, atOpen: true }]);
      await send(10);
      // (Its healthy directory's partitions are led by the others since its controlled shutdown.)
      await waitUntil(async () => {
        const { topics } = await admin.fetchTopicMetadata({ topics: [TOPIC] });
        return topics[0].partitions.every((p: { partitionId: number; isr: number[]; offlineReplicas: number[] }) =>
          onFailing.includes(p.partitionId) ? !p.isr.includes(1) && p.offlineReplicas.includes(1) : p.isr.includes(1) && p.offlineReplicas.length === 0,
        );
      }, 'after the restart: broker 1 out of the failed directory\'s partitions, back in the others\' ISR');
      for (const p of onFailing) expect(() => restarted.engine.partitionLog(TOPIC, p)).toThrow(/failed to open/);

      // The disk comes back: broker 1 restarted finds the directory, recovers it and catches up.
      await cluster.stopBroker(1);
      disk.remount();
      const back = await cluster.startBroker(1);
      expect(back.engine.offlineLogDirs()).toEqual([]);
      await send(11);
      await waitUntil(async () => {
        const { topics } = await admin.fetchTopicMetadata({ topics: [TOPIC] });
        return topics[0].partitions.every((p: { isr: number[] }) => p.isr.length === 3);
      }, 'broker 1 back in every ISR');
      for (const p of onFailing) expect(back.engine.logDirOf(TOPIC, p)).toBe(failing);
      for (const p of onHealthy) expect(back.engine.logDirOf(TOPIC, p)).not.toBe(failing);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  }, 180_000);
});
