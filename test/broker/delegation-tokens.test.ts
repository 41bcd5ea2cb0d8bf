// Delegation tokens (KIP-48) on a broker process with SCRAM and Kafka's authorizer: @platformatic/kafka
// creates, describes, renews and expires them through the four token APIs (its own encoders), a
// token logs in over SCRAM with tokenauth=true (sluice's client and `sluice topics` with a
// ScramLoginModule line) and acts as its owner, and `sluice delegation-tokens` prints Kafka's tool's
// output. Kafka's rules are checked: who may ask (not a token's own login), who may renew and
// expire (owner, requester, renewers), who sees which tokens, the lifetimes, an expired token
// refused at once and swept, and tokens surviving a restart.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { Connection, createDelegationTokenV3, describeDelegationTokenV3, expireDelegationTokenV2, renewDelegationTokenV2 } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import { BrokerConnection } from '../../src/client/connection.js';
import type { SaslCredentials } from '../../src/client/sasl.js';
import { KafkaErrorCode } from '../../src/errors.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import type { ScramMechanism } from '../../src/protocol/scram.js';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../src/protocol/acl-codes.js';
import { startBroker, type Broker } from '../../src/index.js';
import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { runCli } from '../cli/run-cli.js';
import { responseOf } from '../fixtures/platformatic.js';
import { tempDir, waitUntil } from '../helpers.js';

const ADMIN: SaslCredentials = { mechanism: 'PLAIN', username: 'admin', password: 'admin-secret' };
const MAX_LIFETIME_MS = 3_600_000;
const EXPIRY_TIME_MS = 600_000;
const USERS = ['alice', 'bob', 'carol'] as const;

let dataDir: string;
let broker: BrokerProcess;

function start(): Promise<BrokerProcess> {
  return startBrokerProcess(dataDir, {
    listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512,PLAIN',
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret";',
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': 'User:admin',
    'delegation.token.secret.key': 'token-signing-key',
    'delegation.token.max.lifetime.ms': MAX_LIFETIME_MS,
    'delegation.token.expiry.time.ms': EXPIRY_TIME_MS,
    'delegation.token.expiry.check.interval.ms': 200,
  });
}

