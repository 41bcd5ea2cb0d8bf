// replication-offset-checkpoint: the high watermarks of a data directory's replicated logs, in
// Kafka's format, written on a timer and on close, read at open; and what a SIGKILL in the middle
// of a follower's appends leaves for the next open.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { encodeBatch } from '../../src/record/batch.js';
import { LogManager, REPLICATION_OFFSET_CHECKPOINT_FILE } from '../../src/storage/log-manager.js';
import { resolveLogConfig } from '../../src/storage/log-config.js';
import { runFixture } from '../fixtures/child.js';
import { tempDir } from '../helpers.js';
import { epochsInBatches, recordsOf } from './replica-helpers.js';

const config = resolveLogConfig({});

function open(dataDir: string, highWatermarkCheckpointIntervalMs = 0): LogManager {
  return LogManager.open({ dataDir, configFor: () => config, retentionCheckIntervalMs: 0, checkpointIntervalMs: 0, highWatermarkCheckpointIntervalMs });
}

function appendLeader(manager: LogManager, topic: string, partition: number, count: number, epoch = 0): void {
  const log = manager.getLog(topic, partition) ?? manager.createLog(topic, partition, config);
  if (log.latestEpoch < epoch) log.assignEpochStartOffset(epoch);
  for (let i = 0; i < count; i++) log.appendSync(encodeBatch([{ value: `${topic}-${partition}-${i}` }]), { leaderEpoch: epoch });
}

