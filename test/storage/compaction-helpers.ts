// Shared by the log cleaner's tests: an engine with background cleaning off (tests clean with
// compactNow), reading a whole partition, and the records a compaction must leave.
import fs from 'node:fs';
import path from 'node:path';

import { Engine, type ConsumedRecord, type EngineOptions } from '../../src/index.js';
import { iterateBatches, type BatchHeader } from '../../src/record/batch.js';
import type { ConfigValues } from '../../src/storage/log-config.js';

export async function openEngine(dataDir: string, config: ConfigValues = {}, options: Partial<EngineOptions> = {}): Promise<Engine> {
  return Engine.open({ dataDir, config: { 'log.cleaner.enable': false, ...config }, ...options });
}

/** Every record of the partition below its high watermark, fetched from the log start. */
export async function readAll(engine: Engine, topic: string, partition = 0): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = [];
  const log = engine.partitionLog(topic, partition);
  let offset = log.logStartOffset;
  while (offset < log.highWatermark) {
    const fetched = await engine.fetch(topic, partition, { offset });
    records.push(...fetched.records);
    if (fetched.nextOffset <= offset) throw new Error(`fetch at ${offset} did not move on`);
    offset = fetched.nextOffset;
  }
  return records;
}

/** A record as the tests compare them: offset, key and value as text (null stays null). */
export interface Written {
  offset: number;
  key: string | null;
  value: string | null;
}

export function written(records: readonly ConsumedRecord[]): Written[] {
  return records.map((r) => ({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null }));
}

/** The last record of every key, in offset order: what a compaction that keeps tombstones leaves. */
export function lastPerKey(records: readonly Written[], keepTombstones = true): Written[] {
  const last = new Map<string | null, Written>();
  for (const record of records) last.set(record.key, record);
  return [...last.values()].filter((r) => keepTombstones || r.value !== null).sort((a, b) => a.offset - b.offset);
}

/** Produces `records` one produce call (one batch) at a time; returns them with their offsets. */
export async function produceEach(engine: Engine, topic: string, records: ReadonlyArray<{ key: string; value: string | null; timestamp?: number }>): Promise<Written[]> {
  const out: Written[] = [];
  for (const record of records) {
    const [ack] = await engine.produce(topic, [record], { partition: 0 });
    out.push({ offset: ack!.baseOffset, key: record.key, value: record.value });
  }
  return out;
}

/** Produces `records` as one batch; returns them with their offsets. */
export async function produceBatch(engine: Engine, topic: string, records: ReadonlyArray<{ key: string; value: string | null }>, compression?: 'gzip' | 'snappy' | 'lz4' | 'zstd'): Promise<Written[]> {
  const [ack] = await engine.produce(topic, [...records], { partition: 0, compression });
  return records.map((record, i) => ({ offset: ack!.baseOffset + i, key: record.key, value: record.value }));
}

/** Sets a segment file's modification time to `ageMs` before now (the delete horizon reads it). */
export function age(engine: Engine, topic: string, baseOffset: number, ageMs: number): void {
  const file = path.join(engine.partitionLog(topic, 0).dir, `${String(baseOffset).padStart(20, '0')}.log`);
  const when = new Date(Date.now() - ageMs);
  fs.utimesSync(file, when, when);
}

/** Names in a partition directory with the cleaner's temporary suffixes. */
export function leftovers(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => /\.(cleaned|swap|deleted)$/.test(name));
}

/** The headers of every batch in the partition's segment files, oldest first. */
export function batchHeaders(engine: Engine, topic: string, partition = 0): BatchHeader[] {
  const headers: BatchHeader[] = [];
  for (const segment of engine.partitionLog(topic, partition).segmentList()) {
    for (const { header } of iterateBatches(fs.readFileSync(segment.logPath))) headers.push(header);
  }
  return headers;
}
