// BatchEncoder (src/record/batch-encoder.ts): the summary it keeps of the records it writes stands
// in for the log's walk over them (engine.produce), so on any records it must equal what
// walkRecords finds in the bytes; and its reused buffer must give every batch whole.
import { describe, expect, it } from 'vitest';

import { BatchEncoder, checkRecord } from '../../src/record/batch-encoder.js';
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

  it('moves a record back when its length prefix needs fewer bytes than its upper bound reserved', () => {
    const encoder = new BatchEncoder();
    // Strings are bounded at 3 bytes a unit: 20 + 20 ASCII units bound the body at over 64 bytes
    // (a two-byte prefix), and it is 46; non-ASCII ones, and long ones, take Buffer.write's path.
    const records: RecordInput[] = [
      { key: 'k'.repeat(20), value: 'v'.repeat(20) },
      { key: 'é'.repeat(20), value: 'x', headers: { ['ü'.repeat(3)]: 'ß', ascii: 'y'.repeat(70) } },
      { key: null, value: '\ud800', headers: [{ key: 'h', value: null }] },
    ];
    encoder.reset();
    const { records: decoded } = decodeBatch(encoder.encode(records, { now: NOW }));
    expect(decoded.map((r) => [r.key?.toString() ?? null, r.value!.toString(), r.headers.map((h) => [h.key, h.value?.toString() ?? null])])).toEqual([
      ['k'.repeat(20), 'v'.repeat(20), []],
      ['é'.repeat(20), 'x', [['ü'.repeat(3), 'ß'], ['ascii', 'y'.repeat(70)]]],
      [null, '\ufffd', [['h', null]]],
    ]);
    expect(encoder.encode(records, { now: NOW }).equals(encodeBatch(records, { now: NOW }))).toBe(true);
  });
  it('moves a record forward when its headers outgrow the prefix reserved, and writes 64 or more headers', () => {
    // The prefix is reserved before the headers are measured: headers pushing the body past 8,192
    // bytes need a third prefix byte, and 64 or more headers a second count byte. A 64-byte buffer
    // grows while the headers are written.
    const encoder = new BatchEncoder(64);
    const many = Array.from({ length: 70 }, (_, i) => ({ key: `h${i}`, value: Buffer.alloc(i, i) }));
    const records: RecordInput[] = [
      { key: 'k', value: 'v', headers: { big: Buffer.alloc(9000, 7), small: 's' } },
      { key: null, value: Buffer.alloc(10), headers: many },
      { value: 'tail', headers: {} },
    ];
    encoder.reset();
    const { records: decoded } = decodeBatch(encoder.encode(records, { now: NOW }));
    expect(decoded).toHaveLength(3);
    expect(decoded[0]!.headers.map((h) => [h.key, h.value!.length])).toEqual([['big', 9000], ['small', 1]]);
    expect(decoded[0]!.headers[0]!.value!.every((b) => b === 7)).toBe(true);
    expect(decoded[1]!.headers.map((h) => [h.key, h.value!.length])).toEqual(many.map((h) => [h.key, h.value.length]));
    expect(decoded[1]!.headers[69]!.value!.every((b) => b === 69)).toBe(true);
    expect([decoded[2]!.value!.toString(), decoded[2]!.headers]).toEqual(['tail', []]);
  });

  it('names the record of a malformed header, whichever form its headers take', () => {
    const encoder = new BatchEncoder();
    encoder.reset();
    expect(() => encoder.encode([{ value: 'a' }, { value: 'b', headers: [null as never] }])).toThrow(/record 1: header keys must be strings/);
    expect(() => encoder.encode([{ value: 'a', headers: { h: 5 as never } }])).toThrow(/record 0: header value must be a Buffer/);
  });
});

describe('checkRecord', () => {
  const bad = [
    null,
    'a string',
    { value: 42 },
    { value: 'v', key: {} },
    { value: 'v', timestamp: 1.5 },
    { value: 'v', timestamp: -2 },
    { value: 'v', headers: [{ key: 7, value: 'x' }] },
    { value: 'v', headers: [null] },
    { value: 'v', headers: { h: 3 } },
    { value: 'v', headers: { h: ['ok', 3] } },
  ] as unknown as RecordInput[];

  it.each(bad.map((record) => [JSON.stringify(record), record]))('refuses %s as encode() does, naming the record', (_, record) => {
    const records: RecordInput[] = [{ value: 'good' }, record as RecordInput];
    let encodeError: unknown;
    try {
      new BatchEncoder().encode(records, { now: NOW });
    } catch (error) {
      encodeError = error;
    }
    expect(encodeError).toMatchObject({ code: 'INVALID_RECORD' });
    expect(() => checkRecord(record as RecordInput, 1)).toThrow((encodeError as Error).message);
  });

  it('takes every record encode() takes', () => {
    const random = prng(11);
    const records = randomRecords(random, 500);
    new BatchEncoder().encode(records, { now: NOW });
    records.forEach((record, i) => checkRecord(record, i));
    for (const record of [{ value: null }, { value: undefined, key: undefined, headers: null, timestamp: null }, { value: new Uint8Array(3), headers: [] }] as RecordInput[]) checkRecord(record, 0);
  });
});
