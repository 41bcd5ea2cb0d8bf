import { describe, expect, it } from 'vitest';
import { isSluiceError } from '../../src/errors.js';
import {
  ATTRIBUTES_OFFSET,
  COMPRESSION_NAMES,
  CompressionId,
  decodeBatch,
  encodeBatch,
  findCodec,
  getCodec,
  readBatchHeader,
  RECORDS_OFFSET,
  registerCodec,
  registeredCodecs,
  stampCrc,
  validateBatch,
} from '../../src/record/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isSluiceError(error) ? error.code : `not a SluiceError: ${String(error)}`;
  }
  return undefined;
}

describe('codec registry', () => {
  it("has Kafka's ids and the built-in none and gzip", () => {
    expect(CompressionId).toEqual({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 });
    expect(COMPRESSION_NAMES).toEqual(['none', 'gzip', 'snappy', 'lz4', 'zstd']);
    expect(registeredCodecs()).toEqual(['none', 'gzip']);
    expect(getCodec('gzip').id).toBe(1);
    expect(getCodec(0).name).toBe('none');
    expect(findCodec('snappy')).toBeUndefined();
  });

  it('unknown or unregistered codecs are UNSUPPORTED_COMPRESSION_TYPE', () => {
    expect(codeOf(() => getCodec('lz4'))).toBe('UNSUPPORTED_COMPRESSION_TYPE');
    expect(codeOf(() => getCodec('brotli'))).toBe('UNSUPPORTED_COMPRESSION_TYPE');
    expect(codeOf(() => getCodec(6))).toBe('UNSUPPORTED_COMPRESSION_TYPE');
    expect(() => getCodec('lz4')).toThrow(/no implementation registered/);
    expect(() => getCodec(6)).toThrow(/unknown compression codec 6/);
  });

  it('gzip round-trips and reports garbage and oversize output as CORRUPT_MESSAGE', () => {
    const gzip = getCodec('gzip');
    const data = Buffer.from('hello hello hello hello hello hello');
    expect(gzip.decompress(gzip.compress(data)).equals(data)).toBe(true);

    const batch = encodeBatch([{ value: Buffer.alloc(10000, 1) }], { compression: 'gzip' });
    expect(decodeBatch(batch).records[0]!.value!.length).toBe(10000);
    expect(codeOf(() => decodeBatch(batch, 0, { maxDecompressedBytes: 1000 }))).toBe('CORRUPT_MESSAGE');

    const garbled = Buffer.from(batch);
    garbled.fill(0x55, RECORDS_OFFSET + 10);
    stampCrc(garbled);
    expect(validateBatch(garbled)).toBe(garbled.length);
    expect(codeOf(() => decodeBatch(garbled))).toBe('CORRUPT_MESSAGE');
    expect(() => decodeBatch(garbled)).toThrow(/gzip records do not decompress/);
  });

  it('refuses an id/name pair that is not Kafka’s', () => {
    const fake = { compress: (b: Buffer) => b, decompress: (b: Buffer) => b };
    expect(codeOf(() => registerCodec({ id: 3, name: 'snappy', ...fake }))).toBe('UNSUPPORTED_COMPRESSION_TYPE');
    expect(codeOf(() => registerCodec({ id: 5, name: 'zstd', ...fake }))).toBe('UNSUPPORTED_COMPRESSION_TYPE');
  });

  it('a registered codec is used by encodeBatch and decodeBatch', () => {
    // A stand-in "snappy" (byte-reversal) proves the plumbing, not snappy's format.
    const reverse = (b: Buffer) => Buffer.from(b).reverse();
    registerCodec({ id: 2, name: 'snappy', compress: reverse, decompress: reverse });
    expect(registeredCodecs()).toEqual(['none', 'gzip', 'snappy']);
    const records = [{ key: 'k', value: 'v1', timestamp: 1 }, { key: null, value: 'v2', timestamp: 2 }];
    const buf = encodeBatch(records, { compression: 'snappy' });
    expect(buf.readInt16BE(ATTRIBUTES_OFFSET) & 7).toBe(2);
    expect(readBatchHeader(buf).compressionName).toBe('snappy');
    const plain = encodeBatch(records);
    expect(buf.subarray(RECORDS_OFFSET).equals(reverse(plain.subarray(RECORDS_OFFSET)))).toBe(true);
    expect(decodeBatch(buf).records.map((r) => r.value!.toString())).toEqual(['v1', 'v2']);
  });
});
