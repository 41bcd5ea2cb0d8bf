// The replicated cluster (issue 8): what acks=all on replication factor 3 costs, and how long a
// partition takes to accept acks=all writes again when its leader dies or shuts down. Every
// figure is taken through the public client path over TCP: `sluice perf produce` (our producer,
// src/client/producer.ts) for throughput, the same Producer in this process for failover, against
// a local cluster of 3 `sluice broker` processes and a real etcd (startCluster).
//
// 1. Throughput, 100 B records, one partition: acks=all to a topic of replication factor 3 against
//    acks=1 to a topic of replication factor 1, both on the same 3-broker cluster and both led by
//    broker 1 (explicit replica assignments [1,2,3] and [1]): same client, batch shape, leader
//    process and cluster code path; only replication differs. Paired rounds, the order alternating;
//    the ratio is the median over rounds of (acks=all rate / acks=1 rate). Two batch shapes:
//    batch.size 256 KiB (gated) and the producer's default 16 KiB (full run only). The full run also
//    measures acks=1 on the RF=3 topic, which splits the cost into the followers' CPU (fetching and
//    appending beside the leader on the same 2 cores) and waiting for the ISR.
// 2. Failover (full run only): a loop sends one record at a time with acks=all to the partition,
//    and on an error refreshes metadata and retries after 20 ms. Measured from the signal to the
//    first acknowledgement by the new leader of a send started after the signal: after SIGKILL of
//    the leader (goal: broker.session.timeout.ms + 1 s; 3000 ms here, below the 9000 default, to
//    keep the run short) and after SIGTERM, a controlled shutdown that moves leadership first
//    (goal: < 1 s). The broker comes back and the ISR is full again between rounds.
//
// Expected on the 2-core reference machine (shared and noisy; `npm run bench -- cluster`, about
// 2 minutes; the gate's part about 20 s): acks=all RF=3 / acks=1 RF=1 with 256 KiB batches is
// 0.40 and 0.45 in two full runs (rounds 0.36-0.58) and 0.51-0.59 in three quick ones, around the
// issue's goal of 0.5 but not reliably above it; 0.40-0.43 with 16 KiB batches.
// Until a Produce request waiting for the ISR let its connection take the next one
// (RequestContext.detach; Kafka mutes the connection until the answer, sluice only keeps the
// answers in order) acks=all waited out one request's round trip through both followers before
// the next request was read: 0.34 in the last full run before, and, in alternating quick runs of
// the same build with the detach turned off and on, 0.38 and 0.40 off against 0.51 and 0.53 on.
// What is left is CPU: acks=1 on the RF=3 topic gives 0.55-0.62 of RF=1, because the two
// followers fetch and append on the same 2 cores as the leader and the producer. The leader's own
// extra time for serving them is mostly JIT work on V8's background threads in the first RF=3
// round (measured per thread from /proc); in steady state its main thread takes about what it
// takes for RF=1, plus ~0.08 s per 2M records on the transfer thread. acks=all comes within
// 10-40% of acks=1 on the same topic.
// CPU per 2M records of 100 B at 256 KiB batches, steady rounds, per thread from /proc (a scratch
// script over startCluster and perfProduce): the leader's main thread 0.39-0.41 s for acks=1 RF=1
// and 0.79-0.97 s for acks=all RF=3 (its transfer thread 0.06-0.15 s more), each follower
// 0.46-0.60 s, the producer process ~2 s with its start-up. Both phases fill the 2 cores, so RF=3's
// extra 1.5-1.9 s beside RF=1's ~1.9 s puts the ratio near 0.5. A follower's fetch brings ~2
// batches (474 KB on average); in its perf profile the page-cache write is 24%, the socket read 12%,
// the CRC 8%, the rest spread thin over Node's stream and promise code: no one place to cut.
// Quick runs read higher than full ones (0.51-0.59 against 0.40-0.45): a fresh producer runs its
// first ~0.5 s unoptimised, and 300k records at acks=1 take only ~0.25 s. Full runs also write
// more new bytes, which these VMs fault in from the host (engine-produce.bench.ts): on 2026-12-03,
// over four rounds of 1M records in one cluster (a scratch script over startCluster, per process
// from /proc), each follower's system time per round went 0.04-0.07 -> 0.13-0.14 -> 0.35-0.41 s and
// the leader's 0.04-0.09 -> 0.35-0.45 s while user time stayed flat, and both rates fell by half
// (RF=1 3.1-3.8M -> 2.2M records/s, acks=all RF=3 1.34M -> 0.73M). RF=3 writes every byte three
// times, so it pays that three times.
// Before: the ratio was 0.32-0.48 over 11 runs, 0.35-0.52 before issue 10's producer, broker-
// ingest and follower changes, 0.36 before the producer kept lingered batches open and the
// checkpoints left the event loop.
// Where an acks=all request's time goes, traced on the three brokers (256 KiB batches, p50/p90 per
// request): the leader appends (0.55/0.9 ms) and in the same turn answers both followers' parked
// fetches (woken by the append, not by replica.fetch.wait.max.ms); a follower has the whole
// response 2.1/6.9 ms later (sendfile on the leader's transfer thread, then the follower's read:
// each waits for a core the producer, the leader and the other follower also want), decodes it in
// 0.14 ms, appends it as it came (CRC per batch, no per-record work) and sends its next fetch
// 0.46 ms later; the leader reads that fetch 0.8/2.8 ms after, and its log end moves the HW and
// answers the produce request in that turn. Append to HW (the slower follower): 5.1/11.9 ms; the
// next produce request is read 0.8 ms after the answer. No timer, fsync or etcd call is on that
// path: the time is CPU and scheduling between four busy processes on two cores.
// On 2026-12-04, `perf record -g` of a follower's and the leader's processes for 2 s of an acks=all
// RF=3 run of 3M records (256 KiB batches; scratch script over startCluster and perfProduce, the
// ratio 0.31-0.45 over three pairs): the copy of appended bytes into page-cache pages
// (copy_folio_from_iter_atomic, inside the segment's pwritev) was 39% of the follower's on-CPU time
// and 17% of the leader's. At ~110 MB/s a replica that is ~0.5 GB/s, the rate at which this VM's
// host hands out pages (README, "On these VMs"): the first touch of each new page costs the host's
// fault, not the memcpy. The rest of the follower: other kernel work 20% (socket reads 5%), V8
// (builtins, GC, the optimizing compiler's thread) 30%, JIT-compiled code 3%, the CRC 2%.
// What bounds acks=all, by Little's law: the producer keeps 5 requests of 256 KiB (2,341 records
// each) in flight, so it sends at most 11.7k records per request latency. A full run of
// 2026-12-04 (`npm run bench -- cluster`, load ~2) measured p50 latencies of 13-19 ms for acks=all
// RF=3 (11.7k / 16 ms = 0.73M records/s; measured 0.77-1.06M) against 3-5 ms for acks=1 RF=1
// (2.36-3.03M), and 6-8 ms for acks=1 RF=3 (1.53-2.03M): the ratio 0.35 (rounds 0.32-0.38) is the
// followers' round trips, each a wait for a core, added to every request's latency.
// Failover: SIGKILL 2.3-3.3 s with a 3 s session (the lease runs from the last keep-alive, so it
// can end before 3 s); SIGTERM 70-135 ms.
import { setTimeout as sleep } from 'node:timers/promises';

