import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { Engine, SluiceError, partitionForKey } from '../../src/index.js';
import { encodeBatch } from '../../src/record/batch.js';
import { runFixture } from '../fixtures/child.js';
import { tempDir } from '../helpers.js';

describe('Engine: the README example', () => {
  it('creates a topic, produces, fetches and closes', async () => {
    const engine = await Engine.open({ dataDir: tempDir() });
    await engine.createTopic('events', { partitions: 3, config: { 'retention.ms': 86_400_000 } });
    const acks = await engine.produce('events', [{ key: 'user-1', value: 'clicked', headers: { source: 'web' } }]);
    expect(acks).toHaveLength(1);
    const { partition, baseOffset } = acks[0]!;
    expect(partition).toBe(partitionForKey('user-1', 3));
    expect(baseOffset).toBe(0);
    const { records, nextOffset, highWatermark } = await engine.fetch('events', partition, { offset: 0, maxBytes: 1 << 20 });
    expect(nextOffset).toBe(1);
    expect(highWatermark).toBe(1);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ offset: 0, key: Buffer.from('user-1'), value: Buffer.from('clicked') });
    expect(records[0]!.headers).toEqual([{ key: 'source', value: Buffer.from('web') }]);
    expect(typeof records[0]!.timestamp).toBe('number');
    await engine.close();
  });
});

