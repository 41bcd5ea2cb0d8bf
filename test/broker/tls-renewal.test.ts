// Renewing a TLS listener's certificate on a running broker (KIP-226): the key store is altered as
// a per-broker dynamic config, new connections are served the new certificate, connections already
// open keep theirs, and the change outlives a restart. A store that cannot be opened, the stores
// as a cluster-wide default, and a certificate for another subject or fewer names (unless
// ssl.allow.dn.changes, ssl.allow.san.changes) are refused and leave the listener as it was.
// DescribeConfigs never sends the passwords.
import crypto from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { KafkaClient } from '../../src/client/client.js';
import { tlsOptions } from '../../src/client/tls-config.js';
import { CONFIG_RESOURCE_TYPE } from '../../src/protocol/apis/describe-configs.js';
import { makeTlsFiles, STORE_PASSWORD, type TlsFiles } from '../fixtures/tls-certs.js';
import { tempDir } from '../helpers.js';

let files: TlsFiles;
let broker: Broker;
const dataDir = tempDir();

function config(): Record<string, string> {
  return { listeners: 'SSL://127.0.0.1:0', 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': files.brokerP12, 'ssl.keystore.password': STORE_PASSWORD };
}

beforeAll(async () => {
  files = makeTlsFiles();
  broker = await startBroker({ dataDir, config: config() });
});

afterAll(async () => {
  await broker?.stop();
});

/**
 * The serial number of the certificate the broker presents to a new connection (signed by the
 * authority; its names are not checked, as one of the stores below lacks 127.0.0.1).
 */
async function servedSerial(port: number): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca: fs.readFileSync(files.caPem), checkServerIdentity: () => undefined });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  const serial = socket.getPeerCertificate().serialNumber;
  socket.destroy();
  return serial;
}

const serialOf = (p12Pem: string) => new crypto.X509Certificate(fs.readFileSync(p12Pem)).serialNumber;

describe('renewing a TLS listener\'s certificate', () => {
  it('serves the new key store to new connections, keeps open ones, and keeps it across a restart', async () => {
    const trust = tlsOptions({ 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': files.caPem });
    const admin = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`], tls: trust });
    expect(await servedSerial(broker.port)).toBe(serialOf(files.dir + '/broker.pem'));
    const nodeId = String(broker.settings.nodeId);

    // Refused: the stores as a default for every broker, and a store that does not open.
    await expect(admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, '', [{ name: 'listener.name.ssl.ssl.keystore.location', value: files.clusterP12 }]))
      .rejects.toThrow(/broker id must be specified/);
    await expect(admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, nodeId, [{ name: 'listener.name.ssl.ssl.keystore.location', value: files.jks }]))
      .rejects.toThrow(/JKS store/);
    expect(await servedSerial(broker.port)).toBe(serialOf(files.dir + '/broker.pem'));

    // Refused as Kafka refuses them: another subject, names the old certificate had and the new
    // one lacks, and a trust store on a listener that had none.
    const keyStore = (file: string) => [{ name: 'listener.name.ssl.ssl.keystore.location', value: file }];
    await expect(admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, nodeId, keyStore(files.clusterP12)))
      .rejects.toThrow(/Keystore DistinguishedName does not match: existing=\{DN=CN=localhost,O=acme,C=US\}, new=\{DN=CN=cluster,O=acme,C=US\}/);
    await expect(admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, nodeId, keyStore(files.brokerNarrowedP12)))
      .rejects.toThrow(/Keystore SubjectAltNames do not match: existing=\{SAN=\[DNS:localhost, IP Address:127.0.0.1\]\}, new=\{SAN=\[DNS:localhost\]\}/);
    await expect(admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, nodeId, [{ name: 'ssl.truststore.location', value: files.caPem }, { name: 'ssl.truststore.type', value: 'PEM' }]))
      .rejects.toThrow(/Cannot add SSL truststore to an existing listener/);
    expect(await servedSerial(broker.port)).toBe(serialOf(files.dir + '/broker.pem'));

    await admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, nodeId, keyStore(files.brokerRenewedP12));
    expect(await servedSerial(broker.port)).toBe(serialOf(files.dir + '/broker-renewed.pem'));
    // Renewed in place (the file overwritten, the config set again): compared with the store the
    // listener serves, not with the file read again.
    const inPlace = `${files.dir}/in-place.p12`;
    fs.copyFileSync(files.brokerRenewedP12, inPlace);
    await admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, nodeId, keyStore(inPlace));
    fs.copyFileSync(files.clusterP12, inPlace);
    await expect(admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, nodeId, keyStore(inPlace))).rejects.toThrow(/Keystore DistinguishedName does not match/);
    fs.copyFileSync(files.brokerRenewedP12, inPlace);
    // The admin's connection, opened before, still works. Passwords and a listener's own settings
    // are described as Kafka describes them: sensitive, without their values.
    const described = new Map((await admin.describeConfigs(CONFIG_RESOURCE_TYPE.BROKER, nodeId, { synonyms: true })).map((entry) => [entry.name, entry]));
    expect(described.get('ssl.keystore.password')).toMatchObject({ value: null, isSensitive: true, synonyms: [{ value: null }] });
    expect(described.get('listener.name.ssl.ssl.keystore.location')).toMatchObject({ value: null, isSensitive: true });
    expect(described.get('ssl.keystore.type')).toMatchObject({ value: 'PKCS12', isSensitive: false });
    admin.close();

    await broker.stop();
    broker = await startBroker({ dataDir, config: config() });
    expect(await servedSerial(broker.port)).toBe(serialOf(files.dir + '/broker-renewed.pem'));
  });

  it('takes a certificate for another subject and names when ssl.allow.dn.changes and ssl.allow.san.changes say so', async () => {
    await broker.stop();
    broker = await startBroker({ dataDir, config: { ...config(), 'ssl.allow.dn.changes': 'true', 'listener.name.ssl.ssl.allow.san.changes': 'true' } });
    const admin = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`], tls: tlsOptions({ 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': files.caPem }) });
    await admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, String(broker.settings.nodeId), [{ name: 'listener.name.ssl.ssl.keystore.location', value: files.brokerNarrowedP12 }]);
    expect(await servedSerial(broker.port)).toBe(serialOf(files.dir + '/broker-narrowed.pem'));
    await admin.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, String(broker.settings.nodeId), [{ name: 'listener.name.ssl.ssl.keystore.location', value: files.clusterP12 }]);
    expect(await servedSerial(broker.port)).toBe(serialOf(files.dir + '/cluster.pem'));
    admin.close();
  });
});
