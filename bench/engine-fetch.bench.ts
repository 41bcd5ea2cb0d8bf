// Reading with the embedded public API: a consumer's loop of 1 MiB fetches over 100 B records that
// engine.produce wrote in calls of 1,000, from the page cache, against the embedded stores a Node
// user would otherwise read the same records from, each through its own public API, in the same
// run, with the same warm-up and clock (tinybench, paired rounds):
//   sluice engine.fetch                 decoded { offset, timestamp, key, value, headers } objects
//   sluice fetchBatches                 the batch bytes read into a reused buffer (raw batches)
//   sluice fetchBatches + RecordCursor  the same, walked lazily record by record
//   better-sqlite3                      one SELECT of the range, .all() (row objects, as fetch's)
//   lmdb                                getRange over the offsets (values as Buffers)
//   classic-level                       an iterator's nextv over the offsets (2 MiB a call)
// and the ceiling for the lazy path: a pread (fs.readSync) of the same bytes into a reused buffer;
// and, labelled internal, what engine.fetch did before: the log's read on the thread pool, then
// the generic decodeBatch per batch (record.ts readRecord: an object, a headers array and two
// subarray views per record).
// Every subject reads the same number of records a call (what one 1 MiB engine.fetch returns),
// from the same offsets, and touches each record's value length, so that no work can be skipped.
//
// Expected on the 2-core reference machine (issue 10): engine.fetch >= 5M records/s, the lazy path
// >= 1 GB/s. Before the hand-written decoder (record-cursor.ts) engine.fetch ran ~1.2-1.8M
// records/s: a generic decodeBatch per batch and a read on the thread pool.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ClassicLevel } from 'classic-level';
import { open as openLmdb } from 'lmdb';

import { Engine } from '../src/engine/engine.js';
import { decodeBatch, iterateBatches } from '../src/record/batch.js';
import type { DecodedRecord } from '../src/record/record.js';
import { RecordCursor } from '../src/record/record-cursor.js';
import { checkCount, levelKey, measureRounds, readLevelRange, readLmdbRange, readOffsets, type ReadSubject } from './embedded-reads.js';
import { benchDir, fill, median, type Ratio, type Row, type RunOptions, type SuiteResult } from './harness.js';

const VALUE_BYTES = 100;
const BATCH_RECORDS = 1000;
const FETCH_BYTES = 1024 * 1024;
/**
 * Paired rounds, as in engine-produce.bench.ts: each subject one short window a round, ratios per
 * round, the median reported. A peer's call takes 10-100 ms (a new ArrayBuffer per value), so a
 * window asks for at least 2 calls, not tinybench's 16, and the quick run makes 5 rounds.
 */
const ROUNDS_FULL = 8;
const ROUNDS_QUICK = 5;
const CALLS_MIN = 2;
const PEERS = ['better-sqlite3', 'lmdb', 'classic-level'];
const FETCH = 'sluice engine.fetch';
const RAW = 'sluice fetchBatches';
const LAZY = 'sluice fetchBatches + RecordCursor';
const CEILING = 'fs.readSync ceiling';
const GENERIC = 'readBytesAsync + decodeBatch (internal, the path before)';

