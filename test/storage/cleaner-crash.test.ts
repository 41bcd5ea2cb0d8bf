// A process killed with SIGKILL while its log cleaner works: at each named step of a pass (the
// .cleaned files written, renamed to .swap, old segments being deleted, deleted, the swap done, the
// checkpoint written) and at random moments. Reopening must show, for each group of segments the
// pass cleans, either all of the old records or all of the cleaned ones (never a mixture), no
// record lost that compaction keeps, no temporary file left, and a log that cleans to the same
// result as an uninterrupted pass.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

import type { Engine } from '../../src/index.js';
import type { CleanerStep } from '../../src/storage/log-cleaner.js';
import { runFixture } from '../fixtures/child.js';
import { HOT_KEYS, ROUND_KEYS, TOPIC, openCompacted, roundRecords } from '../fixtures/cleaner-process.js';
import { tempDir } from '../helpers.js';
import { leftovers, readAll, written, type Written } from './compaction-helpers.js';

const ROUNDS = 60;

/**
 * A data directory of ROUNDS rounds, a segment each: about five groups for one pass. Every third
 * round has no key of its own, so that all its records go: a group that ends with one of these
 * segments is where a swap must still cover the old segment (its cleaned segment ends with a
 * placeholder batch, see cleaner.ts).
 */
async function fill(): Promise<{ dataDir: string; produced: Written[]; emptiedBases: Set<number>; bases: number[] }> {
  const dataDir = tempDir();
  const engine = await openCompacted(dataDir);
  const emptiedBases = new Set<number>();
  for (let round = 0; round < ROUNDS; round++) {
    const emptied = round % 3 === 2 && round < ROUNDS - 1;
    if (emptied) emptiedBases.add(round * ROUND_KEYS);
    const records = emptied ? roundRecords(round).slice(0, HOT_KEYS).concat({ key: 'h0', value: `h0@${round}` }) : roundRecords(round);
    await engine.produce(TOPIC, records, { partition: 0 });
    engine.partitionLog(TOPIC, 0).roll();
  }
  const produced = written(await readAll(engine, TOPIC));
  const bases = engine.partitionLog(TOPIC, 0).segmentBaseOffsets();
  await engine.close();
  return { dataDir, produced, emptiedBases, bases };
}

/** What an uninterrupted pass leaves, on a copy: the records and the cleaned segments' base offsets. */
async function cleanedCopy(dataDir: string): Promise<{ records: Written[]; bases: number[] }> {
  const copy = tempDir();
  fs.cpSync(dataDir, copy, { recursive: true });
  const engine = await openCompacted(copy);
  await engine.compactNow(TOPIC);
  const records = written(await readAll(engine, TOPIC));
  const bases = engine.partitionLog(TOPIC, 0).segmentBaseOffsets();
  await engine.close();
  return { records, bases };
}

function inRange(records: readonly Written[], from: number, to: number): Written[] {
  return records.filter((r) => r.offset >= from && r.offset < to);
}

/**
 * How many groups, from the first, hold the cleaned records; checks that every group holds either
 * the old records or the cleaned ones, and that the cleaned ones are a prefix.
 */
function groupsCleaned(found: readonly Written[], produced: readonly Written[], cleaned: { records: Written[]; bases: number[] }): number {
  let count = 0;
  for (let i = 0; i < cleaned.bases.length - 1; i++) {
    const from = cleaned.bases[i]!;
    const to = cleaned.bases[i + 1]!;
    const here = inRange(found, from, to);
    const isNew = JSON.stringify(here) === JSON.stringify(inRange(cleaned.records, from, to));
    const isOld = JSON.stringify(here) === JSON.stringify(inRange(produced, from, to));
    expect(isNew || isOld, `group [${from}, ${to}) holds neither its old nor its cleaned records`).toBe(true);
    if (isNew && !isOld) {
      expect(count, `group [${from}, ${to}) is cleaned after an old one`).toBe(i);
      count++;
    }
  }
  return count;
}

