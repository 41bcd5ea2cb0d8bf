// An OAUTHBEARER login through an identity provider (KIP-768, client/oauth-login.ts), against a
// token endpoint served over HTTP by this test: the client credentials grant as Kafka's client
// sends it, the token kept until its refresh time, fatal and retried statuses, answers without a
// token, tokens the client refuses, and a file URL. The jwt-bearer grant (KIP-1139,
// client/oauth-assertion.ts) against the identity provider fixture, which checks each assertion's
// signature with the client's public key: RS256 and ES256, an encrypted key, claims from the
// configs and a template file, a finished assertion from a file, and the settings Kafka refuses.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { once } from 'node:events';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { oauthTokenSource, refreshAtMs, tokenEndpointLogin, tokenEndpointSettings, unusedLoginConfigs, type TokenEndpointSettings } from '../../src/client/oauth-login.js';
import { startIdentityProvider, type IdentityProvider } from '../fixtures/identity-provider.js';
import { tempDir } from '../helpers.js';

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);
const jwt = (claims: object) => `${base64url({ alg: 'RS256', typ: 'JWT' })}.${base64url(claims)}.${crypto.randomBytes(32).toString('base64url')}`;

interface Asked {
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

/** What the endpoint answers next (the last one repeats), and what it was asked. */
let answers: Array<{ status: number; body: string }> = [];
const asked: Asked[] = [];
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      asked.push({ authorization: request.headers.authorization, contentType: request.headers['content-type'], body });
      const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
      response.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(answer.body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/oauth2/token`;
});

afterAll(() => server.close());
afterEach(() => {
  answers = [];
  asked.length = 0;
});

function settings(overrides: Partial<TokenEndpointSettings> = {}): TokenEndpointSettings {
  return {
    url,
    clientId: 'svc',
    clientSecret: 's3cret:with/odd chars',
    scope: 'kafka write',
    urlencodeHeader: false,
    attemptTimeoutMs: 5000,
    retryBackoffMs: 10,
    retryBackoffMaxMs: 2000,
    subClaim: 'sub',
    scopeClaim: 'scope',
    refresh: { windowFactor: 0.8, windowJitter: 0, minPeriodMs: 0, bufferMs: 0 },
    ...overrides,
  };
}

describe('the client credentials grant', () => {
  it('posts the grant with Basic credentials and the scope, and keeps the token until its refresh time', async () => {
    const token = jwt({ sub: 'svc', iat: nowSeconds(), exp: nowSeconds() + 3600, scope: 'kafka' });
    answers = [{ status: 200, body: JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }) }];
    let nowMs = Date.now();
    const login = tokenEndpointLogin(settings(), () => nowMs);
    expect(await Promise.all([login(), login()])).toEqual([token, token]);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toEqual({
      // RFC 7617's base64 of "svc:s3cret:with/odd chars", not URL-encoded (Kafka's default).
      authorization: `Basic ${Buffer.from('svc:s3cret:with/odd chars').toString('base64')}`,
      contentType: 'application/x-www-form-urlencoded',
      body: 'grant_type=client_credentials&scope=kafka%20write',
    });
    // Before 80% of the hour: the same token; after: a new request.
    nowMs += 2_800_000;
    expect(await login()).toBe(token);
    expect(asked).toHaveLength(1);
    nowMs += 100_000;
    await login();
    expect(asked).toHaveLength(2);
  });

  it('URL-encodes the credentials with sasl.oauthbearer.header.urlencode, and takes id_token before access_token', async () => {
    const idToken = jwt({ sub: 'svc', exp: nowSeconds() + 60 });
    answers = [{ status: 201, body: JSON.stringify({ access_token: jwt({ sub: 'other', exp: nowSeconds() + 60 }), id_token: idToken }) }];
    expect(await tokenEndpointLogin(settings({ urlencodeHeader: true, scope: undefined }))()).toBe(idToken);
    expect(asked[0]!.authorization).toBe(`Basic ${Buffer.from('svc:s3cret%3Awith%2Fodd%20chars').toString('base64')}`);
    expect(asked[0]!.body).toBe('grant_type=client_credentials');
  });

  it('fails at once on a status Kafka counts as fatal, with the answer', async () => {
    answers = [{ status: 401, body: '{"error":"invalid_client"}' }];
    await expect(tokenEndpointLogin(settings())()).rejects.toMatchObject({
      code: 'SASL_AUTHENTICATION_FAILED',
      message: expect.stringMatching(/refused the login: .* answered HTTP 401 on attempt 1: \{"error":"invalid_client"\}/),
    });
    expect(asked).toHaveLength(1);
  });

  it('asks again after a failed status that is not fatal, backing off, and gives up after retry.backoff.max.ms', async () => {
    const token = jwt({ sub: 'svc', exp: nowSeconds() + 60 });
    answers = [{ status: 503, body: '' }, { status: 500, body: '' }, { status: 200, body: JSON.stringify({ access_token: token }) }];
    expect(await tokenEndpointLogin(settings())()).toBe(token);
    expect(asked).toHaveLength(3);

    asked.length = 0;
    answers = [{ status: 503, body: 'busy' }];
    await expect(tokenEndpointLogin(settings({ retryBackoffMs: 20, retryBackoffMaxMs: 100 }))()).rejects.toMatchObject({
      code: 'SASL_AUTHENTICATION_FAILED',
      message: expect.stringMatching(/^No token after \d+ attempts: .* answered HTTP 503/),
    });
    // 20 + 40 ms, then what is left of the 100: at least three attempts, and not many more.
    expect(asked.length).toBeGreaterThanOrEqual(3);
    expect(asked.length).toBeLessThanOrEqual(5);
  });

  it('refuses an answer without a token, and tokens without exp or a subject, or expired', async () => {
    answers = [{ status: 200, body: '{"token_type":"Bearer"}' }];
    await expect(tokenEndpointLogin(settings())()).rejects.toThrow(/did not contain an access_token value\. Response: \(\{"token_type":"Bearer"\}\)/);
    answers = [{ status: 200, body: JSON.stringify({ access_token: jwt({ sub: 'svc' }) }) }];
    await expect(tokenEndpointLogin(settings())()).rejects.toThrow(/no numeric exp claim/);
    answers = [{ status: 200, body: JSON.stringify({ access_token: jwt({ client_id: 'svc', exp: nowSeconds() + 60 }) }) }];
    await expect(tokenEndpointLogin(settings())()).rejects.toThrow(/no sub claim/);
    // sasl.oauthbearer.sub.claim.name names where the principal is.
    const token = jwt({ client_id: 'svc', exp: nowSeconds() + 60 });
    answers = [{ status: 200, body: JSON.stringify({ access_token: token }) }];
    expect(await tokenEndpointLogin(settings({ subClaim: 'client_id' }))()).toBe(token);
    answers = [{ status: 200, body: JSON.stringify({ access_token: jwt({ sub: 'svc', exp: nowSeconds() - 10 }) }) }];
    await expect(tokenEndpointLogin(settings())()).rejects.toThrow(/expired at/);
    answers = [{ status: 200, body: JSON.stringify({ access_token: 'not-a-jwt' }) }];
    await expect(tokenEndpointLogin(settings())()).rejects.toThrow(/3 parts/);
  });

  it('keeps the token it holds while it is valid when a refresh fails', async () => {
    const token = jwt({ sub: 'svc', iat: nowSeconds(), exp: nowSeconds() + 100 });
    answers = [{ status: 200, body: JSON.stringify({ access_token: token }) }, { status: 401, body: '' }];
    let nowMs = Date.now();
    const login = tokenEndpointLogin(settings(), () => nowMs);
    expect(await login()).toBe(token);
    nowMs += 90_000;
    expect(await login()).toBe(token);
    nowMs += 20_000;
    await expect(login()).rejects.toMatchObject({ code: 'SASL_AUTHENTICATION_FAILED' });
  });

  it('serves sluice\'s own client from Kafka\'s config names (oauthTokenSource)', async () => {
    const token = jwt({ sub: 'svc', exp: nowSeconds() + 60 });
    answers = [{ status: 200, body: JSON.stringify({ access_token: token }) }];
    const source = oauthTokenSource({
      'sasl.oauthbearer.token.endpoint.url': url,
      'sasl.oauthbearer.client.credentials.client.id': 'svc',
      'sasl.oauthbearer.client.credentials.client.secret': 'pw',
      'sasl.oauthbearer.scope': 'kafka',
    });
    expect(await source()).toBe(token);
    expect(asked[0]).toMatchObject({ authorization: `Basic ${Buffer.from('svc:pw').toString('base64')}`, body: 'grant_type=client_credentials&scope=kafka' });
    expect(() => oauthTokenSource({ 'sasl.oauthbearer.token.endpoint.url': url })).toThrow(/client\.credentials\.client\.id/);
  });

  it('reads the token from a file URL', async () => {
    const dir = tempDir('oauth-file-');
    const file = path.join(dir, 'token.jwt');
    const token = jwt({ sub: 'svc', exp: nowSeconds() + 60 });
    fs.writeFileSync(file, `${token}\n`);
    expect(await tokenEndpointLogin(settings({ url: `file://${file}` }))()).toBe(token);
    expect(asked).toHaveLength(0);
  });
});