import { KafkaClient } from '../src/client/client.js';
import { Producer } from '../src/client/producer.js';
import { startCluster, type LocalCluster } from '../src/cluster/start-cluster.js';
import { throwIfError } from '../src/errors.js';
import { ApiKey } from '../src/protocol/api-keys.js';
import { perfProduce, type PerfProduceResult } from './broker-harness.js';
import { median, type Ratio, type Row, type RunOptions, type SuiteResult, type Timing } from './harness.js';

const RECORD_BYTES = 100;
const LEADER_ID = 1;
const RF3_TOPIC = 'rf3';
const RF1_TOPIC = 'rf1';
const FAILOVER_TOPIC = 'failover';
/** The failover cluster's broker session (its etcd lease); Kafka's default is 9000. */
const SESSION_TIMEOUT_MS = 3000;
/** The failover client's pause between a failed send and the next. */
const RETRY_BACKOFF_MS = 20;
/** A round that sees no acknowledgement from a new leader within this long fails the run. */
const FAILOVER_DEADLINE_MS = 30_000;
const FULL_ISR_TIMEOUT_MS = 60_000;

interface Shape {
  name: string;
  batchBytes: number;
  /** Records of one perf produce run. */
  records: { quick: number; full: number };
}

const LARGE: Shape = { name: '256k', batchBytes: 256 * 1024, records: { quick: 300_000, full: 1_000_000 } };
const DEFAULT: Shape = { name: '16k', batchBytes: 16 * 1024, records: { quick: 0, full: 300_000 } };

