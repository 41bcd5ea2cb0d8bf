// A full or nearly full disk, on a small tmpfs of the test's own: an unclean restart of a
// 1,000-partition data dir adds almost nothing to the disk (index files stay sparse); an append
// whose index entry finds no space fails with ENOSPC and leaves nothing behind; recovery that
// truly lacks space fails with KAFKA_STORAGE_ERROR naming the partition and the bytes it needs;
// with several log directories, one full directory refuses its partitions' appends only.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Engine } from '../../src/index.js';
import type { NativeError } from '../../src/native/binding.js';
import { decodeBatch, encodeBatch, iterateBatches } from '../../src/record/batch.js';
import { Log } from '../../src/storage/log.js';
import { resolveLogConfig } from '../../src/storage/log-config.js';
import { runFixture } from '../fixtures/child.js';
import { tempDir } from '../helpers.js';
import { mountTmpfs, tmpfsRefused, type Tmpfs } from '../fixtures/tmpfs.js';

const MIB = 1 << 20;
/** "A few MiB": what an unclean restart of 1,000 partitions may add (it used to add ~20 GiB). */
const RESTART_GROWTH_BYTES_MAX = 4 * MIB;

function batch(seed: number): Buffer {
  const timestamp = 1_700_000_000_000 + seed; // growing, so every indexed batch adds a time entry too
  return encodeBatch([{ key: `k${seed}`, value: Buffer.alloc(40, seed & 0xff), timestamp }], { now: timestamp });
}

function offsetsOf(log: Log): number[] {
  const offsets: number[] = [];
  let offset = log.logStartOffset;
  for (;;) {
    const read = log.read(offset, MIB);
    if (!read) return offsets;
    const bytes = log.readBytes(read);
    for (const { at } of iterateBatches(bytes)) for (const record of decodeBatch(bytes, at).records) offsets.push(record.offset);
    offset = read.region.lastOffset + 1;
  }
}

const range = (count: number) => Array.from({ length: count }, (_, i) => i);

