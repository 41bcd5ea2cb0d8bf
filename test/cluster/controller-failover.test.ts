// The controller and leadership moves with broker processes (issue 8): killing the controller's
// broker elects another controller, which moves the dead broker's leaderships, and producers carry
// on; SIGTERM moves every leadership off a broker before it exits, so acks=all writes succeed at
// once, without waiting out its session; ElectLeaders (API 43) brings the preferred leaders back;
// `sluice topics --describe` shows Leader / Replicas / Isr and the under-replicated partitions.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BrokerConnection } from '../../src/client/connection.js';
import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { kafka } from '../fixtures/kafkajs.js';
import { runCli } from '../cli/run-cli.js';
import { waitUntil } from './helpers.js';

const TOPIC = 'moves';
const PARTITIONS = 3;

let cluster: LocalCluster;
let admin: any;
let producer: any;

beforeAll(async () => {
  // A session timeout longer than a controlled shutdown takes: a SIGTERMed broker's partitions must
  // move by controlled shutdown, not by its session expiring.
  cluster = await startCluster({ brokers: 3, config: { 'broker.session.timeout.ms': 10_000, 'auto.leader.rebalance.enable': 'false' } });
  const client = kafka(cluster.bootstrapServers.split(','), 'moves');
  admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
  producer = client.producer({ retry: { retries: 20, initialRetryTime: 50 } });
  await producer.connect();
}, 120_000);

afterAll(async () => {
  await producer?.disconnect().catch(() => {});
  await admin?.disconnect().catch(() => {});
  await cluster?.stop();
}, 120_000);

interface Metadata {
  controllerId: number;
  partitions: Array<{ partitionIndex: number; leaderId: number; leaderEpoch: number; replicaNodes: number[]; isrNodes: number[] }>;
}

async function request<T = any>(brokerId: number, apiKey: number, body: object, version?: number): Promise<T> {
  const broker = cluster.broker(brokerId);
  const connection = await BrokerConnection.connect({ host: broker.host, port: broker.port });
  try {
    return await connection.request(apiKey, body, version);
  } finally {
    connection.close();
  }
}

async function metadata(viaBrokerId: number): Promise<Metadata> {
  const answer = await request(viaBrokerId, ApiKey.Metadata, { topics: [{ name: TOPIC, topicId: '00000000-0000-0000-0000-000000000000' }], allowAutoTopicCreation: false }, 9);
  return { controllerId: answer.controllerId, partitions: answer.topics[0].partitions };
}

function running(): number[] {
  return cluster.brokers.filter((broker) => broker.running).map((broker) => broker.id);
}

async function produceToAll(tag: string): Promise<void> {
  for (let partition = 0; partition < PARTITIONS; partition++) {
    await producer.send({ topic: TOPIC, acks: -1, messages: [{ partition, value: `${tag}-${partition}` }] });
  }
}

async function fullIsr(via: number): Promise<boolean> {
  const { partitions } = await metadata(via);
  return partitions.every((p) => p.isrNodes.length === 3);
}

describe('the controller', () => {
  it('fails over when its broker is killed; the new controller moves the dead broker\'s leaderships', async () => {
    const { controllerId, partitions } = await metadata(1);
    expect([1, 2, 3]).toContain(controllerId);
    const led = partitions.filter((p) => p.leaderId === controllerId).map((p) => p.partitionIndex);
    await cluster.killBroker(controllerId);
    const survivor = running()[0]!;
    await waitUntil(async () => {
      const now = await metadata(survivor);
      return now.controllerId !== controllerId && now.controllerId !== -1 && now.partitions.every((p) => p.leaderId !== controllerId && p.leaderId !== -1);
    }, 'a new controller, and new leaders for what the dead broker led', 60_000);
    const after = await metadata(survivor);
    for (const partition of led) {
      const before = partitions.find((p) => p.partitionIndex === partition)!;
      expect(after.partitions.find((p) => p.partitionIndex === partition)!.leaderEpoch).toBeGreaterThan(before.leaderEpoch);
    }
    await produceToAll('after-controller-death');
    await cluster.restartBroker(controllerId);
    await waitUntil(() => fullIsr(survivor), 'the restarted broker back in every ISR', 60_000);
  }, 180_000);
});

