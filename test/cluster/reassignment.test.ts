// Partition reassignment on a real cluster (three `sluice broker` processes and etcd), driven by
// kafkajs's admin (AlterPartitionReassignments / ListPartitionReassignments, as
// kafka-reassign-partitions.sh sends them) while a kafkajs producer writes with acks=all:
//   - a partition moves off its leader ([1, 2] -> [3, 2]): broker 3 copies the log, joins the ISR,
//     takes the leadership at a new epoch, and broker 1 deletes its copy;
//   - a partition gains a replica ([2, 3] -> [2, 3, 1]) and another loses one ([3, 1] -> [1]);
// and nothing acknowledged is lost, duplicated or reordered (queue checker, final read by kcat).
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BrokerConnection } from '../../src/client/connection.js';
import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { kafka } from '../fixtures/kafkajs.js';
import { kcat } from '../fixtures/kcat.js';
import { QueueHistory, checkQueue, formatReport } from '../fixtures/queue-checker.js';
import { waitUntil } from './helpers.js';

const TOPIC = 'moving';

let cluster: LocalCluster;
let admin: any;

beforeAll(async () => {
  cluster = await startCluster({ brokers: 3, config: { 'auto.leader.rebalance.enable': 'false', 'log.segment.bytes': 65536 } });
  admin = kafka(cluster.bootstrapServers.split(','), 'reassignment-test').admin();
  await admin.connect();
}, 120_000);

afterAll(async () => {
  await admin?.disconnect().catch(() => {});
  await cluster?.stop();
}, 120_000);

