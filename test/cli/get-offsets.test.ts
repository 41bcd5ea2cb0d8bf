// `sluice get-offsets` against a broker in this process: kafka-get-offsets' filters, times and
// lines ("topic:partition:offset", sorted as Kafka sorts "topic-partition" text).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { runCli } from './run-cli.js';

let broker: Broker;
let bootstrap: string[];
const T0 = 1_700_000_000_000;

beforeAll(async () => {
  broker = await startBroker({ port: 0 });
  bootstrap = ['--bootstrap-server', `localhost:${broker.port}`];
  await broker.engine.createTopic('orders', { partitions: 12 });
  await broker.engine.createTopic('audit', { partitions: 1 });
  // Partition 3: 100 records, one a second from T0; partition 11: 5 records.
  await broker.engine.produce('orders', Array.from({ length: 100 }, (_, i) => ({ value: `v${i}`, timestamp: T0 + i * 1000 })), { partition: 3 });
  await broker.engine.produce('orders', Array.from({ length: 5 }, (_, i) => ({ value: `w${i}`, timestamp: T0 })), { partition: 11 });
  await broker.engine.deleteRecords('orders', 3, 40);
});

afterAll(async () => {
  await broker?.stop();
});

const lines = (stdout: string) => stdout.trimEnd().split('\n');

describe('sluice get-offsets', () => {
  it('latest by default, every partition of every matching topic, in Kafka\'s text order', async () => {
    const result = await runCli(['get-offsets', ...bootstrap, '--topic', 'ord.*']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const expected = [0, 1, 10, 11, 2, 3, 4, 5, 6, 7, 8, 9].map((p) => `orders:${p}:${p === 3 ? 100 : p === 11 ? 5 : 0}`);
    expect(lines(result.stdout)).toEqual(expected);
  });

  it('earliest, max-timestamp and a timestamp; a timestamp after every record gives no line', async () => {
    const at = (time: string) => runCli(['get-offsets', ...bootstrap, '--topic', 'orders', '--partitions', '3', '--time', time]);
    expect((await at('earliest')).stdout).toBe('orders:3:40\n');
    expect((await at('-2')).stdout).toBe('orders:3:40\n');
    expect((await at('max-timestamp')).stdout).toBe('orders:3:99\n');
    expect((await at(String(T0 + 50_500))).stdout).toBe('orders:3:51\n');
    expect(await at(String(T0 + 1_000_000))).toMatchObject({ code: 0, stdout: '' });
  });

  it('--topic-partitions patterns: a partition, ranges (upper bound excluded), any topic', async () => {
    let result = await runCli(['get-offsets', ...bootstrap, '--topic-partitions', 'orders:10-,orders:2-4,audit']);
    expect(lines(result.stdout)).toEqual(['audit:0:0', 'orders:10:0', 'orders:11:5', 'orders:2:0', 'orders:3:100']);
    result = await runCli(['get-offsets', ...bootstrap, '--topic-partitions', ':-1']);
    expect(lines(result.stdout)).toEqual(['audit:0:0', 'orders:0:0']);
  });

  it('nothing matched is an error, exit 1', async () => {
    const result = await runCli(['get-offsets', ...bootstrap, '--topic', 'nope']);
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: 'Error: Could not match any topic-partitions with the specified filters\n' });
  });

  it.each([
    [['--time', 'soon'], "--time expects -1 or latest, -2 or earliest, -3 or max-timestamp, -4 or earliest-local, or a timestamp in ms, got 'soon'"],
    [['--topic-partitions', 'orders:x'], 'Invalid rule specification: orders:x'],
    [['--topic-partitions', 'orders', '--topic', 'orders'], '--topic-partitions cannot be used with --topic or --partitions'],
    [['--topic', 'orders', '--partitions', '1,a'], "--partitions expects partition ids separated by commas, got '1,a'"],
  ])('%j is a usage error', async (args, message) => {
    const result = await runCli(['get-offsets', ...bootstrap, ...args]);
    expect(result).toMatchObject({ code: 2, stdout: '', stderr: `Error: ${message}\nSee 'sluice get-offsets --help'\n` });
  });
});
