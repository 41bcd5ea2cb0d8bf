// The cluster's fuzz test (issue 8, in the spirit of issue 7's): what real clients send (recorded
// through a proxy, test/fixtures/fuzz.ts) and the requests only a cluster acts on (Fetch and
// OffsetForLeaderEpoch naming replica ids, ElectLeaders, CreateTopics with a replication factor or
// an explicit assignment, CreatePartitions), mutated by a seeded generator and sent to the three
// brokers of a real cluster (startCluster: an etcd, broker processes), CLUSTER_FUZZ_FRAMES of them
// (20,000 by default). Every broker must survive every frame with its RSS bounded, and the cluster
// must still replicate at the end: a topic created with replication factor 3 takes acks=all writes
// that kcat reads back, and no partition of any topic is left without a leader. Sent to a live
// cluster, such frames once ended every broker (a CreatePartitions above their descriptor budget)
// or filled one's heap (a CreateTopics of 2^31 - 1 partitions). The data directories are on a
// tmpfs of the test's own, and the brokers run under a descriptor limit, as an operator's
// ulimit would bound them: mutated frames create topics. FUZZ_SEED=<seed> replays the same frames.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ApiKey } from '../../src/protocol/api-keys.js';
import { encodeRequest } from '../../src/protocol/codec.js';
import { runFixture, type Child } from '../fixtures/child.js';
import { mutator, recordRealClients, worker, type FuzzCounts } from '../fixtures/fuzz.js';
import { kafka } from '../fixtures/kafkajs.js';
import { kcat } from '../fixtures/kcat.js';
import { processAlive, rssBytes } from '../fixtures/probes.js';
import { prng } from '../fixtures/random.js';
import { mountTmpfs, tmpfsRefused, type Tmpfs } from '../fixtures/tmpfs.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 0x5eed_c1a5);
const FRAMES = Number(process.env['CLUSTER_FUZZ_FRAMES'] ?? 20_000);
/** Connections sending at once to each broker. */
const WORKERS_PER_BROKER = 4;
/** Each broker's descriptors (and so its partitions), as an operator's ulimit would bound them. */
const DESCRIPTOR_LIMIT = 4096;
/** A broker process's RSS may not pass this (one starts near 100 MiB). */
const RSS_BYTES_MAX = 768 * 1024 * 1024;
const RECORDS_AFTER = 100;

/** Requests only a cluster acts on, well formed; the mutator makes the rest of them. */
function clusterRequests(): Buffer[] {
  const header = (apiKey: number, apiVersion: number) => ({ apiKey, apiVersion, correlationId: 7, clientId: 'cluster-fuzz' });
  const frames: Buffer[] = [];
  for (const replicaId of [1, 2, 3, 99, -1]) {
    frames.push(
      encodeRequest(header(ApiKey.Fetch, 12), {
        replicaId, maxWaitMs: 50, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic: 'fz-a', partitions: [0, 1, 2].map((partition) => ({ partition, currentLeaderEpoch: replicaId === 99 ? 5 : 0, fetchOffset: 0, lastFetchedEpoch: 0, logStartOffset: 0, partitionMaxBytes: 1 << 20 })) }],
        forgottenTopicsData: [], rackId: '',
      } as never),
      encodeRequest(header(ApiKey.OffsetForLeaderEpoch, 4), { replicaId, topics: [{ topic: 'fz-a', partitions: [0, 1, 2].map((partition) => ({ partition, currentLeaderEpoch: 0, leaderEpoch: partition })) }] } as never),
    );
  }
  frames.push(
    encodeRequest(header(ApiKey.ElectLeaders, 2), { electionType: 0, topicPartitions: [{ topic: 'fz-a', partitions: [0, 1, 2] }], timeoutMs: 1000 } as never),
    encodeRequest(header(ApiKey.ElectLeaders, 2), { electionType: 1, topicPartitions: null, timeoutMs: 1000 } as never),
    encodeRequest(header(ApiKey.CreateTopics, 5), {
      topics: [
        { name: 'fz-rf3', numPartitions: 2, replicationFactor: 3, assignments: [], configs: [{ name: 'min.insync.replicas', value: '2' }] },
        { name: 'fz-assigned', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }, { partitionIndex: 1, brokerIds: [3, 1] }], configs: [] },
      ],
      timeoutMs: 5000, validateOnly: false,
    } as never),
    encodeRequest(header(ApiKey.CreatePartitions, 3), { topics: [{ name: 'fz-a', count: 6, assignments: null }], timeoutMs: 5000, validateOnly: false } as never),
  );
  return frames;
}

