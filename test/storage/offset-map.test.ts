import { describe, expect, it } from 'vitest';

import { OFFSET_MAP_ENTRY_BYTES, OffsetMap, murmur3x86x128 } from '../../src/storage/offset-map.js';

function hex(words: Int32Array): string {
  return [...words].map((word) => (word >>> 0).toString(16).padStart(8, '0')).join(' ');
}

function hashOf(text: string): string {
  const out = new Int32Array(4);
  const bytes = Buffer.from(text);
  murmur3x86x128(bytes, 0, bytes.length, out);
  return hex(out);
}

const key = (text: string) => Buffer.from(text);

describe('MurmurHash3 x86_128', () => {
  it("gives the reference implementation's values, for every tail length", () => {
    expect(hashOf('')).toBe('00000000 00000000 00000000 00000000');
    expect(hashOf('The quick brown fox jumps over the lazy dog')).toBe('2f1583c3 ecee2c67 5d7bf66c e5e91d2c');
    // Every length from 0 to 40 hashes differently, and a key inside a larger buffer as itself.
    const seen = new Set<string>();
    const text = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH';
    for (let length = 0; length <= 40; length++) {
      const value = hashOf(text.slice(0, length));
      seen.add(value);
      const out = new Int32Array(4);
      const framed = Buffer.from(`##${text.slice(0, length)}##`);
      murmur3x86x128(framed, 2, 2 + length, out);
      expect(hex(out)).toBe(value);
    }
    expect(seen.size).toBe(41);
  });
});

describe('OffsetMap', () => {
  it('keeps the latest offset of each key and the latest offset put', () => {
    const map = new OffsetMap(1 << 20);
    map.put(key('a'), 0, 1, 5);
    map.put(key('b'), 0, 1, 6);
    map.put(key('a'), 0, 1, 9);
    expect(map.get(key('a'), 0, 1)).toBe(9);
    expect(map.get(key('b'), 0, 1)).toBe(6);
    expect(map.get(key('c'), 0, 1)).toBe(-1);
    expect(map.size).toBe(2);
    expect(map.latestOffset).toBe(9);
    map.updateLatestOffset(20);
    expect(map.latestOffset).toBe(20);
    map.clear();
    expect(map.size).toBe(0);
    expect(map.get(key('a'), 0, 1)).toBe(-1);
    expect(map.latestOffset).toBe(-1);
  });

  it('holds slots * load factor keys of its memory, 24 bytes a slot, growing its table up to that bound', () => {
    const memoryBytes = 100_000 * OFFSET_MAP_ENTRY_BYTES;
    const map = new OffsetMap(memoryBytes, 0.9);
    expect(map.slots).toBe(100_000);
    expect(map.maxEntries).toBe(90_000);
    for (let i = 0; !map.isFull; i++) map.put(key(`key-${i}`), 0, `key-${i}`.length, i);
    expect(map.size).toBe(90_000);
    for (let i = 0; i < 90_000; i += 997) expect(map.get(key(`key-${i}`), 0, `key-${i}`.length)).toBe(i);
    expect(() => map.put(key('one-more'), 0, 8, 1)).toThrow(RangeError);
    // A key already held may still be moved forward.
    map.put(key('key-0'), 0, 5, 123_456);
    expect(map.get(key('key-0'), 0, 5)).toBe(123_456);
  });

  it('refuses a memory that holds no key, as Kafka does', () => {
    expect(() => new OffsetMap(OFFSET_MAP_ENTRY_BYTES)).toThrow(/log.cleaner.dedupe.buffer.size/);
    expect(new OffsetMap(2 * OFFSET_MAP_ENTRY_BYTES).maxEntries).toBe(1);
  });
});
