// A 3-broker cluster whose one listener is SSL with client certificates required
// (listener.security.protocol.map PLAINTEXT:SSL, as startCluster names its listener PLAINTEXT):
// the brokers replicate to each other over TLS, presenting their own key store as their client
// certificate, so the ISR fills; kafkajs and kcat produce with acks=all and read back over TLS.
// Then the cluster moves to another authority without a restart (KIP-226), in Kafka's order (each
// broker's key store, then each one's trust store: renewing both at once fails the handshake
// checks of a renewal and is refused), and a restarted broker rejoins the ISR only if every broker
// presents its renewed key store on its connections to its peers too.
import fs from 'node:fs';
import tls from 'node:tls';

import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { KafkaClient } from '../../src/client/client.js';
import { tlsOptions } from '../../src/client/tls-config.js';
import { CONFIG_RESOURCE_TYPE } from '../../src/protocol/apis/describe-configs.js';
import { kcat } from '../fixtures/kcat.js';
import { makeTlsFiles, STORE_PASSWORD, type TlsFiles } from '../fixtures/tls-certs.js';
import { waitUntil } from '../helpers.js';

let files: TlsFiles;
let cluster: LocalCluster;

beforeAll(async () => {
  files = makeTlsFiles();
  cluster = await startCluster({
    brokers: 3,
    config: {
      'listener.security.protocol.map': 'PLAINTEXT:SSL',
      'ssl.keystore.type': 'PKCS12',
      'ssl.keystore.location': files.clusterP12,
      'ssl.keystore.password': STORE_PASSWORD,
      'ssl.truststore.type': 'PEM',
      // Both authorities at first, so that each broker can be moved to the second in turn.
      'ssl.truststore.location': files.caBothPem,
      'ssl.client.auth': 'required',
      'min.insync.replicas': 2,
    },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

function kafka(): Kafka {
  const read = (file: string) => fs.readFileSync(file, 'utf8');
  const alice = files.client('alice');
  return new Kafka({ clientId: 'tls-cluster', brokers: cluster.bootstrapServers.split(','), ssl: { ca: [read(files.caPem)], key: read(alice.key), cert: read(alice.cert) }, logLevel: logLevel.NOTHING, retry: { retries: 5 } });
}

describe('a TLS cluster', () => {
  it('replicates over TLS: the ISR fills, acks=all writes are acknowledged and read back', async () => {
    const client = kafka();
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'tls-replicated', numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    // A new topic's ISR holds every replica; a follower that could not fetch would leave it later.
    await waitUntil(async () => {
      const [topic] = (await admin.fetchTopicMetadata({ topics: ['tls-replicated'] })).topics;
      return topic!.partitions.every((partition) => partition.isr.length === 3);
    }, 'every partition\'s ISR to hold all 3 brokers', 60_000);
    await admin.disconnect();
    const producer = client.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    // acks=all is answered once the high watermark covers the batch: once both followers, fetching
    // from the leader over TLS with their own certificate, have it.
    await producer.send({ topic: 'tls-replicated', acks: -1, messages: [0, 1, 2].map((partition) => ({ partition, value: `p${partition}` })) });
    await producer.disconnect();
    const alice = files.client('alice');
    const read = await kcat(['-C', '-b', cluster.bootstrapServers, '-t', 'tls-replicated', '-o', 'beginning', '-c', '3', '-e', '-f', '%p:%s\n',
      '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${files.caPem}`, '-X', `ssl.certificate.location=${alice.cert}`, '-X', `ssl.key.location=${alice.key}`]);
    expect(read.stdout.split('\n').filter((line) => line !== '').sort()).toEqual(['0:p0', '1:p1', '2:p2']);
  }, 120_000);

  it('moves to another authority without a restart: a restarted broker rejoins the ISR over connections with the renewed stores', async () => {
    const secondAuthority = { 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': files.clusterCa2P12, 'ssl.keystore.password': STORE_PASSWORD };
    const admin = await KafkaClient.connect({ brokers: cluster.bootstrapServers.split(','), tls: tlsOptions({ ...secondAuthority, 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': files.caBothPem }) });
    // Both stores at once would cut the broker off from the others, which present the first
    // authority's certificates: the renewal's handshakes with the current stores refuse it (Kafka's
    // SslEngineValidator), and the broker keeps serving what it served.
    await expect(admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, '1', [
      { name: 'ssl.keystore.location', value: files.clusterCa2P12 },
      { name: 'ssl.truststore.location', value: files.ca2Pem },
    ])).rejects.toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/Validation of dynamic config update of SSLFactory failed: a broker with the new stores and one with the current ones cannot connect/) });
    // Kafka's order: every broker trusts both authorities (from the start here), then each presents
    // a certificate of the second (the same subject and names), then each trusts the second alone.
    for (const broker of cluster.brokers) {
      await admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, String(broker.id), [{ name: 'ssl.keystore.location', value: files.clusterCa2P12 }]);
    }
    for (const broker of cluster.brokers) {
      await admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, String(broker.id), [{ name: 'ssl.truststore.location', value: files.ca2Pem }]);
    }
    const issuerServedBy = (broker: { host: string; port: number }) => new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: broker.host, port: broker.port, ca: fs.readFileSync(files.caBothPem), pfx: fs.readFileSync(files.clusterCa2P12), passphrase: STORE_PASSWORD }, () => {
        resolve(String(socket.getPeerCertificate().issuer.CN));
        socket.destroy();
      });
      socket.on('error', reject);
    });
    await waitUntil(async () => (await Promise.all(cluster.brokers.map(issuerServedBy))).every((issuer) => issuer === 'sluice second test authority'),
      'every broker to serve its renewed key store', 30_000);
    // Broker 3 leaves the ISR and comes back: its fetchers and the leaders' connections to it are
    // new, and each end now refuses a certificate of the first authority.
    const isrOf = async () => (await admin.metadata(['tls-replicated'])).topics[0]!.partitions.map((partition) => partition.isr);
    await cluster.stopBroker(3);
    await waitUntil(async () => (await isrOf()).every((isr) => !isr.includes(3)), 'broker 3 to leave every ISR', 60_000);
    await cluster.restartBroker(3);
    await waitUntil(async () => (await isrOf()).every((isr) => isr.length === 3), 'broker 3 to rejoin every ISR', 60_000);
    admin.close();
  }, 180_000);
});
