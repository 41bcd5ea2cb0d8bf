// A log directory whose disk fails goes offline, as Kafka's (KIP-112), while the others go on: on a
// real ext4 filesystem shut down under the engine (test/fixtures/failing-disk.ts: every operation
// then returns EIO), the first I/O error of any of its logs takes the directory offline; its
// partitions answer KAFKA_STORAGE_ERROR and are not created again elsewhere; the listener is told
// once, with the logs it held; partitions in the healthy directory keep taking writes and reads;
// flush and close succeed. After the disk comes back (mounted again) the engine opens it and finds
// every record flushed before the failure. A directory that fails to open is offline from the
// start: its partitions answer KAFKA_STORAGE_ERROR, never an empty log made elsewhere.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { Engine, type OfflineLogDir } from '../../src/index.js';
import { SluiceError } from '../../src/errors.js';
import { failingDiskRefused, mountFailingDisk, type FailingDisk } from '../fixtures/failing-disk.js';
import { tempDir } from '../helpers.js';

const TOPIC = 'disks';
const PARTITIONS = 4;

function records(partition: number, from: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `p${partition} record ${from + i}`.padEnd(100, '.') }));
}

async function values(engine: Engine, partition: number): Promise<string[]> {
  const out: string[] = [];
  let offset = engine.earliestOffset(TOPIC, partition);
  for (;;) {
    const { records: got, nextOffset, highWatermark } = await engine.fetch(TOPIC, partition, { offset, maxBytes: 1 << 20 });
    for (const record of got) out.push(record.value!.toString().replace(/\.+$/, ''));
    if (nextOffset >= highWatermark) return out;
    offset = nextOffset;
  }
}

