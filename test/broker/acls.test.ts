// ACLs on a broker process with Kafka's authorizer (authorizer.class.name=StandardAuthorizer,
// super.users=User:admin) and a SASL/PLAIN listener, with real clients: kafkajs' admin creates,
// describes and deletes ACLs as the super user; kafkajs, kcat (librdkafka) and @platformatic/kafka
// logged in as alice are refused what no ACL allows (TOPIC_ / GROUP_ / CLUSTER_AUTHORIZATION_FAILED)
// and served once one does; a DENY wins; Metadata lists only the topics alice may describe; ACLs
// outlive a restart. A broker without an authorizer answers the ACL APIs SECURITY_DISABLED.
import { Consumer, MessagesStreamModes, Producer as PlatformaticProducer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ConfigResourceTypes, Kafka, logLevel, ResourcePatternTypes, type AclEntry } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { kcat } from '../fixtures/kcat.js';
import { tempDir } from '../helpers.js';

const JAAS =
  'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret" user_bob="bob-secret";';
const CONFIG = {
  listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
  'sasl.enabled.mechanisms': 'PLAIN',
  'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
  'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  'super.users': 'User:admin',
  'group.initial.rebalance.delay.ms': 0,
};
const PASSWORDS: Record<string, string> = { admin: 'admin-secret', alice: 'alice-secret', bob: 'bob-secret' };

const dataDir = tempDir();
let broker: BrokerProcess;
let open: BrokerProcess;

beforeAll(async () => {
  [broker, open] = await Promise.all([startBrokerProcess(dataDir, CONFIG), startBrokerProcess(tempDir())]);
  const admin = kafka('admin').admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders' }, { topic: 'orders-eu' }, { topic: 'payments' }, { topic: 'secrets' }] });
  await admin.disconnect();
});

afterAll(async () => {
  await Promise.all([broker?.stop(), open?.stop()]);
});

function kafka(user: string, port = broker.port, retries = 0) {
  return new Kafka({
    clientId: `acl-${user}`,
    brokers: [`127.0.0.1:${port}`],
    sasl: port === broker.port ? { mechanism: 'plain', username: user, password: PASSWORDS[user]! } : undefined,
    logLevel: logLevel.NOTHING,
    retry: { retries },
  });
}

function allow(fields: Partial<AclEntry>): AclEntry {
  return {
    resourceType: AclResourceTypes.TOPIC,
    resourceName: 'orders',
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: 'User:alice',
    host: '*',
    operation: AclOperationTypes.READ,
    permissionType: AclPermissionTypes.ALLOW,
    ...fields,
  };
}

async function asAdmin<T>(user: string, task: (admin: ReturnType<Kafka['admin']>) => Promise<T>, port?: number): Promise<T> {
  const admin = kafka(user, port).admin();
  await admin.connect();
  try {
    return await task(admin);
  } finally {
    await admin.disconnect();
  }
}

