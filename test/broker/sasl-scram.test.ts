// SASL/SCRAM-SHA-256 and SCRAM-SHA-512 on a SASL_PLAINTEXT listener, with real clients against a
// broker process: an admin logged in with PLAIN sets users' credentials with
// AlterUserScramCredentials (salt and salted password, never the password), and kafkajs, kcat
// (librdkafka), @platformatic/kafka and sluice's own client log in with them; a wrong password is
// SASL_AUTHENTICATION_FAILED; the credentials survive a restart; DescribeUserScramCredentials and
// AlterUserScramCredentials give Kafka's per-user errors.
import crypto from 'node:crypto';

import { Admin } from '@platformatic/kafka';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { encodeBatch } from '../../src/record/batch.js';
import type { SaslCredentials } from '../../src/client/sasl.js';
import { KafkaErrorCode } from '../../src/errors.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import type { AlterUserScramCredentialsResponseBody, DescribeUserScramCredentialsResponseBody } from '../../src/protocol/index.js';
import { saltedPassword, type ScramMechanism } from '../../src/protocol/scram.js';
import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { kcat } from '../fixtures/kcat.js';
import { tempDir } from '../helpers.js';

const SHA_256 = 1;
const SHA_512 = 2;
const ADMIN: SaslCredentials = { mechanism: 'PLAIN', username: 'admin', password: 'admin-secret' };

let dataDir: string;
let broker: BrokerProcess;

function start(): Promise<BrokerProcess> {
  return startBrokerProcess(dataDir, {
    listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512,PLAIN',
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret";',
  });
}

async function connect(sasl: SaslCredentials): Promise<BrokerConnection> {
  return BrokerConnection.connect({ host: '127.0.0.1', port: broker.port, sasl });
}

/** As Kafka's admin client sends an upsertion: a random salt and the salted password. */
function upsertion(name: string, mechanism: number, password: string, iterations = 4096) {
  const salt = crypto.randomBytes(32);
  const scram: ScramMechanism = mechanism === SHA_256 ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512';
  return { name, mechanism, iterations, salt, saltedPassword: saltedPassword(scram, password, salt, iterations) };
}

async function alter(body: object): Promise<AlterUserScramCredentialsResponseBody> {
  const admin = await connect(ADMIN);
  try {
    return await admin.request<AlterUserScramCredentialsResponseBody>(ApiKey.AlterUserScramCredentials, body, 0);
  } finally {
    admin.close();
  }
}

async function describeUsers(users: string[] | null): Promise<DescribeUserScramCredentialsResponseBody> {
  const admin = await connect(ADMIN);
  try {
    return await admin.request<DescribeUserScramCredentialsResponseBody>(ApiKey.DescribeUserScramCredentials, { users: users?.map((name) => ({ name })) ?? null }, 0);
  } finally {
    admin.close();
  }
}

beforeAll(async () => {
  dataDir = tempDir();
  broker = await start();
  const altered = await alter({ deletions: [], upsertions: [upsertion('alice', SHA_256, 'alice-secret', 8192), upsertion('alice', SHA_512, 'alice-secret'), upsertion('bob', SHA_512, 'bob-secret')] });
  expect(altered.results).toEqual([
    { user: 'alice', errorCode: 0, errorMessage: null },
    { user: 'bob', errorCode: 0, errorMessage: null },
  ]);
});

afterAll(async () => {
  await broker?.stop();
});