async function asClient<T>(sasl: SaslCredentials, run: (client: KafkaClient) => Promise<T>): Promise<T> {
  const client = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`], sasl });
  try {
    return await run(client);
  } finally {
    client.close();
  }
}

/** A @platformatic/kafka connection logged in as `user` over SCRAM-SHA-512. */
async function platformatic<T>(user: string, run: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = new Connection('token-test', { sasl: { mechanism: 'SCRAM-SHA-512', username: user, password: `${user}-secret` } });
  await connection.connect('127.0.0.1', broker.port);
  try {
    return await run(connection);
  } finally {
    await connection.close();
  }
}

function createToken(user: string, renewers: string[] = [], owner: string | null = null, maxLifetimeMs = -1) {
  return platformatic(user, (connection) =>
    responseOf(createDelegationTokenV3.api.async(connection, owner === null ? null : 'User', owner, renewers.map((name) => ({ principalType: 'User', principalName: name })), BigInt(maxLifetimeMs))),
  );
}

function describeTokens(user: string, owners: string[] | null = null) {
  return platformatic(user, (connection) =>
    // null asks for every token the user may see (platformatic writes a null array as such).
    responseOf(describeDelegationTokenV3.api.async(connection, (owners === null ? null : owners.map((name) => ({ principalType: 'User', principalName: name }))) as never)),
  );
}

function tokenLogin(tokenId: string, hmac: Buffer, mechanism: ScramMechanism = 'SCRAM-SHA-256', tokenAuth = true): SaslCredentials {
  return { mechanism, username: tokenId, password: hmac.toString('base64'), tokenAuth };
}

beforeAll(async () => {
  dataDir = tempDir();
  broker = await start();
  await asClient(ADMIN, async (admin) => {
    const results = await admin.alterUserScramCredentials({
      upsertions: USERS.flatMap((user) => (['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const).map((mechanism) => ({ user, mechanism, iterations: 4096, password: `${user}-secret` }))),
      deletions: [],
    });
    expect(results.every(({ errorCode }) => errorCode === 0)).toBe(true);
    // alice may create and describe topics; carol may see alice's tokens.
    const created = await admin.createAcls([
      { resourceType: ResourceType.TOPIC, resourceName: 'alice-', patternType: PatternType.PREFIXED, principal: 'User:alice', host: '*', operation: AclOperation.ALL, permissionType: AclPermission.ALLOW },
      { resourceType: ResourceType.USER, resourceName: 'User:alice', patternType: PatternType.LITERAL, principal: 'User:carol', host: '*', operation: AclOperation.DESCRIBE_TOKENS, permissionType: AclPermission.ALLOW },
    ]);
    expect(created.every(({ errorCode }) => errorCode === 0)).toBe(true);
  });
});

afterAll(async () => {
  await broker?.stop();
});

describe('delegation tokens through @platformatic/kafka', () => {
  it("creates a token of the requester, its lifetimes the broker's, and the HMAC is HMAC-SHA512 of the id under the secret key", async () => {
    const before = Date.now();
    const created = await createToken('alice', ['bob'], null, 2 * MAX_LIFETIME_MS);
    expect(created.errorCode).toBe(0);
    expect([created.principalType, created.principalName, created.tokenRequesterPrincipalType, created.tokenRequesterPrincipalName]).toEqual(['User', 'alice', 'User', 'alice']);
    expect(Number(created.issueTimestampMs)).toBeGreaterThanOrEqual(before);
    // Asked for twice the broker's max lifetime: capped at it; the expiry is the broker's expiry time.
    expect(Number(created.maxTimestampMs) - Number(created.issueTimestampMs)).toBe(MAX_LIFETIME_MS);
    expect(Number(created.expiryTimestampMs) - Number(created.issueTimestampMs)).toBe(EXPIRY_TIME_MS);
    expect(Buffer.from(created.hmac)).toEqual(crypto.createHmac('sha512', 'token-signing-key').update(created.tokenId).digest());

    // Owner, renewer and a principal with DESCRIBE_TOKENS on the owner see it; bob as a renewer;
    // admin as a super user; nobody else.
    for (const user of ['alice', 'bob', 'carol']) {
      const described = await describeTokens(user);
      expect(described.errorCode).toBe(0);
      const token = described.tokens.find(({ tokenId }) => tokenId === created.tokenId);
      expect(token, user).toMatchObject({ principalName: 'alice', tokenRequesterPrincipalName: 'alice', renewers: [{ principalType: 'User', principalName: 'bob' }] });
      expect(Buffer.from(token!.hmac)).toEqual(Buffer.from(created.hmac));
    }
    const bobAsked = await createToken('bob');
    expect((await describeTokens('carol')).tokens.map(({ tokenId }) => tokenId)).not.toContain(bobAsked.tokenId);
    expect((await describeTokens('alice', ['bob'])).tokens.map(({ tokenId }) => tokenId)).toEqual([created.tokenId]);
    expect((await describeTokens('alice', [])).tokens).toEqual([]);
  });

  it('a token logs in over SCRAM with tokenauth=true and acts as its owner, and cannot ask for tokens itself', async () => {
    const created = await createToken('alice');
    const hmac = Buffer.from(created.hmac);
    await asClient(tokenLogin(created.tokenId, hmac), async (client) => {
      // alice's ACLs apply: a topic under her prefix, not another.
      await client.createTopics([{ name: 'alice-by-token', partitions: 1 }]);
      await expect(client.createTopics([{ name: 'bob-by-token', partitions: 1 }])).rejects.toThrow(/TOPIC_AUTHORIZATION_FAILED/);
      await expect(client.createDelegationToken()).rejects.toThrow(/DELEGATION_TOKEN_REQUEST_NOT_ALLOWED/);
      await expect(client.describeDelegationTokens()).rejects.toThrow(/DELEGATION_TOKEN_REQUEST_NOT_ALLOWED/);
      await expect(client.renewDelegationToken(hmac)).rejects.toThrow(/DELEGATION_TOKEN_REQUEST_NOT_ALLOWED/);
    });
    // SCRAM-SHA-512 too; a wrong HMAC, or the id without tokenauth, fails the login.
    const connection = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port, sasl: tokenLogin(created.tokenId, hmac, 'SCRAM-SHA-512') });
    connection.close();
    await expect(BrokerConnection.connect({ host: '127.0.0.1', port: broker.port, sasl: tokenLogin(created.tokenId, crypto.randomBytes(64)) })).rejects.toMatchObject({ code: 'SASL_AUTHENTICATION_FAILED' });
    await expect(BrokerConnection.connect({ host: '127.0.0.1', port: broker.port, sasl: tokenLogin(created.tokenId, hmac, 'SCRAM-SHA-256', false) })).rejects.toMatchObject({ code: 'SASL_AUTHENTICATION_FAILED' });
  });

  it('renews and expires for the owner and renewers only, within the max lifetime; an unknown HMAC is not found', async () => {
    const created = await createToken('alice', ['bob']);
    const hmac = Buffer.from(created.hmac);
    const renew = (user: string, periodMs: number) => platformatic(user, (connection) => responseOf(renewDelegationTokenV2.api.async(connection, hmac, BigInt(periodMs))));
    const expire = (user: string, periodMs: number, which = hmac) => platformatic(user, (connection) => responseOf(expireDelegationTokenV2.api.async(connection, which, BigInt(periodMs))));

    expect((await renew('carol', 1000)).errorCode).toBe(KafkaErrorCode.DELEGATION_TOKEN_OWNER_MISMATCH);
    const before = Date.now();
    const renewed = await renew('bob', 5000);
    expect(renewed.errorCode).toBe(0);
    expect(Number(renewed.expiryTimestampMs)).toBeGreaterThanOrEqual(before + 5000);
    expect(Number(renewed.expiryTimestampMs)).toBeLessThanOrEqual(Date.now() + 5000);
    // Never past the max timestamp.
    expect(Number((await renew('alice', 10 * MAX_LIFETIME_MS)).expiryTimestampMs)).toBe(Number(created.maxTimestampMs));
    expect((await expire('alice', -1, crypto.randomBytes(64))).errorCode).toBe(KafkaErrorCode.DELEGATION_TOKEN_NOT_FOUND);
    expect((await expire('carol', -1)).errorCode).toBe(KafkaErrorCode.DELEGATION_TOKEN_OWNER_MISMATCH);

    // Expired now: removed, so it neither logs in nor renews.
    expect((await expire('bob', -1)).errorCode).toBe(0);
    expect((await describeTokens('alice')).tokens.map(({ tokenId }) => tokenId)).not.toContain(created.tokenId);
    await expect(BrokerConnection.connect({ host: '127.0.0.1', port: broker.port, sasl: tokenLogin(created.tokenId, hmac) })).rejects.toMatchObject({ code: 'SASL_AUTHENTICATION_FAILED' });
    expect((await renew('alice', 1000)).errorCode).toBe(KafkaErrorCode.DELEGATION_TOKEN_NOT_FOUND);
  });

  it('a token past its expiry is refused at once, DELEGATION_TOKEN_EXPIRED to renew, and swept by delegation.token.expiry.check.interval.ms', async () => {
    const created = await createToken('alice');
    const hmac = Buffer.from(created.hmac);
    const expired = await platformatic('alice', (connection) => responseOf(expireDelegationTokenV2.api.async(connection, hmac, 1n)));
    expect(expired.errorCode).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(BrokerConnection.connect({ host: '127.0.0.1', port: broker.port, sasl: tokenLogin(created.tokenId, hmac) })).rejects.toMatchObject({ code: 'SASL_AUTHENTICATION_FAILED' });
    // Renewed before the sweep: expired; after it: gone.
    const renewed = await platformatic('alice', (connection) => responseOf(renewDelegationTokenV2.api.async(connection, hmac, 1000n)));
    expect([KafkaErrorCode.DELEGATION_TOKEN_EXPIRED, KafkaErrorCode.DELEGATION_TOKEN_NOT_FOUND]).toContain(renewed.errorCode);
    await waitUntil(async () => !(await describeTokens('alice')).tokens.some(({ tokenId }) => tokenId === created.tokenId), 'the expired token swept');
  });

  it('a token for another owner needs CREATE_TOKENS on that user; a super user may, and is its requester', async () => {
    const refused = await createToken('carol', [], 'bob');
    expect(refused.errorCode).toBe(KafkaErrorCode.DELEGATION_TOKEN_AUTHORIZATION_FAILED);
    const forBob = await asClient(ADMIN, (admin) => admin.createDelegationToken({ owner: 'User:bob' }));
    expect([forBob.owner, forBob.requester]).toEqual(['User:bob', 'User:admin']);
    // The requester may renew it, as Kafka's ownerOrRenewer allows.
    expect(await asClient(ADMIN, (admin) => admin.renewDelegationToken(forBob.hmac, 1000))).toBeGreaterThan(forBob.issueTimestampMs);
  });

  it('tokens survive a restart', async () => {
    const created = await createToken('alice');
    expect(fs.existsSync(path.join(dataDir, 'delegation-tokens.json'))).toBe(true);
    await broker.stop();
    broker = await start();
    const connection = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port, sasl: tokenLogin(created.tokenId, Buffer.from(created.hmac)) });
    connection.close();
  });
});

describe('sluice delegation-tokens and a token login from the CLI', () => {
  it('creates, describes, renews and expires with Kafka\'s output, and `sluice topics` logs in with the token', async () => {
    const config = path.join(tempDir(), 'alice.properties');
    fs.writeFileSync(config, 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="alice-secret";\n');
    const bootstrap = ['--bootstrap-server', `127.0.0.1:${broker.port}`, '--command-config', config];
    const created = await runCli(['delegation-tokens', ...bootstrap, '--create', '--renewer-principal', 'User:bob', '--max-life-time-period', '60000']);
    expect(created.code, created.stderr).toBe(0);
    const lines = created.stdout.split('\n');
    expect(lines[0]).toBe('Calling create token operation with renewers :[User:bob] , max-life-time-period :60000');
    const tokenId = /^Created delegation token with tokenId : (\S+)$/.exec(lines[1]!)![1]!;
    expect(lines[3]).toMatch(/^TOKENID\s+HMAC\s+OWNER\s+REQUESTER\s+RENEWERS\s+ISSUEDATE\s+EXPIRYDATE\s+MAXDATE$/);
    const row = lines[4]!.split(/\s+/);
    expect([row[0], row[2], row[3], row[4]]).toEqual([tokenId, 'User:alice', 'User:alice', '[User:bob]']);
    expect(row[5]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/);
    const hmac = row[1]!;

    const described = await runCli(['delegation-tokens', ...bootstrap, '--describe', '--owner-principal', 'User:alice']);
    expect(described.code, described.stderr).toBe(0);
    expect(described.stdout).toContain('Calling describe token operation for owners :[User:alice]');
    expect(described.stdout).toMatch(/Total number of tokens : \d+/);
    expect(described.stdout).toContain(`${tokenId} `);

    const tokenConfig = path.join(tempDir(), 'token.properties');
    fs.writeFileSync(tokenConfig, `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${tokenId}" password="${hmac}" tokenauth="true";\n`);
    const listed = await runCli(['topics', '--bootstrap-server', `127.0.0.1:${broker.port}`, '--command-config', tokenConfig, '--list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.split('\n')).toContain('alice-by-token');

    const renewed = await runCli(['delegation-tokens', ...bootstrap, '--renew', '--hmac', hmac, '--renew-time-period', '30000']);
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(renewed.stdout).toMatch(new RegExp(`^Calling renew token operation with hmac :${hmac.replace(/[+/]/g, '\\$&')} , renew-time-period :30000\nCompleted renew operation. New expiry date : \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d\n$`));

    const expired = await runCli(['delegation-tokens', ...bootstrap, '--expire', '--hmac', hmac]);
    expect(expired.code, expired.stderr).toBe(0);
    expect(expired.stdout).toContain('Completed expire operation.');
    const refused = await runCli(['topics', '--bootstrap-server', `127.0.0.1:${broker.port}`, '--command-config', tokenConfig, '--list']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Cannot log in to the broker .*Authentication failed/);

    const misused = await runCli(['delegation-tokens', ...bootstrap, '--renew']);
    expect(misused.code).not.toBe(0);
    expect(misused.stderr).toContain('--renew needs --hmac');
  });
});

