// Reader/Writer: every primitive round-trips, boundary values, the compact (KIP-482) encodings,
// tagged-field sections, and truncated or malformed input throws ProtocolError, never RangeError.
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/protocol/errors.js';
import {
  Reader,
  sizeOfCompactBytes,
  sizeOfCompactString,
  sizeOfString,
  sizeOfUnsignedVarint,
  sizeOfVarint,
  sizeOfVarlong,
  Writer,
  ZERO_UUID,
} from '../../src/protocol/primitives.js';

/** Writes with `write` into a buffer of `size` bytes and returns it (asserting the exact size). */
function written(size: number, write: (w: Writer) => void): Buffer {
  const writer = new Writer(size);
  write(writer);
  const parts = writer.finish();
  expect(parts).toHaveLength(1);
  return parts[0] as Buffer;
}

function expectMalformed(fn: () => unknown): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  expect((caught as ProtocolError).code).toBe('MALFORMED_FRAME');
}

describe('fixed-width integers', () => {
  const cases: Array<[string, number, number[], (w: Writer, v: number) => void, (r: Reader) => number]> = [
    ['int8', 1, [-128, -1, 0, 1, 127], (w, v) => w.writeInt8(v), (r) => r.readInt8()],
    ['uint8', 1, [0, 1, 255], (w, v) => w.writeUInt8(v), (r) => r.readUInt8()],
    ['int16', 2, [-32768, -1, 0, 1, 32767], (w, v) => w.writeInt16(v), (r) => r.readInt16()],
    ['uint16', 2, [0, 1, 65535], (w, v) => w.writeUInt16(v), (r) => r.readUInt16()],
    ['int32', 4, [-(2 ** 31), -1, 0, 1, 2 ** 31 - 1], (w, v) => w.writeInt32(v), (r) => r.readInt32()],
    ['uint32', 4, [0, 1, 2 ** 32 - 1], (w, v) => w.writeUInt32(v), (r) => r.readUInt32()],
    [
      'int64',
      8,
      [-(2 ** 53) + 1, -(2 ** 32), -1, 0, 1, 2 ** 32, 2 ** 53 - 1],
      (w, v) => w.writeInt64(v),
      (r) => r.readInt64(),
    ],
    ['float64', 8, [0, -1.5, Math.PI, Number.MAX_VALUE, -Infinity], (w, v) => w.writeFloat64(v), (r) => r.readFloat64()],
  ];
  for (const [name, width, values, write, read] of cases) {
    it(`${name} round-trips its boundary values in ${width} big-endian bytes`, () => {
      for (const value of values) {
        const bytes = written(width, (w) => write(w, value));
        const reader = new Reader(bytes);
        expect(read(reader)).toBe(value);
        expect(reader.remaining).toBe(0);
      }
    });
  }

  it('int32 is big-endian', () => {
    expect(written(4, (w) => w.writeInt32(0x01020304))).toEqual(Buffer.from([1, 2, 3, 4]));
  });

  it('int64 matches the bigint encoding, and the bigint variants cover the full 64 bits', () => {
    for (const value of [-1n, 0n, 2n ** 53n - 1n, -(2n ** 53n) + 1n, 2n ** 63n - 1n, -(2n ** 63n)]) {
      const bytes = written(8, (w) => w.writeInt64(value));
      const expected = Buffer.alloc(8);
      expected.writeBigInt64BE(value);
      expect(bytes).toEqual(expected);
      expect(new Reader(bytes).readInt64BigInt()).toBe(value);
      if (value >= -(2n ** 53n) && value <= 2n ** 53n) expect(new Reader(bytes).readInt64()).toBe(Number(value));
    }
    // A number beyond 2^53 is written exactly as the nearest double's integer value.
    expect(new Reader(written(8, (w) => w.writeInt64(2 ** 60))).readInt64BigInt()).toBe(2n ** 60n);
  });

  it('boolean: 1/0 on write, any non-zero byte is true on read', () => {
    expect(written(2, (w) => (w.writeBoolean(true), w.writeBoolean(false)))).toEqual(Buffer.from([1, 0]));
    const reader = new Reader(Buffer.from([0, 1, 7]));
    expect([reader.readBoolean(), reader.readBoolean(), reader.readBoolean()]).toEqual([false, true, true]);
  });
});

