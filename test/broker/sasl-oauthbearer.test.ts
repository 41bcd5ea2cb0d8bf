// SASL/OAUTHBEARER (KIP-255, KIP-768) against broker processes and real clients: with Kafka's
// unsecured validator, kafkajs (oauthBearerProvider), kcat (librdkafka's unsecured JWT) and sluice's
// CLI (an OAuthBearerLoginModule JAAS line) log in, and the token's sub is the principal the
// authorizer decides on; expired tokens, signed tokens and missing scopes are refused. With Kafka's
// secured validator, tokens signed by a key of a JWKS served over HTTP are taken, and tokens of
// another key, audience or issuer refused; the login lasts until the token expires (KIP-368); and
// sluice's CLI gets its token from the identity provider's token endpoint (client credentials, or
// the jwt-bearer grant with an assertion signed by its own key, KIP-1139).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { reportBrokerConfig, resolveBrokerSettings } from '../../src/broker/config.js';
import { KafkaClient } from '../../src/client/client.js';
import { UnsecuredValidator } from '../../src/broker/sasl/oauthbearer.js';
import { SaslSession } from '../../src/broker/sasl/sasl-session.js';
import { encodeOAuthBearerResponse, parseOAuthBearerResponse } from '../../src/protocol/oauthbearer.js';
import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { startIdentityProvider, type IdentityProvider } from '../fixtures/identity-provider.js';
import { kcat } from '../fixtures/kcat.js';
import { runCli, SLUICE_BIN, STACK_LINE } from '../cli/run-cli.js';
import { tempDir } from '../helpers.js';

const LOGIN_MODULE = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule';
const VALIDATOR = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler';

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);
/** An unsigned token, as Kafka's unsecured login makes one. */
const unsecured = (claims: object) => `${base64url({ alg: 'none' })}.${base64url(claims)}.`;

const strangerKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
/** The key a jwt-bearer client signs its assertions with; the identity provider knows its public half. */
const assertionKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });

let provider: IdentityProvider;
/** An RS256 token signed by the identity provider's key (or by `key`). */
const signed = (claims: object, key?: crypto.KeyObject) => provider.sign(claims, key);
let unsecuredBroker: BrokerProcess;
let securedBroker: BrokerProcess;

