// Reads from the page cache: sequential whole-batch reads through the Log (index lookup, header
// walk, one pread), against a plain sequential fs.readSync of the same .log file (the ceiling), and
// classic-level iterating the same records (the peer). Also random reads by offset.
//
// Expected on the 2-core reference machine: >= 1 GB/s sequential, close to the plain read, since
// a 1 MiB read costs one lookup, a walk over ~10 headers of 100 KB batches, and one pread.
import fs from 'node:fs';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';

import { encodeBatch } from '../src/record/batch.js';
import { Log } from '../src/storage/log.js';
import { resolveLogConfig } from '../src/storage/log-config.js';
import { benchDir, fill, measure, type RunOptions, type SuiteResult } from './harness.js';

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

  let randomRecords = 0;
  let randomReads = 0;
  const random = await measure('read by offset (random, 64 KiB)', () => {
    const read = log.read(Math.floor(Math.random() * endOffset), 64 * 1024)!;
    log.readInto(read, readBuffer);
    randomRecords += read.region.lastOffset - read.region.firstOffset + 1;
    randomReads++;
  }, timeMs);
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
      { suite: 'read', workload: 'sequential read', subject: 'fs.readSync ceiling', bytesPerSec: ceiling.opsPerSec * READ_BYTES, recordsPerSec: (ceiling.opsPerSec * READ_BYTES) / recordBytesOnDisk, medianNs: ceiling.medianNs },
      { suite: 'read', workload: 'sequential read', subject: 'classic-level', recordsPerSec: peer.opsPerSec * recordsPerStep, bytesPerSec: peer.opsPerSec * recordsPerStep * RECORD_BYTES, medianNs: peer.medianNs },
      { suite: 'read', workload: 'read by offset (random)', subject: 'Log.read + readInto (internal)', recordsPerSec: random.opsPerSec * (randomRecords / randomReads), medianNs: random.medianNs },
    ],
    ratios: [
      { name: 'read_sequential_vs_ceiling', value: (sequential.opsPerSec * bytesPerRead) / (ceiling.opsPerSec * READ_BYTES), description: 'sequential Log.read + pread / plain fs.readSync of the .log' },
    ],
    notes: [`sequential read: ${((sequential.opsPerSec * bytesPerRead) / 1e9).toFixed(2)} GB/s (target >= 1 GB/s)`],
  };
}
