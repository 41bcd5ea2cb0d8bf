// A client's OAUTHBEARER login through an identity provider (KIP-768), as Kafka's
// OAuthBearerLoginCallbackHandler logs in: the token comes from sasl.oauthbearer.token.endpoint.url,
// asked for as sasl.oauthbearer.jwt.retriever.class says (KIP-1139; Kafka's DefaultJwtRetriever
// when unset: a file URL is read, an http(s) one asked with the client credentials grant).
//
// - The client credentials grant (RFC 6749 section 4.4, ClientCredentialsJwtRetriever): a POST of
//   `grant_type=client_credentials[&scope=...]`, the client id and secret in a Basic Authorization
//   header (URL-encoded first only with sasl.oauthbearer.header.urlencode=true, Kafka's default being
//   false).
// - The jwt-bearer grant (RFC 7523, JwtBearerJwtRetriever): a POST of
//   `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>[&scope=...]`, no
//   Authorization header: the assertion, signed with the client's private key, is its proof
//   (client/oauth-assertion.ts makes it).
// - Either way the answer's `id_token`, else its `access_token`, is the token. A status Kafka counts
//   as fatal (400, 401, 403, 404, ...) fails at once; any other failed status is asked again after
//   sasl.login.retry.backoff.ms, doubling, until sasl.login.retry.backoff.max.ms has passed.
// - A file URL names a file holding the token (Kafka's FileJwtRetriever), read at each refresh.
//
// The token is checked as Kafka's client checks it (ClientJwtValidator): a JWT whose claims hold
// `exp`, the subject claim (sasl.oauthbearer.sub.claim.name, `sub`) and, if present, string scopes;
// its signature is the broker's to check. It is kept and given to every login until its refresh
// time, computed as Kafka's ExpiringCredentialRefreshingLogin computes it (refreshAtMs below).
//
// Node's fetch does HTTP here: a token request is one small POST, no library needed.
import fs from 'node:fs';

import { SluiceError } from '../errors.js';
import { OAUTH_TOKEN_RESPONSE_BYTES_MAX } from '../limits.js';
import { parseJwt } from '../protocol/oauthbearer.js';
import { ASSERTION_ALGORITHMS, makeAssertion, type AssertionAlgorithm, type AssertionSettings } from './oauth-assertion.js';

/** Kafka's login callback handler for an identity provider, by its 4.x and 3.x class names. */
export const OAUTHBEARER_LOGIN_HANDLER_CLASSES: readonly string[] = [
  'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler',
  'org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerLoginCallbackHandler',
];

const RETRIEVER_PACKAGE = 'org.apache.kafka.common.security.oauthbearer.';
/** Kafka's JwtRetriever classes (sasl.oauthbearer.jwt.retriever.class) and the grant each asks with. */
const JWT_RETRIEVERS: ReadonlyMap<string, TokenGrant | 'by-url'> = new Map([
  [`${RETRIEVER_PACKAGE}DefaultJwtRetriever`, 'by-url'],
  [`${RETRIEVER_PACKAGE}ClientCredentialsJwtRetriever`, 'client_credentials'],
  [`${RETRIEVER_PACKAGE}JwtBearerJwtRetriever`, 'jwt-bearer'],
  [`${RETRIEVER_PACKAGE}FileJwtRetriever`, 'file'],
]);

/** How a retriever class gets its token from `url`; undefined for a class sluice does not know. */
function grantOf(retrieverClass: string, url: string): TokenGrant | undefined {
  const retriever = JWT_RETRIEVERS.get(retrieverClass);
  if (retriever !== 'by-url') return retriever;
  return url.toLowerCase().startsWith('file:') ? 'file' : 'client_credentials';
}

