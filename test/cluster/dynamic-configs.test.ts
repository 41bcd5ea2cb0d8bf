// Configs set while a cluster runs, kept in etcd under <root>/configs/ and watched by every broker.
// Dynamic broker configs (KIP-226): a cluster-wide default written through one broker reaches every
// broker and its partitions, a per-broker value is sent to that broker and acts there only, a
// restarted broker starts with them, and a dynamic unclean.leader.election.enable lets the
// controller elect an out-of-ISR replica for a partition without a leader, as Kafka's controller
// does. Client quotas: set through one broker, every broker describes and enforces them, the
// controller_mutation_rate of topic creation too, against one bucket for the whole cluster.
// Finalized feature levels (KIP-584): changed through one broker, reported by every broker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { encodeBatch } from '../../src/record/index.js';
import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { CONFIG_RESOURCE_TYPE, CONFIG_SOURCE } from '../../src/protocol/apis/describe-configs.js';
import { kafka } from '../fixtures/kafkajs.js';
import { waitUntil } from './helpers.js';

const SESSION_TIMEOUT_MS = 3_000;

let cluster: LocalCluster;
let client: KafkaClient;
let admin: any;
let producer: any;

beforeAll(async () => {
  cluster = await startCluster({ brokers: 3, config: { 'broker.session.timeout.ms': SESSION_TIMEOUT_MS, 'auto.leader.rebalance.enable': 'false' } });
  client = await KafkaClient.connect({ brokers: cluster.bootstrapServers.split(',') });
  const kafkajs = kafka(cluster.bootstrapServers.split(','), 'dynamic-configs');
  admin = kafkajs.admin();
  await admin.connect();
  producer = kafkajs.producer({ retry: { retries: 0 } });
  await producer.connect();
}, 120_000);

afterAll(async () => {
  await producer?.disconnect().catch(() => {});
  await admin?.disconnect().catch(() => {});
  client?.close();
  await cluster?.stop();
}, 120_000);

async function brokerValue(brokerId: number, name: string): Promise<{ value: string | null; source: number } | undefined> {
  const entry = (await client.describeConfigs(CONFIG_RESOURCE_TYPE.BROKER, String(brokerId))).find((e) => e.name === name);
  return entry === undefined ? undefined : { value: entry.value, source: entry.source };
}

async function partitionState(topic: string, partition: number): Promise<{ leader: number; isr: number[] }> {
  const metadata = await client.metadata([topic]);
  const state = metadata.topics[0]!.partitions.find((p) => p.partition === partition)!;
  return { leader: state.leader, isr: state.isr };
}

const bigValue = 'x'.repeat(5000);