describe('the jwt-bearer grant', () => {
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let idp: IdentityProvider;
  let dir: string;

  beforeAll(async () => {
    idp = await startIdentityProvider({
      clients: {},
      assertionKeys: { 'svc-rsa': rsa.publicKey, 'svc-ec': ec.publicKey },
      claims: (clientId, scope) => ({ sub: clientId, ...(scope === '' ? {} : { scope }), iat: nowSeconds(), exp: nowSeconds() + 600 }),
    });
    dir = tempDir();
  });
  afterAll(() => idp?.close());

  const keyFile = (name: string, key: crypto.KeyObject, passphrase?: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, key.export(passphrase === undefined ? { type: 'pkcs8', format: 'pem' } : { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }));
    return file;
  };
  const jwtBearer = (extra: Record<string, string>) => ({
    'sasl.oauthbearer.token.endpoint.url': idp.tokenUrl,
    'sasl.oauthbearer.jwt.retriever.class': 'org.apache.kafka.common.security.oauthbearer.JwtBearerJwtRetriever',
    'sasl.oauthbearer.assertion.claim.aud': idp.tokenUrl,
    ...extra,
  });
  /** The assertion of the last token request, decoded. */
  const lastAssertion = () => {
    const form = new URLSearchParams(idp.tokenRequests.at(-1));
    const [header, payload] = form.get('assertion')!.split('.');
    return { form, header: JSON.parse(Buffer.from(header!, 'base64url').toString()), payload: JSON.parse(Buffer.from(payload!, 'base64url').toString()) };
  };

  it('posts an RS256 assertion signed with the private key, claims from the configs, and no client secret', async () => {
    const before = nowSeconds();
    const token = await oauthTokenSource(jwtBearer({ 'sasl.oauthbearer.assertion.private.key.file': keyFile('rsa.pem', rsa.privateKey), 'sasl.oauthbearer.assertion.claim.iss': 'svc-rsa', 'sasl.oauthbearer.assertion.claim.sub': 'svc-rsa', 'sasl.oauthbearer.scope': 'kafka' }))();
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())).toMatchObject({ sub: 'svc-rsa', scope: 'kafka' });
    const { form, header, payload } = lastAssertion();
    expect([...form.keys()]).toEqual(['grant_type', 'assertion', 'scope']);
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT' });
    // Kafka's defaults: exp 300 s ahead, nbf 60 s back, no jti.
    expect(payload).toMatchObject({ aud: idp.tokenUrl, iss: 'svc-rsa', sub: 'svc-rsa' });
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect([payload.exp - payload.iat, payload.iat - payload.nbf, payload.jti]).toEqual([300, 60, undefined]);
  });

  it('signs ES256 with an encrypted key, takes claims from a template file under its own, and adds a jti when asked', async () => {
    const template = path.join(dir, 'template.json');
    fs.writeFileSync(template, JSON.stringify({ header: { kid: 'client-key-1' }, payload: { iss: 'svc-ec', sub: 'svc-ec', exp: 1, tenant: 'blue' } }));
    await oauthTokenSource(
      jwtBearer({
        'sasl.oauthbearer.assertion.algorithm': 'ES256',
        'sasl.oauthbearer.assertion.private.key.file': keyFile('ec.pem', ec.privateKey, 'pass phrase'),
        'sasl.oauthbearer.assertion.private.key.passphrase': 'pass phrase',
        'sasl.oauthbearer.assertion.template.file': template,
        'sasl.oauthbearer.assertion.claim.iss': 'from-config',
        'sasl.oauthbearer.assertion.claim.exp.seconds': '30',
        'sasl.oauthbearer.assertion.claim.jti.include': 'true',
      }),
    )();
    const { header, payload } = lastAssertion();
    expect(header).toEqual({ kid: 'client-key-1', alg: 'ES256', typ: 'JWT' });
    // The template's iss over the config's; the made exp over the template's.
    expect(payload).toMatchObject({ iss: 'svc-ec', sub: 'svc-ec', tenant: 'blue' });
    expect(payload.exp - payload.iat).toBe(30);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends a finished assertion from sasl.oauthbearer.assertion.file as it is', async () => {
    const input = `${base64url({ alg: 'RS256', typ: 'JWT' })}.${base64url({ iss: 'svc-rsa', aud: idp.tokenUrl, exp: nowSeconds() + 60 })}`;
    const assertion = `${input}.${crypto.sign('sha256', Buffer.from(input), rsa.privateKey).toString('base64url')}`;
    const file = path.join(dir, 'assertion.jwt');
    fs.writeFileSync(file, `${assertion}\n`);
    await oauthTokenSource(jwtBearer({ 'sasl.oauthbearer.assertion.file': file }))();
    expect(new URLSearchParams(idp.tokenRequests.at(-1)).get('assertion')).toBe(assertion);
  });

  it('fails the login with what is wrong: a refused assertion, a key of the wrong type, a wrong passphrase', async () => {
    const issuer = { 'sasl.oauthbearer.assertion.claim.iss': 'svc-rsa' };
    const stranger = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await expect(oauthTokenSource(jwtBearer({ ...issuer, 'sasl.oauthbearer.assertion.private.key.file': keyFile('stranger.pem', stranger) }))()).rejects.toThrow(/answered HTTP 400 on attempt 1: \{"error":"invalid_grant"\}/);
    await expect(oauthTokenSource(jwtBearer({ ...issuer, 'sasl.oauthbearer.assertion.private.key.file': keyFile('ec-plain.pem', ec.privateKey) }))()).rejects.toThrow(/RS256 signs with an RSA key; .* holds an EC one/);
    await expect(
      oauthTokenSource(jwtBearer({ ...issuer, 'sasl.oauthbearer.assertion.private.key.file': keyFile('locked.pem', rsa.privateKey, 'right'), 'sasl.oauthbearer.assertion.private.key.passphrase': 'wrong' }))(),
    ).rejects.toMatchObject({ code: 'SASL_AUTHENTICATION_FAILED', message: expect.stringMatching(/is not a PEM private key that the passphrase opens/) });
  });
});