describe('controlled shutdown', () => {
  it('moves every leadership off a SIGTERMed broker before it exits: writes go on at once', async () => {
    const { partitions } = await metadata(1);
    const victim = partitions[0]!.leaderId;
    await cluster.stopBroker(victim); // resolves once the process exited (cleanly)
    const survivor = running()[0]!;
    // The broker revoked its session on exit; the leaderships moved before, by controlled shutdown
    // (without it, this metadata would still name the stopped broker until the controller reacts).
    const after = await metadata(survivor);
    expect(after.partitions.every((p) => p.leaderId !== victim && p.leaderId !== -1)).toBe(true);
    await produceToAll('after-sigterm');
    // And it did so before stopping, not by its session ending: the broker says so in its log.
    expect(fs.readFileSync(cluster.broker(victim).logFile, 'utf8')).toContain('controlled shutdown: no leadership left to move');

    // While it is down, its partitions are under-replicated, and kafka-topics' view says so.
    const described = await runCli(['topics', '--describe', '--topic', TOPIC, '--bootstrap-server', `${cluster.broker(survivor).host}:${cluster.broker(survivor).port}`]);
    expect(described.stdout).toMatch(new RegExp(`Topic: ${TOPIC}\\tPartition: 0\\tLeader: \\d\\tReplicas: [\\d,]+\\tIsr: [\\d,]+`));
    const under = await runCli(['topics', '--describe', '--under-replicated-partitions', '--bootstrap-server', `${cluster.broker(survivor).host}:${cluster.broker(survivor).port}`]);
    expect(under.stdout.split('\n').filter((line) => line.includes(`Topic: ${TOPIC}\t`))).toHaveLength(PARTITIONS);

    await cluster.restartBroker(victim);
    await waitUntil(() => fullIsr(survivor), 'the restarted broker back in every ISR', 60_000);
    const healed = await runCli(['topics', '--describe', '--under-replicated-partitions', '--bootstrap-server', `${cluster.broker(survivor).host}:${cluster.broker(survivor).port}`]);
    expect(healed.stdout).not.toContain(`Topic: ${TOPIC}\t`);
  }, 180_000);

  it('ElectLeaders (sluice leader-election) gives each partition back to its preferred replica', async () => {
    const { controllerId, partitions } = await metadata(1);
    const notPreferred = partitions.filter((p) => p.leaderId !== p.replicaNodes[0]);
    expect(notPreferred.length).toBeGreaterThan(0); // the moves above left some
    // kafka-leader-election's election file, naming every partition of the topic.
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-election-')), 'election.json');
    fs.writeFileSync(file, JSON.stringify({ partitions: partitions.map((p) => ({ topic: TOPIC, partition: p.partitionIndex })) }));
    const election = await runCli(['leader-election', '--bootstrap-server', cluster.bootstrapServers, '--election-type', 'preferred', '--path-to-json-file', file]);
    expect(election).toMatchObject({ code: 0, stderr: '' });
    const names = (list: typeof partitions) => list.map((p) => `${TOPIC}-${p.partitionIndex}`).sort().join(', ');
    const alreadyPreferred = partitions.filter((p) => p.leaderId === p.replicaNodes[0]);
    const lines = [`Successfully completed leader election (PREFERRED) for partitions ${names(notPreferred)}`];
    // ELECTION_NOT_NEEDED for those already led by their preferred replica.
    if (alreadyPreferred.length > 0) lines.push(`Valid replica already elected for partitions ${names(alreadyPreferred)}`);
    expect(election.stdout).toBe(lines.map((line) => `${line}\n`).join(''));
    await waitUntil(async () => (await metadata(1)).partitions.every((p) => p.leaderId === p.replicaNodes[0]), 'every partition led by its preferred replica');
    // Another broker is not the controller: it says so.
    const other = [1, 2, 3].find((id) => id !== controllerId)!;
    const refused = await request(other, ApiKey.ElectLeaders, { electionType: 0, topicPartitions: [{ topic: TOPIC, partitionId: [0] }], timeoutMs: 10_000 }, 2);
    expect(refused.errorCode).toBe(41); // NOT_CONTROLLER
    await produceToAll('after-election');
  }, 120_000);
});
