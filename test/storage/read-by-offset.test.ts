// Log.read by offset finds the batch that holds the offset for every offset of a log whose batches
// are larger and smaller than index.interval.bytes (the walk then starts at the index entry after
// the one found, or at the one found), and each read stops before a batch that cannot fit.
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { encodeBatch } from '../../src/record/batch.js';
import { Log } from '../../src/storage/log.js';
import { resolveLogConfig } from '../../src/storage/log-config.js';
import { tempDir } from '../helpers.js';

describe('Log.read by offset', () => {
  it('returns the batch holding each offset, whatever the batch sizes', () => {
    const log = Log.open({ dir: path.join(tempDir(), 'p-0'), config: resolveLogConfig({ 'index.interval.bytes': 4096 }) });
    // Batches of 1 to 120 records of 100 bytes: 0.1 to 12 KiB, some indexed, some not.
    const batches: Array<{ first: number; last: number }> = [];
    for (let i = 0; i < 200; i++) {
      const records = 1 + ((i * 37) % 120);
      const appended = log.appendSync(encodeBatch(Array.from({ length: records }, (_, r) => ({ value: Buffer.alloc(100, r) }))));
      batches.push({ first: appended.baseOffset, last: appended.lastOffset });
    }
    for (const { first, last } of batches) {
      for (const offset of [first, Math.floor((first + last) / 2), last]) {
        const read = log.read(offset, 1)!; // maxBytes 1: exactly one batch (KIP-74)
        expect([read.region.firstOffset, read.region.lastOffset], `offset ${offset}`).toEqual([first, last]);
      }
    }
    // A larger maxBytes takes whole batches while they fit, and stops before the first that does not.
    const read = log.read(batches[10]!.first, 64 * 1024)!;
    expect(read.region.firstOffset).toBe(batches[10]!.first);
    expect(read.region.sizeBytes).toBeLessThanOrEqual(64 * 1024);
    const next = log.read(read.region.lastOffset + 1, 1)!;
    expect(next.region.firstOffset).toBe(read.region.lastOffset + 1);
    expect(read.region.sizeBytes + next.region.sizeBytes).toBeGreaterThan(64 * 1024);
    log.close();
  });
});
