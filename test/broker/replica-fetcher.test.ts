// The replica fetcher (issue 8): a follower's logs copied from real sluice brokers over Fetch v12.
// Leaders are brokers started in-process (single-broker mode, whose Fetch serves followers: reads
// up to the log end, answers DivergingEpoch); the follower is a standalone Engine whose logs the
// fetcher writes into, truncating through the engine's LogManager as a replica manager will.
// Records are produced with kafkajs, or appended to the leader's log with leader epochs where a
// test needs an epoch history. Every test ends with the follower's bytes equal to the leader's.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { BrokerConnection } from '../../src/client/connection.js';
import { ReplicaFetcherManager } from '../../src/broker/replica-fetcher-manager.js';
import { REPLICA_FETCHER_DEFAULTS, ReplicaFetcher, type FollowerPartition, type ReplicaFetcherOptions } from '../../src/broker/replica-fetcher.js';
import { ReplicationQuota } from '../../src/broker/replication-quotas.js';
import { Engine, startBroker, type Broker } from '../../src/index.js';
import type { SluiceError } from '../../src/errors.js';
import { LogLimiter } from '../../src/logger.js';
import { ApiKey } from '../../src/protocol/index.js';
import { encodeBatch } from '../../src/record/batch.js';
import type { Log } from '../../src/storage/log.js';
import { waitFor } from '../consumer/helpers.js';
import { kafka } from '../fixtures/kafkajs.js';
import { capturingLogger } from '../fixtures/probes.js';
import { startRecordingProxy } from '../fixtures/recording-proxy.js';
import { tempDir } from '../helpers.js';

const FOLLOWER_ID = 2;
const LEADER_ID = 1;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function leaderBroker(options: { dataDir?: string; port?: number } = {}): Promise<Broker> {
  const broker = await startBroker({ port: options.port ?? 0, dataDir: options.dataDir ?? tempDir('sluice-leader-') });
  cleanups.push(() => broker.stop());
  return broker;
}

async function followerEngine(): Promise<Engine> {
  const engine = await Engine.open({ dataDir: tempDir('sluice-follower-') });
  cleanups.push(() => engine.close());
  return engine;
}

type Send = ((topic: string, partition: number, values: string[]) => Promise<void>) & { disconnect(): Promise<void> };

/** Sends each call's values as one batch to one partition, with kafkajs. */
async function kafkajsProducer(broker: Broker): Promise<Send> {
  const producer = kafka([`127.0.0.1:${broker.port}`]).producer();
  await producer.connect();
  let connected = true;
  const disconnect = async () => {
    if (connected) await producer.disconnect();
    connected = false;
  };
  cleanups.push(disconnect);
  const send = async (topic: string, partition: number, values: string[]) => {
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value, partition })) });
  };
  return Object.assign(send, { disconnect });
}

/** A partition of the follower engine, truncated through its LogManager (which checkpoints). */
function followed(engine: Engine, topic: string, partition: number, options: { leaderEpoch?: number; truncations?: string[] } = {}): FollowerPartition {
  // The engine keeps its LogManager private; a replica manager inside the broker will hold it.
  const logs = engine['logs'];
  return {
    topic,
    partition,
    log: engine.partitionLog(topic, partition),
    leaderEpoch: options.leaderEpoch ?? -1,
    truncateTo(offset) {
      options.truncations?.push(`to ${offset}`);
      logs.truncateTo(topic, partition, offset);
    },
    truncateFullyAndStartAt(offset) {
      options.truncations?.push(`fully ${offset}`);
      logs.truncateFullyAndStartAt(topic, partition, offset);
    },
  };
}

interface FetcherEvents {
  appended: string[];
  errors: Array<{ topic: string; partition: number; error: SluiceError }>;
  lines: Array<Record<string, any>>;
}

function startFetcher(port: number, overrides: Partial<ReplicaFetcherOptions> = {}): { fetcher: ReplicaFetcher; events: FetcherEvents } {
  const { logger, lines } = capturingLogger('debug');
  const events: FetcherEvents = { appended: [], errors: [], lines };
  const fetcher = new ReplicaFetcher({
    ...REPLICA_FETCHER_DEFAULTS,
    backoffMs: 50,
    replicaId: FOLLOWER_ID,
    leader: { brokerId: LEADER_ID, host: '127.0.0.1', port },
    onAppended: (topic, partition) => events.appended.push(`${topic}-${partition}`),
    onPartitionError: (topic, partition, error) => events.errors.push({ topic, partition, error }),
    log: new LogLimiter(logger, 1000),
    ...overrides,
  });
  cleanups.push(() => fetcher.close());
  return { fetcher, events };
}