describe.skipIf(failingDiskRefused !== undefined)('offline log directories (a failed disk)', () => {
  let disk: FailingDisk | undefined;
  let engine: Engine | undefined;

  afterEach(async () => {
    await engine?.close().catch(() => undefined);
    engine = undefined;
    disk?.unmount();
    disk = undefined;
  });

  async function openOnTwoDisks(): Promise<{ healthy: string; failing: string; onFailing: number[]; onHealthy: number[]; failures: OfflineLogDir[] }> {
    disk = mountFailingDisk();
    const healthy = path.join(tempDir(), 'healthy');
    const failing = path.join(disk.dir, 'logs');
    engine = await Engine.open({ dataDir: healthy, logDirs: [healthy, failing] });
    const failures: OfflineLogDir[] = [];
    engine.onLogDirFailure((failure) => failures.push(failure));
    await engine.createTopic(TOPIC, { partitions: PARTITIONS });
    const partitions = Array.from({ length: PARTITIONS }, (_, p) => p);
    const onFailing = partitions.filter((p) => engine!.logDirOf(TOPIC, p) === failing);
    const onHealthy = partitions.filter((p) => engine!.logDirOf(TOPIC, p) === healthy);
    expect(onFailing.length).toBe(2);
    for (const p of partitions) await engine.produce(TOPIC, records(p, 0, 500), { partition: p });
    return { healthy, failing, onFailing, onHealthy, failures };
  }

  it('takes the failed directory offline on its first I/O error, and the other goes on', async () => {
    const { healthy, failing, onFailing, onHealthy, failures } = await openOnTwoDisks();
    const e = engine!;
    await e.flush();
    disk!.fail();

    // The first write there meets the disk's EIO, and the directory goes offline with it.
    const first = await e.produce(TOPIC, records(onFailing[0]!, 500, 10), { partition: onFailing[0]! }).catch((error: unknown) => error);
    expect((first as NodeJS.ErrnoException).code).toBe('EIO');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ dir: failing, code: 'EIO' });
    expect(failures[0]!.partitions.map(({ topic, partition }) => `${topic}-${partition}`).sort()).toEqual(onFailing.map((p) => `${TOPIC}-${p}`).sort());
    expect(e.offlineLogDirs().map((f) => f.dir)).toEqual([failing]);

    // Every partition there answers KAFKA_STORAGE_ERROR now, for writes and reads alike.
    for (const p of onFailing) {
      await expect(e.produce(TOPIC, records(p, 510, 1), { partition: p })).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });
      await expect(e.fetch(TOPIC, p, { offset: 0 })).rejects.toBeInstanceOf(SluiceError);
      expect(() => e.latestOffset(TOPIC, p)).toThrow(/offline/);
    }
    const described = e.describeTopic(TOPIC).partitions;
    for (const p of onFailing) expect(described[p]).toMatchObject({ offlineLogDir: failing, logEndOffset: -1 });

    // The healthy directory's partitions take writes and serve every record.
    for (const p of onHealthy) {
      await e.produce(TOPIC, records(p, 500, 100), { partition: p });
      expect(await values(e, p)).toEqual(records(p, 0, 600).map((r) => r.value.replace(/\.+$/, '')));
    }
    // Nothing re-creates the offline logs elsewhere: hosting the topic again leaves them offline.
    e.hostPartitions(TOPIC, Array.from({ length: PARTITIONS }, (_, p) => p));
    for (const p of onFailing) expect(() => e.logDirOf(TOPIC, p)).toThrow(/offline/);
    await expect(e.alterLogDir(TOPIC, onHealthy[0]!, failing)).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });
    // A new topic's partitions go to the directory still online.
    await e.createTopic('after', { partitions: 2 });
    expect([e.logDirOf('after', 0), e.logDirOf('after', 1)]).toEqual([healthy, healthy]);

    await e.flush();
    await e.close();
    engine = undefined;
    expect(failures).toHaveLength(1);

    // The disk comes back: every record flushed before the failure is there.
    disk!.remount();
    engine = await Engine.open({ dataDir: healthy, logDirs: [healthy, failing] });
    expect(engine.offlineLogDirs()).toEqual([]);
    for (const p of onFailing) expect(await values(engine, p)).toEqual(records(p, 0, 500).map((r) => r.value.replace(/\.+$/, '')));
    for (const p of onHealthy) expect(await values(engine, p)).toHaveLength(600);
  });

  it('a background flush that meets the failed disk takes it offline too', async () => {
    const { failing, onFailing, failures } = await openOnTwoDisks();
    disk!.fail();
    // engine.flush() fsyncs every log: the failed directory's fail, and only that directory goes offline.
    await engine!.flush();
    expect(failures.map((f) => f.dir)).toEqual([failing]);
    for (const p of onFailing) await expect(engine!.fetch(TOPIC, p, { offset: 0 })).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });
  });

  it('a directory that fails to open is offline from the start: its partitions are not created empty elsewhere', async () => {
    const { healthy, failing, onFailing, onHealthy } = await openOnTwoDisks();
    await engine!.close();
    engine = undefined;
    disk!.fail();

    engine = await Engine.open({ dataDir: healthy, logDirs: [healthy, failing] });
    const [offline] = engine.offlineLogDirs();
    expect(offline).toMatchObject({ dir: failing, code: 'EIO', atOpen: true });
    expect(offline!.partitions.map(({ partition }) => partition).sort()).toEqual(onFailing);
    for (const p of onFailing) {
      await expect(engine.fetch(TOPIC, p, { offset: 0 })).rejects.toThrow(/found in no log directory, and .* failed to open/);
      await expect(engine.produce(TOPIC, records(p, 500, 1), { partition: p })).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });
    }
    for (const p of onHealthy) expect(await values(engine, p)).toHaveLength(500);
    await engine.close();
    engine = undefined;

    // With the disk back, every record of the partitions on it is there, none written elsewhere.
    disk!.remount();
    engine = await Engine.open({ dataDir: healthy, logDirs: [healthy, failing] });
    for (const p of onFailing) {
      expect(engine.logDirOf(TOPIC, p)).toBe(failing);
      expect(await values(engine, p)).toEqual(records(p, 0, 500).map((r) => r.value.replace(/\.+$/, '')));
    }
  });

  it('names every directory that failed to open for a log found in none', async () => {
    disk = mountFailingDisk();
    const second = mountFailingDisk();
    try {
      const healthy = path.join(tempDir(), 'healthy');
      const [a, b] = [path.join(disk.dir, 'logs'), path.join(second.dir, 'logs')];
      engine = await Engine.open({ dataDir: healthy, logDirs: [healthy, a, b] });
      await engine.createTopic(TOPIC, { partitions: PARTITIONS });
      const partitions = Array.from({ length: PARTITIONS }, (_, p) => p);
      for (const p of partitions) await engine.produce(TOPIC, records(p, 0, 10), { partition: p });
      const lost = partitions.filter((p) => engine!.logDirOf(TOPIC, p) !== healthy);
      expect(lost.length).toBeGreaterThan(0);
      await engine.close();
      disk.fail();
      second.fail();

      engine = await Engine.open({ dataDir: healthy, logDirs: [healthy, a, b] });
      expect(engine.offlineLogDirs().map(({ dir, atOpen }) => [dir, atOpen])).toEqual([[a, true], [b, true]]);
      for (const p of lost) {
        await expect(engine.fetch(TOPIC, p, { offset: 0 })).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR', message: expect.stringContaining(`found in no log directory, and ${a} and ${b} failed to open`) });
      }
    } finally {
      await engine?.close().catch(() => undefined);
      engine = undefined;
      second.unmount();
    }
  });

  it('refuses to open when every directory fails', async () => {
    disk = mountFailingDisk();
    const only = path.join(disk.dir, 'logs');
    const first = await Engine.open({ dataDir: path.join(tempDir(), 'meta'), logDirs: [only] });
    await first.close();
    disk.fail();
    await expect(Engine.open({ dataDir: path.join(tempDir(), 'meta'), logDirs: [only] })).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR', message: expect.stringMatching(/Every log directory failed to open/) });
  });

  it("the failed directory's cleaner gives its thread back: the other directory is still compacted on the one thread", async () => {
    disk = mountFailingDisk();
    const healthy = path.join(tempDir(), 'healthy');
    const failing = path.join(disk.dir, 'logs');
    engine = await Engine.open({ dataDir: healthy, logDirs: [healthy, failing], config: { 'log.cleaner.threads': 1 } });
    await engine.createTopic('keys', { partitions: 2, config: { 'cleanup.policy': 'compact', 'segment.bytes': 4096 } });
    const [onHealthy, onFailing] = [0, 1].sort((a) => (engine!.logDirOf('keys', a) === healthy ? -1 : 1));
    for (let round = 0; round < 20; round++) {
      for (const partition of [0, 1]) await engine.produce('keys', Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `round ${round}`.padEnd(100, '.') })), { partition });
    }
    // A pass of the failing directory's log holds the only thread while the disk fails under it.
    const failingPass = engine.compactNow('keys', onFailing!).catch((error: unknown) => error);
    disk.fail();
    await engine.produce('keys', [{ key: 'k0', value: 'x' }], { partition: onFailing! }).catch(() => undefined);
    expect(engine.offlineLogDirs().map(({ dir }) => dir)).toEqual([failing]);
    await failingPass;
    const passes = await engine.compactNow('keys', onHealthy!);
    expect([...passes.values()].flat().length).toBeGreaterThan(0);
    expect(engine.cleanerStats('keys', onHealthy!)!.dirtyRatio).toBe(0);
  });

  it('a full disk is no failed disk: the append is refused and the directory stays online', async () => {
    const { onFailing, failures } = await openOnTwoDisks();
    const e = engine!;
    const error = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(e.reportStorageFailure(TOPIC, onFailing[0]!, error)).toBe(false);
    expect(failures).toEqual([]);
    await e.produce(TOPIC, records(onFailing[0]!, 500, 1), { partition: onFailing[0]! });
  });
});
