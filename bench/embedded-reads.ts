// What the engine-fetch suites share: subjects that read a range of records a call from their
// store, the offsets they read from, classic-level's ranged read, and the paired rounds.
import type { ClassicLevel } from 'classic-level';
import type { Key, RootDatabase } from 'lmdb';

import { inRoundOrder, measure, type Measured } from './harness.js';

export interface ReadSubject {
  name: string;
  /** One fetch: reads `perCall` records from the subject's next offset; returns bytes read. */
  call: () => Promise<number> | number;
  close: () => Promise<void> | void;
}

/** Offsets a subject reads from, call after call: [0, perCall, 2 perCall, ...), wrapping before the end. */
export function readOffsets(perCall: number, recordCount: number): () => number {
  const calls = Math.floor(recordCount / perCall);
  let call = 0;
  return () => (call++ % calls) * perCall;
}

export function checkCount(name: string, got: number, wanted: number): void {
  if (got !== wanted) throw new Error(`${name} read ${got} records, expected ${wanted}`);
}

/** classic-level's key of a record: its offset as 8 big-endian bytes, so keys sort by offset. */
export function levelKey(offset: number): Buffer {
  const key = Buffer.allocUnsafe(8);
  key.writeBigUInt64BE(BigInt(offset));
  return key;
}

/**
 * Reads the `count` records from `offset` of a classic-level store through an iterator's nextv;
 * returns the sum of `bytesOf` over their values. nextv returns at most highWaterMarkBytes of
 * entries a call (16 KiB by default): `rangeBytes` at least the range's size lets one call take
 * it all, as one fetch does.
 */
export async function readLevelRange(
  level: ClassicLevel<Buffer, Buffer>,
  offset: number,
  count: number,
  rangeBytes: number,
  bytesOf: (value: Buffer) => number,
): Promise<number> {
  const iterator = level.iterator({ gte: levelKey(offset), lt: levelKey(offset + count), highWaterMarkBytes: rangeBytes });
  let read = 0;
  let bytes = 0;
  for (let entries = await iterator.nextv(count); entries.length > 0; entries = await iterator.nextv(count - read)) {
    for (let i = 0; i < entries.length; i++) bytes += bytesOf(entries[i]![1]!);
    read += entries.length;
    if (read === count) break;
  }
  await iterator.close();
  checkCount('classic-level', read, count);
  return bytes;
}

/** Reads the `count` records from `offset` of an lmdb store; returns the sum of `bytesOf` over their values. */
export function readLmdbRange<V>(lmdb: RootDatabase<V, Key>, offset: number, count: number, bytesOf: (value: V) => number): number {
  let read = 0;
  let bytes = 0;
  for (const { value } of lmdb.getRange({ start: offset, end: offset + count })) {
    bytes += bytesOf(value);
    read++;
  }
  checkCount('lmdb', read, count);
  return bytes;
}

/**
 * Paired rounds: in each, every subject runs one window of `windowMs` (at least `callsMin`
 * calls), the order alternating between rounds. Returns each subject's windows, round by round.
 */
export async function measureRounds(suite: string, subjects: readonly ReadSubject[], rounds: number, windowMs: number, callsMin: number): Promise<Map<string, Measured[]>> {
  const measured = new Map<string, Measured[]>(subjects.map((subject) => [subject.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const subject of inRoundOrder(subjects, round)) measured.get(subject.name)!.push(await measure(`${suite} ${subject.name}`, subject.call, windowMs, callsMin));
  }
  return measured;
}