/** The log's batches from `fromOffset` up to `toOffset` (default its end), as stored. */
function logBytes(log: Log, fromOffset = log.logStartOffset, toOffset = log.logEndOffset): Buffer {
  const parts: Buffer[] = [];
  let offset = fromOffset;
  while (offset < toOffset) {
    const read = log.read(offset, 1 << 30, { maxOffset: toOffset });
    if (read === null) break;
    parts.push(log.readBytes(read));
    offset = read.region.lastOffset + 1;
  }
  return Buffer.concat(parts);
}

/** A partition's segment files (name -> bytes). */
function segmentFiles(dataDir: string, topic: string, partition: number): Map<string, Buffer> {
  const dir = path.join(dataDir, `${topic}-${partition}`);
  const names = fs.readdirSync(dir).filter((name) => name.endsWith('.log')).sort();
  return new Map(names.map((name) => [name, fs.readFileSync(path.join(dir, name))]));
}

function caughtUp(follower: Engine, leader: Engine, topic: string, partitions: number[]): () => boolean {
  return () => partitions.every((p) => follower.partitionLog(topic, p).logEndOffset === leader.partitionLog(topic, p).logEndOffset);
}

/** `count` batches of one record each, with values `${prefix}<offset>`, appended to the leader's log. */
async function appendBatches(log: Log, count: number, options: { leaderEpoch?: number; prefix?: string } = {}): Promise<void> {
  for (let i = 0; i < count; i++) {
    const offset = log.logEndOffset;
    await log.append(encodeBatch([{ key: `k${offset}`, value: `${options.prefix ?? 'v'}${offset}` }]), { leaderEpoch: options.leaderEpoch });
  }
}

/** One batch of `count` records a replica wrote in `epoch` from `baseOffset` (a follower's own tail). */
function replicaBatch(baseOffset: number, count: number, epoch: number, prefix: string): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ key: `k${baseOffset + i}`, value: `${prefix}${baseOffset + i}` }));
  return encodeBatch(records, { baseOffset, partitionLeaderEpoch: epoch });
}

