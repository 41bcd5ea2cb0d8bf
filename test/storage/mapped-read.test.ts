// Reads through a segment's read mapping (src/storage/segment-mapping.ts): the same bytes as a
// pread, for the active segment as it grows past its first mapping and for closed ones; a view
// handed out stays readable after its segment is deleted; and a truncation below a view turns the
// cut part into zeros instead of letting a read of it kill the process (SIGBUS), while reads after
// the truncation see the new records.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { encodeBatch } from '../../src/record/batch.js';
import { Log } from '../../src/storage/log.js';
import { resolveLogConfig } from '../../src/storage/log-config.js';
import { tempDir } from '../helpers.js';
import { mappingFlagsOf } from '../native/helpers.js';

/** A batch of `records` values of 1 KiB, each filled with `fill`. */
function batchOf(records: number, fill: number): Buffer {
  return encodeBatch(Array.from({ length: records }, () => ({ value: Buffer.alloc(1024, fill) })));
}

function preadBytes(log: Log, offset: number, maxBytes: number): Buffer {
  const read = log.read(offset, maxBytes)!;
  const target = Buffer.alloc(read.region.sizeBytes);
  const fd = fs.openSync(read.segment.logPath, 'r');
  try {
    fs.readSync(fd, target, 0, read.region.sizeBytes, read.region.position);
  } finally {
    fs.closeSync(fd);
  }
  return target;
}

describe('mapped segment reads', () => {
  it('give the bytes a pread gives, as the active segment grows and after it rolls', () => {
    const log = Log.open({ dir: path.join(tempDir(), 'p-0'), config: resolveLogConfig({ 'segment.bytes': 256 * 1024 }) });
    for (let i = 0; i < 40; i++) {
      log.appendSync(batchOf(8, i));
      // Read the newest batch at once: the next append grows the file past what was read.
      const read = log.read(log.logEndOffset - 1, 1)!;
      const expected = preadBytes(log, log.logEndOffset - 1, 1);
      expect(log.readView(read).equals(expected)).toBe(true);
      const copy = Buffer.alloc(read.region.sizeBytes);
      expect(log.readInto(read, copy)).toBe(read.region.sizeBytes);
      expect(copy.equals(expected)).toBe(true);
    }
    expect(log.segmentCount).toBeGreaterThan(1);
    // A segment is read front to back: its mapping keeps the kernel's read-ahead (an index's does not).
    const segmentFlags = mappingFlagsOf(log.read(log.logEndOffset - 1, 1)!.segment.logPath);
    expect(segmentFlags.length).toBeGreaterThan(0);
    for (const flags of segmentFlags) expect(flags).not.toContain('rr');
    for (let offset = 0; offset < log.logEndOffset; offset += 8) {
      const read = log.read(offset, 64 * 1024)!;
      expect(log.readView(read).equals(preadBytes(log, offset, 64 * 1024))).toBe(true);
    }
    log.close();
  });

  it('hand out views that stay readable after their segment is deleted', () => {
    const log = Log.open({ dir: path.join(tempDir(), 'p-0'), config: resolveLogConfig({ 'segment.bytes': 64 * 1024 }) });
    for (let i = 0; i < 30; i++) log.appendSync(batchOf(8, i));
    const first = log.readView(log.read(0, 1)!);
    const copy = Buffer.from(first);
    const firstSegmentPath = log.read(0, 1)!.segment.logPath;
    log.deleteRecordsBefore(log.logEndOffset - 1); // deletes every closed segment
    expect(fs.existsSync(firstSegmentPath)).toBe(false);
    expect(first.equals(copy)).toBe(true);
    log.close();
    expect(first.equals(copy)).toBe(true);
  });

  it('turn bytes a truncation cut into zeros in old views, and read what is appended next', () => {
    const log = Log.open({ dir: path.join(tempDir(), 'p-0'), config: resolveLogConfig({}) });
    for (let i = 0; i < 4; i++) log.appendSync(batchOf(64, i + 1)); // 64 KiB batches
    const cutAt = log.read(64, 1)!; // the second batch: everything from it is cut
    const tail = log.readView(log.read(128, 64 * 1024)!); // the third batch, wholly past the cut
    const tailCopy = Buffer.from(tail);
    log.truncateTo(64);
    expect(log.logEndOffset).toBe(64);
    // The view's pages past the cut are zero pages now: reading them is safe and gives zeros.
    expect(tail.length).toBe(tailCopy.length);
    expect(tail.subarray(4096).every((byte) => byte === 0)).toBe(true);
    // Appends after the truncation are read back from a fresh mapping.
    log.appendSync(batchOf(64, 9));
    const read = log.read(64, 1)!;
    expect(read.region.position).toBe(cutAt.region.position);
    expect(log.readView(read).equals(preadBytes(log, 64, 1))).toBe(true);
    const records = log.readView(read);
    expect(records.includes(Buffer.alloc(1024, 9))).toBe(true);
    log.close();
  });
});