describe('settings', () => {
  const jaas = new Map([
    ['clientId', 'from-jaas'],
    ['clientSecret', 'jaas-secret'],
  ]);
  const configs = (given: Record<string, string>) => (name: string) => given[name];
  const handler = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler';

  it('is null without Kafka\'s login handler, and reads the client id from the configs before the JAAS line', () => {
    expect(tokenEndpointSettings(configs({ 'sasl.oauthbearer.token.endpoint.url': url }), jaas, String)).toBeNull();
    const read = tokenEndpointSettings(configs({ 'sasl.login.callback.handler.class': handler, 'sasl.oauthbearer.token.endpoint.url': url, 'sasl.oauthbearer.client.credentials.client.id': 'from-config' }), jaas, String)!;
    expect(read).toMatchObject({ url, clientId: 'from-config', clientSecret: 'jaas-secret', scope: undefined, attemptTimeoutMs: 20_000, retryBackoffMs: 100, retryBackoffMaxMs: 10_000 });
    expect(read.refresh).toEqual({ windowFactor: 0.8, windowJitter: 0.05, minPeriodMs: 60_000, bufferMs: 300_000 });
  });

  it('refuses another handler, a URL that is not http(s) or file, missing credentials and values out of Kafka\'s range', () => {
    const base = { 'sasl.login.callback.handler.class': handler, 'sasl.oauthbearer.token.endpoint.url': url };
    expect(() => tokenEndpointSettings(configs({ ...base, 'sasl.login.callback.handler.class': 'com.example.Handler' }), jaas, String)).toThrow(/Invalid value com.example.Handler for configuration sasl.login.callback.handler.class/);
    expect(() => tokenEndpointSettings(configs({ ...base, 'sasl.oauthbearer.token.endpoint.url': 'ftp://x' }), jaas, String)).toThrow(/https, http or file URL/);
    expect(() => tokenEndpointSettings(configs(base), new Map(), String)).toThrow(/Could not find OAuth configuration for sasl.oauthbearer.client.credentials.client.id or OAuth JAAS configuration for clientId/);
    expect(() => tokenEndpointSettings(configs({ ...base, 'sasl.login.refresh.window.factor': '0.3' }), jaas, String)).toThrow(/must be a number in \[0.5, 1\]/);
    const retriever = (name: string) => ({ ...base, 'sasl.oauthbearer.jwt.retriever.class': `org.apache.kafka.common.security.oauthbearer.${name}` });
    expect(() => tokenEndpointSettings(configs(retriever('SamlJwtRetriever')), jaas, String)).toThrow(/retriever\.class: sluice retrieves tokens as Kafka's DefaultJwtRetriever, ClientCredentialsJwtRetriever, JwtBearerJwtRetriever, FileJwtRetriever do/);
    expect(() => tokenEndpointSettings(configs(retriever('FileJwtRetriever')), jaas, String)).toThrow(/reads a file: the URL must be a file URL/);
    expect(() => tokenEndpointSettings(configs(retriever('JwtBearerJwtRetriever')), jaas, String)).toThrow(/jwt-bearer grant needs an assertion: sasl\.oauthbearer\.assertion\.private\.key\.file .* or sasl\.oauthbearer\.assertion\.file/);
    expect(() => tokenEndpointSettings(configs({ ...retriever('JwtBearerJwtRetriever'), 'sasl.oauthbearer.assertion.file': '/a.jwt', 'sasl.oauthbearer.assertion.algorithm': 'HS256' }), jaas, String)).toThrow(/signed RS256 or ES256/);
    expect(tokenEndpointSettings(configs(retriever('ClientCredentialsJwtRetriever')), jaas, String)).toMatchObject({ grant: 'client_credentials' });
    expect(tokenEndpointSettings(configs({ ...base, 'sasl.oauthbearer.token.endpoint.url': 'file:///tmp/t.jwt' }), new Map(), String)).toMatchObject({ grant: 'file' });
    // Kafka's JAAS options for the endpoint's TLS have no counterpart in Node's fetch: refused, never ignored.
    expect(() => tokenEndpointSettings(configs(base), new Map([...jaas, ['ssl.truststore.location', '/etc/idp-ca.p12']]), String)).toThrow(/option ssl\.truststore\.location is not supported: .*NODE_EXTRA_CA_CERTS/);
  });
});

describe('unusedLoginConfigs', () => {
  const given = (configs: Record<string, string>) => (name: string) => configs[name];

  it("names the configs the token's grant does not read", () => {
    const assertionFile = { 'sasl.oauthbearer.assertion.file': '/a.jwt', 'sasl.oauthbearer.assertion.claim.sub': 'svc' };
    const secret = { 'sasl.oauthbearer.client.credentials.client.secret': 's', 'sasl.oauthbearer.header.urlencode': 'true', 'sasl.oauthbearer.scope': 'kafka' };
    const names = (configs: Record<string, string>) => unusedLoginConfigs(given(configs)).map(({ name }) => name).sort();
    expect(names({ 'sasl.oauthbearer.token.endpoint.url': 'https://idp/token', ...assertionFile, ...secret })).toEqual(Object.keys(assertionFile).sort());
    expect(names({ 'sasl.oauthbearer.jwt.retriever.class': 'org.apache.kafka.common.security.oauthbearer.JwtBearerJwtRetriever', ...assertionFile, ...secret })).toEqual([
      'sasl.oauthbearer.client.credentials.client.secret',
      'sasl.oauthbearer.header.urlencode',
    ]);
    expect(unusedLoginConfigs(given({ 'sasl.oauthbearer.token.endpoint.url': 'file:///t.jwt', 'sasl.oauthbearer.scope': 'kafka' }))).toEqual([
      { name: 'sasl.oauthbearer.scope', reason: 'the token is read from the file file:///t.jwt' },
    ]);
  });
});

describe('refreshAtMs', () => {
  const refresh = { windowFactor: 0.8, windowJitter: 0.05, minPeriodMs: 60_000, bufferMs: 300_000 };
  const hour = 3_600_000;

  it('refreshes at the window factor of the lifetime, plus the jitter', () => {
    expect(refreshAtMs({ issuedAtMs: 0, expiresAtMs: hour }, 0, refresh, 0)).toBe(0.8 * hour);
    expect(refreshAtMs({ issuedAtMs: 0, expiresAtMs: hour }, 0, refresh, 1)).toBe(0.85 * hour);
    // Without iat, the lifetime counts from now.
    expect(refreshAtMs({ issuedAtMs: undefined, expiresAtMs: 10 * hour }, hour, refresh, 0)).toBe(hour + 0.8 * 9 * hour);
  });

  it('keeps the buffer before expiry and the minimum period from now, and goes halfway when it cannot', () => {
    // 10 minutes: 80% is 8 min, past the 5 min buffer before expiry.
    expect(refreshAtMs({ issuedAtMs: 0, expiresAtMs: 600_000 }, 0, refresh, 0)).toBe(300_000);
    // Issued long ago: 80% has passed, so the minimum period from now.
    expect(refreshAtMs({ issuedAtMs: 0, expiresAtMs: 10 * hour }, 9 * hour, refresh, 0)).toBe(9 * hour + 60_000);
    // Two minutes left, inside the buffer: halfway.
    expect(refreshAtMs({ issuedAtMs: 0, expiresAtMs: 120_000 }, 0, refresh, 0)).toBe(60_000);
  });
});