describe('varints', () => {
  it('unsigned varint round-trips with the predicted size, up to 2^32 - 1 in 5 bytes', () => {
    for (const value of [0, 1, 127, 128, 16383, 16384, 2097151, 2097152, 268435455, 268435456, 2 ** 32 - 1]) {
      const size = sizeOfUnsignedVarint(value);
      const bytes = written(size, (w) => w.writeUnsignedVarint(value));
      const reader = new Reader(bytes);
      expect(reader.readUnsignedVarint()).toBe(value);
      expect(reader.remaining).toBe(0);
    }
    expect(written(2, (w) => w.writeUnsignedVarint(300))).toEqual(Buffer.from([0xac, 0x02]));
  });

  it('zigzag varint round-trips int32 boundaries', () => {
    for (const value of [0, -1, 1, -64, 63, -65, 64, 2 ** 31 - 1, -(2 ** 31)]) {
      const bytes = written(sizeOfVarint(value), (w) => w.writeVarint(value));
      expect(new Reader(bytes).readVarint()).toBe(value);
    }
    expect(written(1, (w) => w.writeVarint(-1))).toEqual(Buffer.from([1]));
    expect(written(1, (w) => w.writeVarint(1))).toEqual(Buffer.from([2]));
  });

  it('zigzag varlong round-trips to ±2^53', () => {
    for (const value of [0, -1, 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 40 + 7, -(2 ** 53) + 1, 2 ** 53 - 1]) {
      const bytes = written(sizeOfVarlong(value), (w) => w.writeVarlong(value));
      const reader = new Reader(bytes);
      expect(reader.readVarlong()).toBe(value);
      expect(reader.remaining).toBe(0);
    }
  });

  it('an unsigned varint longer than 5 bytes or above 32 bits is malformed', () => {
    expectMalformed(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x10])).readUnsignedVarint());
    expectMalformed(() => new Reader(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).readUnsignedVarint());
    expectMalformed(() => new Reader(Buffer.from([0x80, 0x80])).readUnsignedVarint());
    expectMalformed(() => new Reader(Buffer.alloc(11, 0x80)).readVarlong());
  });
});

describe('strings and bytes', () => {
  it('string: int16 length + UTF-8, -1 for null', () => {
    for (const value of ['', 'a', 'héllo wörld ✓', 'x'.repeat(32767)]) {
      const bytes = written(sizeOfString(value), (w) => w.writeString(value));
      expect(bytes.readInt16BE(0)).toBe(Buffer.byteLength(value));
      expect(new Reader(bytes).readString()).toBe(value);
    }
    const nul = written(2, (w) => w.writeNullableString(null));
    expect(nul).toEqual(Buffer.from([0xff, 0xff]));
    expect(new Reader(nul).readNullableString()).toBeNull();
    expectMalformed(() => new Reader(nul).readString());
  });

  it('compact string: unsigned varint length + 1, 0 for null', () => {
    for (const value of ['', 'topic', 'ü'.repeat(100)]) {
      const bytes = written(sizeOfCompactString(value), (w) => w.writeCompactString(value));
      expect(new Reader(bytes).readUnsignedVarint()).toBe(Buffer.byteLength(value) + 1);
      expect(new Reader(bytes).readCompactString()).toBe(value);
    }
    const nul = written(1, (w) => w.writeCompactNullableString(null));
    expect(nul).toEqual(Buffer.from([0]));
    expect(new Reader(nul).readCompactNullableString()).toBeNull();
    expectMalformed(() => new Reader(nul).readCompactString());
  });

  it('a string above 32767 bytes cannot be written', () => {
    expect(() => new Writer(40000).writeString('x'.repeat(32768))).toThrow(ProtocolError);
  });

  it('bytes and compact bytes round-trip, and decode to a subarray of the input (no copy)', () => {
    const payload = Buffer.from([1, 2, 3, 250]);
    const bytes = written(4 + 4 + sizeOfCompactBytes(payload), (w) => {
      w.writeBytes(payload);
      w.writeCompactBytes(payload);
    });
    const reader = new Reader(bytes);
    const first = reader.readBytes();
    expect(first).toEqual(payload);
    expect(first.buffer).toBe(bytes.buffer);
    expect(first.byteOffset).toBe(bytes.byteOffset + 4);
    expect(reader.readCompactBytes()).toEqual(payload);
    const nulls = written(5, (w) => {
      w.writeNullableBytes(null);
      w.writeCompactNullableBytes(null);
    });
    const nullReader = new Reader(nulls);
    expect(nullReader.readNullableBytes()).toBeNull();
    expect(nullReader.readCompactNullableBytes()).toBeNull();
  });

  it('uuid: 16 bytes <-> canonical lowercase string; a bad uuid cannot be written', () => {
    const id = '0123abcd-4567-89ef-fedc-ba9876543210';
    const bytes = written(16, (w) => w.writeUuid(id));
    expect(bytes.toString('hex')).toBe(id.replaceAll('-', ''));
    expect(new Reader(bytes).readUuid()).toBe(id);
    expect(new Reader(written(16, (w) => w.writeUuid(ZERO_UUID))).readUuid()).toBe(ZERO_UUID);
    expect(new Reader(written(16, (w) => w.writeUuid(id.toUpperCase()))).readUuid()).toBe(id);
    expect(() => new Writer(16).writeUuid('not-a-uuid')).toThrow(ProtocolError);
  });
});