describe('dynamic broker configs in a cluster', () => {
  it('a cluster-wide default written through any broker acts on every broker; a per-broker value on its broker only', async () => {
    await client.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, '', [{ name: 'message.max.bytes', value: '2000' }]);
    for (const id of [1, 2, 3]) {
      await waitUntil(async () => (await brokerValue(id, 'message.max.bytes'))?.value === '2000', `broker ${id} to take message.max.bytes=2000`);
      expect(await brokerValue(id, 'message.max.bytes')).toEqual({ value: '2000', source: CONFIG_SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG });
    }
    await admin.createTopics({ topics: [{ topic: 'big', replicaAssignment: [{ partition: 0, replicas: [1, 2, 3] }, { partition: 1, replicas: [2, 3, 1] }, { partition: 2, replicas: [3, 1, 2] }] }], waitForLeaders: true });
    for (const partition of [0, 1, 2]) {
      const error = await producer.send({ topic: 'big', acks: 1, messages: [{ partition, value: bigValue }] }).catch((e: any) => e);
      expect(error.type).toBe('MESSAGE_TOO_LARGE');
    }

    await client.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, '2', [{ name: 'message.max.bytes', value: '100000' }]);
    await waitUntil(async () => (await brokerValue(2, 'message.max.bytes'))?.value === '100000', 'broker 2 to take its own message.max.bytes');
    expect(await brokerValue(2, 'message.max.bytes')).toEqual({ value: '100000', source: CONFIG_SOURCE.DYNAMIC_BROKER_CONFIG });
    expect(await brokerValue(1, 'message.max.bytes')).toEqual({ value: '2000', source: CONFIG_SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG });
    // Partition 1 is led by broker 2: its limit is broker 2's.
    await producer.send({ topic: 'big', acks: 1, messages: [{ partition: 1, value: bigValue }] });
    const refused = await producer.send({ topic: 'big', acks: 1, messages: [{ partition: 0, value: bigValue }] }).catch((e: any) => e);
    expect(refused.type).toBe('MESSAGE_TOO_LARGE');
  });

  it('client quotas set through one broker are described and enforced by every broker', async () => {
    const entity = [{ entityType: 'client-id', entityName: 'slow' }];
    await client.alterClientQuotas(entity, [{ key: 'producer_byte_rate', value: 1024 }]);
    for (const id of [1, 2, 3]) {
      const broker = cluster.broker(id);
      const connection = await BrokerConnection.connect({ host: broker.host, port: broker.port, clientId: 'slow' });
      try {
        const describe = async () => (await connection.request(ApiKey.DescribeClientQuotas, { components: [{ entityType: 'client-id', matchType: 0, match: 'slow' }], strict: true })).entries;
        await waitUntil(async () => (await describe()).length === 1, `broker ${id} to know the quota of client slow`);
        expect(await describe()).toEqual([{ entity, values: [{ key: 'producer_byte_rate', value: 1024 }] }]);
      } finally {
        connection.close();
      }
    }
    // Partition 1 of 'big' is led by broker 2: a ~20 KB produce of client slow goes over its 1 KiB/s there.
    const leader = cluster.broker(2);
    const connection = await BrokerConnection.connect({ host: leader.host, port: leader.port, clientId: 'slow' });
    try {
      const records = encodeBatch(Array.from({ length: 20 }, () => ({ value: Buffer.alloc(1000, 's') })));
      const response = await connection.request(ApiKey.Produce, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'big', partitionData: [{ index: 1, records }] }] }, 9);
      expect(response.responses[0].partitionResponses[0].errorCode).toBe(0);
      expect(response.throttleTimeMs).toBeGreaterThan(0);
    } finally {
      connection.close();
    }
  });

  it('controller_mutation_rate: a topic of a strict CreateTopics (v7) past the quota is THROTTLING_QUOTA_EXCEEDED and not created', async () => {
    await client.alterClientQuotas([{ entityType: 'client-id', entityName: 'mutator' }], [{ key: 'controller_mutation_rate', value: 0.1 }]);
    const broker = cluster.broker(3);
    const connection = await BrokerConnection.connect({ host: broker.host, port: broker.port, clientId: 'mutator' });
    try {
      const create = async (name: string) => {
        const topics = [{ name, numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }];
        return (await connection.request(ApiKey.CreateTopics, { topics, timeoutMs: 30_000, validateOnly: false }, 7)).topics[0]!.errorCode as number;
      };
      // Broker 3 learns the quota from etcd's watch: until then the topics it creates are not counted.
      let first = '';
      await waitUntil(async () => (await create((first = `counted-${Date.now()}`))) === 0 && (await create(`refused-${Date.now()}`)) === 89, 'broker 3 to count the client\'s partitions and refuse past 0.1 a second');
      const names = (await client.metadata()).topics.map((t) => t.name);
      expect(names).toContain(first);
      expect(names.some((name) => name.startsWith('refused-'))).toBe(false);
    } finally {
      connection.close();
    }
  });

  it('controller_mutation_rate counts the cluster\'s mutations, as Kafka\'s controller does: what one broker took, another refuses', async () => {
    await client.alterClientQuotas([{ entityType: 'client-id', entityName: 'shared-mutator' }], [{ key: 'controller_mutation_rate', value: 0.1 }]);
    const connections = await Promise.all([1, 2].map((id) => BrokerConnection.connect({ host: cluster.broker(id).host, port: cluster.broker(id).port, clientId: 'shared-mutator' })));
    try {
      // Each broker has the quota once its watch of etcd delivered it.
      for (const connection of connections) {
        const components = [{ entityType: 'client-id', matchType: 0, match: 'shared-mutator' }];
        await waitUntil(async () => (await connection.request(ApiKey.DescribeClientQuotas, { components, strict: false })).entries.length === 1, 'every broker to have the quota');
      }
      const create = async (connection: BrokerConnection, name: string) => {
        const topics = [{ name, numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }];
        return (await connection.request(ApiKey.CreateTopics, { topics, timeoutMs: 30_000, validateOnly: false }, 7)).topics[0]!.errorCode as number;
      };
      // The burst is 0.1 x 11 windows of 1 s = 1.1 partitions: three through broker 1 leave the
      // bucket 19 s below zero, so broker 2, asked next, refuses.
      expect(await create(connections[0]!, 'shared-mutation-1')).toBe(0);
      expect(await create(connections[1]!, 'shared-mutation-2')).toBe(89);
    } finally {
      for (const connection of connections) connection.close();
    }
  });

  it('a feature level changed through one broker is finalized on every broker (UpdateFeatures, ApiVersions)', async () => {
    const through = async <T>(id: number, run: (connection: BrokerConnection) => Promise<T>): Promise<T> => {
      const connection = await BrokerConnection.connect({ host: cluster.broker(id).host, port: cluster.broker(id).port });
      try {
        return await run(connection);
      } finally {
        connection.close();
      }
    };
    const levelOn = (id: number) =>
      through(id, async (connection) => {
        const versions = await connection.request(ApiKey.ApiVersions, { clientSoftwareName: 'test', clientSoftwareVersion: '1' }, 3);
        return versions.finalizedFeatures.find((feature: { name: string }) => feature.name === 'group.version')?.maxVersionLevel ?? 0;
      });
    const set = (level: number, upgradeType: number) =>
      through(1, async (connection) => (await connection.request(ApiKey.UpdateFeatures, { timeoutMs: 30_000, featureUpdates: [{ feature: 'group.version', maxVersionLevel: level, upgradeType }], validateOnly: false }, 1)).results[0].errorCode);
    expect(await set(0, 2)).toBe(0);
    for (const id of [1, 2, 3]) await waitUntil(async () => (await levelOn(id)) === 0, `broker ${id} to report group.version 0`);
    expect(await set(1, 1)).toBe(0);
    for (const id of [1, 2, 3]) await waitUntil(async () => (await levelOn(id)) === 1, `broker ${id} to report group.version 1`);
  });

  it('a restarted broker starts with the dynamic configs kept in etcd', async () => {
    await cluster.stopBroker(3);
    await cluster.restartBroker(3);
    expect(await brokerValue(3, 'message.max.bytes')).toEqual({ value: '2000', source: CONFIG_SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG });
  });

  it('a dynamic unclean.leader.election.enable=true elects an out-of-ISR replica where no leader was left', async () => {
    await admin.createTopics({ topics: [{ topic: 'lone', replicaAssignment: [{ partition: 0, replicas: [2, 3] }] }], waitForLeaders: true });
    await producer.send({ topic: 'lone', acks: -1, messages: [{ partition: 0, value: 'before' }] });
    // Broker 3 dies: its session ends and the controller takes it out of the ISR.
    await cluster.killBroker(3);
    await waitUntil(async () => (await partitionState('lone', 0)).isr.join() === '2', 'broker 3 to leave the ISR of lone-0');
    // The last ISR member dies; broker 3 returns, out of the ISR: no clean leader is left.
    await cluster.killBroker(2);
    await waitUntil(async () => (await partitionState('lone', 0)).leader === -1, 'lone-0 to lose its leader');
    await cluster.restartBroker(3);
    expect(await partitionState('lone', 0)).toEqual({ leader: -1, isr: [2] });

    await client.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, '', [{ name: 'unclean.leader.election.enable', value: 'true' }]);
    await waitUntil(async () => (await partitionState('lone', 0)).leader === 3, 'broker 3 to be elected leader of lone-0 uncleanly');
    await cluster.restartBroker(2);
  });
});
