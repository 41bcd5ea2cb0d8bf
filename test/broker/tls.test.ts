// TLS listeners (security.protocol SSL and SASL_SSL) against real clients and broker processes:
// kafkajs, kcat (librdkafka), @platformatic/kafka, kafka-python and sluice's own client and CLI produce and read
// back over TLS; the broker's certificate is checked by the clients (authority and host name);
// ssl.client.auth=required refuses a client without a trusted certificate, and the certificate's
// name, through ssl.principal.mapping.rules, is the principal the authorizer decides on; SASL
// logs in over TLS; a plaintext client on a TLS port is refused and the broker keeps serving.
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { spawnSync } from 'node:child_process';

import { Consumer, MessagesStreamModes, Producer as PlatformaticProducer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { Fetcher } from '../../src/client/fetcher.js';
import { Producer } from '../../src/client/producer.js';
import { tlsOptions, type TlsOptions } from '../../src/client/tls-config.js';
import { reportBrokerConfig, resolveBrokerSettings } from '../../src/broker/config.js';
import { parsePrincipalRules, principalFromDn } from '../../src/broker/ssl-principal.js';
import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { kcat } from '../fixtures/kcat.js';
import { makeTlsFiles, STORE_PASSWORD, type TlsFiles } from '../fixtures/tls-certs.js';
import { SLUICE_BIN } from '../cli/run-cli.js';
import { tempDir } from '../helpers.js';

let files: TlsFiles;
/** SSL, a PKCS12 key store, no client certificates; bound on every address, advertised as 127.0.0.1. */
let ssl: BrokerProcess;
/** SSL with ssl.client.auth=required, a PEM key store, a PKCS12 trust store, and the authorizer on. */
let mutual: BrokerProcess;
/** SASL_SSL with PLAIN users. */
let saslSsl: BrokerProcess;
/** SSL serving one TLS 1.2 and one TLS 1.3 cipher suite, named as Java names them. */
let ciphers: BrokerProcess;

const PLAIN_JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";';

beforeAll(async () => {
  files = makeTlsFiles();
  const keyStore = { 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': files.brokerP12, 'ssl.keystore.password': STORE_PASSWORD };
  [ssl, mutual, saslSsl, ciphers] = await Promise.all([
    startBrokerProcess(tempDir(), { listeners: 'SSL://0.0.0.0:0', 'advertised.listeners': 'SSL://127.0.0.1:0', ...keyStore }),
    startBrokerProcess(tempDir(), {
      listeners: 'SSL://127.0.0.1:0',
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': files.brokerPem,
      'ssl.truststore.type': 'PKCS12',
      'ssl.truststore.location': files.trustP12,
      'ssl.truststore.password': STORE_PASSWORD,
      'ssl.client.auth': 'required',
      // CN=alice,OU=eng,O=acme,C=US is the principal User:alice.
      'ssl.principal.mapping.rules': 'RULE:^CN=([^,]*),OU=eng,.*$/$1/L,DEFAULT',
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:admin',
      'group.initial.rebalance.delay.ms': 0,
    }),
    startBrokerProcess(tempDir(), {
      listeners: 'SASL_SSL://127.0.0.1:0',
      ...keyStore,
      'sasl.enabled.mechanisms': 'PLAIN',
      'listener.name.sasl_ssl.plain.sasl.jaas.config': PLAIN_JAAS,
      'group.initial.rebalance.delay.ms': 0,
    }),
    startBrokerProcess(tempDir(), { listeners: 'SSL://127.0.0.1:0', ...keyStore, 'listener.name.ssl.ssl.cipher.suites': 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_AES_256_GCM_SHA384' }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([ssl?.stop(), mutual?.stop(), saslSsl?.stop(), ciphers?.stop()]);
});

/** The suite and version a TLS handshake with the broker on `port` settles on, or the handshake's error. */
function handshake(port: number, options: tls.ConnectionOptions = {}): Promise<{ suite: string; version: string | null } | Error> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: [read(files.caPem)], ...options }, () => {
      resolve({ suite: socket.getCipher().standardName, version: socket.getProtocol() });
      socket.destroy();
    });
    socket.on('error', (error) => resolve(error));
  });
}

const read = (file: string) => fs.readFileSync(file, 'utf8');

function kafkajs(port: number, extra: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({ clientId: 'tls-kafkajs', brokers: [`127.0.0.1:${port}`], ssl: { ca: [read(files.caPem)] }, logLevel: logLevel.NOTHING, retry: { retries: 0 }, ...extra });
}

/** Produces `values` with kafkajs (creating the topic first unless told not to) and reads them back with a kafkajs group consumer. */
async function roundTrip(client: Kafka, topic: string, values: string[], create = true): Promise<string[]> {
  if (create) {
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
  }
  const producer = client.producer();
  await producer.connect();
  await producer.send({ topic, messages: values.map((value) => ({ value })) });
  await producer.disconnect();
  const consumer = client.consumer({ groupId: `${topic}-group` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value!.toString());
        if (seen.length === values.length) resolve();
      },
    });
  });
  await consumer.disconnect();
  return seen;
}

