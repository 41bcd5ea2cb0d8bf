// Metadata in a cluster names a partition's leader only while that broker is alive: between a
// leader's death and the controller's new election, etcd still holds the dead broker as leader.
// Kafka's MetadataCache answers such a partition with LEADER_NOT_AVAILABLE and leader -1, so that
// every leader a response names is among its brokers; @platformatic/kafka looks the leader up
// there, and threw a TypeError from its connection pool when it was absent (seen in the failover
// test). The cluster's view is a stand-in here: the window cannot be held open in a real one.
// offline_replicas lists dead brokers' replicas and live brokers' replicas in an offline log dir.
import { describe, expect, it } from 'vitest';

import { metadataHandler } from '../../src/broker/handlers/metadata.js';
import { noAuthorizer } from '../fixtures/no-authorizer.js';
import { ApiKey } from '../../src/protocol/api-keys.js';

const partitions = [
  { leader: 1, leaderEpoch: 4, replicas: [1, 2], isr: [1, 2] },
  { leader: 2, leaderEpoch: 7, replicas: [2, 1], isr: [2, 1] },
  { leader: -1, leaderEpoch: 9, replicas: [2], isr: [2] },
];
const cluster = {
  topicNames: () => ['events'],
  topicNameById: () => undefined,
  liveEndpoints: () => [{ brokerId: 1, host: '127.0.0.2', port: 9092, rack: null }],
  controllerBrokerId: 1,
  topic: (name: string) => (name === 'events' ? { topicId: '5b1d1e56-7c1f-4a0e-9f3b-2a6f0e4c8d11', partitions } : undefined),
  partition: (_name: string, partition: number) => partitions[partition],
  isAlive: (brokerId: number) => brokerId === 1,
  // Broker 1 reported its replica of events-0 in an offline log directory (a failed disk).
  offlineReplicas: () => (brokerId: number, _topic: string, partition: number) => brokerId === 1 && partition === 0,
};

describe('Metadata in a cluster', () => {
  it('answers LEADER_NOT_AVAILABLE with leader -1 for a partition whose leader is not a live broker', async () => {
    const context = { broker: { settings: { autoCreateTopics: false }, listener: { name: 'PLAINTEXT' }, clusterId: 'cluster', cluster: () => cluster, authorizer: noAuthorizer() }, header: { apiKey: ApiKey.Metadata, apiVersion: 12, correlationId: 1, clientId: null } };
    const response = (await metadataHandler.handle(context as any, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false } as any)) as any;
    expect(response.brokers.map((broker: { nodeId: number }) => broker.nodeId)).toEqual([1]);
    const answers = response.topics[0].partitions.map((p: any) => [p.partitionIndex, p.errorCode, p.leaderId, p.offlineReplicas]);
    expect(answers).toEqual([
      [0, 0, 1, [1, 2]],
      [1, 5, -1, [2]],
      [2, 5, -1, [2]],
    ]);
  });
});
