import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { SluiceError } from '../../src/index.js';
import { encodeBatch, readBatchHeader } from '../../src/record/batch.js';
import { CLEANER_OFFSET_CHECKPOINT_FILE } from '../../src/storage/log-cleaner.js';
import { PRODUCER_SNAPSHOT_FILE } from '../../src/storage/producer-state.js';
import { tempDir } from '../helpers.js';
import { age, batchHeaders, leftovers, lastPerKey, openEngine, produceBatch, produceEach, readAll, written, type Written } from './compaction-helpers.js';

const COMPACT = { 'cleanup.policy': 'compact' };

/** A deterministic shuffle, so that keys are updated in a different order each round. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let x = seed * 2654435761 + 1;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) >>> 0;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('compaction', () => {
  it('keeps exactly the last record of every key at its own offset; a read inside a removed range starts at the next survivor', async () => {
    const dataDir = tempDir();
    const engine = await openEngine(dataDir);
    await engine.createTopic('profiles', { partitions: 1, config: { ...COMPACT, 'segment.bytes': 2048, 'index.interval.bytes': 256 } });
    const keys = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    const produced: Written[] = [];
    for (let round = 0; round < 15; round++) {
      const batch = shuffled(keys, round).slice(0, 30).map((key) => ({ key, value: `${key}@${round}` }));
      produced.push(...(await produceBatch(engine, 'profiles', batch.slice(0, 10))), ...(await produceEach(engine, 'profiles', batch.slice(10))));
      // Deleted at round 10, some set again later.
      if (round === 10) produced.push(...(await produceEach(engine, 'profiles', keys.slice(0, 8).map((key) => ({ key, value: null })))));
    }
    const log = engine.partitionLog('profiles', 0);
    log.roll();
    const bytesBefore = log.sizeBytes();
    const segmentsBefore = log.segmentCount;

    const passes = (await engine.compactNow('profiles'))!.get(0)!;
    expect(passes).toHaveLength(1);
    expect(passes[0]).toMatchObject({ firstDirtyOffset: 0, endOffset: log.logEndOffset, recordsRead: produced.length });
    const expected = lastPerKey(produced);
    const survivors = written(await readAll(engine, 'profiles'));
    expect(survivors).toEqual(expected);
    expect(passes[0]!.recordsWritten).toBe(expected.length);
    expect(log.sizeBytes()).toBeLessThan(bytesBefore / 4);
    // Each segment was about segment.bytes before, so each group is one segment (Kafka groups by the sizes before).
    expect(log.segmentCount).toBe(segmentsBefore);
    expect(log.logEndOffset).toBe(produced.length);
    // The replaced segments' files wait out file.delete.delay.ms as *.deleted; nothing else is left.
    expect(leftovers(log.dir).filter((name) => !name.endsWith('.deleted'))).toEqual([]);
    // No batch without records is left (no idempotent producer here): a fetch never ends on one.
    expect(batchHeaders(engine, 'profiles').filter((header) => header.recordsCount === 0)).toEqual([]);

    // A reader starting at any removed offset goes on with the next record that survived. A batch
    // keeps its offset range, so a fetch may return a batch with no record at or past the offset
    // (all of them were below it): then the next fetch starts after that batch, as in Kafka.
    const surviving = new Set(expected.map((r) => r.offset));
    for (let offset = 0; offset < produced.length; offset++) {
      if (surviving.has(offset)) continue;
      let from = offset;
      let first: Written | undefined;
      while (first === undefined && from < produced.length) {
        const fetched = await engine.fetch('profiles', 0, { offset: from, maxBytes: 1 });
        first = written(fetched.records)[0];
        from = fetched.nextOffset;
      }
      expect(first).toEqual(expected.find((r) => r.offset > offset));
    }

    // Cleaned segments open as any others: same records after a restart, and the log goes on.
    await engine.close();
    const reopened = await openEngine(dataDir);
    expect(written(await readAll(reopened, 'profiles'))).toEqual(expected);
    const [ack] = await reopened.produce('profiles', [{ key: 'user-1', value: 'after' }]);
    expect(ack!.baseOffset).toBe(produced.length);
    await reopened.close();
  });

  it('keeps a tombstone until its segment is delete.retention.ms older than the clean part of the log, then removes it', async () => {
    const engine = await openEngine(tempDir());
    await engine.createTopic('t', { partitions: 1, config: { ...COMPACT, 'segment.bytes': 4096, 'delete.retention.ms': 60_000 } });
    const log = engine.partitionLog('t', 0);
    const deleted = Array.from({ length: 10 }, (_, i) => `gone-${i}`);
    await produceEach(engine, 't', deleted.map((key) => ({ key, value: 'v' })));
    const tombstones = await produceEach(engine, 't', deleted.map((key) => ({ key, value: null })));
    log.roll();
    // Segments of distinct keys that nothing removes: the tombstones' segment stays a group of its own.
    const filler = await produceEach(engine, 't', Array.from({ length: 30 }, (_, i) => ({ key: `keep-${i}`, value: 'x'.repeat(300) })));
    log.roll();

    await engine.compactNow('t');
    expect(written(await readAll(engine, 't'))).toEqual([...tombstones, ...filler]);
    expect(log.segmentBaseOffsets()[1]).toBeLessThanOrEqual(filler[0]!.offset);

    // Later passes measure the tombstones' segment against the last clean segment's modification time.
    const later: Written[] = [];
    const passWithTombstonesAged = async (ageMs: number) => {
      age(engine, 't', 0, ageMs);
      later.push(...(await produceEach(engine, 't', [{ key: `later-${later.length}`, value: 'y' }])));
      log.roll();
      return (await engine.compactNow('t')).get(0)!;
    };
    await passWithTombstonesAged(30_000);
    expect(written(await readAll(engine, 't'))).toEqual([...tombstones, ...filler, ...later]);
    const [pass] = await passWithTombstonesAged(120_000);
    expect(pass!.tombstonesRemoved).toBe(tombstones.length);
    expect(written(await readAll(engine, 't'))).toEqual([...filler, ...later]);
    await engine.close();
  });

  it('filters compressed batches and writes them back in their own codec', async () => {
    const engine = await openEngine(tempDir());
    await engine.createTopic('zipped', { partitions: 1, config: COMPACT });
    const produced: Written[] = [];
    const codecs = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
    for (let round = 0; round < 3; round++) {
      for (const codec of codecs) {
        produced.push(...(await produceBatch(engine, 'zipped', [0, 1, 2, 3, 4].map((i) => ({ key: `${codec}-${(i + round) % 4}`, value: `${codec}@${round}.${i}` })), codec)));
      }
    }
    const log = engine.partitionLog('zipped', 0);
    log.roll();
    await engine.compactNow('zipped');
    expect(written(await readAll(engine, 'zipped'))).toEqual(lastPerKey(produced));
    // Each surviving batch is still in its codec, with a fresh CRC (the engine checks it on read).
    const read = log.read(0, 1 << 20)!;
    const bytes = log.readBytes(read);
    const names: string[] = [];
    for (let at = 0; at < bytes.length; ) {
      const header = readBatchHeader(bytes, at);
      names.push(header.compressionName!);
      at += header.sizeBytes;
    }
    expect(new Set(names)).toEqual(new Set(codecs));
    await engine.close();
  });

  it('cleans only below the high watermark, in whole segments, and never the active segment', async () => {
    const engine = await openEngine(tempDir());
    await engine.createTopic('hw', { partitions: 1, config: { ...COMPACT, 'segment.bytes': 1024 } });
    const produced = await produceEach(engine, 'hw', Array.from({ length: 60 }, (_, i) => ({ key: `k${i % 5}`, value: `v${i}` })));
    const log = engine.partitionLog('hw', 0);
    const bases = log.segmentBaseOffsets();
    expect(bases.length).toBeGreaterThan(3);
    // A replicated log whose high watermark is inside its third segment.
    log.updateHighWatermark(bases[2]! + 1);
    await engine.compactNow('hw');
    const stats = engine.cleanerStats('hw', 0)!;
    expect(stats.firstDirtyOffset).toBe(bases[2]);
    expect(stats.firstUncleanableOffset).toBe(bases[2]);
    log.updateHighWatermark(log.logEndOffset);
    const below = produced.filter((r) => r.offset < bases[2]!);
    const above = produced.filter((r) => r.offset >= bases[2]!);
    // Below: each key's last record before the third segment (later ones were not in the map).
    expect(written(await readAll(engine, 'hw'))).toEqual([...lastPerKey(below), ...above]);
    await engine.close();
  });

  it('merges adjacent cleaned segments up to segment.bytes (groupSegmentsBySize)', async () => {
    const engine = await openEngine(tempDir());
    await engine.createTopic('groups', { partitions: 1, config: { ...COMPACT, 'segment.bytes': 4096 } });
    const log = engine.partitionLog('groups', 0);
    const produced: Written[] = [];
    for (let i = 0; i < 40; i++) {
      produced.push(...(await produceBatch(engine, 'groups', [{ key: `k${i % 3}`, value: `a${i}` }, { key: `unique-${i}`, value: 'u'.repeat(60) }])));
      log.roll();
    }
    await engine.compactNow('groups');
    expect(written(await readAll(engine, 'groups'))).toEqual(lastPerKey(produced));
    const segments = log.segmentList().slice(0, -1);
    expect(segments.length).toBeLessThan(10);
    for (const segment of segments) expect(segment.sizeBytes()).toBeLessThanOrEqual(4096);
    await engine.close();
  });

  it('keeps the first dirty offset in cleaner-offset-checkpoint across restarts', async () => {
    const dataDir = tempDir();
    let engine = await openEngine(dataDir);
    await engine.createTopic('cp', { partitions: 2, config: COMPACT });
    await produceEach(engine, 'cp', Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 4}`, value: `${i}` })));
    engine.partitionLog('cp', 0).roll();
    await engine.compactNow('cp');
    const text = fs.readFileSync(path.join(dataDir, CLEANER_OFFSET_CHECKPOINT_FILE), 'utf8');
    expect(text).toBe('0\n1\ncp 0 20\n');
    await engine.close();
    engine = await openEngine(dataDir);
    expect(engine.cleanerStats('cp', 0)).toMatchObject({ firstDirtyOffset: 20, dirtyRatio: 0, passes: 0 });
    expect((await engine.compactNow('cp', 0)).get(0)).toEqual([]);
    await engine.deleteTopic('cp');
    await engine.createTopic('other', { partitions: 1, config: COMPACT });
    await produceEach(engine, 'other', [{ key: 'a', value: '1' }]);
    engine.partitionLog('other', 0).roll();
    await engine.compactNow('other');
    // The deleted topic's entry is gone with it.
    expect(fs.readFileSync(path.join(dataDir, CLEANER_OFFSET_CHECKPOINT_FILE), 'utf8')).toBe('0\n1\nother 0 1\n');
    await engine.close();
  });

  it('throttles its reads and writes to log.cleaner.io.max.bytes.per.second', async () => {
    const engine = await openEngine(tempDir(), { 'log.cleaner.io.max.bytes.per.second': 1_000_000 });
    await engine.createTopic('slow', { partitions: 1, config: COMPACT });
    for (let i = 0; i < 40; i++) await produceBatch(engine, 'slow', Array.from({ length: 50 }, (_, j) => ({ key: `k${j}`, value: 'v'.repeat(500) })));
    engine.partitionLog('slow', 0).roll();
    const [pass] = (await engine.compactNow('slow')).get(0)!;
    // ~1 MB read for the map and ~1 MB for the cleaning at 1 MB/s: the throttle must have slept.
    expect(pass!.mapBytesRead + pass!.bytesRead).toBeGreaterThan(1_500_000);
    expect(pass!.throttledMs).toBeGreaterThan(0);
    await engine.close();
  });
});

describe('replication of a compacted log', () => {
  it('a follower copies the cleaned log batch for batch, gaps included, and ends where the leader does', async () => {
    const leader = await openEngine(tempDir());
    const follower = await openEngine(tempDir());
    for (const engine of [leader, follower]) await engine.createTopic('r', { partitions: 1, config: { ...COMPACT, 'segment.bytes': 1024 } });
    const produced = await produceEach(leader, 'r', Array.from({ length: 80 }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}` })));
    const source = leader.partitionLog('r', 0);
    source.roll();
    await leader.compactNow('r');
    const target = follower.partitionLog('r', 0);
    // The follower's fetch loop: from its log end, whatever the leader returns.
    while (target.logEndOffset < source.logEndOffset) {
      const read = source.read(target.logEndOffset, 300)!;
      target.appendAsFollower(source.readBytes(read));
    }
    expect(target.logEndOffset).toBe(source.logEndOffset);
    expect(written(await readAll(follower, 'r'))).toEqual(lastPerKey(produced));
    await Promise.all([leader.close(), follower.close()]);
  });
});

describe('a dedupe buffer too small for the dirty keys', () => {
  it('takes several passes, each going on where the last stopped, to the same result', async () => {
    // 40 slots: 36 keys a pass (load factor 0.9), for 150 keys.
    const engine = await openEngine(tempDir(), { 'log.cleaner.dedupe.buffer.size': 40 * 24 });
    await engine.createTopic('big', { partitions: 1, config: { ...COMPACT, 'segment.bytes': 2048 } });
    const keys = Array.from({ length: 150 }, (_, i) => `key-${i}`);
    const produced: Written[] = [];
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < keys.length; i += 25) {
        produced.push(...(await produceBatch(engine, 'big', shuffled(keys, round).slice(i, i + 25).map((key) => ({ key, value: `${key}@${round}` })))));
      }
    }
    const log = engine.partitionLog('big', 0);
    log.roll();
    const passes = (await engine.compactNow('big')).get(0)!;
    expect(passes.length).toBeGreaterThan(3);
    for (let i = 1; i < passes.length; i++) expect(passes[i]!.firstDirtyOffset).toBe(passes[i - 1]!.endOffset);
    for (const pass of passes) expect(pass.bufferUtilization).toBeLessThanOrEqual(36 / 40);
    expect(passes.at(-1)!.endOffset).toBe(log.logEndOffset);
    expect(written(await readAll(engine, 'big'))).toEqual(lastPerKey(produced));
    await engine.close();
  });
});

describe('cleanup.policy', () => {
  it('compact,delete: retention deletes old segments and the cleaner compacts the rest', async () => {
    let nowMs = Date.now();
    const engine = await openEngine(tempDir(), {}, { nowMs: () => nowMs });
    await engine.createTopic('both', { partitions: 1, config: { 'cleanup.policy': 'compact,delete', 'retention.ms': 3_600_000, 'segment.bytes': 1024 } });
    await engine.createTopic('compact-only', { partitions: 1, config: { ...COMPACT, 'retention.ms': 3_600_000, 'segment.bytes': 1024 } });
    const old: Record<string, Written[]> = {};
    for (const topic of ['both', 'compact-only']) {
      old[topic] = await produceEach(engine, topic, Array.from({ length: 30 }, (_, i) => ({ key: `old-${i % 3}`, value: `o${i}` })));
      engine.partitionLog(topic, 0).roll();
      await engine.compactNow(topic);
      expect(written(await readAll(engine, topic))).toEqual(lastPerKey(old[topic]!));
    }
    // Two hours on, new records: the old segments are past retention.ms.
    nowMs += 2 * 3_600_000;
    for (const topic of ['both', 'compact-only']) {
      const fresh = await produceEach(engine, topic, Array.from({ length: 30 }, (_, i) => ({ key: `new-${i % 3}`, value: 'n'.repeat(20) + i, timestamp: nowMs })));
      engine.partitionLog(topic, 0).roll();
      // The pass runs the retention of a compact,delete log when it ends, as Kafka's cleaner does.
      await engine.compactNow(topic);
      const expected = topic === 'both' ? lastPerKey(fresh) : lastPerKey([...old[topic]!, ...fresh]);
      expect(written(await readAll(engine, topic))).toEqual(expected);
    }
    expect(engine.earliestOffset('both', 0)).toBeGreaterThanOrEqual(30);
    expect(engine.earliestOffset('compact-only', 0)).toBe(0);
    await engine.close();
  });

  it('a topic whose policy turns to compact at runtime is cleaned; delete alone is not', async () => {
    const engine = await openEngine(tempDir(), { 'log.cleaner.enable': true, 'log.cleaner.backoff.ms': 20 });
    await engine.createTopic('late', { partitions: 1, config: { 'cleanup.policy': 'delete' } });
    const produced = await produceEach(engine, 'late', Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 2}`, value: `${i}` })));
    engine.partitionLog('late', 0).roll();
    expect(engine.cleanerStats('late', 0)).toBeUndefined();
    expect((await engine.compactNow('late')).get(0)).toEqual([]);
    await engine.alterTopicConfig('late', { 'cleanup.policy': 'compact' });
    await waitFor(() => engine.cleanerStats('late', 0)!.passes >= 1);
    expect(written(await readAll(engine, 'late'))).toEqual(lastPerKey(produced));
    await engine.close();
  });

  it('refuses records without a key on a compacted topic (INVALID_RECORD), compressed or not, from leader appends only', async () => {
    const engine = await openEngine(tempDir());
    await engine.createTopic('keyed', { partitions: 1, config: COMPACT });
    for (const compression of [undefined, 'gzip'] as const) {
      const refusal = await engine.produce('keyed', [{ key: 'a', value: '1' }, { value: 'no key' }, { value: null }], { partition: 0, compression }).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(SluiceError);
      expect(refusal).toMatchObject({
        code: 'INVALID_RECORD',
        recordErrors: [
          { batchIndex: 1, message: 'Compacted topic cannot accept message without key in topic partition keyed-0.' },
          { batchIndex: 2, message: 'Compacted topic cannot accept message without key in topic partition keyed-0.' },
        ],
      });
    }
    expect(engine.latestOffset('keyed', 0)).toBe(0);
    // A follower stores what its leader wrote.
    const log = engine.partitionLog('keyed', 0);
    expect(log.appendAsFollower(encodeBatch([{ value: 'from the leader' }], { baseOffset: 0 })).lastOffset).toBe(0);
    // Turned to delete at runtime: keyless records are accepted again.
    await engine.alterTopicConfig('keyed', { 'cleanup.policy': 'delete' });
    await engine.produce('keyed', [{ value: 'fine' }], { partition: 0 });
    await engine.alterTopicConfig('keyed', { 'cleanup.policy': 'compact,delete' });
    await expect(engine.produce('keyed', [{ value: 'refused' }], { partition: 0 })).rejects.toMatchObject({ code: 'INVALID_RECORD' });
    await engine.close();
  });
});

describe('the background cleaner', () => {
  it('cleans a log once its dirty ratio reaches min.cleanable.dirty.ratio, and reports it', async () => {
    const engine = await openEngine(tempDir(), { 'log.cleaner.enable': true, 'log.cleaner.backoff.ms': 20 });
    await engine.createTopic('bg', { partitions: 1, config: { ...COMPACT, 'min.cleanable.dirty.ratio': 0.5 } });
    const log = engine.partitionLog('bg', 0);
    const first = await produceEach(engine, 'bg', Array.from({ length: 100 }, (_, i) => ({ key: `k${i % 10}`, value: `first-${i}` })));
    // Nothing is cleanable while it is all in the active segment.
    expect(engine.cleanerStats('bg', 0)).toMatchObject({ dirtyBytes: 0, dirtyRatio: 0, passes: 0 });
    log.roll();
    await waitFor(() => engine.cleanerStats('bg', 0)!.passes === 1);
    const stats = engine.cleanerStats('bg', 0)!;
    expect(stats).toMatchObject({ firstDirtyOffset: 100, dirtyRatio: 0, inProgress: false, uncleanable: null });
    expect(stats.lastCleanedMs).toBeGreaterThan(0);
    expect(stats.bytesWritten).toBeGreaterThan(0);
    expect(written(await readAll(engine, 'bg'))).toEqual(lastPerKey(first));

    // A dirty part smaller than the clean part is left alone.
    const second = await produceEach(engine, 'bg', [{ key: 'k1', value: 'second' }]);
    log.roll();
    expect(engine.cleanerStats('bg', 0)!.dirtyRatio).toBeLessThan(0.5);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(engine.cleanerStats('bg', 0)!.passes).toBe(1);
    // ... until it grows past it.
    const third = await produceEach(engine, 'bg', Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 10}`, value: `third-${i}` })));
    log.roll();
    await waitFor(() => engine.cleanerStats('bg', 0)!.passes === 2);
    expect(written(await readAll(engine, 'bg'))).toEqual(lastPerKey([...first, ...second, ...third]));
    await engine.close();
  });

  it('cleans on log.cleaner.threads threads, and not at all with log.cleaner.enable=false', async () => {
    const engine = await openEngine(tempDir(), { 'log.cleaner.enable': true, 'log.cleaner.backoff.ms': 20, 'log.cleaner.threads': 2 });
    const off = await openEngine(tempDir(), { 'log.cleaner.backoff.ms': 20 });
    const produced: Record<string, Written[]> = {};
    for (const topic of ['one', 'two']) {
      for (const e of [engine, off]) await e.createTopic(topic, { partitions: 1, config: COMPACT });
      for (const e of [engine, off]) {
        produced[topic] = await produceEach(e, topic, Array.from({ length: 200 }, (_, i) => ({ key: `k${i % 10}`, value: `${topic}-${i}` })));
        e.partitionLog(topic, 0).roll();
      }
    }
    await waitFor(() => ['one', 'two'].every((topic) => engine.cleanerStats(topic, 0)!.passes === 1));
    for (const topic of ['one', 'two']) expect(written(await readAll(engine, topic))).toEqual(lastPerKey(produced[topic]!));
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const topic of ['one', 'two']) expect(off.cleanerStats(topic, 0)).toMatchObject({ dirtyRatio: 1, passes: 0 });
    await Promise.all([engine.close(), off.close()]);
  });

  it('min.compaction.lag.ms keeps young segments dirty; max.compaction.lag.ms cleans an old dirty part whatever its ratio', async () => {
    let nowMs = Date.now();
    const engine = await openEngine(tempDir(), { 'log.cleaner.enable': true, 'log.cleaner.backoff.ms': 20 }, { nowMs: () => nowMs });
    await engine.createTopic('lag', { partitions: 1, config: { ...COMPACT, 'min.compaction.lag.ms': 60_000, 'min.cleanable.dirty.ratio': 0.9 } });
    const log = engine.partitionLog('lag', 0);
    const first = await produceEach(engine, 'lag', Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 5}`, value: `${i}` })));
    log.roll();
    expect(engine.cleanerStats('lag', 0)).toMatchObject({ dirtyBytes: 0, firstUncleanableOffset: 0 });
    expect((await engine.compactNow('lag')).get(0)).toEqual([]);
    nowMs += 120_000;
    await waitFor(() => engine.cleanerStats('lag', 0)!.passes === 1);
    expect(written(await readAll(engine, 'lag'))).toEqual(lastPerKey(first));

    // A small dirty part (ratio well below 0.9) waits, until max.compaction.lag.ms passes.
    await engine.alterTopicConfig('lag', { 'min.compaction.lag.ms': 0, 'max.compaction.lag.ms': 3_600_000 });
    const second = await produceEach(engine, 'lag', [{ key: 'k1', value: 'x', timestamp: nowMs }]);
    log.roll();
    expect(engine.cleanerStats('lag', 0)).toMatchObject({ needCompactionNow: false, passes: 1 });
    expect(engine.cleanerStats('lag', 0)!.dirtyRatio).toBeLessThan(0.9);
    nowMs += 2 * 3_600_000;
    expect(engine.cleanerStats('lag', 0)!.needCompactionNow).toBe(true);
    await waitFor(() => engine.cleanerStats('lag', 0)!.passes === 2);
    expect(written(await readAll(engine, 'lag'))).toEqual(lastPerKey([...first, ...second]));
    await engine.close();
  });
});

describe('idempotent producers', () => {
  it('keep their state through cleaning and a restart: the next sequence is accepted, a retry is still a duplicate', async () => {
    const dataDir = tempDir();
    let engine = await openEngine(dataDir);
    await engine.createTopic('idem', { partitions: 1, config: COMPACT });
    const send = (producerId: number, baseSequence: number, key: string, value: string) =>
      engine.appendBatches('idem', 0, encodeBatch([{ key, value }], { producerId, producerEpoch: 0, baseSequence }));
    // Producer 7 writes k twice; producer 8 writes k last of all but then... producer 7 overwrites k,
    // so every record of producer 8 is superseded: its last batch stays, empty.
    await send(7, 0, 'k', 'a');
    await send(8, 0, 'k', 'b');
    await send(8, 1, 'k', 'c');
    await send(7, 1, 'k', 'd');
    await send(7, 2, 'other', 'e');
    const lastOf8 = { baseOffset: 2, lastOffset: 2 };
    engine.partitionLog('idem', 0).roll();
    await engine.compactNow('idem');
    expect(written(await readAll(engine, 'idem'))).toEqual([
      { offset: 3, key: 'k', value: 'd' },
      { offset: 4, key: 'other', value: 'e' },
    ]);
    // The empty batch of producer 8 is in the log: its offset and sequence, no records.
    const log = engine.partitionLog('idem', 0);
    const bytes = log.readBytes(log.read(0, 1 << 20)!);
    const first = readBatchHeader(bytes, 0);
    expect(first).toMatchObject({ baseOffset: 2, lastOffset: 2, producerId: 8, baseSequence: 1, recordsCount: 0 });

    // The state is rebuilt from the cleaned log alone (no snapshot).
    await engine.close();
    fs.rmSync(path.join(dataDir, 'idem-0', PRODUCER_SNAPSHOT_FILE));
    engine = await openEngine(dataDir);
    const retry = await send(8, 1, 'k', 'c');
    expect(retry).toMatchObject({ duplicate: true, baseOffset: lastOf8.baseOffset, lastOffset: lastOf8.lastOffset });
    await expect(send(8, 5, 'k', 'gap')).rejects.toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    expect(await send(8, 2, 'k', 'f')).toMatchObject({ duplicate: false, baseOffset: 5 });
    expect(await send(7, 3, 'k', 'g')).toMatchObject({ duplicate: false, baseOffset: 6 });
    await engine.close();
  });
});

async function waitFor(condition: () => boolean, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
