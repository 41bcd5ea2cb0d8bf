import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isSluiceError } from '../../src/errors.js';
import {
  readUnsignedVarint,
  readVarint,
  readVarlong,
  sizeOfUnsignedVarint,
  sizeOfVarint,
  sizeOfVarlong,
  sizeOfVarlongBigInt,
  VarintReader,
  writeUnsignedVarint,
  writeVarint,
  writeVarlong,
  writeVarlongBigInt,
  zigzagDecode32,
  zigzagEncode32,
} from '../../src/record/varint.js';
import { prng } from '../fixtures/random.js';

// kafkajs 2.2.4's Encoder/Decoder (Long-based, exact over int64) as an independent reference.
const require = createRequire(import.meta.url);
const KafkaJsEncoder = require('kafkajs/src/protocol/encoder');
const KafkaJsDecoder = require('kafkajs/src/protocol/decoder');

function kafkajsVarint(value: number): Buffer {
  return new KafkaJsEncoder().writeVarInt(value).buffer;
}
function kafkajsVarlong(value: number | bigint): Buffer {
  return new KafkaJsEncoder().writeVarLong(typeof value === 'bigint' ? value.toString() : value).buffer;
}

function encodeVarint(value: number): Buffer {
  const buf = Buffer.alloc(5);
  return buf.subarray(0, writeVarint(buf, 0, value));
}
function encodeVarlong(value: number): Buffer {
  const buf = Buffer.alloc(10);
  return buf.subarray(0, writeVarlong(buf, 0, value));
}

function expectCorrupt(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(isSluiceError(thrown, 'CORRUPT_MESSAGE'), String(thrown)).toBe(true);
}


const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

describe('zigzag varint (int32)', () => {
  const edges = [0, -1, 1, -2, 2, 63, -64, 64, -65, 8191, -8192, 8192, -8193, 1048575, 1048576, 2 ** 27, -(2 ** 27), INT32_MAX, INT32_MIN];

  it('encodes edge values as kafkajs does, with the documented byte counts', () => {
    expect(encodeVarint(0).toString('hex')).toBe('00');
    expect(encodeVarint(-1).toString('hex')).toBe('01');
    expect(encodeVarint(1).toString('hex')).toBe('02');
    expect(encodeVarint(63).toString('hex')).toBe('7e');
    expect(encodeVarint(-64).toString('hex')).toBe('7f');
    expect(encodeVarint(64).toString('hex')).toBe('8001');
    expect(encodeVarint(8191).toString('hex')).toBe('fe7f');
    expect(encodeVarint(8192).toString('hex')).toBe('808001');
    expect(encodeVarint(INT32_MAX).toString('hex')).toBe('feffffff0f');
    expect(encodeVarint(INT32_MIN).toString('hex')).toBe('ffffffff0f');
    for (const v of edges) {
      const ours = encodeVarint(v);
      expect(ours.toString('hex'), `value ${v}`).toBe(kafkajsVarint(v).toString('hex'));
      expect(sizeOfVarint(v), `size of ${v}`).toBe(ours.length);
      expect(readVarint(ours)).toEqual({ value: v, offset: ours.length });
      expect(new KafkaJsDecoder(ours).readVarInt()).toBe(v);
    }
    expect([63, 64, 8191, 8192].map(sizeOfVarint)).toEqual([1, 2, 2, 3]);
  });

  it('round-trips random int32 values and agrees with kafkajs', () => {
    const random = prng(1);
    for (let i = 0; i < 5000; i++) {
      const v = (random() * 2 ** 32) | 0;
      const ours = encodeVarint(v);
      expect(ours.equals(kafkajsVarint(v))).toBe(true);
      expect(readVarint(ours).value).toBe(v);
    }
  });

  it('zigzag maps small magnitudes to small numbers', () => {
    expect([0, -1, 1, -2, 2, INT32_MAX, INT32_MIN].map(zigzagEncode32)).toEqual([0, 1, 2, 3, 4, 4294967294, 4294967295]);
    for (const v of edges) expect(zigzagDecode32(zigzagEncode32(v))).toBe(v);
  });
});

describe('unsigned varint', () => {
  it('encodes boundaries at 7-bit groups', () => {
    const cases: [number, number][] = [
      [0, 1],
      [127, 1],
      [128, 2],
      [16383, 2],
      [16384, 3],
      [2 ** 21 - 1, 3],
      [2 ** 21, 4],
      [2 ** 28 - 1, 4],
      [2 ** 28, 5],
      [2 ** 32 - 1, 5],
    ];
    for (const [v, size] of cases) {
      const buf = Buffer.alloc(5);
      const end = writeUnsignedVarint(buf, 0, v);
      expect(end, `value ${v}`).toBe(size);
      expect(sizeOfUnsignedVarint(v)).toBe(size);
      expect(readUnsignedVarint(buf.subarray(0, end))).toEqual({ value: v, offset: size });
      expect(new KafkaJsEncoder().writeUVarInt(v).buffer.toString("hex")).toBe(buf.subarray(0, end).toString("hex"));
    }
  });

  it('writes at an offset and returns the new offset', () => {
    const buf = Buffer.alloc(8, 0xaa);
    expect(writeUnsignedVarint(buf, 3, 300)).toBe(5);
    expect(buf.toString('hex')).toBe('aaaaaaac02aaaaaa');
    expect(readUnsignedVarint(buf, 3)).toEqual({ value: 300, offset: 5 });
  });
});

