// A PoolConsumer logs in to a SASL_PLAINTEXT listener (its `sasl` option): it joins its group,
// its workers handle every record and its offsets are committed; a wrong password fails start()
// with SASL_AUTHENTICATION_FAILED rather than retrying.
import { afterEach, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { PoolConsumer } from '../../src/consumer/index.js';
import { Collector, HANDLER, committed, produce, waitFor } from './helpers.js';

let broker: Broker | undefined;
const pools: PoolConsumer[] = [];
const collectors: Collector[] = [];

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.stop().catch(() => {})));
  for (const collector of collectors.splice(0)) collector.close();
  await broker?.stop();
  broker = undefined;
});

function pool(password: string, channel: string): PoolConsumer {
  const created = new PoolConsumer({
    brokers: [`127.0.0.1:${broker!.port}`],
    sasl: { mechanism: 'PLAIN', username: 'worker', password },
    groupId: 'sasl-pool',
    topics: ['sasl-pool'],
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

describe('PoolConsumer on a SASL listener', () => {
  it('logs in, handles every record and commits; a wrong password fails start()', async () => {
    broker = await startBroker({
      port: 0,
      config: {
        listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_worker="worker-secret";',
        'group.initial.rebalance.delay.ms': 0,
        'offsets.topic.num.partitions': 3,
      },
    });
    await broker.engine.createTopic('sasl-pool', { partitions: 2 });
    await produce(broker, 'sasl-pool', 200, { partitions: 2 });

    await expect(pool('wrong', 'sasl-pool-wrong').start()).rejects.toMatchObject({ code: 'SASL_AUTHENTICATION_FAILED' });

    const seen = new Collector('sasl-pool-right');
    collectors.push(seen);
    const consumer = pool('worker-secret', 'sasl-pool-right');
    await consumer.start();
    await waitFor(() => seen.records >= 200, 'every record');
    await consumer.stop();
    expect(committed(broker, 'sasl-pool', 'sasl-pool', 2)).toEqual([100, 100]);
  });
});