/** RFC 7523's grant type. */
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** The configs of such a login, with Kafka's defaults (undefined: none). */
export const OAUTHBEARER_LOGIN_DEFAULTS: Readonly<Record<string, string | undefined>> = {
  'sasl.login.callback.handler.class': undefined,
  'sasl.oauthbearer.token.endpoint.url': undefined,
  'sasl.oauthbearer.client.credentials.client.id': undefined,
  'sasl.oauthbearer.client.credentials.client.secret': undefined,
  'sasl.oauthbearer.scope': undefined,
  'sasl.oauthbearer.jwt.retriever.class': `${RETRIEVER_PACKAGE}DefaultJwtRetriever`,
  'sasl.oauthbearer.assertion.algorithm': 'RS256',
  'sasl.oauthbearer.assertion.claim.aud': undefined,
  'sasl.oauthbearer.assertion.claim.iss': undefined,
  'sasl.oauthbearer.assertion.claim.sub': undefined,
  'sasl.oauthbearer.assertion.claim.exp.seconds': '300',
  'sasl.oauthbearer.assertion.claim.nbf.seconds': '60',
  'sasl.oauthbearer.assertion.claim.jti.include': 'false',
  'sasl.oauthbearer.assertion.file': undefined,
  'sasl.oauthbearer.assertion.private.key.file': undefined,
  'sasl.oauthbearer.assertion.private.key.passphrase': undefined,
  'sasl.oauthbearer.assertion.template.file': undefined,
  'sasl.oauthbearer.header.urlencode': 'false',
  'sasl.oauthbearer.sub.claim.name': 'sub',
  'sasl.oauthbearer.scope.claim.name': 'scope',
  'sasl.login.connect.timeout.ms': '10000',
  'sasl.login.read.timeout.ms': '10000',
  'sasl.login.retry.backoff.ms': '100',
  'sasl.login.retry.backoff.max.ms': '10000',
  'sasl.login.refresh.window.factor': '0.8',
  'sasl.login.refresh.window.jitter': '0.05',
  'sasl.login.refresh.min.period.seconds': '60',
  'sasl.login.refresh.buffer.seconds': '300',
};
export const OAUTHBEARER_LOGIN_CONFIG_NAMES: readonly string[] = Object.keys(OAUTHBEARER_LOGIN_DEFAULTS);

/** Statuses Kafka's JwtHttpClient does not ask again after (the rest are retried). */
const FATAL_STATUSES: ReadonlySet<number> = new Set([400, 401, 402, 403, 404, 405, 406, 407, 409, 410, 411, 412, 413, 414, 415, 501, 505]);
/** Of a refused answer's body, this many characters go into the error (Kafka trims it at 1,000 too). */
const BODY_SNIPPET_CHARS = 1000;

export interface RefreshSettings {
  windowFactor: number;
  windowJitter: number;
  minPeriodMs: number;
  bufferMs: number;
}

/** How the token is had: asked for with one of the two grants, or read from a file. */
export type TokenGrant = 'client_credentials' | 'jwt-bearer' | 'file';

export interface TokenEndpointSettings {
  url: string;
  /** Default 'client_credentials' (a file URL: 'file'). */
  grant?: TokenGrant;
  /** The jwt-bearer grant's assertion. */
  assertion?: AssertionSettings;
  clientId: string;
  clientSecret: string;
  scope: string | undefined;
  urlencodeHeader: boolean;
  /** One attempt's limit: Node's fetch has no separate connect timeout, so connect + read. */
  attemptTimeoutMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  subClaim: string;
  scopeClaim: string;
  refresh: RefreshSettings;
}

/** A token as the client checked it. */
export interface LoginToken {
  token: string;
  subject: string;
  expiresAtMs: number;
  issuedAtMs: number | undefined;
}

/**
 * The login's settings from a client's configs (`get` returns a given config or undefined) and its
 * OAuthBearerLoginModule JAAS options (clientId, clientSecret, scope: the configs win, as in Kafka);
 * null when sasl.login.callback.handler.class is not Kafka's identity provider login. INVALID_CONFIG
 * names what is missing or out of Kafka's range.
 */
export function tokenEndpointSettings(get: (name: string) => string | undefined, jaasOptions: ReadonlyMap<string, string>, where: (name: string) => string): TokenEndpointSettings | null {
  const handler = get('sasl.login.callback.handler.class')?.trim();
  if (handler === undefined || handler === '') return null;
  if (!OAUTHBEARER_LOGIN_HANDLER_CLASSES.includes(handler)) {
    throw new SluiceError('INVALID_CONFIG', `Invalid value ${handler} for configuration ${where('sasl.login.callback.handler.class')}: sluice logs in through an identity provider as ${OAUTHBEARER_LOGIN_HANDLER_CLASSES[0]} does, or with unsecured tokens when it is unset`);
  }
  return readTokenEndpointSettings(get, jaasOptions, where);
}

/**
 * A token source for sluice's own client (KafkaClient's `sasl: { mechanism: 'OAUTHBEARER', token }`)
 * from Kafka's client configs of an identity provider's login: sasl.oauthbearer.token.endpoint.url,
 * sasl.oauthbearer.client.credentials.client.id, ...client.secret, sasl.oauthbearer.scope and the
 * rest of OAUTHBEARER_LOGIN_CONFIG_NAMES (sasl.login.callback.handler.class is implied).
 */
