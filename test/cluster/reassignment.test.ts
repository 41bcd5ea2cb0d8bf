// Partition reassignment on a real cluster (three `sluice broker` processes and etcd), driven by
// kafkajs's admin (AlterPartitionReassignments / ListPartitionReassignments, as
// kafka-reassign-partitions.sh sends them) while a kafkajs producer writes with acks=all:
//   - a partition moves off its leader ([1, 2] -> [3, 2]): broker 3 copies the log, joins the ISR,
//     takes the leadership at a new epoch, and broker 1 deletes its copy;
//   - a partition gains a replica ([2, 3] -> [2, 3, 1]) and another loses one ([3, 1] -> [1]);
// and nothing acknowledged is lost, duplicated or reordered (queue checker, final read by kcat).
import fs from 'node:fs';
import path from 'node:path';

import { Connection, describeTopicPartitionsV0 } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BrokerConnection } from '../../src/client/connection.js';
import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { runCli } from '../cli/run-cli.js';
import { kafka } from '../fixtures/kafkajs.js';
import { kcat } from '../fixtures/kcat.js';
import { QueueHistory, checkQueue, formatReport } from '../fixtures/queue-checker.js';
import { tempDir } from '../helpers.js';
import { waitUntil } from './helpers.js';

const TOPIC = 'moving';

let cluster: LocalCluster;
let admin: any;