describe('arrays', () => {
  it('array: int32 count, -1 for null; compact: uvarint count + 1, 0 for null', () => {
    const values = [5, -6, 7];
    const bytes = written(4 + 12 + 1 + 12 + 4 + 1, (w) => {
      w.writeArrayLength(values.length);
      for (const v of values) w.writeInt32(v);
      w.writeCompactArrayLength(values.length);
      for (const v of values) w.writeInt32(v);
      w.writeArrayLength(null);
      w.writeCompactArrayLength(null);
    });
    const reader = new Reader(bytes);
    expect(reader.readArray((r) => r.readInt32())).toEqual(values);
    expect(reader.readCompactArray((r) => r.readInt32())).toEqual(values);
    expect(reader.readNullableArray((r) => r.readInt32())).toBeNull();
    expect(reader.readCompactNullableArray((r) => r.readInt32())).toBeNull();
    expect(reader.remaining).toBe(0);
  });

  it('a null array where none is allowed, a count below -1, or a count above the bytes left is malformed', () => {
    expectMalformed(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff])).readArray((r) => r.readInt8()));
    expectMalformed(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xfe])).readNullableArray((r) => r.readInt8()));
    expectMalformed(() => new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0])).readArray((r) => r.readInt8()));
    expectMalformed(() => new Reader(Buffer.from([0x00])).readCompactArray((r) => r.readInt8()));
    expectMalformed(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0x0f])).readCompactArray((r) => r.readInt8()));
  });
});

describe('tagged fields', () => {
  it('a section is a count, then tag/size/value per field; unknown tags are skipped', () => {
    // count 2; tag 0 size 4 int32 7; tag 5 size 2 int16 -1; then a trailing int8 9.
    const bytes = written(1 + 2 + 4 + 2 + 2 + 1, (w) => {
      w.writeUnsignedVarint(2);
      w.writeUnsignedVarint(0);
      w.writeUnsignedVarint(4);
      w.writeInt32(7);
      w.writeUnsignedVarint(5);
      w.writeUnsignedVarint(2);
      w.writeInt16(-1);
      w.writeInt8(9);
    });
    const seen: Array<[number, number]> = [];
    const reader = new Reader(bytes);
    reader.readTaggedFields((tag, field) => {
      if (tag === 0) seen.push([tag, field.readInt32()]);
    });
    expect(seen).toEqual([[0, 7]]);
    expect(reader.readInt8()).toBe(9);
    const skipping = new Reader(bytes);
    skipping.readTaggedFields();
    expect(skipping.readInt8()).toBe(9);
  });

  it('an empty section is one zero byte', () => {
    expect(written(1, (w) => w.writeEmptyTaggedFields())).toEqual(Buffer.from([0]));
  });

  it('a tagged field whose size runs past the end is malformed, and a sub-reader stops at its field', () => {
    expectMalformed(() => new Reader(Buffer.from([1, 0, 10, 1, 2])).readTaggedFields());
    const reader = new Reader(Buffer.from([1, 0, 1, 42, 0, 0, 0, 0]));
    reader.readTaggedFields((_tag, field) => {
      expect(field.readInt8()).toBe(42);
      expectMalformed(() => field.readInt8());
    });
  });
});