export function oauthTokenSource(configs: Readonly<Record<string, string>>): () => Promise<string> {
  return tokenEndpointLogin(readTokenEndpointSettings((name) => configs[name], new Map(), (name) => name));
}

function readTokenEndpointSettings(get: (name: string) => string | undefined, jaasOptions: ReadonlyMap<string, string>, where: (name: string) => string): TokenEndpointSettings {
  const value = (name: string) => get(name)?.trim() ?? OAUTHBEARER_LOGIN_DEFAULTS[name];
  const invalid = (name: string, why: string) => new SluiceError('INVALID_CONFIG', `Invalid value ${value(name) ?? ''} for configuration ${where(name)}: ${why}`);
  const url = value('sasl.oauthbearer.token.endpoint.url');
  if (url === undefined || !/^(https?|file):/i.test(url)) throw invalid('sasl.oauthbearer.token.endpoint.url', 'an OAUTHBEARER login through an identity provider takes its tokens from this URL, which must be an https, http or file URL');
  const fromFile = url.toLowerCase().startsWith('file:');
  const grant = grantOf(value('sasl.oauthbearer.jwt.retriever.class')!, url);
  if (grant === undefined) throw invalid('sasl.oauthbearer.jwt.retriever.class', `sluice retrieves tokens as Kafka's ${[...JWT_RETRIEVERS.keys()].map((name) => name.slice(RETRIEVER_PACKAGE.length)).join(', ')} do`);
  if ((grant === 'file') !== fromFile) {
    throw invalid('sasl.oauthbearer.token.endpoint.url', grant === 'file' ? `${value('sasl.oauthbearer.jwt.retriever.class')} reads a file: the URL must be a file URL` : `the ${grant} grant asks an https or http token endpoint`);
  }
  // Kafka's login reads the TLS settings of an https endpoint from ssl.* options of the JAAS line;
  // Node's fetch trusts its own authorities (NODE_EXTRA_CA_CERTS adds one), so such an option is refused, not ignored.
  const tlsOption = [...jaasOptions.keys()].find((key) => key.startsWith('ssl.'));
  if (tlsOption !== undefined) throw new SluiceError('INVALID_CONFIG', `The OAuthBearerLoginModule option ${tlsOption} is not supported: sluice reaches the token endpoint with Node's trusted authorities (add one with NODE_EXTRA_CA_CERTS)`);
  const credential = (name: string, jaasName: string, required: boolean): string | undefined => {
    const found = value(name) ?? jaasOptions.get(jaasName);
    if (found === undefined && required && grant === 'client_credentials') throw new SluiceError('INVALID_CONFIG', `Could not find OAuth configuration for ${where(name)} or OAuth JAAS configuration for ${jaasName}`);
    return found;
  };
  const number = (name: string, min: number, max: number): number => {
    const parsed = Number(value(name));
    if (!Number.isFinite(parsed) || parsed < min || parsed > max) throw invalid(name, `must be a number in [${min}, ${max}]`);
    return parsed;
  };
  const connectTimeoutMs = number('sasl.login.connect.timeout.ms', 0, 2 ** 31 - 1);
  const readTimeoutMs = number('sasl.login.read.timeout.ms', 0, 2 ** 31 - 1);
  const header = value('sasl.oauthbearer.header.urlencode')!.toLowerCase();
  if (header !== 'true' && header !== 'false') throw invalid('sasl.oauthbearer.header.urlencode', 'must be true or false');
  return {
    url,
    grant,
    assertion: grant === 'jwt-bearer' ? assertionSettings(value, invalid, where) : undefined,
    clientId: credential('sasl.oauthbearer.client.credentials.client.id', 'clientId', true) ?? '',
    clientSecret: credential('sasl.oauthbearer.client.credentials.client.secret', 'clientSecret', true) ?? '',
    scope: credential('sasl.oauthbearer.scope', 'scope', false),
    urlencodeHeader: header === 'true',
    attemptTimeoutMs: connectTimeoutMs + readTimeoutMs,
    retryBackoffMs: number('sasl.login.retry.backoff.ms', 0, 2 ** 31 - 1),
    retryBackoffMaxMs: number('sasl.login.retry.backoff.max.ms', 0, 2 ** 31 - 1),
    subClaim: value('sasl.oauthbearer.sub.claim.name')!,
    scopeClaim: value('sasl.oauthbearer.scope.claim.name')!,
    refresh: {
      // Kafka's ranges for these four (SaslConfigs).
      windowFactor: number('sasl.login.refresh.window.factor', 0.5, 1),
      windowJitter: number('sasl.login.refresh.window.jitter', 0, 0.25),
      minPeriodMs: number('sasl.login.refresh.min.period.seconds', 0, 900) * 1000,
      bufferMs: number('sasl.login.refresh.buffer.seconds', 0, 3600) * 1000,
    },
  };
}

