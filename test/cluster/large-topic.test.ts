// A topic of thousands of partitions on a real cluster (issue 8): startCluster's etcd and three
// broker processes, their data directories on a tmpfs of the test's own. Each broker opens the
// logs of the partitions it is a replica of, 1,500 here, a chunk per turn of its event loop, and
// answers requests between chunks. Opened in one turn, they held every broker's loop past its etcd
// lease: all three lost their sessions while the topic was created (4,500 partitions on a tmpfs
// with a 3 s lease; 6,000 at the default 9 s on a disk), and the controller had to elect again;
// deleting the 6,000 did the same (a fsync, a checkpoint and a removal a log).
import fs from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BrokerConnection } from '../../src/client/connection.js';
import { startCluster, type LocalCluster } from '../../src/index.js';
import { descriptorBudget } from '../../src/limits.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { runFixture, type Child } from '../fixtures/child.js';
import { kafka } from '../fixtures/kafkajs.js';
import { mountTmpfs, tmpfsRefused, type Tmpfs } from '../fixtures/tmpfs.js';
import { tempDir } from '../helpers.js';
import { sleep, waitUntil } from './helpers.js';

const PARTITIONS = 4500;
const SESSION_TIMEOUT_MS = 3000;
const LOST_SESSION = 'lost its etcd session';

