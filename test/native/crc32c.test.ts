// CRC-32C: the RFC 3720 (iSCSI) B.4 vectors for both implementations, and hardware == software on
// every length 0..300 at every alignment and on lengths that cross the hardware path's
// three-stream blocks, so the instruction path cannot drift from the table.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { binding } from '../../src/native/binding.js';
import { thrown } from './helpers.js';

const vectors: Array<[string, Buffer, number]> = [
  ['empty', Buffer.alloc(0), 0],
  ['"123456789"', Buffer.from('123456789'), 0xe3069283],
  ['32 bytes of 0x00', Buffer.alloc(32, 0x00), 0x8a9136aa],
  ['32 bytes of 0xFF', Buffer.alloc(32, 0xff), 0x62a8ab43],
  ['32 bytes ascending 0..31', Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
  ['32 bytes descending 31..0', Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
];

describe('crc32c', () => {
  for (const [name, data, expected] of vectors) {
    it(`software: ${name}`, () => {
      expect(binding.crc32cSoftware(data)).toBe(expected);
      expect(binding.crc32c(data)).toBe(expected);
    });
    it.skipIf(!binding.hasHardwareCrc32c)(`hardware: ${name}`, () => {
      expect(binding.crc32cHardware(data)).toBe(expected);
    });
  }

  it('hardware equals software on every length 0..300 at unaligned starts', () => {
    const data = randomBytes(320);
    for (let start = 0; start < 8; start++) {
      for (let length = 0; length <= 300; length++) {
        const software = binding.crc32cSoftware(data, start, start + length);
        expect(binding.crc32cHardware(data, start, start + length)).toBe(software);
        expect(binding.crc32cSoftware(data.subarray(start, start + length))).toBe(software);
      }
    }
  });

  it('hardware equals software across the three-stream blocks (3 x 256 and 3 x 8192 bytes) and their joins', () => {
    const data = randomBytes(120_000);
    const lengths = [767, 768, 769, 1536, 2000, 24_575, 24_576, 24_577, 25_343, 25_344, 49_152, 65_536, 100_003, 119_990];
    for (const start of [0, 1, 5]) {
      for (const length of lengths) {
        expect(binding.crc32cHardware(data, start, start + length)).toBe(binding.crc32cSoftware(data, start, start + length));
      }
    }
  });

  it('honours start and end, and defaults them to the whole buffer', () => {
    const data = Buffer.from('xx123456789yy');
    expect(binding.crc32c(data, 2, 11)).toBe(0xe3069283);
    expect(binding.crc32c(data.subarray(2), 0, 9)).toBe(0xe3069283);
    expect(binding.crc32c(data, 2, 2)).toBe(0);
    expect(binding.crc32c(data)).toBe(binding.crc32c(data, 0, data.length));
    expect(binding.crc32c(data, 2)).toBe(binding.crc32c(data.subarray(2)));
  });

  it('rejects ranges outside the buffer and non-buffers', () => {
    const data = Buffer.alloc(10);
    for (const [start, end] of [[0, 11], [5, 4], [-1, 3], [11, 11], [0.5, 3]]) {
      const error = thrown(() => binding.crc32c(data, start, end));
      expect(error).toBeInstanceOf(RangeError);
      expect(error.code).toBe('ERR_OUT_OF_RANGE');
    }
    const error = thrown(() => binding.crc32c('abc' as unknown as Uint8Array));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe('ERR_INVALID_ARG_TYPE');
  });
});
