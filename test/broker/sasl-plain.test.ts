// SASL/PLAIN on a SASL_PLAINTEXT listener, with real clients against a broker process: kafkajs,
// kcat (librdkafka) and @platformatic/kafka authenticate with a user of the JAAS line, produce and
// read back; a wrong password is SASL_AUTHENTICATION_FAILED; a request before authentication
// closes the connection; and a PLAINTEXT listener answers the SASL requests ILLEGAL_SASL_STATE.
import net from 'node:net';
import { once } from 'node:events';

import { Consumer, MessagesStreamModes, Producer as PlatformaticProducer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseJaasConfig } from '../../src/broker/sasl/jaas.js';
import { checkPlainToken, plainUsers } from '../../src/broker/sasl/plain.js';
import { reportBrokerConfig, resolveBrokerSettings } from '../../src/broker/config.js';
import { ApiKey, encodeRequest } from '../../src/protocol/index.js';
import { KafkaErrorCode } from '../../src/errors.js';
import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { kcat } from '../fixtures/kcat.js';
import { tempDir } from '../helpers.js';

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice \\"quoted\\" secret";';
const SASL_CONFIG = {
  listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
  'sasl.enabled.mechanisms': 'PLAIN',
  'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
  'group.initial.rebalance.delay.ms': 0,
};
const ALICE_PASSWORD = 'alice "quoted" secret';

let broker: BrokerProcess;
let plaintext: BrokerProcess;

beforeAll(async () => {
  [broker, plaintext] = await Promise.all([startBrokerProcess(tempDir(), SASL_CONFIG), startBrokerProcess(tempDir())]);
});

afterAll(async () => {
  await Promise.all([broker?.stop(), plaintext?.stop()]);
});

function kafka(password: string) {
  return new Kafka({ clientId: 'sasl-kafkajs', brokers: [`127.0.0.1:${broker.port}`], sasl: { mechanism: 'plain', username: 'alice', password }, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
}

/** Writes raw request frames and reads size-prefixed answers until the socket closes or `count` arrive. */
async function exchange(port: number, frames: Buffer[], count: number): Promise<{ answers: Buffer[]; closed: boolean }> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  const answers: Buffer[] = [];
  let pending = Buffer.alloc(0);
  let closed = false;
  await new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        answers.push(pending.subarray(4, 4 + pending.readInt32BE(0)));
        pending = pending.subarray(4 + pending.readInt32BE(0));
      }
      if (answers.length >= count) resolve();
    });
    socket.on('close', () => {
      closed = true;
      resolve();
    });
    // A broker that closes with pipelined requests unread resets the connection (RST): the answers
    // before it are read first, then the reset comes as ECONNRESET, and 'close' follows.
    socket.on('error', () => {});
    for (const frame of frames) socket.write(frame);
  });
  socket.destroy();
  return { answers, closed };
}

const handshake = (version: number, mechanism: string, correlationId = 1) =>
  encodeRequest({ apiKey: ApiKey.SaslHandshake, apiVersion: version, correlationId, clientId: 'raw' }, { mechanism });
const authenticate = (token: Buffer, correlationId = 2) =>
  encodeRequest({ apiKey: ApiKey.SaslAuthenticate, apiVersion: 2, correlationId, clientId: 'raw' }, { authBytes: token });
const metadata = (correlationId: number) => encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 1, correlationId, clientId: 'raw' }, { topics: null });
const plainToken = (user: string, password: string) => Buffer.from(`\0${user}\0${password}`);