describe('truncated input', () => {
  const reads: Array<[string, Buffer, (r: Reader) => unknown]> = [
    ['int8', Buffer.alloc(0), (r) => r.readInt8()],
    ['int16', Buffer.alloc(1), (r) => r.readInt16()],
    ['int32', Buffer.alloc(3), (r) => r.readInt32()],
    ['uint32', Buffer.alloc(3), (r) => r.readUInt32()],
    ['int64', Buffer.alloc(7), (r) => r.readInt64()],
    ['int64 bigint', Buffer.alloc(7), (r) => r.readInt64BigInt()],
    ['float64', Buffer.alloc(7), (r) => r.readFloat64()],
    ['boolean', Buffer.alloc(0), (r) => r.readBoolean()],
    ['uuid', Buffer.alloc(15), (r) => r.readUuid()],
    ['string body', Buffer.from([0, 5, 97, 98]), (r) => r.readString()],
    ['string length', Buffer.from([0]), (r) => r.readString()],
    ['negative string length', Buffer.from([0xff, 0xfe]), (r) => r.readNullableString()],
    ['compact string body', Buffer.from([6, 97]), (r) => r.readCompactString()],
    ['bytes body', Buffer.from([0, 0, 0, 9, 1]), (r) => r.readBytes()],
    ['negative bytes length', Buffer.from([0xff, 0xff, 0xff, 0xfe]), (r) => r.readNullableBytes()],
    ['compact bytes body', Buffer.from([9, 1]), (r) => r.readCompactBytes()],
    ['varint', Buffer.from([0x80]), (r) => r.readVarint()],
    ['varlong', Buffer.from([0x80, 0x80]), (r) => r.readVarlong()],
    ['array element', Buffer.from([0, 0, 0, 1, 0, 0]), (r) => r.readArray((e) => e.readInt32())],
    ['skip', Buffer.alloc(2), (r) => r.skip(3)],
  ];
  for (const [name, bytes, read] of reads) {
    it(`${name} throws MALFORMED_FRAME, not RangeError`, () => expectMalformed(() => read(new Reader(bytes))));
  }

  it('reading at an offset respects the reader end, not the buffer end', () => {
    const reader = new Reader(Buffer.from([0, 0, 0, 1, 0, 0, 0, 2]), 2, 6);
    expect(reader.readInt32()).toBe(0x00010000);
    expectMalformed(() => reader.readInt8());
    expectMalformed(() => new Reader(Buffer.alloc(4), 5));
  });
});

describe('writer parts', () => {
  it('cuts its buffer at a FileRegion and never returns two Buffers in a row', () => {
    const writer = new Writer(6, { allowRegions: true });
    writer.writeInt16(1);
    writer.writeRegion({ fd: 9, position: 100, count: 50 });
    writer.writeRegion({ fd: 9, position: 150, count: 10 });
    writer.writeInt32(2);
    const parts = writer.finish();
    expect(parts).toEqual([Buffer.from([0, 1]), { fd: 9, position: 100, count: 50 }, { fd: 9, position: 150, count: 10 }, Buffer.from([0, 0, 0, 2])]);
  });

  it('refuses a FileRegion unless allowed, and reports a size mismatch as a bug', () => {
    expect(() => new Writer(0).writeRegion({ fd: 1, position: 0, count: 1 })).toThrow(ProtocolError);
    const writer = new Writer(3);
    writer.writeInt16(1);
    expect(() => writer.finish()).toThrow(/wrote 2 bytes into a 3-byte buffer/);
  });
});
