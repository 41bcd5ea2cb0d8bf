// Recovery: what a crash can leave on disk, and what opening the log makes of it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { Engine } from '../../src/index.js';
import { decodeBatch, encodeBatch, iterateBatches } from '../../src/record/batch.js';
import { Log } from '../../src/storage/log.js';
import { resolveLogConfig } from '../../src/storage/log-config.js';
import { runFixture } from '../fixtures/child.js';
import { payload, tempDir } from '../helpers.js';

const LOG_FILE = '00000000000000000000.log';

function batch(count: number, seed: number): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ key: `k${seed}-${i}`, value: payload(seed * 10 + i, 20), timestamp: 1_700_000_000_000 + seed }));
  return encodeBatch(records, { now: 1_700_000_000_000 });
}

function open(dir: string, cleanShutdown: boolean, overrides: Record<string, string | number> = {}): Log {
  return Log.open({ dir, config: resolveLogConfig(overrides), cleanShutdown });
}

function values(log: Log): string[] {
  const out: string[] = [];
  let offset = log.logStartOffset;
  for (;;) {
    const read = log.read(offset, 1 << 20);
    if (!read) return out;
    const bytes = log.readBytes(read);
    for (const { at } of iterateBatches(bytes)) {
      for (const record of decodeBatch(bytes, at).records) out.push(`${record.offset}:${record.value!.toString('hex')}`);
    }
    offset = read.region.lastOffset + 1;
  }
}

/** Writes five batches and closes cleanly; returns each batch's start position and base offset. */
async function writeFiveBatches(dir: string): Promise<{ starts: number[]; bases: number[]; size: number }> {
  const log = open(dir, true);
  const starts: number[] = [];
  const bases: number[] = [];
  for (let i = 0; i < 5; i++) {
    starts.push(log.sizeBytes());
    bases.push((await log.append(batch(3, i))).baseOffset);
  }
  const size = log.sizeBytes();
  log.close();
  return { starts, bases, size };
}

function copyDir(from: string, to: string): void {
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, { recursive: true });
}

describe('a torn last batch', () => {
  for (const cleanShutdown of [false, true]) {
    it(`is cut at every byte position, leaving exactly the valid prefix (clean shutdown marker: ${cleanShutdown})`, async () => {
      const pristine = tempDir();
      const { starts, bases, size } = await writeFiveBatches(pristine);
      const reference = open(pristine, true);
      const expected = values(reference).filter((v) => Number(v.split(':')[0]) < bases[4]!);
      reference.close();
      const work = tempDir();
      for (let cut = starts[4]!; cut < size; cut++) {
        copyDir(pristine, work);
        fs.truncateSync(path.join(work, LOG_FILE), cut);
        const log = open(work, cleanShutdown);
        expect(log.logEndOffset).toBe(bases[4]);
        expect(log.sizeBytes()).toBe(starts[4]);
        expect(values(log)).toEqual(expected);
        const appended = await log.append(batch(2, 99));
        expect(appended.baseOffset).toBe(bases[4]);
        expect(values(log)).toHaveLength(expected.length + 2);
        log.close();
      }
    });
  }
});

describe('a flipped byte', () => {
  it('anywhere from the magic byte to the end of a batch is caught by the CRC check, and the log is cut there', async () => {
    const pristine = tempDir();
    const { starts, bases } = await writeFiveBatches(pristine);
    const work = tempDir();
    const MAGIC_OFFSET = 16;
    for (let at = starts[2]! + MAGIC_OFFSET; at < starts[3]!; at++) {
      copyDir(pristine, work);
      const file = path.join(work, LOG_FILE);
      const bytes = fs.readFileSync(file);
      bytes[at] ^= 0x5a;
      fs.writeFileSync(file, bytes);
      const log = open(work, false);
      expect(log.logEndOffset).toBe(bases[2]);
      expect(log.sizeBytes()).toBe(starts[2]);
      expect(log.recovery.truncatedBytes).toBeGreaterThan(0);
      log.close();
    }
  });
});

