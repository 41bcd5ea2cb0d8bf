// HeaderKeys (src/record/header-keys.ts) hands back the key it decoded last at a header position
// while the bytes there match: it must never hand back a stale key, whatever the bytes become.
import { describe, expect, it } from 'vitest';

import { decodeBatch, encodeBatch } from '../../src/record/batch.js';
import type { RecordInput } from '../../src/record/record.js';
import { decodeRecords } from '../../src/record/decode-records.js';
import { HeaderKeys } from '../../src/record/header-keys.js';
import { prng } from '../fixtures/random.js';

const NOW = 1_700_000_000_000;

describe('HeaderKeys', () => {
  it('decodes a key again when its bytes differ from the last at its position, even at the same length', () => {
    const keys = new HeaderKeys();
    const at = (position: number, key: string | Buffer) => {
      const buf = Buffer.concat([Buffer.from('xx'), Buffer.from(key as string)]);
      return keys.keyAt(position, buf, 2, buf.length - 2);
    };
    expect(at(0, 'ab')).toBe('ab');
    expect(at(0, 'ab')).toBe('ab');
    expect(at(0, 'ac')).toBe('ac');
    expect(at(0, 'é')).toBe('é');
    expect(at(0, 'ü')).toBe('ü'); // two UTF-8 bytes each, the first the same
    expect(at(0, '')).toBe('');
    expect(at(1, 'ab')).toBe('ab');
    expect(at(0, 'ab')).toBe('ab');
    expect(at(16, 'past the remembered positions')).toBe('past the remembered positions');
    expect(at(0, 'k'.repeat(65))).toBe('k'.repeat(65));
    expect(at(0, Buffer.from([0xff, 0xfe]))).toBe('\ufffd\ufffd');
  });

  it('keeps a copy of the bytes it compares with: a buffer reused for other records is no trouble', () => {
    const keys = new HeaderKeys();
    const buf = Buffer.from('trace-id');
    expect(keys.keyAt(0, buf, 0, buf.length)).toBe('trace-id');
    buf.write('trace-ix');
    expect(keys.keyAt(0, buf, 0, buf.length)).toBe('trace-ix');
  });

  it('decodeRecords gives what decodeBatch gives for headers that repeat, change and shift position', () => {
    const random = prng(21);
    const names = ['trace-id', 'trace-ix', 'source', 'sourcé', 'a', '', 'k'.repeat(80)];
    for (let round = 0; round < 20; round++) {
      const records: RecordInput[] = Array.from({ length: 50 }, (_, i) => ({
        value: `v${i}`,
        headers: Array.from({ length: Math.floor(random() * 20) }, () => ({ key: names[Math.floor(random() * (random() < 0.8 ? 2 : names.length))]!, value: random() < 0.1 ? null : `${i}` })),
      }));
      const batch = encodeBatch(records, { now: NOW });
      const expected = decodeBatch(batch).records.map((r) => r.headers.map((h) => [h.key, h.value?.toString() ?? null]));
      expect(decodeRecords(batch, 0).map((r) => r.headers.map((h) => [h.key, h.value?.toString() ?? null]))).toEqual(expected);
    }
  });
});
