// MappedIndex: Kafka's two index formats, big-endian on disk; lookup finds the largest key <= the
// target; a full index refuses appends; trim and grow-back keep the entries; open/close cycles
// leave no descriptor and no mapping behind. On a small tmpfs: discarding entries allocates
// nothing, and a full disk refuses an append with ENOSPC instead of SIGBUS.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { binding, type IndexKind, type MappedIndexOptions } from '../../src/native/binding.js';
import { runFixture } from '../fixtures/child.js';
import { mountTmpfs, tmpfsRefused, type Tmpfs } from '../fixtures/tmpfs.js';
import { mappingFlagsOf, mappingLines, openFdCount, tempDir, thrown } from './helpers.js';

const { MappedIndex } = binding;
const MAX_BYTES = 10 * 1024 * 1024; // Kafka's segment.index.bytes default

function open(options: Partial<MappedIndexOptions> = {}, file = path.join(tempDir(), 'a.index')) {
  return new MappedIndex(file, { kind: 'offset', maxBytes: MAX_BYTES, ...options });
}

describe('MappedIndex', () => {
  it('finds nothing in an empty index', () => {
    const index = open();
    expect(index.entries()).toBe(0);
    expect(index.capacity()).toBe(MAX_BYTES / 8);
    expect(index.lookup(0)).toBe(-1);
    expect(index.lookup(1e9)).toBe(-1);
    expect(fs.statSync(index.path).size).toBe(MAX_BYTES);
    index.close();
  });

  it('finds the one entry for any target at or past its key', () => {
    const index = open();
    index.append(5, 100);
    expect(index.lookup(4)).toBe(-1);
    expect(index.lookup(5)).toBe(0);
    expect(index.lookup(5.5)).toBe(0);
    expect(index.lookup(2 ** 40)).toBe(0);
    expect([index.keyAt(0), index.valueAt(0)]).toEqual([5, 100]);
    index.close();
  });

  it('finds exact hits, targets between entries, past the last and before the first', () => {
    const index = open();
    for (let i = 1; i <= 5000; i++) index.append(i * 10, i * 4096);
    expect(index.entries()).toBe(5000);
    expect(index.lookup(9)).toBe(-1);
    expect(index.lookup(-1)).toBe(-1);
    expect(index.lookup(10)).toBe(0);
    expect(index.lookup(19)).toBe(0);
    expect(index.lookup(20)).toBe(1);
    // Targets inside and just outside the 8 KiB warm section (the last 1024 entries).
    for (const slot of [0, 1, 2500, 3974, 3975, 3976, 4998, 4999]) {
      const key = (slot + 1) * 10;
      expect(index.lookup(key)).toBe(slot);
      expect(index.lookup(key + 9)).toBe(slot);
    }
    expect(index.lookup(50_000)).toBe(4999);
    expect(index.lookup(2 ** 32 + 5)).toBe(4999);
    expect(index.valueAt(4999)).toBe(5000 * 4096);
    index.close();
  });

  it('writes big-endian entries in Kafka layout', () => {
    const index = open();
    index.append(0x01020304, 0xa0b0c0d0);
    const file = fs.readFileSync(index.path);
    expect([...file.subarray(0, 8)]).toEqual([1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0]);
    index.close();
    const time = open({ kind: 'time' }, path.join(tempDir(), 'a.timeindex'));
    time.append(1_700_000_000_123, 7);
    const expected = Buffer.alloc(12);
    expected.writeBigInt64BE(1_700_000_000_123n, 0);
    expected.writeUInt32BE(7, 8);
    expect(fs.readFileSync(time.path).subarray(0, 12).equals(expected)).toBe(true);
    time.close();
  });

  it('indexes large int64 timestamps in a time index', () => {
    const index = open({ kind: 'time' }, path.join(tempDir(), 'a.timeindex'));
    expect(index.entryBytes).toBe(12);
    expect(index.capacity()).toBe(Math.floor(MAX_BYTES / 12));
    const base = 1.7e12;
    for (let i = 0; i < 2000; i++) index.append(base + i * 1000, i * 10);
    expect(index.lookup(base - 1)).toBe(-1);
    expect(index.lookup(base)).toBe(0);
    expect(index.lookup(base + 1999)).toBe(1);
    expect(index.lookup(base + 1_999_000)).toBe(1999);
    expect(index.lookup(Number.MAX_SAFE_INTEGER)).toBe(1999);
    expect(index.lookup(Infinity)).toBe(1999);
    expect(index.lookup(-Infinity)).toBe(-1);
    expect(index.keyAt(1999)).toBe(base + 1_999_000);
    expect(index.valueAt(1999)).toBe(19990);
    index.close();
  });

  it('throws RangeError when full', () => {
    const index = open({ maxBytes: 20 }); // rounded down to 2 whole entries, as Kafka does
    expect(index.capacity()).toBe(2);
    index.append(1, 1);
    expect(index.isFull()).toBe(false);
    index.append(2, 2);
    expect(index.isFull()).toBe(true);
    expect(thrown(() => index.append(3, 3))).toBeInstanceOf(RangeError);
    expect(index.entries()).toBe(2);
    index.close();
  });

  it('truncates entries, zeroing them', () => {
    const index = open();
    for (let i = 0; i < 10; i++) index.append(i, i + 100);
    index.truncateEntries(4);
    expect(index.entries()).toBe(4);
    expect(index.lookup(9)).toBe(3);
    expect(fs.readFileSync(index.path).subarray(32, 80).every((byte) => byte === 0)).toBe(true);
    index.append(20, 1);
    expect(index.lookup(25)).toBe(4);
    expect(thrown(() => index.truncateEntries(6))).toBeInstanceOf(RangeError);
    index.truncateEntries(0);
    expect(index.lookup(100)).toBe(-1);
    index.close();
  });

  it('trims to its entries, reopens with them, and grows back', async () => {
    const file = path.join(tempDir(), 'a.index');
    const index = open({}, file);
    for (let i = 0; i < 3; i++) index.append(i * 10, i * 1000);
    expect(thrown(() => index.resize(16))).toBeInstanceOf(RangeError);
    index.resize(24);
    expect(fs.statSync(file).size).toBe(24);
    expect(index.capacity()).toBe(3);
    expect(index.isFull()).toBe(true);
    expect(index.lookup(15)).toBe(1);
    await index.sync();
    index.close();

    const readOnly = open({ readOnly: true, maxBytes: undefined }, file);
    expect([readOnly.entries(), readOnly.capacity()]).toEqual([3, 3]);
    expect(readOnly.lookup(25)).toBe(2);
    expect(thrown(() => readOnly.append(30, 1)).code).toBe('EBADF');
    expect(thrown(() => readOnly.resize(MAX_BYTES)).code).toBe('EBADF');
    readOnly.close();

    const reopened = open({}, file);
    expect(reopened.entries()).toBe(3);
    expect(fs.statSync(file).size).toBe(MAX_BYTES);
    reopened.resize(24);
    reopened.resize(MAX_BYTES); // grow back, as when the segment becomes active again
    expect(reopened.capacity()).toBe(MAX_BYTES / 8);
    reopened.append(30, 3000);
    expect(reopened.lookup(35)).toBe(3);
    expect(reopened.valueAt(2)).toBe(2000);
    reopened.close();
  });

  it('trims an empty index to nothing and grows it back', () => {
    const index = open();
    index.resize(0);
    expect(fs.statSync(index.path).size).toBe(0);
    expect([index.capacity(), index.lookup(1)]).toEqual([0, -1]);
    expect(thrown(() => index.append(1, 1))).toBeInstanceOf(RangeError);
    index.resize(80);
    index.append(1, 1);
    expect(index.lookup(1)).toBe(0);
    index.close();
  });

  it('checks slots, keys and values', () => {
    const index = open();
    expect(thrown(() => index.keyAt(0))).toBeInstanceOf(RangeError);
    index.append(1, 1);
    for (const call of [() => index.keyAt(1), () => index.valueAt(-1), () => index.append(-1, 0), () => index.append(2, 2 ** 32)]) {
      expect(thrown(call)).toBeInstanceOf(RangeError);
    }
    expect(thrown(() => index.lookup('1' as unknown as number))).toBeInstanceOf(TypeError);
    expect(thrown(() => index.lookup(Number.NaN))).toBeInstanceOf(TypeError);
    expect(thrown(() => new MappedIndex(index.path, { kind: 'bad' as 'time', maxBytes: 8 }))).toBeInstanceOf(TypeError);
    index.close();
  });

  it('throws EBADF after close, also with a sync in flight, and close() again is harmless', async () => {
    const index = open();
    index.append(1, 1);
    const sync = index.sync();
    index.close();
    index.close();
    await sync;
    for (const call of [() => index.entries(), () => index.lookup(1), () => index.append(2, 2), () => index.sync(), () => index.resize(8)]) {
      expect(thrown(call)).toMatchObject({ code: 'EBADF', path: index.path });
    }
  });

  it('maps its file without read-ahead, so a fault reads one page, not megabytes around it', () => {
    const index = open();
    index.append(1, 0);
    index.resize(1024 * 8); // a new mapping keeps the advice
    const flags = mappingFlagsOf(index.path);
    expect(flags.length).toBe(1);
    expect(flags[0]).toContain('rr'); // madvise(MADV_RANDOM)
    index.close();
  });

  it('raises ENOENT with the path for a missing directory', () => {
    const missing = path.join(tempDir(), 'missing', 'a.index');
    expect(thrown(() => open({}, missing))).toMatchObject({ code: 'ENOENT', syscall: 'open', path: missing });
  });

  it('leaves descriptors and mappings unchanged after 1000 open/close cycles', async () => {
    const file = path.join(tempDir(), 'cycle.index');
    const mapsOfFile = () => mappingLines().filter((line) => line.endsWith(file)).length;
    const fdsBefore = openFdCount();
    const mapsBefore = mappingLines().length;
    const syncs: Promise<void>[] = [];
    for (let cycle = 0; cycle < 1000; cycle++) {
      const index = open({ maxBytes: 64 * 1024 }, file);
      index.append(cycle, cycle);
      if (cycle % 100 === 0) syncs.push(index.sync());
      index.resize(8 * index.entries());
      index.close();
    }
    await Promise.all(syncs);
    expect(openFdCount()).toBe(fdsBefore);
    expect(mapsOfFile()).toBe(0);
    // The heap may map a few pages of its own meanwhile; a leak would add a line per cycle.
    expect(mappingLines().length - mapsBefore).toBeLessThan(50);
  });
});

