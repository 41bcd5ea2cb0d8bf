// Re-authentication (KIP-368) on a SASL_PLAINTEXT listener with connections.max.reauth.ms (or a
// listener's or a mechanism's own): a login lasts that long (SaslAuthenticate's session_lifetime_ms
// says so); a connection that logs in again on its way is served on; one that does not is closed at
// its next request; a re-login as another user is refused; and a deleted SCRAM credential locks its
// user out at the next re-login. kafkajs and sluice's own client log in again by themselves and keep
// working across several lifetimes.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { authenticate, type SaslCredentials } from '../../src/client/sasl.js';
import { reportBrokerConfig } from '../../src/broker/config.js';
import { startBroker } from '../../src/index.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { tempDir, waitUntil } from '../helpers.js';

const REAUTH_MS = 1500;
const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";';
const ADMIN: SaslCredentials = { mechanism: 'PLAIN', username: 'admin', password: 'admin-secret' };
const ALICE: SaslCredentials = { mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' };
const BOB: SaslCredentials = { mechanism: 'SCRAM-SHA-256', username: 'bob', password: 'bob-secret' };

let broker: BrokerProcess;
const address = () => ({ host: '127.0.0.1', port: broker.port });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const metadata = (connection: BrokerConnection) => connection.request(ApiKey.Metadata, { topics: null, allowAutoTopicCreation: false });

beforeAll(async () => {
  broker = await startBrokerProcess(tempDir(), {
    listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256',
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
    'connections.max.reauth.ms': REAUTH_MS,
  });
  const admin = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`], sasl: ADMIN });
  try {
    await admin.alterUserScramCredentials({ upsertions: [{ user: 'bob', mechanism: 'SCRAM-SHA-256', iterations: 4096, password: 'bob-secret' }], deletions: [] });
    await admin.createTopics([{ name: 'reauth', partitions: 1 }]);
  } finally {
    admin.close();
  }
});

afterAll(async () => {
  await broker?.stop();
});

/** A connection logged in once by hand, as a client without KIP-368 would: it never logs in again by itself. */
async function loggedInOnce(credentials: SaslCredentials): Promise<{ connection: BrokerConnection; lifetimeMs: number }> {
  const connection = await BrokerConnection.connect(address());
  return { connection, lifetimeMs: await authenticate(connection, credentials, 'broker') };
}

describe('re-authentication (connections.max.reauth.ms)', () => {
  it('is a setting that takes effect on a SASL listener', () => {
    const report = reportBrokerConfig({ listeners: 'SASL_PLAINTEXT://:9092', 'sasl.enabled.mechanisms': 'PLAIN', 'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS, 'connections.max.reauth.ms': '1000' });
    expect(report.unsupported).toEqual([]);
  });

  it('tells the client how long its login lasts, and closes a connection that outlives it', async () => {
    const { connection, lifetimeMs } = await loggedInOnce(ALICE);
    expect(lifetimeMs).toBeGreaterThan(0);
    expect(lifetimeMs).toBeLessThanOrEqual(REAUTH_MS);
    await metadata(connection);
    await sleep(REAUTH_MS + 200);
    await expect(metadata(connection)).rejects.toThrow();
    await waitUntil(() => connection.isClosed, 'the broker to close the expired connection');
  });

  it('serves a connection that logs in again before its login ends, as long as it keeps doing so', async () => {
    const { connection } = await loggedInOnce(ALICE);
    try {
      for (let round = 0; round < 3; round++) {
        await sleep(REAUTH_MS / 2);
        expect(await authenticate(connection, ALICE, 'broker')).toBeGreaterThan(0);
        await sleep(REAUTH_MS / 2);
        await metadata(connection);
      }
    } finally {
      connection.close();
    }
  });

  it('refuses a re-login as another user, or with another mechanism, and closes the connection', async () => {
    const { connection } = await loggedInOnce(ALICE);
    await expect(authenticate(connection, ADMIN, 'broker')).rejects.toMatchObject({ code: 'SASL_AUTHENTICATION_FAILED', message: expect.stringMatching(/Cannot change principals/) });
    await waitUntil(() => connection.isClosed, 'the connection to close');
    const other = await loggedInOnce(ALICE);
    await expect(authenticate(other.connection, { ...BOB, username: 'alice' }, 'broker')).rejects.toMatchObject({ code: 'ILLEGAL_SASL_STATE' });
    other.connection.close();
  });

  it("sluice's client logs in again by itself: its connection outlives several login lifetimes", async () => {
    const connection = await BrokerConnection.connect({ ...address(), sasl: ALICE });
    try {
      const endMs = Date.now() + REAUTH_MS * 3;
      while (Date.now() < endMs) {
        await metadata(connection);
        await sleep(100);
      }
      expect(connection.isClosed).toBe(false);
    } finally {
      connection.close();
    }
  });

  it('kafkajs logs in again by itself and keeps producing across several lifetimes', async () => {
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${broker.port}`],
      sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' },
      reauthenticationThreshold: REAUTH_MS / 2,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const producer = kafka.producer();
    await producer.connect();
    try {
      const endMs = Date.now() + REAUTH_MS * 3;
      let sent = 0;
      while (Date.now() < endMs) {
        await producer.send({ topic: 'reauth', messages: [{ value: `m${sent++}` }] });
        await sleep(100);
      }
      expect(sent).toBeGreaterThan(10);
    } finally {
      await producer.disconnect();
    }
  });

  it('locks out a SCRAM user whose credential is deleted, at its next re-login', async () => {
    const connection = await BrokerConnection.connect({ ...address(), sasl: BOB });
    await metadata(connection);
    const admin = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`], sasl: ADMIN });
    try {
      await admin.alterUserScramCredentials({ upsertions: [], deletions: [{ user: 'bob', mechanism: 'SCRAM-SHA-256' }] });
    } finally {
      admin.close();
    }
    // The re-login fails (its credential is gone) and the connection closes; a new one cannot log in.
    await waitUntil(() => connection.isClosed, "bob's connection to close at its re-login", REAUTH_MS * 3);
    await expect(BrokerConnection.connect({ ...address(), sasl: BOB })).rejects.toMatchObject({ code: 'SASL_AUTHENTICATION_FAILED' });
  });

  it("takes a listener's and a mechanism's own connections.max.reauth.ms over the broker's, as Kafka reads them", async () => {
    const config = {
      listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
      'connections.max.reauth.ms': '1000',
      'listener.name.sasl_plaintext.connections.max.reauth.ms': '60000',
      'listener.name.sasl_plaintext.scram-sha-256.connections.max.reauth.ms': '120000',
    };
    expect(reportBrokerConfig(config).unsupported).toEqual([]);
    const own = await startBroker({ dataDir: tempDir(), config });
    try {
      const admin = await KafkaClient.connect({ brokers: [`127.0.0.1:${own.port}`], sasl: ADMIN });
      await admin.alterUserScramCredentials({ upsertions: [{ user: 'bob', mechanism: 'SCRAM-SHA-256', iterations: 4096, password: 'bob-secret' }], deletions: [] });
      admin.close();
      const lifetime = async (credentials: SaslCredentials) => {
        const connection = await BrokerConnection.connect({ host: '127.0.0.1', port: own.port });
        try {
          return await authenticate(connection, credentials, 'broker');
        } finally {
          connection.close();
        }
      };
      // PLAIN takes the listener's, SCRAM-SHA-256 its own; the broker's 1000 neither. The lifetime
      // left is counted at the answer, a moment after the login.
      const plain = await lifetime(ALICE);
      expect(plain).toBeGreaterThan(59_000);
      expect(plain).toBeLessThanOrEqual(60_000);
      const scram = await lifetime(BOB);
      expect(scram).toBeGreaterThan(119_000);
      expect(scram).toBeLessThanOrEqual(120_000);
    } finally {
      await own.stop();
    }
  });
});
