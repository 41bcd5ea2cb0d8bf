// Replication at the Log level: two or three replicas of one partition, each a data directory, and
// a test-side fetcher (replica-helpers.ts). The scenarios are the ones that made Kafka add leader
// epochs: KIP-101 (truncating to the high watermark loses acknowledged records or leaves replicas
// diverged) and KIP-279 (fast successive failovers need repeated epoch lookups to converge).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { encodeBatch, iterateBatches, readBatchHeader } from '../../src/record/batch.js';
import { LEADER_EPOCH_CHECKPOINT_FILE } from '../../src/storage/leader-epoch-cache.js';
import { Log } from '../../src/storage/log.js';
import { resolveLogConfig } from '../../src/storage/log-config.js';
import { logDirName } from '../../src/storage/log-manager.js';
import { prng } from '../fixtures/random.js';
import { tempDir } from '../helpers.js';
import { PARTITION, Replica, TOPIC, epochsInBatches, fetchFrom, recordAt, recordsOf, truncateByEpochs, truncateToHighWatermark } from './replica-helpers.js';

function replicas(...names: string[]): Replica[] {
  return names.map((name) => new Replica(name, tempDir(`sluice-${name}-`)));
}

const epochs = (replica: Replica) => replica.log.leaderEpochCache.epochEntries().map((e) => [e.epoch, e.startOffset]);

describe('KIP-101 scenario 1: a follower restarts, truncates, and becomes leader', () => {
  // A leads epoch 0 and B follows. m2 reaches B, and A's high watermark moves past it (acks=all is
  // answered), but B learns the new high watermark only from its next fetch. B restarts.
  async function setUp(): Promise<{ a: Replica; b: Replica }> {
    const [a, b] = replicas('a', 'b') as [Replica, Replica];
    a.becomeLeader(0);
    a.produce(['m1']);
    fetchFrom(b, a);
    a.log.updateHighWatermark(1);
    a.produce(['m2']);
    fetchFrom(b, a); // B has m2; the leader's high watermark in that response was still 1
    a.log.updateHighWatermark(2); // B's fetch offset 2 moves the leader's HW: m2 is acknowledged
    expect([a.log.highWatermark, b.log.highWatermark]).toEqual([2, 1]);
    await b.restart();
    expect(b.log.highWatermark).toBe(1); // from replication-offset-checkpoint
    expect(b.log.isReplicated).toBe(true);
    return { a, b };
  }

  it('truncating to the high watermark loses the acknowledged m2 once A fails next', async () => {
    const { a, b } = await setUp();
    truncateToHighWatermark(b);
    await a.close(); // the second failure, before B fetched again
    b.becomeLeader(1);
    expect(recordsOf(b.log)).toEqual(['0:m1']);
    b.produce(['m3']);
    expect(recordAt(b.log, 1)).toBe('1:m3'); // m2, acknowledged at offset 1, is gone for good
    await b.close();
  });

  it('truncating by epochs keeps m2 through the same failures', async () => {
    const { a, b } = await setUp();
    expect(truncateByEpochs(b, a)).toBe(1);
    expect(recordsOf(b.log)).toEqual(['0:m1', '1:m2']);
    await a.close();
    b.becomeLeader(1);
    b.produce(['m3']);
    expect(recordsOf(b.log)).toEqual(['0:m1', '1:m2', '2:m3']);
    expect(epochs(b)).toEqual([[0, 0], [1, 2]]);
    await b.close();
  });
});

