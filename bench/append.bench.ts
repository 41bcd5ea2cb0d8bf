// Append throughput: producer-encoded batches appended to a Log (validate, stamp, one pwritev),
// against the ceiling of fs.writeSync of the same bytes to a plain file, and classic-level's
// batched put of the same records as the peer a Node user would otherwise embed.
//
// Expected on the 2-core reference machine: the page-cache write ceiling is ~1.3 GB/s (~12M
// 100-byte records/s); batches of 1000 100-byte records should reach >= 3M records/s and >= 50%
// of the ceiling, since the engine's cost is one CRC and one write per batch.
import fs from 'node:fs';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';

import { encodeBatch } from '../src/record/batch.js';
import { Log } from '../src/storage/log.js';
import { resolveLogConfig } from '../src/storage/log-config.js';
import { benchDir, fill, measure, type Ratio, type Row, type RunOptions, type SuiteResult } from './harness.js';

const SHAPES = [
  { recordBytes: 100, batchRecords: 1000 },
  { recordBytes: 100, batchRecords: 1 },
  { recordBytes: 1024, batchRecords: 1000 },
  { recordBytes: 1024, batchRecords: 1 },
];

export async function run(options: RunOptions): Promise<SuiteResult> {
  const rows: Row[] = [];
  const ratios: Ratio[] = [];
  const timeMs = options.quick ? 300 : 1000;
  for (const { recordBytes, batchRecords } of SHAPES) {
    const workload = `append ${recordBytes} B x ${batchRecords}`;
    const values = Array.from({ length: batchRecords }, (_, i) => fill(recordBytes, i));
    const batch = encodeBatch(values.map((value) => ({ value })), { now: Date.now() });
    const recordsPerSec = (opsPerSec: number) => opsPerSec * batchRecords;

    const dir = benchDir('append');
    const log = Log.open({ dir: path.join(dir, 'log-0'), config: resolveLogConfig({ 'segment.bytes': 512 * 1024 * 1024 }) });
    const sluice = await measure(workload, () => log.appendSync(batch), timeMs);
    log.close();
    fs.rmSync(path.join(dir, 'log-0'), { recursive: true });

    const fd = fs.openSync(path.join(dir, 'ceiling.bin'), 'w');
    const ceiling = await measure(`${workload} ceiling`, () => fs.writeSync(fd, batch), timeMs);
    fs.closeSync(fd);
    fs.rmSync(path.join(dir, 'ceiling.bin'));

    const db = new ClassicLevel<Buffer, Buffer>(path.join(dir, 'level'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    let sequence = 0;
    const peer = await measure(`${workload} classic-level`, async () => {
      const operations = values.map((value) => {
        const key = Buffer.allocUnsafe(8);
        key.writeBigUInt64BE(BigInt(sequence++));
        return { type: 'put' as const, key, value };
      });
      await db.batch(operations);
    }, timeMs);
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });

    for (const [subject, m] of [['sluice', sluice], ['fs.writeSync ceiling', ceiling], ['classic-level', peer]] as const) {
      rows.push({ suite: 'append', workload, subject, recordsPerSec: recordsPerSec(m.opsPerSec), bytesPerSec: m.opsPerSec * batch.length, medianNs: m.medianNs });
    }
    ratios.push({
      name: `append_${recordBytes}b_x${batchRecords}_vs_ceiling`,
      value: sluice.opsPerSec / ceiling.opsPerSec,
      target: recordBytes === 100 && batchRecords === 1000 ? 0.5 : undefined,
      description: `${workload}: sluice / fs.writeSync of the same bytes`,
    });
    ratios.push({
      name: `append_${recordBytes}b_x${batchRecords}_vs_classic_level`,
      value: sluice.opsPerSec / peer.opsPerSec,
      description: `${workload}: sluice / classic-level batch put`,
    });
  }
  return { rows, ratios };
}
