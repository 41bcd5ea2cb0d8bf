import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { encodeBatch, decodeBatch, iterateBatches } from '../../src/record/batch.js';
import { Log } from '../../src/storage/log.js';
import { resolveLogConfig, type LogConfig } from '../../src/storage/log-config.js';
import { Segment } from '../../src/storage/segment.js';
import { isSluiceError } from '../../src/errors.js';
import { payload, tempDir } from '../helpers.js';

function config(overrides: Record<string, string | number> = {}): LogConfig {
  return resolveLogConfig(overrides);
}

/** A batch of `count` 100-byte records with timestamps from `timestamp`. */
function batch(count: number, timestamp = 1_700_000_000_000, seed = 0): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ key: `k${seed + i}`, value: payload(seed + i), timestamp: timestamp + i }));
  return encodeBatch(records, { now: timestamp });
}

function readAll(log: Log, from = log.logStartOffset): number[] {
  const offsets: number[] = [];
  let offset = from;
  for (;;) {
    const read = log.read(offset, 1 << 20);
    if (!read) return offsets;
    const bytes = log.readBytes(read);
    for (const { at } of iterateBatches(bytes)) {
      for (const record of decodeBatch(bytes, at).records) if (record.offset >= offset) offsets.push(record.offset);
    }
    offset = read.region.lastOffset + 1;
  }
}

function openLog(dir: string, overrides: Record<string, string | number> = {}, nowMs?: () => number): Log {
  return Log.open({ dir, config: config(overrides), nowMs });
}