describe('KIP-101 scenario 2: both replicas restart and their logs diverge', () => {
  // A leads epoch 0 with m1, m2 (HW 2); B had copied both, but m2 was still in B's page cache when
  // power failed, so only m1 is on B's disk. B comes back first and leads epoch 1 with m3 at offset
  // 1; then A comes back as its follower.
  async function setUp(): Promise<{ a: Replica; b: Replica }> {
    const [a, b] = replicas('a', 'b') as [Replica, Replica];
    a.becomeLeader(0);
    a.produce(['m1']);
    fetchFrom(b, a);
    const m2At = b.log.sizeBytes();
    a.produce(['m2']);
    fetchFrom(b, a);
    a.log.updateHighWatermark(2);
    await Promise.all([a.close(), b.close()]);
    // The power failure: B's unflushed m2 never reached its disk.
    fs.truncateSync(path.join(b.dataDir, logDirName(TOPIC, PARTITION), '00000000000000000000.log'), m2At);
    const a2 = new Replica('a', a.dataDir);
    const b2 = new Replica('b', b.dataDir);
    expect(b2.log.logEndOffset).toBe(1);
    b2.becomeLeader(1);
    b2.produce(['m3']);
    expect(a2.log.highWatermark).toBe(2);
    return { a: a2, b: b2 };
  }

  it('truncating to the high watermark leaves A with m2 where B has m3, for good', async () => {
    const { a, b } = await setUp();
    truncateToHighWatermark(a); // HW 2: nothing to cut
    fetchFrom(a, b); // A's log end is B's: nothing to fetch either
    expect(a.log.logEndOffset).toBe(b.log.logEndOffset);
    expect(recordAt(a.log, 1)).toBe('1:m2');
    expect(recordAt(b.log, 1)).toBe('1:m3');
    await Promise.all([a.close(), b.close()]);
  });

  it('truncating by epochs cuts m2 and copies m3: the logs are the same', async () => {
    const { a, b } = await setUp();
    expect(truncateByEpochs(a, b)).toBe(1);
    expect(recordsOf(a.log)).toEqual(['0:m1']);
    fetchFrom(a, b);
    expect(recordsOf(a.log)).toEqual(recordsOf(b.log));
    expect(recordsOf(a.log)).toEqual(['0:m1', '1:m3']);
    expect(epochs(a)).toEqual(epochs(b));
    await Promise.all([a.close(), b.close()]);
  });
});

