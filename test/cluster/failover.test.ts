// Failover with real clients (issue 8): a 3-broker cluster of `sluice broker` processes and a real
// etcd; a topic with replication factor 3 and min.insync.replicas=2. kafkajs produces with
// acks=all (idempotent) and consumes in a group while the leader of each partition in turn is
// SIGKILLed and restarted. The queue checker (Jepsen-style) then compares every acknowledged
// record with a final read by kcat: nothing lost, nothing unseen, nothing duplicated, polls in
// order; the group read each record, and its committed offsets survived.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { kafka } from '../fixtures/kafkajs.js';
import { kcat } from '../fixtures/kcat.js';
import { QueueHistory, checkQueue, formatReport } from '../fixtures/queue-checker.js';
import { committedOffsets } from '../fixtures/groups.js';
import { sleep, waitUntil } from './helpers.js';

const TOPIC = 'failover';
const PARTITIONS = 3;
/** Leader kills: each partition's leader is killed at least once. */
const KILLS = 3;

let cluster: LocalCluster;
let client: any;
let admin: any;

beforeAll(async () => {
  cluster = await startCluster({
    brokers: 3,
    config: {
      'broker.session.timeout.ms': 3000,
      'group.initial.rebalance.delay.ms': 0,
      'replica.lag.time.max.ms': 5000,
      'auto.leader.rebalance.enable': 'false',
    },
  });
  client = kafka(cluster.bootstrapServers.split(','), 'failover-test');
  admin = client.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
    waitForLeaders: true,
  });
}, 120_000);

afterAll(async () => {
  await admin?.disconnect().catch(() => {});
  await cluster?.stop();
}, 120_000);

async function leaderOf(partition: number): Promise<number> {
  const metadata = await admin.fetchTopicMetadata({ topics: [TOPIC] });
  return metadata.topics[0].partitions.find((p: { partitionId: number }) => p.partitionId === partition).leader;
}

async function fullIsr(): Promise<boolean> {
  const metadata = await admin.fetchTopicMetadata({ topics: [TOPIC] });
  return metadata.topics[0].partitions.every((p: { isr: number[]; leader: number }) => p.isr.length === 3 && p.leader >= 0);
}

describe('SIGKILL of partition leaders under acks=all load', () => {
  it('loses, duplicates and reorders nothing acknowledged; the group reads everything and keeps its offsets', async () => {
    const history = new QueueHistory();
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 2000 } });
    await producer.connect();
    const consumer = client.consumer({ groupId: 'failover-group', sessionTimeout: 10_000, heartbeatInterval: 500, retry: { retries: 30 } });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    consumer.on(consumer.events.GROUP_JOIN, () => history.rebalanced('kafkajs'));
    await consumer.run({
      eachMessage: async ({ partition, message }: any) => history.polled('kafkajs', partition, Number(message.offset), message.value.toString()),
    });

    let producing = true;
    let sent = 0;
    const producerLoop = (async () => {
      while (producing) {
        const value = `v${sent++}`;
        history.sendStarted(value);
        try {
          const [ack] = await producer.send({ topic: TOPIC, acks: -1, messages: [{ key: value, value }] });
          history.acked(value, ack.partition, Number(ack.baseOffset));
        } catch (error) {
          history.indeterminate(value, String(error));
        }
      }
    })();

    for (let kill = 0; kill < KILLS; kill++) {
      await sleep(1000);
      const victim = await leaderOf(kill % PARTITIONS);
      await cluster.killBroker(victim);
      await sleep(1500);
      await cluster.restartBroker(victim);
      await waitUntil(fullIsr, `every partition back to a full ISR after killing broker ${victim}`, 60_000);
    }
    await sleep(1000);
    producing = false;
    await producerLoop;
    await producer.disconnect();

    // The final read: every partition from offset 0, by kcat (librdkafka), to its end.
    const read = await kcat(['-b', cluster.bootstrapServers, '-C', '-t', TOPIC, '-o', 'beginning', '-e', '-q', '-f', '%p|%o|%s\\n'], '', 60_000);
    const lines = read.stdout.split('\n').filter((line) => line !== '');
    for (const line of lines) {
      const [partition, offset, value] = line.split('|');
      history.finalRead(Number(partition), Number(offset), value!);
    }
    await waitUntil(() => checkQueue(history, { consumedToEnd: true }).counts.unpolled === 0, 'the group has read every record', 60_000);
    await consumer.stop();
    const committed = await committedOffsets(cluster.bootstrapServers.split(',')[0]!, 'failover-group', TOPIC);
    await consumer.disconnect();

    const report = checkQueue(history, { consumedToEnd: true });
    const text = formatReport(report);
    console.log(`failover queue check: ${text.split('\n')[0]}`);
    expect(report.stats.acked, text).toBeGreaterThan(50);
    for (const kind of ['lost', 'unseen', 'duplicated', 'inconsistentOffsets', 'reorderedPolls', 'reorderedSends', 'skippedPolls', 'unexpected', 'unpolled'] as const) {
      expect(report.counts[kind], `${kind}: ${text}`).toBe(0);
    }
    // The committed offsets survived the kills: each partition's commit is at its end.
    const ends = new Map<number, number>();
    for (const line of lines) {
      const [partition, offset] = line.split('|');
      ends.set(Number(partition), Math.max(ends.get(Number(partition)) ?? 0, Number(offset) + 1));
    }
    for (let partition = 0; partition < PARTITIONS; partition++) expect(committed[partition]).toBe(ends.get(partition) ?? 0);
  }, 300_000);
});