const sslArgs = () => ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${files.caPem}`];

describe('TLS settings', () => {
  it('reads PKCS12 and PEM stores, as files or as text, and refuses what it cannot read with the config it came from', () => {
    const p12 = tlsOptions({ 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': files.brokerP12, 'ssl.keystore.password': STORE_PASSWORD, 'ssl.truststore.type': 'PKCS12', 'ssl.truststore.location': files.trustP12, 'ssl.truststore.password': STORE_PASSWORD });
    expect(p12.context.pfx).toBeInstanceOf(Buffer);
    expect(p12.context.ca).toEqual([expect.stringContaining('-----BEGIN CERTIFICATE-----')]);
    expect(p12).toMatchObject({ verifyHostname: true, context: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' } });
    // A PKCS12 file under Kafka's default type (JKS) is read as PKCS12, as Java does.
    expect(tlsOptions({ 'ssl.keystore.location': files.brokerP12, 'ssl.keystore.password': STORE_PASSWORD }).context.pfx).toBeInstanceOf(Buffer);
    const alice = files.client('alice');
    const inline = tlsOptions({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.key': read(alice.key), 'ssl.keystore.certificate.chain': read(alice.cert), 'ssl.truststore.type': 'PEM', 'ssl.truststore.certificates': read(files.caPem), 'ssl.endpoint.identification.algorithm': '', 'ssl.protocol': 'TLSv1.2' });
    expect(inline).toMatchObject({ verifyHostname: false, context: { key: read(alice.key).trim(), cert: read(alice.cert).trim(), maxVersion: 'TLSv1.2' } });
    const refusals: Array<[Record<string, string>, RegExp]> = [
      [{ 'ssl.keystore.location': files.jks }, /broker\.jks is a JKS store.*keytool -importkeystore/],
      [{ 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': files.brokerP12, 'ssl.keystore.password': 'wrong' }, /ssl\.keystore\.location.*wrong password/],
      [{ 'ssl.truststore.type': 'PKCS12', 'ssl.truststore.location': files.trustP12, 'ssl.truststore.password': 'wrong' }, /ssl\.truststore\.location: cannot open the PKCS12 store/],
      [{ 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': path.join(files.dir, 'missing.pem') }, /ssl\.truststore\.location: cannot read .*no such file/],
      [{ 'ssl.keystore.type': 'JCEKS', 'ssl.keystore.location': files.brokerP12 }, /'JCEKS' is not a store type sluice reads/],
      [{ 'ssl.keystore.key': read(alice.key) }, /needs ssl\.keystore\.type=PEM/],
      [{ 'ssl.enabled.protocols': 'SSLv3' }, /'SSLv3' is not a TLS version/],
      [{ 'ssl.endpoint.identification.algorithm': 'ldap' }, /'ldap' is not an algorithm/],
    ];
    for (const [given, message] of refusals) expect(() => tlsOptions(given), message.source).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(message) }));
  });

  it('a TLS listener needs a key store; the listener\'s own settings win; JSSE settings and TLS settings on a plaintext listener are reported', () => {
    expect(() => resolveBrokerSettings({ listeners: 'SSL://:0' })).toThrow(/Listener SSL is SSL and has no key store/);
    const settings = resolveBrokerSettings({ listeners: 'SSL://:0', 'ssl.keystore.location': files.jks, 'listener.name.ssl.ssl.keystore.location': files.brokerPem, 'listener.name.ssl.ssl.keystore.type': 'PEM', 'ssl.client.auth': 'requested' });
    expect(settings.tls).toMatchObject({ clientAuth: 'requested', options: { context: { key: expect.any(String) } } });
    expect(() => resolveBrokerSettings({ listeners: 'SSL://:0', 'ssl.keystore.location': files.brokerP12, 'ssl.keystore.password': STORE_PASSWORD, 'ssl.client.auth': 'sometimes' })).toThrow(/ssl\.client\.auth: must be required, requested or none/);
    expect(() => resolveBrokerSettings({ listeners: 'SSL://:0', 'ssl.keystore.location': files.brokerP12, 'ssl.keystore.password': STORE_PASSWORD, 'ssl.principal.mapping.rules': 'RULE:no-slashes' })).toThrow(/Invalid rule in ssl\.principal\.mapping\.rules/);
    const report = reportBrokerConfig({ listeners: 'SSL://:0', 'ssl.keystore.location': files.brokerP12, 'ssl.keymanager.algorithm': 'SunX509', 'ssl.cipher.suites': 'TLS_AES_128_GCM_SHA256' });
    expect(report.unsupported).toEqual([{ name: 'ssl.keymanager.algorithm', reason: expect.stringMatching(/Java's JSSE/) }]);
    expect(report.unknown).toEqual([]);
    expect(reportBrokerConfig({ 'ssl.keystore.location': files.brokerP12 }).unsupported).toEqual([{ name: 'ssl.keystore.location', reason: expect.stringMatching(/on a listener of that protocol/) }]);
    // Kafka's default principal builder is the one sluice's principals follow; another cannot be loaded.
    expect(reportBrokerConfig({ 'principal.builder.class': 'org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder' }).unsupported).toEqual([]);
    expect(() => resolveBrokerSettings({ 'principal.builder.class': 'com.example.CnPrincipalBuilder' })).toThrow(/principal\.builder\.class: sluice builds principals as .*DefaultKafkaPrincipalBuilder does/);
    // On SASL_SSL only the listener's own ssl.client.auth applies, as in Kafka.
    const saslReport = reportBrokerConfig({ listeners: 'SASL_SSL://:0', 'ssl.keystore.location': files.brokerP12, 'sasl.enabled.mechanisms': 'PLAIN', 'ssl.client.auth': 'required' });
    expect(saslReport.unsupported).toEqual([{ name: 'ssl.client.auth', reason: expect.stringMatching(/listener\.name\.sasl_ssl\.ssl\.client\.auth applies/) }]);
  });

  it('maps a certificate\'s distinguished name to a principal as Kafka\'s ssl.principal.mapping.rules do', () => {
    const rules = parsePrincipalRules('RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U,DEFAULT', 'rules');
    expect(principalFromDn('CN=kafka1,OU=ServiceUsers,O=Org,C=US', rules)).toBe('kafka1');
    expect(principalFromDn('CN=Duke,OU=JavaSoft,O=Sun Microsystems,L=Santa Clara,ST=CA,C=US', rules)).toBe('duke@javasoft');
    expect(principalFromDn('OU=Eng,cn=adam', rules)).toBe('ADAM');
    expect(principalFromDn('OU=Eng', rules)).toBe('OU=Eng');
    expect(principalFromDn('CN=a/b', parsePrincipalRules('RULE:^CN=(.*)\\/(.*)$/$1\\/x/', 'rules'))).toBe('a/x');
    expect(() => principalFromDn('OU=Eng', parsePrincipalRules('RULE:^CN=(.*)$/$1/', 'rules'))).toThrow(expect.objectContaining({ code: 'SSL_AUTHENTICATION_FAILED' }));
  });
});

describe('SSL listener', () => {
  it('kafkajs produces and reads back in a group over TLS', async () => {
    expect(await roundTrip(kafkajs(ssl.port), 'tls-kafkajs', ['one', 'two', 'three'])).toEqual(['one', 'two', 'three']);
  });

  it('kcat (librdkafka) produces and consumes over TLS, checking the broker\'s certificate', async () => {
    const produced = await kcat(['-P', '-b', `127.0.0.1:${ssl.port}`, '-t', 'tls-kcat', ...sslArgs()], 'a\nb\nc\n');
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await kcat(['-C', '-b', `127.0.0.1:${ssl.port}`, '-t', 'tls-kcat', '-o', 'beginning', '-c', '3', '-e', ...sslArgs()]);
    expect(consumed.stdout.split('\n').filter((line) => line !== '')).toEqual(['a', 'b', 'c']);
    // Without the authority, librdkafka refuses the broker's certificate.
    const untrusting = await kcat(['-L', '-b', `127.0.0.1:${ssl.port}`, '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${path.join(files.dir, 'rogue-ca.pem')}`, '-m', '3']);
    expect(untrusting.code).not.toBe(0);
    expect(untrusting.stderr).toMatch(/certificate verify failed/i);
  });

  it('@platformatic/kafka produces and consumes over TLS', async () => {
    const topic = 'tls-platformatic';
    const common = { clientId: 'tls-platformatic', bootstrapBrokers: [`127.0.0.1:${ssl.port}`], tls: { ca: read(files.caPem) } };
    const producer = new PlatformaticProducer({ ...common, serializers: stringSerializers, autocreateTopics: true });
    await producer.send({ messages: [{ topic, value: 'v1' }, { topic, value: 'v2' }] });
    await producer.close();
    const consumer = new Consumer({ ...common, groupId: `${topic}-group`, deserializers: stringDeserializers });
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
    const values: string[] = [];
    for await (const message of stream) {
      values.push(message.value);
      if (values.length === 2) break;
    }
    await stream.close();
    await consumer.close();
    expect(values).toEqual(['v1', 'v2']);
  });

  it('kafka-python (Debian\'s python3-kafka, its own TLS through Python\'s ssl) produces and consumes over TLS', () => {
    const script = [
      'import json, sys',
      'from kafka import KafkaConsumer, KafkaProducer',
      'bootstrap, ca = sys.argv[1], sys.argv[2]',
      "producer = KafkaProducer(bootstrap_servers=bootstrap, security_protocol='SSL', ssl_cafile=ca, acks='all')",
      "for i in range(3): producer.send('tls-python', ('py-%d' % i).encode()).get(timeout=30)",
      'producer.close()',
      "consumer = KafkaConsumer('tls-python', bootstrap_servers=bootstrap, security_protocol='SSL', ssl_cafile=ca, auto_offset_reset='earliest', consumer_timeout_ms=10000)",
      'print(json.dumps([message.value.decode() for message in consumer]))',
    ].join('\n');
    // Debian's interpreter, where python3-kafka is installed.
    const run = spawnSync('/usr/bin/python3', ['-c', script, `127.0.0.1:${ssl.port}`, files.caPem], { encoding: 'utf8', timeout: 90_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').pop()!)).toEqual(['py-0', 'py-1', 'py-2']);
  });

  it('sluice\'s client produces and fetches over TLS; it checks the authority and the host name unless told not to', async () => {
    const trust = tlsOptions({ 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': files.caPem });
    const client = await KafkaClient.connect({ brokers: [`127.0.0.1:${ssl.port}`], tls: trust });
    await client.createTopics([{ name: 'tls-sluice', partitions: 1, replicationFactor: 1 }]);
    const producer = await Producer.create(client, { acks: -1 });
    await producer.send('tls-sluice', [{ value: 'x', partition: 0 }, { value: 'y', partition: 0 }]);
    await producer.close();
    // The fetch path copies record bytes on a TLS listener: they must arrive encrypted and whole.
    const fetcher = new Fetcher(client);
    await fetcher.assign('tls-sluice', 0, 'earliest');
    const values: string[] = [];
    while (values.length < 2) for (const record of (await fetcher.fetch()).records) values.push(record.value!.toString());
    expect(values).toEqual(['x', 'y']);
    client.close();
    // Node's own roots do not include the test authority.
    await expect(KafkaClient.connect({ brokers: [`127.0.0.1:${ssl.port}`], tls: tlsOptions({}) })).rejects.toThrow(/self-signed certificate in certificate chain|unable to verify|unable to get local issuer/);
    // 127.0.0.2 reaches the broker (bound on every address) but is not a name its certificate has.
    await expect(KafkaClient.connect({ brokers: [`127.0.0.2:${ssl.port}`], tls: trust })).rejects.toThrow(/IP: 127\.0\.0\.2 is not in the cert's list/);
    const unchecked = tlsOptions({ 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': files.caPem, 'ssl.endpoint.identification.algorithm': '' });
    const anyName = await KafkaClient.connect({ brokers: [`127.0.0.2:${ssl.port}`], tls: unchecked });
    anyName.close();
  });

  it('the CLI speaks TLS from a --command-config file', () => {
    const config = path.join(files.dir, 'client.properties');
    fs.writeFileSync(config, `security.protocol=SSL\nssl.truststore.type=PKCS12\nssl.truststore.location=${files.trustP12}\nssl.truststore.password=${STORE_PASSWORD}\n`);
    const run = (args: string[]) => spawnSync(process.execPath, [SLUICE_BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
    const created = run(['topics', '--bootstrap-server', `127.0.0.1:${ssl.port}`, '--command-config', config, '--create', '--topic', 'tls-cli']);
    expect(created.status, created.stderr).toBe(0);
    const described = run(['topics', '--bootstrap-server', `127.0.0.1:${ssl.port}`, '--command-config', config, '--describe', '--topic', 'tls-cli']);
    expect(described.stdout).toMatch(/Topic: tls-cli/);
    // Plaintext to a TLS port: the broker's TLS refuses the bytes, the command says it cannot connect.
    const plaintext = run(['topics', '--bootstrap-server', `127.0.0.1:${ssl.port}`, '--list']);
    expect(plaintext.status).not.toBe(0);
    expect(plaintext.stderr).toMatch(/Cannot connect to the broker/);
  });

  it('a plaintext client on the TLS port is refused, and the broker goes on serving', async () => {
    const plain = new Kafka({ clientId: 'plaintext', brokers: [`127.0.0.1:${ssl.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 3000, requestTimeout: 3000 });
    await expect(plain.producer().connect()).rejects.toThrow();
    expect(await roundTrip(kafkajs(ssl.port), 'tls-after-plaintext', ['still'])).toEqual(['still']);
  });
});

describe('ssl.cipher.suites', () => {
  it('reads Java\'s suite names into OpenSSL\'s, and refuses a suite Node\'s TLS does not offer', () => {
    const suites = (list: string) => tlsOptions({ 'ssl.cipher.suites': list }).context.ciphers;
    expect(suites('TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_RSA_WITH_AES_128_CBC_SHA,TLS_AES_128_GCM_SHA256')).toBe('ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA:TLS_AES_128_GCM_SHA256');
    // librdkafka's spelling (OpenSSL's) is taken as it is; Java's signalling suite names no cipher.
    expect(suites('ECDHE-RSA-AES128-GCM-SHA256,TLS_EMPTY_RENEGOTIATION_INFO_SCSV')).toBe('ECDHE-RSA-AES128-GCM-SHA256');
    expect(suites('')).toBeUndefined();
    for (const missing of ['TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256', 'NOT_A_SUITE']) {
      expect(() => suites(`TLS_AES_128_GCM_SHA256,${missing}`)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining(`Invalid ssl.cipher.suites: '${missing}' is not a cipher suite`) }));
    }
  });

  it('the listener serves only the suites it names: TLS 1.2 and TLS 1.3 clients settle on them, a client without them is refused', async () => {
    expect(await handshake(ciphers.port)).toEqual({ suite: 'TLS_AES_256_GCM_SHA384', version: 'TLSv1.3' });
    expect(await handshake(ciphers.port, { maxVersion: 'TLSv1.2' })).toEqual({ suite: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', version: 'TLSv1.2' });
    // The listener without the setting settles on OpenSSL's first choice for TLS 1.2, another suite.
    expect(await handshake(ssl.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).toEqual({ suite: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', version: 'TLSv1.2' });
    expect(await handshake(ciphers.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).toBeInstanceOf(Error);
    expect(await handshake(ciphers.port, { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256' })).toBeInstanceOf(Error);
    // Real clients with their default suites go on working.
    const produced = await kcat(['-P', '-b', `127.0.0.1:${ciphers.port}`, '-t', 'tls-ciphers', ...sslArgs()], 'x\ny\n');
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await kcat(['-C', '-b', `127.0.0.1:${ciphers.port}`, '-t', 'tls-ciphers', '-o', 'beginning', '-c', '2', '-e', ...sslArgs()]);
    expect(consumed.stdout.split('\n').filter((line) => line !== '')).toEqual(['x', 'y']);
    expect(await roundTrip(kafkajs(ciphers.port), 'tls-ciphers-kafkajs', ['z'])).toEqual(['z']);
  });
});

describe('SSL listener with client certificates (ssl.client.auth=required)', () => {
  const asUser = (name: 'alice' | 'admin' | 'mallory'): KafkaConfig['ssl'] => ({ ca: [read(files.caPem)], key: read(files.client(name).key), cert: read(files.client(name).cert) });

  it('refuses a client without a certificate, and one whose certificate no trusted authority signed', async () => {
    for (const config of [{ ca: [read(files.caPem)] }, asUser('mallory')]) {
      const producer = kafkajs(mutual.port, { ssl: config, connectionTimeout: 3000 }).producer();
      await expect(producer.connect()).rejects.toThrow(/Closed connection|disconnected|ECONNRESET|certificate/i);
    }
    const noCertificate = await kcat(['-L', '-b', `127.0.0.1:${mutual.port}`, ...sslArgs(), '-m', '3']);
    expect(noCertificate.code).not.toBe(0);
  });

  it('names the principal by the certificate, and the authorizer decides on it', async () => {
    // admin (a super user by its mapped name) lets alice write and read one topic and use its group.
    const admin = kafkajs(mutual.port, { ssl: asUser('admin') }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'tls-alice', numPartitions: 1 }, { topic: 'tls-not-alice', numPartitions: 1 }] });
    const allow = (resourceType: number, resourceName: string, operation: number) => ({ resourceType, resourceName, resourcePatternType: 3, principal: 'User:alice', host: '*', operation, permissionType: 3 });
    await admin.createAcls({ acl: [allow(2, 'tls-alice', 4), allow(2, 'tls-alice', 3), allow(2, 'tls-alice', 8), allow(3, 'tls-alice-group', 3)] });
    await admin.disconnect();
    expect(await roundTrip(kafkajs(mutual.port, { ssl: asUser('alice') }), 'tls-alice', ['signed'], false)).toEqual(['signed']);
    const producer = kafkajs(mutual.port, { ssl: asUser('alice') }).producer();
    await producer.connect();
    await expect(producer.send({ topic: 'tls-not-alice', messages: [{ value: 'no' }] })).rejects.toThrow(/authoriz/i);
    await producer.disconnect();
    // kcat presents alice's certificate too.
    const consumed = await kcat(['-C', '-b', `127.0.0.1:${mutual.port}`, '-t', 'tls-alice', '-o', 'beginning', '-c', '1', '-e', ...sslArgs(),
      '-X', `ssl.certificate.location=${files.client('alice').cert}`, '-X', `ssl.key.location=${files.client('alice').key}`]);
    expect(consumed.stdout.trim()).toBe('signed');
  }, 60_000);

  it('sluice\'s client presents a PKCS12 key store', async () => {
    const options: TlsOptions = tlsOptions({ 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': files.client('admin').p12, 'ssl.keystore.password': STORE_PASSWORD, 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': files.caPem });
    const client = await KafkaClient.connect({ brokers: [`127.0.0.1:${mutual.port}`], tls: options });
    expect((await client.metadata([])).brokers.length).toBe(1);
    client.close();
  });
});

describe('SASL_SSL listener', () => {
  it('kafkajs and kcat log in with SASL/PLAIN over TLS; a wrong password is refused', async () => {
    const sasl = { mechanism: 'plain' as const, username: 'alice', password: 'alice-secret' };
    const wrong = kafkajs(saslSsl.port, { sasl: { ...sasl, password: 'wrong' } }).producer();
    await expect(wrong.connect()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError', message: expect.stringMatching(/Invalid username or password/) });
    expect(await roundTrip(kafkajs(saslSsl.port, { sasl }), 'sasl-ssl', ['secret'])).toEqual(['secret']);
    const login = ['-X', 'security.protocol=sasl_ssl', '-X', `ssl.ca.location=${files.caPem}`, '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=alice'];
    const consumed = await kcat(['-C', '-b', `127.0.0.1:${saslSsl.port}`, '-t', 'sasl-ssl', '-o', 'beginning', '-c', '1', '-e', ...login, '-X', 'sasl.password=alice-secret']);
    expect(consumed.stdout.trim()).toBe('secret');
    const refused = await kcat(['-L', '-b', `127.0.0.1:${saslSsl.port}`, ...login, '-X', 'sasl.password=wrong', '-m', '3']);
    expect(refused.stderr).toMatch(/Invalid username or password/);
  });
});
