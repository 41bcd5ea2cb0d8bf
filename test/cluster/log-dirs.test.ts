// Three real brokers and a real etcd in this process, each broker with two log directories
// (log.dirs, JBOD): replicas of a topic with replication factor 3 are spread over each broker's
// directories and replicated byte for byte; a broker that stops and comes back finds each replica
// in the directory it left it in, catches up and rejoins the ISR; every replica, leader and
// followers, moves to its broker's other directory (Engine.alterLogDir, AlterReplicaLogDirs'
// path) while kafkajs writes with acks=all, and all stay in sync; `sluice reassign-partitions`
// adds a replica, which lands in the log dir AlterReplicaLogDirs asked for it beforehand. kafkajs is the client. Then
// `sluice broker` processes (startCluster's logDirs) with two directories each: a SIGKILLed broker
// recovers both directories and, once the other two are killed, serves every acknowledged record.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { startInProcessCluster, type InProcessCluster } from '../fixtures/cluster-in-process.js';
import { kcat } from '../fixtures/kcat.js';
import { kafka } from '../fixtures/kafkajs.js';
import { waitUntil } from './helpers.js';
import { runCli } from '../cli/run-cli.js';
import { KafkaClient } from '../../src/client/client.js';
import { KafkaErrorCode } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

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

/** Every partition has all three brokers in its ISR, and every replica's log equals its leader's, with the high watermark at its end. */
async function inSync(records: number): Promise<boolean> {
  const metadata = await admin.fetchTopicMetadata({ topics: [TOPIC] });
  if (!metadata.topics[0].partitions.every((p: { isr: number[] }) => p.isr.length === 3)) return false;
  let total = 0;
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const logs = [...cluster.logBytes(TOPIC, partition).values()];
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

  it('moves every replica to its broker\'s other directory while kafkajs writes with acks=all; every replica stays in sync, byte for byte', async () => {
    // 2 KB/s a broker: the moves of its four replicas (~40 KB) would take ~20 s, so the writes
    // below all land while every move is under way; then the limit goes and the moves finish.
    for (const broker of cluster.brokers.values()) broker.engine.setLogDirMoveRate(2_000);
    const moves: Array<Promise<void>> = [];
    const targets = new Map<number, string[]>();
    for (const [id, broker] of cluster.brokers) {
      const other = Array.from({ length: PARTITIONS }, (_, partition) => broker.engine.logDirs.find((dir) => dir !== broker.engine.logDirOf(TOPIC, partition))!);
      targets.set(id, other);
      other.forEach((dir, partition) => moves.push(broker.engine.alterLogDir(TOPIC, partition, dir)));
    }
    expect([...cluster.brokers.values()].every((broker) => broker.engine.logDirMoves().length > 0)).toBe(true);
    for (let from = 600; from < 1000; from += 40) await produce(from, 40);
    expect([...cluster.brokers.values()].every((broker) => broker.engine.logDirMoves().length > 0)).toBe(true);
    for (const broker of cluster.brokers.values()) broker.engine.setLogDirMoveRate(Infinity);
    await Promise.all(moves);
    for (const [id, broker] of cluster.brokers) {
      expect(Array.from({ length: PARTITIONS }, (_, partition) => broker.engine.logDirOf(TOPIC, partition))).toEqual(targets.get(id));
    }
    await produce(1000, 40);
    await waitUntil(() => inSync(1040), 'every moved replica in sync');
  });

  it('a replica asked into a log dir before a reassignment adds it is created there (Kafka\'s preferred log dir), not moved; `sluice reassign-partitions --verify` finds it in place', async () => {
    await admin.createTopics({ topics: [{ topic: 'placed', replicaAssignment: [{ partition: 0, replicas: [1] }] }], waitForLeaders: true });
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'placed', acks: -1, messages: Array.from({ length: 1000 }, (_, i) => ({ value: `placed ${i}` })) });
    await producer.disconnect();
    const two = cluster.brokers.get(2)!;
    // The directory broker 2 would not pick for a new log (it picks the one holding fewer, the first of those tied).
    const counts = two.engine.logDirs.map((dir) => fs.readdirSync(dir).filter((name) => /-\d+$/.test(name)).length);
    const target = two.engine.logDirs[counts[1]! < counts[0]! ? 0 : 1]!;
    // A move of its records would crawl at 1 byte a second: the replica must be created in the target, not moved there.
    two.engine.setLogDirMoveRate(1);
    const ours = await KafkaClient.connect({ brokers: cluster.bootstrapServers });
    try {
      expect(await ours.alterReplicaLogDirs(2, [{ topic: 'placed', partition: 0, logDir: target }])).toEqual([{ topic: 'placed', partition: 0, errorCode: KafkaErrorCode.NOT_LEADER_OR_FOLLOWER }]);
    } finally {
      ours.close();
    }
    // The reassignment itself names no directory: where the replica lands is the preference's doing.
    const dir = tempDir();
    fs.writeFileSync(`${dir}/add.json`, JSON.stringify({ version: 1, partitions: [{ topic: 'placed', partition: 0, replicas: [1, 2] }] }));
    fs.writeFileSync(`${dir}/placed.json`, JSON.stringify({ version: 1, partitions: [{ topic: 'placed', partition: 0, replicas: [1, 2], log_dirs: ['any', target] }] }));
    const executed = await runCli(['reassign-partitions', '--bootstrap-server', cluster.bootstrapServers.join(','), '--execute', '--reassignment-json-file', `${dir}/add.json`]);
    expect(executed).toMatchObject({ code: 0, stderr: '' });
    await waitUntil(() => two.engine.hasTopic('placed') && two.engine.hostsPartition('placed', 0) && two.engine.latestOffset('placed', 0) === 1000, 'broker 2 to hold placed-0, caught up');
    expect(two.engine.logDirOf('placed', 0)).toBe(target);
    expect(two.engine.logDirMoves()).toEqual([]);
    const verified = await runCli(['reassign-partitions', '--bootstrap-server', cluster.bootstrapServers.join(','), '--verify', '--reassignment-json-file', `${dir}/placed.json`]);
    expect(verified.stdout).toContain('Reassignment of replica placed-0-2 completed successfully.\n');
    two.engine.setLogDirMoveRate(Infinity);
  });
});