describe.skipIf(tmpfsRefused !== undefined)(`A full disk${tmpfsRefused ? ` (skipped: ${tmpfsRefused})` : ''}`, () => {
  let tmpfs: Tmpfs;
  beforeAll(() => {
    tmpfs = mountTmpfs(128 * MIB);
  });
  afterAll(() => tmpfs?.unmount());

  it('adds no more than a few MiB over an unclean restart of a 1,000-partition data dir', async () => {
    const dataDir = path.join(tmpfs.dir, 'wide');
    // Two ~5 KiB batches a partition: each partition's two indexes hold an entry, so a page each.
    const child = runFixture('partitions-process.ts', [dataDir, 'wide', '1000', '2']);
    await child.waitFor('ready');
    child.process.kill('SIGKILL');
    await child.exited;
    const usedBefore = tmpfs.usedBytes();

    const engine = await Engine.open({ dataDir });
    const usedAfter = tmpfs.usedBytes();
    try {
      expect(engine.startup.cleanShutdown).toBe(false);
      expect(engine.startup.recoveredSegments).toBe(1000);
      for (const partition of [0, 499, 999]) {
        expect((await engine.fetch('wide', partition, { offset: 0 })).records).toHaveLength(10);
      }
    } finally {
      await engine.close();
    }
    console.info(`1,000-partition unclean restart: ${usedBefore} bytes used before, ${usedAfter} after (${usedAfter - usedBefore} added)`);
    expect(usedAfter - usedBefore).toBeLessThanOrEqual(RESTART_GROWTH_BYTES_MAX);
  });

  it('fails an append whose index entry finds no space with ENOSPC, leaving nothing behind, and appends once space is freed', async () => {
    const dir = path.join(tmpfs.dir, 'append');
    // The .log is preallocated, so on the full disk only the indexes' next pages are missing; an
    // entry for every batch, so the time index (341 entries a page) needs one after 342 batches.
    const config = resolveLogConfig({ preallocate: 'true', 'segment.bytes': 4 * MIB, 'index.interval.bytes': 0 });
    let log = Log.open({ dir, config });
    for (let seed = 0; seed < 3; seed++) log.appendSync(batch(seed));
    tmpfs.fill(0);
    let refusal: NativeError | undefined;
    let seed = 3;
    try {
      for (; seed < 2000 && !refusal; seed++) {
        const sizeBefore = log.sizeBytes();
        try {
          log.appendSync(batch(seed));
        } catch (error) {
          refusal = error as NativeError;
          expect(log.sizeBytes()).toBe(sizeBefore);
        }
      }
    } finally {
      tmpfs.unfill();
    }
    expect(refusal).toMatchObject({ code: 'ENOSPC', syscall: 'fallocate' });
    const refusedAt = log.logEndOffset;
    expect(refusedAt).toBe(342); // the 343rd batch's time entry is the first in the second page
    expect(offsetsOf(log)).toEqual(range(refusedAt));

    log.appendSync(batch(refusedAt));
    log.appendSync(batch(refusedAt + 1));
    expect(offsetsOf(log)).toEqual(range(refusedAt + 2));
    // The indexes agree with the .log: lookups land on the right batches, before and after a reopen.
    expect(log.read(refusedAt, 1)!.region.firstOffset).toBe(refusedAt);
    log.close();
    log = Log.open({ dir, config, cleanShutdown: true });
    expect(offsetsOf(log)).toEqual(range(refusedAt + 2));
    expect(log.read(refusedAt - 1, 1)!.region.firstOffset).toBe(refusedAt - 1);
    log.close();
  });

  it('fails a restart that lacks the space recovery must write with KAFKA_STORAGE_ERROR naming the partition and the bytes', async () => {
    const dataDir = path.join(tmpfs.dir, 'lost');
    let engine = await Engine.open({ dataDir });
    await engine.createTopic('lost', { partitions: 2 });
    for (let i = 0; i < 20; i++) await engine.produce('lost', [{ value: Buffer.alloc(5000, i) }], { partition: 1 });
    await engine.close();
    // Indexes lost (Kafka rebuilds missing ones): the rebuild needs pages that nothing frees.
    const partitionDir = path.join(dataDir, 'lost-1');
    for (const name of fs.readdirSync(partitionDir)) if (/index$/.test(name)) fs.rmSync(path.join(partitionDir, name));

    tmpfs.fill(0);
    try {
      const error = await Engine.open({ dataDir }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'SluiceError', code: 'KAFKA_STORAGE_ERROR', cause: { code: 'ENOSPC' } });
      // 19 entries after the first batch: a page for each index.
      expect((error as Error).message).toBe(
        `Out of disk space in partition directory ${partitionDir}: rebuilding the indexes of 00000000000000000000.log needs up to 8192 bytes, ` +
          `and 0 bytes are free (fallocate ${path.join(partitionDir, '00000000000000000000.index')}: No space left on device)`,
      );
    } finally {
      tmpfs.unfill();
    }
    engine = await Engine.open({ dataDir });
    expect((await engine.fetch('lost', 1, { offset: 0, maxBytes: 10 * MIB })).records).toHaveLength(20);
    await engine.close();
  });

  it('with two log directories, a full one refuses the appends of its partitions only, and takes them again once space is freed', async () => {
    const full = path.join(tmpfs.dir, 'jbod');
    const other = tempDir();
    const engine = await Engine.open({ dataDir: other, logDirs: [full, other] });
    try {
      await engine.createTopic('jbod', { partitions: 2, config: { 'segment.bytes': MIB } });
      expect([engine.logDirOf('jbod', 0), engine.logDirOf('jbod', 1)]).toEqual([full, other]);
      const value = Buffer.alloc(4096, 1);
      await engine.produce('jbod', [{ value }], { partition: 0 });
      tmpfs.fill(0);
      let refused: unknown;
      try {
        for (let i = 0; i < 1000 && refused === undefined; i++) await engine.produce('jbod', [{ value }], { partition: 0 }).catch((error: unknown) => (refused = error));
        expect(refused).toBeDefined();
        // The other directory's partition takes writes while the first is full.
        for (let i = 0; i < 10; i++) await engine.produce('jbod', [{ value }], { partition: 1 });
      } finally {
        tmpfs.unfill();
      }
      const acceptedOnFull = engine.latestOffset('jbod', 0);
      await engine.produce('jbod', [{ value }], { partition: 0 });
      expect((await engine.fetch('jbod', 0, { offset: 0, maxBytes: 100 * MIB })).records.map((r) => r.offset)).toEqual(range(acceptedOnFull + 1));
      expect((await engine.fetch('jbod', 1, { offset: 0, maxBytes: 100 * MIB })).records).toHaveLength(10);
    } finally {
      await engine.close();
    }
  });
});
