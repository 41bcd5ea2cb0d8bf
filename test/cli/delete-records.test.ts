// `sluice delete-records` against a broker in this process: kafka-delete-records' offset file and
// lines; a partition that fails is a line, and the command then exits 1.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { tempDir } from '../helpers.js';
import { runCli } from './run-cli.js';

let broker: Broker;
let bootstrap: string[];
let dir: string;

beforeAll(async () => {
  broker = await startBroker({ port: 0 });
  bootstrap = ['--bootstrap-server', `localhost:${broker.port}`];
  dir = tempDir();
  await broker.engine.createTopic('trim', { partitions: 2 });
  await broker.engine.produce('trim', Array.from({ length: 50 }, (_, i) => ({ value: `v${i}` })), { partition: 0 });
  await broker.engine.produce('trim', Array.from({ length: 10 }, (_, i) => ({ value: `w${i}` })), { partition: 1 });
});

afterAll(async () => {
  await broker?.stop();
});

function offsetFile(json: unknown): string {
  const file = path.join(dir, `offsets-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, typeof json === 'string' ? json : JSON.stringify(json));
  return file;
}

describe('sluice delete-records', () => {
  it('deletes before each offset (-1: the high watermark) and prints each new low watermark', async () => {
    const file = offsetFile({ partitions: [{ topic: 'trim', partition: 1, offset: -1 }, { topic: 'trim', partition: 0, offset: 20 }], version: 1 });
    const result = await runCli(['delete-records', ...bootstrap, '--offset-json-file', file]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('Executing records delete operation\nRecords delete operation completed:\npartition: trim-0\tlow_watermark: 20\npartition: trim-1\tlow_watermark: 10\n');
    expect(broker.engine.partitionLog('trim', 0).logStartOffset).toBe(20);
    expect(broker.engine.partitionLog('trim', 1).logStartOffset).toBe(10);
  });

  it('a partition past its high watermark or missing is an error line; the others are deleted; exit 1', async () => {
    const file = offsetFile({ partitions: [{ topic: 'trim', partition: 0, offset: 30 }, { topic: 'trim', partition: 1, offset: 500 }, { topic: 'nope', partition: 0, offset: 1 }] });
    const result = await runCli(['delete-records', ...bootstrap, '--offset-json-file', file]);
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n').slice(2, 5)).toEqual([
      'partition: nope-0\terror: UNKNOWN_TOPIC_OR_PARTITION: nope-0 does not exist',
      'partition: trim-0\tlow_watermark: 30',
      'partition: trim-1\terror: broker 1 answered OFFSET_OUT_OF_RANGE for trim-1',
    ]);
    expect(result.stderr).toBe('Error: 2 partition(s) could not be deleted\n');
    expect(broker.engine.partitionLog('trim', 1).logStartOffset).toBe(10);
  });

  it.each([
    [{ partitions: [{ topic: 'trim', partition: 0, offset: 1 }, { topic: 'trim', partition: 0, offset: 2 }] }, 'partition trim-0 is listed twice'],
    [{ partitions: [{ topic: 'trim', partition: 0, offset: -2 }] }, 'partitions[0]: "offset" must be an offset, or -1 for the high watermark'],
    [{ partitions: [], version: 1 }, '"partitions" must be a non-empty list'],
    [{ partitions: [{ topic: 'trim', partition: 0, offset: 1 }], version: 2 }, 'version 2 is not supported (only 1)'],
    ['[1, 2]', 'the offset file must be a JSON object'],
  ])('a bad offset file (%j) is refused before any request, exit 1', async (json, message) => {
    const before = broker.engine.partitionLog('trim', 0).logStartOffset;
    const file = offsetFile(json);
    const result = await runCli(['delete-records', ...bootstrap, '--offset-json-file', file]);
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: `Error: ${file}: ${message}\n` });
    expect(broker.engine.partitionLog('trim', 0).logStartOffset).toBe(before);
  });
});
