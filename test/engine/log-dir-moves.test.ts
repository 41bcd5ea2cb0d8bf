// Moving a partition's log to another log directory while it stays live (Engine.alterLogDir, Kafka's
// AlterReplicaLogDirs): every record, offset, leader epoch and idempotent producer's state goes
// with it, writes during the move land, a truncation or a moved log start during the move is
// followed, a move can be cancelled, and what a restart or crash leaves (a partial copy: the move
// resumes; a complete one whose live log was already renamed away: adopted) is resolved on open.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { Engine } from '../../src/index.js';
import { encodeBatch } from '../../src/record/batch.js';
import { encodeMarkerBatch } from '../../src/record/control-record.js';
import { tempDir } from '../helpers.js';

const TOPIC = 'moving';

async function twoDirs(config: Record<string, string | number> = {}): Promise<{ engine: Engine; logDirs: string[] }> {
  const root = tempDir();
  const logDirs = [path.join(root, 'a'), path.join(root, 'b')];
  const engine = await Engine.open({ dataDir: logDirs[0]!, logDirs });
  await engine.createTopic(TOPIC, { partitions: 1, config: { 'segment.bytes': 64 * 1024, ...config } });
  expect(engine.logDirOf(TOPIC, 0)).toBe(logDirs[0]);
  return { engine, logDirs };
}

/** Every record of partition 0 from its log start: offset, key, value and headers as text. */
async function readAll(engine: Engine): Promise<string[]> {
  const lines: string[] = [];
  let offset = engine.earliestOffset(TOPIC, 0);
  for (;;) {
    const { records, nextOffset, highWatermark } = await engine.fetch(TOPIC, 0, { offset, maxBytes: 1024 * 1024 });
    for (const record of records) lines.push(`${record.offset} ${record.key?.toString()} ${record.value?.toString()} ${record.headers.map((h) => `${h.key}=${h.value?.toString()}`).join(',')}`);
    if (nextOffset >= highWatermark) return lines;
    offset = nextOffset;
  }
}

function produceChunk(engine: Engine, from: number, count: number) {
  return engine.produce(
    TOPIC,
    Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `value ${from + i} `.padEnd(100, '.'), headers: [{ key: 'n', value: String(from + i) }] })),
    { partition: 0 },
  );
}

/** Records [from, to) in calls of 400 (~48 KB, under the 64 KiB segments). */
async function produceRange(engine: Engine, from: number, to: number): Promise<void> {
  for (let at = from; at < to; at += 400) await produceChunk(engine, at, Math.min(400, to - at));
}

/** Entries of `dir` that are a move's leftovers: `*-future` or `*-delete` directories. */
function leftovers(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => name.endsWith('-future') || name.endsWith('-delete'));
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 3000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

