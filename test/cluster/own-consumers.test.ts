// The project's own consumers on a 3-broker cluster (real etcd, real broker processes): a topic of
// three partitions, RF 3, each led by another broker. `sluice consume` and `sluice perf consume`
// read every partition at its own leader: before, the Fetcher sent one request for every
// partition to the first partition's leader, the other leaders' partitions came back
// NOT_LEADER_OR_FOLLOWER and the command failed. Through a leader SIGKILLed and restarted,
// sluice's producer (acks=all) retries until the partition has a new leader, the Fetcher reads
// every acknowledged record once, in order per partition, and a PoolConsumer handles every one
// (at least once, as a group delivers). `sluice groups` asks each group's coordinator, and every
// broker for --list (before, it asked the broker it bootstrapped from, which answered
// NOT_COORDINATOR for most groups and listed only its own). A partition that stays without a leader fails the send
// once delivery.timeout.ms is over, naming its last error: the producer retried until then, where
// it used to give up after 5 retries 100 ms apart, long before a lost broker's session expires.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { Fetcher } from '../../src/client/fetcher.js';
import { Producer } from '../../src/client/producer.js';
import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { PoolConsumer } from '../../src/consumer/pool-consumer.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { runCli } from '../cli/run-cli.js';
import { Collector, HANDLER } from '../consumer/helpers.js';
import { waitUntil } from './helpers.js';

const TOPIC = 'spread';
const PARTITIONS = 3;
const BEFORE = 300;

let cluster: LocalCluster;
let client: KafkaClient;
let producer: Producer;

/** Sends `values` round robin over the partitions, with sluice's producer (acks=all, idempotent). */
async function send(values: string[]): Promise<void> {
  await producer.send(TOPIC, values.map((value, i) => ({ value, partition: i % PARTITIONS })));
}

/**
 * Waits until each partition is led by its first replica, as creation leaves it on a quiet machine.
 * On a busy one the controller can see brokers 2 and 3 register a moment after the broker that
 * answered Metadata did (each follows etcd on its own watch), or a session can lapse for a moment:
 * the partitions are then led by broker 1, and stay so with auto.leader.rebalance.enable off. A
 * preferred election, as an operator would run, gives each back once its replica is in the ISR.
 */
async function preferredLeaders(): Promise<void> {
  await waitUntil(async () => {
    const partitions = (await client.metadata([TOPIC])).topics[0]?.partitions ?? [];
    const misled = partitions.filter((p) => p.leader !== p.replicas[0]);
    const electable = misled.filter((p) => p.isr.includes(p.replicas[0]!)).map((p) => ({ topic: TOPIC, partition: p.partition }));
    if (electable.length > 0) await client.electLeaders('preferred', electable);
    return partitions.length === PARTITIONS && misled.length === 0;
  }, 'each partition led by its preferred replica', 60_000);
}

beforeAll(async () => {
  cluster = await startCluster({
    brokers: 3,
    config: { 'broker.session.timeout.ms': 3000, 'group.initial.rebalance.delay.ms': 0, 'auto.leader.rebalance.enable': 'false' },
  });
  client = await KafkaClient.connect({ brokers: cluster.bootstrapServers.split(',') });
  await waitUntil(async () => (await client.metadata([])).brokers.length === 3, 'every broker to register');
  // Partition p led by broker p + 1.
  await client.createTopics([{ name: TOPIC, assignments: [[1, 2, 3], [2, 3, 1], [3, 1, 2]], configs: { 'min.insync.replicas': '2' } }]);
  await preferredLeaders();
  producer = await Producer.create(client);
  await send(Array.from({ length: BEFORE }, (_, i) => `r${i}`));
}, 120_000);

afterAll(async () => {
  await producer?.close();
  client?.close();
  await cluster?.stop();
}, 60_000);