beforeAll(async () => {
  // Replication quotas over 2 windows of 1 s (Kafka's 11 would let a throttled move start with a
  // 10 s burst): what the throttled move below may copy stays close to its rate from the start.
  cluster = await startCluster({ brokers: 3, config: { 'auto.leader.rebalance.enable': 'false', 'log.segment.bytes': 65536, 'replication.quota.window.num': 2 } });
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
  return partitionsOf(TOPIC);
}

async function partitionsOf(topic: string): Promise<PartitionMetadata[]> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
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
    // Partition 1's replicas read [2, 3, 1] from the start of its move (target first, then the
    // original ones): the move is done once none is listed.
    await waitUntil(async () => {
      const now = await partitions();
      const onTarget = now.every((p, i) => JSON.stringify(p.replicas) === JSON.stringify(target[i]) && p.isr.length === target[i]!.length && p.leader >= 0);
      return onTarget && (await admin.listPartitionReassignments({})).topics.length === 0;
    }, 'every partition on its target replicas with a full ISR, no move listed', 60_000);
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

  it('sluice reassign-partitions: --generate, --execute, --verify, --list and --cancel, with Kafka\'s files and lines', async () => {
    await admin.createTopics({ topics: [{ topic: 'by-cli', replicaAssignment: [{ partition: 0, replicas: [1, 2] }] }], waitForLeaders: true });
    const dir = tempDir();
    const bootstrap = ['--bootstrap-server', cluster.bootstrapServers];
    const file = (name: string, json: unknown) => {
      const at = path.join(dir, name);
      fs.writeFileSync(at, JSON.stringify(json));
      return at;
    };

    const toMove = file('topics.json', { version: 1, topics: [{ topic: 'by-cli' }] });
    const generated = await runCli(['reassign-partitions', ...bootstrap, '--generate', '--topics-to-move-json-file', toMove, '--broker-list', '2,3']);
    expect(generated.code, generated.stderr).toBe(0);
    const [, currentJson, , proposedJson] = generated.stdout.split('\n').filter((line) => line !== '');
    expect(generated.stdout).toMatch(/^Current partition replica assignment\n\{.*\}\n\nProposed partition reassignment configuration\n\{.*\}\n$/);
    expect(JSON.parse(currentJson!)).toEqual({ version: 1, partitions: [{ topic: 'by-cli', partition: 0, replicas: [1, 2], log_dirs: ['any', 'any'] }] });
    expect([...JSON.parse(proposedJson!).partitions[0].replicas].sort()).toEqual([2, 3]);

    const moves = file('moves.json', { version: 1, partitions: [{ topic: 'by-cli', partition: 0, replicas: [3, 2], log_dirs: ['any', 'any'] }] });
    const executed = await runCli(['reassign-partitions', ...bootstrap, '--execute', '--reassignment-json-file', moves]);
    expect(executed.code, executed.stderr).toBe(0);
    expect(executed.stdout).toBe(
      'Current partition replica assignment\n\n' +
        '{"version":1,"partitions":[{"topic":"by-cli","partition":0,"replicas":[1,2],"log_dirs":["any","any"]}]}\n\n' +
        'Save this to use as the --reassignment-json-file option during rollback\n' +
        'Successfully started partition reassignment for by-cli-0\n',
    );
    // Done: Kafka's tool clears the throttles then (none were set here), on every live broker.
    const completed =
      'Status of partition reassignment:\nReassignment of partition by-cli-0 is completed.\n' +
      'Clearing broker-level throttles on brokers 1,2,3\nClearing topic-level throttles on topic by-cli\n';
    await waitUntil(async () => (await runCli(['reassign-partitions', ...bootstrap, '--verify', '--reassignment-json-file', moves])).stdout === completed, 'the move completed', 60_000);
    expect((await runCli(['reassign-partitions', ...bootstrap, '--list'])).stdout).toBe('No partition reassignments found.\n');
    expect((await runCli(['reassign-partitions', ...bootstrap, '--cancel', '--reassignment-json-file', moves])).stdout).toBe('None of the specified partition reassignments are active.\n');
    const described = await runCli(['topics', ...bootstrap, '--describe', '--topic', 'by-cli']);
    expect(described.stdout).toMatch(/Partition: 0\tLeader: 3\tReplicas: 3,2\tIsr: (3,2|2,3)\n/);

    // A broker that does not exist, a log directory its broker does not have, and a file whose
    // log_dirs are not paths: exit 1 with one Error line.
    const toNowhere = file('nowhere.json', { version: 1, partitions: [{ topic: 'by-cli', partition: 0, replicas: [3, 8] }] });
    const refused = await runCli(['reassign-partitions', ...bootstrap, '--execute', '--reassignment-json-file', toNowhere]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('by-cli-0: INVALID_REPLICA_ASSIGNMENT');
    const current = described.stdout.match(/Replicas: (\d+,\d+)/)![1]!.split(',').map(Number);
    const toNoDir = file('dirs.json', { version: 1, partitions: [{ topic: 'by-cli', partition: 0, replicas: current, log_dirs: ['/no/such/dir', 'any'] }] });
    const noDir = await runCli(['reassign-partitions', ...bootstrap, '--execute', '--reassignment-json-file', toNoDir]);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toContain(`by-cli-0-${current[0]}: LOG_DIR_NOT_FOUND (log dir /no/such/dir)`);
    const notPaths = file('relative.json', { version: 1, partitions: [{ topic: 'by-cli', partition: 0, replicas: current, log_dirs: ['data', 'any'] }] });
    const badFile = await runCli(['reassign-partitions', ...bootstrap, '--execute', '--reassignment-json-file', notPaths]);
    expect(badFile.code).toBe(1);
    expect(badFile.stderr).toMatch(/^Error: .*"log_dirs" must give "any" or an absolute path for each replica/);
  }, 120_000);

  it('reassign-partitions --throttle: the new replica copies at the throttled rate, and --verify clears the throttles once the move is done', async () => {
    const topic = 'throttled';
    await admin.createTopics({ topics: [{ topic, replicaAssignment: [{ partition: 0, replicas: [1] }] }], waitForLeaders: true });
    const producer = kafka(cluster.bootstrapServers.split(','), 'throttle-producer').producer();
    await producer.connect();
    // 80 batches of 40 KB: each in a 64 KiB segment of its own, so a replica fetch brings one batch at most.
    const value = Buffer.alloc(1000, 'x');
    for (let i = 0; i < 80; i++) await producer.send({ topic, acks: 1, messages: Array.from({ length: 40 }, () => ({ value })) });
    await producer.disconnect();
    const logBytes = (brokerId: number) => {
      const dir = path.join(cluster.dataDir, `broker-${brokerId}`, `${topic}-0`);
      if (!fs.existsSync(dir)) return 0;
      return fs.readdirSync(dir).filter((f) => f.endsWith('.log')).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
    };
    const totalBytes = logBytes(1);
    expect(totalBytes).toBeGreaterThan(3_000_000);

    const dir = tempDir();
    const bootstrap = ['--bootstrap-server', cluster.bootstrapServers];
    const moves = path.join(dir, 'moves.json');
    fs.writeFileSync(moves, JSON.stringify({ version: 1, partitions: [{ topic, partition: 0, replicas: [1, 2] }] }));
    const rateBytesPerSecond = 500_000;
    const startedMs = Date.now();
    const executed = await runCli(['reassign-partitions', ...bootstrap, '--execute', '--reassignment-json-file', moves, '--throttle', String(rateBytesPerSecond)]);
    expect(executed.code, executed.stderr).toBe(0);
    expect(executed.stdout).toContain('Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.\nThe inter-broker throttle limit was set to 500000 B/s\nSuccessfully started partition reassignment for throttled-0\n');

    // While the copy runs, broker 2 never holds more than the rate allows since the start: twice the
    // rate over the time since --execute began plus the windows' 2 s, and two fetches (one batch
    // each) over. Unthrottled, the 3.2 MB arrive within a second, and the loop sees no copy in
    // progress. A busy machine only copies less.
    const over: string[] = [];
    let samplesInProgress = 0;
    while (logBytes(2) < totalBytes) {
      const copied = logBytes(2);
      const elapsedS = (Date.now() - startedMs) / 1000;
      const allowed = 2 * rateBytesPerSecond * (elapsedS + 2) + 2 * 65_536;
      if (copied > allowed) over.push(`${copied} B after ${elapsedS.toFixed(1)} s (allowed ${allowed})`);
      samplesInProgress++;
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (Date.now() - startedMs > 90_000) throw new Error(`the throttled copy did not finish: ${logBytes(2)} of ${totalBytes} bytes`);
    }
    expect(over).toEqual([]);
    expect(samplesInProgress).toBeGreaterThan(3);
    // The throttles the tool set, as Kafka's sets them: the current replica leads, the new one follows.
    const topicConfigs = await runCli(['configs', ...bootstrap, '--describe', '--entity-type', 'topics', '--entity-name', topic]);
    expect(topicConfigs.stdout).toContain('leader.replication.throttled.replicas=0:1');
    expect(topicConfigs.stdout).toContain('follower.replication.throttled.replicas=0:2');
    for (const broker of [1, 2]) {
      const brokerConfigs = await runCli(['configs', ...bootstrap, '--describe', '--entity-type', 'brokers', '--entity-name', String(broker)]);
      expect(brokerConfigs.stdout).toContain('leader.replication.throttled.rate=500000');
      expect(brokerConfigs.stdout).toContain('follower.replication.throttled.rate=500000');
    }

    const completed = 'Status of partition reassignment:\nReassignment of partition throttled-0 is completed.\n';
    await waitUntil(async () => (await runCli(['reassign-partitions', ...bootstrap, '--verify', '--reassignment-json-file', moves, '--preserve-throttles'])).stdout === completed, 'the move completed', 60_000);

    // Without --preserve-throttles, a --verify that finds every move done clears them, as Kafka's does.
    const verified = (await runCli(['reassign-partitions', ...bootstrap, '--verify', '--reassignment-json-file', moves])).stdout;
    expect(verified).toBe(`${completed}Clearing broker-level throttles on brokers 1,2,3\nClearing topic-level throttles on topic throttled\n`);
    const cleared = await runCli(['configs', ...bootstrap, '--describe', '--entity-type', 'topics', '--entity-name', topic]);
    expect(cleared.stdout).not.toContain('throttled.replicas');
    const brokerCleared = await runCli(['configs', ...bootstrap, '--describe', '--entity-type', 'brokers', '--entity-name', '1']);
    expect(brokerCleared.stdout).not.toContain('throttled.rate');
  }, 180_000);

  it('lists a move that cannot finish (no leader to copy from), shows it in topics --describe, and cancels it', async () => {
    await admin.createTopics({ topics: [{ topic: 'stuck', replicaAssignment: [{ partition: 0, replicas: [1, 2] }] }], waitForLeaders: true });
    const bootstrap = ['--bootstrap-server', `${cluster.broker(3).host}:${cluster.broker(3).port}`];
    // Both replicas stop (controlled shutdown hands the leadership to 2, which then stops too): no
    // leader, so broker 3, added below, has nothing to copy from and the move stays in flight.
    await cluster.stopBroker(1);
    await cluster.stopBroker(2);
    const moves = path.join(tempDir(), 'stuck.json');
    fs.writeFileSync(moves, JSON.stringify({ version: 1, partitions: [{ topic: 'stuck', partition: 0, replicas: [3] }] }));
    await waitUntil(async () => (await runCli(['reassign-partitions', ...bootstrap, '--execute', '--reassignment-json-file', moves])).code === 0, 'broker 3 is controller and takes the move', 60_000);
    expect((await runCli(['reassign-partitions', ...bootstrap, '--list'])).stdout).toBe('Current partition reassignments:\nstuck-0: replicas: 3,1,2. adding: 3. removing: 1,2.\n');
    expect((await runCli(['reassign-partitions', ...bootstrap, '--verify', '--reassignment-json-file', moves])).stdout).toBe('Status of partition reassignment:\nReassignment of partition stuck-0 is still in progress.\n');
    // Another --execute while a move is in flight is refused unless --additional, which may resubmit
    // the move to throttle it (Kafka's rules): the original replicas send, the one being added copies.
    const again = await runCli(['reassign-partitions', ...bootstrap, '--execute', '--reassignment-json-file', moves]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Cannot execute because there is an existing partition assignment.  Use --additional to override this');
    const resubmitted = await runCli(['reassign-partitions', ...bootstrap, '--execute', '--reassignment-json-file', moves, '--additional', '--throttle', '104857600']);
    expect(resubmitted.code, resubmitted.stderr).toBe(0);
    expect(resubmitted.stdout).toContain('Broker 1 is not alive: its throttle rate is not set\nBroker 2 is not alive: its throttle rate is not set\nThe inter-broker throttle limit was set to 104857600 B/s\n');
    const throttles = (await runCli(['configs', ...bootstrap, '--describe', '--entity-type', 'topics', '--entity-name', 'stuck'])).stdout;
    expect(throttles).toContain('leader.replication.throttled.replicas=0:1,0:2');
    expect(throttles).toContain('follower.replication.throttled.replicas=0:3');
    const described = await runCli(['topics', ...bootstrap, '--describe', '--topic', 'stuck']);
    expect(described.stdout).toMatch(/ReplicationFactor: 2\t/);
    expect(described.stdout).toMatch(/Partition: 0\tLeader: none\tReplicas: 3,1,2\tIsr: 2\tOffline: 1,2\tAdding Replicas: 3\tRemoving Replicas: 1,2\n/);
    // DescribeTopicPartitions (KIP-966), as @platformatic/kafka asks it, says the same.
    const connection = new Connection('reassignment-describe');
    await connection.connect(cluster.broker(3).host, cluster.broker(3).port);
    const partitionsDescribed = await describeTopicPartitionsV0.api.async(connection, [{ name: 'stuck' }], 100, undefined).finally(() => connection.close());
    expect(partitionsDescribed.topics[0]!.partitions).toEqual([
      { errorCode: 0, partitionIndex: 0, leaderId: -1, leaderEpoch: expect.any(Number), replicaNodes: [3, 1, 2], isrNodes: [2], eligibleLeaderReplicas: [], lastKnownElr: [], offlineReplicas: [1, 2] },
    ]);

    const cancelled = await runCli(['reassign-partitions', ...bootstrap, '--cancel', '--reassignment-json-file', moves]);
    expect(cancelled.stdout).toBe('Successfully cancelled partition reassignment for: stuck-0\n');
    expect((await runCli(['reassign-partitions', ...bootstrap, '--list'])).stdout).toBe('No partition reassignments found.\n');
    expect((await runCli(['topics', ...bootstrap, '--describe', '--topic', 'stuck'])).stdout).toMatch(/Partition: 0\tLeader: none\tReplicas: 1,2\tIsr: 2\tOffline: 1,2\n/);
    // Broker 3 dropped the log it had opened for the move.
    await waitUntil(() => !fs.existsSync(path.join(cluster.dataDir, 'broker-3', 'stuck-0')), "broker 3 dropped stuck-0's log");

    await cluster.restartBroker(1);
    await cluster.restartBroker(2);
    await waitUntil(async () => (await partitionsOf('stuck'))[0]!.isr.length === 2, 'stuck-0 led again with both replicas in sync', 60_000);
    // No move in flight (it was cancelled): --verify clears the throttles.
    expect((await runCli(['reassign-partitions', ...bootstrap, '--verify', '--reassignment-json-file', moves])).stdout).toContain('Clearing topic-level throttles on topic stuck\n');
    expect((await runCli(['configs', ...bootstrap, '--describe', '--entity-type', 'topics', '--entity-name', 'stuck'])).stdout).not.toContain('throttled');
  }, 180_000);

  it("moves a group's coordinator with its __consumer_offsets partition: the group reads everything, never below an acknowledged commit, and its commits survive", async () => {
    await admin.createTopics({ topics: [{ topic: 'grouped', numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    const client = kafka(cluster.bootstrapServers.split(','), 'reassignment-group');
    const producer = client.producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < 15; i++) await producer.send({ topic: 'grouped', acks: -1, messages: Array.from({ length: 100 }, (_, j) => ({ partition: j % 3, value: `g${i * 100 + j}` })) });
    await producer.disconnect();

    const consumer = client.consumer({ groupId: 'movers', sessionTimeout: 10_000 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'grouped', fromBeginning: true });
    const acknowledged = new Map<number, number>();
    consumer.on(consumer.events.COMMIT_OFFSETS, (event: any) => {
      for (const topic of event.payload.topics) for (const p of topic.partitions) acknowledged.set(Number(p.partition), Number(p.offset));
    });
    const seen = new Set<string>();
    const belowCommit: string[] = [];
    await consumer.run({
      eachMessage: async ({ partition, message }: any) => {
        const committed = acknowledged.get(partition);
        if (committed !== undefined && Number(message.offset) < committed) belowCommit.push(`${partition}@${message.offset} (commit ${committed})`);
        seen.add(message.value.toString());
        await new Promise((resolve) => setTimeout(resolve, 2)); // reading takes a while: the moves happen meanwhile
      },
    });
    await waitUntil(() => seen.size >= 200, 'the group reading');

    // Every offsets partition loses its leader (so the group's coordinator moves to the broker
    // that took its partition over), then gets that broker back as its last replica (a copy made
    // from scratch while the group commits).
    const offsetsPartitions = async () => (await partitionsOf('__consumer_offsets')).map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas }));
    const settled = () => waitUntil(async () => (await admin.listPartitionReassignments({})).topics.length === 0, 'the moves done', 60_000);
    const before = await offsetsPartitions();
    await admin.alterPartitionReassignments({
      topics: [{ topic: '__consumer_offsets', partitionAssignment: before.map(({ partition, leader, replicas }) => ({ partition, replicas: replicas.filter((id) => id !== leader) })) }],
    });
    await settled();
    // The controller lists none once it wrote the completions; every broker's metadata follows its watch.
    await waitUntil(async () => (await offsetsPartitions()).every((p, i) => p.leader !== before[i]!.leader && p.leader >= 0 && p.replicas.length === 2), 'every offsets partition led by another broker, on 2 replicas');
    await admin.alterPartitionReassignments({
      topics: [{ topic: '__consumer_offsets', partitionAssignment: before.map(({ partition, leader, replicas }) => ({ partition, replicas: [...replicas.filter((id) => id !== leader), leader] })) }],
    });
    await settled();

    const ends = [510, 495, 495]; // 15 sends of 100, round robin over 3 partitions
    await waitUntil(() => seen.size === 1500 && ends.every((end, p) => acknowledged.get(p) === end), 'every record read and its commit acknowledged', 90_000);
    await consumer.stop();
    const [committed] = await admin.fetchOffsets({ groupId: 'movers', topics: ['grouped'] });
    await consumer.disconnect();
    expect(committed.partitions.map((p: any) => Number(p.offset)).sort()).toEqual([...ends].sort());
    expect(belowCommit).toEqual([]);
  }, 180_000);
});