describe('replica fetcher', () => {
  it('copies several partitions byte for byte, then what is produced while it long-polls', async () => {
    const broker = await leaderBroker();
    const follower = await followerEngine();
    await broker.engine.createTopic('events', { partitions: 3 });
    await follower.createTopic('events', { partitions: 3 });
    const send = await kafkajsProducer(broker);
    for (let round = 0; round < 4; round++) for (let p = 0; p < 3; p++) await send('events', p, [`a${round}-${p}`, `b${round}-${p}`]);

    // A long poll this long must be woken by the appends, not by its max wait.
    const { fetcher } = startFetcher(broker.port, { maxWaitMs: 30_000, requestTimeoutMs: 60_000 });
    for (let p = 0; p < 3; p++) fetcher.addPartition(followed(follower, 'events', p));
    expect(fetcher.partitionCount).toBe(3);
    await waitFor(caughtUp(follower, broker.engine, 'events', [0, 1, 2]), 'the follower to copy what was there');

    for (let round = 0; round < 3; round++) for (let p = 0; p < 3; p++) await send('events', p, [`late${round}-${p}`]);
    await waitFor(caughtUp(follower, broker.engine, 'events', [0, 1, 2]), 'the follower to copy what came during its long poll');

    for (let p = 0; p < 3; p++) {
      expect(follower.partitionLog('events', p).logEndOffset).toBe(11);
      expect(segmentFiles(follower.dataDir, 'events', p)).toEqual(segmentFiles(broker.dataDir, 'events', p));
    }
  });

  it('fetches in a session (KIP-227): the leader holds its partitions; a session the leader lost starts over with a full fetch', async () => {
    const broker = await leaderBroker();
    const follower = await followerEngine();
    await broker.engine.createTopic('sessions', { partitions: 3 });
    await follower.createTopic('sessions', { partitions: 3 });
    const send = await kafkajsProducer(broker);
    for (let p = 0; p < 3; p++) await send('sessions', p, [`first-${p}`]);
    const { fetcher, events } = startFetcher(broker.port, { maxWaitMs: 100 });
    for (let p = 0; p < 3; p++) fetcher.addPartition(followed(follower, 'sessions', p));
    await waitFor(caughtUp(follower, broker.engine, 'sessions', [0, 1, 2]), 'the follower to copy what was there');
    expect(broker.fetchSessions.count).toBe(1);
    expect(broker.fetchSessions.partitions).toBe(3);

    // Quiet partitions are not named again; what is produced to one of them still comes.
    await send('sessions', 1, ['second']);
    await waitFor(caughtUp(follower, broker.engine, 'sessions', [0, 1, 2]), 'the follower to copy the new record');

    broker.fetchSessions.clear(); // as a leader that restarted, or evicted the session
    for (let p = 0; p < 3; p++) await send('sessions', p, [`third-${p}`]);
    await waitFor(caughtUp(follower, broker.engine, 'sessions', [0, 1, 2]), 'the follower to carry on in a new session');
    expect(broker.fetchSessions.count).toBe(1);
    for (let p = 0; p < 3; p++) expect(segmentFiles(follower.dataDir, 'sessions', p)).toEqual(segmentFiles(broker.dataDir, 'sessions', p));
    expect(events.errors).toEqual([]);
    // FETCH_SESSION_ID_NOT_FOUND is no failure of the fetch: no reconnect, no backoff.
    expect(events.lines.filter((line) => line.msg?.startsWith('replica fetch failed'))).toEqual([]);
  });

  it('keeps the follower\'s high watermark at the leader\'s, never above its own log end', async () => {
    const broker = await leaderBroker();
    const follower = await followerEngine();
    await broker.engine.createTopic('hw', { partitions: 1 });
    await follower.createTopic('hw', { partitions: 1 });
    const leaderLog = broker.engine.partitionLog('hw', 0);
    await appendBatches(leaderLog, 20);
    // A leader whose followers have not all caught up: committed up to 12, written up to 20.
    leaderLog.updateHighWatermark(12);

    const followerLog = follower.partitionLog('hw', 0);
    const seen: Array<{ highWatermark: number; logEndOffset: number }> = [];
    // About one batch a fetch, so the follower spends a few rounds below the leader's HW.
    const { fetcher } = startFetcher(broker.port, {
      partitionMaxBytes: 100,
      onAppended: () => seen.push({ highWatermark: followerLog.highWatermark, logEndOffset: followerLog.logEndOffset }),
    });
    fetcher.addPartition(followed(follower, 'hw', 0));
    await waitFor(() => followerLog.logEndOffset === 20 && followerLog.highWatermark === 12, 'the follower to copy past the HW and take the HW');
    expect(seen.every(({ highWatermark, logEndOffset }) => highWatermark <= logEndOffset)).toBe(true);
    expect(seen.some(({ highWatermark }) => highWatermark < 12)).toBe(true); // capped by its own LEO on the way
    expect(logBytes(followerLog)).toEqual(logBytes(leaderLog));

    leaderLog.updateHighWatermark(20);
    await waitFor(() => followerLog.highWatermark === 20, 'the follower to take the leader\'s new HW');
    expect(seen.every(({ highWatermark, logEndOffset }) => highWatermark <= logEndOffset)).toBe(true);
  });

  it('truncates a divergent tail exactly where the epochs part (KIP-279), over one and two rounds', async () => {
    const broker = await leaderBroker();
    const follower = await followerEngine();
    await broker.engine.createTopic('div', { partitions: 2 });
    await follower.createTopic('div', { partitions: 2 });

    // Partition 0. Leader: epoch 0 on [0, 10), epoch 2 from 10. The follower copied [0, 8), then
    // led epoch 1 briefly and wrote [8, 12) that nobody else has.
    const leader0 = broker.engine.partitionLog('div', 0);
    await leader0.append(encodeBatch(Array.from({ length: 8 }, (_, i) => ({ value: `e0-${i}` }))), { leaderEpoch: 0 });
    await leader0.append(encodeBatch([{ value: 'e0-8' }, { value: 'e0-9' }]), { leaderEpoch: 0 });
    leader0.assignEpochStartOffset(2);
    await appendBatches(leader0, 5, { leaderEpoch: 2, prefix: 'e2-' });
    const follower0 = follower.partitionLog('div', 0);
    follower0.appendAsFollower(logBytes(leader0, 0, 8));
    follower0.appendAsFollower(replicaBatch(8, 4, 1, 'f1-'));

    // Partition 1, two successive epochs the leader never had. Leader: epoch 0 on [0, 6), 2 on
    // [6, 9), 4 from 9. Follower: [0, 5) copied, then its own epoch 1 on [5, 8) and 3 on [8, 11).
    const leader1 = broker.engine.partitionLog('div', 1);
    await leader1.append(encodeBatch(Array.from({ length: 5 }, (_, i) => ({ value: `e0-${i}` }))), { leaderEpoch: 0 });
    await appendBatches(leader1, 1, { leaderEpoch: 0, prefix: 'e0-' });
    leader1.assignEpochStartOffset(2);
    await leader1.append(encodeBatch([{ value: 'e2-6' }, { value: 'e2-7' }, { value: 'e2-8' }]), { leaderEpoch: 2 });
    leader1.assignEpochStartOffset(4);
    await appendBatches(leader1, 4, { leaderEpoch: 4, prefix: 'e4-' });
    const follower1 = follower.partitionLog('div', 1);
    follower1.appendAsFollower(logBytes(leader1, 0, 5));
    follower1.appendAsFollower(replicaBatch(5, 3, 1, 'f1-'));
    follower1.appendAsFollower(replicaBatch(8, 3, 3, 'f3-'));
    expect([follower0.logEndOffset, follower0.latestEpoch, follower1.logEndOffset, follower1.latestEpoch]).toEqual([12, 1, 11, 3]);

    const truncations0: string[] = [];
    const truncations1: string[] = [];
    const { fetcher, events } = startFetcher(broker.port);
    fetcher.addPartition(followed(follower, 'div', 0, { leaderEpoch: 2, truncations: truncations0 }));
    fetcher.addPartition(followed(follower, 'div', 1, { leaderEpoch: 4, truncations: truncations1 }));
    await waitFor(caughtUp(follower, broker.engine, 'div', [0, 1]), 'the follower to converge');

    // Partition 0: the leader answers epoch 0 ends at 10; ours ends at 8: cut to 8, once.
    expect(truncations0).toEqual(['to 8']);
    // Partition 1: epoch 2 ends at 9 (we never had 2: back to our epoch 1's end, 8, and ask
    // again); then epoch 0 ends at 6, ours at 5: cut to 5.
    expect(truncations1).toEqual(['to 8', 'to 5']);
    for (const p of [0, 1]) {
      expect(logBytes(follower.partitionLog('div', p))).toEqual(logBytes(broker.engine.partitionLog('div', p)));
      expect(segmentFiles(follower.dataDir, 'div', p)).toEqual(segmentFiles(broker.dataDir, 'div', p));
    }
    expect(follower0.endOffsetForEpoch(0)).toEqual({ epoch: 0, endOffset: 10 });
    expect(follower1.endOffsetForEpoch(3)).toEqual({ epoch: 2, endOffset: 9 });
    expect(events.errors).toEqual([]);
    expect(events.lines.filter((line) => line.msg === 'truncated a diverging follower log')).toHaveLength(3);
  });

  it('applies nothing more to a removed partition, an answer in flight included', async () => {
    const broker = await leaderBroker();
    const follower = await followerEngine();
    await broker.engine.createTopic('rm', { partitions: 2 });
    await follower.createTopic('rm', { partitions: 2 });
    const send = await kafkajsProducer(broker);
    for (const p of [0, 1]) await send('rm', p, ['x', 'y']);
    const { fetcher, events } = startFetcher(broker.port, { maxWaitMs: 30_000, requestTimeoutMs: 60_000 });
    for (const p of [0, 1]) fetcher.addPartition(followed(follower, 'rm', p));
    await waitFor(caughtUp(follower, broker.engine, 'rm', [0, 1]), 'the follower to copy both partitions');

    // The long poll asked for both partitions: the append to partition 1 answers it.
    expect(fetcher.removePartition('rm', 1)).toBe(true);
    expect(fetcher.partitionCount).toBe(1);
    const appendedBefore = events.appended.filter((name) => name === 'rm-1').length;
    for (let round = 0; round < 2; round++) {
      await send('rm', 1, [`gone${round}`]);
      await send('rm', 0, [`kept${round}`]);
      await waitFor(caughtUp(follower, broker.engine, 'rm', [0]), 'partition 0 to go on');
    }
    expect(follower.partitionLog('rm', 1).logEndOffset).toBe(2);
    expect(broker.engine.partitionLog('rm', 1).logEndOffset).toBe(4);
    expect(events.appended.filter((name) => name === 'rm-1')).toHaveLength(appendedBefore);
    expect(fetcher.removePartition('rm', 1)).toBe(false);
  });

  it('reconnects to a leader restarted on the same port and carries on', async () => {
    const dataDir = tempDir('sluice-leader-');
    const first = await leaderBroker({ dataDir });
    const port = first.port;
    const follower = await followerEngine();
    await first.engine.createTopic('again', { partitions: 2 });
    await follower.createTopic('again', { partitions: 2 });
    const sendFirst = await kafkajsProducer(first);
    for (const p of [0, 1]) await sendFirst('again', p, ['before']);
    const { fetcher, events } = startFetcher(port);
    for (const p of [0, 1]) fetcher.addPartition(followed(follower, 'again', p));
    await waitFor(caughtUp(follower, first.engine, 'again', [0, 1]), 'the follower to copy the first broker');

    await sendFirst.disconnect();
    await first.stop();
    await waitFor(() => events.lines.some((line) => line.msg?.startsWith('replica fetch failed')), 'the fetcher to notice the lost leader');

    const second = await leaderBroker({ dataDir, port });
    const sendSecond = await kafkajsProducer(second);
    for (const p of [0, 1]) await sendSecond('again', p, ['after', 'restart']);
    await waitFor(caughtUp(follower, second.engine, 'again', [0, 1]), 'the follower to copy the restarted broker');
    for (const p of [0, 1]) {
      expect(follower.partitionLog('again', p).logEndOffset).toBe(3);
      expect(segmentFiles(follower.dataDir, 'again', p)).toEqual(segmentFiles(dataDir, 'again', p));
    }
    expect(events.errors).toEqual([]);
  });

  it('connects from its localAddress, one connection for every partition', async () => {
    const broker = await leaderBroker();
    const proxy = await startRecordingProxy();
    cleanups.push(() => proxy.close());
    proxy.forwardTo(broker.port);
    const follower = await followerEngine();
    await broker.engine.createTopic('bound', { partitions: 3 });
    await follower.createTopic('bound', { partitions: 3 });
    const send = await kafkajsProducer(broker);
    for (let p = 0; p < 3; p++) await send('bound', p, [`v${p}`]);

    const { fetcher } = startFetcher(proxy.port, { localAddress: '127.0.0.2' });
    for (let p = 0; p < 3; p++) fetcher.addPartition(followed(follower, 'bound', p));
    await waitFor(caughtUp(follower, broker.engine, 'bound', [0, 1, 2]), 'the follower to copy through the proxy');
    expect(proxy.clientAddresses).toEqual(['127.0.0.2']);
  });

  it('out of range: cut back to the leader\'s log end (asked as a replica), or start over at its log start', async () => {
    const broker = await leaderBroker();
    const follower = await followerEngine();
    await broker.engine.createTopic('oor', { partitions: 2 });
    await follower.createTopic('oor', { partitions: 2 });

    // Partition 0: the follower holds the leader's 10 records and 5 more of its own. The leader's
    // HW is 7, which a consumer's ListOffsets would answer; a replica's gets the log end, 10.
    const leader0 = broker.engine.partitionLog('oor', 0);
    await appendBatches(leader0, 10);
    leader0.updateHighWatermark(7);
    follower.partitionLog('oor', 0).appendAsFollower(logBytes(leader0));
    follower.partitionLog('oor', 0).appendAsFollower(replicaBatch(10, 5, 0, 'extra'));
    // Partition 1: the leader deleted the records below 6; the follower has nothing.
    const leader1 = broker.engine.partitionLog('oor', 1);
    await appendBatches(leader1, 10);
    leader1.deleteRecordsBefore(6);

    const truncations0: string[] = [];
    const truncations1: string[] = [];
    const { fetcher, events } = startFetcher(broker.port);
    fetcher.addPartition(followed(follower, 'oor', 0, { truncations: truncations0 }));
    fetcher.addPartition(followed(follower, 'oor', 1, { truncations: truncations1 }));
    await waitFor(caughtUp(follower, broker.engine, 'oor', [0, 1]), 'the follower to come back in range');
    expect(truncations0).toEqual(['to 10']);
    expect(truncations1).toEqual(['fully 6']);
    expect(logBytes(follower.partitionLog('oor', 0))).toEqual(logBytes(leader0));
    expect(follower.partitionLog('oor', 1).logStartOffset).toBe(6);
    expect(logBytes(follower.partitionLog('oor', 1))).toEqual(logBytes(leader1, 6));
    expect(events.errors).toEqual([]);
  });

  it('retries a partition the leader does not have yet (as a leader that has not learned its role), while the others go on', async () => {
    const broker = await leaderBroker();
    const follower = await followerEngine();
    await broker.engine.createTopic('known', { partitions: 1 });
    await follower.createTopic('known', { partitions: 1 });
    await follower.createTopic('ghost', { partitions: 1 });
    const send = await kafkajsProducer(broker);
    await send('known', 0, ['one']);

    const { fetcher, events } = startFetcher(broker.port);
    fetcher.addPartition(followed(follower, 'ghost', 0));
    fetcher.addPartition(followed(follower, 'known', 0));
    await waitFor(caughtUp(follower, broker.engine, 'known', [0]), 'the other partition copied');
    await send('known', 0, ['two']);
    await waitFor(caughtUp(follower, broker.engine, 'known', [0]), 'the other partition to go on');

    // The leader gets the partition: the fetcher, retrying after replica.fetch.backoff.ms, copies
    // it with no update from the replica manager, and never reported it as failed.
    await broker.engine.createTopic('ghost', { partitions: 1 });
    await send('ghost', 0, ['boo']);
    await waitFor(caughtUp(follower, broker.engine, 'ghost', [0]), 'the retried partition to be copied');
    expect(logBytes(follower.partitionLog('ghost', 0))).toEqual(logBytes(broker.engine.partitionLog('ghost', 0)));
    expect(events.errors).toEqual([]);
  });
});