describe('SASL/PLAIN settings', () => {
  it('reads the users of a PlainLoginModule JAAS line, quoted values and all', () => {
    const users = plainUsers(parseJaasConfig(JAAS, 'jaas'), 'jaas');
    expect([...users]).toEqual([['admin', 'admin-secret'], ['alice', ALICE_PASSWORD]]);
    for (const bad of ['PlainLoginModule required user_a="b"', 'a b c user_a="b";', 'org.apache.kafka.common.security.plain.PlainLoginModule sometimes user_a="b";']) {
      expect(() => plainUsers(parseJaasConfig(bad, 'jaas'), 'jaas'), bad).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    }
    expect(() => plainUsers(parseJaasConfig('org.apache.kafka.common.security.scram.ScramLoginModule required;', 'jaas'), 'jaas')).toThrow(/PLAIN takes/);
  });

  it('checks PLAIN tokens as Kafka does: the authorization id must be empty or the user', () => {
    const users = new Map([['alice', 'pw']]);
    expect(checkPlainToken(Buffer.from('\0alice\0pw'), users)).toEqual({ ok: true, user: 'alice' });
    expect(checkPlainToken(Buffer.from('alice\0alice\0pw'), users)).toEqual({ ok: true, user: 'alice' });
    expect(checkPlainToken(Buffer.from('bob\0alice\0pw'), users)).toMatchObject({ ok: false, message: expect.stringMatching(/authorization id/) });
    expect(checkPlainToken(Buffer.from('\0alice\0wrong'), users)).toEqual({ ok: false, message: 'Authentication failed: Invalid username or password' });
    expect(checkPlainToken(Buffer.from('\0bob\0pw'), users)).toEqual({ ok: false, message: 'Authentication failed: Invalid username or password' });
    expect(checkPlainToken(Buffer.from('alice\0pw'), users)).toMatchObject({ ok: false, message: expect.stringMatching(/3 tokens/) });
  });

  it('needs PLAIN among the enabled mechanisms and a JAAS line, reports the mechanisms it does not serve, and in a cluster needs the login brokers use with each other', () => {
    const settings = resolveBrokerSettings(SASL_CONFIG as Record<string, string | number>);
    expect(settings.sasl).toMatchObject({ mechanisms: ['PLAIN'], failedAuthenticationDelayMs: 100 });
    expect(resolveBrokerSettings({}).sasl).toBeNull();
    expect(() => resolveBrokerSettings({ ...SASL_CONFIG, 'sasl.enabled.mechanisms': 'GSSAPI' })).toThrow(/names no mechanism sluice serves: it serves PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER/);
    expect(() => resolveBrokerSettings({ listeners: 'SASL_PLAINTEXT://:0', 'sasl.enabled.mechanisms': 'PLAIN' })).toThrow(/plain\.sasl\.jaas\.config is not set/);
    // In a cluster, brokers log in to each other: PLAIN as sasl.mechanism.inter.broker.protocol, with the JAAS line's username and password.
    const cluster = { ...SASL_CONFIG, 'sluice.etcd.endpoints': 'http://127.0.0.1:2379' };
    expect(() => resolveBrokerSettings(cluster)).toThrow(/sasl\.mechanism\.inter\.broker\.protocol, which must be an enabled mechanism sluice serves \(PLAIN; it is GSSAPI\)/);
    expect(resolveBrokerSettings({ ...cluster, 'sasl.mechanism.inter.broker.protocol': 'PLAIN' }).sasl?.interBroker).toEqual({ mechanism: 'PLAIN', username: 'admin', password: 'admin-secret' });
    const noLogin = { ...cluster, 'sasl.mechanism.inter.broker.protocol': 'PLAIN', 'listener.name.sasl_plaintext.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_a="b";' };
    expect(() => resolveBrokerSettings(noLogin)).toThrow(/needs username="\.\.\." and password/);
    // The listener's own setting wins over the broker's, as in Kafka.
    expect(resolveBrokerSettings({ ...SASL_CONFIG, 'sasl.enabled.mechanisms': 'GSSAPI', 'listener.name.sasl_plaintext.sasl.enabled.mechanisms': 'PLAIN' }).sasl?.mechanisms).toEqual(['PLAIN']);
    const report = reportBrokerConfig({ ...SASL_CONFIG, 'sasl.enabled.mechanisms': 'PLAIN,GSSAPI' });
    expect(report.unsupported).toEqual([{ name: 'sasl.enabled.mechanisms', reason: expect.stringMatching(/GSSAPI not implemented/) }]);
    expect(report.unknown).toEqual([]);
    // On a PLAINTEXT listener the SASL settings take no effect, and say so.
    expect(reportBrokerConfig({ 'sasl.enabled.mechanisms': 'PLAIN' }).unsupported).toEqual([{ name: 'sasl.enabled.mechanisms', reason: expect.stringMatching(/SASL PLAIN, SCRAM or OAUTHBEARER, on a listener of that protocol/) }]);
  });
});

