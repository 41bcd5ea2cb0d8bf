// Several secured listeners on one broker, as a server.properties with SSL beside SASL_SSL and
// SASL_PLAINTEXT has them. Each is served with its own settings (listener.name.NAME.* over the
// broker's): its own key store and client authentication, its own SASL users, checked with real
// clients (kcat, kafkajs) on each. A key store renewed for one listener (KIP-226) leaves the others
// as they were, and a listener-prefixed store for a listener without TLS is refused. In a cluster
// the brokers replicate over the secured listener inter.broker.listener.name names, with its stores,
// while clients log in on another.
import crypto from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';

import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { KafkaClient } from '../../src/client/client.js';
import { startEtcd } from '../../src/cluster/etcd-process.js';
import { CONFIG_RESOURCE_TYPE } from '../../src/protocol/apis/describe-configs.js';
import { kcat } from '../fixtures/kcat.js';
import { makeTlsFiles, STORE_PASSWORD, type TlsFiles } from '../fixtures/tls-certs.js';
import { tempDir, waitUntil } from '../helpers.js';

let files: TlsFiles;
let broker: Broker;

const plainUsers = (users: Record<string, string>) =>
  `org.apache.kafka.common.security.plain.PlainLoginModule required ${Object.entries(users).map(([user, password]) => `user_${user}="${password}"`).join(' ')};`;

beforeAll(async () => {
  files = makeTlsFiles();
  broker = await startBroker({
    dataDir: tempDir(),
    config: {
      listeners: 'SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      // The broker's stores serve SSL; SASL_SSL has a key store of its own.
      'ssl.keystore.location': files.brokerP12,
      'ssl.keystore.password': STORE_PASSWORD,
      'ssl.truststore.location': files.trustP12,
      'ssl.truststore.password': STORE_PASSWORD,
      'listener.name.sasl_ssl.ssl.keystore.location': files.brokerRenewedP12,
      'listener.name.sasl_ssl.ssl.keystore.password': STORE_PASSWORD,
      'listener.name.ssl.ssl.client.auth': 'required',
      'sasl.enabled.mechanisms': 'PLAIN',
      'listener.name.sasl_ssl.plain.sasl.jaas.config': plainUsers({ alice: 'alice-secret' }),
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': plainUsers({ bob: 'bob-secret' }),
      'group.initial.rebalance.delay.ms': 0,
    },
  });
});

afterAll(async () => {
  await broker?.stop();
});

/** The serial number of the certificate a listener presents to a new connection (presenting alice's where asked). */
async function servedSerial(port: number, clientCertificate = false): Promise<string> {
  const alice = files.client('alice');
  const presented = clientCertificate ? { key: fs.readFileSync(alice.key), cert: fs.readFileSync(alice.cert) } : {};
  const socket = tls.connect({ host: '127.0.0.1', port, ca: fs.readFileSync(files.caPem), ...presented, checkServerIdentity: () => undefined });
  try {
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    return socket.getPeerCertificate().serialNumber;
  } finally {
    socket.destroy();
  }
}

const serialOf = (pem: string) => new crypto.X509Certificate(fs.readFileSync(`${files.dir}/${pem}`)).serialNumber;

function ports(): { ssl: number; saslSsl: number; saslPlaintext: number } {
  const { SSL: ssl, SASL_SSL: saslSsl, SASL_PLAINTEXT: saslPlaintext } = broker.listenerPorts;
  return { ssl: ssl!, saslSsl: saslSsl!, saslPlaintext: saslPlaintext! };
}

