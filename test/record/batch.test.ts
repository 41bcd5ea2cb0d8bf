import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isSluiceError } from '../../src/errors.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_MIN,
  BATCH_LENGTH_OFFSET,
  checkBatch,
  CRC_OFFSET,
  decodeBatch,
  encodeBatch,
  iterateBatches,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  readBatchHeader,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  type RecordInput,
  stampBaseOffset,
  stampCrc,
  stampLogAppendTime,
  stampPartitionLeaderEpoch,
  validateBatch,
} from '../../src/record/index.js';
import { prng } from '../fixtures/random.js';

// kafkajs 2.2.4 as an independent implementation of the format: its RecordBatch/Record encoders
// (with its own JS CRC-32C) and its batch decoder.
const require = createRequire(import.meta.url);
const { RecordBatch: KafkaJsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const KafkaJsRecord = require('kafkajs/src/protocol/recordBatch/record/v0');
const kafkajsDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const KafkaJsDecoder = require('kafkajs/src/protocol/decoder');
const KafkaJsLong = require('kafkajs/src/utils/long');

const BASE_TS = 1700000000000;

// Fixed input: string and Buffer keys, a null key, a null value, headers (one empty), UTF-8.
const GOLDEN_RECORDS: RecordInput[] = [
  { key: 'key-0', value: 'value-0', headers: { 'trace-id': 'abc', empty: '' }, timestamp: BASE_TS },
  { key: null, value: Buffer.from([0, 1, 2, 255]), timestamp: BASE_TS + 5 },
  { key: Buffer.from('k2'), value: null, headers: { h: Buffer.from([9]) }, timestamp: BASE_TS + 300 },
  { key: 'ключ', value: 'значение €', timestamp: BASE_TS + 70000 },
];

// Produced once by kafkajs 2.2.4 (src/protocol/recordBatch/v0 RecordBatch + record/v0 Record)
// from GOLDEN_RECORDS with offsetDelta i, timestampDelta = timestamp - BASE_TS, firstOffset 0,
// firstTimestamp BASE_TS, maxTimestamp BASE_TS + 70000, partitionLeaderEpoch -1, producerId -1,
// producerEpoch -1, firstSequence -1. The CRC in it is kafkajs's JS CRC-32C, not our addon's.
const GOLDEN_NONE_HEX =
  '000000000000000000000096ffffffff02aba8a8090000000000030000018bcfe568000000018bcfe67970ffffffffffffffffffffffffffff000000044c0000000a6b65792d300e76616c75652d30041074726163652d6964066162630a656d7074790014000a020108000102ff001a00d80404046b320102026802094800e0c5080610d0bad0bbd18ed18728d0b7d0bdd0b0d187d0b5d0bdd0b8d0b520e282ac00';
// The same with compression GZIP (kafkajs gzips with node:zlib's defaults, as we do).
const GOLDEN_GZIP_HEX =
  '0000000000000000000000adffffffff0243f473110001000000030000018bcfe568000000018bcfe67970ffffffffffffffffffffffffffff000000041f8b08000000000000030165009aff4c0000000a6b65792d300e76616c75652d30041074726163652d6964066162630a656d7074790014000a020108000102ff001a00d80404046b320102026802094800e0c5080610d0bad0bbd18ed18728d0b7d0bdd0b0d187d0b5d0bdd0b8d0b520e282ac000bcfcebb65000000';

// A compressible batch (so deflate really compresses), also from kafkajs 2.2.4 with GZIP and
// the same header values: 20 records, key user-(i%4), value {"event":"click","n":i},
// header source=web, timestamps BASE_TS + 10 i.
const COMPRESSIBLE_RECORDS: RecordInput[] = Array.from({ length: 20 }, (_, i) => ({
  key: `user-${i % 4}`,
  value: `{"event":"click","n":${i}}`,
  headers: { source: 'web' },
  timestamp: BASE_TS + i * 10,
}));
const GOLDEN_COMPRESSIBLE_GZIP_HEX =
  '00000000000000000000012affffffff028708fbbf0001000000130000018bcfe568000000018bcfe568beffffffffffffffffffffffffffff000000141f8b08000000000000038b616060e0292d4e2dd235d0ab564a2d4bcd2b51b2524acec94cce56d251ca53b232a865e229ce2f2d4a4e652b4f4d8a611061822837c4aedc104db9060b44b91176e54668ca6dd820ca8db12b3746531ec081d7ed2668ca53b8f0badd144d79050f5eb79ba1288f63e861e4c3eb787334f50b1805f0bade024dfd164621bcceb744519fc070825104ea7e03ec516580a6e10ea318d403383418a269f8c02801f5010e0d46681a5a98a4a05ec0a1c1184dc30c2619fc7e3041d3b086490ebf1f4cd1341c6052c0ef0733340d579894f0fbc11c4dc30b2615fc7eb040d3f087490dbf1f50631a00887cab0cc3030000';

/** Encodes with kafkajs's own encoder, the way its Produce request does. */
async function kafkajsEncode(records: RecordInput[], compression: 0 | 1, extra: Record<string, unknown> = {}): Promise<Buffer> {
  const timestamps = records.map((r) => r.timestamp!);
  const first = timestamps[0]!;
  const encoded = records.map((r, i) => KafkaJsRecord({ ...r, offsetDelta: i, timestampDelta: r.timestamp! - first }));
  const batch = await KafkaJsRecordBatch({
    compression,
    records: encoded,
    firstOffset: KafkaJsLong.fromInt(0),
    firstTimestamp: first,
    maxTimestamp: Math.max(...timestamps),
    partitionLeaderEpoch: -1,
    lastOffsetDelta: records.length - 1,
    producerId: KafkaJsLong.fromValue(-1),
    producerEpoch: -1,
    firstSequence: -1,
    ...extra,
  });
  return batch.buffer;
}

async function kafkajsDecode(buf: Buffer): Promise<any> {
  return kafkajsDecodeBatch(new KafkaJsDecoder(buf));
}

function expectCorrupt(fn: () => unknown): SluiceErrorLike {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(isSluiceError(thrown, 'CORRUPT_MESSAGE'), `expected CORRUPT_MESSAGE, got ${String(thrown)}`).toBe(true);
  return thrown as SluiceErrorLike;
}
type SluiceErrorLike = { message: string; code: string };


function randomBytes(random: () => number, n: number): Buffer {
  const buf = Buffer.alloc(n);
  for (let i = 0; i < n; i++) buf[i] = Math.floor(random() * 256);
  return buf;
}

function randomRecords(random: () => number, count: number): RecordInput[] {
  return Array.from({ length: count }, (_, i) => {
    const headers: Record<string, Buffer> = {};
    const headerCount = Math.floor(random() * 3);
    for (let h = 0; h < headerCount; h++) headers[`h${h}`] = randomBytes(random, Math.floor(random() * 20));
    return {
      key: random() < 0.2 ? null : randomBytes(random, Math.floor(random() * 40)),
      value: random() < 0.1 ? null : randomBytes(random, Math.floor(random() * 300)),
      headers,
      timestamp: BASE_TS + i * Math.floor(random() * 1000),
    };
  });
}

function asComparable(records: { key: Buffer | null; value: Buffer | null }[]): unknown[] {
  return records.map((r) => ({ key: r.key?.toString('hex') ?? null, value: r.value?.toString('hex') ?? null }));
}

function toBuffer(data: RecordInput['key']): Buffer | null {
  if (data === null || data === undefined) return null;
  return typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
}

describe('format constants', () => {
  it('lay the header fields end to end in 61 bytes', () => {
    const fields: [number, number][] = [
      [BASE_OFFSET_OFFSET, 8],
      [BATCH_LENGTH_OFFSET, 4],
      [PARTITION_LEADER_EPOCH_OFFSET, 4],
      [MAGIC_OFFSET, 1],
      [CRC_OFFSET, 4],
      [ATTRIBUTES_OFFSET, 2],
      [LAST_OFFSET_DELTA_OFFSET, 4],
      [BASE_TIMESTAMP_OFFSET, 8],
      [MAX_TIMESTAMP_OFFSET, 8],
      [PRODUCER_ID_OFFSET, 8],
      [PRODUCER_EPOCH_OFFSET, 2],
      [BASE_SEQUENCE_OFFSET, 4],
      [RECORDS_COUNT_OFFSET, 4],
    ];
    let at = 0;
    for (const [offset, size] of fields) {
      expect(offset).toBe(at);
      at += size;
    }
    expect(at).toBe(RECORDS_OFFSET);
    expect(BATCH_HEADER_BYTES).toBe(61);
    expect(LOG_OVERHEAD).toBe(12);
    expect(BATCH_LENGTH_MIN).toBe(49);
  });
});

describe('golden bytes (from kafkajs 2.2.4)', () => {
  it('uncompressed: our encoder writes exactly the kafkajs bytes', () => {
    const ours = encodeBatch(GOLDEN_RECORDS);
    expect(ours.toString('hex')).toBe(GOLDEN_NONE_HEX);
  });

  it('gzip: our encoder writes exactly the kafkajs bytes', () => {
    expect(encodeBatch(GOLDEN_RECORDS, { compression: 'gzip' }).toString('hex')).toBe(GOLDEN_GZIP_HEX);
    expect(encodeBatch(COMPRESSIBLE_RECORDS, { compression: 'gzip' }).toString('hex')).toBe(GOLDEN_COMPRESSIBLE_GZIP_HEX);
  });

  it('the committed hex is still what kafkajs produces', async () => {
    expect((await kafkajsEncode(GOLDEN_RECORDS, 0)).toString('hex')).toBe(GOLDEN_NONE_HEX);
    expect((await kafkajsEncode(GOLDEN_RECORDS, 1)).toString('hex')).toBe(GOLDEN_GZIP_HEX);
    expect((await kafkajsEncode(COMPRESSIBLE_RECORDS, 1)).toString('hex')).toBe(GOLDEN_COMPRESSIBLE_GZIP_HEX);
  });

  it('decodes the golden batches back to the input', () => {
    for (const hex of [GOLDEN_NONE_HEX, GOLDEN_GZIP_HEX]) {
      const { header, records } = decodeBatch(Buffer.from(hex, 'hex'));
      expect(header.recordsCount).toBe(4);
      expect(records.map((r) => r.offset)).toEqual([0, 1, 2, 3]);
      expect(records.map((r) => r.timestamp)).toEqual(GOLDEN_RECORDS.map((r) => r.timestamp));
      expect(asComparable(records)).toEqual(
        asComparable(GOLDEN_RECORDS.map((r) => ({ key: toBuffer(r.key), value: toBuffer(r.value) }))),
      );
      expect(records[0]!.headers.map((h) => [h.key, h.value?.toString()])).toEqual([
        ['trace-id', 'abc'],
        ['empty', ''],
      ]);
      expect(records[3]!.key!.toString()).toBe('ключ');
    }
  });
});

describe('readBatchHeader', () => {
  it('reads every field and the derived ones', () => {
    const buf = encodeBatch(GOLDEN_RECORDS, {
      baseOffset: 2 ** 40 + 7,
      producerId: Number.MAX_SAFE_INTEGER,
      producerEpoch: 32767,
      baseSequence: 2 ** 31 - 4,
      partitionLeaderEpoch: 12,
      transactional: true,
      compression: 'gzip',
    });
    const header = readBatchHeader(buf);
    expect(header).toMatchObject({
      baseOffset: 2 ** 40 + 7,
      batchLength: buf.length - 12,
      partitionLeaderEpoch: 12,
      magic: 2,
      attributes: 0x11,
      lastOffsetDelta: 3,
      baseTimestamp: BASE_TS,
      maxTimestamp: BASE_TS + 70000,
      producerId: Number.MAX_SAFE_INTEGER,
      producerEpoch: 32767,
      baseSequence: 2 ** 31 - 4,
      recordsCount: 4,
      sizeBytes: buf.length,
      lastOffset: 2 ** 40 + 10,
      compression: 1,
      compressionName: 'gzip',
      timestampType: 'create',
      isTransactional: true,
      isControl: false,
      hasDeleteHorizon: false,
    });
    expect(header.crc).toBe(buf.readUInt32BE(CRC_OFFSET));
  });

  it('reads -1 defaults as -1', () => {
    const header = readBatchHeader(encodeBatch([{ value: 'x' }], { now: BASE_TS }));
    expect([header.producerId, header.producerEpoch, header.baseSequence, header.partitionLeaderEpoch]).toEqual([-1, -1, -1, -1]);
    expect([header.baseTimestamp, header.maxTimestamp]).toEqual([BASE_TS, BASE_TS]);
  });

  it('throws CORRUPT_MESSAGE for fewer than 61 bytes', () => {
    const buf = encodeBatch([{ value: 'x' }]);
    for (let n = 0; n < BATCH_HEADER_BYTES; n++) expectCorrupt(() => readBatchHeader(buf.subarray(0, n)));
    expectCorrupt(() => readBatchHeader(buf, buf.length - 10));
  });

  it('accepts a plain Uint8Array and a position inside a larger buffer', () => {
    const batch = encodeBatch([{ value: 'x' }], { baseOffset: 99 });
    const big = new Uint8Array(batch.length + 10);
    big.set(batch, 7);
    expect(readBatchHeader(big, 7).baseOffset).toBe(99);
    expect(validateBatch(big, 7)).toBe(batch.length);
    expect(decodeBatch(big, 7).records[0]!.value!.toString()).toBe('x');
  });
});

describe('interoperability with kafkajs', () => {
  it('decodes random kafkajs-encoded batches, uncompressed and gzip', async () => {
    const random = prng(11);
    for (let round = 0; round < 20; round++) {
      const input = randomRecords(random, 1 + Math.floor(random() * 30));
      for (const compression of [0, 1] as const) {
        const buf = await kafkajsEncode(input, compression);
        const { header, records } = decodeBatch(buf);
        expect(header.compression).toBe(compression);
        expect(records.length).toBe(input.length);
        expect(asComparable(records)).toEqual(asComparable(input.map((r) => ({ key: toBuffer(r.key), value: toBuffer(r.value) }))));
        expect(records.map((r) => r.timestamp)).toEqual(input.map((r) => r.timestamp));
        expect(records.map((r) => r.headers.map((h) => [h.key, h.value!.toString('hex')]))).toEqual(
          input.map((r) => Object.entries(r.headers as Record<string, Buffer>).map(([k, v]) => [k, v.toString('hex')])),
        );
        // And our encoder reproduces kafkajs's bytes for the same input.
        expect(encodeBatch(input, { compression: compression ? 'gzip' : 'none' }).equals(buf)).toBe(true);
      }
    }
  });

  it('kafkajs decodes our batches, uncompressed and gzip, with null header values', async () => {
    const input: RecordInput[] = [
      { key: 'a', value: 'one', headers: [{ key: 'n', value: null }, { key: 'n', value: 'x' }], timestamp: BASE_TS + 3 },
      { key: null, value: null, timestamp: BASE_TS },
      { value: 'three', headers: { multi: ['p', 'q'] }, timestamp: BASE_TS + 9 },
    ];
    for (const compression of ['none', 'gzip'] as const) {
      const buf = encodeBatch(input, { compression, baseOffset: 1000, transactional: true, producerId: 5, producerEpoch: 1, baseSequence: 0 });
      const decoded = await kafkajsDecode(buf);
      expect(decoded.firstOffset).toBe('1000');
      expect(decoded.inTransaction).toBe(true);
      expect(decoded.producerId).toBe('5');
      expect(decoded.records.map((r: any) => r.offset)).toEqual(['1000', '1001', '1002']);
      expect(decoded.records.map((r: any) => r.timestamp)).toEqual([BASE_TS + 3, BASE_TS, BASE_TS + 9].map(String));
      expect(decoded.records.map((r: any) => [r.key?.toString() ?? null, r.value?.toString() ?? null])).toEqual([
        ['a', 'one'],
        [null, null],
        [null, 'three'],
      ]);
      expect(decoded.records[0].headers).toEqual({ n: [null, Buffer.from('x')] });
      expect(decoded.records[2].headers).toEqual({ multi: [Buffer.from('p'), Buffer.from('q')] });
      // The base timestamp is the first record's, so a later record may have a negative delta.
      expect(readBatchHeader(buf)).toMatchObject({ baseTimestamp: BASE_TS + 3, maxTimestamp: BASE_TS + 9 });
    }
  });

  it('kafkajs reads LogAppendTime batches as the batch maxTimestamp', async () => {
    const buf = encodeBatch(GOLDEN_RECORDS, { timestampType: 'logAppend', now: BASE_TS + 123456 });
    const decoded = await kafkajsDecode(buf);
    expect(decoded.records.map((r: any) => r.timestamp)).toEqual(Array(4).fill(String(BASE_TS + 123456)));
    expect(decodeBatch(buf).records.map((r) => r.timestamp)).toEqual(Array(4).fill(BASE_TS + 123456));
  });
});

describe('encodeBatch', () => {
  it('round-trips 1000 records of 100 bytes in one batch', () => {
    const value = Buffer.alloc(100, 7);
    const input = Array.from({ length: 1000 }, (_, i) => ({ key: i % 2 ? `k${i}` : null, value, timestamp: BASE_TS + i }));
    const buf = encodeBatch(input);
    expect(validateBatch(buf)).toBe(buf.length);
    const { header, records } = decodeBatch(buf);
    expect(header.recordsCount).toBe(1000);
    expect(header.lastOffsetDelta).toBe(999);
    expect(header.maxTimestamp).toBe(BASE_TS + 999);
    expect(records[999]!.key!.toString()).toBe('k999');
    expect(records.every((r) => r.value!.equals(value))).toBe(true);
  });

  it('uses `now` for records without a timestamp', () => {
    const { records } = decodeBatch(encodeBatch([{ value: 'a' }, { value: 'b', timestamp: BASE_TS - 5 }], { now: BASE_TS }));
    expect(records.map((r) => r.timestamp)).toEqual([BASE_TS, BASE_TS - 5]);
  });

  it('decoded keys and values of an uncompressed batch are views of the input', () => {
    const buf = encodeBatch([{ key: 'k', value: 'v' }]);
    const { records } = decodeBatch(buf);
    expect(records[0]!.value!.buffer).toBe(buf.buffer);
  });

  it('refuses an empty batch and malformed records with INVALID_RECORD', () => {
    const bad: unknown[] = [
      [],
      [{ value: 42 }],
      [{ value: 'x', key: {} }],
      [{ value: 'x', timestamp: 1.5 }],
      [{ value: 'x', headers: [{ key: 7, value: 'y' }] }],
      [{ value: 'x', headers: { h: 12 } }],
      [null],
    ];
    for (const records of bad) {
      let thrown: unknown;
      try {
        encodeBatch(records as RecordInput[]);
      } catch (error) {
        thrown = error;
      }
      expect(isSluiceError(thrown, 'INVALID_RECORD'), `${JSON.stringify(records)}: ${String(thrown)}`).toBe(true);
    }
  });

  it('refuses a codec with no implementation with UNSUPPORTED_COMPRESSION_TYPE', () => {
    expect(() => encodeBatch([{ value: 'x' }], { compression: 'zstd' })).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_COMPRESSION_TYPE' }));
  });
});

describe('in-place stamps', () => {
  it('baseOffset and partitionLeaderEpoch keep the batch valid', () => {
    const buf = encodeBatch(GOLDEN_RECORDS);
    stampBaseOffset(buf, 0, 2 ** 50 + 3);
    stampPartitionLeaderEpoch(buf, 0, 77);
    expect(validateBatch(buf)).toBe(buf.length);
    const { header, records } = decodeBatch(buf);
    expect(header.baseOffset).toBe(2 ** 50 + 3);
    expect(header.partitionLeaderEpoch).toBe(77);
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2, 3].map((d) => 2 ** 50 + 3 + d));
    // Only those bytes changed.
    const original = Buffer.from(GOLDEN_NONE_HEX, 'hex');
    expect(buf.subarray(16).equals(original.subarray(16))).toBe(true);
    expect(buf.subarray(8, 12).equals(original.subarray(8, 12))).toBe(true);
  });

  it('stamps a batch inside a larger buffer without touching its neighbours', () => {
    const a = encodeBatch([{ value: 'a' }]);
    const b = encodeBatch([{ value: 'b' }]);
    const both = Buffer.concat([a, b]);
    stampBaseOffset(both, a.length, 5);
    expect(both.subarray(0, a.length).equals(a)).toBe(true);
    expect(readBatchHeader(both, a.length).baseOffset).toBe(5);
  });

  it('stampLogAppendTime sets the bit, the max timestamp and a new CRC', () => {
    const buf = encodeBatch(GOLDEN_RECORDS);
    stampLogAppendTime(buf, 0, BASE_TS + 999);
    expect(validateBatch(buf)).toBe(buf.length);
    const { header, records } = decodeBatch(buf);
    expect(header.timestampType).toBe('logAppend');
    expect(header.maxTimestamp).toBe(BASE_TS + 999);
    expect(records.every((r) => r.timestamp === BASE_TS + 999)).toBe(true);
  });

  it('refuses positions without a header', () => {
    expect(() => stampBaseOffset(Buffer.alloc(60), 0, 1)).toThrow(RangeError);
    expect(() => stampBaseOffset(Buffer.alloc(61), 0, -1)).toThrow(RangeError);
    expect(() => stampBaseOffset(Buffer.alloc(61), 0, 2 ** 60)).toThrow(RangeError);
  });
});