describe('Log appends and reads', () => {
  it('assigns offsets by stamping the base offset into the batch bytes', async () => {
    const log = openLog(tempDir());
    const first = batch(3);
    const a = await log.append(first);
    const b = await log.append(batch(2));
    expect(a).toMatchObject({ baseOffset: 0, lastOffset: 2, recordCount: 3, batchCount: 1 });
    expect(b).toMatchObject({ baseOffset: 3, lastOffset: 4 });
    expect(first.readBigInt64BE(0)).toBe(0n);
    expect(log.logEndOffset).toBe(5);
    expect(readAll(log)).toEqual([0, 1, 2, 3, 4]);
    log.close();
  });

  it('appends several batches of one request with a single write, each with its own offsets', async () => {
    const log = openLog(tempDir());
    const records = Buffer.concat([batch(2), batch(3), batch(1)]);
    const result = await log.append(records);
    expect(result).toMatchObject({ baseOffset: 0, lastOffset: 5, batchCount: 3 });
    expect(records.readBigInt64BE(0)).toBe(0n);
    expect(log.segmentCount).toBe(1);
    expect(readAll(log)).toEqual([0, 1, 2, 3, 4, 5]);
    log.close();
  });

  it('reads whole batches up to maxBytes, and at least one batch', async () => {
    const log = openLog(tempDir());
    for (let i = 0; i < 10; i++) await log.append(batch(5));
    const one = log.read(0, 1)!;
    expect(one.region).toMatchObject({ firstOffset: 0, lastOffset: 4 });
    const sizeOfOne = one.region.sizeBytes;
    const three = log.read(7, sizeOfOne * 3 + sizeOfOne - 1)!;
    expect(three.region).toMatchObject({ firstOffset: 5, lastOffset: 19, position: sizeOfOne, sizeBytes: sizeOfOne * 3 });
    expect(log.read(0, 10, { minOneBatch: false })).toBeNull();
    expect(log.read(50, 1 << 20)).toBeNull();
    log.close();
  });

  it('stops reads at maxOffset (the high watermark)', async () => {
    const log = openLog(tempDir());
    for (let i = 0; i < 4; i++) await log.append(batch(5));
    const read = log.read(0, 1 << 20, { maxOffset: 10 })!;
    expect(read.region.lastOffset).toBe(9);
    expect(log.read(10, 1 << 20, { maxOffset: 10 })).toBeNull();
    log.close();
  });

  it('refuses offsets outside [logStartOffset, logEndOffset] with OFFSET_OUT_OF_RANGE', async () => {
    const log = openLog(tempDir());
    await log.append(batch(3));
    expect(() => log.read(4, 100)).toThrowError(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    expect(() => log.read(-1, 100)).toThrowError(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    expect(log.read(3, 100)).toBeNull();
    log.close();
  });

  it('rejects a corrupt batch and appends nothing from the request', async () => {
    const log = openLog(tempDir());
    const good = batch(2);
    const bad = batch(2);
    bad[bad.length - 1] ^= 0xff;
    await expect(log.append(Buffer.concat([good, bad]))).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
    await expect(log.append(good.subarray(0, good.length - 1))).rejects.toMatchObject({ code: 'CORRUPT_MESSAGE' });
    expect(log.logEndOffset).toBe(0);
    expect(fs.statSync(path.join(log.dir, '00000000000000000000.log')).size).toBe(0);
    log.close();
  });

  it('rejects a batch above max.message.bytes with MESSAGE_TOO_LARGE and above segment.bytes with RECORD_LIST_TOO_LARGE', async () => {
    const log = openLog(tempDir(), { 'max.message.bytes': 500, 'segment.bytes': 20_000 });
    await expect(log.append(batch(10))).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    expect((await log.append(batch(1))).baseOffset).toBe(0);
    const big = openLog(tempDir(), { 'segment.bytes': 1000 });
    await expect(big.append(Buffer.concat([batch(5), batch(5)]))).rejects.toMatchObject({ code: 'RECORD_LIST_TOO_LARGE' });
    log.close();
    big.close();
  });

  it('refuses calls after close with ENGINE_CLOSED', async () => {
    const log = openLog(tempDir());
    log.close();
    await expect(log.append(batch(1))).rejects.toMatchObject({ code: 'ENGINE_CLOSED' });
    expect(() => log.read(0, 10)).toThrow(expect.objectContaining({ code: 'ENGINE_CLOSED' }));
  });
});

describe('offset index lookups through reads', () => {
  // index.interval.bytes 0 indexes every batch but the first, so lookups hit entries exactly.
  it('finds every offset: empty log, one entry, exact hits, between entries, beyond the last', async () => {
    const dir = tempDir();
    const log = openLog(dir, { 'index.interval.bytes': 0 });
    expect(log.read(0, 100)).toBeNull();
    await log.append(batch(1));
    expect(log.read(0, 1)!.region.firstOffset).toBe(0);
    await log.append(batch(4));
    for (let i = 0; i < 20; i++) await log.append(batch(3));
    for (let offset = 0; offset < log.logEndOffset; offset++) {
      const region = log.read(offset, 1)!.region;
      expect(region.firstOffset).toBeLessThanOrEqual(offset);
      expect(region.lastOffset).toBeGreaterThanOrEqual(offset);
    }
    expect(log.read(log.logEndOffset, 1)).toBeNull();
    log.close();
  });

  it('adds an index entry each time more than index.interval.bytes were appended', async () => {
    const dir = tempDir();
    const log = openLog(dir, { 'index.interval.bytes': 4096 });
    const one = batch(10);
    for (let i = 0; i < 40; i++) await log.append(batch(10));
    log.close();
    // Closing trims the index to its entries: one per (4096 / batch size) rounded up, first batch never.
    const entries = fs.statSync(path.join(dir, '00000000000000000000.index')).size / 8;
    const batchesPerEntry = Math.floor(4096 / one.length) + 1;
    expect(entries).toBe(Math.floor((40 - 1) / batchesPerEntry));
  });
});

describe('rolling segments', () => {
  it('rolls when the next batch would exceed segment.bytes', async () => {
    const log = openLog(tempDir(), { 'segment.bytes': 3000 });
    const size = batch(2).length;
    const perSegment = Math.floor(3000 / size);
    for (let i = 0; i < perSegment; i++) await log.append(batch(2));
    expect(log.segmentCount).toBe(1);
    await log.append(batch(2));
    expect(log.segmentCount).toBe(2);
    expect(log.segmentBaseOffsets()).toEqual([0, perSegment * 2]);
    expect(readAll(log)).toHaveLength((perSegment + 1) * 2);
    log.close();
  });

  it('rolls when segment.ms has passed since the first batch', async () => {
    let now = 1_700_000_000_000;
    const log = openLog(tempDir(), { 'segment.ms': 1000 }, () => now);
    await log.append(batch(1, now));
    now += 1000;
    await log.append(batch(1, now));
    expect(log.segmentCount).toBe(1);
    now += 1;
    await log.append(batch(1, now));
    expect(log.segmentCount).toBe(2);
    log.close();
  });

  it('rolls when the offset index is full', async () => {
    // 24 bytes hold 3 offset entries and 2 time entries; index.interval.bytes 0 indexes every batch
    // after the first, so batches 1 and 2 fill the time index and batch 3 starts a new segment.
    const log = openLog(tempDir(), { 'segment.index.bytes': 24, 'index.interval.bytes': 0 });
    for (let i = 0; i < 4; i++) await log.append(batch(1, 1_700_000_000_000 + i));
    expect(log.segmentBaseOffsets()).toEqual([0, 3]);
    expect(readAll(log)).toEqual([0, 1, 2, 3]);
    log.close();
  });

  it('rolls when the relative offset would overflow int32', () => {
    const dir = tempDir();
    const segment = Segment.open(dir, 0, config(), true);
    segment.recover();
    segment.append([batch(1)], { lastOffset: 0, maxTimestamp: 1, offsetOfMaxTimestamp: 0, sizeBytes: batch(1).length });
    expect(segment.shouldRoll(100, 2 ** 31 - 1, 1, Date.now())).toBe(false);
    expect(segment.shouldRoll(100, 2 ** 31, 1, Date.now())).toBe(true);
    segment.close();
  });

  it('keeps reads working across segments and trims closed segments\' indexes', async () => {
    const dir = tempDir();
    const log = openLog(dir, { 'segment.bytes': 2000, 'index.interval.bytes': 100 });
    for (let i = 0; i < 30; i++) await log.append(batch(2));
    expect(log.segmentCount).toBeGreaterThan(3);
    expect(readAll(log)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    const [first] = log.segmentBaseOffsets();
    const indexBytes = fs.statSync(path.join(dir, String(first).padStart(20, '0') + '.index')).size;
    expect(indexBytes % 8).toBe(0);
    expect(indexBytes).toBeLessThan(1024);
    log.close();
  });
});

describe('retention and delete-records', () => {
  it('deletes closed segments older than retention.ms, never the active one', async () => {
    let now = 1_700_000_000_000;
    const log = openLog(tempDir(), { 'segment.bytes': 2000, 'retention.ms': 10_000 }, () => now);
    for (let i = 0; i < 30; i++) await log.append(batch(2, now - 60_000));
    const before = log.segmentCount;
    expect(before).toBeGreaterThan(2);
    expect(log.deleteRetainedSegments()).toBe(before - 1);
    expect(log.segmentCount).toBe(1);
    expect(log.logStartOffset).toBe(log.segmentBaseOffsets()[0]);
    expect(() => log.read(0, 100)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    now += 1; // recent data stays
    await log.append(batch(2, now));
    expect(log.deleteRetainedSegments()).toBe(0);
    log.close();
  });

  it('deletes the oldest segments while the log exceeds retention.bytes', async () => {
    const log = openLog(tempDir(), { 'segment.bytes': 2000, 'retention.bytes': 4000, 'retention.ms': -1 });
    for (let i = 0; i < 20; i++) await log.append(batch(2));
    log.deleteRetainedSegments();
    expect(log.sizeBytes()).toBeLessThanOrEqual(4000 + 2000);
    expect(log.sizeBytes()).toBeGreaterThan(4000 - 2000);
    expect(readAll(log).at(-1)).toBe(39);
    log.close();
  });

  it("renames a deleted segment's files at once and removes them after file.delete.delay.ms, off the event loop", async () => {
    const dir = tempDir();
    const log = openLog(dir, { 'segment.bytes': 2000, 'retention.bytes': 0, 'retention.ms': -1, 'file.delete.delay.ms': 100 });
    for (let i = 0; i < 20; i++) await log.append(batch(2));
    const segments = log.segmentCount;
    expect(log.deleteRetainedSegments()).toBe(segments - 1);
    const names = () => fs.readdirSync(dir).filter((name) => /\.(log|index|timeindex)(\.deleted)?$/.test(name));
    // No live name of a deleted segment is left; every one of their files waits as *.deleted.
    expect(names().filter((name) => !name.endsWith('.deleted'))).toHaveLength(3);
    expect(names().filter((name) => name.endsWith('.deleted'))).toHaveLength(3 * (segments - 1));
    while (names().some((name) => name.endsWith('.deleted'))) await new Promise((resolve) => setTimeout(resolve, 20));
    const kept = readAll(log);
    expect([kept[0], kept.at(-1)]).toEqual([log.segmentBaseOffsets()[0], 39]);
    log.close();
  });

  it('a close removes deleted segments\' files without waiting out file.delete.delay.ms', async () => {
    const dir = tempDir();
    const log = openLog(dir, { 'segment.bytes': 2000, 'retention.bytes': 0, 'retention.ms': -1 });
    for (let i = 0; i < 20; i++) await log.append(batch(2));
    log.deleteRetainedSegments();
    expect(fs.readdirSync(dir).some((name) => name.endsWith('.deleted'))).toBe(true);
    log.close();
    await log.settled();
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.deleted'))).toEqual([]);
    // And a crash before the removal leaves names the next open removes.
    const crashed = openLog(dir, { 'segment.bytes': 2000, 'retention.bytes': 0, 'retention.ms': -1 });
    for (let i = 0; i < 20; i++) await crashed.append(batch(2));
    crashed.deleteRetainedSegments();
    for (const segment of crashed.segmentList()) segment.close();
    const reopened = openLog(dir);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.deleted'))).toEqual([]);
    expect(readAll(reopened).at(-1)).toBe(79);
    reopened.close();
    await crashed.settled();
  });

  it('advances the log start offset and drops whole segments below it', async () => {
    const log = openLog(tempDir(), { 'segment.bytes': 2000 });
    for (let i = 0; i < 20; i++) await log.append(batch(2));
    const bases = log.segmentBaseOffsets();
    expect(log.deleteRecordsBefore(bases[2]! + 1)).toBe(bases[2]! + 1);
    expect(log.segmentBaseOffsets()[0]).toBe(bases[2]);
    expect(readAll(log)[0]).toBe(bases[2]! + 1);
    expect(() => log.deleteRecordsBefore(41)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }));
    log.close();
  });
});

describe('truncateTo', () => {
  it('removes batches from the one holding the offset, across segments, and appends continue', async () => {
    const log = openLog(tempDir(), { 'segment.bytes': 2000, 'index.interval.bytes': 0 });
    for (let i = 0; i < 20; i++) await log.append(batch(2));
    expect(log.segmentCount).toBeGreaterThan(2);
    log.truncateTo(7);
    expect(log.logEndOffset).toBe(6); // offset 7 sat in the batch [6, 7]
    expect(readAll(log)).toEqual([0, 1, 2, 3, 4, 5]);
    log.truncateTo(4);
    expect(log.logEndOffset).toBe(4);
    expect((await log.append(batch(3))).baseOffset).toBe(4);
    expect(readAll(log)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    log.truncateTo(100); // beyond the end: nothing to do
    expect(log.logEndOffset).toBe(7);
    log.close();
  });

  it('truncates to zero and starts over', async () => {
    const log = openLog(tempDir());
    await log.append(batch(3));
    log.truncateTo(0);
    expect(log.logEndOffset).toBe(0);
    expect(readAll(log)).toEqual([]);
    expect((await log.append(batch(1))).baseOffset).toBe(0);
    log.close();
  });
});

describe('timestamps', () => {
  it('finds the first record at or after a timestamp through the time index', async () => {
    const log = openLog(tempDir(), { 'index.interval.bytes': 0, 'segment.bytes': 3000 });
    for (let i = 0; i < 30; i++) await log.append(batch(2, 1_000_000 + i * 10));
    // Batch i holds timestamps 1_000_000 + 10i and + 10i + 1, offsets 2i and 2i + 1.
    expect(log.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: 1_000_000 });
    expect(log.offsetForTimestamp(1_000_101)).toEqual({ offset: 21, timestamp: 1_000_101 });
    expect(log.offsetForTimestamp(1_000_102)).toEqual({ offset: 22, timestamp: 1_000_110 });
    expect(log.offsetForTimestamp(2_000_000)).toBeNull();
    expect(log.maxTimestampAndOffset()).toEqual({ offset: 59, timestamp: 1_000_291 });
    log.close();
  });

  it('stamps LogAppendTime into the batch when the topic asks for it', async () => {
    let now = 1_800_000_000_000;
    const log = openLog(tempDir(), { 'message.timestamp.type': 'LogAppendTime' }, () => now);
    const result = await log.append(batch(2, 5));
    expect(result.logAppendTime).toBe(now);
    const read = log.read(0, 1000)!;
    const records = decodeBatch(log.readBytes(read)).records;
    expect(records.map((r) => r.timestamp)).toEqual([now, now]);
    now++;
    log.close();
  });
});

describe('durability settings', () => {
  it('sync appends and flush.messages move the recovery point', async () => {
    const log = openLog(tempDir(), { 'flush.messages': 4 });
    await log.append(batch(1));
    expect(log.recoveryPoint).toBe(0);
    await log.append(batch(1), { sync: true });
    expect(log.recoveryPoint).toBe(2);
    await log.append(batch(4));
    await log.flush();
    expect(log.recoveryPoint).toBe(6);
    log.close();
  });

  it('concurrent sync appends share flushes and all resolve durable', async () => {
    const log = openLog(tempDir());
    const results = await Promise.all(Array.from({ length: 50 }, () => log.append(batch(1), { sync: true })));
    expect(results.map((r) => r.baseOffset)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(log.recoveryPoint).toBe(50);
    log.close();
  });

  it('flush.ms flushes in the background', async () => {
    const log = openLog(tempDir(), { 'flush.ms': 20 });
    await log.append(batch(3));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(log.recoveryPoint).toBe(3);
    log.close();
  });

  it('is typed: every error is a SluiceError with a Kafka name', async () => {
    const log = openLog(tempDir());
    try {
      await log.append(Buffer.alloc(10));
    } catch (error) {
      expect(isSluiceError(error, 'CORRUPT_MESSAGE')).toBe(true);
    }
    log.close();
  });
});

describe('producer snapshots', () => {
  const idempotent = (baseSequence: number, count = 2) =>
    encodeBatch(Array.from({ length: count }, (_, i) => ({ value: payload(baseSequence + i) })), { producerId: 7, producerEpoch: 0, baseSequence });
  const snapshotOffset = (dir: string): number | null => {
    const file = path.join(dir, 'producer-state.snapshot');
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { offset: number }).offset : null;
  };

  it("a roll's snapshot is written off the append path, as of the roll", async () => {
    const dir = tempDir();
    const log = openLog(dir);
    log.appendSync(idempotent(0));
    log.roll();
    // The roll returned before any of the write's steps could run (each waits for libuv's threads).
    expect(snapshotOffset(dir)).toBeNull();
    log.appendSync(idempotent(2));
    await log.settled();
    expect(snapshotOffset(dir)).toBe(2);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    log.close();
    expect(snapshotOffset(dir)).toBe(4);
  });

  it('a deletion or a close while a roll\'s snapshot is being written wins over it', async () => {
    const dir = tempDir();
    const log = openLog(dir);
    log.appendSync(idempotent(0));
    log.appendSync(idempotent(2));
    log.roll();
    // Truncation deletes a snapshot past the new end; the roll's (as of offset 4) must not come back.
    log.truncateTo(2);
    await log.settled();
    expect(snapshotOffset(dir)).toBeNull();
    log.appendSync(idempotent(2));
    log.roll();
    log.close();
    expect(snapshotOffset(dir)).toBe(4);
    await log.settled();
    expect(snapshotOffset(dir)).toBe(4);
  });

  it('a crash before the roll\'s snapshot is written loses no producer state: the log is replayed', async () => {
    const dir = tempDir();
    const log = openLog(dir);
    log.appendSync(idempotent(0));
    log.roll();
    log.appendSync(idempotent(2));
    // No close (a crash), and the background write never ran: no snapshot on disk.
    for (const segment of log.segmentList()) segment.close();
    expect(snapshotOffset(dir)).toBeNull();
    const reopened = openLog(dir);
    expect(reopened.appendSync(idempotent(2)).duplicate).toBe(true);
    expect(reopened.appendSync(idempotent(4)).baseOffset).toBe(4);
    reopened.close();
    await log.settled();
  });
});

describe('delays past the range of Node timers', () => {
  it('file.delete.delay.ms of Long.MAX_VALUE keeps a deleted segment\'s files until the close; neither it nor a flush.ms of 2^40 overflows a timer', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const dir = tempDir();
      const log = openLog(dir, { 'segment.bytes': 2000, 'retention.bytes': 0, 'retention.ms': -1, 'file.delete.delay.ms': '9223372036854775807', 'flush.ms': 2 ** 40 });
      for (let i = 0; i < 20; i++) await log.append(batch(2));
      log.deleteRetainedSegments();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(fs.readdirSync(dir).some((name) => name.endsWith('.deleted'))).toBe(true);
      log.close();
      await log.settled();
      expect(fs.readdirSync(dir).filter((name) => name.endsWith('.deleted'))).toEqual([]);
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
