import { describe, expect, it } from 'vitest';

import { Engine, NO_HEADERS, RecordCursor, readRecords, type ConsumedRecord } from '../../src/index.js';
import { encodeBatch, iterateBatches } from '../../src/record/batch.js';
import { tempDir } from '../helpers.js';

const NOW = 1_700_000_000_000;

/** The records engine.fetch would return, read through the lazy cursor instead. */
function viaCursor(batches: Buffer, fromOffset: number): ConsumedRecord[] {
  const cursor = readRecords(batches, { fromOffset });
  const out: ConsumedRecord[] = [];
  while (cursor.next()) out.push({ offset: cursor.offset, timestamp: cursor.timestamp, key: cursor.key(), value: cursor.value(), headers: cursor.headers() });
  return out;
}

async function engineWith(records: number, perCall: number, options: { compression?: 'gzip' | 'zstd' } = {}): Promise<Engine> {
  const engine = await Engine.open({ dataDir: tempDir() });
  await engine.createTopic('t');
  for (let base = 0; base < records; base += perCall) {
    const batch = Array.from({ length: perCall }, (_, i) => ({
      key: (base + i) % 3 === 0 ? null : `k${base + i}`,
      value: `v${base + i}`,
      headers: (base + i) % 2 === 0 ? undefined : { n: String(base + i) },
      timestamp: NOW + base + i,
    }));
    await engine.produce('t', batch, { partition: 0, compression: options.compression });
  }
  return engine;
}

