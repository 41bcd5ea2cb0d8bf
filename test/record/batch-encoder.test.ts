// BatchEncoder (src/record/batch-encoder.ts): the summary it keeps of the records it writes stands
// in for the log's walk over them (engine.produce), so on any records it must equal what
// walkRecords finds in the bytes; and its reused buffer must give every batch whole.
import { describe, expect, it } from 'vitest';

import { BatchEncoder } from '../../src/record/batch-encoder.js';
import { BASE_TIMESTAMP_OFFSET, RECORDS_OFFSET, decodeBatch, encodeBatch, type RecordInput } from '../../src/record/index.js';
import { walkRecords } from '../../src/record/record-walk.js';
import { prng } from '../fixtures/random.js';

const NOW = 1_700_000_000_000;

function randomRecords(random: () => number, count: number): RecordInput[] {
  return Array.from({ length: count }, (_, i) => {
    const pick = random();
    return {
      key: random() < 0.3 ? null : random() < 0.5 ? `k${i}` : Buffer.alloc(Math.floor(random() * 40), i),
      value: random() < 0.1 ? null : 'é'.repeat(Math.floor(random() * 50)),
      headers: random() < 0.5 ? undefined : { a: `x${i}`, b: [null, Buffer.from([i & 255])] },
      // Missing (now), -1 (never bounded), earlier or later than the first: deltas of both signs.
      timestamp: pick < 0.25 ? undefined : pick < 0.35 ? -1 : NOW + Math.floor((random() - 0.5) * 1e10),
    };
  });
}

describe('BatchEncoder', () => {
  it("summarises its records as walkRecords reads them back: count, timestamps, and null keys", () => {
    const random = prng(11);
    const encoder = new BatchEncoder(256);
    for (let round = 0; round < 200; round++) {
      const records = randomRecords(random, 1 + Math.floor(random() * 60));
      encoder.reset();
      const batch = encoder.encode(records, { now: NOW });
      const walked = walkRecords(batch, RECORDS_OFFSET, batch.length, Number(batch.readBigInt64BE(BASE_TIMESTAMP_OFFSET)));
      expect(encoder.summary()).toEqual({ ...walked, keylessCount: records.filter((r) => r.key === null || r.key === undefined).length });
    }
  });

  it('keeps earlier batches whole while later ones grow its buffer, and gives encodeBatch the same bytes', () => {
    const random = prng(12);
    const encoder = new BatchEncoder(64);
    encoder.reset();
    const inputs = Array.from({ length: 20 }, () => randomRecords(random, 1 + Math.floor(random() * 30)));
    const batches = inputs.map((records) => encoder.encode(records, { now: NOW }));
    for (const [i, batch] of batches.entries()) {
      expect(batch.equals(encodeBatch(inputs[i]!, { now: NOW }))).toBe(true);
      expect(decodeBatch(batch).records).toHaveLength(inputs[i]!.length);
    }
  });
});
