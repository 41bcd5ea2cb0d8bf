// librdkafka (kcat 1.7.1, librdkafka 2.0.2) against a sluice broker process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { kcat } from '../fixtures/kcat.js';
import { tempDir } from '../helpers.js';

let broker: BrokerProcess;

beforeAll(async () => {
  broker = await startBrokerProcess(tempDir(), { 'num.partitions': 1 });
});

afterAll(async () => {
  await broker?.stop();
});

/** Consume everything from `offset` of one partition as "key|value|headers" lines. */
async function consume(topic: string, partition = 0, offset: string | number = 'beginning', extra: string[] = []): Promise<string[]> {
  const result = await kcat(['-b', broker.address, '-C', '-t', topic, '-p', String(partition), '-o', String(offset), '-e', '-q', '-Z', '-f', '%k|%s|%h|%o\\n', ...extra]);
  expect(result.stderr).not.toMatch(/PROTOERR|ERROR/);
  return result.stdout.split('\n').filter((line) => line !== '');
}

describe('kcat', () => {
  it('lists metadata: one broker that leads every partition', async () => {
    await kcat(['-b', broker.address, '-P', '-t', 'meta'], 'x\n');
    const result = await kcat(['-b', broker.address, '-L', '-t', 'meta']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/1 brokers:\s+broker 1 at localhost:\d+ \(controller\)/);
    expect(result.stdout).toMatch(/topic "meta" with 1 partitions:\s+partition 0, leader 1, replicas: 1, isrs: 1/);
  });

  it('produces keys, values, headers and null values, and consumes them back', async () => {
    const produced = await kcat(['-b', broker.address, '-P', '-t', 'kv', '-K', ':', '-Z', '-H', 'source=kcat', '-H', 'n=1'], 'k1:v1\nk2:\nk3:v3\n');
    expect(produced.code).toBe(0);
    expect(await consume('kv')).toEqual(['k1|v1|source=kcat,n=1|0', 'k2|NULL|source=kcat,n=1|1', 'k3|v3|source=kcat,n=1|2']);
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    it(`produces and consumes ${codec}-compressed batches`, async () => {
      const lines = Array.from({ length: 200 }, (_, i) => `key-${i}:value-${i}-${'x'.repeat(i % 50)}`);
      const produced = await kcat(['-b', broker.address, '-P', '-t', `codec-${codec}`, '-K', ':', '-z', codec], lines.join('\n') + '\n');
      expect(produced.code).toBe(0);
      const consumed = await consume(`codec-${codec}`);
      expect(consumed.map((line) => line.split('|').slice(0, 2).join(':'))).toEqual(lines);
    });
  }

  for (const acks of ['0', '1', 'all']) {
    it(`produces with acks=${acks}`, async () => {
      const produced = await kcat(['-b', broker.address, '-P', '-t', `acks-${acks}`, '-X', `acks=${acks}`], 'a\nb\nc\n');
      expect(produced.code).toBe(0);
      expect((await consume(`acks-${acks}`)).map((line) => line.split('|')[1])).toEqual(['a', 'b', 'c']);
    });
  }

  it('produces with the idempotent producer', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `m${i}`);
    const produced = await kcat(['-b', broker.address, '-P', '-t', 'idempotent', '-X', 'enable.idempotence=true'], lines.join('\n') + '\n');
    expect(produced.code).toBe(0);
    expect((await consume('idempotent')).map((line) => line.split('|')[1])).toEqual(lines);
  });

  it('consumes from an offset and finds offsets by time', async () => {
    const before = Date.now();
    await kcat(['-b', broker.address, '-P', '-t', 'timed'], 'a\nb\nc\nd\n');
    expect((await consume('timed', 0, 2)).map((line) => line.split('|')[1])).toEqual(['c', 'd']);
    const byTime = await kcat(['-b', broker.address, '-Q', '-t', `timed:0:${before - 60_000}`]);
    expect(byTime.stdout).toMatch(/timed \[0\] offset 0/);
    const future = await kcat(['-b', broker.address, '-Q', '-t', `timed:0:${Date.now() + 3_600_000}`]);
    expect(future.stdout).toMatch(/timed \[0\] offset -1/);
  });
});
