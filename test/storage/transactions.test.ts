// A log's transactional state (producer-state.ts): transactions opened by transactional batches and
// ended by the coordinator's markers, the last stable offset, the aborted transactions a
// read_committed fetch lists, and all of it after a reopen, a rebuild from the log, a follower's
// copy and a truncation.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { encodeBatch } from '../../src/record/batch.js';
import { encodeMarkerBatch } from '../../src/record/control-record.js';
import { Log } from '../../src/storage/log.js';
import { resolveLogConfig } from '../../src/storage/log-config.js';
import { PRODUCER_SNAPSHOT_FILE } from '../../src/storage/producer-state.js';
import { isSluiceError } from '../../src/errors.js';
import { payload, tempDir } from '../helpers.js';
import { openEngine, readAll, written } from './compaction-helpers.js';

function openLog(dir: string, highWatermark?: number): Log {
  return Log.open({ dir, config: resolveLogConfig({}), highWatermark });
}

/** `count` records of producer `producerId` from `baseSequence`, in its transaction or not. */
function data(producerId: number, baseSequence: number, count = 2, transactional = true, producerEpoch = 0): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ value: payload(baseSequence + i) }));
  return encodeBatch(records, { producerId, producerEpoch, baseSequence, transactional });
}

function marker(producerId: number, commit: boolean, producerEpoch = 0): Buffer {
  return encodeMarkerBatch({ producerId, producerEpoch, commit, coordinatorEpoch: 0, timestamp: Date.now() });
}

function expectError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    expect(isSluiceError(error) ? error.code : error).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('transactions in a log', () => {
  it('holds the last stable offset at the first record of the oldest open transaction until its marker', () => {
    const log = openLog(tempDir());
    log.appendSync(encodeBatch([{ value: 'plain' }]));
    expect(log.lastStableOffset).toBe(1);
    log.appendSync(data(10, 0)); // offsets 1-2, producer 10 opens
    log.appendSync(data(11, 0)); // 3-4, producer 11 opens
    log.appendSync(data(10, 2)); // 5-6
    expect(log.lastStableOffset).toBe(1);
    expect(log.producers.openTransactionStart(10)).toBe(1);
    log.appendSync(marker(10, true), { origin: 'coordinator' }); // 7
    expect(log.lastStableOffset).toBe(3);
    log.appendSync(marker(11, false), { origin: 'coordinator' }); // 8
    expect(log.logEndOffset).toBe(9);
    expect(log.lastStableOffset).toBe(9);
    expect(log.abortedTransactions(0, 9)).toEqual([{ producerId: 11, firstOffset: 3, lastOffset: 8 }]);
    // Only transactions whose records reach into the range are listed.
    expect(log.abortedTransactions(9, 20)).toEqual([]);
    expect(log.abortedTransactions(0, 3)).toEqual([]);
    expect(log.abortedTransactions(8, 20)).toHaveLength(1);
    log.close();
  });

  it('keeps the last stable offset below a marker the high watermark has not passed', () => {
    const log = openLog(tempDir(), 0);
    log.appendSync(data(10, 0)); // 0-1
    log.appendSync(marker(10, true), { origin: 'coordinator' }); // 2
    expect(log.highWatermark).toBe(0);
    expect(log.lastStableOffset).toBe(0);
    log.updateHighWatermark(2);
    expect(log.lastStableOffset).toBe(0);
    log.updateHighWatermark(3);
    expect(log.lastStableOffset).toBe(3);
    log.close();
  });

  it('refuses control batches from clients', () => {
    const log = openLog(tempDir());
    expectError(() => log.appendSync(marker(10, true)), 'INVALID_RECORD');
    expect(log.logEndOffset).toBe(0);
    log.close();
  });

  it('refuses a write outside the open transaction, and a marker at an older epoch', () => {
    const log = openLog(tempDir());
    log.appendSync(data(10, 0));
    expectError(() => log.appendSync(data(10, 2, 1, false)), 'INVALID_TXN_STATE');
    // The producer's epoch moves to 1 (the coordinator fenced it with an abort at the new epoch).
    log.appendSync(marker(10, false, 1), { origin: 'coordinator' });
    expectError(() => log.appendSync(marker(10, true, 0), { origin: 'coordinator' }), 'INVALID_PRODUCER_EPOCH');
    expectError(() => log.appendSync(data(10, 2, 1, true, 0)), 'INVALID_PRODUCER_EPOCH');
    // A new transaction at the new epoch starts at sequence 0.
    log.appendSync(data(10, 0, 1, true, 1));
    expect(log.lastStableOffset).toBe(3);
    log.close();
  });

  it('keeps open and aborted transactions across a reopen, from the snapshot or rebuilt from the log', () => {
    const dir = tempDir();
    const log = openLog(dir);
    log.appendSync(data(10, 0)); // 0-1
    log.appendSync(marker(10, false), { origin: 'coordinator' }); // 2
    log.appendSync(data(11, 0)); // 3-4, open
    log.close();
    const state = (reopened: Log) => ({ lso: reopened.lastStableOffset, aborted: reopened.abortedTransactions(0, 100), open: reopened.producers.openTransactionStart(11) });
    const expected = { lso: 3, aborted: [{ producerId: 10, firstOffset: 0, lastOffset: 2 }], open: 3 };

    const fromSnapshot = openLog(dir);
    expect(state(fromSnapshot)).toEqual(expected);
    fromSnapshot.close();

    fs.rmSync(path.join(dir, PRODUCER_SNAPSHOT_FILE));
    const rebuilt = openLog(dir);
    expect(state(rebuilt)).toEqual(expected);
    // The reopened log still ends producer 11's transaction.
    rebuilt.appendSync(marker(11, true), { origin: 'coordinator' });
    expect(rebuilt.lastStableOffset).toBe(6);
    rebuilt.close();
  });

  it('rebuilds the same state on a follower from the leader\'s bytes, and after a truncation', () => {
    const leader = openLog(tempDir());
    leader.appendSync(data(10, 0)); // 0-1
    leader.appendSync(data(11, 0)); // 2-3
    leader.appendSync(marker(10, false), { origin: 'coordinator' }); // 4
    const read = leader.read(0, 1 << 20)!;
    const follower = openLog(tempDir(), 0);
    follower.appendAsFollower(leader.readBytes(read));
    follower.updateHighWatermark(5);
    expect(follower.lastStableOffset).toBe(2);
    expect(follower.abortedTransactions(0, 5)).toEqual([{ producerId: 10, firstOffset: 0, lastOffset: 4 }]);
    // Truncated below the marker, the abort is undone and producer 10's transaction is open again.
    follower.truncateTo(4);
    expect(follower.abortedTransactions(0, 5)).toEqual([]);
    expect(follower.producers.openTransactionStart(10)).toBe(0);
    leader.close();
    follower.close();
  });

  it('keeps the last stable offset at or above the log start', () => {
    const log = openLog(tempDir());
    log.appendSync(data(10, 0)); // 0-1, open
    log.appendSync(encodeBatch([{ value: 'plain' }])); // 2
    expect(log.lastStableOffset).toBe(0);
    log.deleteRecordsBefore(2);
    expect(log.lastStableOffset).toBe(2);
    log.close();
  });

  it('forgets aborted transactions once the log start passes their markers', () => {
    const log = openLog(tempDir());
    log.appendSync(data(10, 0)); // 0-1
    log.appendSync(marker(10, false), { origin: 'coordinator' }); // 2
    log.appendSync(encodeBatch([{ value: 'after' }])); // 3
    log.deleteRecordsBefore(2);
    expect(log.abortedTransactions(0, 10)).toHaveLength(1);
    log.deleteRecordsBefore(3);
    expect(log.abortedTransactions(0, 10)).toEqual([]);
    log.close();
  });
});