export async function run(options: RunOptions): Promise<SuiteResult> {
  const recordCount = options.quick ? 200_000 : 1_000_000;
  const timeMs = options.quick ? 1500 : 6000;
  const ROUNDS = options.quick ? ROUNDS_QUICK : ROUNDS_FULL;
  const dir = benchDir('engine-fetch');
  const values = Array.from({ length: BATCH_RECORDS }, (_, i) => fill(VALUE_BYTES, i));
  const now = Date.now();

  const engine = await Engine.open({ dataDir: path.join(dir, 'sluice') });
  await engine.createTopic('f', { partitions: 1 });
  const produced = values.map((value) => ({ value }));
  for (let i = 0; i < recordCount / BATCH_RECORDS; i++) await engine.produce('f', produced, { partition: 0 });
  await engine.flush(); // no writeback of the fresh log competes with the reads
  // A consumer's fetch from a batch boundary returns whole batches: every call the same count.
  const first = await engine.fetch('f', 0, { offset: 0, maxBytes: FETCH_BYTES });
  const perCall = first.records.length;
  const fetchBytes = (await engine.fetchBatches('f', 0, { offset: 0, maxBytes: FETCH_BYTES })).batches.length;

  const db = new Database(path.join(dir, 'sqlite.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.exec('CREATE TABLE records (offset INTEGER PRIMARY KEY, timestamp INTEGER, key BLOB, value BLOB)');
  const insert = db.prepare('INSERT INTO records (offset, timestamp, key, value) VALUES (?, ?, NULL, ?)');
  db.transaction(() => {
    for (let offset = 0; offset < recordCount; offset++) insert.run(offset, now, values[offset % BATCH_RECORDS]);
  })();
  const lmdb = openLmdb({ path: path.join(dir, 'lmdb'), encoding: 'binary', noSync: true });
  await lmdb.transaction(() => {
    for (let offset = 0; offset < recordCount; offset++) lmdb.put(offset, values[offset % BATCH_RECORDS]!);
  });
  const level = new ClassicLevel<Buffer, Buffer>(path.join(dir, 'level'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await level.open();
  for (let start = 0; start < recordCount; start += 10_000) {
    const ops = [];
    for (let offset = start; offset < Math.min(recordCount, start + 10_000); offset++) ops.push({ type: 'put' as const, key: levelKey(offset), value: values[offset % BATCH_RECORDS]! });
    await level.batch(ops);
  }
  await level.compactRange(levelKey(0), levelKey(recordCount)); // reads meet one sorted level, not the memtable

  const into = Buffer.allocUnsafe(2 * FETCH_BYTES);
  const cursor = new RecordCursor();
  const log = engine.partitionLog('f', 0);
  const segmentFile = path.join(dir, 'sluice', 'f-0', '00000000000000000000.log');
  const ceilingFd = fs.openSync(segmentFile, 'r');
  const ceilingSize = fs.fstatSync(ceilingFd).size;
  const select = db.prepare('SELECT offset, timestamp, key, value FROM records WHERE offset >= ? ORDER BY offset LIMIT ?');

  const subjects: ReadSubject[] = [
    (() => {
      const next = readOffsets(perCall, recordCount);
      return {
        name: FETCH,
        call: async () => {
          const { records } = await engine.fetch('f', 0, { offset: next(), maxBytes: FETCH_BYTES });
          let bytes = 0;
          for (let i = 0; i < records.length; i++) bytes += records[i]!.value!.length;
          checkCount(FETCH, records.length, perCall);
          return bytes;
        },
        close: () => {},
      };
    })(),
    (() => {
      const next = readOffsets(perCall, recordCount);
      return {
        name: RAW,
        call: async () => {
          const { batches, nextOffset } = await engine.fetchBatches('f', 0, { offset: next(), maxBytes: FETCH_BYTES, into });
          if (nextOffset % perCall !== 0) throw new Error(`${RAW} stopped at offset ${nextOffset}`);
          return batches.length;
        },
        close: () => {},
      };
    })(),
    (() => {
      const next = readOffsets(perCall, recordCount);
      return {
        name: LAZY,
        call: async () => {
          const offset = next();
          const { batches } = await engine.fetchBatches('f', 0, { offset, maxBytes: FETCH_BYTES, into });
          cursor.reset(batches, { fromOffset: offset });
          let count = 0;
          let bytes = 0;
          while (cursor.next()) {
            bytes += cursor.valueLength;
            count++;
          }
          checkCount(LAZY, count, perCall);
          return bytes;
        },
        close: () => {},
      };
    })(),
    (() => {
      const next = readOffsets(perCall, recordCount);
      return {
        name: 'better-sqlite3',
        call: () => {
          const rows = select.all(next(), perCall) as Array<{ value: Buffer }>;
          let bytes = 0;
          for (let i = 0; i < rows.length; i++) bytes += rows[i]!.value.length;
          checkCount('better-sqlite3', rows.length, perCall);
          return bytes;
        },
        close: () => void db.close(),
      };
    })(),
    (() => {
      const next = readOffsets(perCall, recordCount);
      return {
        name: 'lmdb',
        call: () => readLmdbRange(lmdb, next(), perCall, (value) => (value as Buffer).length),
        close: () => lmdb.close(),
      };
    })(),
    (() => {
      const next = readOffsets(perCall, recordCount);
      return {
        name: 'classic-level',
        call: () => readLevelRange(level, next(), perCall, 2 * FETCH_BYTES, (value) => value.length),
        close: () => level.close(),
      };
    })(),
    (() => {
      const next = readOffsets(perCall, recordCount);
      return {
        name: GENERIC,
        call: async () => {
          const offset = next();
          const read = log.read(offset, FETCH_BYTES)!;
          const bytes = await read.segment.readBytesAsync(read.region.position, read.region.sizeBytes);
          const records: DecodedRecord[] = [];
          for (const { at } of iterateBatches(bytes)) {
            const decoded = decodeBatch(bytes, at, { skipCrc: true });
            if (decoded.header.isControl) continue;
            for (const record of decoded.records) if (record.offset >= offset) records.push(record);
          }
          let total = 0;
          for (let i = 0; i < records.length; i++) total += records[i]!.value!.length;
          checkCount(GENERIC, records.length, perCall);
          return total;
        },
        close: () => {},
      };
    })(),
    (() => {
      // The same bytes the lazy path reads, from the same file, into a reused buffer: what a read
      // costs with no log lookup and no record walk.
      const next = readOffsets(perCall, recordCount);
      return {
        name: CEILING,
        call: () => {
          const position = (next() / perCall) * fetchBytes;
          return fs.readSync(ceilingFd, into, 0, Math.min(fetchBytes, ceilingSize - position), position);
        },
        close: () => fs.closeSync(ceilingFd),
      };
    })(),
  ];
  // Every subject reads what it should before it is timed.
  for (const subject of subjects) await subject.call();
  if (log.logEndOffset !== recordCount) throw new Error(`the log holds ${log.logEndOffset} records, expected ${recordCount}`);

  const rounds = await measureRounds('engine-fetch', subjects, ROUNDS, timeMs / ROUNDS, CALLS_MIN);
  for (const subject of subjects) await subject.close();
  await engine.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const workload = `fetch 1 MiB of 100 B (${perCall} records)`;
  const rows: Row[] = [];
  const rate = (name: string) => median(rounds.get(name)!.map((m) => m.opsPerSec));
  for (const [subject, measured] of rounds) {
    const opsPerSec = rate(subject);
    // Bytes: the batch bytes read for sluice and the ceiling, the values for the peers (which store no more).
    const bytesPerCall = PEERS.includes(subject) ? perCall * VALUE_BYTES : fetchBytes;
    rows.push({
      suite: 'engine-fetch',
      workload,
      subject,
      recordsPerSec: subject === CEILING ? undefined : opsPerSec * perCall,
      bytesPerSec: opsPerSec * bytesPerCall,
      medianNs: median(measured.map((m) => m.medianNs)),
    });
  }
  const perRound = (subject: string, other: (round: number) => number) => median(rounds.get(subject)!.map((m, round) => m.opsPerSec / other(round)));
  const fastestPeer = (round: number) => Math.max(...PEERS.map((name) => rounds.get(name)![round]!.opsPerSec));
  const best = PEERS.reduce((a, b) => (rate(b) > rate(a) ? b : a));
  const ratios: Ratio[] = [
    {
      name: 'engine_fetch_100b_vs_best_embedded_peer',
      value: perRound(FETCH, fastestPeer),
      description: `${workload}: engine.fetch (decoded objects) / the fastest of ${PEERS.join(', ')} in the same round (median of ${ROUNDS}; fastest overall: ${best})`,
    },
    {
      name: 'engine_fetch_100b_vs_generic_decoder',
      value: perRound(FETCH, (round) => rounds.get(GENERIC)![round]!.opsPerSec),
      description: `${workload}: engine.fetch / the path it replaced (readBytesAsync + decodeBatch per batch, internal) in the same round (median of ${ROUNDS})`,
    },
    {
      name: 'engine_fetch_batches_cursor_100b_vs_best_embedded_peer',
      value: perRound(LAZY, fastestPeer),
      description: `${workload}: fetchBatches + RecordCursor / the fastest peer in the same round (median of ${ROUNDS})`,
    },
    {
      name: 'engine_fetch_batches_100b_vs_ceiling',
      value: perRound(RAW, (round) => rounds.get(CEILING)![round]!.opsPerSec),
      description: `${workload}: fetchBatches (raw bytes) / fs.readSync of the same bytes into a reused buffer (median of ${ROUNDS} rounds)`,
    },
    {
      name: 'engine_fetch_batches_cursor_100b_vs_ceiling',
      value: perRound(LAZY, (round) => rounds.get(CEILING)![round]!.opsPerSec),
      description: `${workload}: fetchBatches + RecordCursor / fs.readSync of the same bytes into a reused buffer (median of ${ROUNDS} rounds)`,
    },
  ];
  const fetchRate = rate(FETCH) * perCall;
  const gbps = (name: string) => `${((rate(name) * fetchBytes) / 1e9).toFixed(2)} GB/s`;
  // A call's median time, as a rate: on the shared machine the mean carries the calls that waited
  // for a core, which the median leaves out.
  const medianRate = (name: string, perCallUnits: number) => perCallUnits / (median(rounds.get(name)!.map((m) => m.medianNs)) / 1e9);
  const notes = [
    `engine-fetch: engine.fetch ${(fetchRate / 1e6).toFixed(2)}M records/s (target >= 5M); fetchBatches ${gbps(RAW)} of batch bytes, with RecordCursor ` +
      `touching every value ${gbps(LAZY)}, ${((rate(LAZY) * perCall) / 1e6).toFixed(2)}M records/s (target >= 1 GB/s); pread ceiling ${gbps(CEILING)}; ` +
      `means of calls, medians of ${ROUNDS} rounds, one process, page cache`,
    `engine-fetch: from the median call instead: engine.fetch ${(medianRate(FETCH, perCall) / 1e6).toFixed(2)}M records/s, fetchBatches ` +
      `${(medianRate(RAW, fetchBytes) / 1e9).toFixed(2)} GB/s, with RecordCursor ${(medianRate(LAZY, fetchBytes) / 1e9).toFixed(2)} GB/s`,
  ];
  return { rows, ratios, notes };
}
