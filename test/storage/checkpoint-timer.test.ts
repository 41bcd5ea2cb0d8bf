// The periodic recovery-point checkpoint (every log.flush.offset.checkpoint.interval.ms) and
// log-start checkpoint (every log.flush.start.offset.checkpoint.interval.ms), each on its own timer,
// are written with their fsyncs off the event loop; a synchronous checkpoint written meanwhile (a
// truncation's, which may lower a recovery point) is never replaced by the older background one.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

import { encodeBatch } from '../../src/record/batch.js';
import { LOG_START_OFFSET_CHECKPOINT_FILE, LogManager, RECOVERY_POINT_CHECKPOINT_FILE } from '../../src/storage/log-manager.js';
import { writeFileAtomicallyInBackground } from '../../src/storage/checkpoint-file.js';
import { resolveLogConfig } from '../../src/storage/log-config.js';
import { tempDir } from '../helpers.js';

const config = resolveLogConfig({});

function open(dataDir: string, checkpointIntervalMs: number, logStartOffsetCheckpointIntervalMs = checkpointIntervalMs): LogManager {
  return LogManager.open({ dataDir, configFor: () => config, retentionCheckIntervalMs: 0, checkpointIntervalMs, logStartOffsetCheckpointIntervalMs, highWatermarkCheckpointIntervalMs: 0 });
}

function append(manager: LogManager, count: number): void {
  const log = manager.getLog('orders', 0) ?? manager.createLog('orders', 0, config);
  for (let i = 0; i < count; i++) log.appendSync(encodeBatch([{ value: `record ${i}` }]));
}

/** A checkpoint's text, or '' before its first write (the two files are written one after the other). */
const read = (dataDir: string, file: string) => (fs.existsSync(path.join(dataDir, file)) ? fs.readFileSync(path.join(dataDir, file), 'utf8') : '');

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waitedMs = 0; !condition(); waitedMs += 10) {
    if (waitedMs > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

it('writes the recovery points and log starts on its timer', async () => {
  const dataDir = tempDir();
  const manager = open(dataDir, 20);
  append(manager, 5);
  await manager.getLog('orders', 0)!.flush();
  manager.getLog('orders', 0)!.deleteRecordsBefore(2);
  await until(() => read(dataDir, RECOVERY_POINT_CHECKPOINT_FILE) === '0\n1\norders 0 5\n', 'the recovery point 5');
  await until(() => read(dataDir, LOG_START_OFFSET_CHECKPOINT_FILE) === '0\n1\norders 0 2\n', 'the log start 2');
  await manager.close();
});

it('writes each checkpoint on its own timer', async () => {
  // One timer every 20 ms, the other never (0 disables a timer): only the first one's file comes.
  const cases = [
    { recoveryPointMs: 0, logStartMs: 20, written: LOG_START_OFFSET_CHECKPOINT_FILE, content: '0\n1\norders 0 0\n', silent: RECOVERY_POINT_CHECKPOINT_FILE },
    { recoveryPointMs: 20, logStartMs: 0, written: RECOVERY_POINT_CHECKPOINT_FILE, content: '0\n1\norders 0 5\n', silent: LOG_START_OFFSET_CHECKPOINT_FILE },
  ];
  for (const { recoveryPointMs, logStartMs, written, content, silent } of cases) {
    const dataDir = tempDir();
    const manager = open(dataDir, recoveryPointMs, logStartMs);
    append(manager, 5);
    await manager.getLog('orders', 0)!.flush();
    await until(() => read(dataDir, written) === content, `${written} at ${content.trim().split('\n').pop()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(read(dataDir, silent)).toBe('');
    await manager.close();
  }
});

it('drops a background checkpoint that a truncation checkpointed past while it was written', async () => {
  const dataDir = tempDir();
  const manager = open(dataDir, 0);
  append(manager, 5);
  await manager.getLog('orders', 0)!.flush();
  // The timer's write, started with recovery point 5; the truncation's lowers it to 3 at once.
  (manager as unknown as { checkpointInBackground(file: string): void }).checkpointInBackground(RECOVERY_POINT_CHECKPOINT_FILE);
  manager.truncateTo('orders', 0, 3);
  expect(read(dataDir, RECOVERY_POINT_CHECKPOINT_FILE)).toBe('0\n1\norders 0 3\n');
  await Promise.all((manager as unknown as { checkpointWrites: Map<string, Promise<void>> }).checkpointWrites.values());
  expect(read(dataDir, RECOVERY_POINT_CHECKPOINT_FILE)).toBe('0\n1\norders 0 3\n');
  expect(fs.readdirSync(dataDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  await manager.close();
});

it('a background checkpoint write tells its caller when a newer write landed during its rename', async () => {
  const file = path.join(tempDir(), 'checkpoint');
  expect(await writeFileAtomicallyInBackground(file, 'first\n')).toBe('written');
  expect(await writeFileAtomicallyInBackground(file, 'dropped\n', () => true)).toBe('superseded');
  expect(fs.readFileSync(file, 'utf8')).toBe('first\n');
  // Not superseded when asked before the rename, superseded when asked after it.
  let asked = 0;
  expect(await writeFileAtomicallyInBackground(file, 'raced\n', () => ++asked > 1)).toBe('raced');
  expect(fs.readdirSync(path.dirname(file))).toEqual(['checkpoint']);
});