/** The configs each way of getting the token reads, beyond those every way reads. */
const GRANT_CONFIG_PREFIXES: Readonly<Record<TokenGrant, readonly string[]>> = {
  client_credentials: ['sasl.oauthbearer.client.credentials.', 'sasl.oauthbearer.header.urlencode', 'sasl.oauthbearer.scope'],
  'jwt-bearer': ['sasl.oauthbearer.assertion.', 'sasl.oauthbearer.scope'],
  file: [],
};

/**
 * Of the login configs given (`get`), those the token's grant does not read, with why: assertion
 * settings beside the client credentials grant, a client secret beside the jwt-bearer grant, ...
 * Reported by the commands and the broker, never dropped without a word. Empty when the grant
 * cannot be told (the settings are then refused on their own).
 */
export function unusedLoginConfigs(get: (name: string) => string | undefined): Array<{ name: string; reason: string }> {
  const url = get('sasl.oauthbearer.token.endpoint.url')?.trim() ?? '';
  const grant = grantOf(get('sasl.oauthbearer.jwt.retriever.class')?.trim() ?? OAUTHBEARER_LOGIN_DEFAULTS['sasl.oauthbearer.jwt.retriever.class']!, url);
  if (grant === undefined) return [];
  const read = GRANT_CONFIG_PREFIXES[grant];
  const unused: Array<{ name: string; reason: string }> = [];
  for (const prefixes of Object.values(GRANT_CONFIG_PREFIXES)) {
    for (const prefix of prefixes) {
      if (read.includes(prefix)) continue;
      for (const name of OAUTHBEARER_LOGIN_CONFIG_NAMES) {
        if (name.startsWith(prefix) && get(name) !== undefined && !unused.some((entry) => entry.name === name)) {
          unused.push({ name, reason: grant === 'file' ? `the token is read from the file ${url}` : `the token is asked for with the ${grant} grant (sasl.oauthbearer.jwt.retriever.class)` });
        }
      }
    }
  }
  return unused;
}

/** The jwt-bearer grant's assertion settings, checked as Kafka's JwtBearerJwtRetriever checks them. */
function assertionSettings(value: (name: string) => string | undefined, invalid: (name: string, why: string) => SluiceError, where: (name: string) => string): AssertionSettings {
  const algorithm = value('sasl.oauthbearer.assertion.algorithm')!.toUpperCase();
  if (!(ASSERTION_ALGORITHMS as readonly string[]).includes(algorithm)) throw invalid('sasl.oauthbearer.assertion.algorithm', `the assertion is signed ${ASSERTION_ALGORITHMS.join(' or ')}`);
  const seconds = (name: string) => {
    const parsed = Number(value(name));
    if (!Number.isInteger(parsed) || parsed < 0 || parsed > 2 ** 31 - 1) throw invalid(name, 'must be a whole number of seconds, 0 or more');
    return parsed;
  };
  const jti = value('sasl.oauthbearer.assertion.claim.jti.include')!.toLowerCase();
  if (jti !== 'true' && jti !== 'false') throw invalid('sasl.oauthbearer.assertion.claim.jti.include', 'must be true or false');
  const file = value('sasl.oauthbearer.assertion.file');
  const privateKeyFile = value('sasl.oauthbearer.assertion.private.key.file');
  if (file === undefined && privateKeyFile === undefined) {
    throw new SluiceError('INVALID_CONFIG', `The jwt-bearer grant needs an assertion: ${where('sasl.oauthbearer.assertion.private.key.file')} (a PEM private key to sign one) or ${where('sasl.oauthbearer.assertion.file')} (a finished one)`);
  }
  const claims: Record<string, string> = {};
  for (const claim of ['aud', 'iss', 'sub']) {
    const given = value(`sasl.oauthbearer.assertion.claim.${claim}`);
    if (given !== undefined) claims[claim] = given;
  }
  return {
    file,
    privateKeyFile,
    passphrase: value('sasl.oauthbearer.assertion.private.key.passphrase'),
    algorithm: algorithm as AssertionAlgorithm,
    claims,
    templateFile: value('sasl.oauthbearer.assertion.template.file'),
    expSeconds: seconds('sasl.oauthbearer.assertion.claim.exp.seconds'),
    nbfSeconds: seconds('sasl.oauthbearer.assertion.claim.nbf.seconds'),
    includeJti: jti === 'true',
  };
}

