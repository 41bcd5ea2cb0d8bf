// `sluice dump-log` on segments written by the engine, and on damaged copies of them.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { Engine } from '../../src/engine/engine.js';
import { tempDir } from '../helpers.js';
import { runCli, STACK_LINE } from './run-cli.js';

const T = 1_700_000_000_000;
let dir: string;
let segment: string;

beforeAll(async () => {
  const dataDir = tempDir();
  const engine = await Engine.open({ dataDir });
  // index.interval.bytes=1: every batch gets an index entry, so the .index has something to show.
  await engine.createTopic('events', { partitions: 1, config: { 'index.interval.bytes': 1 } });
  await engine.produce('events', [
    { key: 'k0', value: 'v0', timestamp: T, headers: { source: 'web', trace: 'x' } },
    { key: 'k1', value: 'value-1', timestamp: T + 1 },
    { key: 'k2', value: null, timestamp: T + 2 },
  ]);
  await engine.produce('events', [{ value: 'compressed', timestamp: T + 3 }], { compression: 'gzip' });
  await engine.close();
  dir = path.join(dataDir, 'events-0');
  segment = path.join(dir, '00000000000000000000.log');
});

describe('sluice dump-log', () => {
  it("prints kafka-dump-log's batch lines", async () => {
    const { code, stdout, stderr } = await runCli(['dump-log', segment]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Dumping ${segment}`);
    expect(lines[1]).toBe('Log starting offset: 0');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(
      new RegExp(
        '^baseOffset: 0 lastOffset: 2 count: 3 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: -?\\d+ ' +
          `isTransactional: false isControl: false position: 0 CreateTime: ${T + 2} size: (\\d+) magic: 2 compresscodec: none crc: \\d+ isvalid: true$`,
      ),
    );
    const firstSize = Number(/ size: (\d+)/.exec(lines[2]!)![1]);
    expect(lines[3]).toMatch(new RegExp(`^baseOffset: 3 lastOffset: 3 count: 1 .* position: ${firstSize} CreateTime: ${T + 3} size: \\d+ magic: 2 compresscodec: gzip crc: \\d+ isvalid: true$`));
    expect(fs.statSync(segment).size).toBe(firstSize + Number(/ size: (\d+)/.exec(lines[3]!)![1]));
  });

  it('prints every record with --print-data-log, compressed ones too', async () => {
    const { code, stdout } = await runCli(['dump-log', segment, '--print-data-log']);
    expect(code).toBe(0);
    const records = stdout.split('\n').filter((line) => line.startsWith('| '));
    expect(records).toEqual([
      `| offset: 0 CreateTime: ${T} keySize: 2 valueSize: 2 sequence: -1 headerKeys: [source,trace] key: k0 payload: v0`,
      `| offset: 1 CreateTime: ${T + 1} keySize: 2 valueSize: 7 sequence: -1 headerKeys: [] key: k1 payload: value-1`,
      `| offset: 2 CreateTime: ${T + 2} keySize: 2 valueSize: -1 sequence: -1 headerKeys: [] key: k2`,
      `| offset: 3 CreateTime: ${T + 3} keySize: -1 valueSize: 10 sequence: -1 headerKeys: [] payload: compressed`,
    ]);
  });

  it('prints the offset index', async () => {
    const { code, stdout } = await runCli(['dump-log', path.join(dir, '00000000000000000000.index')]);
    expect(code).toBe(0);
    for (const line of stdout.trimEnd().split('\n').slice(1)) expect(line).toMatch(/^offset: \d+ position: \d+$/);
  });

  it('reports a torn tail at every cut of the last batch, and never crashes', async () => {
    const bytes = fs.readFileSync(segment);
    const firstSize = bytes.readInt32BE(8) + 12;
    const copy = path.join(tempDir(), '00000000000000000000.log');
    for (const cut of [firstSize + 1, firstSize + 11, firstSize + 12, firstSize + 40, bytes.length - 1]) {
      fs.writeFileSync(copy, bytes.subarray(0, cut));
      const { code, stdout, stderr } = await runCli(['dump-log', copy]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toContain('baseOffset: 0 lastOffset: 2');
      expect(stdout).not.toContain('baseOffset: 3');
      expect(stdout).toContain(`Found ${cut - firstSize} invalid bytes at the end of 00000000000000000000.log (position ${firstSize}: `);
    }
  });

  it('marks a batch whose CRC fails isvalid: false, and reports zero padding', async () => {
    const bytes = Buffer.from(fs.readFileSync(segment));
    bytes[70] = bytes[70]! ^ 0xff; // inside the first batch's records, under its CRC
    const copy = path.join(tempDir(), '00000000000000000000.log');
    fs.writeFileSync(copy, Buffer.concat([bytes, Buffer.alloc(100)]));
    const { code, stdout, stderr } = await runCli(['dump-log', copy, '--print-data-log']);
    expect(code).toBe(0);
    expect(stderr).not.toMatch(STACK_LINE);
    expect(stdout).toMatch(/^baseOffset: 0 lastOffset: 2 .* isvalid: false$/m);
    expect(stdout).toMatch(/^baseOffset: 3 lastOffset: 3 .* isvalid: true$/m);
    expect(stdout).toContain(`Found 100 invalid bytes at the end of 00000000000000000000.log (position ${bytes.length}: zeros: preallocated or never written)`);
  });

  it('fails with exit 1 on a missing file', async () => {
    const { code, stderr } = await runCli(['dump-log', path.join(tempDir(), 'missing.log')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^Error: Cannot open .*missing\.log: no such file\n$/);
  });

  it('shows a cleaned segment with its gaps: batches keep their offset range, records their own offsets', async () => {
    const dataDir = tempDir();
    const engine = await Engine.open({ dataDir, config: { 'log.cleaner.enable': false } });
    await engine.createTopic('compacted', { partitions: 1, config: { 'cleanup.policy': 'compact' } });
    await engine.produce('compacted', [
      { key: 'a', value: 'a0', timestamp: T },
      { key: 'b', value: 'b0', timestamp: T + 1 },
      { key: 'a', value: 'a1', timestamp: T + 2 },
      { key: 'c', value: 'c0', timestamp: T + 3 },
    ]);
    await engine.produce('compacted', [{ key: 'b', value: 'b1', timestamp: T + 4 }, { key: 'd', value: 'd0', timestamp: T + 5 }], { compression: 'gzip' });
    await engine.produce('compacted', [{ key: 'd', value: null, timestamp: T + 6 }]);
    engine.partitionLog('compacted', 0).roll();
    await engine.compactNow('compacted');
    await engine.close();
    const cleaned = path.join(dataDir, 'compacted-0', '00000000000000000000.log');
    const { code, stdout } = await runCli(['dump-log', cleaned, '--print-data-log']);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n').slice(2);
    // The first batch lost offsets 0 and 1, the second offset 5: each keeps its range and its count
    // says what is left.
    expect(lines.map((line) => line.replace(/ partitionLeaderEpoch.*compresscodec: (\w+).*/, ' $1').replace(/ CreateTime: \d+ keySize.*headerKeys: \[\]/, ''))).toEqual([
      'baseOffset: 0 lastOffset: 3 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 none',
      '| offset: 2 key: a payload: a1',
      '| offset: 3 key: c payload: c0',
      'baseOffset: 4 lastOffset: 5 count: 1 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 gzip',
      '| offset: 4 key: b payload: b1',
      'baseOffset: 6 lastOffset: 6 count: 1 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 none',
      '| offset: 6 key: d',
    ]);
    expect(stdout).toContain(`| offset: 2 CreateTime: ${T + 2} keySize: 1 valueSize: 2 sequence: -1 headerKeys: [] key: a payload: a1`);
    expect(stdout).not.toContain('Found');
  });
});