const plainLogin = (protocol: string, user: string, password: string) => ['-X', `security.protocol=${protocol}`, '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`];

describe('several secured listeners', () => {
  it('serves SSL, SASL_SSL and SASL_PLAINTEXT at once, each with its own key store, client authentication and users', async () => {
    const { ssl, saslSsl, saslPlaintext } = ports();
    // The first secured listener is the broker's own; each listener has a port of its own.
    expect(broker.port).toBe(ssl);
    expect(new Set([ssl, saslSsl, saslPlaintext]).size).toBe(3);
    expect(await servedSerial(ssl, true)).toBe(serialOf('broker.pem'));
    expect(await servedSerial(saslSsl)).toBe(serialOf('broker-renewed.pem'));

    // SSL requires a client certificate (its own ssl.client.auth): kcat produces there as alice.
    const alice = files.client('alice');
    const sslClient = ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${files.caPem}`];
    const produced = await kcat(['-P', '-b', `127.0.0.1:${ssl}`, ...sslClient, '-X', `ssl.certificate.location=${alice.cert}`, '-X', `ssl.key.location=${alice.key}`, '-t', 'audit', '-p', '0'], 'one\ntwo\n');
    expect(produced.code, produced.stderr).toBe(0);
    const noCertificate = await kcat(['-L', '-b', `127.0.0.1:${ssl}`, ...sslClient, '-m', '3']);
    expect(noCertificate.code).not.toBe(0);

    // SASL_SSL: alice's login over TLS with the listener's own store, no client certificate needed.
    const kafka = new Kafka({
      clientId: 'secured-listeners',
      brokers: [`localhost:${saslSsl}`],
      ssl: { ca: [fs.readFileSync(files.caPem, 'utf8')] },
      sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' },
      logLevel: logLevel.NOTHING,
    });
    const consumer = kafka.consumer({ groupId: 'auditors' });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: 'audit', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    try {
      await waitUntil(() => seen.length >= 2, 'the SASL_SSL group reads the records produced over SSL');
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toEqual(['one', 'two']);

    // Each SASL listener has its own users: bob on SASL_PLAINTEXT, alice on SASL_SSL only.
    const read = await kcat(['-C', '-b', `127.0.0.1:${saslPlaintext}`, ...plainLogin('SASL_PLAINTEXT', 'bob', 'bob-secret'), '-t', 'audit', '-p', '0', '-o', 'beginning', '-e', '-f', '%s\n']);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).toBe('one\ntwo\n');
    const aliceInPlaintext = await kcat(['-L', '-b', `127.0.0.1:${saslPlaintext}`, ...plainLogin('SASL_PLAINTEXT', 'alice', 'alice-secret'), '-m', '3']);
    expect(aliceInPlaintext.code).not.toBe(0);
    const bobOverTls = await kcat(['-L', '-b', `127.0.0.1:${saslSsl}`, ...plainLogin('SASL_SSL', 'bob', 'bob-secret'), '-X', `ssl.ca.location=${files.caPem}`, '-m', '3']);
    expect(bobOverTls.code).not.toBe(0);
  });

  it("renews one listener's key store and leaves the other's, and refuses a store for a listener without TLS", async () => {
    const { ssl, saslSsl, saslPlaintext } = ports();
    const admin = await KafkaClient.connect({ brokers: [`127.0.0.1:${saslPlaintext}`], sasl: { mechanism: 'PLAIN', username: 'bob', password: 'bob-secret' } });
    try {
      const nodeId = String(broker.settings.nodeId);
      await expect(admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, nodeId, [{ name: 'listener.name.sasl_plaintext.ssl.keystore.location', value: files.brokerP12 }]))
        .rejects.toThrow(/listener\.name\.sasl_plaintext\.ssl\.keystore\.location names no served SSL or SASL_SSL listener/);
      // Another subject for SASL_SSL is refused against SASL_SSL's own certificate.
      await expect(admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, nodeId, [{ name: 'listener.name.sasl_ssl.ssl.keystore.location', value: files.clusterP12 }]))
        .rejects.toThrow(/Keystore DistinguishedName does not match/);

      // SASL_SSL's own store renewed: SSL keeps the broker's.
      await admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, nodeId, [{ name: 'listener.name.sasl_ssl.ssl.keystore.location', value: files.brokerP12 }]);
      expect(await servedSerial(saslSsl)).toBe(serialOf('broker.pem'));
      expect(await servedSerial(ssl, true)).toBe(serialOf('broker.pem'));
      // The broker's store renewed: SSL, which reads it, takes it; SASL_SSL keeps its own.
      await admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, nodeId, [{ name: 'ssl.keystore.location', value: files.brokerRenewedP12 }]);
      expect(await servedSerial(ssl, true)).toBe(serialOf('broker-renewed.pem'));
      expect(await servedSerial(saslSsl)).toBe(serialOf('broker.pem'));
    } finally {
      admin.close();
    }
  });

  it('in a cluster, replicates over an SSL inter-broker listener with its own stores while clients log in over SASL_SSL', async () => {
    const etcd = await startEtcd();
    // EXTERNAL's certificate comes from the second authority, which INTERNAL does not trust: a
    // broker presenting it to a peer instead of INTERNAL's would be refused.
    const store = (listener: string, file: string) => ({
      [`listener.name.${listener}.ssl.keystore.location`]: file,
      [`listener.name.${listener}.ssl.keystore.password`]: STORE_PASSWORD,
    });
    const start = (id: number) =>
      startBroker({
        dataDir: tempDir(),
        config: {
          'broker.id': id,
          'sluice.etcd.endpoints': etcd.endpoints.join(','),
          listeners: `EXTERNAL://127.0.0.${id + 1}:0,INTERNAL://127.0.0.${id + 1}:0`,
          'listener.security.protocol.map': 'EXTERNAL:SASL_SSL,INTERNAL:SSL',
          'inter.broker.listener.name': 'INTERNAL',
          ...store('external', files.clusterCa2P12),
          ...store('internal', files.clusterP12),
          'ssl.truststore.location': files.caPem,
          'ssl.truststore.type': 'PEM',
          // The brokers present INTERNAL's key store as their client certificate.
          'listener.name.internal.ssl.client.auth': 'required',
          'sasl.enabled.mechanisms': 'PLAIN',
          'listener.name.external.plain.sasl.jaas.config': plainUsers({ alice: 'alice-secret' }),
          'broker.session.timeout.ms': 3000,
        },
      });
    const members: Broker[] = [];
    try {
      members.push(...(await Promise.all([start(1), start(2)])));
      const [one, two] = members as [Broker, Broker];
      await waitUntil(() => one.cluster!.liveBrokers.length === 2 && two.cluster!.liveBrokers.length === 2, 'both brokers registered');
      // What the brokers fetch from each other at: the INTERNAL endpoint.
      expect(one.cluster!.endpointOf(2)).toMatchObject({ host: '127.0.0.3', port: two.listenerPorts.INTERNAL });

      const external = (broker: Broker, id: number) => `127.0.0.${id + 1}:${broker.listenerPorts.EXTERNAL}`;
      const kafka = new Kafka({
        clientId: 'secured-cluster',
        brokers: [external(one, 1)],
        ssl: { ca: [fs.readFileSync(files.ca2Pem, 'utf8')] },
        sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' },
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'replicated', numPartitions: 1, replicationFactor: 2 }], waitForLeaders: true });
      await admin.disconnect();
      // acks=all is answered once the follower, fetching over INTERNAL with its certificate, has the batch.
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      await producer.send({ topic: 'replicated', acks: -1, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
      await producer.disconnect();
      const login = [...plainLogin('SASL_SSL', 'alice', 'alice-secret'), '-X', `ssl.ca.location=${files.ca2Pem}`];
      const described = await kcat(['-L', '-J', '-b', external(two, 2), ...login, '-t', 'replicated']);
      expect(described.code, described.stderr).toBe(0);
      const partition = (JSON.parse(described.stdout) as { topics: Array<{ partitions: Array<{ leader: number; isrs: Array<{ id: number }> }> }> }).topics[0]!.partitions[0]!;
      expect(partition.isrs.map(({ id }) => id).sort()).toEqual([1, 2]);
      const read = await kcat(['-C', '-b', external(two, 2), ...login, '-t', 'replicated', '-p', '0', '-o', 'beginning', '-e', '-f', '%s\n']);
      expect(read.stdout, read.stderr).toBe('a\nb\nc\n');
      const follower = partition.leader === 1 ? two : one;
      // The follower's own log holds them: it fetched over INTERNAL.
      await waitUntil(() => follower.engine.latestOffset('replicated', 0) === 3, 'the follower holds the 3 records');
    } finally {
      await Promise.all(members.map((member) => member.stop()));
      await etcd.stop();
    }
  });
});