describe('follower.replication.throttled.rate', () => {
  it('leaves a throttled partition out of its fetches while over the rate, unless this broker is in its ISR, and counts both', async () => {
    const broker = await leaderBroker();
    const follower = await followerEngine();
    await broker.engine.createTopic('quota', { partitions: 2 });
    await follower.createTopic('quota', { partitions: 2 });
    for (const p of [0, 1]) await appendBatches(broker.engine.partitionLog('quota', p), 20);
    // A minute a window: once over its 1 B/s, the rate stays over for the whole test.
    const quota = new ReplicationQuota({ windowCount: 2, windowMs: 60_000 });
    quota.setLimit(1);
    // About one batch a fetch, so the rate is over after the first.
    const { fetcher } = startFetcher(broker.port, { partitionMaxBytes: 100, quota });
    fetcher.addPartition({ ...followed(follower, 'quota', 0), throttled: () => true, inSync: () => false }); // a replica being added
    fetcher.addPartition({ ...followed(follower, 'quota', 1), throttled: () => true, inSync: () => true });
    const held = follower.partitionLog('quota', 0);
    await waitFor(caughtUp(follower, broker.engine, 'quota', [1]), 'the in-sync replica to copy everything, throttled or not');
    expect(held.logEndOffset).toBeGreaterThan(0); // its first fetch, before the rate was over
    expect(held.logEndOffset).toBeLessThan(20);
    expect(quota.stats.heldPartitions).toBeGreaterThan(0);
    const countedBytes = logBytes(follower.partitionLog('quota', 1)).length + logBytes(held).length;
    expect(quota.stats.throttledBytes).toBe(countedBytes);

    quota.setLimit(Infinity);
    await waitFor(caughtUp(follower, broker.engine, 'quota', [0]), 'the held replica to copy the rest once the limit is lifted');
    expect(logBytes(held)).toEqual(logBytes(broker.engine.partitionLog('quota', 0)));
  });
});

