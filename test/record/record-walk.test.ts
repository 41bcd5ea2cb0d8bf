// The native record walk (src/record/record-walk.ts over native/record_walk.cc) against the
// record decoder (decodeBatch), which reads every field in JS: on valid batches both see the same
// records and timestamps; on corrupted records both refuse, and the walk never reads out of bounds.
import { describe, expect, it } from 'vitest';

import { isSluiceError } from '../../src/errors.js';
import { BASE_TIMESTAMP_OFFSET, RECORDS_OFFSET, decodeBatch, encodeBatch, type RecordInput } from '../../src/record/index.js';
import { walkRecords } from '../../src/record/record-walk.js';
import { prng } from '../fixtures/random.js';

const BASE_TS = 1_700_000_000_000;


function randomBytes(random: () => number, n: number): Buffer {
  const buf = Buffer.alloc(n);
  for (let i = 0; i < n; i++) buf[i] = Math.floor(random() * 256);
  return buf;
}

/** Records in random order of time (deltas may be negative), some without a timestamp (-1 is a timestamp too). */
function randomRecords(random: () => number, count: number): RecordInput[] {
  return Array.from({ length: count }, () => {
    const headers: Record<string, Buffer | null> = {};
    for (let h = 0; h < Math.floor(random() * 3); h++) headers[`h${h}`] = random() < 0.2 ? null : randomBytes(random, Math.floor(random() * 20));
    return {
      key: random() < 0.2 ? null : randomBytes(random, Math.floor(random() * 40)),
      value: random() < 0.1 ? null : randomBytes(random, Math.floor(random() * 300)),
      headers,
      timestamp: BASE_TS + Math.floor((random() - 0.3) * 100_000),
    };
  });
}

function baseTimestampOf(batch: Buffer): number {
  return Number(batch.readBigInt64BE(BASE_TIMESTAMP_OFFSET));
}

describe('walkRecords', () => {
  it('counts the records and finds the largest and smallest timestamps decodeBatch finds', () => {
    const random = prng(7);
    for (let round = 0; round < 300; round++) {
      const batch = encodeBatch(randomRecords(random, 1 + Math.floor(random() * 40)));
      const decoded = decodeBatch(batch).records;
      const summary = walkRecords(batch, RECORDS_OFFSET, batch.length, baseTimestampOf(batch));
      const timestamps = decoded.map((record) => record.timestamp);
      expect(summary.count).toBe(decoded.length);
      expect(summary.maxTimestamp).toBe(Math.max(...timestamps));
      expect(summary.minCheckedTimestamp).toBe(Math.min(...timestamps));
      expect(summary.maxCheckedTimestamp).toBe(Math.max(...timestamps));
      expect(summary.offsetDeltasInOrder).toBe(true);
    }
  });

  it('leaves records without a timestamp (-1) out of the checked range, but not out of the max', () => {
    const batch = encodeBatch([{ value: 'a', timestamp: -1 }, { value: 'b', timestamp: 5 }, { value: 'c', timestamp: -1 }]);
    const summary = walkRecords(batch, RECORDS_OFFSET, batch.length, baseTimestampOf(batch));
    expect(summary).toMatchObject({ count: 3, maxTimestamp: 5, minCheckedTimestamp: 5, maxCheckedTimestamp: 5 });
    const none = encodeBatch([{ value: 'a', timestamp: -1 }]);
    const empty = walkRecords(none, RECORDS_OFFSET, none.length, baseTimestampOf(none));
    expect(empty.maxTimestamp).toBe(-1);
    expect(empty.minCheckedTimestamp).toBeNaN();
  });

  it('refuses what decodeBatch refuses, at every corrupted byte, with INVALID_RECORD and no wider read', () => {
    const random = prng(13);
    let refused = 0;
    for (let round = 0; round < 1000; round++) {
      const records = randomRecords(random, 1 + Math.floor(random() * 6));
      const batch = encodeBatch(records);
      const corrupt = Buffer.from(batch);
      for (let flips = 0; flips < 3; flips++) {
        corrupt[RECORDS_OFFSET + Math.floor(random() * (batch.length - RECORDS_OFFSET))] = Math.floor(random() * 256);
      }
      // The walk sees only [start, end): bytes after the region must not count.
      const padded = Buffer.concat([corrupt, Buffer.from([0x02, 0x00, 0x00, 0x00])]);
      let decodeCount: number | null;
      try {
        decodeCount = decodeBatch(corrupt, 0, { skipCrc: true }).records.length;
      } catch {
        decodeCount = null;
      }
      let walkCount: number | null;
      try {
        walkCount = walkRecords(padded, RECORDS_OFFSET, corrupt.length, baseTimestampOf(corrupt)).count;
      } catch (error) {
        expect(isSluiceError(error, 'INVALID_RECORD')).toBe(true);
        walkCount = null;
      }
      // decodeBatch also holds the walk's count against the header's: compare that way.
      const walkAccepts = walkCount !== null && walkCount === records.length;
      expect(walkAccepts).toBe(decodeCount !== null);
      if (!walkAccepts) refused++;
    }
    // Most flips land in keys and values, which any byte may fill; the rest must be caught.
    expect(refused).toBeGreaterThan(100);
  });

  it('never reads past the region, whatever the bytes', () => {
    const random = prng(17);
    for (let round = 0; round < 2000; round++) {
      const bytes = randomBytes(random, Math.floor(random() * 64));
      const end = Math.floor(random() * (bytes.length + 1));
      try {
        const summary = walkRecords(bytes, 0, end, 0);
        expect(summary.count).toBeGreaterThanOrEqual(0);
      } catch (error) {
        expect(isSluiceError(error, 'INVALID_RECORD')).toBe(true);
      }
    }
    expect(() => walkRecords(Buffer.alloc(4), 0, 5, 0)).toThrow(RangeError);
  });
});