beforeAll(async () => {
  // The identity provider's keys, served as a JWKS over HTTP, and its token endpoint (client credentials grant, KIP-768).
  provider = await startIdentityProvider({
    clients: { svc: 'svc-secret' },
    assertionKeys: { 'svc-jwt': assertionKey.publicKey },
    claims: (clientId, scope) => ({ sub: clientId, aud: 'kafka', iss: 'https://idp.test', scope, iat: nowSeconds(), exp: nowSeconds() + 600 }),
  });
  [unsecuredBroker, securedBroker] = await Promise.all([
    startBrokerProcess(tempDir(), {
      listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'OAUTHBEARER',
      'listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config': `${LOGIN_MODULE} required unsecuredValidatorRequiredScope="kafka";`,
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:admin',
      'group.initial.rebalance.delay.ms': 0,
    }),
    startBrokerProcess(tempDir(), {
      listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'OAUTHBEARER',
      'listener.name.sasl_plaintext.oauthbearer.sasl.server.callback.handler.class': VALIDATOR,
      'listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config': `${LOGIN_MODULE} required;`,
      'sasl.oauthbearer.jwks.endpoint.url': provider.jwksUrl,
      'sasl.oauthbearer.expected.audience': 'kafka',
      'sasl.oauthbearer.expected.issuer': 'https://idp.test',
    }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([unsecuredBroker?.stop(), securedBroker?.stop()]);
  provider?.close();
});

function kafkajs(port: number, token: string): Kafka {
  return new Kafka({ clientId: 'oauth-kafkajs', brokers: [`127.0.0.1:${port}`], sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token }) }, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
}

describe('OAUTHBEARER messages and the unsecured validator', () => {
  it('reads the client\'s initial response as RFC 7628 writes it, with extensions', () => {
    const bytes = encodeOAuthBearerResponse('a.b.', { traceId: '42' });
    expect(bytes.toString()).toBe('n,,\u0001auth=Bearer a.b.\u0001traceId=42\u0001\u0001');
    expect(parseOAuthBearerResponse(bytes)).toEqual({ token: 'a.b.', authorizationId: '', extensions: new Map([['traceId', '42']]) });
    expect(parseOAuthBearerResponse(Buffer.from('n,a=alice,\u0001auth=Bearer t.u.\u0001\u0001'))).toMatchObject({ token: 't.u.', authorizationId: 'alice' });
    expect(parseOAuthBearerResponse(Buffer.from('\u0001'))).toBeNull();
    expect(parseOAuthBearerResponse(Buffer.from('n,,\u0001auth=Basic abc\u0001\u0001'))).toBeNull();
  });

  it('answers a refused token with Kafka\'s error challenge, and a login lasts until its token expires', () => {
    const validator = new UnsecuredValidator(new Map(), 'jaas');
    const settings = { mechanisms: ['OAUTHBEARER'], plainUsers: new Map(), failedAuthenticationDelayMs: 0, maxReauthMs: {}, oauthBearer: validator };
    const refusing = new SaslSession(settings, () => undefined);
    expect(refusing.handshake('OAUTHBEARER', 1)).toBe(0);
    const challenge = refusing.authenticate(encodeOAuthBearerResponse(unsecured({ sub: 'alice' })));
    expect({ errorCode: challenge.errorCode, reply: challenge.reply.toString() }).toEqual({ errorCode: 0, reply: '{"status":"invalid_token"}' });
    expect(refusing.authenticate(Buffer.from('\u0001'))).toMatchObject({ errorCode: 58, errorMessage: expect.stringMatching(/no numeric exp/) });
    const session = new SaslSession({ ...settings, maxReauthMs: { OAUTHBEARER: 3_600_000 } }, () => undefined);
    session.handshake('OAUTHBEARER', 1);
    const exp = nowSeconds() + 120;
    expect(session.authenticate(encodeOAuthBearerResponse(unsecured({ sub: 'alice', exp }))).errorCode).toBe(0);
    expect(session.user).toBe('alice');
    // The token's 120 s, shorter than connections.max.reauth.ms's hour (KIP-368).
    expect(session.sessionLifetimeMs(Date.now())).toBeGreaterThan(110_000);
    expect(session.sessionLifetimeMs(Date.now())).toBeLessThanOrEqual(120_000);
  });

  it('checks alg none, the expiry, the principal claim and the required scope, within the allowed skew', () => {
    const validator = new UnsecuredValidator(new Map([['unsecuredValidatorRequiredScope', 'kafka'], ['unsecuredValidatorAllowableClockSkewMs', '1000']]), 'jaas');
    const now = Date.now();
    const exp = Math.floor(now / 1000) + 60;
    expect(validator.validate(unsecured({ sub: 'alice', exp, scope: 'kafka other' }), now)).toEqual({ ok: true, principal: 'alice', expiresAtMs: exp * 1000 });
    expect(validator.validate(unsecured({ sub: 'alice', exp, scope: ['kafka'] }), now)).toMatchObject({ ok: true });
    const refusals: Array<[string, RegExp]> = [
      [unsecured({ sub: 'alice', exp: Math.floor(now / 1000) - 5, scope: 'kafka' }), /expired/],
      [unsecured({ sub: 'alice', scope: 'kafka' }), /no numeric exp/],
      [unsecured({ exp, scope: 'kafka' }), /no sub claim/],
      [unsecured({ sub: 'alice', exp, scope: 'other' }), /lacks the required scope kafka/],
      [unsecured({ sub: 'alice', exp, scope: 'kafka', iat: Math.floor(now / 1000) + 60 }), /iat claim is in the future/],
      [signed({ sub: 'alice', exp, scope: 'kafka' }), /alg none, not RS256/],
      ['not-a-jwt', /3 parts/],
    ];
    for (const [token, message] of refusals) expect(validator.validate(token, now)).toEqual({ ok: false, message: expect.stringMatching(message) });
  });
});

describe('OAUTHBEARER with Kafka\'s unsecured validator', () => {
  it('kafkajs logs in with an unsecured token; its sub is the principal the authorizer decides on', async () => {
    const exp = nowSeconds() + 3600;
    const admin = kafkajs(unsecuredBroker.port, unsecured({ sub: 'admin', exp, scope: 'kafka' })).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'oauth-topic', numPartitions: 1 }] });
    await admin.createAcls({ acl: [{ resourceType: 2, resourceName: 'oauth-topic', resourcePatternType: 3, principal: 'User:alice', host: '*', operation: 4, permissionType: 3 }] });
    await admin.disconnect();
    const alice = kafkajs(unsecuredBroker.port, unsecured({ sub: 'alice', exp, scope: 'kafka' })).producer();
    await alice.connect();
    await alice.send({ topic: 'oauth-topic', messages: [{ value: 'from alice' }] });
    await alice.disconnect();
    const bob = kafkajs(unsecuredBroker.port, unsecured({ sub: 'bob', exp, scope: 'kafka' })).producer();
    await bob.connect();
    await expect(bob.send({ topic: 'oauth-topic', messages: [{ value: 'from bob' }] })).rejects.toThrow(/authoriz/i);
    await bob.disconnect();
  });

  it('refuses an expired token, and one without the required scope', async () => {
    const refused: Array<[string, RegExp]> = [
      [unsecured({ sub: 'admin', exp: nowSeconds() - 60, scope: 'kafka' }), /Authentication failed: the token expired/],
      [unsecured({ sub: 'admin', exp: nowSeconds() + 60 }), /Authentication failed: the token's scope claim lacks the required scope kafka/],
    ];
    for (const [token, message] of refused) {
      const client = KafkaClient.connect({ brokers: [`127.0.0.1:${unsecuredBroker.port}`], sasl: { mechanism: 'OAUTHBEARER', token: () => token } });
      await expect(client).rejects.toMatchObject({ code: 'SASL_AUTHENTICATION_FAILED', message: expect.stringMatching(message) });
    }
  });

  it('kcat (librdkafka) logs in with its unsecured JWT, and sluice\'s CLI with an OAuthBearerLoginModule line', async () => {
    const login = ['-X', 'security.protocol=sasl_plaintext', '-X', 'sasl.mechanisms=OAUTHBEARER', '-X', 'enable.sasl.oauthbearer.unsecure.jwt=true', '-X', 'sasl.oauthbearer.config=principal=admin scope=kafka'];
    const produced = await kcat(['-P', '-b', `127.0.0.1:${unsecuredBroker.port}`, '-t', 'oauth-topic', ...login], 'from kcat\n');
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await kcat(['-C', '-b', `127.0.0.1:${unsecuredBroker.port}`, '-t', 'oauth-topic', '-o', 'beginning', '-c', '2', '-e', ...login]);
    expect(consumed.stdout.split('\n').filter((line) => line !== '')).toEqual(['from alice', 'from kcat']);
    const config = path.join(tempDir(), 'oauth.properties');
    fs.writeFileSync(config, `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=OAUTHBEARER\nsasl.jaas.config=${LOGIN_MODULE} required unsecuredLoginStringClaim_sub="admin" unsecuredLoginListClaim_scope=",kafka";\n`);
    const listed = spawnSync(process.execPath, [SLUICE_BIN, 'topics', '--bootstrap-server', `127.0.0.1:${unsecuredBroker.port}`, '--command-config', config, '--list'], { encoding: 'utf8', timeout: 60_000 });
    expect(listed.stdout.split('\n')).toContain('oauth-topic');
  });
});

