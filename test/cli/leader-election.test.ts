// `sluice leader-election` against one broker in this process: it leads every partition already,
// so each election is not needed; what it cannot elect makes it exit 1, as kafka-leader-election.
// The elections that move leadership run on a cluster (test/cluster/controller-failover.test.ts).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { tempDir } from '../helpers.js';
import { runCli } from './run-cli.js';

let broker: Broker;
let bootstrap: string[];

beforeAll(async () => {
  broker = await startBroker({ port: 0 });
  bootstrap = ['--bootstrap-server', `localhost:${broker.port}`];
  await broker.engine.createTopic('led', { partitions: 2 });
});

afterAll(async () => {
  await broker?.stop();
});

describe('sluice leader-election', () => {
  it('--all-topic-partitions: nothing to elect, nothing printed (Kafka leaves out the partitions that need no election)', async () => {
    const result = await runCli(['leader-election', ...bootstrap, '--election-type', 'preferred', '--all-topic-partitions']);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('a partition that does not exist is an error line, and exit 1', async () => {
    const result = await runCli(['leader-election', ...bootstrap, '--election-type', 'PREFERRED', '--topic', 'led', '--partition', '5']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('Error completing leader election (PREFERRED) for partition: led-5: UNKNOWN_TOPIC_OR_PARTITION: This server does not host this topic-partition.\n');
    expect(result.stderr).toBe('Error: 1 replica(s) could not be elected\n');
  });

  it("--path-to-json-file takes Kafka's election file; a partition listed twice is refused before any request", async () => {
    const dir = tempDir();
    const file = path.join(dir, 'election.json');
    fs.writeFileSync(file, JSON.stringify({ partitions: [{ topic: 'led', partition: 1 }, { topic: 'led', partition: 0 }] }));
    let result = await runCli(['leader-election', ...bootstrap, '--election-type', 'unclean', '--path-to-json-file', file]);
    expect(result).toMatchObject({ code: 0, stdout: 'Valid replica already elected for partitions led-0, led-1\n' });

    fs.writeFileSync(file, JSON.stringify({ partitions: [{ topic: 'led', partition: 1 }, { topic: 'led', partition: 1 }] }));
    result = await runCli(['leader-election', ...bootstrap, '--election-type', 'preferred', '--path-to-json-file', file]);
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: `Error: ${file}: partition led-1 is listed twice\n` });
    fs.writeFileSync(file, '{"topics": []}');
    result = await runCli(['leader-election', ...bootstrap, '--election-type', 'preferred', '--path-to-json-file', file]);
    expect(result).toMatchObject({ code: 1, stderr: `Error: ${file}: "partitions" must be a non-empty list\n` });
  });

  it.each([
    [['--all-topic-partitions'], 'Missing required option --election-type'],
    [['--election-type', 'random', '--all-topic-partitions'], "--election-type expects preferred or unclean, got 'random'"],
    [['--election-type', 'preferred'], 'Give one and only one of --topic, --all-topic-partitions, --path-to-json-file'],
    [['--election-type', 'preferred', '--all-topic-partitions', '--topic', 'led', '--partition', '0'], 'Give one and only one of --topic, --all-topic-partitions, --path-to-json-file'],
    [['--election-type', 'preferred', '--topic', 'led'], '--topic needs --partition'],
    [['--election-type', 'preferred', '--all-topic-partitions', '--partition', '0'], '--partition goes with --topic only'],
  ])('%j is a usage error', async (args, message) => {
    const result = await runCli(['leader-election', ...bootstrap, ...args]);
    expect(result).toMatchObject({ code: 2, stdout: '', stderr: `Error: ${message}\nSee 'sluice leader-election --help'\n` });
  });
});