describe('where tokens are refused', () => {
  let plain: Broker;
  let disabled: Broker;

  beforeAll(async () => {
    plain = await startBroker({ port: 0, config: { 'delegation.token.secret.key': 'k' } });
    disabled = await startBroker({
      port: 0,
      config: {
        listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret";',
      },
    });
  });

  afterAll(async () => {
    await plain?.stop();
    await disabled?.stop();
  });

  it('a PLAINTEXT connection gets DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, a broker without a secret key DELEGATION_TOKEN_AUTH_DISABLED', async () => {
    const onPlain = await BrokerConnection.connect({ host: '127.0.0.1', port: plain.port });
    try {
      const response = await onPlain.request<{ errorCode: number }>(ApiKey.CreateDelegationToken, { renewers: [], maxLifetimeMs: -1n });
      expect(response.errorCode).toBe(KafkaErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED);
    } finally {
      onPlain.close();
    }
    const onDisabled = await BrokerConnection.connect({ host: '127.0.0.1', port: disabled.port, sasl: ADMIN });
    try {
      for (const [apiKey, body] of [
        [ApiKey.CreateDelegationToken, { renewers: [], maxLifetimeMs: -1n }],
        [ApiKey.RenewDelegationToken, { hmac: Buffer.alloc(64), renewPeriodMs: -1n }],
        [ApiKey.ExpireDelegationToken, { hmac: Buffer.alloc(64), expiryTimePeriodMs: -1n }],
        [ApiKey.DescribeDelegationToken, { owners: null }],
      ] as const) {
        const response = await onDisabled.request<{ errorCode: number }>(apiKey, body);
        expect(response.errorCode, String(apiKey)).toBe(KafkaErrorCode.DELEGATION_TOKEN_AUTH_DISABLED);
      }
    } finally {
      onDisabled.close();
    }
  });
});