describe('replica fetcher manager', () => {
  it('runs one fetcher per leader, moves a partition to its new leader and closes fetchers left empty', async () => {
    const brokerA = await leaderBroker();
    const brokerB = await leaderBroker();
    const follower = await followerEngine();
    for (const engine of [brokerA.engine, brokerB.engine, follower]) await engine.createTopic('moved', { partitions: 2 });
    const sendA = await kafkajsProducer(brokerA);
    const sendB = await kafkajsProducer(brokerB);
    await sendA('moved', 0, ['a0']);
    await sendB('moved', 1, ['b1', 'b1']);

    const manager = new ReplicaFetcherManager({
      ...REPLICA_FETCHER_DEFAULTS,
      backoffMs: 50,
      replicaId: FOLLOWER_ID,
      onAppended: () => {},
      onPartitionError: () => {},
    });
    cleanups.push(() => manager.close());
    const leaderA = { brokerId: 10, host: '127.0.0.1', port: brokerA.port };
    const leaderB = { brokerId: 11, host: '127.0.0.1', port: brokerB.port };
    manager.follow(leaderA, followed(follower, 'moved', 0));
    manager.follow(leaderB, followed(follower, 'moved', 1));
    expect(manager.fetcherCount).toBe(2);
    await waitFor(() => caughtUp(follower, brokerA.engine, 'moved', [0])() && caughtUp(follower, brokerB.engine, 'moved', [1])(), 'both leaders copied');

    // A becomes leader of partition 1 with B's records and one more of its own.
    brokerA.engine.partitionLog('moved', 1).appendAsFollower(logBytes(brokerB.engine.partitionLog('moved', 1)));
    await sendA('moved', 1, ['a1']);
    manager.follow(leaderA, followed(follower, 'moved', 1));
    expect(manager.fetcherCount).toBe(1);
    expect(manager.leaderOf('moved', 1)).toBe(10);
    await waitFor(caughtUp(follower, brokerA.engine, 'moved', [0, 1]), 'partition 1 copied from its new leader');
    for (const p of [0, 1]) expect(segmentFiles(follower.dataDir, 'moved', p)).toEqual(segmentFiles(brokerA.dataDir, 'moved', p));

    expect(manager.unfollow('moved', 0)).toBe(true);
    expect(manager.fetcherCount).toBe(1);
    expect(manager.unfollow('moved', 1)).toBe(true);
    expect(manager.fetcherCount).toBe(0);
    expect(manager.unfollow('moved', 1)).toBe(false);
  });
});