describe('Engine topics', () => {
  it('deletes a topic\'s logs together: no log directory at once, no files once closed; the name starts empty again', async () => {
    const dataDir = tempDir();
    // What a crash in the middle of removing a deleted log leaves: the next open removes it.
    fs.mkdirSync(path.join(dataDir, 'gone-0.0123abcd-delete'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'gone-0.0123abcd-delete', '00000000000000000000.log'), 'left by a crash');
    let engine = await Engine.open({ dataDir });
    expect(fs.readdirSync(dataDir).filter((name) => name.endsWith('-delete'))).toEqual([]);
    await engine.createTopic('d', { partitions: 8 });
    for (let partition = 0; partition < 8; partition++) await engine.produce('d', [{ value: `record of ${partition}` }], { partition });
    await engine.deleteTopic('d');
    expect(fs.readdirSync(dataDir).filter((name) => /^d-\d+$/.test(name))).toEqual([]);
    await engine.createTopic('d', { partitions: 8 });
    for (let partition = 0; partition < 8; partition++) expect(engine.latestOffset('d', partition)).toBe(0);
    await engine.close();
    expect(fs.readdirSync(dataDir).filter((name) => name.endsWith('-delete'))).toEqual([]);
    engine = await Engine.open({ dataDir });
    expect(engine.describeTopic('d').partitions.map(({ logEndOffset }) => logEndOffset)).toEqual(Array(8).fill(0));
    await engine.close();
  });

  it('lists, describes, alters and deletes topics, and persists them with their configs', async () => {
    const dataDir = tempDir();
    let engine = await Engine.open({ dataDir, config: { 'num.partitions': 2 } });
    await engine.createTopic('a');
    await engine.createTopic('b.events', { partitions: 4, config: { 'segment.bytes': 1_000_000, 'cleanup.policy': 'delete' } });
    expect(engine.listTopics()).toEqual(['a', 'b.events']);
    const described = engine.describeTopic('b.events');
    expect(described.partitions).toHaveLength(4);
    expect(described.config['segment.bytes']).toBe('1000000');
    expect(described.config['retention.ms']).toBe('604800000');
    expect(described.overrides).toEqual({ 'segment.bytes': '1000000', 'cleanup.policy': 'delete' });
    expect(engine.describeTopic('a').partitions).toHaveLength(2);
    await engine.alterTopicConfig('a', { 'retention.ms': 1000 });
    await engine.close();

    engine = await Engine.open({ dataDir });
    expect(engine.listTopics()).toEqual(['a', 'b.events']);
    expect(engine.describeTopic('b.events').config['segment.bytes']).toBe('1000000');
    expect(engine.describeTopic('a').config['retention.ms']).toBe('1000');
    const id = engine.describeTopic('a').id;
    await engine.deleteTopic('a');
    expect(engine.listTopics()).toEqual(['b.events']);
    expect(fs.existsSync(path.join(dataDir, 'a-0'))).toBe(false);
    await engine.createTopic('a', { partitions: 1 });
    expect(engine.describeTopic('a').id).not.toBe(id);
    await engine.createPartitions('a', 3);
    expect(engine.describeTopic('a').partitions).toHaveLength(3);
    await engine.close();
  });

  it('refuses bad topics with Kafka error names', async () => {
    const engine = await Engine.open({ dataDir: tempDir() });
    for (const name of ['', '.', '..', 'a/b', 'x'.repeat(250), 'spa ce', 'ünï']) {
      await expect(engine.createTopic(name)).rejects.toMatchObject({ code: 'INVALID_TOPIC_EXCEPTION' });
    }
    await engine.createTopic('t.1');
    await expect(engine.createTopic('t.1')).rejects.toMatchObject({ code: 'TOPIC_ALREADY_EXISTS' });
    await expect(engine.createTopic('t_1')).rejects.toMatchObject({ code: 'INVALID_TOPIC_EXCEPTION' });
    await expect(engine.createTopic('p', { partitions: 0 })).rejects.toMatchObject({ code: 'INVALID_PARTITIONS' });
    await expect(engine.createTopic('r', { replicationFactor: 3 })).rejects.toMatchObject({ code: 'INVALID_REPLICATION_FACTOR' });
    await expect(engine.createTopic('c', { config: { 'retention.ms': 'soon' } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(engine.createTopic('c', { config: { 'no.such.config': 1 } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    expect(engine.listTopics()).toEqual(['t.1']);
    await expect(engine.produce('nope', [{ value: 'x' }])).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await expect(engine.fetch('t.1', 1, { offset: 0 })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await expect(engine.produce('t.1', [{ value: 'x', partition: 5 }])).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await expect(engine.deleteTopic('nope')).rejects.toBeInstanceOf(SluiceError);
    await engine.close();
  });
});

describe("Engine: a cluster broker's copy of a topic", () => {
  // Log directories only: a deleted log's, renamed to *-delete, is removed in the background.
  const directories = (dataDir: string, topic: string) =>
    fs
      .readdirSync(dataDir)
      .filter((name) => name.startsWith(`${topic}-`) && /^\d+$/.test(name.slice(topic.length + 1)))
      .map((name) => Number(name.slice(topic.length + 1)))
      .sort((a, b) => a - b);

  it('holds the logs of the partitions it hosts only, as partitions are added, moved and the directory reopened', async () => {
    const dataDir = tempDir();
    let engine = await Engine.open({ dataDir });
    const replicaOf = { id: '6a0b7d5e-0000-4000-8000-000000000001', replicationFactor: 2, hosted: [2, 0] };
    await engine.createTopic('r', { partitions: 4, replicaOf });
    expect(directories(dataDir, 'r')).toEqual([0, 2]);
    expect(engine.partitionCount('r')).toBe(4);
    expect(engine.describeTopic('r')).toMatchObject({ partitionCount: 4, partitions: [{ partition: 0 }, { partition: 2 }] });
    await engine.produce('r', [{ value: 'here' }], { partition: 2 });
    await expect(engine.produce('r', [{ value: 'not here' }], { partition: 1 })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(() => engine.partitionLog('r', 3)).toThrow(/does not host this topic-partition: r-3/);

    // New partitions: which of them are here must be said; the hosted list is checked.
    await expect(engine.createPartitions('r', 6)).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(engine.createPartitions('r', 6, { hosted: [0, 2, 6] })).rejects.toMatchObject({ code: 'INVALID_PARTITIONS' });
    await engine.createPartitions('r', 6, { hosted: [0, 2, 5], validateOnly: true });
    expect(directories(dataDir, 'r')).toEqual([0, 2]);
    await engine.createPartitions('r', 6, { hosted: [0, 2, 5] });
    expect(directories(dataDir, 'r')).toEqual([0, 2, 5]);

    // A replica moved: the log that left is deleted, the one that came is opened empty.
    engine.hostPartitions('r', [1, 2, 5]);
    expect(directories(dataDir, 'r')).toEqual([1, 2, 5]);
    expect(engine.latestOffset('r', 2)).toBe(1);
    expect(engine.latestOffset('r', 1)).toBe(0);
    await engine.alterTopicConfig('r', { 'retention.ms': 1000 });
    await engine.close();

    // A directory the topic does not host here (what a crash inside hostPartitions leaves) goes on open.
    fs.mkdirSync(path.join(dataDir, 'r-3'));
    engine = await Engine.open({ dataDir });
    expect(directories(dataDir, 'r')).toEqual([1, 2, 5]);
    expect(engine.describeTopic('r')).toMatchObject({ partitionCount: 6, overrides: { 'retention.ms': '1000' } });
    expect(engine.latestOffset('r', 2)).toBe(1);
    await engine.deleteTopic('r');
    expect(directories(dataDir, 'r')).toEqual([]);
    await engine.close();
  });
});

describe('Engine produce and fetch', () => {
  it('places records like the Java client: explicit partition, key hash, one sticky partition per call', async () => {
    const engine = await Engine.open({ dataDir: tempDir() });
    await engine.createTopic('p', { partitions: 6 });
    const keys = Array.from({ length: 50 }, (_, i) => `key-${i}`);
    const acks = await engine.produce('p', keys.map((key) => ({ key, value: key })));
    const expectedPartitions = new Set(keys.map((key) => partitionForKey(key, 6)));
    expect(new Set(acks.map((a) => a.partition))).toEqual(expectedPartitions);
    for (const ack of acks) {
      const { records } = await engine.fetch('p', ack.partition, { offset: ack.baseOffset });
      for (const record of records) expect(partitionForKey(record.key!, 6)).toBe(ack.partition);
    }
    const keyless = await engine.produce('p', Array.from({ length: 20 }, (_, i) => ({ value: `v${i}` })));
    expect(keyless).toHaveLength(1); // one batch: every keyless record of the call on one partition
    const pinned = await engine.produce('p', [{ key: 'x', value: '1' }, { value: '2' }], { partition: 4 });
    expect(pinned).toEqual([expect.objectContaining({ partition: 4 })]);
    await engine.close();
  });

  it('round-trips keys, values, null keys, null values, headers and gzip batches', async () => {
    const engine = await Engine.open({ dataDir: tempDir() });
    await engine.createTopic('r');
    const input = [
      { key: null, value: 'no key', timestamp: 1_600_000_000_000 },
      { key: 'tombstone', value: null },
      { key: Buffer.from([0, 1, 2]), value: Buffer.alloc(5000, 7), headers: [{ key: 'h', value: 'a' }, { key: 'h', value: null }] },
    ];
    await engine.produce('r', input, { partition: 0 });
    await engine.produce('r', input, { partition: 0, compression: 'gzip' });
    const { records, nextOffset } = await engine.fetch('r', 0, { offset: 0 });
    expect(nextOffset).toBe(6);
    for (const base of [0, 3]) {
      expect(records[base]).toMatchObject({ offset: base, key: null, value: Buffer.from('no key'), timestamp: 1_600_000_000_000 });
      expect(records[base + 1]).toMatchObject({ key: Buffer.from('tombstone'), value: null });
      expect(records[base + 2]!.value).toEqual(Buffer.alloc(5000, 7));
      expect(records[base + 2]!.headers).toEqual([{ key: 'h', value: Buffer.from('a') }, { key: 'h', value: null }]);
    }
    const fromMiddle = await engine.fetch('r', 0, { offset: 4 });
    expect(fromMiddle.records.map((r) => r.offset)).toEqual([4, 5]);
    await engine.close();
  });

  it('writes the bytes encodeBatch writes, one batch per partition, and reuses its buffer safely', async () => {
    const engine = await Engine.open({ dataDir: tempDir() });
    await engine.createTopic('b', { partitions: 3 });
    const make = (from: number, keyed: boolean) =>
      Array.from({ length: 100 }, (_, n) => {
        const i = from + n;
        return {
          key: keyed ? `k${i % 5}` : i % 7 === 0 ? null : Buffer.from([i & 255]),
          value: i % 2 ? Buffer.alloc(i, i) : `v-${i}-é`,
          headers: i % 3 ? { h: `x${i}`, many: ['a', null] } : [{ key: 'ü', value: Buffer.from([i & 255]) }],
          timestamp: 1_700_000_000_000 + (i % 11) - 5,
          partition: i % 10 === 0 ? 2 : undefined,
        };
      });
    const calls = [
      { records: make(0, false), options: { partition: 1 } },
      { records: make(100, true), options: { sync: true } },
      { records: make(200, false), options: { partition: 0, sync: true } },
    ];
    // Calls that do not await one another: each call's batches are appended before the next encodes.
    const acks = await Promise.all(calls.map(({ records, options }) => engine.produce('b', records, options)));
    for (const [call, { records, options }] of calls.entries()) {
      const placed = (r: (typeof records)[number]) => r.partition ?? options.partition ?? partitionForKey(r.key as string, 3);
      expect(acks[call]!.map((ack) => ack.partition).sort()).toEqual([...new Set(records.map(placed))].sort());
      for (const ack of acks[call]!) {
        const read = engine.read('b', ack.partition, ack.baseOffset, 1 << 20, ack.lastOffset + 1)!;
        const stored = await read.segment.readBytesAsync(read.region.position, read.region.sizeBytes);
        const expected = encodeBatch(records.filter((r) => placed(r) === ack.partition), { baseOffset: ack.baseOffset });
        expect(stored.subarray(0, expected.length).equals(expected)).toBe(true);
      }
    }
    await engine.close();
  });

  it('refuses a malformed record, a bad partition or a keyless record on a compacted topic, appending nothing', async () => {
    const engine = await Engine.open({ dataDir: tempDir() });
    await engine.createTopic('v', { partitions: 2 });
    await engine.createTopic('compacted', { partitions: 1, config: { 'cleanup.policy': 'compact' } });
    const good = { key: 'a', value: 'ok' };
    await expect(engine.produce('v', [good, { value: 42 as unknown as string }], { partition: 0 })).rejects.toMatchObject({ code: 'INVALID_RECORD', message: expect.stringContaining('record 1') });
    await expect(engine.produce('v', [good, { value: 'x', timestamp: -5 }])).rejects.toMatchObject({ code: 'INVALID_RECORD' });
    await expect(engine.produce('v', [good, { value: 'x', headers: [{ key: 1 as unknown as string, value: 'x' }] }], { partition: 1 })).rejects.toMatchObject({ code: 'INVALID_RECORD' });
    await expect(engine.produce('v', [good, { value: 'x', partition: 2 }], { partition: 0 })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await expect(engine.produce('v', [good], { partition: -1 })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await expect(engine.produce('v', [])).rejects.toMatchObject({ code: 'INVALID_RECORD' });
    // Not a TypeError from deep inside: a record that is not an object, records that are not an array.
    await expect(engine.produce('v', [good, null as unknown as typeof good])).rejects.toMatchObject({ code: 'INVALID_RECORD', message: 'record 1 is not an object' });
    await expect(engine.produce('v', good as unknown as [typeof good])).rejects.toMatchObject({ code: 'INVALID_RECORD', message: 'produce takes an array of records, not object' });
    await expect(engine.produce('compacted', [good, { value: 'no key' }], { partition: 0 })).rejects.toMatchObject({ code: 'INVALID_RECORD' });
    expect([engine.latestOffset('v', 0), engine.latestOffset('v', 1), engine.latestOffset('compacted', 0)]).toEqual([0, 0, 0]);
    await engine.produce('compacted', [good], { partition: 0 });
    expect(engine.latestOffset('compacted', 0)).toBe(1);
    // Timestamp bounds hold on produce's path too (the encoder's summary stands in for the walk).
    await engine.createTopic('bounded', { config: { 'message.timestamp.before.max.ms': 60_000 } });
    await expect(engine.produce('bounded', [good, { value: 'old', timestamp: Date.now() - 3_600_000 }], { partition: 0 })).rejects.toMatchObject({ code: 'INVALID_TIMESTAMP' });
    await engine.produce('bounded', [{ value: 'unknown time', timestamp: -1 }, good], { partition: 0 });
    expect(engine.latestOffset('bounded', 0)).toBe(2);
    await engine.close();
  });

  it('lets an append listener produce while a call is announcing its batches', async () => {
    const engine = await Engine.open({ dataDir: tempDir() });
    await engine.createTopic('l', { partitions: 2 });
    const echoes: Array<Promise<unknown>> = [];
    engine.onAppend((topic, partition) => {
      if (topic === 'l') echoes.push(engine.produce('echo', [{ value: Buffer.alloc(2000, partition + 1) }], { partition: 0 }));
    });
    await engine.createTopic('echo');
    await engine.produce('l', [{ value: 'p0', partition: 0 }, { value: 'p1', partition: 1 }]);
    await Promise.all(echoes);
    for (const partition of [0, 1]) {
      expect((await engine.fetch('l', partition, { offset: 0 })).records.map((r) => r.value!.toString())).toEqual([`p${partition}`]);
    }
    const echoed = (await engine.fetch('echo', 0, { offset: 0 })).records.map((r) => r.value![0]);
    expect(echoed.sort()).toEqual([1, 2]);
    await engine.close();
  });

  it('keeps and announces the batches appended before one that fails, as before', async () => {
    const engine = await Engine.open({ dataDir: tempDir() });
    await engine.createTopic('m', { partitions: 2, config: { 'max.message.bytes': 2000 } });
    const announced: number[] = [];
    engine.onAppend((_, partition) => announced.push(partition));
    const records = [{ value: 'small', partition: 0 }, { value: Buffer.alloc(3000), partition: 1 }];
    await expect(engine.produce('m', records, { sync: true })).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    expect(announced).toEqual([0]);
    expect([engine.latestOffset('m', 0), engine.latestOffset('m', 1)]).toEqual([1, 0]);
    await engine.close();
  });

  it('appends producer-encoded batches as they are, and refuses corrupt or oversized ones', async () => {
    const engine = await Engine.open({ dataDir: tempDir(), config: { 'message.max.bytes': 2000 } });
    await engine.createTopic('raw');
    const batch = encodeBatch([{ value: 'a' }, { value: 'b' }]);
    expect(await engine.appendBatches('raw', 0, batch)).toMatchObject({ baseOffset: 0, lastOffset: 1 });
    const corrupt = Buffer.from(batch);
    corrupt[corrupt.length - 2] ^= 1;
    await expect(engine.appendBatches('raw', 0, corrupt)).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
    await expect(engine.produce('raw', [{ value: Buffer.alloc(3000) }])).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    expect(engine.latestOffset('raw', 0)).toBe(2);
    await expect(engine.fetch('raw', 0, { offset: 3 })).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    await engine.close();
  });

  it('answers offsets: earliest, latest, by timestamp; delete-records moves the earliest', async () => {
    const dataDir = tempDir();
    let engine = await Engine.open({ dataDir });
    await engine.createTopic('o');
    for (let i = 0; i < 10; i++) await engine.produce('o', [{ value: `v${i}`, timestamp: 1000 * (i + 1) }]);
    expect(engine.earliestOffset('o', 0)).toBe(0);
    expect(engine.latestOffset('o', 0)).toBe(10);
    expect(engine.offsetForTimestamp('o', 0, 4500)).toEqual({ offset: 4, timestamp: 5000 });
    expect(engine.offsetForTimestamp('o', 0, 99_999)).toBeNull();
    expect(await engine.deleteRecords('o', 0, 6)).toBe(6);
    expect(engine.earliestOffset('o', 0)).toBe(6);
    await expect(engine.fetch('o', 0, { offset: 5 })).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    await engine.close();
    engine = await Engine.open({ dataDir });
    expect(engine.earliestOffset('o', 0)).toBe(6);
    expect((await engine.fetch('o', 0, { offset: 6 })).records[0]!.value!.toString()).toBe('v6');
    await engine.close();
  });

  it('refuses every call after close with ENGINE_CLOSED', async () => {
    const engine = await Engine.open({ dataDir: tempDir() });
    await engine.createTopic('c');
    await engine.close();
    await expect(engine.produce('c', [{ value: 'x' }])).rejects.toMatchObject({ code: 'ENGINE_CLOSED' });
    await expect(engine.fetch('c', 0, { offset: 0 })).rejects.toMatchObject({ code: 'ENGINE_CLOSED' });
    expect(() => engine.listTopics()).toThrow(expect.objectContaining({ code: 'ENGINE_CLOSED' }));
    await engine.close(); // idempotent
  });
});

describe('Engine data directory lock', () => {
  it('refuses a second engine on the same directory, and a killed holder does not leave it locked', async () => {
    const dataDir = tempDir();
    const first = await Engine.open({ dataDir });
    await expect(Engine.open({ dataDir })).rejects.toMatchObject({ code: 'DATA_DIR_LOCKED' });
    await first.close();

    const child = runFixture('hold-lock.ts', [dataDir]);
    await child.waitFor('ready');
    await expect(Engine.open({ dataDir })).rejects.toMatchObject({ code: 'DATA_DIR_LOCKED' });
    child.process.kill('SIGKILL');
    await child.exited;
    const after = await Engine.open({ dataDir });
    expect(after.startup.cleanShutdown).toBe(false);
    await after.close();
  });

  it('keeps data across a clean close and reopen, and records the clean shutdown', async () => {
    const dataDir = tempDir();
    let engine = await Engine.open({ dataDir });
    await engine.createTopic('k', { partitions: 2 });
    await engine.produce('k', [{ value: 'x' }, { value: 'y' }], { partition: 1 });
    await engine.close();
    engine = await Engine.open({ dataDir });
    expect(engine.startup.cleanShutdown).toBe(true);
    expect((await engine.fetch('k', 1, { offset: 0 })).records.map((r) => r.value!.toString())).toEqual(['x', 'y']);
    await engine.close();
  });
});

describe('Engine.truncateTo after compaction', () => {
  it('ends the log at the target where compaction emptied the segment holding it, so a follower fetches from there', async () => {
    const engine = await Engine.open({ dataDir: tempDir() });
    await engine.createTopic('compacted', { config: { 'cleanup.policy': 'compact', 'segment.bytes': 1024, 'min.cleanable.dirty.ratio': 0.01 } });
    // 20 rounds of the same 10 keys: compaction keeps the last round's values only.
    for (let round = 0; round < 20; round++) await engine.produce('compacted', Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `round ${round}` })), { partition: 0 });
    await engine.compactNow('compacted', 0);
    expect((await engine.fetch('compacted', 0, { offset: 50, maxBytes: 1 << 20 })).records[0]!.offset).toBeGreaterThan(80);
    expect(engine.truncateTo('compacted', 0, 50)).toBe(true);
    expect(engine.latestOffset('compacted', 0)).toBe(50);
    const [ack] = await engine.produce('compacted', [{ key: 'k0', value: 'after' }], { partition: 0 });
    expect(ack!.baseOffset).toBe(50);
    await engine.close();
  });
});