describe.skipIf(tmpfsRefused !== undefined)(`a topic of ${PARTITIONS} partitions on three brokers`, () => {
  let tmpfs: Tmpfs;
  let cluster: LocalCluster;
  let dataDir: string;

  beforeAll(async () => {
    tmpfs = mountTmpfs(768 << 20);
    dataDir = `${tmpfs.dir}/cluster`;
    cluster = await startCluster({ brokers: 3, dataDir, config: { 'broker.session.timeout.ms': SESSION_TIMEOUT_MS, 'log.level': 'warn' } });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    tmpfs?.unmount();
  }, 120_000);

  /** The partitions of `topic` whose log directories are in broker `id`'s data directory. */
  const directoriesOf = (id: number, topic: string) =>
    fs.readdirSync(`${dataDir}/broker-${id}`).filter((name) => name.startsWith(`${topic}-`) && /^\d+$/.test(name.slice(topic.length + 1))).length;

  it('is created and deleted without a broker losing its etcd session; each broker holds its replicas, and every partition takes a write', async () => {
    const client = kafka(cluster.bootstrapServers.split(','));
    const admin = client.admin();
    await admin.connect();
    const producer = client.producer();
    // While broker 1 opens its logs, it answers: a Metadata sent once some of them were open is
    // answered before all are (never so when they opened in one turn of its loop).
    const probe = await BrokerConnection.connect({ host: cluster.brokers[0]!.host, port: cluster.brokers[0]!.port });
    let answeredMidway = 0;
    let probing = true;
    const probed = (async () => {
      while (probing) {
        const before = directoriesOf(1, 'wide');
        await probe.request(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false }, 9);
        if (before > 0 && directoriesOf(1, 'wide') < PARTITIONS / 3) answeredMidway++;
        await sleep(2);
      }
    })();
    try {
      await admin.createTopics({ topics: [{ topic: 'wide', numPartitions: PARTITIONS, replicationFactor: 1 }], timeout: 110_000 });
      const [{ partitions }] = (await admin.fetchTopicMetadata({ topics: ['wide'] })).topics;
      expect(partitions).toHaveLength(PARTITIONS);
      for (const { id } of cluster.brokers) {
        const replicaOf = partitions.filter(({ replicas }: { replicas: number[] }) => replicas.includes(id)).length;
        expect(replicaOf).toBe(PARTITIONS / 3);
        await waitUntil(() => directoriesOf(id, 'wide') === replicaOf, `broker ${id} to hold the logs of its ${replicaOf} partitions`, 110_000);
      }
      probing = false;
      await probed;
      expect(answeredMidway).toBeGreaterThan(0);

      // A partition whose log a broker has not opened yet answers NOT_LEADER_OR_FOLLOWER: send again
      // to the partitions that have not taken their record.
      await producer.connect();
      let empty = partitions.map(({ partitionId }: { partitionId: number }) => partitionId);
      await waitUntil(
        async () => {
          await producer.send({ topic: 'wide', acks: 1, messages: empty.map((partition: number) => ({ partition, value: `to ${partition}` })) }).catch(() => {});
          const offsets: Array<{ partition: number; high: string }> = await admin.fetchTopicOffsets('wide');
          empty = offsets.filter(({ high }) => high === '0').map(({ partition }) => partition);
          return empty.length === 0;
        },
        'a record in every partition',
        110_000,
      );

      // Deleted, each broker's 1,500 logs go at once (one fsync, one checkpoint; files removed in
      // the background), and the cluster still replicates.
      await admin.deleteTopics({ topics: ['wide'], timeout: 110_000 });
      for (const { id } of cluster.brokers) await waitUntil(() => directoriesOf(id, 'wide') === 0, `broker ${id} to drop the logs of the deleted topic`, 110_000);
      await admin.createTopics({ topics: [{ topic: 'after', numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
      const [ack] = await producer.send({ topic: 'after', acks: -1, messages: [{ value: 'replicated' }] });
      expect(ack.errorCode).toBe(0);

      for (const { id } of cluster.brokers) {
        const lost = fs.readFileSync(`${dataDir}/broker-${id}.log`, 'utf8').split('\n').filter((line) => line.includes(LOST_SESSION));
        expect(lost, `broker ${id}'s log`).toEqual([]);
      }
    } finally {
      probing = false;
      await probed.catch(() => {});
      probe.close();
      await producer.disconnect();
      await admin.disconnect();
    }
  }, 240_000);
});

// A broker opens a topic's logs a chunk at a time, but holds its share of the topic whole or not
// at all: the broker that takes a CreateTopics checks only its own descriptor budget, and another
// with less room, had it opened the chunks that fit, would have left no descriptors for the
// segments its other logs roll to.
describe('a broker without room for its share of a new topic', () => {
  const DESCRIPTOR_LIMIT = 1024;
  const { segmentsMax } = descriptorBudget(DESCRIPTOR_LIMIT);
  /** Partitions of the new topic on each broker: more than one chunk (64). */
  const SHARE = 100;
  /** Logs already on broker 2: room for a chunk of the new topic, not for its whole share. */
  const FILLER = segmentsMax - 80;
  let dataDir: string;
  let child: Child;
  let servers: string[];

  beforeAll(async () => {
    dataDir = tempDir('sluice-room-');
    child = runFixture('cluster-process.ts', [`${dataDir}/cluster`, '3', 'log.level=error'], { descriptorLimit: DESCRIPTOR_LIMIT, stdin: true });
    servers = (await child.waitFor('cluster ')).split(' ')[1]!.split(',');
  }, 120_000);

  afterAll(async () => {
    if (child && child.process.exitCode === null) {
      child.send('stop');
      await child.exited;
    }
  }, 120_000);

  const logDirectories = (id: number, topic: string) =>
    fs.readdirSync(`${dataDir}/cluster/broker-${id}`).filter((name) => name.startsWith(`${topic}-`) && /^\d+$/.test(name.slice(topic.length + 1))).length;

  it('holds none of it, while the others hold theirs and its own logs keep working', async () => {
    expect(FILLER + 64).toBeLessThanOrEqual(segmentsMax);
    expect(FILLER + SHARE).toBeGreaterThan(segmentsMax);
    const client = kafka(servers);
    const admin = client.admin();
    await admin.connect();
    const producer = client.producer();
    const [host, port] = servers[0]!.split(':') as [string, string];
    const broker1 = await BrokerConnection.connect({ host, port: Number(port) });
    try {
      await admin.createTopics({ topics: [{ topic: 'filler', replicaAssignment: Array.from({ length: FILLER }, (_, partition) => ({ partition, replicas: [2] })) }], waitForLeaders: true });
      // To broker 1, which has room for its own share and checks only that.
      const created = await broker1.request(ApiKey.CreateTopics, { topics: [{ name: 'wide', numPartitions: 3 * SHARE, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 60_000, validateOnly: false }, 5);
      expect((created as { topics: Array<{ errorCode: number }> }).topics[0]!.errorCode).toBe(0);
      for (const id of [1, 3]) await waitUntil(() => logDirectories(id, 'wide') === SHARE, `broker ${id} to hold its ${SHARE} partitions`, 60_000);
      // Its log names the refusal: the descriptor budget, for the whole share.
      const refused = () => fs.readFileSync(`${dataDir}/cluster/broker-2.log`, 'utf8').split('\n').find((line) => line.includes('"cause":"topic:wide:'));
      await waitUntil(() => refused() !== undefined, 'broker 2 to refuse its share', 60_000);
      expect(logDirectories(2, 'wide')).toBe(0);
      expect(refused()).toContain(`would add ${SHARE} partitions`);
      expect(logDirectories(2, 'filler')).toBe(FILLER);
      await producer.connect();
      const [ack] = await producer.send({ topic: 'filler', acks: 1, messages: [{ partition: 0, value: 'still written' }] });
      expect(ack.errorCode).toBe(0);
    } finally {
      broker1.close();
      await producer.disconnect();
      await admin.disconnect();
    }
  }, 180_000);
});