describe.skipIf(tmpfsRefused !== undefined)(`a cluster under ${FRAMES} mutated frames (seed ${SEED})`, () => {
  let tmpfs: Tmpfs;
  let frames: Buffer[];
  let child: Child;
  let addresses: Array<{ host: string; port: number }>;
  let pids: number[];

  beforeAll(async () => {
    tmpfs = mountTmpfs(1024 << 20);
    frames = [...(await recordRealClients(tmpfs)), ...clusterRequests()];
    child = runFixture('cluster-process.ts', [`${tmpfs.dir}/cluster`, '3', 'log.level=error', 'group.initial.rebalance.delay.ms=0'], { descriptorLimit: DESCRIPTOR_LIMIT, stdin: true });
    const [, servers, pidList] = (await child.waitFor('cluster ')).split(' ') as [string, string, string];
    addresses = servers.split(',').map((address) => ({ host: address.split(':')[0]!, port: Number(address.split(':')[1]) }));
    pids = pidList.split(',').map(Number);
  }, 180_000);

  afterAll(async () => {
    if (child && child.process.exitCode === null) {
      child.send('stop');
      await child.exited;
    }
    tmpfs?.unmount();
  }, 120_000);

  it('every broker survives every frame with its RSS bounded, and the cluster still replicates', async () => {
    const random = prng(SEED);
    const mutate = mutator(random);
    let sent = 0;
    const next = () => (sent < FRAMES ? (sent++, mutate(frames[Math.floor(random() * frames.length)]!)) : undefined);
    const counts: FuzzCounts = { answered: 0, closed: 0, abandoned: 0 };
    const rssMax = pids.map(() => 0);
    let sampler: NodeJS.Timeout | undefined;
    // Fails as soon as a broker exits or passes the RSS bound, rather than after the frames left.
    const broken = new Promise<never>((_, reject) => {
      sampler = setInterval(() => {
        pids.forEach((pid, i) => {
          if (!processAlive(pid)) return reject(new Error(`broker ${i + 1} (pid ${pid}) exited after ${sent} frames (seed ${SEED})`));
          rssMax[i] = Math.max(rssMax[i]!, rssBytes(pid));
          if (rssMax[i]! >= RSS_BYTES_MAX) reject(new Error(`broker ${i + 1} reached ${(rssMax[i]! / 1048576).toFixed(0)} MiB of RSS after ${sent} frames (seed ${SEED})`));
        });
      }, 250);
    });
    try {
      await Promise.race([Promise.all(addresses.flatMap(({ host, port }) => Array.from({ length: WORKERS_PER_BROKER }, () => worker(port, next, counts, host)))), broken]);
    } finally {
      clearInterval(sampler);
      // The workers still sending stop at the next frame.
      sent = FRAMES;
    }
    for (const pid of pids) expect(processAlive(pid)).toBe(true);
    for (const rss of rssMax) expect(rss).toBeLessThan(RSS_BYTES_MAX);
    expect(counts.answered).toBeGreaterThan(FRAMES / 10);

    // Still a replicated cluster: acks=all to a topic on all three brokers, read back by kcat.
    const bootstrap = addresses.map(({ host, port }) => `${host}:${port}`);
    const client = kafka(bootstrap);
    const admin = client.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'after-the-fuzz', numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
      const producer = client.producer();
      await producer.connect();
      await producer.send({ topic: 'after-the-fuzz', acks: -1, messages: Array.from({ length: RECORDS_AFTER }, (_, i) => ({ key: String(i), value: `still replicated ${i}` })) });
      await producer.disconnect();
      const { stdout } = await kcat(['-b', bootstrap.join(','), '-C', '-t', 'after-the-fuzz', '-o', 'beginning', '-e', '-q']);
      expect(stdout.trim().split('\n').sort()).toEqual(Array.from({ length: RECORDS_AFTER }, (_, i) => `still replicated ${i}`).sort());
      const metadata = await admin.fetchTopicMetadata({});
      const offline = metadata.topics.flatMap((topic: { name: string; partitions: Array<{ partitionId: number; leader: number }> }) =>
        topic.partitions.filter(({ leader }) => leader < 0).map(({ partitionId }) => `${topic.name}-${partitionId}`),
      );
      expect(offline).toEqual([]);
      console.log(
        `cluster fuzz seed ${SEED}: ${FRAMES} frames, ${counts.answered} answered, ${counts.closed} closed by a broker, ${counts.abandoned} abandoned; ` +
          `RSS max ${rssMax.map((rss) => (rss / 1048576).toFixed(0)).join('/')} MiB; ${metadata.topics.length} topics after`,
      );
    } finally {
      await admin.disconnect();
    }
  }, 300_000);
});