describe('SCRAM logins', () => {
  it('kafkajs logs in with SCRAM-SHA-256 and SCRAM-SHA-512, and a wrong password is an authentication failure', async () => {
    for (const mechanism of ['scram-sha-256', 'scram-sha-512'] as const) {
      const kafka = new Kafka({ clientId: 'scram', brokers: [`127.0.0.1:${broker.port}`], sasl: { mechanism, username: 'alice', password: 'alice-secret' } as SASLOptions, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: `scram-${mechanism}` }] });
      expect(await admin.listTopics()).toContain(`scram-${mechanism}`);
      await admin.disconnect();
    }
    const wrong = new Kafka({ clientId: 'scram', brokers: [`127.0.0.1:${broker.port}`], sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'nope' }, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    await expect(wrong.admin().connect()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
    // A user without a credential fails the same way, not at the first message.
    const unknown = new Kafka({ clientId: 'scram', brokers: [`127.0.0.1:${broker.port}`], sasl: { mechanism: 'scram-sha-256', username: 'nobody', password: 'x' }, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    await expect(unknown.admin().connect()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
  });

  it('kcat (librdkafka) logs in with SCRAM-SHA-512, produces and consumes', async () => {
    const auth = ['-b', `127.0.0.1:${broker.port}`, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=SCRAM-SHA-512', '-X', 'sasl.username=bob', '-X', 'sasl.password=bob-secret'];
    const produced = await kcat([...auth, '-P', '-t', 'scram-kcat'], 'one\ntwo\n');
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await kcat([...auth, '-C', '-t', 'scram-kcat', '-o', 'beginning', '-c', '2', '-e']);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.trim().split('\n')).toEqual(['one', 'two']);
  });

  it('@platformatic/kafka logs in with SCRAM-SHA-256', async () => {
    const admin = new Admin({ clientId: 'scram-platformatic', bootstrapBrokers: [`127.0.0.1:${broker.port}`], sasl: { mechanism: 'SCRAM-SHA-256', username: 'alice', password: 'alice-secret' } });
    try {
      expect(await admin.listTopics()).toContain('scram-scram-sha-256');
    } finally {
      await admin.close();
    }
  });

  it("sluice's client logs in with SCRAM, checks the server's signature, and reports a refused login by Kafka's name", async () => {
    const connection = await connect({ mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'alice-secret' });
    connection.close();
    await expect(connect({ mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'nope' })).rejects.toMatchObject({
      code: 'SASL_AUTHENTICATION_FAILED',
      message: expect.stringContaining('invalid credentials with SASL mechanism SCRAM-SHA-512'),
    });
  });
});

describe('SCRAM credentials', () => {
  it('describes every user, or the ones named, with Kafka per-user errors', async () => {
    const all = await describeUsers(null);
    expect(all.results).toEqual([
      { user: 'alice', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: SHA_256, iterations: 8192 }, { mechanism: SHA_512, iterations: 4096 }] },
      { user: 'bob', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: SHA_512, iterations: 4096 }] },
    ]);
    const named = await describeUsers(['bob', 'carol', 'bob']);
    expect(named.results.map(({ user, errorCode }) => [user, errorCode])).toEqual([
      ['bob', KafkaErrorCode.DUPLICATE_RESOURCE],
      ['carol', KafkaErrorCode.RESOURCE_NOT_FOUND],
    ]);
  });

  it("refuses what Kafka refuses, per user, and applies the rest", async () => {
    const { results } = await alter({
      deletions: [{ name: 'carol', mechanism: SHA_256 }, { name: 'dave', mechanism: 7 }],
      upsertions: [upsertion('erin', SHA_256, 'x', 100), upsertion('frank', SHA_256, 'frank-secret'), upsertion('gina', SHA_256, 'a'), upsertion('gina', SHA_256, 'b')],
    });
    expect(results.map(({ user, errorCode }) => [user, errorCode])).toEqual([
      ['carol', KafkaErrorCode.RESOURCE_NOT_FOUND],
      ['dave', KafkaErrorCode.UNSUPPORTED_SASL_MECHANISM],
      ['erin', KafkaErrorCode.UNACCEPTABLE_CREDENTIAL],
      ['frank', KafkaErrorCode.NONE],
      ['gina', KafkaErrorCode.DUPLICATE_RESOURCE],
    ]);
    expect((await describeUsers(null)).results.map(({ user }) => user)).toEqual(['alice', 'bob', 'frank']);
    const deleted = await alter({ deletions: [{ name: 'frank', mechanism: SHA_256 }], upsertions: [] });
    expect(deleted.results).toEqual([{ user: 'frank', errorCode: 0, errorMessage: null }]);
    await expect(connect({ mechanism: 'SCRAM-SHA-256', username: 'frank', password: 'frank-secret' })).rejects.toMatchObject({ code: 'SASL_AUTHENTICATION_FAILED' });
  });

  it("counts a logged-in client's use against its user's quota, not ANONYMOUS's", async () => {
    const admin = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`], sasl: ADMIN });
    try {
      await admin.createTopics([{ name: 'scram-quota', partitions: 1 }]);
      await admin.alterClientQuotas([{ entityType: 'user', entityName: 'alice' }], [{ key: 'producer_byte_rate', value: 1 }]);
    } finally {
      admin.close();
    }
    const produce = async (sasl: SaslCredentials): Promise<number> => {
      const connection = await connect(sasl);
      try {
        const body = { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'scram-quota', partitionData: [{ index: 0, records: encodeBatch([{ value: Buffer.alloc(1000) }]) }] }] };
        await connection.request(ApiKey.Produce, body);
        const answer = await connection.request<{ throttleTimeMs: number }>(ApiKey.Produce, body);
        return answer.throttleTimeMs;
      } finally {
        connection.close();
      }
    };
    expect(await produce({ mechanism: 'SCRAM-SHA-256', username: 'alice', password: 'alice-secret' })).toBeGreaterThan(0);
    expect(await produce(ADMIN)).toBe(0);
  });

  it('keeps the credentials across a restart', async () => {
    await broker.stop();
    broker = await start();
    const connection = await connect({ mechanism: 'SCRAM-SHA-256', username: 'alice', password: 'alice-secret' });
    connection.close();
  });
});
