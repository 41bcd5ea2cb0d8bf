// An Engine over several log directories (EngineOptions.logDirs, Kafka's log.dirs): where new
// partitions go, what each directory holds on disk, reopening, locks, a log found twice, and the
// operations that act on one partition's log (delete, truncate, compact) finding its directory.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { Engine, SluiceError } from '../../src/index.js';
import { CleanerPool } from '../../src/storage/cleaner-pool.js';
import type { CleanerThread } from '../../src/storage/cleaner-thread.js';
import { DEFAULT_CLEANER_CONFIG } from '../../src/storage/log-cleaner-config.js';
import { tempDir, waitUntil } from '../helpers.js';

function threeDirs(): { dataDir: string; logDirs: string[] } {
  const root = tempDir();
  const logDirs = ['a', 'b', 'c'].map((name) => path.join(root, name));
  return { dataDir: logDirs[0]!, logDirs };
}

/** The `<topic>-<partition>` directories under `dir`. */
function partitionDirs(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /-\d+$/.test(entry.name))
    .map((entry) => entry.name)
    .sort();
}

describe('Engine over several log directories', () => {
  it('puts each new partition in the directory holding the fewest, the first listed of those tied', async () => {
    const { dataDir, logDirs } = threeDirs();
    const engine = await Engine.open({ dataDir, logDirs });
    expect(engine.logDirs).toEqual(logDirs);
    await engine.createTopic('spread', { partitions: 4 });
    expect([0, 1, 2, 3].map((p) => engine.logDirOf('spread', p))).toEqual([logDirs[0], logDirs[1], logDirs[2], logDirs[0]]);
    // a has 2, b and c 1 each: the next two go to b and c, then a, b, c share 3 each.
    await engine.createTopic('next', { partitions: 2 });
    expect([0, 1].map((p) => engine.logDirOf('next', p))).toEqual([logDirs[1], logDirs[2]]);
    await engine.createPartitions('next', 5);
    expect([2, 3, 4].map((p) => engine.logDirOf('next', p))).toEqual([logDirs[0], logDirs[1], logDirs[2]]);
    expect(logDirs.map(partitionDirs)).toEqual([
      ['next-2', 'spread-0', 'spread-3'],
      ['next-0', 'next-3', 'spread-1'],
      ['next-1', 'next-4', 'spread-2'],
    ]);
    expect(() => engine.logDirOf('spread', 4)).toThrow(expect.objectContaining({ code: 'UNKNOWN_TOPIC_OR_PARTITION' }));
    await engine.close();
  });

  it('keeps every record across a clean close and reopen, each directory with its own lock, marker and checkpoints', async () => {
    const { dataDir, logDirs } = threeDirs();
    let engine = await Engine.open({ dataDir, logDirs });
    await engine.createTopic('kept', { partitions: 3 });
    for (let p = 0; p < 3; p++) await engine.produce('kept', Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `${p}:${i}` })), { partition: p });
    await engine.close();
    for (const dir of logDirs) {
      expect(fs.readdirSync(dir)).toEqual(expect.arrayContaining(['.lock', '.sluice_cleanshutdown', 'recovery-point-offset-checkpoint', 'log-start-offset-checkpoint']));
      // A directory's checkpoint names only its own partitions.
      const recoveryPoints = fs.readFileSync(path.join(dir, 'recovery-point-offset-checkpoint'), 'utf8').trim().split('\n').slice(2);
      expect(recoveryPoints.map((line) => line.split(' ').slice(0, 2).join('-'))).toEqual(partitionDirs(dir));
    }
    engine = await Engine.open({ dataDir, logDirs });
    expect(engine.startup.cleanShutdown).toBe(true);
    for (let p = 0; p < 3; p++) {
      expect(engine.logDirOf('kept', p)).toBe(logDirs[p]);
      const { records } = await engine.fetch('kept', p, { offset: 0, maxBytes: 1 << 20 });
      expect(records.map((record) => record.value!.toString())).toEqual(Array.from({ length: 50 }, (_, i) => `${p}:${i}`));
    }
    // Another engine may take none of the directories while this one holds them.
    await expect(Engine.open({ dataDir: tempDir(), logDirs: [logDirs[2]!] })).rejects.toMatchObject({ code: 'DATA_DIR_LOCKED' });
    await engine.close();
  });

  it('refuses to open when a log is in two directories, naming both, and leaves every directory unlocked', async () => {
    const { dataDir, logDirs } = threeDirs();
    let engine = await Engine.open({ dataDir, logDirs });
    await engine.createTopic('twice', { partitions: 1 });
    await engine.produce('twice', [{ value: 'one' }], { partition: 0 });
    await engine.close();
    fs.cpSync(path.join(logDirs[0]!, 'twice-0'), path.join(logDirs[2]!, 'twice-0'), { recursive: true });
    const refused = await Engine.open({ dataDir, logDirs }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SluiceError);
    expect(refused).toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });
    expect((refused as Error).message).toContain(`Duplicate log directories for twice-0 are found in both ${logDirs[0]} and ${logDirs[2]}`);
    fs.rmSync(path.join(logDirs[2]!, 'twice-0'), { recursive: true });
    engine = await Engine.open({ dataDir, logDirs });
    expect((await engine.fetch('twice', 0, { offset: 0, maxBytes: 1 << 20 })).records.map((r) => r.value!.toString())).toEqual(['one']);
    await engine.close();
  });

  it('refuses a directory listed twice', async () => {
    const dir = tempDir();
    await expect(Engine.open({ dataDir: dir, logDirs: [dir, `${dir}/`] })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });

  it('deletes, truncates and compacts a partition in whichever directory holds it', async () => {
    const { dataDir, logDirs } = threeDirs();
    const engine = await Engine.open({ dataDir, logDirs });
    await engine.createTopic('ops', { partitions: 3, config: { 'cleanup.policy': 'compact', 'segment.bytes': 1024, 'min.cleanable.dirty.ratio': 0.01 } });
    for (let p = 0; p < 3; p++) {
      for (let round = 0; round < 20; round++) await engine.produce('ops', Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `round ${round}` })), { partition: p });
    }
    // Partition 2 lives in c: compaction there keeps the last value of each key.
    const passes = await engine.compactNow('ops', 2);
    expect(passes.get(2)!.length).toBeGreaterThan(0);
    const { records } = await engine.fetch('ops', 2, { offset: 0, maxBytes: 1 << 20 });
    expect(records.length).toBeLessThan(200);
    expect(engine.cleanerStats('ops', 2)).toBeDefined();
    // Partition 1 lives in b: truncating it there.
    expect(engine.truncateTo('ops', 1, 50)).toBe(true);
    expect(engine.latestOffset('ops', 1)).toBe(50);
    await engine.deleteTopic('ops');
    expect(logDirs.map(partitionDirs)).toEqual([[], [], []]);
    await engine.close();
  });

  it('creates a log in the directory preferred for it (preferLogDir, once), the others by count', async () => {
    const { dataDir, logDirs } = threeDirs();
    const engine = await Engine.open({ dataDir, logDirs });
    engine.preferLogDir('later', 0, logDirs[2]!);
    expect(() => engine.preferLogDir('later', 1, path.join(logDirs[0]!, 'elsewhere'))).toThrow(expect.objectContaining({ code: 'LOG_DIR_NOT_FOUND' }));
    await engine.createTopic('later', { partitions: 3 });
    // Partition 0 where preferred; 1 and 2 to the directories then holding the fewest (a, then b).
    expect([0, 1, 2].map((p) => engine.logDirOf('later', p))).toEqual([logDirs[2], logDirs[0], logDirs[1]]);
    await engine.deleteTopic('later');
    await engine.createTopic('later', { partitions: 1 });
    // Used once: the same partition created again goes by count.
    expect(engine.logDirOf('later', 0)).toBe(logDirs[0]);
    await engine.close();
  });

  it("cleans every directory on one pool of log.cleaner.threads threads, as Kafka's threads serve every directory", () => {
    const pool = new CleanerPool({ ...DEFAULT_CLEANER_CONFIG, threads: 1 });
    const first = pool.take();
    expect(first).toBeDefined();
    // One thread in all: a second directory's cleaner waits for it.
    expect(pool.take()).toBeUndefined();
    const waiting = pool.wait();
    let handed: unknown;
    void waiting.thread.then((thread) => (handed = thread));
    pool.release(first!);
    return waiting.thread.then(async () => {
      expect(handed).toBe(first);
      // More threads by a dynamic change: a second one is made.
      pool.reconfigure({ ...DEFAULT_CLEANER_CONFIG, threads: 2 });
      expect(pool.take()).toBeDefined();
      const gaveUp = pool.wait();
      gaveUp.cancel();
      expect(await gaveUp.thread).toBeUndefined();
      await pool.close();
      expect(pool.take()).toBeUndefined();
    });
  });

  it("gives a free cleaner thread the dirtiest log of every directory, as Kafka's grabFilthiestCompactedLog", async () => {
    const pool = new CleanerPool({ ...DEFAULT_CLEANER_CONFIG, threads: 1 });
    const begun: string[] = [];
    const source = (name: string, dirtyRatio: number) => {
      let cleaned = false;
      return {
        dirtiest: () => (cleaned ? undefined : { dirtyRatio }),
        begin: (thread: CleanerThread) => {
          cleaned = true;
          begun.push(name);
          // The pass ends on a later turn, and its thread goes back to the pool.
          setImmediate(() => pool.release(thread));
        },
      };
    };
    // The first directory's cleaner registered first, with the less dirty log.
    pool.addSource(source('a', 0.6));
    pool.addSource(source('b', 0.9));
    pool.schedule();
    expect(begun).toEqual(['b']);
    await waitUntil(() => begun.length === 2, 'the freed thread to take the other log');
    expect(begun).toEqual(['b', 'a']);
    await pool.close();
  });

  it('compacts logs of both directories with one cleaner thread', async () => {
    const root = tempDir();
    const logDirs = [path.join(root, 'a'), path.join(root, 'b')];
    const engine = await Engine.open({ dataDir: logDirs[0]!, logDirs, config: { 'log.cleaner.threads': 1 } });
    await engine.createTopic('keys', { partitions: 2, config: { 'cleanup.policy': 'compact', 'segment.bytes': 4096 } });
    expect(new Set([0, 1].map((p) => engine.logDirOf('keys', p)))).toEqual(new Set(logDirs));
    for (let round = 0; round < 20; round++) {
      for (const partition of [0, 1]) await engine.produce('keys', Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `round ${round}`.padEnd(100, '.') })), { partition });
    }
    const passes = await Promise.all([0, 1].map((p) => engine.compactNow('keys', p)));
    for (const byPartition of passes) expect([...byPartition.values()].flat().length).toBeGreaterThan(0);
    for (const partition of [0, 1]) expect(engine.cleanerStats('keys', partition)!.dirtyRatio).toBe(0);
    await engine.close();
  });
});
