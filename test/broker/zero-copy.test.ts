// The record bytes of a Fetch response go from the segment file to the socket by sendfile:
// the broker counts what it sent from JS buffers and what it sent from files, and fetching a
// large topic moves its bytes on the zero-copy side while JS writes only framing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { KafkaClient } from '../../src/client/client.js';
import { Fetcher } from '../../src/client/fetcher.js';
import { kcat } from '../fixtures/kcat.js';

let broker: Broker;

beforeAll(async () => {
  broker = await startBroker({ port: 0 });
});

afterAll(async () => {
  await broker?.stop();
});

describe('zero-copy fetch', () => {
  it('sends record bytes with sendfile, and JS writes only the framing', async () => {
    await broker.engine.createTopic('zc', { partitions: 1 });
    const value = 'v'.repeat(1000);
    for (let i = 0; i < 20; i++) {
      await broker.engine.produce('zc', Array.from({ length: 500 }, (_, j) => ({ key: `k${i}-${j}`, value })), { partition: 0 });
    }
    const logBytes = broker.engine.describeTopic('zc').partitions[0]!.sizeBytes;
    const before = { ...broker.metrics };
    const consumed = await kcat(['-b', `localhost:${broker.port}`, '-C', '-t', 'zc', '-o', 'beginning', '-e', '-q', '-f', '%o\\n']);
    expect(consumed.stdout.trim().split('\n')).toHaveLength(10_000);
    const zeroCopyBytes = broker.metrics.bytesSentZeroCopy - before.bytesSentZeroCopy;
    const jsBytes = broker.metrics.bytesWrittenFromJs - before.bytesWrittenFromJs;
    expect(zeroCopyBytes).toBeGreaterThanOrEqual(logBytes);
    // Framing is a few hundred bytes per response; the ~10 MB of records never went through JS.
    expect(jsBytes).toBeLessThan(logBytes / 100);
  });

  it('copies through JS when zero copy is off, with identical results', async () => {
    const copying = await startBroker({ port: 0, zeroCopyFetch: false });
    try {
      await copying.engine.createTopic('copy', { partitions: 1 });
      await copying.engine.produce('copy', [{ value: 'a' }, { value: 'b' }], { partition: 0 });
      const client = await KafkaClient.connect({ brokers: [`localhost:${copying.port}`] });
      const fetcher = new Fetcher(client, { maxWaitMs: 100 });
      await fetcher.assign('copy', 0, 'earliest');
      const { records } = await fetcher.fetch();
      client.close();
      expect(records.map((r) => r.value!.toString())).toEqual(['a', 'b']);
      expect(copying.metrics.bytesSentZeroCopy).toBe(0);
    } finally {
      await copying.stop();
    }
  });
});

describe('long-poll fetch', () => {
  it('waits for min_bytes and is woken by an append', async () => {
    await broker.engine.createTopic('poll', { partitions: 1 });
    const client = await KafkaClient.connect({ brokers: [`localhost:${broker.port}`] });
    const fetcher = new Fetcher(client, { maxWaitMs: 20_000, minBytes: 1 });
    await fetcher.assign('poll', 0, 'latest');
    const fetching = fetcher.fetch();
    let settled = false;
    void fetching.then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(settled).toBe(false); // nothing to read yet: the broker holds the request
    await broker.engine.produce('poll', [{ value: 'wake' }], { partition: 0 });
    const { records } = await fetching;
    client.close();
    expect(records.map((r) => r.value!.toString())).toEqual(['wake']);
  });
});
