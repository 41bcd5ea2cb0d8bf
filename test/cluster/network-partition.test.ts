// Network partitions (issue 8): three `sluice broker` processes on 127.0.0.2-4 (outgoing replica
// connections bound to their own address too) and etcd on 127.0.0.100, which broker i reaches
// through a relay dialing from 127.0.0.(110+i) (etcd's gRPC client cannot bind an address), with
// nft dropping traffic between chosen addresses. The test's clients run on 127.0.0.1, never cut.
//
//   1. The leader loses its followers but keeps etcd: its acks=all writes are not acknowledged;
//      once replica.lag.time.max.ms has shrunk the ISR to the leader alone (below
//      min.insync.replicas=2) they are refused with NOT_ENOUGH_REPLICAS; after healing, the
//      followers catch up and rejoin the ISR, and every replica holds the same records.
//   2. The leader loses its followers and etcd: the controller elects a follower (the leader's
//      session expires), writes go on there, the old leader takes acks=1 writes nobody else has;
//      after healing it follows the new leader and truncates that divergent tail, and nothing
//      acknowledged with acks=all is lost (queue checker).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BrokerConnection } from '../../src/client/connection.js';
import { startEtcd, type EtcdCluster } from '../../src/cluster/etcd-process.js';
import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { encodeBatch } from '../../src/record/batch.js';
import { kafka } from '../fixtures/kafkajs.js';
import { kcat } from '../fixtures/kcat.js';
import { NetworkPartition, nftRefused } from '../fixtures/nft.js';
import { QueueHistory, checkQueue, formatReport } from '../fixtures/queue-checker.js';
import { startRelay, type TcpRelay } from '../fixtures/tcp-relay.js';
import { waitUntil } from './helpers.js';

const ETCD_HOST = '127.0.0.100';
/** Broker i's connections to etcd leave from here. */
const etcdRelayHost = (brokerId: number) => `127.0.0.${110 + brokerId}`;
const LAG_MS = 3000;
const skip = nftRefused();

let etcd: EtcdCluster;
const relays = new Map<number, TcpRelay>();
let cluster: LocalCluster;
let partition: NetworkPartition;
let admin: any;

beforeAll(async () => {
  if (skip !== undefined) return;
  etcd = await startEtcd({ host: ETCD_HOST });
  const etcdPort = Number(new URL(etcd.endpoints[0]!).port);
  for (const brokerId of [1, 2, 3]) {
    const host = etcdRelayHost(brokerId);
    relays.set(brokerId, await startRelay({ host, target: { host: ETCD_HOST, port: etcdPort }, localAddress: host }));
  }
  cluster = await startCluster({
    brokers: 3,
    etcdEndpoints: etcd.endpoints,
    etcdEndpointsOf: (brokerId) => [`http://${relays.get(brokerId)!.host}:${relays.get(brokerId)!.port}`],
    // A fetch lost in a cut is given up after replica.socket.timeout.ms (30 s in Kafka) and sent again.
    config: { 'broker.session.timeout.ms': 3000, 'replica.lag.time.max.ms': LAG_MS, 'replica.socket.timeout.ms': 5000, 'auto.leader.rebalance.enable': 'false' },
  });
  partition = await NetworkPartition.create({ mode: 'drop' });
  admin = kafka(cluster.bootstrapServers.split(','), 'partition-admin').admin();
  await admin.connect();
}, 120_000);

afterAll(async () => {
  await partition?.close();
  await admin?.disconnect().catch(() => {});
  await cluster?.stop();
  for (const relay of relays.values()) await relay.close();
  await etcd?.stop();
}, 120_000);

interface PartitionState {
  leader: number;
  isr: number[];
  replicas: number[];
}

async function state(topic: string, via?: number): Promise<PartitionState> {
  // Ask a broker that is not cut off from etcd (its view is current).
  const connection = await connect(via ?? cluster.brokers[0]!.id);
  try {
    const metadata = await connection.request(ApiKey.Metadata, { topics: [{ name: topic, topicId: '00000000-0000-0000-0000-000000000000' }], allowAutoTopicCreation: false }, 7);
    const p = metadata.topics[0].partitions[0];
    return { leader: p.leaderId, isr: p.isrNodes, replicas: p.replicaNodes };
  } finally {
    connection.close();
  }
}

async function connect(brokerId: number, requestTimeoutMs = 30_000): Promise<BrokerConnection> {
  const broker = cluster.broker(brokerId);
  return BrokerConnection.connect({ host: broker.host, port: broker.port, requestTimeoutMs });
}

/** Produce of one record straight to a broker; resolves with the partition's error code and base offset. */
async function produceTo(brokerId: number, topic: string, value: string, acks: number, timeoutMs: number): Promise<{ errorCode: number; baseOffset: number }> {
  const connection = await connect(brokerId, timeoutMs + 10_000);
  try {
    const response = await connection.request(ApiKey.Produce, {
      transactionalId: null,
      acks,
      timeoutMs,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: encodeBatch([{ value: Buffer.from(value) }]) }] }],
    });
    const { errorCode, baseOffset } = response.responses[0].partitionResponses[0];
    return { errorCode, baseOffset: Number(baseOffset) };
  } finally {
    connection.close();
  }
}

/** Every record of partition 0, read from its leader by kcat. */
async function readAll(topic: string): Promise<Array<{ offset: number; value: string }>> {
  const result = await kcat(['-b', cluster.bootstrapServers, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o|%s\\n'], '', 60_000);
  return result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [offset, value] = line.split('|');
      return { offset: Number(offset), value: value! };
    });
}