describe('engine.fetchBatches and the record cursor', () => {
  it('returns the bytes of whole batches as stored, the same offsets fetch reports, and a cursor reads fetch\'s records from them', async () => {
    const engine = await engineWith(100, 10);
    for (const offset of [0, 3, 10, 47, 99]) {
      const raw = await engine.fetchBatches('t', 0, { offset, maxBytes: 300 });
      const decoded = await engine.fetch('t', 0, { offset, maxBytes: 300 });
      expect(raw.nextOffset).toBe(decoded.nextOffset);
      expect([raw.highWatermark, raw.logStartOffset]).toEqual([decoded.highWatermark, decoded.logStartOffset]);
      const batches = [...iterateBatches(raw.batches)];
      expect(batches[0]!.header.baseOffset).toBe(Math.floor(offset / 10) * 10); // the batch holding `offset`, whole
      expect(batches.at(-1)!.header.lastOffset + 1).toBe(raw.nextOffset);
      expect(viaCursor(raw.batches, offset)).toEqual(decoded.records);
      expect(decoded.records[0]!.offset).toBe(offset);
    }
    const at = 42;
    const { records } = await engine.fetch('t', 0, { offset: at, maxBytes: 1 });
    expect(records.map((r) => r.offset)).toEqual([42, 43, 44, 45, 46, 47, 48, 49]); // at least one batch, whatever maxBytes
    expect(records[0]).toMatchObject({ key: null, value: Buffer.from('v42'), timestamp: NOW + 42, headers: [] });
    expect(records[1]).toMatchObject({ key: Buffer.from('k43'), value: Buffer.from('v43'), headers: [{ key: 'n', value: Buffer.from('43') }] });
    expect(records[0]!.headers).toBe(NO_HEADERS);
    await engine.close();
  });

  it('reads into the caller\'s buffer when the batches fit, else into a new one', async () => {
    const engine = await engineWith(100, 10);
    const into = Buffer.alloc(512);
    const small = await engine.fetchBatches('t', 0, { offset: 0, maxBytes: 300, into });
    expect(small.batches.buffer).toBe(into.buffer);
    expect(small.batches.byteOffset).toBe(into.byteOffset);
    expect(small.batches).toEqual((await engine.fetchBatches('t', 0, { offset: 0, maxBytes: 300 })).batches);
    const large = await engine.fetchBatches('t', 0, { offset: 0, maxBytes: 1 << 20, into });
    expect(large.batches.length).toBeGreaterThan(into.length);
    expect(large.batches.buffer).not.toBe(into.buffer);
    expect(large.nextOffset).toBe(100);
    await engine.close();
  });

  it('with view: true, gives the same bytes without a copy, readable after the engine closes', async () => {
    const engine = await engineWith(100, 10);
    const copied = await engine.fetchBatches('t', 0, { offset: 37, maxBytes: 300 });
    const viewed = await engine.fetchBatches('t', 0, { offset: 37, maxBytes: 300, view: true });
    expect(viewed).toEqual(copied);
    // Two views of the same region share the mapping's memory: no copy was made.
    const again = await engine.fetchBatches('t', 0, { offset: 37, maxBytes: 300, view: true });
    expect(again.batches.buffer).toBe(viewed.batches.buffer);
    const bytes = Buffer.from(viewed.batches);
    await engine.close();
    expect(viewed.batches.equals(bytes)).toBe(true);
    expect(readRecords(viewed.batches, { fromOffset: 37 }).next()).toBe(true);
  });

  it('at the log end: no bytes, nextOffset where it was asked', async () => {
    const engine = await engineWith(20, 10);
    const raw = await engine.fetchBatches('t', 0, { offset: 20 });
    expect(raw).toEqual({ batches: Buffer.alloc(0), nextOffset: 20, highWatermark: 20, lastStableOffset: 20, logStartOffset: 0, abortedTransactions: [] });
    expect(readRecords(raw.batches).next()).toBe(false);
    await expect(engine.fetchBatches('t', 0, { offset: 21 })).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    await expect(engine.fetchBatches('t', 1, { offset: 0 })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(await engine.deleteRecords('t', 0, 5)).toBe(5);
    expect((await engine.fetchBatches('t', 0, { offset: 5 })).logStartOffset).toBe(5);
    await engine.close();
  });

  it('compressed batches: fetch decodes them, fetchBatches keeps them compressed and the cursor inflates them', async () => {
    for (const compression of ['gzip', 'zstd'] as const) {
      const engine = await engineWith(30, 10, { compression });
      const raw = await engine.fetchBatches('t', 0, { offset: 15 });
      expect([...iterateBatches(raw.batches)].every(({ header }) => header.compressionName === compression)).toBe(true);
      const decoded = await engine.fetch('t', 0, { offset: 15 });
      expect(decoded.records.map((r) => r.offset)).toEqual(Array.from({ length: 15 }, (_, i) => 15 + i));
      expect(viaCursor(raw.batches, 15)).toEqual(decoded.records);
      expect(decoded.records[1]).toMatchObject({ key: Buffer.from('k16'), value: Buffer.from('v16'), headers: [] });
      await engine.close();
    }
  });

  it('control batches are in fetchBatches\' bytes and left out of fetch and of the cursor (unless asked)', async () => {
    const engine = await Engine.open({ dataDir: tempDir() });
    await engine.createTopic('tx');
    // A follower's append takes what a leader wrote, transaction markers included.
    const data = encodeBatch([{ value: 'a' }, { value: 'b' }], { baseOffset: 0, transactional: true, producerId: 9, producerEpoch: 0, baseSequence: 0, now: NOW });
    const marker = encodeBatch([{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }], {
      baseOffset: 2,
      control: true,
      transactional: true,
      producerId: 9,
      producerEpoch: 0,
      now: NOW,
    });
    const after = encodeBatch([{ value: 'c' }], { baseOffset: 3, now: NOW });
    engine.appendAsFollower('tx', 0, Buffer.concat([data, marker, after]));
    const decoded = await engine.fetch('tx', 0, { offset: 0 });
    expect(decoded.records.map((r) => [r.offset, r.value!.toString()])).toEqual([
      [0, 'a'],
      [1, 'b'],
      [3, 'c'],
    ]);
    expect(decoded.nextOffset).toBe(4);
    const raw = await engine.fetchBatches('tx', 0, { offset: 0 });
    expect(raw.batches).toEqual(Buffer.concat([data, marker, after])); // as the leader wrote them
    expect([...iterateBatches(raw.batches)].map(({ header }) => header.isControl)).toEqual([false, true, false]);
    expect(viaCursor(raw.batches, 0).map((r) => r.offset)).toEqual([0, 1, 3]);
    const withControl = new RecordCursor().reset(raw.batches, { includeControl: true, fromOffset: 2 });
    expect(withControl.next() && withControl.offset).toBe(2);
    expect((await engine.fetch('tx', 0, { offset: 2 })).records.map((r) => r.offset)).toEqual([3]);
    await engine.close();
  });
});
