// A PoolConsumer reads over TLS (its `tls` option) from a broker that requires client
// certificates: it joins its group, its workers handle every record and its offsets are committed;
// without a certificate start() fails rather than consuming in the clear.
import { afterEach, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { tlsOptions } from '../../src/client/tls-config.js';
import { PoolConsumer } from '../../src/consumer/index.js';
import { makeTlsFiles, STORE_PASSWORD } from '../fixtures/tls-certs.js';
import { Collector, HANDLER, committed, produce, waitFor } from './helpers.js';

let broker: Broker | undefined;
const pools: PoolConsumer[] = [];
const collectors: Collector[] = [];
const files = makeTlsFiles();

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.stop().catch(() => {})));
  for (const collector of collectors.splice(0)) collector.close();
  await broker?.stop();
  broker = undefined;
});

function pool(withCertificate: boolean, channel: string): PoolConsumer {
  const alice = files.client('alice');
  const created = new PoolConsumer({
    brokers: [`127.0.0.1:${broker!.port}`],
    tls: tlsOptions({
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': files.caPem,
      ...(withCertificate ? { 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': alice.p12, 'ssl.keystore.password': STORE_PASSWORD } : {}),
    }),
    groupId: 'tls-pool',
    topics: ['tls-pool'],
    handler: HANDLER,
    concurrency: 2,
    autoOffsetReset: 'earliest',
    heartbeatIntervalMs: 100,
    sessionTimeoutMs: 6000,
    autoCommitIntervalMs: 200,
    maxWaitMs: 100,
    workerData: { channel },
  });
  pools.push(created);
  return created;
}

describe('PoolConsumer on a TLS listener', () => {
  it('handles every record and commits over TLS; without a client certificate start() fails', async () => {
    broker = await startBroker({
      port: 0,
      config: {
        listeners: 'SSL://127.0.0.1:0',
        'ssl.keystore.type': 'PKCS12',
        'ssl.keystore.location': files.brokerP12,
        'ssl.keystore.password': STORE_PASSWORD,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': files.caPem,
        'ssl.client.auth': 'required',
        'group.initial.rebalance.delay.ms': 0,
        'offsets.topic.num.partitions': 3,
      },
    });
    await broker.engine.createTopic('tls-pool', { partitions: 2 });
    await produce(broker, 'tls-pool', 200, { partitions: 2 });

    await expect(pool(false, 'tls-pool-anonymous').start()).rejects.toThrow(/certificate required|closed|reset/i);

    const seen = new Collector('tls-pool-right');
    collectors.push(seen);
    const consumer = pool(true, 'tls-pool-right');
    await consumer.start();
    await waitFor(() => seen.records >= 200, 'every record');
    await consumer.stop();
    expect(committed(broker, 'tls-pool', 'tls-pool', 2)).toEqual([100, 100]);
  });
});
