// Several listeners on one broker, as Kafka's Docker images and most server.properties have them:
// an internal and an external PLAINTEXT listener with different advertised hosts, or a PLAINTEXT
// listener beside a SASL one. Each client is answered (Metadata, FindCoordinator) with the
// endpoints of the listener it came in on, across a cluster too, and each listener keeps its own
// security: real clients (kcat, kafkajs, @platformatic/kafka) on each.
import { Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { startEtcd, type EtcdCluster } from '../../src/cluster/etcd-process.js';
import { startBroker, type Broker } from '../../src/index.js';
import { kcat } from '../fixtures/kcat.js';
import { tempDir, waitUntil } from '../helpers.js';

const INTERNAL_EXTERNAL = {
  'listener.security.protocol.map': 'INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT',
  'group.initial.rebalance.delay.ms': 0,
};

let brokers: Broker[] = [];
let etcd: EtcdCluster | undefined;
afterEach(async () => {
  await Promise.all(brokers.map((broker) => broker.stop()));
  brokers = [];
  await etcd?.stop();
  etcd = undefined;
});

/** The brokers a kcat Metadata request through `address` lists, as id -> host:port. */
async function metadataBrokers(address: string, settings: string[] = []): Promise<Record<number, string>> {
  const { code, stdout, stderr } = await kcat(['-L', '-J', '-b', address, '-m', '10', ...settings]);
  expect(code, stderr).toBe(0);
  const listed = (JSON.parse(stdout) as { brokers: Array<{ id: number; name: string }> }).brokers;
  return Object.fromEntries(listed.map(({ id, name }) => [id, name]));
}

describe('several listeners', () => {
  it('answers each client with the endpoints of the listener it came in on, and serves records across them', async () => {
    const broker = await startBroker({
      dataDir: tempDir(),
      config: { ...INTERNAL_EXTERNAL, listeners: 'INTERNAL://127.0.0.1:0,EXTERNAL://:0', 'advertised.listeners': 'INTERNAL://127.0.0.1:0,EXTERNAL://localhost:0' },
    });
    brokers.push(broker);
    const { INTERNAL: internal, EXTERNAL: external } = broker.listenerPorts;
    expect(internal).toBe(broker.port);
    expect(external).toBeGreaterThan(0);
    expect(external).not.toBe(internal);

    expect(await metadataBrokers(`127.0.0.1:${internal}`)).toEqual({ 1: `127.0.0.1:${internal}` });
    expect(await metadataBrokers(`127.0.0.1:${external}`)).toEqual({ 1: `localhost:${external}` });
    for (const [port, host] of [[internal, '127.0.0.1'], [external, 'localhost']] as const) {
      const client = await KafkaClient.connect({ brokers: [`127.0.0.1:${port}`] });
      try {
        expect(await client.findCoordinator('orders')).toMatchObject({ nodeId: 1, host, port });
      } finally {
        await client.close();
      }
    }

    // Produced through the external listener, read back by a group on the internal one.
    const outside = new Kafka({ clientId: 'outside', brokers: [`localhost:${external}`], logLevel: logLevel.NOTHING });
    await outside.admin().connect();
    const producer = outside.producer();
    await producer.connect();
    await producer.send({ topic: 'orders', messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `order ${i}` })) });
    await producer.disconnect();
    const inside = new Kafka({ clientId: 'inside', brokers: [`127.0.0.1:${internal}`], logLevel: logLevel.NOTHING });
    const consumer = inside.consumer({ groupId: 'billing' });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    try {
      await waitUntil(() => seen.length >= 20, 'the group reads the 20 records');
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => `order ${i}`));

    // A group of @platformatic/kafka's on the external listener: its coordinator is found there too.
    const platformatic = new Consumer({ groupId: 'audit', clientId: 'audit', bootstrapBrokers: [`localhost:${external}`], deserializers: stringDeserializers, maxWaitTime: 200 });
    const stream = await platformatic.consume({ topics: ['orders'], mode: MessagesStreamModes.EARLIEST });
    const audited: string[] = [];
    try {
      for await (const message of stream) {
        audited.push(message.value as string);
        if (audited.length === 20) break;
      }
    } finally {
      await stream.close();
      await platformatic.close();
    }
    expect(audited).toEqual(seen);
  });

  it('keeps SASL on the SASL listener while a PLAINTEXT listener beside it serves without a login', async () => {
    const broker = await startBroker({
      dataDir: tempDir(),
      config: {
        listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config':
          'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_alice="alice-secret";',
      },
    });
    brokers.push(broker);
    // The secured listener is the broker's own; the PLAINTEXT one is served beside it.
    const { PLAINTEXT: plaintext, SASL_PLAINTEXT: sasl } = broker.listenerPorts;
    expect(broker.port).toBe(sasl);
    const login = ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=alice'];

    const produced = await kcat(['-P', '-b', `127.0.0.1:${sasl}`, ...login, '-X', 'sasl.password=alice-secret', '-t', 'audit', '-p', '0'], 'one\ntwo\n');
    expect(produced.code, produced.stderr).toBe(0);
    const read = await kcat(['-C', '-b', `127.0.0.1:${plaintext}`, '-t', 'audit', '-p', '0', '-o', 'beginning', '-e', '-f', '%s\n']);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).toBe('one\ntwo\n');
    expect(await metadataBrokers(`127.0.0.1:${plaintext}`)).toEqual({ 1: `127.0.0.1:${plaintext}` });

    const wrongPassword = await kcat(['-L', '-b', `127.0.0.1:${sasl}`, ...login, '-X', 'sasl.password=wrong', '-m', '3']);
    expect(wrongPassword.code).not.toBe(0);
    // A client without SASL on the SASL listener is not served there.
    const noLogin = await kcat(['-L', '-b', `127.0.0.1:${sasl}`, '-m', '3']);
    expect(noLogin.code).not.toBe(0);
  });

  it('in a cluster, lists every broker at its endpoint on the client listener, and replicates over inter.broker.listener.name', async () => {
    etcd = await startEtcd();
    // Clients log in on EXTERNAL (SASL, listed first); brokers reach each other on INTERNAL, so
    // they need no SASL login of their own (no sasl.mechanism.inter.broker.protocol).
    const start = (id: number) =>
      startBroker({
        dataDir: tempDir(),
        config: {
          'broker.id': id,
          'sluice.etcd.endpoints': etcd!.endpoints.join(','),
          listeners: `EXTERNAL://:0,INTERNAL://127.0.0.${id + 1}:0`,
          'listener.security.protocol.map': 'INTERNAL:PLAINTEXT,EXTERNAL:SASL_PLAINTEXT',
          'advertised.listeners': `INTERNAL://127.0.0.${id + 1}:0,EXTERNAL://localhost:0`,
          'inter.broker.listener.name': 'INTERNAL',
          'sasl.enabled.mechanisms': 'PLAIN',
          'listener.name.external.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";',
          'broker.session.timeout.ms': 3000,
        },
      });
    brokers = await Promise.all([start(1), start(2)]);
    const [one, two] = brokers as [Broker, Broker];
    const internal = (id: number, broker: Broker) => `127.0.0.${id + 1}:${broker.listenerPorts.INTERNAL}`;
    const external = (broker: Broker) => `localhost:${broker.listenerPorts.EXTERNAL}`;
    const login = ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=alice', '-X', 'sasl.password=alice-secret'];
    await waitUntil(async () => Object.keys(await metadataBrokers(internal(1, one))).length === 2, 'both brokers registered');
    expect(await metadataBrokers(internal(1, one))).toEqual({ 1: internal(1, one), 2: internal(2, two) });
    expect(await metadataBrokers(external(one), login)).toEqual({ 1: external(one), 2: external(two) });
    // What the brokers fetch from each other at: the INTERNAL endpoint.
    expect(one.cluster!.endpointOf(2)).toMatchObject({ host: '127.0.0.3', port: two.listenerPorts.INTERNAL });

    const outside = new Kafka({ clientId: 'outside', brokers: [external(one)], sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' }, logLevel: logLevel.NOTHING });
    const admin = outside.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'replicated', numPartitions: 1, replicationFactor: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = outside.producer();
    await producer.connect();
    await producer.send({ topic: 'replicated', acks: -1, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    await producer.disconnect();
    const read = await kcat(['-C', '-b', internal(2, two), '-t', 'replicated', '-p', '0', '-o', 'beginning', '-e', '-f', '%s\n']);
    expect(read.stdout, read.stderr).toBe('a\nb\nc\n');
    const described = await kcat(['-L', '-J', '-b', internal(2, two), '-t', 'replicated']);
    const partition = (JSON.parse(described.stdout) as { topics: Array<{ partitions: Array<{ isrs: Array<{ id: number }> }> }> }).topics[0]!.partitions[0]!;
    expect(partition.isrs.map(({ id }) => id).sort()).toEqual([1, 2]);
  });
});