describe('index files', () => {
  async function writeSegments(dir: string): Promise<void> {
    const log = open(dir, true, { 'segment.bytes': 4000, 'index.interval.bytes': 300 });
    for (let i = 0; i < 120; i++) await log.append(batch(1 + (i % 4), i));
    log.close();
  }

  function snapshot(dir: string): { regions: string[]; times: string[]; indexes: Record<string, string> } {
    const log = open(dir, true, { 'segment.bytes': 4000, 'index.interval.bytes': 300 });
    const regions: string[] = [];
    for (let offset = 0; offset < log.logEndOffset; offset++) {
      const { region } = log.read(offset, 1)!;
      regions.push(`${region.position}+${region.sizeBytes}`);
    }
    const times = Array.from({ length: 130 }, (_, i) => JSON.stringify(log.offsetForTimestamp(1_700_000_000_000 + i)));
    log.close();
    const indexes: Record<string, string> = {};
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('index'))) {
      indexes[name] = fs.readFileSync(path.join(dir, name)).toString('hex');
    }
    return { regions, times, indexes };
  }

  it('are rebuilt when deleted, byte for byte, and lookups agree', async () => {
    const dir = tempDir();
    await writeSegments(dir);
    const before = snapshot(dir);
    expect(Object.keys(before.indexes).length).toBeGreaterThan(4);
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('index'))) fs.rmSync(path.join(dir, name));
    const after = snapshot(dir);
    expect(after.regions).toEqual(before.regions);
    expect(after.times).toEqual(before.times);
    expect(after.indexes).toEqual(before.indexes);
  });

  it('are rebuilt when corrupt (garbage, a torn entry, or left at full size by a crash)', async () => {
    const dir = tempDir();
    await writeSegments(dir);
    const before = snapshot(dir);
    const names = fs.readdirSync(dir).filter((n) => n.endsWith('.index'));
    fs.writeFileSync(path.join(dir, names[0]!), Buffer.alloc(24, 0xff)); // entries point past the log
    fs.appendFileSync(path.join(dir, names[1]!), Buffer.alloc(3)); // not whole entries
    fs.truncateSync(path.join(dir, names.at(-1)!), 10 * 1024 * 1024); // preallocated zeros
    const after = snapshot(dir);
    expect(after.regions).toEqual(before.regions);
    expect(after.indexes).toEqual(before.indexes);
  });
});

describe('an unclean shutdown', () => {
  it('rescans only from the segment holding the recovery point', async () => {
    const dir = tempDir();
    const overrides = { 'segment.bytes': 3000 };
    const log = open(dir, true, overrides);
    for (let i = 0; i < 40; i++) await log.append(batch(3, i));
    await log.flush();
    const recoveryPoint = log.recoveryPoint;
    const segments = log.segmentCount;
    for (let i = 0; i < 3; i++) await log.append(batch(3, i));
    const segmentsAfter = log.segmentCount;
    log.close();
    const reopened = Log.open({ dir, config: resolveLogConfig(overrides), cleanShutdown: false, recoveryPoint });
    expect(reopened.recovery.recoveredSegments).toBe(segmentsAfter - segments + 1);
    expect(reopened.logEndOffset).toBe(129);
    reopened.close();
  });

  it('drops segments after a corrupt one', async () => {
    const dir = tempDir();
    const overrides = { 'segment.bytes': 3000 };
    const log = open(dir, true, overrides);
    for (let i = 0; i < 30; i++) await log.append(batch(3, i));
    const bases = log.segmentBaseOffsets();
    log.close();
    const second = path.join(dir, String(bases[1]).padStart(20, '0') + '.log');
    const bytes = fs.readFileSync(second);
    bytes[200] ^= 1;
    fs.writeFileSync(second, bytes);
    const reopened = open(dir, false, overrides);
    expect(reopened.segmentBaseOffsets()).toEqual(bases.slice(0, 2));
    expect(reopened.recovery.deletedSegments).toBe(bases.length - 2);
    expect((await reopened.append(batch(1, 1))).baseOffset).toBe(reopened.logEndOffset - 1);
    reopened.close();
  });
});

describe('a process killed with SIGKILL while appending with sync on', () => {
  it('loses no acknowledged record, and the log stays in order, over several kills', async () => {
    const dataDir = tempDir();
    const acked: Array<[number, number]> = [];
    for (let round = 0; round < 4; round++) {
      const child = runFixture('sync-appender.ts', [dataDir]);
      const ready = await child.waitFor('ready');
      const resumedAt = Number(ready.split(' ')[1]);
      // Every record acknowledged in an earlier round must be there when the child reopens.
      const promised = acked.length > 0 ? acked.at(-1)![1] + 1 : 0;
      expect(resumedAt).toBeGreaterThanOrEqual(promised);
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 250));
      child.process.kill('SIGKILL');
      await child.exited;
      for (const line of child.lines) {
        if (!line.startsWith('acked')) continue;
        const [, base, last] = line.split(' ').map(Number);
        acked.push([base!, last!]);
      }
    }
    expect(acked.length).toBeGreaterThan(0);
    const engine = await Engine.open({ dataDir });
    expect(engine.startup.cleanShutdown).toBe(false);
    const lastAcked = acked.at(-1)![1];
    const end = engine.latestOffset('crash', 0);
    expect(end).toBeGreaterThan(lastAcked);
    let offset = 0;
    while (offset < end) {
      const { records, nextOffset } = await engine.fetch('crash', 0, { offset });
      for (const record of records) {
        expect(record.offset).toBe(offset);
        expect(record.value!.toString()).toBe(`record-${offset}`);
        offset++;
      }
      expect(nextOffset).toBe(offset);
    }
    await engine.close();
  });
});
