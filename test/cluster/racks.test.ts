// broker.rack on a 3-broker cluster (real etcd, real broker processes): brokers 1 and 2 in rack
// "a", broker 3 in rack "b". Metadata and DescribeCluster give each broker's rack; topics created
// without an explicit assignment, and partitions added later, get rack-aware replicas (every
// partition of replication factor 2 has one replica in each rack, where the rack-unaware
// assignment would put some on brokers 1 and 2 alone); sluice reassign-partitions --generate
// proposes rack-aware moves unless --disable-rack-aware.
import fs from 'node:fs';
import path from 'node:path';

import { Connection, describeClusterV1 } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { runCli } from '../cli/run-cli.js';
import { tempDir } from '../helpers.js';
import { waitUntil } from './helpers.js';

const RACKS: Record<number, string> = { 1: 'a', 2: 'a', 3: 'b' };

let cluster: LocalCluster;
let client: KafkaClient;

beforeAll(async () => {
  cluster = await startCluster({ brokers: 3, brokerConfig: (id) => ({ 'broker.rack': RACKS[id]! }) });
  client = await KafkaClient.connect({ brokers: cluster.bootstrapServers.split(',') });
  await waitUntil(async () => (await client.metadata([])).brokers.length === 3, 'every broker to register');
}, 120_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
}, 60_000);

/** Per partition, the racks of its replicas. */
async function racksOfTopic(topic: string): Promise<string[][]> {
  const [described] = (await client.metadata([topic])).topics;
  return described!.partitions.map((p) => p.replicas.map((id) => RACKS[id]!).sort());
}

describe('broker.rack', () => {
  it("Metadata and DescribeCluster (@platformatic/kafka) give each broker's rack", async () => {
    const brokers = (await client.metadata([])).brokers.sort((a, b) => a.nodeId - b.nodeId);
    expect(brokers.map((b) => [b.nodeId, b.rack])).toEqual([[1, 'a'], [2, 'a'], [3, 'b']]);
    const connection = new Connection('racks-test');
    try {
      await connection.connect(cluster.brokers[0]!.host, cluster.brokers[0]!.port);
      const described = await describeClusterV1.api.async(connection, false, 1);
      expect(described.brokers.map((b) => [b.brokerId, b.rack]).sort()).toEqual([[1, 'a'], [2, 'a'], [3, 'b']]);
    } finally {
      await connection.close();
    }
  });

  it('a topic and the partitions added to it get one replica in each rack', async () => {
    await client.createTopics([{ name: 'spread', partitions: 6, replicationFactor: 2 }]);
    expect(await racksOfTopic('spread')).toEqual(Array.from({ length: 6 }, () => ['a', 'b']));
    await client.createPartitions('spread', 9);
    await waitUntil(async () => (await client.metadata(['spread'])).topics[0]!.partitions.length === 9, 'the topic to have 9 partitions');
    expect(await racksOfTopic('spread')).toEqual(Array.from({ length: 9 }, () => ['a', 'b']));
  });

  it('reassign-partitions --generate is rack-aware unless --disable-rack-aware', async () => {
    const dir = tempDir('racks-');
    const file = path.join(dir, 'topics.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, topics: [{ topic: 'spread' }] }));
    const proposed = async (...extra: string[]) => {
      const result = await runCli(['reassign-partitions', '--bootstrap-server', cluster.bootstrapServers, '--generate', '--topics-to-move-json-file', file, '--broker-list', '1,2,3', ...extra]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const json = JSON.parse(result.stdout.trimEnd().split('\n').at(-1)!);
      return (json.partitions as Array<{ replicas: number[] }>).map((p) => p.replicas.map((id) => RACKS[id]!).sort().join(''));
    };
    expect(new Set(await proposed())).toEqual(new Set(['ab']));
    // Rack-unaware, the 9 partitions over 3 brokers put some on brokers 1 and 2 together.
    expect(await proposed('--disable-rack-aware')).toContain('aa');
  });

  it('sluice broker-api-versions prints each broker with its rack', async () => {
    const result = await runCli(['broker-api-versions', '--bootstrap-server', cluster.bootstrapServers]);
    expect(result.code).toBe(0);
    const nodes = result.stdout.split('\n').filter((line) => line.endsWith(' -> ('));
    expect(nodes).toEqual(cluster.brokers.map((b) => `${b.host}:${b.port} (id: ${b.id} rack: ${RACKS[b.id]}) -> (`));
  });
});