describe.skipIf(tmpfsRefused !== undefined)(`MappedIndex on a small tmpfs${tmpfsRefused ? ` (skipped: ${tmpfsRefused})` : ''}`, () => {
  let tmpfs: Tmpfs;
  beforeAll(() => {
    tmpfs = mountTmpfs(4 << 20);
  });
  afterAll(() => tmpfs?.unmount());

  const blocksOf = (file: string) => fs.statSync(file).blocks;

  it('discards the entries of an untrimmed index without allocating a block', () => {
    const file = path.join(tmpfs.dir, 'untrimmed.index');
    let index = open({}, file);
    for (let i = 1; i <= 1000; i++) index.append(i, i * 4096);
    index.close(); // no trim: what a SIGKILL leaves, a 10 MiB file with its first two pages written
    const written = blocksOf(file);
    expect(written * 512).toBe(8192);

    index = open({}, file);
    // The entries end at the first hole: the written pages, zeros after entry 1000 included.
    expect(index.entries()).toBe(1024);
    expect([index.keyAt(999), index.keyAt(1023)]).toEqual([1000, 0]);
    expect(blocksOf(file)).toBe(written); // nothing past them was touched
    index.truncateEntries(0);
    expect(blocksOf(file)).toBe(0);
    expect(fs.statSync(file).size).toBe(MAX_BYTES);
    index.append(1, 4096);
    expect(blocksOf(file) * 512).toBe(4096);
    index.close();

    const never = path.join(tmpfs.dir, 'sparse.timeindex');
    fs.writeFileSync(never, '');
    fs.truncateSync(never, MAX_BYTES);
    const sparse = open({ kind: 'time' }, never);
    expect(sparse.entries()).toBe(0);
    sparse.close();
    expect(blocksOf(never)).toBe(0);
  });

  it('zeroes what a partial-page truncation keeps past the entries, and frees the pages after it', () => {
    const file = path.join(tmpfs.dir, 'partial.timeindex');
    const index = open({ kind: 'time' }, file);
    for (let i = 0; i < 700; i++) index.append(1_700_000_000_000 + i, i); // 8,400 bytes: 3 pages
    expect(blocksOf(file) * 512).toBe(3 * 4096);
    index.truncateEntries(300);
    expect(blocksOf(file) * 512).toBe(4096);
    expect(fs.readFileSync(file).subarray(300 * 12, 700 * 12).every((byte) => byte === 0)).toBe(true);
    expect(index.lookup(Number.MAX_SAFE_INTEGER)).toBe(299);
    index.close();
  });

  for (const [kind, entriesPerPage] of [['offset', 512], ['time', 341]] as const) {
    it(`refuses a ${kind} index append with ENOSPC when the disk is full, and appends again once space is freed (child process)`, async () => {
      const dir = fs.mkdtempSync(path.join(tmpfs.dir, `${kind}-`));
      const child = runFixture('index-full-disk.ts', [dir, kind satisfies IndexKind]);
      const code = await child.exited;
      expect(child.process.signalCode).toBeNull(); // SIGBUS would show here
      expect(code).toBe(0);
      // The first page holds 512 offset entries; the 342nd time entry crosses into the second.
      expect(child.lines[0]).toBe(`full ${entriesPerPage} ENOSPC fallocate`);
      expect(child.lines[1]).toMatch(new RegExp(`^freed ${entriesPerPage + 1} `));
    });
  }
});