/** CreateTopics with an explicit assignment of partition 0 (KafkaClient.createTopics has none). */
async function createTopic(client: KafkaClient, name: string, replicas: number[], configs: Record<string, string> = {}): Promise<void> {
  const connection = await client.anyConnection();
  const response = await connection.request(ApiKey.CreateTopics, {
    topics: [{ name, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: replicas }], configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })) }],
    timeoutMs: 30_000,
    validateOnly: false,
  });
  for (const topic of response.topics) throwIfError(topic.errorCode, `Create topic ${topic.name}`, topic.errorMessage);
}

/** Partition 0 of `topic` as metadata reports it now. */
async function partitionState(client: KafkaClient, topic: string): Promise<{ leader: number; isr: number[]; controllerId: number }> {
  const metadata = await client.metadata([topic]);
  const partition = metadata.topics[0]!.partitions[0]!;
  return { leader: partition.leader, isr: partition.isr, controllerId: metadata.controllerId };
}

/** Waits until partition 0 of each topic has every replica in its ISR and, if given, that leader. */
async function waitForFullIsr(client: KafkaClient, topics: Array<{ topic: string; replicas: number; leader?: number }>): Promise<void> {
  const deadline = Date.now() + FULL_ISR_TIMEOUT_MS;
  for (;;) {
    const states = await Promise.all(topics.map(({ topic }) => partitionState(client, topic).catch(() => undefined)));
    if (states.every((state, i) => state !== undefined && state.leader >= 0 && state.isr.length === topics[i]!.replicas && (topics[i]!.leader ?? state.leader) === state.leader)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for a full ISR: ${JSON.stringify(states)}`);
    await sleep(50);
  }
}

interface Pair {
  acks1Rf1: PerfProduceResult;
  acksAllRf3: PerfProduceResult;
  acks1Rf3?: PerfProduceResult;
}

/** One paired round of a shape; `rf1First` alternates the order so that drift favours neither side. */
async function pairedRound(cluster: LocalCluster, shape: Shape, records: number, rf1First: boolean, withRf3Acks1: boolean): Promise<Pair> {
  const extra = ['--batch-size', String(shape.batchBytes)];
  const rf1 = () => perfProduce(cluster.bootstrapServers, RF1_TOPIC, records, RECORD_BYTES, 1, extra);
  const rf3 = () => perfProduce(cluster.bootstrapServers, RF3_TOPIC, records, RECORD_BYTES, -1, extra);
  const acks1Rf1 = rf1First ? await rf1() : undefined;
  const acksAllRf3 = await rf3();
  const pair: Pair = { acks1Rf1: acks1Rf1 ?? (await rf1()), acksAllRf3 };
  if (withRf3Acks1) pair.acks1Rf3 = await perfProduce(cluster.bootstrapServers, RF3_TOPIC, records, RECORD_BYTES, 1, extra);
  return pair;
}

/** The acks=all figures are RF=3's only if no follower left the ISR and broker 1 still leads. */
async function checkStillReplicated(cluster: LocalCluster): Promise<void> {
  const client = await KafkaClient.connect({ brokers: cluster.bootstrapServers.split(',') });
  try {
    const state = await partitionState(client, RF3_TOPIC);
    if (state.leader !== LEADER_ID || state.isr.length !== 3) throw new Error(`${RF3_TOPIC}-0 changed during the run (leader ${state.leader}, ISR ${state.isr.join(',')}): its acks=all figures are not those of 3 in-sync replicas`);
  } finally {
    client.close();
  }
}

async function throughput(options: RunOptions): Promise<SuiteResult> {
  const shapes = options.quick ? [LARGE] : [LARGE, DEFAULT];
  const rounds = 3;
  const cluster = await startCluster({ brokers: 3, config: { 'auto.leader.rebalance.enable': 'false' } });
  try {
    const client = await KafkaClient.connect({ brokers: cluster.bootstrapServers.split(',') });
    try {
      await createTopic(client, RF3_TOPIC, [1, 2, 3]);
      await createTopic(client, RF1_TOPIC, [LEADER_ID]);
      await waitForFullIsr(client, [{ topic: RF3_TOPIC, replicas: 3, leader: LEADER_ID }, { topic: RF1_TOPIC, replicas: 1, leader: LEADER_ID }]);
    } finally {
      client.close();
    }
    const result: SuiteResult = { rows: [], ratios: [], notes: [] };
    for (const shape of shapes) {
      const records = options.quick ? shape.records.quick : shape.records.full;
      const pairs: Pair[] = [];
      for (let round = 0; round < rounds; round++) pairs.push(await pairedRound(cluster, shape, records, round % 2 === 0, !options.quick));
      await checkStillReplicated(cluster);
      const workload = `cluster produce 100 B, batch ${shape.batchBytes / 1024} KiB`;
      const row = (subject: string, runs: PerfProduceResult[]): Row => {
        const recordsPerSec = median(runs.map((run) => run.recordsPerSec));
        return { suite: 'cluster', workload, subject, recordsPerSec, bytesPerSec: recordsPerSec * RECORD_BYTES };
      };
      result.rows.push(row('sluice acks=1, RF=1', pairs.map((p) => p.acks1Rf1)), row('sluice acks=all, RF=3', pairs.map((p) => p.acksAllRf3)));
      const ratios = pairs.map((p) => p.acksAllRf3.recordsPerSec / p.acks1Rf1.recordsPerSec);
      result.ratios.push({
        name: `cluster_acks_all_rf3_vs_acks1_rf1_${shape.name}`,
        value: median(ratios),
        target: 0.5,
        description: `sluice perf produce, batch.size ${shape.batchBytes / 1024} KiB: acks=all RF=3 / acks=1 RF=1, same cluster and leader, median of ${rounds} paired rounds (goal >= 0.5)`,
      } satisfies Ratio);
      const rates = (runs: PerfProduceResult[]) => runs.map((run) => `${(run.recordsPerSec / 1000).toFixed(0)}k`).join(' ');
      const p50 = (runs: PerfProduceResult[]) => runs.map((run) => run.p50Ms).join('/');
      let note =
        `cluster, batch.size ${shape.batchBytes / 1024} KiB, rounds: acks=1 RF=1 ${rates(pairs.map((p) => p.acks1Rf1))} records/s (p50 ${p50(pairs.map((p) => p.acks1Rf1))} ms); ` +
        `acks=all RF=3 ${rates(pairs.map((p) => p.acksAllRf3))} (p50 ${p50(pairs.map((p) => p.acksAllRf3))} ms); ratios ${ratios.map((r) => r.toFixed(2)).join(' ')}`;
      if (!options.quick) {
        const rf3Acks1 = pairs.map((p) => p.acks1Rf3!);
        result.rows.push(row('sluice acks=1, RF=3', rf3Acks1));
        const replicationShare = median(pairs.map((p) => p.acks1Rf3!.recordsPerSec / p.acks1Rf1.recordsPerSec));
        result.ratios.push({
          name: `cluster_acks1_rf3_vs_acks1_rf1_${shape.name}`,
          value: replicationShare,
          description: `the same, acks=1 RF=3 / acks=1 RF=1: what the followers' work on the same cores costs, without waiting for them`,
        });
        note += `; acks=1 RF=3 ${rates(rf3Acks1)} (p50 ${p50(rf3Acks1)} ms)`;
      }
      result.notes!.push(note);
    }
    return result;
  } finally {
    await cluster.stop();
  }
}