const checkpointPath = (dataDir: string) => path.join(dataDir, REPLICATION_OFFSET_CHECKPOINT_FILE);

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waitedMs = 0; !condition(); waitedMs += 10) {
    if (waitedMs > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('replication-offset-checkpoint', () => {
  it('holds "topic partition highWatermark" for each replicated log, written on close (golden text)', async () => {
    const dataDir = tempDir();
    const manager = open(dataDir);
    appendLeader(manager, 'orders', 0, 5);
    appendLeader(manager, 'orders', 1, 3);
    appendLeader(manager, 'single', 0, 4); // never given a high watermark: not replicated
    manager.getLog('orders', 0)!.updateHighWatermark(5);
    manager.getLog('orders', 1)!.updateHighWatermark(2);
    await manager.close();
    expect(fs.readFileSync(checkpointPath(dataDir), 'utf8')).toBe('0\n2\norders 0 5\norders 1 2\n');
  });

  it('gives a reopened log its high watermark, clamped to what recovery left of the log', async () => {
    const dataDir = tempDir();
    fs.mkdirSync(dataDir, { recursive: true });
    const first = open(dataDir);
    appendLeader(first, 'orders', 0, 6);
    appendLeader(first, 'single', 0, 2);
    await first.close();
    // As Kafka wrote it: one log at HW 4, one whose HW lies past its end, and a partition not here.
    fs.writeFileSync(checkpointPath(dataDir), '0\n3\norders 0 4\nsingle 0 9\ngone 3 17\n');
    const manager = open(dataDir);
    expect([manager.getLog('orders', 0)!.isReplicated, manager.getLog('orders', 0)!.highWatermark]).toEqual([true, 4]);
    expect([manager.getLog('single', 0)!.isReplicated, manager.getLog('single', 0)!.highWatermark]).toEqual([true, 2]);
    await manager.close();
  });

  it('is written every replica.high.watermark.checkpoint.interval.ms while something changed, and not otherwise', async () => {
    const dataDir = tempDir();
    const manager = open(dataDir, 20);
    appendLeader(manager, 'orders', 0, 3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Nothing replicated yet: a single broker never writes the file.
    expect(fs.existsSync(checkpointPath(dataDir))).toBe(false);
    manager.getLog('orders', 0)!.updateHighWatermark(1);
    await until(() => fs.existsSync(checkpointPath(dataDir)), 'the first high watermark checkpoint');
    expect(fs.readFileSync(checkpointPath(dataDir), 'utf8')).toBe('0\n1\norders 0 1\n');
    const unchangedSince = fs.statSync(checkpointPath(dataDir)).mtimeMs;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fs.statSync(checkpointPath(dataDir)).mtimeMs).toBe(unchangedSince);
    manager.getLog('orders', 0)!.updateHighWatermark(3);
    await until(() => fs.readFileSync(checkpointPath(dataDir), 'utf8') === '0\n1\norders 0 3\n', 'the moved high watermark');
    await manager.close();
  });

  it('drops a deleted log at once, so a log created again under its name starts unreplicated', async () => {
    const dataDir = tempDir();
    const manager = open(dataDir);
    appendLeader(manager, 'orders', 0, 3);
    appendLeader(manager, 'orders', 1, 3);
    manager.getLog('orders', 0)!.updateHighWatermark(2);
    manager.getLog('orders', 1)!.updateHighWatermark(3);
    manager.checkpointHighWatermarks();
    manager.deleteLog('orders', 1);
    expect(fs.readFileSync(checkpointPath(dataDir), 'utf8')).toBe('0\n1\norders 0 2\n');
    await manager.close();
  });

  it('ignores a torn .tmp beside it, and a malformed file with a warning', async () => {
    const dataDir = tempDir();
    const first = open(dataDir);
    appendLeader(first, 'orders', 0, 4);
    first.getLog('orders', 0)!.updateHighWatermark(3);
    await first.close();
    fs.writeFileSync(checkpointPath(dataDir) + '.tmp', '0\n1\norders 0 '); // a crash mid-write
    const second = open(dataDir);
    expect(second.getLog('orders', 0)!.highWatermark).toBe(3);
    await second.close();

    fs.writeFileSync(checkpointPath(dataDir), '0\n2\norders 0 3\n');
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    const third = open(dataDir);
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings.some((message) => message.includes('Malformed checkpoint'))).toBe(true);
    expect(third.getLog('orders', 0)!.isReplicated).toBe(false);
    await third.close();
  });
});

describe('SIGKILL while a follower appends', () => {
  it('reopens with the epoch history and the high watermark consistent with the recovered log, round after round', async () => {
    const dataDir = tempDir();
    let resumedAt = 0;
    for (let round = 0; round < 5; round++) {
      const child = runFixture('follower-appender.ts', [dataDir]);
      const ready = await child.waitFor('ready');
      expect(Number(ready.split(' ')[1])).toBe(resumedAt);
      await child.waitFor('checkpointed');
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 250));
      child.process.kill('SIGKILL');
      await child.exited;
      // The file holds the last value written, or the one being written when the kill came.
      const written = child.lines.filter((line) => line.startsWith('checkpointed')).map((line) => Number(line.split(' ')[1]));
      const writing = child.lines.filter((line) => line.startsWith('checkpointing')).map((line) => Number(line.split(' ')[1]));

      const manager = open(dataDir);
      expect(manager.startup.cleanShutdown).toBe(false);
      const log = manager.getLog('followed', 0)!;
      expect(log.recovery.rebuiltLeaderEpochs).toBe(false); // the checkpoint was read, not rebuilt
      const entries = log.leaderEpochCache.epochEntries();
      // Every epoch entry describes data that is there, and every epoch of the data is in it.
      expect(entries.every((entry) => entry.startOffset < log.logEndOffset)).toBe(true);
      expect(entries).toEqual(epochsInBatches(log));
      expect(entries.length).toBeGreaterThan(1);
      // The high watermark is the one checkpointed, clamped to the log.
      expect(log.isReplicated).toBe(true);
      expect([written.at(-1), writing.at(-1)].map((hw) => Math.min(hw!, log.logEndOffset))).toContain(log.highWatermark);
      // The records are whole and in order: record n is `r<n>`.
      const records = recordsOf(log);
      expect(records).toEqual(records.map((_, n) => `${n}:r${n}`));
      resumedAt = log.logEndOffset;
      await manager.close();
    }
    expect(resumedAt).toBeGreaterThan(50);
  });
});
