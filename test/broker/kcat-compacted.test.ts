// kcat (librdkafka) on a compacted topic of a broker process whose log cleaner runs in the
// background: it reads the last value of every key at its own offset across the gaps compaction
// left, and a record without a key is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { kcat } from '../fixtures/kcat.js';
import { tempDir } from '../helpers.js';

let broker: BrokerProcess;

beforeAll(async () => {
  broker = await startBrokerProcess(tempDir(), { 'log.cleaner.backoff.ms': 50 });
});

afterAll(async () => {
  await broker?.stop();
});

async function consume(topic: string): Promise<Array<{ key: string; value: string; offset: number }>> {
  const result = await kcat(['-b', broker.address, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k=%s=%o\\n']);
  expect(result.stderr).not.toMatch(/PROTOERR|ERROR/);
  return result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [key, value, offset] = line.split('=');
      return { key: key!, value: value!, offset: Number(offset) };
    });
}

describe('kcat on a compacted topic', () => {
  it('reads the last value of every key after the broker compacted the topic', async () => {
    const client = await KafkaClient.connect({ brokers: [broker.address] });
    try {
      await client.createTopics([{ name: 'table', partitions: 1, configs: { 'cleanup.policy': 'compact', 'segment.bytes': '4096' } }]);
    } finally {
      client.close();
    }
    const lines: string[] = [];
    const last = new Map<string, string>();
    for (let i = 0; i < 600; i++) {
      const key = `key-${i % 20}`;
      lines.push(`${key}:value-${i}`);
      last.set(key, `value-${i}`);
    }
    // One kcat run (one batch of about 1.3 KB) per 50 lines: the log rolls every three, and the
    // cleaner finds closed segments.
    for (let from = 0; from < lines.length; from += 50) {
      const produced = await kcat(['-b', broker.address, '-P', '-t', 'table', '-K', ':'], lines.slice(from, from + 50).join('\n') + '\n');
      expect(produced.stderr).toBe("");
      expect(produced.code).toBe(0);
    }
    let consumed = await consume('table');
    const deadline = Date.now() + 30_000;
    while (consumed.length >= lines.length / 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      consumed = await consume('table');
    }
    expect(consumed.length).toBeLessThan(lines.length / 2);
    // Offsets grow, with gaps; each record is the one written at its offset; each key ends at its last value.
    for (let i = 0; i < consumed.length; i++) {
      const record = consumed[i]!;
      if (i > 0) expect(record.offset).toBeGreaterThan(consumed[i - 1]!.offset);
      expect(`${record.key}:${record.value}`).toBe(lines[record.offset]);
    }
    const seen = new Map(consumed.map((record) => [record.key, record.value]));
    expect(seen).toEqual(last);
  });

  it('refuses a record without a key', async () => {
    const result = await kcat(['-b', broker.address, '-P', '-t', 'table'], 'no key\n');
    // librdkafka's words for INVALID_RECORD.
    expect(result.stderr).toMatch(/Broker failed to validate record/);
  });
});