async function settled(dirs: string[]): Promise<void> {
  // Removals run off the event loop after the swap.
  for (let i = 0; i < 200 && dirs.some((dir) => leftovers(dir).length > 0); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  for (const dir of dirs) expect(leftovers(dir)).toEqual([]);
}

describe('Engine.alterLogDir', () => {
  it('moves a log of many segments while records keep being appended; every record is there, in the new directory, and after a reopen', async () => {
    const { engine, logDirs } = await twoDirs();
    let produced = 20_000;
    await produceRange(engine, 0, produced);
    const log = engine.partitionLog(TOPIC, 0);
    expect(log.segmentCount).toBeGreaterThan(20);
    log.assignEpochStartOffset(3, log.logEndOffset);

    let moved = false;
    const move = engine.alterLogDir(TOPIC, 0, logDirs[1]!).then(() => (moved = true));
    // Appends go on while the copy runs, and some come after each step of it.
    while (!moved) {
      await produceChunk(engine, produced, 200);
      produced += 200;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await move;
    expect(produced).toBeGreaterThan(20_000);
    await produceChunk(engine, produced, 100);
    produced += 100;

    expect(engine.logDirOf(TOPIC, 0)).toBe(logDirs[1]);
    expect(fs.existsSync(path.join(logDirs[0]!, `${TOPIC}-0`))).toBe(false);
    expect(fs.readdirSync(path.join(logDirs[1]!, `${TOPIC}-0`)).filter((name) => name.endsWith('.log')).length).toBeGreaterThan(20);
    const expected = Array.from({ length: produced }, (_, i) => `${i} k${i} ${`value ${i} `.padEnd(100, '.')} n=${i}`);
    expect(await readAll(engine)).toEqual(expected);
    // The epoch assigned before the move (no batch carries it) moved with the log.
    expect(engine.partitionLog(TOPIC, 0).leaderEpochCache.epochEntries()).toEqual([{ epoch: 3, startOffset: 20_000 }]);
    await settled(logDirs);
    // Each directory's checkpoints name only what it holds.
    await engine.close();
    expect(fs.readFileSync(path.join(logDirs[0]!, 'recovery-point-offset-checkpoint'), 'utf8')).not.toContain(TOPIC);
    expect(fs.readFileSync(path.join(logDirs[1]!, 'recovery-point-offset-checkpoint'), 'utf8')).toContain(`${TOPIC} 0`);

    const reopened = await Engine.open({ dataDir: logDirs[0]!, logDirs });
    expect(reopened.startup.cleanShutdown).toBe(true);
    expect(reopened.logDirOf(TOPIC, 0)).toBe(logDirs[1]);
    expect(await readAll(reopened)).toEqual(expected);
    await reopened.close();
  });

  it('copies in steps that let the event loop serve other work: a callback queued as the move starts runs after its first step, before the rest', async () => {
    const { engine, logDirs } = await twoDirs({ 'segment.bytes': 1024 * 1024 });
    // ~7 MB: two steps of MOVE_STEP_BYTES (4 MiB) at least.
    for (let at = 0; at < 60_000; at += 1000) await produceChunk(engine, at, 1000);
    const move = engine.alterLogDir(TOPIC, 0, logDirs[1]!);
    // The first step has run, the rest of the copy has not.
    const copied = await new Promise<number | undefined>((resolve) => setImmediate(() => resolve(engine.logDirMoves()[0]?.logEndOffset)));
    expect(copied).toBeGreaterThan(0);
    expect(copied).toBeLessThan(60_000);
    await move;
    expect(engine.logDirOf(TOPIC, 0)).toBe(logDirs[1]);
    expect(engine.latestOffset(TOPIC, 0)).toBe(60_000);
    await engine.close();
  });

  it("keeps an idempotent producer's sequence state: a retried batch is still a duplicate after the move", async () => {
    const { engine, logDirs } = await twoDirs();
    const batch = (sequence: number) => encodeBatch([{ value: `s${sequence}` }], { producerId: 7, producerEpoch: 0, baseSequence: sequence });
    for (let sequence = 0; sequence < 5; sequence++) await engine.appendBatches(TOPIC, 0, batch(sequence));
    await engine.alterLogDir(TOPIC, 0, logDirs[1]!);
    expect(engine.logDirOf(TOPIC, 0)).toBe(logDirs[1]);
    const retry = await engine.appendBatches(TOPIC, 0, batch(4));
    expect(retry).toMatchObject({ duplicate: true, baseOffset: 4 });
    expect(engine.latestOffset(TOPIC, 0)).toBe(5);
    await expect(engine.appendBatches(TOPIC, 0, batch(7))).rejects.toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    await engine.close();
  });

  it('carries transactions across: an aborted one stays out of read_committed, an open one holds the last stable offset until its marker', async () => {
    const { engine, logDirs } = await twoDirs();
    const transactional = (producerId: number, baseSequence: number, value: string) => encodeBatch([{ value }], { producerId, producerEpoch: 0, baseSequence, transactional: true });
    const marker = (producerId: number, commit: boolean) => encodeMarkerBatch({ producerId, producerEpoch: 0, commit, coordinatorEpoch: 0, timestamp: Date.now() });
    await engine.appendBatches(TOPIC, 0, transactional(8, 0, 'aborted')); // 0
    await engine.appendBatches(TOPIC, 0, marker(8, false), { origin: 'coordinator' }); // 1
    await engine.appendBatches(TOPIC, 0, transactional(9, 0, 'open')); // 2: its transaction still open at the move
    await engine.produce(TOPIC, [{ value: 'plain' }], { partition: 0 }); // 3
    await engine.alterLogDir(TOPIC, 0, logDirs[1]!);
    expect(engine.logDirOf(TOPIC, 0)).toBe(logDirs[1]);
    const committed = async () => (await engine.fetch(TOPIC, 0, { offset: 0, isolationLevel: 'read_committed' })).records.map((r) => r.value!.toString());
    const stable = async () => (await engine.fetch(TOPIC, 0, { offset: 0, isolationLevel: 'read_committed' })).lastStableOffset;
    expect(await stable()).toBe(2);
    expect(await committed()).toEqual([]);
    await engine.appendBatches(TOPIC, 0, marker(9, true), { origin: 'coordinator' }); // 4
    expect(await stable()).toBe(5);
    expect(await committed()).toEqual(['open', 'plain']);
    await engine.close();
  });

  it('follows a truncation and a moved log start during the move: the moved log is the live one', async () => {
    const { engine, logDirs } = await twoDirs();
    await produceRange(engine, 0, 30_000);
    const move = engine.alterLogDir(TOPIC, 0, logDirs[1]!);
    // Let the copy get past offset 10,000 before cutting the log below where it has copied to.
    while ((engine.logDirMoves()[0]?.logEndOffset ?? 0) < 10_000) await new Promise((resolve) => setImmediate(resolve));
    const [progress] = engine.logDirMoves();
    expect(progress).toMatchObject({ topic: TOPIC, partition: 0, from: logDirs[0], to: logDirs[1] });
    expect(progress!.lag).toBe(30_000 - progress!.logEndOffset);
    // A follower's truncation to 4,800 (a batch boundary), then other records at the same offsets.
    engine.truncateTo(TOPIC, 0, 4800);
    for (let from = 0; from < 3000; from += 1000) await engine.produce(TOPIC, Array.from({ length: 1000 }, (_, i) => ({ key: 'again', value: `after ${from + i}` })), { partition: 0 });
    await engine.deleteRecords(TOPIC, 0, 1500);
    await move;
    expect(engine.logDirOf(TOPIC, 0)).toBe(logDirs[1]);
    expect(engine.earliestOffset(TOPIC, 0)).toBe(1500);
    const records = await readAll(engine);
    expect(records.length).toBe(7800 - 1500);
    expect(records[0]).toMatch(/^1500 k1500 /);
    expect(records[3299]).toMatch(/^4799 k4799 /);
    expect(records.slice(3300).map((line) => line.split(' ').slice(0, 4).join(' '))).toEqual(Array.from({ length: 3000 }, (_, i) => `${4800 + i} again after ${i}`));
    await settled(logDirs);
    await engine.close();
  });

  it('is cancelled by a move back to where the log is, and replaced by a move elsewhere; LOG_DIR_NOT_FOUND for a directory not listed', async () => {
    const root = tempDir();
    const logDirs = ['a', 'b', 'c'].map((name) => path.join(root, name));
    const engine = await Engine.open({ dataDir: logDirs[0]!, logDirs });
    await engine.createTopic(TOPIC, { partitions: 1, config: { 'segment.bytes': 64 * 1024 } });
    await produceRange(engine, 0, 20_000);
    const expected = await readAll(engine);

    const toB = engine.alterLogDir(TOPIC, 0, logDirs[1]!);
    const outcome = toB.then(
      () => 'moved',
      (error: { code: string }) => error.code,
    );
    await engine.alterLogDir(TOPIC, 0, logDirs[0]!);
    expect(await outcome).toBe('KAFKA_STORAGE_ERROR');
    expect(engine.logDirOf(TOPIC, 0)).toBe(logDirs[0]);
    expect(engine.logDirMoves()).toEqual([]);

    const toB2 = engine.alterLogDir(TOPIC, 0, logDirs[1]!).catch((error: { code: string }) => error.code);
    await engine.alterLogDir(TOPIC, 0, logDirs[2]!);
    expect(await toB2).toBe('KAFKA_STORAGE_ERROR');
    expect(engine.logDirOf(TOPIC, 0)).toBe(logDirs[2]);
    expect(await readAll(engine)).toEqual(expected);
    await settled(logDirs);

    await expect(engine.alterLogDir(TOPIC, 0, path.join(root, 'elsewhere'))).rejects.toMatchObject({ code: 'LOG_DIR_NOT_FOUND' });
    await expect(engine.alterLogDir(TOPIC, 1, logDirs[1]!)).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await engine.close();
  });

  it('gives up a move whose log is deleted, and one under way when the engine closes, leaving no copy behind', async () => {
    const { engine, logDirs } = await twoDirs();
    await produceRange(engine, 0, 20_000);
    const deleted = engine.alterLogDir(TOPIC, 0, logDirs[1]!).catch((error: { code: string }) => error.code);
    await engine.deleteTopic(TOPIC);
    expect(await deleted).toBe('KAFKA_STORAGE_ERROR');

    await engine.createTopic(TOPIC, { partitions: 1, config: { 'segment.bytes': 64 * 1024 } });
    await produceRange(engine, 0, 20_000);
    const closing = engine.alterLogDir(TOPIC, 0, logDirs[1]!).catch((error: { code: string }) => error.code);
    await engine.close();
    expect(await closing).toBe('KAFKA_STORAGE_ERROR');
    for (const dir of logDirs) expect(leftovers(dir)).toEqual([]);

    const reopened = await Engine.open({ dataDir: logDirs[0]!, logDirs });
    expect(reopened.logDirOf(TOPIC, 0)).toBe(logDirs[0]);
    expect((await readAll(reopened)).length).toBe(20_000);
    await reopened.close();
  });

  it('resumes on open a move a restart interrupted, from what its future log holds', async () => {
    const { engine, logDirs } = await twoDirs();
    await produceRange(engine, 0, 20_000);
    // 200 KB/s: the ~2.5 MB would take ~12 s; the engine closes once a fifth is copied.
    engine.setLogDirMoveRate(200_000);
    const interrupted = engine.alterLogDir(TOPIC, 0, logDirs[1]!).catch((error: { code: string }) => error.code);
    const backup = path.join(logDirs[0]!, '..', 'future-backup');
    await waitFor(() => (engine.logDirMoves()[0]?.logEndOffset ?? 0) >= 4000);
    // What a crash would leave: the future as it is now (Engine.close would remove it).
    const future = fs.readdirSync(logDirs[1]!).find((name) => name.endsWith('-future'))!;
    fs.cpSync(path.join(logDirs[1]!, future), backup, { recursive: true });
    const copied = engine.logDirMoves()[0]!.logEndOffset;
    await engine.close();
    expect(await interrupted).toBe('KAFKA_STORAGE_ERROR');
    fs.renameSync(backup, path.join(logDirs[1]!, future));

    const reopened = await Engine.open({ dataDir: logDirs[0]!, logDirs });
    // Resumed where the copy was, not from the start; the log stays live in its old directory meanwhile.
    const [resumed] = reopened.logDirMoves();
    expect(resumed).toMatchObject({ topic: TOPIC, partition: 0, from: logDirs[0], to: logDirs[1] });
    expect(resumed!.logEndOffset).toBeGreaterThanOrEqual(copied);
    await produceRange(reopened, 20_000, 21_000);
    await waitFor(() => reopened.logDirOf(TOPIC, 0) === logDirs[1]);
    expect(await readAll(reopened)).toEqual(Array.from({ length: 21_000 }, (_, i) => `${i} k${i} ${`value ${i} `.padEnd(100, '.')} n=${i}`));
    await settled(logDirs);
    await reopened.close();
  });

  it('on open, resumes from a copy a crash left beside the live log, and adopts a complete one whose live log was renamed away', async () => {
    const { engine, logDirs } = await twoDirs();
    await produceRange(engine, 0, 5000);
    const expected = await readAll(engine);
    await engine.close();
    const live = path.join(logDirs[0]!, `${TOPIC}-0`);

    // A crash during the copy (here, one that had copied everything): the move goes on and ends.
    fs.cpSync(live, path.join(logDirs[1]!, `${TOPIC}-0.0123456789abcdef0123456789abcdef-future`), { recursive: true });
    let reopened = await Engine.open({ dataDir: logDirs[0]!, logDirs });
    expect(reopened.logDirMoves()).toHaveLength(1);
    await waitFor(() => reopened.logDirOf(TOPIC, 0) === logDirs[1]);
    await settled(logDirs);
    expect(await readAll(reopened)).toEqual(expected);
    await reopened.close();

    // A crash between the swap's renames: the live log is a `-delete` directory, the future complete.
    const moved = path.join(logDirs[1]!, `${TOPIC}-0`);
    fs.cpSync(moved, path.join(logDirs[0]!, `${TOPIC}-0.0123456789abcdef0123456789abcdef-future`), { recursive: true });
    fs.renameSync(moved, path.join(logDirs[1]!, `${TOPIC}-0.fedcba9876543210fedcba9876543210-delete`));
    fs.rmSync(path.join(logDirs[1]!, '.sluice_cleanshutdown'));
    reopened = await Engine.open({ dataDir: logDirs[0]!, logDirs });
    expect(reopened.logDirOf(TOPIC, 0)).toBe(logDirs[0]);
    expect(reopened.logDirMoves()).toEqual([]);
    for (const dir of logDirs) expect(leftovers(dir)).toEqual([]);
    expect(await readAll(reopened)).toEqual(expected);
    await produceChunk(reopened, 5000, 10);
    expect(reopened.latestOffset(TOPIC, 0)).toBe(5010);
    await reopened.close();

    // Two copies of one partition: neither is trusted, both go.
    fs.cpSync(live, path.join(logDirs[1]!, `${TOPIC}-0.0123456789abcdef0123456789abcdef-future`), { recursive: true });
    fs.cpSync(live, path.join(logDirs[1]!, `${TOPIC}-0.abcdef0123456789abcdef0123456789-future`), { recursive: true });
    reopened = await Engine.open({ dataDir: logDirs[0]!, logDirs });
    expect(reopened.logDirMoves()).toEqual([]);
    for (const dir of logDirs) expect(leftovers(dir)).toEqual([]);
    expect(reopened.logDirOf(TOPIC, 0)).toBe(logDirs[0]);
    await reopened.close();
  });
});
