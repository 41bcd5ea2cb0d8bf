// The snappy, lz4 and zstd codecs: round trips through encodeBatch/decodeBatch, interop with
// kafkajs and its community codecs, snappy's xerial framing byte for byte, malformed input, and
// decompression bombs. The bomb tests come first: they check the process's peak RSS, which must
// not already have been raised by other tests in this file.
import { createRequire } from 'node:module';
import { compressFrameSync } from 'lz4-napi';
import { compressSync as snappyRawCompress } from 'snappy';
import { describe, expect, it } from 'vitest';
import zstdBinding from 'zstd-napi/binding.js';
import { compress as zstdRawCompress } from 'zstd-napi';
import { isSluiceError } from '../../src/errors.js';
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  type CompressionName,
  decodeBatch,
  encodeBatch,
  getCodec,
  LOG_OVERHEAD,
  RECORDS_OFFSET,
  type RecordInput,
  registeredCodecs,
  stampCrc,
  validateBatch,
} from '../../src/record/index.js';
import { lz4Codec, snappyCodec, zstdCodec } from '../../src/record/codecs/index.js';
import { XERIAL_BLOCK_BYTES, XERIAL_HEADER_BYTES } from '../../src/record/codecs/snappy.js';

const require = createRequire(import.meta.url);
// kafkajs 2.2.4 as an independent producer and consumer of compressed batches. Its codecs for
// snappy and lz4 are the community packages (kafkajs-snappy: snappyjs, raw blocks on write;
// kafkajs-lz4: the `lz4` package's frame encoder). @kafkajs/zstd does not build on Node 20 (its
// cppzst needs C++17 headers it does not ask for), so zstd gets a stand-in with the same shape
// over zstd-napi's own one-shot API, not over our codec.
const { CompressionCodecs, CompressionTypes } = require('kafkajs');
const KafkaJsSnappyCodec = require('kafkajs-snappy');
const KafkaJsLZ4Codec = require('kafkajs-lz4');
const zstdSimple = require('zstd-napi');
const { RecordBatch: KafkaJsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const KafkaJsRecord = require('kafkajs/src/protocol/recordBatch/record/v0');
const kafkajsDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const KafkaJsDecoder = require('kafkajs/src/protocol/decoder');
const KafkaJsLong = require('kafkajs/src/utils/long');

CompressionCodecs[CompressionTypes.Snappy] = KafkaJsSnappyCodec;
CompressionCodecs[CompressionTypes.LZ4] = new KafkaJsLZ4Codec().codec;
CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  compress: async (encoder: { buffer: Buffer }) => zstdSimple.compress(encoder.buffer),
  decompress: async (buffer: Buffer) => zstdSimple.decompress(buffer),
});

const CODECS = ['snappy', 'lz4', 'zstd'] as const;
const KAFKAJS_TYPE = { snappy: 2, lz4: 3, zstd: 4 } as const;
const BASE_TS = 1700000000000;
const MiB = 1024 * 1024;
const BOMB_BYTES = 100 * MiB;

const RECORDS: RecordInput[] = Array.from({ length: 50 }, (_, i) => ({
  key: i % 5 === 0 ? null : `user-${i % 7}`,
  value: i % 11 === 3 ? null : `{"event":"click","n":${i},"page":"/products/${i % 3}","ok":true}`,
  headers: i % 2 ? { source: 'web', trace: `t-${i}` } : {},
  timestamp: BASE_TS + i * 10,
}));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return isSluiceError(error) ? error.code : `not a SluiceError: ${String(error)}`;
  }
  return 'no error';
}

function comparable(records: readonly { key?: unknown; value?: unknown }[]): unknown[] {
  const hex = (v: unknown) => (v === null || v === undefined ? null : Buffer.from(v as string).toString('hex'));
  return records.map((r) => ({ key: hex(r.key), value: hex(r.value) }));
}