async function createTopic(topic: string): Promise<PartitionState> {
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
  return state(topic);
}

describe.skipIf(skip !== undefined)('a leader cut off from its followers', () => {
  it('stops acknowledging acks=all writes, refuses them once the ISR shrank below min.insync.replicas, and recovers after healing', async () => {
    const { leader, replicas } = await createTopic('cut-followers');
    const followers = replicas.filter((id) => id !== leader);
    expect((await produceTo(leader, 'cut-followers', 'before', -1, 5000)).errorCode).toBe(0);

    await partition.isolate(cluster.broker(leader).host, followers.map((id) => cluster.broker(id).host));
    try {
      // Not acknowledged: the followers cannot fetch it, so the HW does not cover it.
      const during = await produceTo(leader, 'cut-followers', 'during', -1, 1000);
      expect([7, 19, 20]).toContain(during.errorCode); // REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS(_AFTER_APPEND)
      await waitUntil(async () => (await state('cut-followers', leader)).isr.length === 1, 'the leader shrinks the ISR to itself', 30_000);
      expect((await produceTo(leader, 'cut-followers', 'refused', -1, 5000)).errorCode).toBe(19); // NOT_ENOUGH_REPLICAS
    } finally {
      await partition.heal();
    }
    await waitUntil(async () => (await state('cut-followers', leader)).isr.length === 3, 'the followers rejoin the ISR', 60_000);
    expect((await produceTo(leader, 'cut-followers', 'after', -1, 5000)).errorCode).toBe(0);
    const values = (await readAll('cut-followers')).map((r) => r.value);
    expect(values).toContain('before');
    expect(values).toContain('after');
    expect(values).not.toContain('refused');
  }, 180_000);
});

describe.skipIf(skip !== undefined)('a leader cut off from its followers and from etcd', () => {
  it('is replaced; after healing it truncates its divergent tail and nothing acknowledged is lost', async () => {
    const topic = 'cut-all';
    const history = new QueueHistory();
    const before = await createTopic(topic);
    const old = before.leader;
    const others = before.replicas.filter((id) => id !== old);
    const send = async (brokerId: number, value: string, acks: number, timeoutMs = 5000) => {
      history.sendStarted(value);
      const answer = await produceTo(brokerId, topic, value, acks, timeoutMs).catch(() => ({ errorCode: -1, baseOffset: -1 }));
      // Only acks=all promises durability: an acks=1 answer is recorded as an outcome unknown.
      if (answer.errorCode === 0 && acks === -1) history.acked(value, 0, answer.baseOffset);
      else history.indeterminate(value, answer.errorCode === 0 ? `acks=${acks} answered at ${answer.baseOffset}` : `error ${answer.errorCode}`);
      return answer;
    };
    // A fetcher connection left hanging by the first test's cut is given up after
    // replica.socket.timeout.ms (5 s here): the first writes may wait for it.
    for (let i = 0; i < 10; i++) expect((await send(old, `a${i}`, -1, 15_000)).errorCode).toBe(0);

    await partition.isolate(cluster.broker(old).host, others.map((id) => cluster.broker(id).host));
    await partition.isolate(etcdRelayHost(old), [ETCD_HOST]);
    let after: PartitionState;
    try {
      // The isolated leader takes acks=1 writes (its own log only: they cannot survive) and does
      // not acknowledge acks=all ones.
      for (let i = 0; i < 5; i++) expect((await send(old, `lonely${i}`, 1)).errorCode).toBe(0);
      expect((await send(old, 'unacked', -1, 1000)).errorCode).not.toBe(0);
      // Until then Metadata names no leader (-1, LEADER_NOT_AVAILABLE), as Kafka's does for a dead one.
      await waitUntil(async () => ![old, -1].includes((await state(topic, others[0])).leader), 'the controller elects another leader', 30_000);
      after = await state(topic, others[0]);
      for (let i = 0; i < 10; i++) expect((await send(after.leader, `b${i}`, -1)).errorCode).toBe(0);
    } finally {
      await partition.heal();
    }
    await waitUntil(async () => (await state(topic, after!.leader)).isr.length === 3, 'the old leader rejoins the ISR as a follower', 60_000);
    // Every replica agrees: the old leader's divergent tail is gone, replaced by the new leader's records.
    for (const record of await readAll(topic)) history.finalRead(0, record.offset, record.value);
    const report = checkQueue(history);
    const text = formatReport(report);
    console.log(`network partition queue check: ${text.split('\n')[0]}`);
    for (const kind of ['lost', 'unseen', 'duplicated', 'inconsistentOffsets', 'reorderedSends', 'unexpected'] as const) expect(report.counts[kind], `${kind}: ${text}`).toBe(0);
    // The acks=1 writes to the cut-off leader were acknowledged by it alone and are gone, as in
    // Kafka: they were never committed, and the new leader's records took their offsets.
    const values = (await readAll(topic)).map((r) => r.value);
    expect(values.filter((v) => v.startsWith('lonely'))).toEqual([]);
    expect(values.filter((v) => v.startsWith('a') || v.startsWith('b'))).toHaveLength(20);
    // The old leader's own log agrees: read it directly once it is a follower in the ISR.
    const direct = await connect(old);
    try {
      const listed = await direct.request(ApiKey.ListOffsets, { replicaId: -2, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }] });
      expect(Number(listed.topics[0].partitions[0].offset)).toBe(values.length);
    } finally {
      direct.close();
    }
  }, 180_000);
});
