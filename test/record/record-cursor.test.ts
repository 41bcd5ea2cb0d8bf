import { describe, expect, it } from 'vitest';

import { SluiceError } from '../../src/errors.js';
import { ATTRIBUTES_OFFSET, COMPRESSION_CODEC_MASK, RECORDS_OFFSET } from '../../src/record/batch-format.js';
import { decodeBatch, encodeBatch, iterateBatches, stampCrc, type EncodeBatchOptions } from '../../src/record/batch.js';
import '../../src/record/codecs/index.js';
import { decodeRecords } from '../../src/record/decode-records.js';
import type { DecodedRecord, RecordInput } from '../../src/record/record.js';
import { NO_HEADERS, RecordCursor, readRecords } from '../../src/record/record-cursor.js';

const NOW = 1_700_000_000_000;

/** Every shape a record field takes: null and empty keys and values, multi-byte lengths, headers, far timestamps. */
function variedRecords(): RecordInput[] {
  return [
    { value: 'plain' },
    { key: null, value: null },
    { key: '', value: '' },
    { key: 'k', value: Buffer.alloc(70, 1) }, // a value length of two varint bytes
    { key: Buffer.alloc(300, 2), value: Buffer.alloc(9000, 3) }, // a three-byte value length
    { key: 'h', value: 'v', headers: [{ key: 'a', value: 'x' }, { key: 'a', value: null }, { key: 'é', value: '' }] },
    { value: 'old', timestamp: NOW - 5_000_000_000 }, // a negative delta beyond 2^31
    { value: 'late', timestamp: NOW + 2 ** 40 },
    { value: 'none', timestamp: -1 },
  ];
}

function batchOf(records: RecordInput[], options: EncodeBatchOptions = {}): Buffer {
  return encodeBatch(records, { now: NOW, ...options });
}

/** What decodeBatch reads from every batch of `bytes`, control batches and records below `fromOffset` left out. */
function reference(bytes: Buffer, fromOffset = -Infinity): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  for (const { at, header } of iterateBatches(bytes)) {
    if (header.isControl) continue;
    for (const record of decodeBatch(bytes, at).records) if (record.offset >= fromOffset) out.push(record);
  }
  return out;
}

/** The cursor's records as decodeBatch's shape, built from its lazy fields. */
function walk(bytes: Uint8Array, fromOffset?: number): DecodedRecord[] {
  const cursor = readRecords(bytes, { fromOffset });
  const out: DecodedRecord[] = [];
  while (cursor.next()) {
    const key = cursor.keyLength < 0 ? null : cursor.buffer.subarray(cursor.keyOffset, cursor.keyOffset + cursor.keyLength);
    const value = cursor.valueLength < 0 ? null : cursor.buffer.subarray(cursor.valueOffset, cursor.valueOffset + cursor.valueLength);
    expect(cursor.key()).toEqual(key);
    expect(cursor.value()).toEqual(value);
    out.push({ offset: cursor.offset, timestamp: cursor.timestamp, key, value, headers: cursor.headers() });
  }
  return out;
}