/** `batch` with its records region replaced by `records` and codec `codecId`, with a fresh CRC. */
function rebatch(batch: Buffer, codecId: number, records: Buffer): Buffer {
  const out = Buffer.concat([batch.subarray(0, RECORDS_OFFSET), records]);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  out.writeInt16BE((out.readInt16BE(ATTRIBUTES_OFFSET) & ~COMPRESSION_CODEC_MASK) | codecId, ATTRIBUTES_OFFSET);
  stampCrc(out);
  return out;
}

async function kafkajsEncode(records: RecordInput[], compression: number): Promise<Buffer> {
  const first = records[0]!.timestamp!;
  const encoded = records.map((r, i) => KafkaJsRecord({ ...r, offsetDelta: i, timestampDelta: r.timestamp! - first }));
  const batch = await KafkaJsRecordBatch({
    compression,
    records: encoded,
    firstOffset: KafkaJsLong.fromInt(0),
    firstTimestamp: first,
    maxTimestamp: Math.max(...records.map((r) => r.timestamp!)),
    partitionLeaderEpoch: -1,
    lastOffsetDelta: records.length - 1,
    producerId: KafkaJsLong.fromValue(-1),
    producerEpoch: -1,
    firstSequence: -1,
  });
  return batch.buffer;
}

// --- Bombs: 100 MiB of zeros in a few MB or less, built without the 100 MiB plaintext. ---

/** xerial framing: 3200 copies of one compressed 32 KiB block of zeros. */
function snappyXerialBomb(): Buffer {
  const block = snappyRawCompress(Buffer.alloc(XERIAL_BLOCK_BYTES));
  const length = Buffer.alloc(4);
  length.writeInt32BE(block.length);
  const parts = [snappyCodec.compress(Buffer.alloc(0))]; // the 16-byte header alone
  for (let i = 0; i < BOMB_BYTES / XERIAL_BLOCK_BYTES; i++) parts.push(length, block);
  return Buffer.concat(parts);
}

/** One raw snappy block: length preamble, a 64-byte literal, then 64-byte copies at offset 1. */
function snappyRawBomb(): Buffer {
  const copies = BOMB_BYTES / 64 - 1;
  const buf = Buffer.alloc(4 + 2 + 64 + copies * 3);
  let at = 0;
  for (let v = BOMB_BYTES; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      buf[at++] = v;
      break;
    }
    buf[at++] = (v & 0x7f) | 0x80;
  }
  buf[at++] = 60 << 2; // literal whose length - 1 is in the next byte
  buf[at++] = 63; // 64 bytes (zeros)
  at += 64;
  for (let i = 0; i < copies; i++, at += 3) {
    buf[at] = (63 << 2) | 2; // copy, 2-byte offset, length 64
    buf[at + 1] = 1;
    buf[at + 2] = 0;
  }
  return buf.subarray(0, at);
}

/** One LZ4 frame of 1600 copies of one compressed 64 KiB block of zeros. */
function lz4Bomb(): Buffer {
  const frame = compressFrameSync(Buffer.alloc(64 * 1024));
  const headerBytes = 7; // magic, FLG, BD, HC: no content size, no dictionary id
  expect(frame[4]).toBe(0x60); // version 01, independent blocks, no checksums
  expect(frame[5]).toBe(0x40); // 64 KiB blocks
  const blockBytes = frame.readUInt32LE(headerBytes);
  const block = frame.subarray(headerBytes, headerBytes + 4 + blockBytes);
  expect(frame.length).toBe(headerBytes + 4 + blockBytes + 4);
  const parts = [frame.subarray(0, headerBytes)];
  for (let i = 0; i < BOMB_BYTES / (64 * 1024); i++) parts.push(block);
  parts.push(Buffer.alloc(4)); // end mark
  return Buffer.concat(parts);
}