describe('sluice broker processes with two log directories each', () => {
  let processes: LocalCluster;

  afterAll(async () => {
    await processes?.stop();
  }, 120_000);

  it('a SIGKILLed broker recovers both directories, catches up, and alone serves every acknowledged record', async () => {
    processes = await startCluster({
      brokers: 3,
      logDirs: 2,
      config: { 'broker.session.timeout.ms': 3000, 'min.insync.replicas': 2, 'auto.leader.rebalance.enable': 'false' },
    });
    const one = processes.brokers.find((broker) => broker.id === 1)!;
    expect(one.logDirs).toEqual([one.dataDir, `${one.dataDir}-dir-2`]);
    const bootstrap = processes.bootstrapServers;
    const other = kafka(bootstrap.split(','));
    const otherAdmin = other.admin();
    await otherAdmin.connect();
    try {
      await otherAdmin.createTopics({ topics: [{ topic: 'killed', numPartitions: PARTITIONS, replicationFactor: 3 }], waitForLeaders: true });
      const produce = async (from: number, count: number) => {
        for (let partition = 0; partition < PARTITIONS; partition++) {
          const input = Array.from({ length: count }, (_, i) => `p${partition}-${from + i}`).join('\n') + '\n';
          const produced = await kcat(['-P', '-b', bootstrap, '-t', 'killed', '-p', String(partition), '-X', 'acks=all', '-X', 'message.send.max.retries=100'], input);
          expect(produced.code, produced.stderr).toBe(0);
        }
      };
      await produce(0, 50);
      await processes.killBroker(1);
      await produce(50, 50);
      await processes.restartBroker(1);
      // Both of broker 1's directories hold replicas of the topic, recovered after the kill.
      for (const dir of one.logDirs) expect(fs.readdirSync(dir).some((name) => name.startsWith('killed-'))).toBe(true);
      await waitUntil(async () => {
        const metadata = await otherAdmin.fetchTopicMetadata({ topics: ['killed'] });
        return metadata.topics[0].partitions.every((p: { isr: number[] }) => p.isr.includes(1));
      }, 'broker 1 back in every ISR', 60_000);
    } finally {
      await otherAdmin.disconnect();
    }
    await processes.killBroker(2);
    await processes.killBroker(3);
    const alone = `${one.host}:${one.port}`;
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const expected = Array.from({ length: 100 }, (_, i) => `p${partition}-${i}`);
      let values: string[] = [];
      await waitUntil(async () => {
        const read = await kcat(['-C', '-b', alone, '-t', 'killed', '-p', String(partition), '-o', 'beginning', '-e', '-q', '-f', '%s\n']);
        values = read.stdout.split('\n').filter((line) => line !== '');
        return read.code === 0 && values.length === expected.length;
      }, `partition ${partition} readable from broker 1 alone`, 60_000);
      expect(values).toEqual(expected);
    }
  }, 180_000);
});
