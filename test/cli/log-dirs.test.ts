// `sluice log-dirs --describe` against a broker in this process: kafka-log-dirs' lines and JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { runCli } from './run-cli.js';

let broker: Broker;
let bootstrap: string[];

beforeAll(async () => {
  broker = await startBroker({ port: 0 });
  bootstrap = ['--bootstrap-server', `localhost:${broker.port}`];
  await broker.engine.createTopic('sized', { partitions: 2 });
  await broker.engine.createTopic('other', { partitions: 1 });
  await broker.engine.produce('sized', Array.from({ length: 100 }, (_, i) => ({ value: `v${i}` })), { partition: 1 });
});

afterAll(async () => {
  await broker?.stop();
});

describe('sluice log-dirs --describe', () => {
  it("prints Kafka's lines and each replica's size and lag under the broker's log directory", async () => {
    const result = await runCli(['log-dirs', ...bootstrap, '--describe', '--topic-list', 'sized']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual(['Querying brokers for log directories information', 'Received log directory information from brokers 1']);
    const json = JSON.parse(lines[2]!);
    expect(json.version).toBe(1);
    expect(json.brokers).toHaveLength(1);
    const [dir] = json.brokers[0].logDirs;
    expect(json.brokers[0].broker).toBe(1);
    expect(dir.logDir).toBe(broker.engine.dataDir);
    expect(dir.error).toBeNull();
    const bytes = broker.engine.partitionLog('sized', 1).sizeBytes();
    expect(bytes).toBeGreaterThan(100 * 2);
    expect(dir.partitions.sort((a: { partition: string }, b: { partition: string }) => a.partition.localeCompare(b.partition))).toEqual([
      { partition: 'sized-0', size: 0, offsetLag: 0, isFuture: false },
      { partition: 'sized-1', size: bytes, offsetLag: 0, isFuture: false },
    ]);
  });

  it('a broker not in the cluster is an error naming the live ones, exit 1; without --describe, exit 2', async () => {
    let result = await runCli(['log-dirs', ...bootstrap, '--describe', '--broker-list', '1,7']);
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: 'Error: The given brokers do not exist from --broker-list: 7. Current existent brokers: 1\n' });
    result = await runCli(['log-dirs', ...bootstrap]);
    expect(result).toMatchObject({ code: 2, stderr: "Error: Missing required option --describe\nSee 'sluice log-dirs --help'\n" });
  });
});