async function reopenAndCheck(dataDir: string): Promise<Engine> {
  const engine = await openCompacted(dataDir);
  expect(engine.startup.cleanShutdown).toBe(false);
  expect(leftovers(engine.partitionLog(TOPIC, 0).dir)).toEqual([]);
  return engine;
}

describe('SIGKILL during a cleaning pass', () => {
  const steps: CleanerStep[] = ['cleaned', 'swap-renamed', 'old-deleting', 'old-deleted', 'swapped', 'checkpointed'];
  for (const step of steps) {
    it(`at "${step}" leaves each group either old or cleaned, and cleans to the same result`, async () => {
      const { dataDir, produced, emptiedBases, bases } = await fill();
      const cleaned = await cleanedCopy(dataDir);
      const groups = cleaned.bases.length - 1;
      expect(groups).toBeGreaterThanOrEqual(4);
      // A group other than the first (so that groups before it are already swapped in) whose last
      // segment loses all its records.
      const endsEmptied = (group: number) => emptiedBases.has(bases.filter((base) => base < cleaned.bases[group + 1]!).at(-1)!);
      const candidates = Array.from({ length: groups - 1 }, (_, i) => i + 1).filter(endsEmptied);
      expect(candidates.length).toBeGreaterThan(0);
      const occurrence = step === 'checkpointed' ? 1 : candidates[Math.floor(Math.random() * candidates.length)]! + 1;
      const child = runFixture('cleaner-process.ts', [dataDir, 'step', step, String(occurrence)]);
      expect(await child.exited).toBeNull(); // killed by the signal
      expect(child.lines).not.toContain('done');

      const engine = await reopenAndCheck(dataDir);
      const found = written(await readAll(engine, TOPIC));
      const expectedCleaned = step === 'checkpointed' ? groups : step === 'cleaned' ? occurrence - 1 : occurrence;
      expect(groupsCleaned(found, produced, cleaned)).toBe(expectedCleaned);
      const swapOnOpen = step === 'swap-renamed' || step === 'old-deleting' || step === 'old-deleted';
      expect(engine.partitionLog(TOPIC, 0).recovery.completedSwaps).toBe(swapOnOpen ? 1 : 0);

      await engine.compactNow(TOPIC);
      expect(written(await readAll(engine, TOPIC))).toEqual(cleaned.records);
      await engine.close();
    });
  }

  it('at random moments of an append-and-clean loop loses no record compaction keeps', async () => {
    const dataDir = tempDir();
    let lastAcked = -1;
    for (let kill = 0; kill < 6; kill++) {
      const child = runFixture('cleaner-process.ts', [dataDir, 'loop']);
      await child.waitFor('ready');
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 1500));
      child.process.kill('SIGKILL');
      await child.exited;
      for (const line of child.lines) if (line.startsWith('acked ')) lastAcked = Math.max(lastAcked, Number(line.split(' ')[1]));

      const engine = await reopenAndCheck(dataDir);
      const found = written(await readAll(engine, TOPIC));
      // Every record is the one written at its offset.
      for (const record of found) {
        const round = Math.floor(record.offset / ROUND_KEYS);
        expect(record).toEqual({ offset: record.offset, ...roundRecords(round)[record.offset % ROUND_KEYS]! });
      }
      // The hot keys all hold the last round appended (acknowledged, or in flight when killed).
      const latest = new Map(found.map((r) => [r.key, r.value]));
      const lastRound = engine.latestOffset(TOPIC, 0) / ROUND_KEYS - 1;
      expect(lastRound === lastAcked || lastRound === lastAcked + 1).toBe(true);
      for (let i = 0; i < HOT_KEYS; i++) expect(latest.get(`h${i}`)).toBe(`h${i}@${lastRound}`);
      // No round's own key is ever lost.
      for (let round = 0; round <= lastRound; round++) expect(latest.get(`once-${round}`)).toBe(`once-${round}@${round}`);
      await engine.close();
    }
    expect(lastAcked).toBeGreaterThan(0);
  });
});