function kcatLogin(user: string): string[] {
  return ['-b', `127.0.0.1:${broker.port}`, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${user}`, '-X', `sasl.password=${PASSWORDS[user]}`];
}

async function produce(user: string, topic: string, value: string): Promise<void> {
  const producer = kafka(user).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ value }] });
  } finally {
    await producer.disconnect();
  }
}

describe('ACLs', () => {
  it('refuses alice what no ACL allows, and serves her once the super user adds one (kafkajs)', async () => {
    await expect(produce('alice', 'orders', 'denied')).rejects.toThrow(/Topic authorization failed/);
    // Only the super user (or ALTER on the cluster) may change ACLs.
    await expect(asAdmin('bob', (admin) => admin.createAcls({ acl: [allow({ principal: 'User:bob' })] }))).rejects.toThrow(/Cluster authorization failed|CLUSTER_AUTHORIZATION_FAILED/i);

    await asAdmin('admin', (admin) => admin.createAcls({ acl: [allow({ operation: AclOperationTypes.WRITE, resourceName: 'orders', resourcePatternType: ResourcePatternTypes.PREFIXED })] }));
    await produce('alice', 'orders', 'one');
    await produce('alice', 'orders-eu', 'two');
    await expect(produce('alice', 'payments', 'denied')).rejects.toThrow(/Topic authorization failed/);

    const described = await asAdmin('admin', (admin) =>
      admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      }),
    );
    expect(described.resources).toEqual([
      {
        resourceType: AclResourceTypes.TOPIC,
        resourceName: 'orders',
        resourcePatternType: ResourcePatternTypes.PREFIXED,
        acls: [{ principal: 'User:alice', host: '*', operation: AclOperationTypes.WRITE, permissionType: AclPermissionTypes.ALLOW }],
      },
    ]);
  });

  it('consumes in a group only with READ on the group and the topic, and lists only describable topics', async () => {
    // kafkajs' admin finds the coordinator among the brokers of its last metadata: it loads some first.
    const fetchOffsets = () =>
      asAdmin('alice', async (admin) => {
        await admin.fetchTopicMetadata({ topics: ['orders'] });
        return admin.fetchOffsets({ groupId: 'alice-group', topics: ['orders'] });
      });
    // kafkajs hides the coordinator's error behind "No brokers in the broker pool"; librdkafka names it.
    const grouped = await kcat([...kcatLogin('alice'), '-G', 'alice-group', 'orders', '-c', '1', '-e'], '', 8_000);
    expect(grouped.stderr).toMatch(/Group authorization failed/i);
    await asAdmin('admin', (admin) =>
      admin.createAcls({ acl: [allow({ operation: AclOperationTypes.READ }), allow({ resourceType: AclResourceTypes.GROUP, resourceName: 'alice-group' })] }),
    );
    const consumer = kafka('alice').consumer({ groupId: 'alice-group', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    const values: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      void consumer.run({
        eachMessage: async ({ message }) => {
          values.push(message.value!.toString());
          if (values.length === 1) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(values).toEqual(['one']);
    // The commit went through: READ on the group and the topic.
    const [offsets] = await fetchOffsets();
    expect(offsets!.partitions[0]!.offset).toBe('1');

    // Metadata for every topic lists what alice may describe (WRITE and READ imply DESCRIBE).
    const topics = await asAdmin('alice', (admin) => admin.listTopics());
    expect(topics.sort()).toEqual(['orders', 'orders-eu']);
    const adminTopics = await asAdmin('admin', (admin) => admin.listTopics());
    expect(adminTopics).toEqual(expect.arrayContaining(['orders', 'orders-eu', 'payments', 'secrets']));
  });

  it('lets a DENY win over an ALLOW, and deleting the ACL restores access (kcat)', async () => {
    const read = () => kcat([...kcatLogin('alice'), '-C', '-t', 'orders', '-o', 'beginning', '-c', '1', '-e'], '', 20_000);
    const allowed = await read();
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout.trim()).toBe('one');

    const deny = allow({ operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.DENY });
    await asAdmin('admin', (admin) => admin.createAcls({ acl: [deny] }));
    const denied = await read();
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/authoriz/i);
    // Producing is still allowed: the DENY is of READ only.
    const produced = await kcat([...kcatLogin('alice'), '-P', '-t', 'orders'], 'three\n');
    expect(produced.code, produced.stderr).toBe(0);

    const deleted = await asAdmin('admin', (admin) =>
      admin.deleteAcls({ filters: [{ ...deny, resourcePatternType: ResourcePatternTypes.LITERAL }] }),
    );
    expect(deleted.filterResponses[0]!.matchingAcls).toHaveLength(1);
    const again = await read();
    expect(again.code, again.stderr).toBe(0);
  });

  it('refuses @platformatic/kafka as bob, and serves it once bob may write', async () => {
    const sasl = { mechanism: 'PLAIN' as const, username: 'bob', password: PASSWORDS.bob! };
    const producer = new PlatformaticProducer({ clientId: 'acl-platformatic', bootstrapBrokers: [`127.0.0.1:${broker.port}`], serializers: stringSerializers, sasl, retries: 0 });
    try {
      await expect(producer.send({ messages: [{ topic: 'payments', value: 'x' }] })).rejects.toThrow();
      await asAdmin('admin', (admin) =>
        admin.createAcls({
          acl: [
            allow({ principal: 'User:bob', resourceName: 'payments', operation: AclOperationTypes.WRITE }),
            allow({ principal: 'User:bob', resourceName: 'payments', operation: AclOperationTypes.READ }),
            allow({ principal: 'User:bob', resourceType: AclResourceTypes.GROUP, resourceName: 'bob-group' }),
            // @platformatic/kafka's producer is idempotent: InitProducerId takes IDEMPOTENT_WRITE or WRITE on a topic (it has the latter).
          ],
        }),
      );
      await producer.send({ messages: [{ topic: 'payments', value: 'x' }] });
    } finally {
      await producer.close();
    }
    const consumer = new Consumer({ groupId: 'bob-group', clientId: 'acl-platformatic', bootstrapBrokers: [`127.0.0.1:${broker.port}`], deserializers: stringDeserializers, maxWaitTime: 200, sasl });
    const stream = await consumer.consume({ topics: ['payments'], mode: MessagesStreamModes.EARLIEST });
    const values: string[] = [];
    for await (const message of stream) {
      values.push(message.value as string);
      break;
    }
    await stream.close();
    await consumer.close();
    expect(values).toEqual(['x']);
  });

  it('checks admin operations: CREATE, DELETE and DESCRIBE_CONFIGS on topics, DESCRIBE on groups, and transactional ids', async () => {
    // CREATE does not imply DESCRIBE, so kafkajs must not wait for the leaders through Metadata.
    const createTopic = () => asAdmin('bob', (admin) => admin.createTopics({ topics: [{ topic: 'bob-topic' }], waitForLeaders: false }));
    await expect(createTopic()).rejects.toMatchObject({ message: 'Topic creation errors', errors: [expect.objectContaining({ type: 'TOPIC_AUTHORIZATION_FAILED' })] });
    const describeConfigs = () => asAdmin('bob', (admin) => admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'bob-topic' }], includeSynonyms: false }));
    // bob may create topics named bob-*, and alter (so describe) their configs.
    await asAdmin('admin', (admin) =>
      admin.createAcls({
        acl: [
          allow({ principal: 'User:bob', resourceName: 'bob-', resourcePatternType: ResourcePatternTypes.PREFIXED, operation: AclOperationTypes.CREATE }),
          allow({ principal: 'User:bob', resourceName: 'bob-', resourcePatternType: ResourcePatternTypes.PREFIXED, operation: AclOperationTypes.ALTER_CONFIGS }),
        ],
      }),
    );
    await createTopic();
    const described = await describeConfigs();
    expect(described.resources[0]).toMatchObject({ errorCode: 0, resourceName: 'bob-topic' });
    // DELETE is another operation: still refused.
    await expect(asAdmin('bob', (admin) => admin.deleteTopics({ topics: ['bob-topic'] }))).rejects.toThrow(/Topic authorization failed|TOPIC_AUTHORIZATION_FAILED/i);

    // Groups: bob lists only the groups he may describe (bob-group, from the last test), not alice's.
    const { groups } = await asAdmin('bob', (admin) => admin.listGroups());
    expect(groups.map(({ groupId }) => groupId)).toEqual(['bob-group']);

    // A transactional producer needs WRITE on its transactional id.
    const transactional = kafka('bob', broker.port, 2).producer({ transactionalId: 'bob-tx', maxInFlightRequests: 1, idempotent: true });
    await transactional.connect();
    // FindCoordinator answers TRANSACTIONAL_ID_AUTHORIZATION_FAILED; kafkajs reports it as "Failed to find group coordinator".
    await expect(transactional.transaction()).rejects.toThrow(/Failed to find group coordinator|Transactional Id authorization failed/);
    await transactional.disconnect();
    await asAdmin('admin', (admin) => admin.createAcls({ acl: [allow({ principal: 'User:bob', resourceType: AclResourceTypes.TRANSACTIONAL_ID, resourceName: 'bob-tx', operation: AclOperationTypes.WRITE })] }));
    const allowed = kafka('bob', broker.port, 2).producer({ transactionalId: 'bob-tx', maxInFlightRequests: 1, idempotent: true });
    await allowed.connect();
    const transaction = await allowed.transaction();
    await transaction.send({ topic: 'payments', messages: [{ value: 'in a transaction' }] });
    await transaction.commit();
    await allowed.disconnect();
  });

  it('keeps the ACLs across a restart', async () => {
    await broker.stop();
    broker = await startBrokerProcess(dataDir, CONFIG);
    await produce('alice', 'orders-eu', 'after restart');
    await expect(produce('alice', 'secrets', 'denied')).rejects.toThrow(/Topic authorization failed/);
  });

  it('answers SECURITY_DISABLED without an authorizer', async () => {
    await expect(
      asAdmin('admin', (admin) => admin.describeAcls({ resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY }), open.port),
    ).rejects.toThrow(/Security features are disabled|SECURITY_DISABLED/i);
  });
});