/**
 * When a token is fetched again, as Kafka's ExpiringCredentialRefreshingLogin decides: at the
 * window factor (plus up to the jitter) of its lifetime from when it was issued, but no sooner
 * than the minimum period from now and no later than the buffer before it expires. A token too
 * close to its expiry for the buffer or the minimum period is refreshed halfway to it.
 */
export function refreshAtMs(token: Pick<LoginToken, 'expiresAtMs' | 'issuedAtMs'>, nowMs: number, settings: RefreshSettings, random = Math.random()): number {
  const { expiresAtMs } = token;
  if (nowMs + settings.bufferMs > expiresAtMs || nowMs + settings.minPeriodMs > expiresAtMs) return nowMs + Math.max(0, (expiresAtMs - nowMs) / 2);
  const startMs = token.issuedAtMs ?? nowMs;
  let atMs = startMs + (expiresAtMs - startMs) * (settings.windowFactor + settings.windowJitter * random);
  if (atMs < nowMs + settings.minPeriodMs) atMs = nowMs + settings.minPeriodMs;
  if (atMs > expiresAtMs - settings.bufferMs) atMs = expiresAtMs - settings.bufferMs;
  return Math.floor(atMs);
}

/**
 * A login's token source for SaslCredentials: the token fetched last while before its refresh
 * time, else a new one (logins that ask meanwhile share the request). When a refresh fails while
 * the token held is still valid, that token is given and the next login asks again, as Kafka's
 * refresh thread keeps the credential it has and retries.
 */
export function tokenEndpointLogin(settings: TokenEndpointSettings, now: () => number = Date.now): () => Promise<string> {
  let held: { token: LoginToken; refreshAtMs: number } | undefined;
  let asking: Promise<string> | undefined;
  const ask = async (): Promise<string> => {
    try {
      const token = checkToken(await retrieveToken(settings), settings, now());
      held = { token, refreshAtMs: refreshAtMs(token, now(), settings.refresh) };
      return token.token;
    } catch (error) {
      if (held !== undefined && now() < held.token.expiresAtMs) return held.token.token;
      throw error;
    } finally {
      asking = undefined;
    }
  };
  return () => {
    if (held !== undefined && now() < held.refreshAtMs) return Promise.resolve(held.token.token);
    asking ??= ask();
    return asking;
  };
}

/** The token's claims as Kafka's ClientJwtValidator checks them; SASL_AUTHENTICATION_FAILED says what is wrong. */
export function checkToken(token: string, settings: Pick<TokenEndpointSettings, 'subClaim' | 'scopeClaim' | 'url'>, nowMs: number): LoginToken {
  const refuse = (why: string) => new SluiceError('SASL_AUTHENTICATION_FAILED', `The token from ${redact(settings.url)} cannot be used: ${why}`);
  const jwt = parseJwt(token);
  if (typeof jwt === 'string') throw refuse(jwt);
  const { claims } = jwt;
  const scope = claims[settings.scopeClaim];
  const scopes = scope === undefined ? [] : typeof scope === 'string' ? [scope] : scope;
  if (!Array.isArray(scopes) || scopes.some((item) => typeof item !== 'string' || item.trim() === '')) throw refuse(`its ${settings.scopeClaim} claim must be a string or a list of non-blank strings`);
  const exp = claims.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw refuse('it has no numeric exp claim');
  const subject = claims[settings.subClaim];
  if (typeof subject !== 'string' || subject.trim() === '') throw refuse(`it has no ${settings.subClaim} claim (sasl.oauthbearer.sub.claim.name) naming its principal`);
  const iat = claims.iat;
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) throw refuse('its iat claim is not a number');
  const expiresAtMs = exp * 1000;
  if (expiresAtMs <= nowMs) throw refuse(`it expired at ${new Date(expiresAtMs).toISOString()}`);
  return { token, subject: subject.trim(), expiresAtMs, issuedAtMs: iat === undefined ? undefined : iat * 1000 };
}