describe('SASL/PLAIN on the wire', () => {
  it('kafkajs authenticates, produces and reads back; a wrong password is an authentication failure', async () => {
    const client = kafka(ALICE_PASSWORD);
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'sasl-kafkajs', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'sasl-kafkajs', messages: [{ value: 'one' }, { value: 'two' }] });
    await producer.disconnect();
    const consumer = client.consumer({ groupId: 'sasl-kafkajs-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'sasl-kafkajs', fromBeginning: true });
    const values: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          values.push(message.value!.toString());
          if (values.length === 2) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(values).toEqual(['one', 'two']);

    const wrong = kafka('wrong').producer();
    await expect(wrong.connect()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError', message: expect.stringMatching(/Invalid username or password/) });
  });

  it('kcat (librdkafka) authenticates with PLAIN, produces and consumes; a wrong password fails', async () => {
    const auth = (password: string) => ['-b', `127.0.0.1:${broker.port}`, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=admin', '-X', `sasl.password=${password}`];
    const produced = await kcat([...auth('admin-secret'), '-P', '-t', 'sasl-kcat', '-X', 'allow.auto.create.topics=true'], 'a\nb\nc\n');
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await kcat([...auth('admin-secret'), '-C', '-t', 'sasl-kcat', '-o', 'beginning', '-c', '3', '-e']);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.trim().split('\n')).toEqual(['a', 'b', 'c']);
    const refused = await kcat([...auth('wrong'), '-L', '-m', '5'], '', 20_000);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Authentication failed|SASL authentication error/i);
  });

  it('@platformatic/kafka authenticates with PLAIN, produces and reads back', async () => {
    const sasl = { mechanism: 'PLAIN' as const, username: 'alice', password: ALICE_PASSWORD };
    const producer = new PlatformaticProducer({ clientId: 'sasl-platformatic', bootstrapBrokers: [`127.0.0.1:${broker.port}`], serializers: stringSerializers, sasl, autocreateTopics: true });
    await producer.send({ messages: [{ topic: 'sasl-platformatic', value: 'x' }, { topic: 'sasl-platformatic', value: 'y' }] });
    await producer.close();
    const consumer = new Consumer({ groupId: 'sasl-platformatic-group', clientId: 'sasl-platformatic', bootstrapBrokers: [`127.0.0.1:${broker.port}`], deserializers: stringDeserializers, maxWaitTime: 200, sasl });
    const stream = await consumer.consume({ topics: ['sasl-platformatic'], mode: MessagesStreamModes.EARLIEST });
    const values: string[] = [];
    for await (const message of stream) {
      values.push(message.value as string);
      if (values.length === 2) break;
    }
    await stream.close();
    await consumer.close();
    expect(values).toEqual(['x', 'y']);
  });

  it('closes a connection that sends another request before authenticating, with ILLEGAL_SASL_STATE', async () => {
    const { answers, closed } = await exchange(broker.port, [metadata(7)], 2);
    expect(closed).toBe(true);
    expect(answers.map((answer) => [answer.readInt32BE(0), answer.readInt16BE(4)])).toEqual([[7, KafkaErrorCode.ILLEGAL_SASL_STATE]]);
  });

  it('answers an unknown mechanism UNSUPPORTED_SASL_MECHANISM with the enabled ones, then serves after SaslAuthenticate', async () => {
    const { answers } = await exchange(broker.port, [handshake(1, 'SCRAM-SHA-512', 1), handshake(1, 'PLAIN', 2), authenticate(plainToken('admin', 'admin-secret'), 3), metadata(4)], 4);
    expect(answers[0]!.readInt16BE(4)).toBe(KafkaErrorCode.UNSUPPORTED_SASL_MECHANISM);
    expect(answers[0]!.subarray(10).toString()).toContain('PLAIN');
    expect(answers[1]!.readInt16BE(4)).toBe(KafkaErrorCode.NONE);
    expect(answers[2]!.readInt32BE(0)).toBe(3);
    expect(answers.map((answer) => answer.readInt32BE(0))).toEqual([1, 2, 3, 4]);
  });

  it('takes the bare token after a SaslHandshake v0, and closes on a bad one', async () => {
    const token = plainToken('admin', 'admin-secret');
    const sized = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
    const good = await exchange(broker.port, [handshake(0, 'PLAIN', 1), sized(token), metadata(5)], 3);
    expect(good.answers.map((answer) => answer.length)).toEqual([good.answers[0]!.length, 0, good.answers[2]!.length]);
    expect(good.answers[2]!.readInt32BE(0)).toBe(5);
    const bad = await exchange(broker.port, [handshake(0, 'PLAIN', 1), sized(plainToken('admin', 'nope')), metadata(5)], 3);
    expect(bad.closed).toBe(true);
    expect(bad.answers).toHaveLength(1);
  });

  it('answers a failed SaslAuthenticate SASL_AUTHENTICATION_FAILED, then closes the connection', async () => {
    const { answers, closed } = await exchange(broker.port, [handshake(1, 'PLAIN', 1), authenticate(plainToken('alice', 'nope'), 2), metadata(3)], 3);
    expect(closed).toBe(true);
    expect(answers).toHaveLength(2);
    // SaslAuthenticate v2 is flexible: correlation id, tagged fields (1 byte), then the error code.
    expect(answers[1]!.readInt16BE(5)).toBe(KafkaErrorCode.SASL_AUTHENTICATION_FAILED);
    expect(answers[1]!.toString()).toContain('Invalid username or password');
  });

  it('answers the SASL requests ILLEGAL_SASL_STATE on a PLAINTEXT listener, and serves the rest', async () => {
    const { answers } = await exchange(plaintext.port, [handshake(1, 'PLAIN', 1), metadata(2)], 2);
    expect(answers[0]!.readInt16BE(4)).toBe(KafkaErrorCode.ILLEGAL_SASL_STATE);
    expect(answers[1]!.readInt32BE(0)).toBe(2);
  });
});