/** 100 zstd frames of 1 MiB of zeros each, every one declaring its size. */
function zstdFramesBomb(): Buffer {
  const frame = zstdRawCompress(Buffer.alloc(MiB));
  return Buffer.concat(Array(BOMB_BYTES / MiB).fill(frame));
}

/** One streamed zstd frame of 100 MiB of zeros whose header declares no size. */
function zstdStreamBomb(): Buffer {
  const cctx = new zstdBinding.CCtx();
  const zeros = Buffer.alloc(MiB);
  const dst = Buffer.alloc(zstdBinding.cStreamOutSize());
  const parts: Buffer[] = [];
  for (let i = 0; i < BOMB_BYTES / MiB; i++) {
    let src = zeros;
    while (src.length > 0) {
      const [, produced, consumed] = cctx.compressStream2(dst, src, zstdBinding.EndDirective.continue);
      parts.push(Buffer.from(dst.subarray(0, produced)));
      src = src.subarray(consumed);
    }
  }
  for (;;) {
    const [remaining, produced] = cctx.compressStream2(dst, Buffer.alloc(0), zstdBinding.EndDirective.end);
    parts.push(Buffer.from(dst.subarray(0, produced)));
    if (remaining === 0) break;
  }
  return Buffer.concat(parts);
}

describe('decompression bombs (first: they measure peak RSS)', () => {
  const bombs: [CompressionName, string, Buffer][] = [
    ['snappy', 'xerial', snappyXerialBomb()],
    ['snappy', 'raw block', snappyRawBomb()],
    ['lz4', 'frame', lz4Bomb()],
    ['zstd', '100 frames', zstdFramesBomb()],
    ['zstd', 'one frame, no size', zstdStreamBomb()],
  ];
  const template = encodeBatch([{ value: 'x', timestamp: BASE_TS }]);

  it('100 MiB payloads with maxOutputBytes 1 MiB are CORRUPT_MESSAGE, and peak RSS grows far less than 100 MiB', () => {
    for (const [, , bomb] of bombs) expect(bomb.length).toBeLessThan(6 * MiB);
    const peakKiBBefore = process.resourceUsage().maxRSS;
    for (const [name, kind, bomb] of bombs) {
      const codec = getCodec(name);
      expect(codeOf(() => codec.decompress(bomb, MiB)), `${name} ${kind}`).toBe('CORRUPT_MESSAGE');
      expect(() => codec.decompress(bomb, MiB), `${name} ${kind}`).toThrow(/maxOutputBytes/);
      const batch = rebatch(template, codec.id, bomb);
      expect(codeOf(() => decodeBatch(batch, 0, { maxDecompressedBytes: MiB })), `${name} ${kind}`).toBe('CORRUPT_MESSAGE');
    }
    const grewMiB = (process.resourceUsage().maxRSS - peakKiBBefore) / 1024;
    expect(grewMiB).toBeLessThan(40);
  });

  it('the bombs are real: with maxOutputBytes 100 MiB they inflate to 100 MiB of zeros', () => {
    for (const [name, kind, bomb] of bombs) {
      const out = getCodec(name).decompress(bomb, BOMB_BYTES);
      expect(out.length, `${name} ${kind}`).toBe(BOMB_BYTES);
      expect(out.subarray(BOMB_BYTES - 4096).every((b) => b === 0)).toBe(true);
      expect(codeOf(() => getCodec(name).decompress(bomb, BOMB_BYTES - 1)), `${name} ${kind}`).toBe('CORRUPT_MESSAGE');
    }
  });
});

describe('registration', () => {
  it('importing codecs/index.js registers snappy, lz4 and zstd under their Kafka ids', () => {
    expect(registeredCodecs()).toEqual(['none', 'gzip', 'snappy', 'lz4', 'zstd']);
    expect(getCodec('snappy')).toBe(snappyCodec);
    expect(getCodec(3)).toBe(lz4Codec);
    expect(getCodec(4)).toBe(zstdCodec);
  });
});