/** The token as the endpoint gives it (unchecked). */
async function retrieveToken(settings: TokenEndpointSettings): Promise<string> {
  const grant = settings.grant ?? grantOf(OAUTHBEARER_LOGIN_DEFAULTS['sasl.oauthbearer.jwt.retriever.class']!, settings.url)!;
  if (grant === 'file') {
    try {
      return fs.readFileSync(new URL(settings.url), 'utf8').trim();
    } catch (error) {
      throw new SluiceError('SASL_AUTHENTICATION_FAILED', `Cannot read the token file ${settings.url}: ${(error as Error).message}`);
    }
  }
  const encode = (text: string) => (settings.urlencodeHeader ? encodeURIComponent(text) : text);
  const headers: Record<string, string> = { Accept: 'application/json', 'Cache-Control': 'no-cache', 'Content-Type': 'application/x-www-form-urlencoded' };
  const scope = settings.scope?.trim();
  const scopeParameter = scope ? `&scope=${encodeURIComponent(scope)}` : '';
  // The jwt-bearer grant's assertion is made once per login, not per attempt: its iat says when it was asked for.
  let body: string;
  if (grant === 'jwt-bearer') {
    body = `grant_type=${encodeURIComponent(JWT_BEARER_GRANT)}&assertion=${encodeURIComponent(makeAssertion(settings.assertion!))}${scopeParameter}`;
  } else {
    // RFC 7617: the standard base64 alphabet, not the URL-safe one (KAFKA-14496).
    headers.Authorization = `Basic ${Buffer.from(`${encode(settings.clientId)}:${encode(settings.clientSecret)}`, 'utf8').toString('base64')}`;
    body = `grant_type=client_credentials${scopeParameter}`;
  }
  const endMs = Date.now() + settings.retryBackoffMaxMs;
  const where = redact(settings.url);
  for (let attempt = 1; ; attempt++) {
    let status: number;
    let text: string;
    try {
      const response = await fetch(settings.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(settings.attemptTimeoutMs),
      });
      status = response.status;
      text = await boundedText(response);
    } catch (error) {
      // Kafka's client gives up on an I/O error at once too (JwtHttpClient).
      throw new SluiceError('SASL_AUTHENTICATION_FAILED', `Cannot get a token from ${where}: ${causeOf(error)}`);
    }
    if (status === 200 || status === 201) return tokenOf(text, where);
    const failure = `${where} answered HTTP ${status} on attempt ${attempt}${text.trim() === '' ? '' : `: ${snippet(text)}`}`;
    if (FATAL_STATUSES.has(status)) throw new SluiceError('SASL_AUTHENTICATION_FAILED', `The token endpoint refused the login: ${failure}`);
    const waitMs = Math.min(settings.retryBackoffMs * 2 ** (attempt - 1), endMs - Date.now());
    if (waitMs <= 0) throw new SluiceError('SASL_AUTHENTICATION_FAILED', `No token after ${attempt} attempts: ${failure}`);
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}

/** The answer's id_token, else its access_token (Kafka's JwtHttpResponseBodyHandler order). */
function tokenOf(text: string, where: string): string {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new SluiceError('SASL_AUTHENTICATION_FAILED', `The answer of ${where} is not JSON: ${snippet(text)}`);
  }
  for (const field of ['id_token', 'access_token']) {
    const value = (answer as Record<string, unknown> | null)?.[field];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  throw new SluiceError('SASL_AUTHENTICATION_FAILED', `The token endpoint response did not contain an access_token value. Response: (${snippet(text)})`);
}

/** A response's body, refused past OAUTH_TOKEN_RESPONSE_BYTES_MAX (a token answer is a few KB). */
async function boundedText(response: Response): Promise<string> {
  const length = Number(response.headers.get('content-length') ?? '0');
  if (length > OAUTH_TOKEN_RESPONSE_BYTES_MAX) throw new Error(`its answer of ${length} bytes exceeds ${OAUTH_TOKEN_RESPONSE_BYTES_MAX}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.length > OAUTH_TOKEN_RESPONSE_BYTES_MAX) throw new Error(`its answer of ${bytes.length} bytes exceeds ${OAUTH_TOKEN_RESPONSE_BYTES_MAX}`);
  return bytes.toString('utf8');
}

function snippet(text: string): string {
  return text.length <= BODY_SNIPPET_CHARS ? text : `${text.slice(0, BODY_SNIPPET_CHARS)} (trimmed to first ${BODY_SNIPPET_CHARS} characters out of ${text.length} total)`;
}

/** A URL for messages, without any user and password it carries. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

function causeOf(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer within sasl.login.connect.timeout.ms + sasl.login.read.timeout.ms';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
