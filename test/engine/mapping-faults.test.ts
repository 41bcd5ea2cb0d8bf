// A read through a segment's mapping that the kernel cannot serve raises SIGBUS, which would end the
// process (native/mapping_faults.h). The fault here is the one anyone can make: the segment file cut
// from outside while the engine has it mapped, so its pages past the new end can no longer be read,
// as a disk's unreadable sector cannot. The engine stays up: the call that met the fault fails with
// EIO, never with the zeros put in the page's place; the directory goes offline (KIP-112) and the
// other one goes on. A view from fetchBatches read after the call returned reads zeros and the
// directories' sweep takes the directory offline; opened again, the directory is online. A SIGBUS
// sent to the process still ends it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { Engine, type OfflineLogDir } from '../../src/index.js';
import { tempDir, waitUntil } from '../helpers.js';

const TOPIC = 'mapped';
const PARTITIONS = 4;
const RECORDS = 2000;

function records(partition: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `p${partition} record ${i}`.padEnd(100, '.') }));
}

/** Cuts a partition's first segment to nothing, as something outside the engine might. */
function cutFirstSegment(dir: string, partition: number): void {
  fs.truncateSync(path.join(dir, `${TOPIC}-${partition}`, '00000000000000000000.log'), 0);
}

describe('a mapped read the disk cannot serve', () => {
  let engine: Engine | undefined;

  afterEach(async () => {
    await engine?.close().catch(() => undefined);
    engine = undefined;
  });

  async function openOnTwoDirs() {
    const root = tempDir();
    const [first, second] = [path.join(root, 'a'), path.join(root, 'b')];
    engine = await Engine.open({ dataDir: first, logDirs: [first, second] });
    const failures: OfflineLogDir[] = [];
    engine.onLogDirFailure((failure) => failures.push(failure));
    await engine.createTopic(TOPIC, { partitions: PARTITIONS });
    const partitions = Array.from({ length: PARTITIONS }, (_, p) => p);
    for (const p of partitions) await engine.produce(TOPIC, records(p, RECORDS), { partition: p });
    const onSecond = partitions.filter((p) => engine!.logDirOf(TOPIC, p) === second);
    const onFirst = partitions.filter((p) => engine!.logDirOf(TOPIC, p) === first);
    expect(onSecond.length).toBeGreaterThan(0);
    expect(onFirst.length).toBeGreaterThan(0);
    return { engine, first, second, onFirst, onSecond, failures };
  }

  it('fails the fetch with EIO and takes the directory offline, and the other directory goes on', async () => {
    const { engine: e, first, second, onFirst, onSecond, failures } = await openOnTwoDirs();
    const victim = onSecond[0]!;
    // Mapped and read once: the pages are in the mapping before the file is cut under it.
    expect((await e.fetch(TOPIC, victim, { offset: 0 })).records.length).toBeGreaterThan(0);
    cutFirstSegment(second, victim);

    const error = await e.fetch(TOPIC, victim, { offset: RECORDS / 2 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'EIO', message: expect.stringMatching(/SIGBUS/) });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ dir: second, code: 'EIO' });
    expect(failures[0]!.partitions.map(({ partition }) => partition).sort()).toEqual([...onSecond].sort());
    expect(e.offlineLogDirs().map((failure) => failure.dir)).toEqual([second]);
    for (const p of onSecond) await expect(e.fetch(TOPIC, p, { offset: 0 })).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });

    for (const p of onFirst) {
      await e.produce(TOPIC, records(p, 10), { partition: p });
      const { records: got } = await e.fetch(TOPIC, p, { offset: RECORDS - 5, maxBytes: 1 << 20 });
      expect(got.map((r) => r.offset)).toEqual(Array.from({ length: 15 }, (_, i) => RECORDS - 5 + i));
    }
    expect(e.logDirOf(TOPIC, onFirst[0]!)).toBe(first);
  });

  it('takes the directory offline when a view read after fetchBatches met the fault', async () => {
    const { engine: e, first, second, onSecond, failures } = await openOnTwoDirs();
    const victim = onSecond[0]!;
    const { batches } = await e.fetchBatches(TOPIC, victim, { offset: 0, maxBytes: 1 << 20, view: true });
    expect(batches.length).toBeGreaterThan(100_000);
    cutFirstSegment(second, victim);

    // The caller's own read of the view: past the cut it reads the zero pages, and the process lives.
    const tail = batches.subarray(batches.length - 4096);
    expect(tail.every((byte) => byte === 0)).toBe(true);
    // No call failed for it: the sweep (once a second) finds the fault and takes the directory offline.
    await waitUntil(() => failures.length === 1, 'the sweep to take the directory offline');
    expect(failures[0]).toMatchObject({ dir: second, code: 'EIO' });
    expect(e.offlineLogDirs().map((failure) => failure.dir)).toEqual([second]);
    await expect(e.produce(TOPIC, records(victim, 1), { partition: victim })).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });

    // Opened again in this process, the directory is online: faults of the last engine's views,
    // even those read after it went offline (the whole file was cut: every page reads zeros), are not the new one's.
    expect(batches.every((byte) => byte === 0)).toBe(true);
    await e.close();
    engine = await Engine.open({ dataDir: first, logDirs: [first, second] });
    expect(engine.offlineLogDirs()).toEqual([]);
    const [ack] = await engine.produce(TOPIC, records(victim, 1), { partition: victim });
    expect(ack).toMatchObject({ partition: victim });
  });

  it('leaves a SIGBUS sent to the process its default action', () => {
    const script = `const { binding } = await import(${JSON.stringify(path.resolve('src/native/binding.ts'))});
binding.mappingFaultCounter();
process.kill(process.pid, 'SIGBUS');
setTimeout(() => process.exit(0), 5000);`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.signal).toBe('SIGBUS');
  });
});