describe('RecordCursor', () => {
  it('reads every field as decodeBatch does, across batches, without decoding what it is not asked for', () => {
    const bytes = Buffer.concat([batchOf(variedRecords()), batchOf(variedRecords(), { baseOffset: 9 }), batchOf([{ value: 'last' }], { baseOffset: 18 })]);
    const expected = reference(bytes);
    expect(expected).toHaveLength(19);
    expect(walk(bytes)).toEqual(expected);
    expect(walk(bytes).map((r) => r.offset)).toEqual(Array.from({ length: 19 }, (_, i) => i));

    const cursor = new RecordCursor().reset(bytes);
    expect(cursor.next()).toBe(true);
    expect([cursor.offset, cursor.timestamp, cursor.keyLength, cursor.valueLength, cursor.headerCount]).toEqual([0, NOW, -1, 5, 0]);
    expect(cursor.buffer).toBe(bytes); // uncompressed: positions in the bytes given
    expect(cursor.buffer.toString('utf8', cursor.valueOffset, cursor.valueOffset + cursor.valueLength)).toBe('plain');
    expect(cursor.headers()).toBe(NO_HEADERS);
    expect(cursor.batchBaseOffset).toBe(0);
    expect(cursor.batchLastOffset).toBe(8);
  });

  it('keys and values are views of the bytes, not copies', () => {
    const bytes = batchOf([{ key: 'k', value: 'before' }]);
    const cursor = readRecords(bytes);
    expect(cursor.next()).toBe(true);
    const value = cursor.value()!;
    expect(Buffer.isBuffer(value)).toBe(true);
    bytes[cursor.valueOffset] = 'B'.charCodeAt(0);
    expect(value.toString()).toBe('Before');
    expect(cursor.next()).toBe(false);
    // Past the end there is no current record.
    expect([cursor.offset, cursor.key(), cursor.value(), cursor.headers()]).toEqual([-1, null, null, []]);
  });

  it('starts mid-batch: records below fromOffset are passed over, batches wholly below it skipped', () => {
    const bytes = Buffer.concat([batchOf(variedRecords()), batchOf(variedRecords(), { baseOffset: 9 })]);
    for (const fromOffset of [0, 1, 5, 8, 9, 13, 17]) {
      expect(walk(bytes, fromOffset).map((r) => r.offset)).toEqual(Array.from({ length: 18 - fromOffset }, (_, i) => fromOffset + i));
    }
    expect(walk(bytes, 18)).toEqual([]);
  });

  it('leaves control batches out unless asked, and gives LogAppendTime batches their append time', () => {
    const control = batchOf([{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }], {
      baseOffset: 2,
      control: true,
      transactional: true,
      producerId: 7,
      producerEpoch: 0,
    });
    const appendTime = batchOf([{ value: 'a', timestamp: 5 }, { value: 'b', timestamp: 6 }], { baseOffset: 3, timestampType: 'logAppend', now: NOW + 42 });
    const bytes = Buffer.concat([batchOf([{ value: 'x' }, { value: 'y' }]), control, appendTime]);
    expect(walk(bytes).map((r) => [r.offset, r.timestamp])).toEqual([
      [0, NOW],
      [1, NOW],
      [3, NOW + 42],
      [4, NOW + 42],
    ]);
    const cursor = readRecords(bytes, { includeControl: true, fromOffset: 2 });
    expect(cursor.next()).toBe(true);
    expect([cursor.offset, cursor.batchAttributes & 0x20]).toEqual([2, 0x20]);
  });

  it('inflates a compressed batch once and points into its records', () => {
    for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
      const bytes = Buffer.concat([batchOf(variedRecords(), { compression }), batchOf(variedRecords(), { baseOffset: 9 })]);
      expect(walk(bytes)).toEqual(reference(bytes));
      const cursor = readRecords(bytes, { fromOffset: 2 });
      expect(cursor.next()).toBe(true);
      expect(cursor.offset).toBe(2);
      expect(cursor.buffer).not.toBe(bytes);
      expect(cursor.batchAttributes & COMPRESSION_CODEC_MASK).not.toBe(0);
      expect(decodeRecords(bytes, 4)).toEqual(reference(bytes, 4));
    }
  });

  it('a codec without an implementation is UNSUPPORTED_COMPRESSION_TYPE; an inflation past the bound is CORRUPT_MESSAGE', () => {
    const bytes = batchOf([{ value: 'v' }], { compression: 'gzip' });
    bytes.writeInt16BE((bytes.readInt16BE(ATTRIBUTES_OFFSET) & ~COMPRESSION_CODEC_MASK) | 6, ATTRIBUTES_OFFSET);
    stampCrc(bytes);
    expect(() => readRecords(bytes).next()).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_COMPRESSION_TYPE' }));
    const big = batchOf([{ value: Buffer.alloc(100_000) }], { compression: 'gzip' });
    expect(() => readRecords(big, { maxDecompressedBytes: 1000 }).next()).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }));
  });

  it('ends at a batch cut short at the end of the bytes, saying how many bytes it left', () => {
    const whole = batchOf([{ value: 'a' }]);
    const bytes = Buffer.concat([whole, batchOf([{ value: 'b' }], { baseOffset: 1 })]);
    for (const cut of [1, 30, 61, 68]) {
      const cursor = readRecords(bytes.subarray(0, whole.length + cut));
      expect(cursor.next()).toBe(true);
      expect(cursor.next()).toBe(false);
      expect(cursor.truncatedBytes).toBe(cut);
    }
  });

  it('throws CORRUPT_MESSAGE, never another error or a view past its record, whatever byte is changed', () => {
    const small = variedRecords().filter((record) => record.value == null || record.value.length < 1000);
    const bytes = Buffer.concat([batchOf(small), batchOf([{ key: 'k', value: 'v', headers: { a: 'b' } }], { baseOffset: small.length })]);
    const failures = new Set<string>();
    for (let at = 0; at < bytes.length; at++) {
      for (const delta of [1, 0x7f, 0x80]) {
        const changed = Buffer.from(bytes);
        changed[at] = (changed[at]! + delta) & 0xff;
        try {
          const cursor = readRecords(changed);
          while (cursor.next()) {
            const { buffer } = cursor;
            for (const view of [cursor.key(), cursor.value(), ...cursor.headers().map((h) => h.value)]) {
              if (view !== null && view.byteOffset + view.length > buffer.byteOffset + buffer.length) throw new Error(`byte ${at} + ${delta}: a view past the bytes`);
            }
          }
        } catch (error) {
          if (!(error instanceof SluiceError)) throw new Error(`byte ${at} + ${delta}: ${String(error)}`);
          failures.add(error.code);
        }
      }
    }
    expect([...failures].every((code) => code === 'CORRUPT_MESSAGE' || code === 'UNSUPPORTED_COMPRESSION_TYPE')).toBe(true);
    expect(failures.has('CORRUPT_MESSAGE')).toBe(true);
  });

  it('counts records against recordsCount: too few or bytes left over are CORRUPT_MESSAGE', () => {
    const bytes = batchOf([{ value: 'a' }, { value: 'b' }]);
    const fewer = Buffer.from(bytes);
    fewer.writeInt32BE(1, RECORDS_OFFSET - 4);
    expect(() => walk(fewer)).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }));
    const more = Buffer.from(bytes);
    more.writeInt32BE(3, RECORDS_OFFSET - 4);
    expect(() => walk(more)).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }));
  });
});

describe('decodeRecords (engine.fetch)', () => {
  it('returns what decodeBatch returns, with one shared frozen array for records without headers', () => {
    const bytes = Buffer.concat([batchOf(variedRecords()), batchOf(variedRecords(), { baseOffset: 9, compression: 'gzip' })]);
    const records = decodeRecords(bytes, 3);
    expect(records).toEqual(reference(bytes, 3));
    const headerless = records.filter((r) => r.headers.length === 0);
    expect(headerless.length).toBeGreaterThan(2);
    for (const record of headerless) expect(record.headers).toBe(NO_HEADERS);
    expect(Object.isFrozen(NO_HEADERS)).toBe(true);
    expect(() => (NO_HEADERS as unknown[]).push(1)).toThrow(TypeError);
    expect(NO_HEADERS).toHaveLength(0);
  });
});