describe('KIP-279: fast successive failovers', () => {
  // Three replicas. Epoch 0: A leads, everyone copies a0 a1. Epoch 1: B leads and writes b2-b4,
  // which nobody copies. Epoch 2: C leads, writes c2-c5; A copies c2 and c3. Epoch 3: B leads again
  // (elected before anyone noticed it had fallen behind) and writes b5-b7 on top of its epoch-1
  // tail. Epoch 4: C leads again and writes c6-c8. B's history [0@0, 1@2, 3@5] and C's [0@0, 2@2,
  // 4@6] share only epoch 0, and B asks about epoch 3, which C never had.
  function setUp(): { a: Replica; b: Replica; c: Replica } {
    const [a, b, c] = replicas('a', 'b', 'c') as [Replica, Replica, Replica];
    a.becomeLeader(0);
    a.produce(['a0']);
    a.produce(['a1']);
    fetchFrom(b, a);
    fetchFrom(c, a);
    b.becomeLeader(1);
    for (const value of ['b2', 'b3', 'b4']) b.produce([value]);
    c.becomeLeader(2);
    c.produce(['c2']);
    truncateByEpochs(a, c);
    fetchFrom(a, c);
    for (const value of ['c3', 'c4', 'c5']) c.produce([value]);
    fetchFrom(a, c, 1);
    b.becomeLeader(3);
    for (const value of ['b5', 'b6', 'b7']) b.produce([value]);
    c.becomeLeader(4);
    for (const value of ['c6', 'c7', 'c8']) c.produce([value]);
    expect(epochs(b)).toEqual([[0, 0], [1, 2], [3, 5]]);
    expect(epochs(c)).toEqual([[0, 0], [2, 2], [4, 6]]);
    expect(epochs(a)).toEqual([[0, 0], [2, 2]]);
    return { a, b, c };
  }

  it('one lookup that takes only the end offset (before KIP-279) leaves B diverged at offset 5', async () => {
    const { a, b, c } = setUp();
    const { endOffset } = c.log.endOffsetForEpoch(b.log.latestEpoch);
    expect(endOffset).toBe(6);
    b.manager.truncateTo(TOPIC, PARTITION, Math.min(endOffset, b.log.logEndOffset));
    fetchFrom(b, c);
    expect(b.log.logEndOffset).toBe(c.log.logEndOffset);
    expect(recordAt(b.log, 5)).toBe('5:b5');
    expect(recordAt(c.log, 5)).toBe('5:c5');
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('repeated lookups converge every follower on the leader\'s log', async () => {
    const { a, b, c } = setUp();
    // B: asks 3, C answers (2, 6); B has no epoch 2, cuts to the end of its epoch 1 (5) and asks
    // about 1; C answers (0, 2); B's epoch 0 ends at 2 too: cut to 2.
    expect(truncateByEpochs(b, c)).toBe(2);
    expect(recordsOf(b.log)).toEqual(['0:a0', '1:a1']);
    expect(truncateByEpochs(a, c)).toBe(1);
    for (const follower of [a, b]) fetchFrom(follower, c);
    const expected = ['0:a0', '1:a1', '2:c2', '3:c3', '4:c4', '5:c5', '6:c6', '7:c7', '8:c8'];
    for (const replica of [a, b, c]) {
      expect(recordsOf(replica.log)).toEqual(expected);
      expect(epochs(replica)).toEqual([[0, 0], [2, 2], [4, 6]]);
    }
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('random elections and partial fetches always converge, with each epoch history what the batches say', async () => {
    let recordsCut = 0;
    let repeatedLookups = 0;
    const reconcile = (follower: Replica, leader: Replica) => {
      const before = follower.log.logEndOffset;
      if (truncateByEpochs(follower, leader) > 1) repeatedLookups++;
      recordsCut += before - follower.log.logEndOffset;
    };
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const random = prng(seed);
      const group = replicas('r0', 'r1', 'r2');
      let leader = group[0]!;
      let epoch = 0;
      leader.becomeLeader(epoch);
      for (let step = 0; step < 60; step++) {
        const roll = random();
        if (roll < 0.15) {
          // Any replica may win an election here (unclean ones too): convergence must not depend on it.
          leader = group[Math.floor(random() * group.length)]!;
          leader.becomeLeader(++epoch);
        } else if (roll < 0.6) {
          leader.produce([`s${seed}e${epoch}-${step}`, `s${seed}e${epoch}-${step}b`]);
        } else {
          const follower = group[Math.floor(random() * group.length)]!;
          if (follower === leader) continue;
          reconcile(follower, leader);
          fetchFrom(follower, leader, Math.floor(random() * 4));
        }
      }
      for (const follower of group) {
        if (follower === leader) continue;
        reconcile(follower, leader);
        fetchFrom(follower, leader);
      }
      for (const replica of group) {
        expect({ seed, replica: replica.name, records: recordsOf(replica.log) }).toEqual({ seed, replica: replica.name, records: recordsOf(leader.log) });
        const learned = replica.log.leaderEpochCache.epochEntries().filter((entry) => entry.startOffset < replica.log.logEndOffset);
        expect({ seed, learned }).toEqual({ seed, learned: epochsInBatches(replica.log) });
      }
      await Promise.all(group.map((replica) => replica.close()));
    }
    // The runs did diverge, and needed more than one lookup at times: convergence was earned.
    console.info(`random failovers: ${recordsCut} divergent records cut, ${repeatedLookups} truncations needing repeated lookups`);
    expect(recordsCut).toBeGreaterThan(0);
    expect(repeatedLookups).toBeGreaterThan(0);
  });
});

describe('appendAsFollower', () => {
  function leaderWith(batches: number): Replica {
    const [leader] = replicas('leader');
    leader!.becomeLeader(3);
    for (let i = 0; i < batches; i++) leader!.produce([`v${i}-0`, `v${i}-1`, `v${i}-2`]);
    return leader!;
  }

  it('stores the leader\'s bytes as they are, epochs included', async () => {
    const leader = leaderWith(5);
    const [follower] = replicas('follower');
    fetchFrom(follower!, leader);
    const read = (log: Log) => log.readBytes(log.read(0, 1 << 20)!);
    expect(read(follower!.log).equals(read(leader.log))).toBe(true);
    expect([...iterateBatches(read(follower!.log))].map(({ at }) => readBatchHeader(read(follower!.log), at).partitionLeaderEpoch)).toEqual([3, 3, 3, 3, 3]);
    expect(epochs(follower!)).toEqual([[3, 0]]);
    expect(fs.readFileSync(path.join(follower!.log.dir, LEADER_EPOCH_CHECKPOINT_FILE), 'utf8')).toBe('0\n1\n3 0\n');
    await Promise.all([leader.close(), follower!.close()]);
  });

  it('refuses a first batch before the log end and an overlap between batches, and takes the gaps compaction leaves', async () => {
    const leader = leaderWith(4);
    const [follower] = replicas('follower');
    const all = leader.log.readBytes(leader.log.read(0, 1 << 20)!);
    const batches = [...iterateBatches(all)].map(({ at, header }) => all.subarray(at, at + header.sizeBytes));
    expect(() => follower!.log.appendAsFollower(Buffer.concat([batches[0]!, batches[0]!]))).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }));
    expect(() => follower!.log.appendAsFollower(Buffer.concat([batches[1]!, batches[0]!]))).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }));
    expect(follower!.log.logEndOffset).toBe(0);
    expect(follower!.log.sizeBytes()).toBe(0);
    // Batches 1 and 3 of a compacted leader: a gap before each, as Kafka's follower takes them.
    expect(follower!.log.appendAsFollower(Buffer.concat([batches[1]!, batches[3]!]))).toMatchObject({ baseOffset: 3, lastOffset: 11, batchCount: 2 });
    expect(follower!.log.logEndOffset).toBe(12);
    expect(() => follower!.log.appendAsFollower(batches[2]!)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    expect(() => follower!.log.appendAsFollower(batches[3]!)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    await Promise.all([leader.close(), follower!.close()]);
  });

  it('refuses a batch whose CRC fails, appending nothing of the request', async () => {
    const leader = leaderWith(2);
    const [follower] = replicas('follower');
    const all = Buffer.from(leader.log.readBytes(leader.log.read(0, 1 << 20)!));
    all[all.length - 1] ^= 0x01;
    expect(() => follower!.log.appendAsFollower(all)).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }));
    expect([follower!.log.logEndOffset, follower!.log.sizeBytes(), follower!.log.latestEpoch]).toEqual([0, 0, -1]);
    await Promise.all([leader.close(), follower!.close()]);
  });

  it('leaves a trailing incomplete batch for the next fetch', async () => {
    const leader = leaderWith(2);
    const [follower] = replicas('follower');
    const all = leader.log.readBytes(leader.log.read(0, 1 << 20)!);
    const result = follower!.log.appendAsFollower(all.subarray(0, all.length - 10));
    expect(result).toMatchObject({ baseOffset: 0, lastOffset: 2, batchCount: 1, recordCount: 3 });
    expect(follower!.log.logEndOffset).toBe(3);
    await Promise.all([leader.close(), follower!.close()]);
  });

  it('skips what only a producer\'s batch is checked for: size limit, timestamp bounds, timestamp type', async () => {
    const leader = leaderWith(0);
    leader.produce(Array.from({ length: 20 }, (_, i) => `x${i}`.repeat(20)), { now: 1_000 }); // 1970: far outside any bound
    const strict = resolveLogConfig({ 'max.message.bytes': 100, 'message.timestamp.type': 'LogAppendTime', 'message.timestamp.before.max.ms': 1000 });
    const follower = new Replica('follower', tempDir(), strict);
    fetchFrom(follower, leader);
    const read = (log: Log) => log.readBytes(log.read(0, 1 << 20)!);
    expect(read(follower.log).equals(read(leader.log))).toBe(true);
    await Promise.all([leader.close(), follower.close()]);
  });

  it('rolls segments as segment.bytes requires and indexes every index.interval.bytes, as recovery would', async () => {
    const config = resolveLogConfig({ 'segment.bytes': 4096, 'index.interval.bytes': 300 });
    const leader = new Replica('leader', tempDir(), config);
    leader.becomeLeader(0);
    for (let i = 0; i < 60; i++) leader.produce([`value-${i}`.repeat(5)]);
    const follower = new Replica('follower', tempDir(), config);
    // One big append per fetch: many batches in each write.
    while (follower.log.logEndOffset < leader.log.logEndOffset) {
      const read = leader.log.read(follower.log.logEndOffset, 1 << 20)!;
      follower.log.appendAsFollower(leader.log.readBytes(read));
    }
    expect(follower.log.segmentBaseOffsets()).toEqual(leader.log.segmentBaseOffsets());
    const dir = follower.log.dir;
    await follower.close();
    const indexes = () => fs.readdirSync(dir).filter((name) => name.endsWith('.index')).sort().map((name) => fs.readFileSync(path.join(dir, name)).toString('hex'));
    const appended = indexes();
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('index'))) fs.rmSync(path.join(dir, name));
    const rebuilt = Log.open({ dir, config });
    rebuilt.close();
    expect(indexes()).toEqual(appended);
    expect(appended.some((hex) => hex.length > 0)).toBe(true);
    await leader.close();
  });

  it('restarts an empty follower at a batch that straddles its log start (the leader\'s log start cut the batch)', async () => {
    const leader = leaderWith(3); // batches [0-2] [3-5] [6-8]
    leader.log.updateHighWatermark(9);
    leader.log.deleteRecordsBefore(4);
    const [follower] = replicas('follower');
    expect(follower!.log.logEndOffset).toBe(0); // creates it
    follower!.manager.truncateFullyAndStartAt(TOPIC, PARTITION, 4);
    const read = leader.log.read(4, 1 << 20)!;
    expect(read.region.firstOffset).toBe(3);
    follower!.log.appendAsFollower(leader.log.readBytes(read));
    expect([follower!.log.logStartOffset, follower!.log.logEndOffset, follower!.log.segmentBaseOffsets()]).toEqual([4, 9, [3]]);
    expect(recordsOf(follower!.log)).toEqual(recordsOf(leader.log));
    await Promise.all([leader.close(), follower!.close()]);
  });
});

