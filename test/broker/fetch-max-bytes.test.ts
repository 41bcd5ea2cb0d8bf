// fetch.max.bytes (a broker config Kafka applies to every Fetch, whatever its max_bytes asks) and
// offsets.commit.timeout.ms: accepted before but reported as not acted on; both take effect now.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { reportBrokerConfig, resolveBrokerSettings } from '../../src/broker/config.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { startBroker, type Broker } from '../../src/index.js';
import { ApiKey } from '../../src/protocol/index.js';
import { fetchBody } from '../fixtures/probes.js';
import { tempDir } from '../helpers.js';

const FETCH_MAX_BYTES = 4096;
const RECORD_BYTES = 1000;

describe('fetch.max.bytes', () => {
  let broker: Broker;
  let connection: BrokerConnection;

  beforeAll(async () => {
    broker = await startBroker({ port: 0, dataDir: tempDir(), config: { 'fetch.max.bytes': FETCH_MAX_BYTES } });
    await broker.engine.createTopic('wide', { partitions: 2 });
    // One record a batch, 20 batches a partition: ~1.1 KB each.
    for (let i = 0; i < 20; i++) {
      for (const partition of [0, 1]) broker.engine.produce('wide', [{ value: Buffer.alloc(RECORD_BYTES, 97 + i) }], { partition });
    }
    connection = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port });
  });

  afterAll(async () => {
    connection?.close();
    await broker?.stop();
  });

  const recordBytes = (response: any): number[] =>
    response.responses.flatMap((topic: any) => topic.partitions.map((partition: any) => (partition.records ? partition.records.length : 0)));

  it('caps a response whose max_bytes asks for 50 MiB, across partitions; the first batch still comes whole', async () => {
    const response = await connection.request(ApiKey.Fetch, fetchBody('wide', { partitions: [0, 1] }), 11);
    const bytes = recordBytes(response);
    expect(bytes[0]).toBeGreaterThan(0);
    expect(bytes[0]! + bytes[1]!).toBeLessThanOrEqual(FETCH_MAX_BYTES);
    // Without the cap, each partition would bring its 20 batches (partitionMaxBytes is 1 MiB).
    expect(bytes[0]).toBeLessThan(20 * RECORD_BYTES);
  });

  it('a min_bytes above the cap waits for no more than the cap, as in Kafka', async () => {
    // Were min_bytes (1 MiB) not capped, this would be answered only after max_wait (10 minutes),
    // past the test's timeout.
    const response = await connection.request(ApiKey.Fetch, fetchBody('wide', { minBytes: 1 << 20, maxWaitMs: 600_000 }), 11);
    expect(recordBytes(response)[0]).toBeGreaterThan(0);
  });

  it('is reported as taking effect, as is offsets.commit.timeout.ms in a cluster', () => {
    const report = reportBrokerConfig({ 'fetch.max.bytes': '4096', 'offsets.commit.timeout.ms': '1234', 'sluice.etcd.endpoints': 'http://127.0.0.1:2379' });
    expect(report.unsupported).toEqual([]);
    expect(report.unknown).toEqual([]);
    const settings = resolveBrokerSettings({ 'offsets.commit.timeout.ms': '1234', 'sluice.etcd.endpoints': 'http://127.0.0.1:2379' });
    expect(settings.cluster?.offsetsCommitTimeoutMs).toBe(1234);
    expect(() => resolveBrokerSettings({ 'fetch.max.bytes': '100' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });
});