describe('round trips through encodeBatch/decodeBatch', () => {
  for (const name of CODECS) {
    it(`${name}: small and multi-block batches`, () => {
      const large = Array.from({ length: 40 }, (_, i) => ({
        key: `k${i}`,
        value: Buffer.from(`${i}:`.repeat(2000 + i * 50)), // ~200 KiB: several snappy and lz4 blocks
        timestamp: BASE_TS + i,
      }));
      for (const input of [RECORDS, large, [{ value: null, timestamp: BASE_TS }]]) {
        const buf = encodeBatch(input, { compression: name, baseOffset: 7 });
        expect(buf.readInt16BE(ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK).toBe(getCodec(name).id);
        expect(validateBatch(buf)).toBe(buf.length);
        const { header, records } = decodeBatch(buf, 0, { maxDecompressedBytes: 16 * MiB });
        expect(header.compressionName).toBe(name);
        expect(records.map((r) => r.offset)).toEqual(input.map((_, i) => 7 + i));
        expect(comparable(records)).toEqual(comparable(input));
      }
      const plain = encodeBatch(large);
      expect(encodeBatch(large, { compression: name }).length).toBeLessThan(plain.length / 10);
    });
  }

  it('a records region that inflates exactly to maxDecompressedBytes is accepted, one byte less is not', () => {
    for (const name of CODECS) {
      const buf = encodeBatch(RECORDS, { compression: name });
      const size = encodeBatch(RECORDS).length - RECORDS_OFFSET;
      expect(decodeBatch(buf, 0, { maxDecompressedBytes: size }).records.length).toBe(RECORDS.length);
      expect(codeOf(() => decodeBatch(buf, 0, { maxDecompressedBytes: size - 1 })), name).toBe('CORRUPT_MESSAGE');
    }
  });
});

describe('kafkajs interop', () => {
  for (const name of CODECS) {
    it(`${name}: we decode kafkajs's batches, kafkajs decodes ours`, async () => {
      const theirs = await kafkajsEncode(RECORDS, KAFKAJS_TYPE[name]);
      const decoded = decodeBatch(theirs);
      expect(decoded.header.compressionName).toBe(name);
      expect(comparable(decoded.records)).toEqual(comparable(RECORDS));
      expect(decoded.records.map((r) => r.timestamp)).toEqual(RECORDS.map((r) => r.timestamp));
      expect(decoded.records[1]!.headers).toEqual([
        { key: 'source', value: Buffer.from('web') },
        { key: 'trace', value: Buffer.from('t-1') },
      ]);

      const ours = encodeBatch(RECORDS, { compression: name });
      const back = await kafkajsDecodeBatch(new KafkaJsDecoder(ours));
      expect(back.records.map((r: any) => r.offset)).toEqual(RECORDS.map((_, i) => String(i)));
      expect(comparable(back.records)).toEqual(comparable(RECORDS));
      expect(back.records[1].headers).toEqual({ source: Buffer.from('web'), trace: Buffer.from('t-1') });
    });
  }

  it('kafkajs-snappy writes a raw block (no xerial header), which we accept', async () => {
    const theirs = await kafkajsEncode(RECORDS, KAFKAJS_TYPE.snappy);
    expect(theirs.subarray(RECORDS_OFFSET, RECORDS_OFFSET + 8).equals(Buffer.from('82534e4150505900', 'hex'))).toBe(false);
    const ours = encodeBatch(RECORDS, { compression: 'snappy' });
    expect(ours.subarray(RECORDS_OFFSET, RECORDS_OFFSET + 8).toString('hex')).toBe('82534e4150505900');
  });
});

describe('snappy framing', () => {
  it('writes the xerial header and a length-prefixed raw block (golden bytes)', () => {
    const out = snappyCodec.compress(Buffer.from('hello'));
    expect(out.toString('hex')).toBe(
      '82534e4150505900' + // magic "\x82SNAPPY\0"
        '00000001' + // version
        '00000001' + // compatible version
        '00000007' + // block length
        '05' + // raw block: uncompressed length 5 (varint)
        '10' + // literal tag, length 5 ((5 - 1) << 2)
        '68656c6c6f', // "hello"
    );
    expect(snappyCodec.decompress(out).toString()).toBe('hello');
  });

  it('splits the input into 32 KiB blocks, as snappy-java does', () => {
    const input = Buffer.alloc(2 * XERIAL_BLOCK_BYTES + 1);
    for (let i = 0; i < input.length; i++) input[i] = (i * 7919) % 251;
    const out = snappyCodec.compress(input);
    let at = XERIAL_HEADER_BYTES;
    const declared: string[] = [];
    while (at < out.length) {
      const length = out.readInt32BE(at);
      const block = out.subarray(at + 4, at + 4 + length);
      expect(block.equals(snappyRawCompress(input.subarray(declared.length * XERIAL_BLOCK_BYTES, (declared.length + 1) * XERIAL_BLOCK_BYTES)))).toBe(true);
      declared.push(block.subarray(0, block[0]! < 0x80 ? 1 : 3).toString('hex'));
      at += 4 + length;
    }
    expect(declared).toEqual(['808002', '808002', '01']); // 32768, 32768, 1 as varints
    expect(snappyCodec.decompress(out).equals(input)).toBe(true);
    expect(snappyCodec.compress(Buffer.alloc(0)).length).toBe(XERIAL_HEADER_BYTES);
    expect(snappyCodec.decompress(snappyCodec.compress(Buffer.alloc(0))).length).toBe(0);
  });

  it('accepts a raw snappy block, alone and as a batch records region', () => {
    const raw = snappyRawCompress(Buffer.from('hello hello hello hello'));
    expect(snappyCodec.decompress(raw).toString()).toBe('hello hello hello hello');
    const plain = encodeBatch(RECORDS);
    const batch = rebatch(plain, 2, snappyRawCompress(plain.subarray(RECORDS_OFFSET)));
    expect(comparable(decodeBatch(batch).records)).toEqual(comparable(RECORDS));
  });
});

describe('malformed compressed data is CORRUPT_MESSAGE', () => {
  const input = Buffer.from(JSON.stringify(RECORDS).repeat(20));

  function expectCorrupt(name: CompressionName, data: Buffer, what: string): void {
    expect(codeOf(() => getCodec(name).decompress(data)), `${name}: ${what}`).toBe('CORRUPT_MESSAGE');
    expect(codeOf(() => getCodec(name).decompress(data, 10 * MiB)), `${name}: ${what}`).toBe('CORRUPT_MESSAGE');
  }

  // Altered literal bytes are not an error for snappy, lz4 or zstd without checksums (ours and
  // Kafka's Java client write none): they inflate to other bytes. The batch CRC-32C, computed over
  // the compressed bytes, is what catches those; these tests break the structure instead.
  it('every codec: empty, garbage, truncated at many points', () => {
    for (const name of CODECS) {
      const good = getCodec(name).compress(input);
      expect(getCodec(name).decompress(good).equals(input)).toBe(true);
      expectCorrupt(name, Buffer.alloc(0), 'empty');
      expectCorrupt(name, Buffer.from('definitely not compressed, not at all'), 'garbage');
      for (const keep of [1, 5, 10, 17, 20, Math.floor(good.length / 2), good.length - 1]) {
        expectCorrupt(name, good.subarray(0, keep), `truncated to ${keep} of ${good.length}`);
      }
    }
  });

  it('through decodeBatch: a truncated or garbage records region with a valid CRC', () => {
    for (const name of CODECS) {
      const batch = encodeBatch(RECORDS, { compression: name });
      const region = batch.subarray(RECORDS_OFFSET);
      const truncated = rebatch(batch, getCodec(name).id, region.subarray(0, region.length - 5));
      expect(validateBatch(truncated)).toBe(truncated.length);
      expect(codeOf(() => decodeBatch(truncated)), name).toBe('CORRUPT_MESSAGE');
      const garbage = rebatch(batch, getCodec(name).id, Buffer.alloc(region.length, 0xa5));
      expect(codeOf(() => decodeBatch(garbage)), name).toBe('CORRUPT_MESSAGE');
      expect(() => decodeBatch(garbage)).toThrow(new RegExp(`${name} records do not decompress: ${name}: `));
    }
  });

  it('snappy: bad block lengths, an impossible declared length, an old xerial version', () => {
    const good = snappyCodec.compress(input);
    const pastEnd = Buffer.from(good);
    pastEnd.writeInt32BE(good.length, XERIAL_HEADER_BYTES);
    expectCorrupt('snappy', pastEnd, 'block length past the end');
    const negative = Buffer.from(good);
    negative.writeInt32BE(-1, XERIAL_HEADER_BYTES);
    expectCorrupt('snappy', negative, 'negative block length');
    expectCorrupt('snappy', Buffer.concat([good, Buffer.from([0, 0])]), 'two stray bytes after the last block');
    expectCorrupt('snappy', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]), 'raw block declaring 4 GiB in 1 byte');
    const version0 = Buffer.from(good);
    version0.writeInt32BE(0, 8);
    expectCorrupt('snappy', version0, 'xerial version 0');
    expect(() => snappyCodec.decompress(pastEnd)).toThrow(/^snappy: /);
  });

  it('lz4: missing end mark, trailing bytes, bad magic or header checksum, oversize block (the library alone accepts some)', () => {
    const good = lz4Codec.compress(input);
    expect(good.readUInt32LE(good.length - 4)).toBe(0); // end mark
    expectCorrupt('lz4', good.subarray(0, good.length - 4), 'no end mark');
    expectCorrupt('lz4', Buffer.concat([good, Buffer.from([1, 2, 3])]), 'trailing bytes');
    const magic = Buffer.from(good);
    magic[0] ^= 1;
    expectCorrupt('lz4', magic, 'bad magic');
    const hc = Buffer.from(good);
    hc[6] ^= 0xff;
    expectCorrupt('lz4', hc, 'bad header checksum');
    const oversize = Buffer.from(good);
    oversize.writeUInt32LE(5 * MiB, 7);
    expectCorrupt('lz4', oversize, 'block larger than the frame allows');
    expect(() => lz4Codec.decompress(magic)).toThrow(/^lz4: /);
  });

  it('lz4: concatenated frames and skippable frames are read in full', () => {
    const a = lz4Codec.compress(Buffer.from('first frame '));
    const b = lz4Codec.compress(Buffer.from('second frame'));
    const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
    expect(lz4Codec.decompress(Buffer.concat([a, skippable, b])).toString()).toBe('first frame second frame');
    expectCorrupt('lz4', skippable, 'only a skippable frame');
  });

  it('zstd: trailing garbage, concatenated and skippable frames', () => {
    const a = zstdCodec.compress(Buffer.from('first frame '));
    const b = zstdCodec.compress(Buffer.from('second frame'));
    const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
    expect(zstdCodec.decompress(Buffer.concat([a, skippable, b])).toString()).toBe('first frame second frame');
    expectCorrupt('zstd', Buffer.concat([a, Buffer.from([1, 2, 3])]), 'trailing bytes');
    expectCorrupt('zstd', Buffer.concat([a, Buffer.from('not a zstd frame at all, really not')]), 'trailing garbage');
    // The reused context recovers after an error mid-frame.
    expect(zstdCodec.decompress(a).toString()).toBe('first frame ');
    expect(() => zstdCodec.decompress(Buffer.from('garbage garbage garbage'))).toThrow(/^zstd: /);
  });
});