interface Ack {
  sentAtMs: number;
  ackedAtMs: number;
  /** The broker the record was sent to: the leader in the client's metadata then. */
  leader: number;
}

/**
 * A client that keeps writing: one record at a time, acks=all, to partition 0 of `topic`; after a
 * failed send it waits RETRY_BACKOFF_MS and refreshes metadata (the producer itself does not retry).
 */
class AcksAllWriter {
  readonly acks: Ack[] = [];
  failures = 0;
  private leader = -1;
  private running = true;
  private loop: Promise<void> | undefined;

  private constructor(private readonly client: KafkaClient, private readonly producer: Producer) {}

  /** Bootstraps from `brokers` in order: the first reachable one answers metadata from then on. */
  static async start(brokers: string[]): Promise<AcksAllWriter> {
    const client = await KafkaClient.connect({ brokers, clientId: 'failover-bench', requestTimeoutMs: 10_000 });
    const producer = await Producer.create(client, { acks: -1, idempotent: false, lingerMs: 0, retries: 0 });
    const writer = new AcksAllWriter(client, producer);
    await writer.refresh();
    writer.loop = writer.run();
    return writer;
  }

  /** Resolves with the first acknowledgement that `accept` takes, or fails after `timeoutMs`. */
  async waitFor(accept: (ack: Ack) => boolean, timeoutMs: number, what: string): Promise<Ack> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.acks.find(accept);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${this.acks.length} acks, ${this.failures} failed sends)`);
      await sleep(5);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.client.close();
  }

  private async run(): Promise<void> {
    const record = { value: Buffer.alloc(RECORD_BYTES, 120), partition: 0 };
    while (this.running) {
      const leader = this.leader;
      const sentAtMs = performance.now();
      try {
        await this.producer.send(FAILOVER_TOPIC, [record]);
        this.acks.push({ sentAtMs, ackedAtMs: performance.now(), leader });
      } catch {
        this.failures++;
        await sleep(RETRY_BACKOFF_MS);
        await this.refresh();
      }
    }
  }

  private async refresh(): Promise<void> {
    try {
      this.leader = (await partitionState(this.client, FAILOVER_TOPIC)).leader;
    } catch {
      // the next failed send refreshes again
    }
  }
}

interface FailoverRound {
  ms: number;
  /** Longest time without any acknowledgement around the signal. */
  gapMs: number;
  victim: number;
  victimWasController: boolean;
}

/** Signals the partition's leader while a writer runs; the time until the new leader acknowledges. */
async function failoverRound(cluster: LocalCluster, how: 'kill' | 'stop'): Promise<FailoverRound> {
  const probe = await KafkaClient.connect({ brokers: cluster.bootstrapServers.split(',') });
  let state: Awaited<ReturnType<typeof partitionState>>;
  try {
    state = await partitionState(probe, FAILOVER_TOPIC);
  } finally {
    probe.close();
  }
  const victim = state.leader;
  // The victim last: the writer's metadata comes from a broker that stays up, since the client
  // asks its bootstrap broker while that one lives.
  const addresses = cluster.brokers.filter((b) => b.id !== victim).map((b) => `${b.host}:${b.port}`);
  addresses.push(`${cluster.broker(victim).host}:${cluster.broker(victim).port}`);
  const writer = await AcksAllWriter.start(addresses);
  try {
    await writer.waitFor((ack) => ack.leader === victim && writer.acks.length >= 20, 10_000, 'acknowledgements before the signal');
    const signalledAtMs = performance.now();
    const signalled = how === 'kill' ? cluster.killBroker(victim) : cluster.stopBroker(victim);
    const first = await writer.waitFor((ack) => ack.sentAtMs >= signalledAtMs && ack.leader !== victim && ack.leader >= 0, FAILOVER_DEADLINE_MS, `an acknowledgement from a new leader after ${how} of broker ${victim}`);
    await signalled;
    const before = writer.acks.filter((ack) => ack.ackedAtMs < first.ackedAtMs).at(-1)!;
    return { ms: first.ackedAtMs - signalledAtMs, gapMs: first.ackedAtMs - before.ackedAtMs, victim, victimWasController: state.controllerId === victim };
  } finally {
    await writer.stop();
    if (!cluster.broker(victim).running) await cluster.restartBroker(victim);
    const client = await KafkaClient.connect({ brokers: cluster.bootstrapServers.split(',') });
    try {
      await waitForFullIsr(client, [{ topic: FAILOVER_TOPIC, replicas: 3 }]);
    } finally {
      client.close();
    }
  }
}

async function failover(rounds: number): Promise<SuiteResult> {
  const cluster = await startCluster({
    brokers: 3,
    config: { 'broker.session.timeout.ms': SESSION_TIMEOUT_MS, 'auto.leader.rebalance.enable': 'false' },
  });
  try {
    const client = await KafkaClient.connect({ brokers: cluster.bootstrapServers.split(',') });
    try {
      await createTopic(client, FAILOVER_TOPIC, [1, 2, 3], { 'min.insync.replicas': '2' });
      await waitForFullIsr(client, [{ topic: FAILOVER_TOPIC, replicas: 3 }]);
    } finally {
      client.close();
    }
    const timings: Timing[] = [];
    const notes: string[] = [];
    for (const how of ['kill', 'stop'] as const) {
      const results: FailoverRound[] = [];
      for (let round = 0; round < rounds; round++) results.push(await failoverRound(cluster, how));
      const samplesMs = results.map((r) => r.ms);
      const signal = how === 'kill' ? 'SIGKILL' : 'SIGTERM (controlled shutdown)';
      timings.push({
        name: how === 'kill' ? 'failover_sigkill_leader_ms' : 'failover_sigterm_leader_ms',
        medianMs: median(samplesMs),
        maxMs: Math.max(...samplesMs),
        samplesMs,
        targetMs: how === 'kill' ? SESSION_TIMEOUT_MS + 1000 : 1000,
        description: `${signal} of the leader to the first acks=all write its successor acknowledged (broker.session.timeout.ms ${SESSION_TIMEOUT_MS}, client retry every ${RETRY_BACKOFF_MS} ms), ${rounds} rounds`,
      });
      notes.push(
        `failover after ${signal}: ${results.map((r) => `${r.ms.toFixed(0)} ms (broker ${r.victim}${r.victimWasController ? ', the controller' : ''}, writes stopped for ${r.gapMs.toFixed(0)} ms)`).join('; ')}`,
      );
    }
    return { rows: [], ratios: [], timings, notes };
  } finally {
    await cluster.stop();
  }
}

export async function run(options: RunOptions): Promise<SuiteResult> {
  const measured = await throughput(options);
  if (options.quick) return measured;
  const failed = await failover(4);
  return { rows: measured.rows, ratios: measured.ratios, timings: failed.timings, notes: [...measured.notes!, ...failed.notes!] };
}