describe('the leader serves followers', () => {
  it('reads a follower up to the log end and a consumer up to the HW, and answers a diverging follower DivergingEpoch (v12, v15)', async () => {
    const broker = await leaderBroker();
    await broker.engine.createTopic('lead', { partitions: 1 });
    const log = broker.engine.partitionLog('lead', 0);
    await log.append(encodeBatch([{ value: 'a' }, { value: 'b' }]), { leaderEpoch: 1 });
    log.assignEpochStartOffset(3);
    await log.append(encodeBatch([{ value: 'c' }]), { leaderEpoch: 3 });
    log.updateHighWatermark(2);
    const connection = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port });
    cleanups.push(() => connection.close());
    const topicId = broker.engine.topicId('lead');

    for (const version of [12, 15]) {
      const fetch = async (replicaId: number, fetchOffset: number, lastFetchedEpoch: number) => {
        const response = await connection.request(
          ApiKey.Fetch,
          {
            replicaId,
            replicaState: { replicaId, replicaEpoch: -1 },
            maxWaitMs: 0,
            minBytes: 1,
            maxBytes: 1 << 20,
            isolationLevel: 0,
            sessionId: 0,
            sessionEpoch: -1,
            topics: [{ topic: 'lead', topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset, lastFetchedEpoch, logStartOffset: 0, partitionMaxBytes: 1 << 20 }] }],
            forgottenTopicsData: [],
            rackId: '',
          },
          version,
        );
        return response.responses[0].partitions[0];
      };
      const consumer = await fetch(-1, 0, -1);
      expect([consumer.errorCode, consumer.highWatermark, consumer.records]).toEqual([0, 2, logBytes(log, 0, 2)]);
      const follower = await fetch(FOLLOWER_ID, 0, -1);
      expect([follower.errorCode, follower.highWatermark, follower.records]).toEqual([0, 2, logBytes(log, 0, 3)]);
      // A follower that wrote offset 2 in epoch 2, which this leader never had: its epoch 1 ends at 2.
      const diverging = await fetch(FOLLOWER_ID, 3, 2);
      expect([diverging.errorCode, diverging.divergingEpoch, diverging.records.length]).toEqual([0, { epoch: 1, endOffset: 2 }, 0]);
      const caughtUpFollower = await fetch(FOLLOWER_ID, 3, 3);
      expect([caughtUpFollower.divergingEpoch, caughtUpFollower.records.length]).toEqual([{ epoch: -1, endOffset: -1 }, 0]);
    }
  });
});