describe('corruption', () => {
  const batches = {
    none: encodeBatch(GOLDEN_RECORDS, { baseOffset: 10 }),
    gzip: encodeBatch(GOLDEN_RECORDS, { baseOffset: 10, compression: 'gzip' }),
  };

  for (const [name, original] of Object.entries(batches)) {
    it(`${name}: flipping any byte of the CRC region, the CRC, the magic or the length is caught`, () => {
      for (let i = BATCH_LENGTH_OFFSET; i < original.length; i++) {
        if (i >= PARTITION_LEADER_EPOCH_OFFSET && i < MAGIC_OFFSET) continue; // outside the CRC by design
        for (const mask of [0x01, 0x80, 0xff]) {
          const buf = Buffer.from(original);
          buf[i]! ^= mask;
          expect(checkBatch(buf), `byte ${i} ^ ${mask}`).not.toBeNull();
          expectCorrupt(() => validateBatch(buf));
          expectCorrupt(() => decodeBatch(buf));
        }
      }
    });

    it(`${name}: baseOffset and partitionLeaderEpoch bytes are outside the CRC`, () => {
      for (const i of [0, 7, 12, 15]) {
        const buf = Buffer.from(original);
        buf[i]! ^= 0xff;
        expect(checkBatch(buf)).toBeNull();
      }
    });

    it(`${name}: every truncation is CORRUPT_MESSAGE`, () => {
      for (let n = 0; n < original.length; n++) {
        const cut = original.subarray(0, n);
        expect(checkBatch(cut)).toMatch(/truncated/);
        expectCorrupt(() => validateBatch(cut));
        expectCorrupt(() => decodeBatch(cut));
        expectCorrupt(() => validateBatch(original, 0, n));
      }
    });
  }

  it('messages say what and where', () => {
    const buf = Buffer.from(batches.none);
    buf[40]! ^= 1;
    expect(expectCorrupt(() => validateBatch(buf)).message).toMatch(/CRC mismatch in batch at byte 0/);
    const magic = Buffer.from(batches.none);
    magic[MAGIC_OFFSET] = 1;
    expect(checkBatch(magic)).toBe('magic 1 at byte 16, expected 2');
    const short = Buffer.from(batches.none);
    short.writeInt32BE(10, BATCH_LENGTH_OFFSET);
    expect(checkBatch(short)).toBe('batchLength 10 at byte 8 is below the minimum 49');
    expect(checkBatch(Buffer.concat([Buffer.alloc(5), batches.none]), 5)).toBeNull();
  });

  it('header counts inconsistent with the bytes are caught even under a valid CRC', () => {
    const negative = Buffer.from(batches.none);
    negative.writeInt32BE(-1, RECORDS_COUNT_OFFSET);
    stampCrc(negative);
    expectCorrupt(() => validateBatch(negative));
    const huge = Buffer.from(batches.none);
    huge.writeInt32BE(2 ** 31 - 1, RECORDS_COUNT_OFFSET);
    stampCrc(huge);
    expectCorrupt(() => validateBatch(huge));
    const hugeGzip = Buffer.from(batches.gzip);
    hugeGzip.writeInt32BE(2 ** 31 - 1, RECORDS_COUNT_OFFSET);
    stampCrc(hugeGzip);
    expect(checkBatch(hugeGzip)).toBeNull(); // compressed: the count is checked on decode
    expectCorrupt(() => decodeBatch(hugeGzip));
    const delta = Buffer.from(batches.none);
    delta.writeInt32BE(-5, LAST_OFFSET_DELTA_OFFSET);
    stampCrc(delta);
    expectCorrupt(() => validateBatch(delta));
    const fewer = Buffer.from(batches.none);
    fewer.writeInt32BE(3, RECORDS_COUNT_OFFSET);
    stampCrc(fewer);
    expect(expectCorrupt(() => decodeBatch(fewer)).message).toMatch(/bytes follow the last of its 3 records/);
  });

  it('a batch with an unregistered codec decodes to UNSUPPORTED_COMPRESSION_TYPE, after validation', () => {
    const buf = Buffer.from(batches.gzip);
    buf.writeInt16BE(3, ATTRIBUTES_OFFSET); // lz4, not registered here
    stampCrc(buf);
    expect(checkBatch(buf)).toBeNull();
    expect(() => decodeBatch(buf)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_COMPRESSION_TYPE' }));
    buf.writeInt16BE(7, ATTRIBUTES_OFFSET); // not a Kafka codec at all
    stampCrc(buf);
    expect(() => decodeBatch(buf)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_COMPRESSION_TYPE' }));
  });

  it('random garbage never throws anything but SluiceError', () => {
    const random = prng(21);
    for (let i = 0; i < 3000; i++) {
      const buf = randomBytes(random, Math.floor(random() * 200));
      if (buf.length >= 12 && random() < 0.7) buf.writeInt32BE(Math.max(0, buf.length - 12 - Math.floor(random() * 3)), BATCH_LENGTH_OFFSET);
      if (buf.length > MAGIC_OFFSET && random() < 0.7) buf[MAGIC_OFFSET] = 2;
      for (const fn of [() => validateBatch(buf), () => decodeBatch(buf), () => readBatchHeader(buf), () => decodeBatch(buf, 0, { skipCrc: true })]) {
        try {
          fn();
        } catch (error) {
          expect(isSluiceError(error), String(error)).toBe(true);
        }
      }
      expect(typeof (checkBatch(buf) ?? '')).toBe('string');
    }
    // Garbage positions and limits are reasons, not exceptions.
    expect(checkBatch(batches.none, -1)).toMatch(/outside/);
    expect(checkBatch(batches.none, 1.5)).toMatch(/outside/);
    expect(checkBatch(batches.none, batches.none.length + 1)).toMatch(/outside/);
    expect(checkBatch(batches.none, 0, Number.NaN)).toBeNull();
  });

  it('fuzzed records under a recomputed CRC: only SluiceError, never a RangeError', () => {
    const random = prng(31);
    const sources = [encodeBatch(randomRecords(random, 8)), encodeBatch(GOLDEN_RECORDS), encodeBatch(randomRecords(random, 5), { compression: 'gzip' })];
    let rejected = 0;
    for (let i = 0; i < 20000; i++) {
      const buf = Buffer.from(sources[i % sources.length]!);
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) {
        const at = RECORDS_OFFSET - 4 + Math.floor(random() * (buf.length - RECORDS_OFFSET + 4));
        buf[at] = random() < 0.5 ? Math.floor(random() * 256) : buf[at]! ^ (1 << Math.floor(random() * 8));
      }
      stampCrc(buf);
      try {
        decodeBatch(buf);
      } catch (error) {
        expect(isSluiceError(error), String(error)).toBe(true);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(1000);
  });
});

describe('iterateBatches', () => {
  const a = encodeBatch([{ value: 'a' }], { baseOffset: 0 });
  const b = encodeBatch(GOLDEN_RECORDS, { baseOffset: 1 });
  const c = encodeBatch([{ value: 'c' }, { value: 'cc' }], { baseOffset: 5, compression: 'gzip' });
  const all = Buffer.concat([a, b, c]);

  it('yields every whole batch and stops at the end', () => {
    const it = iterateBatches(all);
    const seen = [...it].map(({ at, header }) => [at, header.baseOffset, header.sizeBytes]);
    expect(seen).toEqual([
      [0, 0, a.length],
      [a.length, 1, b.length],
      [a.length + b.length, 5, c.length],
    ]);
    expect(it.stop).toBe('end');
    expect(it.wholeBytes).toBe(all.length);
    expect(it.error).toBeNull();
  });

  it('stops at a torn tail of any length and reports the whole bytes', () => {
    for (let n = 0; n <= all.length; n++) {
      const it = iterateBatches(all.subarray(0, n));
      const count = [...it].length;
      const whole = n >= a.length + b.length + c.length ? 3 : n >= a.length + b.length ? 2 : n >= a.length ? 1 : 0;
      expect(count, `length ${n}`).toBe(whole);
      expect(it.wholeBytes).toBe([0, a.length, a.length + b.length, all.length][whole]);
      expect(it.stop).toBe(n === it.wholeBytes ? 'end' : 'incomplete');
      if (it.stop === 'incomplete' && n - it.wholeBytes >= LOG_OVERHEAD) expect(it.nextBatchBytes).toBe([a, b, c][whole]!.length);
    }
  });

  it('stops at garbage as corrupt, and with validate at a bad CRC', () => {
    const garbage = Buffer.concat([a, Buffer.alloc(70, 0xee)]);
    const it = iterateBatches(garbage);
    expect([...it].length).toBe(1);
    expect(it.stop).toBe('corrupt');
    expect(it.wholeBytes).toBe(a.length);

    const flipped = Buffer.from(all);
    flipped[a.length + 30]! ^= 1;
    expect([...iterateBatches(flipped)].length).toBe(3); // headers only: not noticed
    const validating = iterateBatches(flipped, { validate: true });
    expect([...validating].length).toBe(1);
    expect(validating.stop).toBe('corrupt');
    expect(validating.error).toMatch(/CRC mismatch/);
    expect(validating.position).toBe(a.length);
  });

  it('walks a region given by start and end', () => {
    const it = iterateBatches(all, { start: a.length, end: a.length + b.length, validate: true });
    expect([...it].map((x) => x.at)).toEqual([a.length]);
    expect(it.stop).toBe('end');
    expect(it.wholeBytes).toBe(b.length);
  });
});
