// Reads from the page cache: sequential whole-batch reads through the Log (index lookup, header
// walk and a copy, all through the segment's read mapping: src/storage/segment-mapping.ts),
// against a plain sequential fs.readSync of the same .log file (the reference a caller without
// sluice would write), and classic-level iterating the same records (the peer). Also random reads
// by offset, copied and as views.
//
// Expected on the 2-core reference machine: >= 1 GB/s sequential. Through the mapping a 1 MiB
// read is a memcpy and no syscall, so it beats the plain read, whose syscalls cost 1-4 µs on these
// VMs (read_sequential_vs_ceiling measured 3.2 in a quick run with the machine loaded to 10; 0.71
// before segments were mapped). A random read by offset of a 100 KB batch: 3.0 µs as a view,
// 15.5 µs copied (same run); 21-23 µs before, when it cost two preads.
import fs from 'node:fs';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';

import { encodeBatch } from '../src/record/batch.js';
import { Log } from '../src/storage/log.js';
import { resolveLogConfig } from '../src/storage/log-config.js';
import { benchDir, fill, measure, median, type RunOptions, type SuiteResult } from './harness.js';

const READ_BYTES = 1024 * 1024;
const RECORD_BYTES = 100;
const BATCH_RECORDS = 1000;

export async function run(options: RunOptions): Promise<SuiteResult> {
  const timeMs = options.quick ? 300 : 1000;
  const logBytesTarget = (options.quick ? 64 : 256) * 1024 * 1024;
  const dir = benchDir('read');
  const values = Array.from({ length: BATCH_RECORDS }, (_, i) => fill(RECORD_BYTES, i));
  const batch = encodeBatch(values.map((value) => ({ value })));
  const log = Log.open({ dir: path.join(dir, 'log-0'), config: resolveLogConfig({ 'segment.bytes': 1024 * 1024 * 1024 }) });
  while (log.sizeBytes() < logBytesTarget) log.appendSync(batch);
  const endOffset = log.logEndOffset;

  await log.flush(); // no writeback of the fresh log competes with the reads

  // Both sides read into one reused buffer, as a consumer that processes and moves on would:
  // allocating 1 MiB per read would measure page faults on fresh memory, not the log.
  const readBuffer = Buffer.allocUnsafe(2 * READ_BYTES);
  let offset = 0;
  let bytesRead = 0;
  let reads = 0;
  const sequential = await measure('read sequential', () => {
    const read = log.read(offset, READ_BYTES) ?? log.read((offset = 0), READ_BYTES)!;
    bytesRead += log.readInto(read, readBuffer);
    reads++;
    offset = read.region.lastOffset + 1;
    if (offset >= endOffset) offset = 0;
  }, timeMs);
  const bytesPerRead = bytesRead / reads;

  const fd = fs.openSync(path.join(dir, 'log-0', '00000000000000000000.log'), 'r');
  const fileBytes = fs.fstatSync(fd).size;
  const target = Buffer.allocUnsafe(READ_BYTES);
  let position = 0;
  const ceiling = await measure('read ceiling', () => {
    const n = fs.readSync(fd, target, 0, READ_BYTES, position);
    position += n;
    if (position >= fileBytes) position = 0;
  }, timeMs);
  fs.closeSync(fd);

  // Random reads by offset, each of the batch holding a random offset (maxBytes 64 KiB: one 100 KB
  // batch), copied into a reused buffer, and taken as a view over the segment's read mapping
  // (Log.readView: no copy; the consumer then reads the records in place, so the view path touches
  // the batch's last byte). Paired: the two alternate in rounds so that drift favours neither.
  let randomRecords = 0;
  let randomReads = 0;
  let touched = 0;
  const randomCopyNs: number[] = [];
  const randomViewNs: number[] = [];
  let randomCopy = { opsPerSec: 0, medianNs: 0 };
  for (let round = 0; round < 3; round++) {
    randomCopy = await measure('read by offset (random, 64 KiB), copied', () => {
      const read = log.read(Math.floor(Math.random() * endOffset), 64 * 1024)!;
      log.readInto(read, readBuffer);
      randomRecords += read.region.lastOffset - read.region.firstOffset + 1;
      randomReads++;
    }, timeMs / 3);
    randomCopyNs.push(randomCopy.medianNs);
    const view = await measure('read by offset (random, 64 KiB), view', () => {
      const bytes = log.readView(log.read(Math.floor(Math.random() * endOffset), 64 * 1024)!);
      touched += bytes[bytes.length - 1]!;
    }, timeMs / 3);
    randomViewNs.push(view.medianNs);
  }
  const randomViewMedianNs = median(randomViewNs);
  const randomCopyMedianNs = median(randomCopyNs);
  if (touched < 0) throw new Error('unreachable: keeps the view reads from being optimised away');
  log.close();

  const db = new ClassicLevel<Buffer, Buffer>(path.join(dir, 'level'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const levelRecords = options.quick ? 100_000 : 400_000;
  for (let base = 0; base < levelRecords; base += BATCH_RECORDS) {
    await db.batch(values.map((value, i) => {
      const key = Buffer.allocUnsafe(8);
      key.writeBigUInt64BE(BigInt(base + i));
      return { type: 'put' as const, key, value };
    }));
  }
  let iterator = db.iterator();
  const recordsPerStep = 10_000;
  const peer = await measure('classic-level iterate', async () => {
    let entries = await iterator.nextv(recordsPerStep);
    if (entries.length === 0) {
      await iterator.close();
      iterator = db.iterator();
      entries = await iterator.nextv(recordsPerStep);
    }
  }, timeMs);
  await iterator.close();
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const recordBytesOnDisk = batch.length / BATCH_RECORDS;
  return {
    rows: [
      { suite: 'read', workload: 'sequential read', subject: 'Log.read + readInto (internal)', bytesPerSec: sequential.opsPerSec * bytesPerRead, recordsPerSec: (sequential.opsPerSec * bytesPerRead) / recordBytesOnDisk, medianNs: sequential.medianNs },
      { suite: 'read', workload: 'sequential read', subject: 'fs.readSync ceiling (plain read)', bytesPerSec: ceiling.opsPerSec * READ_BYTES, recordsPerSec: (ceiling.opsPerSec * READ_BYTES) / recordBytesOnDisk, medianNs: ceiling.medianNs },
      { suite: 'read', workload: 'sequential read', subject: 'classic-level', recordsPerSec: peer.opsPerSec * recordsPerStep, bytesPerSec: peer.opsPerSec * recordsPerStep * RECORD_BYTES, medianNs: peer.medianNs },
      // A read by offset is measured by its time (the 21 µs): records/s of the ~1,000-record
      // regions it returns read as "1051.52M records/s" in the chart, a rate no caller sees.
      { suite: 'read', workload: 'read by offset (random)', subject: 'Log.read + readInto (internal)', medianNs: randomCopyMedianNs },
      { suite: 'read', workload: 'read by offset (random)', subject: 'Log.read + readView, zero copy (internal)', medianNs: randomViewMedianNs },
    ],
    ratios: [
      { name: 'read_by_offset_view_vs_copy', value: randomCopyMedianNs / randomViewMedianNs, description: 'random read by offset: median of Log.read + readInto (a copy) / of Log.read + readView (a view over the mapped segment)' },
      { name: 'read_sequential_vs_ceiling', value: (sequential.opsPerSec * bytesPerRead) / (ceiling.opsPerSec * READ_BYTES), description: 'sequential Log.read + readInto (a memcpy from the mapped segment) / plain fs.readSync of the .log' },
    ],
    notes: [
      `sequential read: ${((sequential.opsPerSec * bytesPerRead) / 1e9).toFixed(2)} GB/s (target >= 1 GB/s)`,
      `read by offset (random, 100 KB batches, ${Math.round(randomRecords / randomReads)} records a read): median ${(randomViewMedianNs / 1000).toFixed(1)} µs as a view, ${(randomCopyMedianNs / 1000).toFixed(1)} µs copied (target: 4x faster than 21 µs, the two-pread read before segments were mapped)`,
    ],
  };
}