describe('idempotent producers across a failover', () => {
  const idempotent = (sequence: number) => ({ producerId: 7001, producerEpoch: 0, baseSequence: sequence });

  it('a follower that becomes leader answers a retried batch as the duplicate it is, also after a restart', async () => {
    const [a, b] = replicas('a', 'b') as [Replica, Replica];
    a.becomeLeader(0);
    expect(a.produce(['p0', 'p1'], idempotent(0))).toMatchObject({ baseOffset: 0, duplicate: false });
    expect(a.produce(['p2'], idempotent(2))).toMatchObject({ baseOffset: 2, duplicate: false });
    a.produce(['other']); // a non-idempotent batch in between
    expect(a.produce(['p3', 'p4'], idempotent(3))).toMatchObject({ baseOffset: 4, duplicate: false });
    fetchFrom(b, a);
    await a.close(); // A fails before the producer saw the acknowledgement of p3-p4

    b.becomeLeader(1);
    // The producer retries p3-p4 on the new leader: the same batch, already in B's log.
    expect(b.produce(['p3', 'p4'], idempotent(3))).toEqual({ baseOffset: 4, lastOffset: 5, duplicate: true, logAppendTime: -1, recordCount: 0, batchCount: 0 });
    expect(() => b.produce(['p9'], idempotent(9))).toThrow(expect.objectContaining({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' }));
    expect(b.produce(['p5'], idempotent(5))).toMatchObject({ baseOffset: 6, duplicate: false });

    await b.restart();
    expect(b.produce(['p5'], idempotent(5))).toMatchObject({ baseOffset: 6, duplicate: true });
    expect(b.produce(['p6'], idempotent(6))).toMatchObject({ baseOffset: 7, duplicate: false });
    expect(recordsOf(b.log)).toEqual(['0:p0', '1:p1', '2:p2', '3:other', '4:p3', '5:p4', '6:p5', '7:p6']);
    await b.close();
  });

  it('truncation takes the cut batches out of the producer state, so they can be appended again', async () => {
    const [a] = replicas('a') as [Replica];
    a.becomeLeader(0);
    a.produce(['p0'], idempotent(0));
    a.produce(['p1'], idempotent(1));
    a.produce(['p2'], idempotent(2));
    a.manager.truncateTo(TOPIC, PARTITION, 1);
    expect(() => a.produce(['p2'], idempotent(2))).toThrow(expect.objectContaining({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' }));
    expect(a.produce(['p1'], idempotent(1))).toMatchObject({ baseOffset: 1, duplicate: false });
    await a.close();
  });
});

describe('truncateTo', () => {
  it('keeps segments, indexes, producer state, epochs, the high watermark and the checkpoints consistent', async () => {
    const config = resolveLogConfig({ 'segment.bytes': 1024, 'index.interval.bytes': 200 });
    const a = new Replica('a', tempDir(), config);
    const producer = { producerId: 42, producerEpoch: 0 };
    let sequence = 0;
    for (let epoch = 0; epoch < 4; epoch++) {
      a.becomeLeader(epoch);
      for (let i = 0; i < 15; i++) {
        a.produce([`e${epoch}-${i}`.repeat(8)], { ...producer, baseSequence: sequence });
        sequence++;
      }
    }
    expect(a.log.segmentCount).toBeGreaterThan(5);
    a.log.updateHighWatermark(50);
    await a.log.flush();
    a.manager.checkpoint();
    const recoveryPoints = () => fs.readFileSync(path.join(a.dataDir, 'recovery-point-offset-checkpoint'), 'utf8');
    expect(recoveryPoints()).toBe(`0\n1\n${TOPIC} ${PARTITION} 60\n`);
    const target = 22; // inside epoch 1, several segments back
    expect(a.manager.truncateTo(TOPIC, PARTITION, target)).toBe(true);
    const log = a.log;
    expect(log.logEndOffset).toBe(target);
    expect(log.highWatermark).toBe(target);
    // Checkpointed at once: a recovery point of 60 left there would skip recovering what comes next.
    expect(recoveryPoints()).toBe(`0\n1\n${TOPIC} ${PARTITION} ${target}\n`);
    expect(log.segmentBaseOffsets().every((base) => base <= target)).toBe(true);
    expect(epochs(a)).toEqual([[0, 0], [1, 15]]);
    expect(fs.readFileSync(path.join(log.dir, LEADER_EPOCH_CHECKPOINT_FILE), 'utf8')).toBe('0\n2\n0 0\n1 15\n');
    for (let offset = 0; offset < target; offset++) expect(log.read(offset, 1)!.region.firstOffset).toBe(offset);
    expect(recordsOf(log).at(-1)).toBe(`21:${'e1-6'.repeat(8)}`);
    // The producer's next sequence is the one after the last batch kept.
    expect(() => a.produce(['late'], { ...producer, baseSequence: sequence })).toThrow(expect.objectContaining({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' }));
    a.becomeLeader(9);
    expect(a.produce(['again'], { ...producer, baseSequence: target })).toMatchObject({ baseOffset: target, duplicate: false });

    // An unclean restart (no marker) finds the same log, epochs and producer state.
    const records = recordsOf(log);
    const dir = log.dir;
    a.manager.getLog(TOPIC, PARTITION)!.close();
    const reopened = Log.open({ dir, config, recoveryPoint: 0, highWatermark: 23 });
    expect(recordsOf(reopened)).toEqual(records);
    expect(reopened.leaderEpochCache.epochEntries()).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 1, startOffset: 15 }, { epoch: 9, startOffset: 22 }]);
    expect(reopened.producers.check({ producerId: 42, producerEpoch: 0, baseSequence: target, lastOffsetDelta: 0 })).toMatchObject({ firstOffset: 22 });
    reopened.close();
  });

  it('at the log end cuts only an epoch that was assigned and wrote nothing', async () => {
    const [a] = replicas('a') as [Replica];
    a.becomeLeader(0);
    a.produce(['x']);
    a.becomeLeader(1); // led epoch 1, appended nothing, then became a follower
    expect(epochs(a)).toEqual([[0, 0], [1, 1]]);
    expect(a.log.truncateTo(1)).toBe(false);
    expect(epochs(a)).toEqual([[0, 0]]);
    await a.close();
  });

  it('truncateFullyAndStartAt empties the log, its epochs and producers, and restarts the high watermark there', async () => {
    const [a] = replicas('a') as [Replica];
    a.becomeLeader(0);
    a.produce(['x'], { producerId: 5, producerEpoch: 0, baseSequence: 0 });
    a.log.updateHighWatermark(1);
    a.manager.truncateFullyAndStartAt(TOPIC, PARTITION, 1000);
    expect([a.log.logStartOffset, a.log.logEndOffset, a.log.highWatermark, a.log.latestEpoch, a.log.producers.producerCount]).toEqual([1000, 1000, 1000, -1, 0]);
    expect(fs.readFileSync(path.join(a.log.dir, LEADER_EPOCH_CHECKPOINT_FILE), 'utf8')).toBe('0\n0\n');
    expect(fs.readFileSync(path.join(a.dataDir, 'log-start-offset-checkpoint'), 'utf8')).toBe(`0\n1\n${TOPIC} ${PARTITION} 1000\n`);
    await a.close();
  });
});

describe('the high watermark', () => {
  it('of a log nobody replicates is its log end offset, and nothing is checkpointed for it', async () => {
    const dataDir = tempDir();
    const replica = new Replica('single', dataDir);
    replica.log.appendSync(encodeBatch([{ value: 'a' }, { value: 'b' }]));
    expect([replica.log.isReplicated, replica.log.highWatermark, replica.log.logEndOffset]).toEqual([false, 2, 2]);
    expect(replica.log.latestEpoch).toBe(-1);
    await replica.restart();
    expect([replica.log.isReplicated, replica.log.highWatermark]).toEqual([false, 2]);
    await replica.close();
    expect(fs.existsSync(path.join(dataDir, 'replication-offset-checkpoint'))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, logDirName(TOPIC, PARTITION), LEADER_EPOCH_CHECKPOINT_FILE))).toBe(false);
  });

  it('is stored as set, clamped to [log start, log end], and moved only forward by maybeIncrementHighWatermark', async () => {
    const [a] = replicas('a') as [Replica];
    a.becomeLeader(0);
    for (let i = 0; i < 5; i++) a.produce([`v${i}`]);
    expect(a.log.updateHighWatermark(3)).toBe(3);
    expect(a.log.isReplicated).toBe(true);
    a.produce(['v5']);
    expect(a.log.highWatermark).toBe(3);
    expect(a.log.updateHighWatermark(99)).toBe(6);
    expect(a.log.updateHighWatermark(-5)).toBe(0);
    expect(a.log.maybeIncrementHighWatermark(4)).toBe(true);
    expect(a.log.maybeIncrementHighWatermark(2)).toBe(false);
    expect(a.log.highWatermark).toBe(4);
    // Consumers read below it: the fetch path passes it as the upper bound.
    expect(a.log.read(0, 1 << 20, { maxOffset: a.log.highWatermark })!.region.lastOffset).toBe(3);
    expect(() => a.log.deleteRecordsBefore(5)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    a.log.deleteRecordsBefore(2);
    expect(epochs(a)).toEqual([[0, 2]]);
    expect(a.log.updateHighWatermark(0)).toBe(2);
    await a.close();
  });

  it('holds retention back: no segment reaching past it is deleted', async () => {
    const config = resolveLogConfig({ 'segment.bytes': 1024, 'retention.bytes': 0 });
    const a = new Replica('a', tempDir(), config);
    a.becomeLeader(0);
    for (let i = 0; i < 30; i++) a.produce([`value-${i}`.repeat(6)]);
    const bases = a.log.segmentBaseOffsets();
    a.log.updateHighWatermark(bases[2]!);
    a.log.deleteRetainedSegments();
    expect(a.log.segmentBaseOffsets()).toEqual(bases.slice(2));
    expect(a.log.logStartOffset).toBe(bases[2]);
    expect(epochs(a)).toEqual([[0, bases[2]]]);
    await a.close();
  });
});

describe('recovery of the epoch history', () => {
  async function replicatedLog(): Promise<{ a: Replica; dir: string }> {
    const [a] = replicas('a') as [Replica];
    for (let epoch = 0; epoch < 3; epoch++) {
      a.becomeLeader(epoch * 2);
      for (let i = 0; i < 4; i++) a.produce([`e${epoch}-${i}`]);
    }
    a.log.updateHighWatermark(10);
    return { a, dir: a.log.dir };
  }

  it('cuts checkpointed entries past the recovered log end (the crash took their data)', async () => {
    const { a, dir } = await replicatedLog();
    const cut = a.log.read(8, 1)!.region.position; // epoch 4 starts at offset 8
    await a.close();
    fs.truncateSync(path.join(dir, '00000000000000000000.log'), cut + 5);
    const reopened = new Replica('a', a.dataDir);
    expect(reopened.log.logEndOffset).toBe(8);
    expect(epochs(reopened)).toEqual([[0, 0], [2, 4]]);
    expect(reopened.log.highWatermark).toBe(8); // the checkpointed 10, clamped to the log
    await reopened.close();
  });

  for (const damage of ['missing', 'corrupt'] as const) {
    it(`rebuilds a ${damage} checkpoint of a replicated log from the batches, and writes it`, async () => {
      const { a, dir } = await replicatedLog();
      const before = epochs(a);
      await a.close();
      const file = path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
      if (damage === 'missing') fs.rmSync(file);
      else fs.writeFileSync(file, '0\n3\n0 0\n2 4');
      const reopened = new Replica('a', a.dataDir);
      expect(reopened.log.recovery.rebuiltLeaderEpochs).toBe(true);
      expect(epochs(reopened)).toEqual(before);
      expect(fs.readFileSync(file, 'utf8')).toBe('0\n3\n0 0\n2 4\n4 8\n');
      await reopened.close();
    });
  }
});
