// PoolConsumers in child processes (test/fixtures/pool-consumer-process.ts): killed with SIGKILL
// and started again, and held to a memory bound while a producer outruns them.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import type { Broker } from '../../src/broker/broker.js';
import { runFixture, type Child } from '../fixtures/child.js';
import { tempDir } from '../helpers.js';
import { committed, produce, range, sleep, startGroupBroker, waitFor } from './helpers.js';

let broker: Broker | undefined;
const children: Child[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    await child.exited;
  }
  await broker?.stop();
  broker = undefined;
});

function startConsumer(options: object): Child {
  const child = runFixture('pool-consumer-process.ts', [JSON.stringify(options)]);
  children.push(child);
  return child;
}

/** "partition offset" lines; a torn last line (the kill came mid-write) is ignored. */
function handled(file: string): Array<[number, number]> {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => /^\d+ \d+$/.test(line))
    .map((line) => line.split(' ').map(Number) as [number, number]);
}

interface Metrics {
  bufferedBytes: number;
  bufferedBytesMax: number;
  recordsProcessed: number;
  fetchPauses: number;
  rss: number;
  rssMax: number;
}

function lastMetrics(child: Child): Metrics | undefined {
  const line = child.lines.findLast((l) => l.startsWith('metrics '));
  return line ? (JSON.parse(line.slice('metrics '.length)) as Metrics) : undefined;
}

describe('PoolConsumer processes', () => {
  it('loses no record when killed with SIGKILL and started again; repeats only what followed the last commit', async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('crash', { partitions: 3 });
    const total = 6000;
    await produce(broker, 'crash', total, { partitions: 3, perBatch: 10 });
    const dir = tempDir();
    const options = (file: string) => ({
      brokers: [`localhost:${broker!.port}`],
      groupId: 'crash-group',
      topics: ['crash'],
      concurrency: 2,
      autoOffsetReset: 'earliest',
      autoCommitIntervalMs: 100,
      heartbeatIntervalMs: 100,
      // The killed member is dropped when its session ends; the restarted one waits for that.
      sessionTimeoutMs: 1500,
      partitionMaxBytes: 512,
      maxWaitMs: 100,
      workerData: { appendFile: file, sleepMaxMs: 2 },
    });
    const firstFile = path.join(dir, 'first.txt');
    const first = startConsumer(options(firstFile));
    await first.waitFor('started');
    await waitFor(() => handled(firstFile).length >= total / 3, 'a third of the records');
    first.process.kill('SIGKILL');
    await first.exited;
    const commitsAtKill = committed(broker, 'crash-group', 'crash', 3);
    const before = handled(firstFile);
    expect(before.length).toBeLessThan(total); // killed mid-way

    const secondFile = path.join(dir, 'second.txt');
    const second = startConsumer(options(secondFile));
    await second.waitFor('started');
    await waitFor(() => {
      const seen = new Set([...before, ...handled(secondFile)].map(([p, o]) => `${p}:${o}`));
      return seen.size === total;
    }, 'every record after the restart');
    second.process.kill('SIGTERM');
    await second.waitFor('stopped');

    const after = handled(secondFile);
    for (let partition = 0; partition < 3; partition++) {
      const firstRun = before.filter(([p]) => p === partition).map(([, o]) => o);
      const secondRun = after.filter(([p]) => p === partition).map(([, o]) => o);
      // The restart goes on from the commit, in order, to the end.
      expect(secondRun).toEqual(range(commitsAtKill[partition]!, total / 3));
      // Repeats are only records the first run handled after its last commit.
      const repeated = firstRun.filter((o) => o >= commitsAtKill[partition]!);
      expect(firstRun.filter((o) => o < commitsAtKill[partition]!)).toEqual(range(0, commitsAtKill[partition]!));
      expect(new Set([...firstRun, ...secondRun]).size).toBe(total / 3);
      expect(repeated.every((o) => secondRun.includes(o))).toBe(true);
    }
    expect(committed(broker, 'crash-group', 'crash', 3)).toEqual([2000, 2000, 2000]);
  });

  it('keeps buffered bytes and memory bounded while a fast producer outruns a slow handler', async () => {
    broker = await startGroupBroker();
    await broker.engine.createTopic('flood', { partitions: 4 });
    const maxBufferedBytes = 1024 * 1024;
    const partitionMaxBytes = 64 * 1024;
    const child = startConsumer({
      brokers: [`localhost:${broker.port}`],
      groupId: 'flood-group',
      topics: ['flood'],
      concurrency: 2,
      autoOffsetReset: 'earliest',
      heartbeatIntervalMs: 100,
      maxBufferedBytes,
      partitionMaxBytes,
      maxWaitMs: 100,
      workerData: { sleepMaxMs: 40 },
    });
    await child.waitFor('started');
    await waitFor(() => lastMetrics(child) !== undefined, 'the first metrics');
    const rssAtStart = lastMetrics(child)!.rss;
    // 200k records of ~1 KB (200 MB), in batches of 50 records (~50 KB, below partitionMaxBytes).
    await produce(broker, 'flood', 200_000, { partitions: 4, perBatch: 50, valueBytes: 1000 });
    await sleep(1000);
    const metrics = lastMetrics(child)!;
    // The handler is far behind (so the reads had to wait), yet the consumer held at most the
    // budget plus one read, and its process grew by much less than the 200 MB produced.
    expect(metrics.recordsProcessed).toBeLessThan(100_000);
    expect(metrics.fetchPauses).toBeGreaterThan(0);
    expect(metrics.bufferedBytesMax).toBeLessThanOrEqual(maxBufferedBytes + partitionMaxBytes);
    expect(metrics.rssMax - rssAtStart).toBeLessThan(64 * 1024 * 1024);
    child.process.kill('SIGTERM');
    await child.waitFor('stopped');
  });
});