describe('compaction of transactional records', () => {
  it('drops an aborted transaction\'s records without letting them hide the committed value of their keys, and cleans nothing open', async () => {
    const engine = await openEngine(tempDir());
    await engine.createTopic('compacted', { partitions: 1, config: { 'cleanup.policy': 'compact', 'segment.bytes': 1024 } });
    const log = engine.partitionLog('compacted', 0);
    const keyed = (producerId: number, baseSequence: number, key: string, value: string) =>
      encodeBatch([{ key, value }], { producerId, producerEpoch: 0, baseSequence, transactional: true });
    await engine.produce('compacted', [{ key: 'k', value: 'committed' }], { partition: 0 }); // 0
    log.appendSync(keyed(10, 0, 'k', 'aborted')); // 1
    log.appendSync(marker(10, false), { origin: 'coordinator' }); // 2
    const filler = async (from: number) => {
      for (let i = from; i < from + 30; i++) await engine.produce('compacted', [{ key: `filler-${i % 4}`, value: payload(i).toString() }], { partition: 0 });
    };
    await filler(0);
    const openAt = log.logEndOffset;
    log.appendSync(keyed(11, 0, 'open', 'still-open')); // never ended
    await engine.produce('compacted', [{ key: 'open', value: 'after-open' }], { partition: 0 });
    await filler(30);
    expect(log.lastStableOffset).toBe(openAt);
    await engine.compactNow('compacted');

    const left = written(await readAll(engine, 'compacted'));
    const ofKeys = (keys: string[]) => left.filter((r) => keys.includes(r.key ?? '')).map((r) => `${r.key}=${r.value}`);
    // The aborted record is gone, and the committed value of its key stays.
    expect(ofKeys(['k'])).toEqual(['k=committed']);
    // Nothing from the open transaction on is cleaned: its record may still commit.
    expect(ofKeys(['open'])).toEqual(['open=still-open', 'open=after-open']);
    // The fillers before it were cleaned (the pass ran).
    expect(left.filter((r) => r.offset < openAt && r.key?.startsWith('filler')).length).toBeLessThan(30);
    await engine.close();
  });
});