describe('a broker\'s own OAUTHBEARER login to the others of its cluster', () => {
  const secured = {
    listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
    'sluice.etcd.endpoints': 'http://127.0.0.1:2379',
    'sasl.enabled.mechanisms': 'OAUTHBEARER',
    'sasl.mechanism.inter.broker.protocol': 'OAUTHBEARER',
    'listener.name.sasl_plaintext.oauthbearer.sasl.server.callback.handler.class': VALIDATOR,
    'listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config': `${LOGIN_MODULE} required clientId="broker" clientSecret="broker-secret";`,
    'sasl.oauthbearer.jwks.endpoint.url': 'http://127.0.0.1:1/jwks',
    'sasl.oauthbearer.token.endpoint.url': 'http://127.0.0.1:1/token',
  };
  const handler = { 'listener.name.sasl_plaintext.oauthbearer.sasl.login.callback.handler.class': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler' };

  it('takes its tokens from the identity provider with Kafka\'s login handler; a secured listener refuses unsecured ones', () => {
    expect(() => resolveBrokerSettings(secured)).toThrow(/with unsecured tokens .* refuses: set listener\.name\.sasl_plaintext\.oauthbearer\.sasl\.login\.callback\.handler\.class/);
    const login = resolveBrokerSettings({ ...secured, ...handler }).sasl?.interBroker;
    expect(login).toMatchObject({ mechanism: 'OAUTHBEARER', token: expect.any(Function) });
    expect(reportBrokerConfig({ ...secured, ...handler })).toMatchObject({ unsupported: [], unknown: [] });
  });

  it('reports the login settings as taking no effect where the broker never logs in with them', () => {
    const { 'sluice.etcd.endpoints': _cluster, ...single } = { ...secured, ...handler };
    const unused = reportBrokerConfig(single).unsupported.filter(({ name }) => name.includes('login') || name.includes('token.endpoint'));
    expect(unused).toEqual([
      { name: 'listener.name.sasl_plaintext.oauthbearer.sasl.login.callback.handler.class', reason: expect.stringMatching(/only to the other brokers of a cluster/) },
      { name: 'sasl.oauthbearer.token.endpoint.url', reason: expect.stringMatching(/only to the other brokers of a cluster/) },
    ]);
    const plain = reportBrokerConfig({ ...secured, ...handler, 'sasl.enabled.mechanisms': 'OAUTHBEARER,PLAIN', 'sasl.mechanism.inter.broker.protocol': 'PLAIN' }).unsupported;
    expect(plain).toContainEqual({ name: 'sasl.oauthbearer.token.endpoint.url', reason: 'brokers log in to each other with PLAIN (sasl.mechanism.inter.broker.protocol)' });
  });
});

describe('OAUTHBEARER with Kafka\'s secured validator (a JWKS over HTTP)', () => {
  const claims = () => ({ sub: 'alice', aud: 'kafka', iss: 'https://idp.test', exp: nowSeconds() + 600, iat: nowSeconds() });

  it('takes a token signed by a key of the JWKS (sluice\'s client and kafkajs)', async () => {
    const client = await KafkaClient.connect({ brokers: [`127.0.0.1:${securedBroker.port}`], sasl: { mechanism: 'OAUTHBEARER', token: () => signed(claims()) } });
    expect((await client.metadata([])).brokers).toHaveLength(1);
    client.close();
    const producer = kafkajs(securedBroker.port, signed(claims())).producer();
    await producer.connect();
    await producer.send({ topic: 'signed', messages: [{ value: 'v' }] });
    await producer.disconnect();
  });

  it('sluice\'s CLI logs in with a token from the identity provider (OAuthBearerLoginCallbackHandler); a refused client is a clear error', async () => {
    const dir = tempDir();
    const config = (secret: string) => {
      const file = path.join(dir, `provider-${secret}.properties`);
      fs.writeFileSync(
        file,
        [
          'security.protocol=SASL_PLAINTEXT',
          'sasl.mechanism=OAUTHBEARER',
          'sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler',
          `sasl.oauthbearer.token.endpoint.url=${provider.tokenUrl}`,
          `sasl.jaas.config=${LOGIN_MODULE} required clientId="svc" clientSecret="${secret}" scope="kafka";`,
        ].join('\n'),
      );
      return file;
    };
    // Asynchronous: the token endpoint answers from this process.
    const cli = (...args: string[]) => runCli(args, { timeoutMs: 60_000 });
    const bootstrap = ['--bootstrap-server', `127.0.0.1:${securedBroker.port}`];
    provider.tokenRequests.length = 0;
    const created = await cli('topics', ...bootstrap, '--command-config', config('svc-secret'), '--create', '--topic', 'provider-topic');
    expect(created.code, created.stderr).toBe(0);
    expect(provider.tokenRequests).toEqual(['grant_type=client_credentials&scope=kafka']);
    const listed = await cli('topics', ...bootstrap, '--command-config', config('svc-secret'), '--list');
    expect(listed.stdout.split('\n')).toContain('provider-topic');

    const refused = await cli('topics', ...bootstrap, '--command-config', config('wrong'), '--list');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).not.toMatch(STACK_LINE);
    expect(refused.stderr).toMatch(/^Error: Cannot log in to the broker at .*: The token endpoint refused the login: .*\/token answered HTTP 401 on attempt 1: \{"error":"invalid_client"\}$/m);
  });

  it('sluice\'s CLI logs in with the jwt-bearer grant (JwtBearerJwtRetriever): an assertion signed with its private key, no secret', async () => {
    const dir = tempDir();
    const keyFile = path.join(dir, 'client-key.pem');
    fs.writeFileSync(keyFile, assertionKey.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const config = path.join(dir, 'jwt-bearer.properties');
    fs.writeFileSync(
      config,
      [
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=OAUTHBEARER',
        'sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler',
        'sasl.oauthbearer.jwt.retriever.class=org.apache.kafka.common.security.oauthbearer.JwtBearerJwtRetriever',
        `sasl.oauthbearer.token.endpoint.url=${provider.tokenUrl}`,
        `sasl.oauthbearer.assertion.private.key.file=${keyFile}`,
        'sasl.oauthbearer.assertion.claim.iss=svc-jwt',
        'sasl.oauthbearer.assertion.claim.sub=svc-jwt',
        `sasl.oauthbearer.assertion.claim.aud=${provider.tokenUrl}`,
        'sasl.oauthbearer.scope=kafka',
        // Read by the client credentials grant only: said, not silently dropped.
        'sasl.oauthbearer.client.credentials.client.secret=unused',
        `sasl.jaas.config=${LOGIN_MODULE} required;`,
      ].join('\n'),
    );
    provider.tokenRequests.length = 0;
    const created = await runCli(['topics', '--bootstrap-server', `127.0.0.1:${securedBroker.port}`, '--command-config', config, '--create', '--topic', 'jwt-bearer-topic'], { timeoutMs: 60_000 });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toBe(`WARNING: --command-config ${config}: sasl.oauthbearer.client.credentials.client.secret has no effect: the token is asked for with the jwt-bearer grant (sasl.oauthbearer.jwt.retriever.class)\n`);
    expect(provider.tokenRequests).toHaveLength(1);
    expect(provider.tokenRequests[0]).toMatch(/^grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=[\w.%-]+&scope=kafka$/);
  });

  it('refuses tokens of another key, audience or issuer, and unsigned ones', async () => {
    for (const token of [
      signed(claims(), strangerKey.privateKey),
      signed({ ...claims(), aud: 'elsewhere' }),
      signed({ ...claims(), iss: 'https://other.test' }),
      unsecured(claims()),
    ]) {
      await expect(KafkaClient.connect({ brokers: [`127.0.0.1:${securedBroker.port}`], sasl: { mechanism: 'OAUTHBEARER', token: () => token } })).rejects.toMatchObject({ code: 'SASL_AUTHENTICATION_FAILED' });
    }
  });
});
