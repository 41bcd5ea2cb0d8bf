// ACLs in a 3-broker cluster with Kafka's authorizer on a SASL_PLAINTEXT listener: the brokers log
// in to each other as a super user (super.users, as Kafka asks of an inter-broker principal), so
// followers replicate; an ACL created through one broker is kept in etcd and enforced by every
// broker, whichever leads the partitions a client writes to; deleting it through another broker
// takes it away everywhere.
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes, type AclEntry } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { waitUntil } from '../helpers.js';

const JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="broker-secret" user_broker="broker-secret" user_alice="alice-secret";';
const ALICE_WRITES: AclEntry = {
  resourceType: AclResourceTypes.TOPIC,
  resourceName: 'guarded',
  resourcePatternType: ResourcePatternTypes.LITERAL,
  principal: 'User:alice',
  host: '*',
  operation: AclOperationTypes.WRITE,
  permissionType: AclPermissionTypes.ALLOW,
};

let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startCluster({
    brokers: 3,
    config: {
      'listener.security.protocol.map': 'PLAINTEXT:SASL_PLAINTEXT',
      'sasl.enabled.mechanisms': 'PLAIN',
      'sasl.mechanism.inter.broker.protocol': 'PLAIN',
      'listener.name.plaintext.plain.sasl.jaas.config': JAAS,
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:broker',
      'min.insync.replicas': 2,
    },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

/** A client of one broker (or all), logged in as `user`. */
function kafka(user: 'broker' | 'alice', brokers = cluster.bootstrapServers.split(',')): Kafka {
  return new Kafka({ clientId: `acl-${user}`, brokers, sasl: { mechanism: 'plain', username: user, password: `${user}-secret` }, logLevel: logLevel.NOTHING, retry: { retries: 2 } });
}

async function aliceProduces(): Promise<void> {
  const producer = kafka('alice').producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // One record to each partition: every broker leads one of them.
    await producer.send({ topic: 'guarded', acks: -1, messages: [0, 1, 2].map((partition) => ({ partition, value: `p${partition}` })) });
  } finally {
    await producer.disconnect();
  }
}

async function describedBy(brokerAddress: string): Promise<number> {
  const admin = kafka('broker', [brokerAddress]).admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeAcls({
      resourceType: AclResourceTypes.TOPIC,
      resourceName: 'guarded',
      resourcePatternType: ResourcePatternTypes.LITERAL,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    return resources.flatMap(({ acls }) => acls).length;
  } finally {
    await admin.disconnect();
  }
}

describe('ACLs in a cluster', () => {
  it('enforces an ACL created through one broker on every broker, and its deletion through another', async () => {
    const [first, , third] = cluster.bootstrapServers.split(',');
    const admin = kafka('broker', [first!]).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'guarded', replicaAssignment: [0, 1, 2].map((partition) => ({ partition, replicas: [1, 2, 3].map((_, i) => ((partition + i) % 3) + 1) })) }], waitForLeaders: true });
    // The followers fetch as the super user: a full ISR says the authorizer lets them.
    await waitUntil(async () => {
      const { topics } = await admin.fetchTopicMetadata({ topics: ['guarded'] });
      return topics[0]!.partitions.every((partition) => partition.isr.length === 3);
    }, 'every ISR to hold 3 replicas', 60_000);

    await expect(aliceProduces()).rejects.toThrow(/Topic authorization failed/);
    await admin.createAcls({ acl: [ALICE_WRITES] });
    await admin.disconnect();
    // Kept in etcd: each broker's watch delivers it.
    for (const address of cluster.bootstrapServers.split(',')) await waitUntil(async () => (await describedBy(address)) === 1, `the ACL on ${address}`);
    await aliceProduces();

    const other = kafka('broker', [third!]).admin();
    await other.connect();
    const deleted = await other.deleteAcls({ filters: [ALICE_WRITES] });
    await other.disconnect();
    expect(deleted.filterResponses[0]!.matchingAcls).toHaveLength(1);
    for (const address of cluster.bootstrapServers.split(',')) await waitUntil(async () => (await describedBy(address)) === 0, `no ACL on ${address}`);
    await expect(aliceProduces()).rejects.toThrow(/Topic authorization failed/);
  });
});