describe('zigzag varlong (int64 as a number)', () => {
  const edges = [
    0,
    -1,
    1,
    63,
    -64,
    64,
    8191,
    8192,
    INT32_MAX,
    INT32_MIN,
    INT32_MAX + 1,
    INT32_MIN - 1,
    2 ** 32,
    -(2 ** 32),
    2 ** 35 - 1,
    -(2 ** 35),
    1700000000000,
    -1700000000000,
    2 ** 52,
    -(2 ** 52),
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER - 1,
  ];

  it('encodes edge values as kafkajs does and reads them back exactly', () => {
    expect(encodeVarlong(Number.MAX_SAFE_INTEGER).toString('hex')).toBe('feffffffffffff1f');
    expect(encodeVarlong(Number.MIN_SAFE_INTEGER).toString('hex')).toBe('fdffffffffffff1f');
    for (const v of edges) {
      const ours = encodeVarlong(v);
      expect(ours.toString('hex'), `value ${v}`).toBe(kafkajsVarlong(v).toString('hex'));
      expect(sizeOfVarlong(v), `size of ${v}`).toBe(ours.length);
      expect(readVarlong(ours)).toEqual({ value: v, offset: ours.length });
      expect(new KafkaJsDecoder(ours).readVarLong().toString()).toBe(String(v));
    }
  });

  it('round-trips random safe integers of every magnitude', () => {
    const random = prng(2);
    for (let i = 0; i < 5000; i++) {
      const bits = Math.floor(random() * 54);
      const magnitude = Math.floor(random() * 2 ** bits);
      const v = random() < 0.5 && magnitude !== 0 ? -magnitude : magnitude;
      const ours = encodeVarlong(v);
      expect(ours.equals(kafkajsVarlong(v)), `value ${v}`).toBe(true);
      expect(readVarlong(ours).value).toBe(v);
      expect(sizeOfVarlong(v)).toBe(ours.length);
    }
  });

  it('bigint variants cover the whole int64 range', () => {
    const values = [0n, -1n, 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, -(2n ** 53n) - 1n, 123456789012345678n];
    for (const v of values) {
      const buf = Buffer.alloc(10);
      const end = writeVarlongBigInt(buf, 0, v);
      expect(end).toBe(sizeOfVarlongBigInt(v));
      expect(buf.subarray(0, end).toString('hex'), `value ${v}`).toBe(kafkajsVarlong(v).toString('hex'));
      expect(new VarintReader(buf, 0, end).readVarlongBigInt()).toBe(v);
    }
    const max = Buffer.alloc(10);
    expect(writeVarlongBigInt(max, 0, -(2n ** 63n))).toBe(10);
    expect(max.toString('hex')).toBe('ffffffffffffffffff01');
  });

  it('rejects numbers that are not safe integers', () => {
    expect(() => writeVarlong(Buffer.alloc(10), 0, 1.5)).toThrow(RangeError);
    expect(() => writeVarlong(Buffer.alloc(10), 0, 2 ** 60)).toThrow(RangeError);
  });
});

describe('malformed input throws CORRUPT_MESSAGE', () => {
  it('a varint longer than 5 bytes', () => {
    expectCorrupt(() => readVarint(Buffer.from('ffffffffff01', 'hex')));
    expectCorrupt(() => readUnsignedVarint(Buffer.from('8080808080', 'hex')));
    // A 5-byte varint is fine, even with bits above 32 in its last byte (as the Java client).
    expect(readUnsignedVarint(Buffer.from('ffffffff7f', 'hex')).value).toBe(2 ** 32 - 1);
  });

  it('a varlong longer than 10 bytes', () => {
    expectCorrupt(() => readVarlong(Buffer.from('ffffffffffffffffff8001', 'hex')));
    expect(readVarlong(Buffer.from('80808080808080808000', 'hex')).value).toBe(0);
  });

  it('reading past the end, at every truncation', () => {
    for (const v of [INT32_MIN, INT32_MAX, 8192, -65]) {
      const full = encodeVarint(v);
      for (let n = 0; n < full.length; n++) expectCorrupt(() => readVarint(full.subarray(0, n)));
    }
    for (const v of [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 40]) {
      const full = encodeVarlong(v);
      for (let n = 0; n < full.length; n++) {
        expectCorrupt(() => readVarlong(full.subarray(0, n)));
        expectCorrupt(() => new VarintReader(full, 0, n).readVarlongBigInt());
      }
    }
  });

  it('reader bounds: bytes, strings, int8 and skip past the end', () => {
    const reader = new VarintReader(Buffer.from('0102030405', 'hex'), 1, 4);
    expect(reader.remaining).toBe(3);
    expect(reader.readInt8()).toBe(2);
    expectCorrupt(() => reader.readBytes(3));
    expect(reader.readBytes(2).toString('hex')).toBe('0304');
    expectCorrupt(() => reader.readInt8());
    expectCorrupt(() => reader.readUtf8(1));
    expectCorrupt(() => reader.skip(1));
    expect(new VarintReader(Buffer.from([0xff])).readInt8()).toBe(-1);
  });

  it('random bytes never throw anything but SluiceError', () => {
    const random = prng(3);
    for (let i = 0; i < 2000; i++) {
      const buf = Buffer.alloc(Math.floor(random() * 12));
      for (let j = 0; j < buf.length; j++) buf[j] = random() < 0.7 ? 0x80 | (random() * 128) : random() * 256;
      for (const read of [readVarint, readVarlong, readUnsignedVarint]) {
        try {
          read(buf);
        } catch (error) {
          expect(isSluiceError(error, 'CORRUPT_MESSAGE')).toBe(true);
        }
      }
    }
  });
});
