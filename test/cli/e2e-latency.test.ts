// `sluice e2e-latency` (kafka-e2e-latency) against a broker in this process: Kafka's lines, a
// missing topic created with one partition, every record read back as sent, and the records left
// in the topic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { runCli } from './run-cli.js';

let broker: Broker;
let bootstrap: string[];

beforeAll(async () => {
  broker = await startBroker({ port: 0 });
  bootstrap = ['--bootstrap-server', `localhost:${broker.port}`];
});

afterAll(async () => {
  await broker?.stop();
});

const LINES = {
  progress: /^0\t\d+(\.\d+)?$/,
  average: /^Avg latency: \d+\.\d{4} ms$/,
  percentiles: /^Percentiles: 50th = (\d+), 99th = (\d+), 99.9th = (\d+)$/,
};

describe('sluice e2e-latency', () => {
  it('creates a missing topic with one partition, reads every record back, and prints the average and percentiles', async () => {
    const result = await runCli(['e2e-latency', ...bootstrap, '--topic', 'latency', '--num-records', '40', '--producer-acks', 'all', '--record-size', '100']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Topic "latency" does not exist. Will create topic with 1 partition(s) and replication factor = 1');
    expect(lines[1]).toMatch(LINES.progress);
    expect(lines[2]).toMatch(LINES.average);
    const [, p50, p99, p999] = LINES.percentiles.exec(lines[3]!)!.map(Number);
    expect(p50).toBeLessThanOrEqual(p99!);
    expect(p99).toBeLessThanOrEqual(p999!);
    expect(lines).toHaveLength(4);
    expect(broker.engine.partitionCount('latency')).toBe(1);
    const { records } = await broker.engine.fetch('latency', 0, { offset: 0 });
    expect(records).toHaveLength(40);
    expect(records.every((r) => r.key === null && r.value!.length === 100 && /^([A-Z])\1*$/.test(r.value!.toString()))).toBe(true);
  });

  it('with keys and headers, on a topic of three partitions, acks=1: reads each record from the partition its ack names', async () => {
    await broker.engine.createTopic('latency-keyed', { partitions: 3 });
    const result = await runCli([
      'e2e-latency', ...bootstrap, '--topic', 'latency-keyed', '--num-records', '30', '--producer-acks', '1', '--record-size', '10',
      '--record-key-size', '4', '--num-headers', '2', '--record-header-key-size', '3', '--record-header-size', '-1',
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(LINES.percentiles);
    const read = [];
    for (let partition = 0; partition < 3; partition++) read.push(...(await broker.engine.fetch('latency-keyed', partition, { offset: 0 })).records);
    expect(read).toHaveLength(30);
    for (const record of read) {
      expect(record.key!.length).toBe(4);
      expect(record.headers.map((h) => [h.key.length, h.value])).toEqual([[3, null], [3, null]]);
    }
  });

  it('acks other than 1 or all is a usage error (exit 2), as Kafka asks for synchronous acknowledgement', async () => {
    const result = await runCli(['e2e-latency', ...bootstrap, '--topic', 'latency', '--num-records', '1', '--producer-acks', '0', '--record-size', '1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Latency testing requires synchronous acknowledgement. Please use 1 or all, got '0'");
  });
});