describe('the CLI reads a topic whose partitions have different leaders', () => {
  it('sluice consume prints every record of every partition', async () => {
    const leaders = (await client.metadata([TOPIC])).topics[0]!.partitions.map((p) => p.leader);
    expect(new Set(leaders).size).toBe(PARTITIONS);
    const result = await runCli(['consume', '--bootstrap-server', cluster.bootstrapServers, '--topic', TOPIC, '--from-beginning', '--max-messages', String(BEFORE), '--timeout-ms', '20000']);
    expect(result.stderr).toContain(`Processed a total of ${BEFORE} messages`);
    expect(result.code).toBe(0);
    const printed = result.stdout.trimEnd().split('\n');
    expect([...printed].sort()).toEqual(Array.from({ length: BEFORE }, (_, i) => `r${i}`).sort());
  });

  it('sluice perf consume counts every record', async () => {
    const result = await runCli(['perf', 'consume', '--bootstrap-server', cluster.bootstrapServers, '--topic', TOPIC, '--messages', String(BEFORE), '--timeout-ms', '20000']);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('WARNING');
    // data.consumed.in.nMsg, the values line's fifth field.
    expect(Number(result.stdout.trimEnd().split('\n').at(-1)!.split(', ')[4])).toBe(BEFORE);
  });

  it('a --consumer-property it does not act on is a usage error, never ignored', async () => {
    const result = await runCli(['consume', '--bootstrap-server', cluster.bootstrapServers, '--topic', TOPIC, '--consumer-property', 'interceptor.classes=com.example.Audit']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--consumer-property interceptor.classes is not supported; supported: client.rack, fetch.max.wait.ms');
  });
});

describe('sluice groups, where each group has its own coordinator', () => {
  /** The broker coordinating `group` (the leader of its __consumer_offsets partition). */
  async function coordinatorOf(group: string): Promise<number> {
    for (;;) {
      const connection = await client.anyConnection();
      const response = await connection.request(ApiKey.FindCoordinator, { key: group, keyType: 0, coordinatorKeys: [group] });
      const answer = response.coordinators?.[0] ?? response;
      if (answer.errorCode === 0) return answer.nodeId;
      await new Promise((resolve) => setTimeout(resolve, 200)); // the offsets topic being created
    }
  }

  it('lists every broker\'s groups; resets, describes and deletes groups that broker 1 (the bootstrap) does not coordinate', async () => {
    const groups = new Map<number, string>();
    for (let i = 0; groups.size < 2; i++) {
      const coordinator = await coordinatorOf(`g${i}`);
      if (coordinator !== 1 && !groups.has(coordinator)) groups.set(coordinator, `g${i}`);
    }
    const [onTwo, onThree] = [groups.get(2)!, groups.get(3)!];
    const groupsCli = (...args: string[]) => runCli(['groups', '--bootstrap-server', cluster.bootstrapServers, ...args]);
    for (const group of [onTwo, onThree]) {
      const reset = await groupsCli('--reset-offsets', '--group', group, '--topic', TOPIC, '--to-latest', '--execute');
      expect(reset.stderr).toBe('');
      expect(reset.code).toBe(0);
    }
    const listed = await groupsCli('--list');
    expect(listed.stdout.trimEnd().split('\n')).toEqual(expect.arrayContaining([onTwo, onThree]));

    const described = await groupsCli('--describe', '--group', onTwo);
    expect(described.code).toBe(0);
    const rows = described.stdout.trimEnd().split('\n').filter((line) => line.startsWith(`${onTwo} `));
    // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...: committed at each log end, lag 0.
    expect(rows.map((row) => row.split(/\s+/).slice(1, 6)).map(([topic, partition, current, end, lag]) => [topic, partition, current === end, lag])).toEqual(
      Array.from({ length: PARTITIONS }, (_, p) => [TOPIC, String(p), true, '0']),
    );

    const deleted = await groupsCli('--delete', '--group', onThree);
    expect(deleted.stdout).toBe(`Deletion of requested consumer groups ('${onThree}') was successful.\n`);
    expect((await groupsCli('--list')).stdout.trimEnd().split('\n')).not.toContain(onThree);
  }, 60_000);
});

describe('reading through a leader SIGKILLed and restarted', () => {
  it('the Fetcher reads every acknowledged record once, in order per partition; a PoolConsumer handles each', async () => {
    const fetcher = new Fetcher(client, { maxWaitMs: 200 });
    for (let p = 0; p < PARTITIONS; p++) await fetcher.assign(TOPIC, p, 'earliest');
    const collector = new Collector('own-consumers-pool');
    const pool = new PoolConsumer({
      brokers: cluster.bootstrapServers.split(','),
      groupId: 'own-consumers-pool',
      topics: [TOPIC],
      handler: HANDLER,
      concurrency: 1,
      autoOffsetReset: 'earliest',
      maxWaitMs: 200,
      workerData: { channel: collector.name },
    });
    await pool.start();
    const read: Array<{ partition: number; offset: number; value: string }> = [];
    const readUntil = async (count: number, what: string) =>
      waitUntil(async () => {
        for (const record of (await fetcher.fetch()).records) read.push({ partition: record.partition, offset: record.offset, value: record.value!.toString() });
        return read.length >= count;
      }, what, 60_000);
    try {
      await readUntil(BEFORE, 'the Fetcher to read the first records');
      await cluster.killBroker(1); // leader of partition 0
      const after = Array.from({ length: 150 }, (_, i) => `s${i}`);
      await send(after);
      await readUntil(BEFORE + after.length, 'the Fetcher to read the records sent after the kill');
      await cluster.restartBroker(1);
      const later = Array.from({ length: 150 }, (_, i) => `t${i}`);
      await send(later);
      const total = BEFORE + after.length + later.length;
      await readUntil(total, 'the Fetcher to read the records sent after the restart');
      await waitUntil(() => collector.records >= total, 'the PoolConsumer to handle every record', 60_000);

      const expected = [...Array.from({ length: BEFORE }, (_, i) => `r${i}`), ...after, ...later];
      expect(read.map((r) => r.value).sort()).toEqual([...expected].sort());
      for (let p = 0; p < PARTITIONS; p++) {
        const offsets = read.filter((r) => r.partition === p).map((r) => r.offset);
        expect(offsets).toEqual(offsets.map((_, i) => i));
      }
      // The group's delivery is at least once: its coordinator may move with broker 1 and the
      // group go back to its last commit.
      expect([...new Set(collector.values())].sort()).toEqual([...expected].sort());
    } finally {
      await pool.stop();
      collector.close();
    }
  }, 180_000);
});

describe('a partition that stays without a leader', () => {
  it('fails a send once delivery.timeout.ms is over, with the last error', async () => {
    await client.createTopics([{ name: 'stranded', assignments: [[2]] }]);
    await cluster.killBroker(2);
    const impatient = await Producer.create(client, { acks: 1, idempotent: false, deliveryTimeoutMs: 3000 });
    try {
      const failure = await impatient.send('stranded', [{ value: 'lost' }]).then(() => null, (error: unknown) => error as Error & { code: string });
      expect(failure).not.toBeNull();
      expect(['NETWORK_EXCEPTION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER']).toContain(failure!.code);
      expect(failure!.message).toMatch(/^Produce to stranded-0 failed: .*; delivery\.timeout\.ms 3000 expired after \d+ attempts$/);
    } finally {
      await impatient.close().catch(() => {});
      await cluster.restartBroker(2);
    }
  }, 60_000);
});
