// The decode a PoolConsumer's workers run on a task's bytes (src/consumer/batch.ts): the records
// the generic decodeBatch reads, control batches and records below the start left out, and a
// batch whose CRC does not hold refused before any record is handed over.
import { describe, expect, it } from 'vitest';

import { decodeRecords } from '../../src/consumer/batch.js';
import { SluiceError } from '../../src/errors.js';
import { CRC_OFFSET } from '../../src/record/batch-format.js';
import { decodeBatch, encodeBatch, iterateBatches } from '../../src/record/batch.js';
import '../../src/record/codecs/index.js';
import type { DecodedRecord } from '../../src/record/record.js';

const NOW = 1_700_000_000_000;

function taskBytes(): Buffer {
  const plain = encodeBatch(
    [{ value: 'a' }, { key: 'k', value: null }, { key: '', value: Buffer.alloc(300, 1), headers: [{ key: 'trace', value: 'x' }, { key: 'trace', value: null }] }],
    { now: NOW },
  );
  const control = encodeBatch([{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }], {
    now: NOW,
    baseOffset: 3,
    control: true,
    transactional: true,
    producerId: 7,
    producerEpoch: 0,
  });
  const compressed = encodeBatch(
    Array.from({ length: 20 }, (_, i) => ({ key: `user-${i}`, value: Buffer.alloc(100, i), headers: [{ key: 'source', value: 'bench' }] })),
    { now: NOW, baseOffset: 4, compression: 'gzip' },
  );
  return Buffer.concat([plain, control, compressed]);
}

/** What decodeBatch reads from the non-control batches of `bytes`, at or after `startOffset`. */
function reference(bytes: Buffer, startOffset: number): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  for (const { at, header } of iterateBatches(bytes)) {
    if (header.isControl) continue;
    for (const record of decodeBatch(bytes, at).records) if (record.offset >= startOffset) out.push(record);
  }
  return out;
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof SluiceError ? error.code : String(error);
  }
  return undefined;
}

describe('PoolConsumer decodeRecords', () => {
  it('reads what decodeBatch reads: plain and compressed batches, control batches and records below the start left out', () => {
    const bytes = taskBytes();
    for (const startOffset of [0, 2, 3, 4, 10, 24]) {
      const records = decodeRecords(bytes, startOffset, false);
      expect(records).toEqual(reference(bytes, startOffset));
      expect(records.map((r) => r.offset)).toEqual([0, 1, 2, ...Array.from({ length: 20 }, (_, i) => 4 + i)].filter((offset) => offset >= startOffset));
    }
    // A Uint8Array (what crosses to a worker) reads the same as a Buffer over the same bytes.
    const copy = new Uint8Array(bytes);
    expect(decodeRecords(copy, 0, false)).toEqual(reference(bytes, 0));
  });

  it('refuses a batch whose CRC does not hold, a control batch too, unless the bytes were checked before', () => {
    const bytes = taskBytes();
    const batches = [...iterateBatches(bytes)].map(({ at }) => at);
    for (const at of batches) {
      const flipped = Buffer.from(bytes);
      flipped[at + CRC_OFFSET + 4 + 10]! ^= 0x01; // a byte the CRC covers, past the attributes
      expect(codeOf(() => decodeRecords(flipped, 0, false))).toBe('CORRUPT_MESSAGE');
    }
    // skipCrc: bytes from sluice's own log, whose CRCs were checked on append.
    const flipped = Buffer.from(bytes);
    flipped[batches[0]! + CRC_OFFSET]! ^= 0x01; // the stored CRC itself
    expect(decodeRecords(flipped, 0, true)).toEqual(reference(bytes, 0));
  });
});