interface PartitionMetadata {
  partitionId: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

async function partitions(): Promise<PartitionMetadata[]> {
  const metadata = await admin.fetchTopicMetadata({ topics: [TOPIC] });
  return [...metadata.topics[0].partitions].sort((a: PartitionMetadata, b: PartitionMetadata) => a.partitionId - b.partitionId);
}

const holds = (brokerId: number, partition: number) => fs.existsSync(path.join(cluster.dataDir, `broker-${brokerId}`, `${TOPIC}-${partition}`));

describe('partition reassignment under acks=all load', () => {
  it('moves, grows and shrinks replica sets; the removed brokers delete their copies; nothing acknowledged is lost', async () => {
    await admin.createTopics({
      topics: [{ topic: TOPIC, replicaAssignment: [{ partition: 0, replicas: [1, 2] }, { partition: 1, replicas: [2, 3] }, { partition: 2, replicas: [3, 1] }] }],
      waitForLeaders: true,
    });
    const history = new QueueHistory();
    const producer = kafka(cluster.bootstrapServers.split(','), 'reassignment-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let producing = true;
    let sent = 0;
    let acked = 0;
    // One partition per send: kafkajs 2.2.4 keeps, within one send, the answers of brokers that
    // already answered, so a partition whose leadership moves to such a broker is never sent again
    // and the send resolves without it (seen here: 6 records neither acknowledged nor written).
    const producerLoop = (async () => {
      for (let partition = 0; producing; partition = (partition + 1) % 3) {
        const batch = Array.from({ length: 10 }, () => `v${sent++}`);
        for (const value of batch) history.sendStarted(value);
        try {
          const [ack] = await producer.send({ topic: TOPIC, acks: -1, messages: batch.map((value) => ({ partition, value })) });
          batch.forEach((value, i) => history.acked(value, ack.partition, Number(ack.baseOffset) + i));
          acked += batch.length;
        } catch (error) {
          for (const value of batch) history.indeterminate(value, String(error));
        }
      }
    })();
    await waitUntil(() => acked >= 2000, '2,000 acknowledged records before the moves', 60_000);

    await admin.alterPartitionReassignments({
      topics: [{ topic: TOPIC, partitionAssignment: [{ partition: 0, replicas: [3, 2] }, { partition: 1, replicas: [2, 3, 1] }, { partition: 2, replicas: [1] }] }],
    });
    // In flight until the added replicas have caught up (partition 2 needed no copy and is done at once).
    const listed = await admin.listPartitionReassignments({});
    for (const topic of listed.topics) {
      for (const p of topic.partitions) expect([0, 1], JSON.stringify(listed)).toContain(p.partition);
    }
    const target = [[3, 2], [2, 3, 1], [1]];
    await waitUntil(async () => {
      const now = await partitions();
      return now.every((p, i) => JSON.stringify(p.replicas) === JSON.stringify(target[i]) && p.isr.length === target[i]!.length && p.leader >= 0);
    }, 'every partition on its target replicas with a full ISR', 60_000);
    expect((await admin.listPartitionReassignments({})).topics).toEqual([]);
    const after = await partitions();
    expect(after.map((p) => p.leader)).toEqual([3, 2, 1]); // partition 0's leader (1) left: the first target replica leads
    const ackedAtMove = acked;
    await waitUntil(() => acked >= ackedAtMove + 1000, '1,000 more acknowledged records after the moves', 60_000);
    producing = false;
    await producerLoop;
    await producer.disconnect();

    // The brokers that left deleted their copies; the ones that joined hold one.
    await waitUntil(() => !holds(1, 0) && !holds(3, 2), 'brokers 1 and 3 dropped the logs they no longer replicate');
    expect([holds(3, 0), holds(2, 0), holds(1, 1), holds(1, 2)]).toEqual([true, true, true, true]);

    // Every replica of a partition holds the same log: the leader's end offset, asked of each one
    // with the debugging replica id (-2), which reads a follower's own log.
    const ends = new Map<number, number>();
    const read = await kcat(['-b', cluster.bootstrapServers, '-C', '-t', TOPIC, '-o', 'beginning', '-e', '-q', '-f', '%p|%o|%s\\n'], '', 60_000);
    for (const line of read.stdout.split('\n').filter((l) => l !== '')) {
      const [partition, offset, value] = line.split('|');
      history.finalRead(Number(partition), Number(offset), value!);
      ends.set(Number(partition), Number(offset) + 1);
    }
    for (const [partition, replicas] of target.entries()) {
      for (const brokerId of replicas) {
        const broker = cluster.broker(brokerId);
        const connection = await BrokerConnection.connect({ host: broker.host, port: broker.port });
        try {
          await waitUntil(async () => {
            const answer = await connection.request(ApiKey.ListOffsets, { replicaId: -2, isolationLevel: 0, topics: [{ name: TOPIC, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: -1 }] }] });
            return Number(answer.topics[0].partitions[0].offset) === ends.get(partition);
          }, `broker ${brokerId}'s copy of ${TOPIC}-${partition} ends at ${ends.get(partition)}`);
        } finally {
          connection.close();
        }
      }
    }

    const report = checkQueue(history, {});
    const text = formatReport(report);
    console.log(`reassignment queue check: ${formatReport(report, 10)}`);
    expect(report.stats.acked, text).toBeGreaterThanOrEqual(3000);
    for (const kind of ['lost', 'unseen', 'duplicated', 'inconsistentOffsets', 'reorderedSends', 'unexpected'] as const) expect(report.counts[kind], `${kind}: ${text}`).toBe(0);
  }, 240_000);

  it("answers kafkajs with Kafka's errors: a broker that does not exist, an unknown topic", async () => {
    await admin.createTopics({ topics: [{ topic: 'fixed', numPartitions: 1, replicationFactor: 2 }], waitForLeaders: true });
    const failure = (request: unknown) => admin.alterPartitionReassignments(request).then(() => null, (error: any) => (error.errors ?? [error]).map((e: any) => e.type));
    expect(await failure({ topics: [{ topic: 'fixed', partitionAssignment: [{ partition: 0, replicas: [1, 7] }] }] })).toEqual(['INVALID_REPLICA_ASSIGNMENT']);
    expect(await failure({ topics: [{ topic: 'absent', partitionAssignment: [{ partition: 0, replicas: [1] }] }] })).toEqual(['UNKNOWN_TOPIC_OR_PARTITION']);
  }, 60_000);
});
