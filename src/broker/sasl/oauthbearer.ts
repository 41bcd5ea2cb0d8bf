// SASL/OAUTHBEARER on the broker: the bearer token's validation, as Kafka's two validators do it.
//
// - Unsecured (Kafka's default, OAuthBearerUnsecuredValidatorCallbackHandler, for development):
//   the token is an unsigned JWT (alg none). Options of the listener's JAAS line:
//   unsecuredValidatorPrincipalClaimName (sub), unsecuredValidatorScopeClaimName (scope),
//   unsecuredValidatorRequiredScope (space-separated) and unsecuredValidatorAllowableClockSkewMs (0).
// - Secured (KIP-768, listener.name.NAME.oauthbearer.sasl.server.callback.handler.class =
//   org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler): a JWT signed
//   by a key of the identity provider's JWKS (sasl.oauthbearer.jwks.endpoint.url, an https, http or
//   file URL, fetched before the listener serves and again every
//   sasl.oauthbearer.jwks.endpoint.refresh.ms), with sasl.oauthbearer.expected.audience,
//   sasl.oauthbearer.expected.issuer, sasl.oauthbearer.sub.claim.name (sub),
//   sasl.oauthbearer.scope.claim.name (scope) and sasl.oauthbearer.clock.skew.seconds (30).
//
// Both require `exp` and a principal claim; the principal is User:<that claim>. The login lasts
// until the token expires (KIP-368: the broker tells the client, which logs in again with a new
// token), or connections.max.reauth.ms if that is shorter. Signatures are checked with Node's
// crypto (RS*, PS*, ES*), so no JOSE library: a JWT is three base64url parts.
import crypto from 'node:crypto';
import fs from 'node:fs';

import { SluiceError } from '../../errors.js';
import { parseJwt, type Jwt } from '../../protocol/oauthbearer.js';

export type TokenCheck = { ok: true; principal: string; expiresAtMs: number } | { ok: false; message: string };

export interface OAuthBearerValidator {
  /**
   * Loads what validation needs (the JWKS) before the listener serves; a later background refresh
   * that fails keeps the keys it had and is reported through `onRefreshError`.
   */
  start(onRefreshError: (error: Error) => void): Promise<void>;
  validate(token: string, nowMs: number): TokenCheck;
  close(): void;
}

/** Kafka's secured validator, by its two class names (3.x's internals package and 4.x's). */
export const OAUTHBEARER_VALIDATOR_CLASSES: readonly string[] = [
  'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler',
  'org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerValidatorCallbackHandler',
];

interface ClaimRules {
  principalClaim: string;
  scopeClaim: string;
  requiredScope: string[];
  clockSkewMs: number;
  audience: string[];
  issuer: string | null;
}

/** The claims every validator checks: exp, iat and nbf against the clock, the principal, scope, audience and issuer. */
function checkClaims(claims: Record<string, unknown>, rules: ClaimRules, nowMs: number): TokenCheck {
  const seconds = (name: string): number | undefined | null => {
    const value = claims[name];
    return value === undefined ? undefined : typeof value === 'number' && Number.isFinite(value) ? value : null;
  };
  const exp = seconds('exp');
  if (exp === undefined || exp === null) return { ok: false, message: 'the token has no numeric exp (expiration) claim' };
  if (exp * 1000 + rules.clockSkewMs <= nowMs) return { ok: false, message: `the token expired at ${new Date(exp * 1000).toISOString()}` };
  for (const name of ['iat', 'nbf']) {
    const at = seconds(name);
    if (at === null) return { ok: false, message: `the token's ${name} claim is not a number` };
    if (at !== undefined && at * 1000 - rules.clockSkewMs > nowMs) return { ok: false, message: `the token's ${name} claim is in the future` };
  }
  const principal = claims[rules.principalClaim];
  if (typeof principal !== 'string' || principal.trim() === '') return { ok: false, message: `the token has no ${rules.principalClaim} claim naming its principal` };
  if (rules.requiredScope.length > 0) {
    const raw = claims[rules.scopeClaim];
    const scope = typeof raw === 'string' ? raw.split(' ') : Array.isArray(raw) ? raw.map(String) : [];
    const missing = rules.requiredScope.filter((item) => !scope.includes(item));
    if (missing.length > 0) return { ok: false, message: `the token's ${rules.scopeClaim} claim lacks the required scope ${missing.join(' ')}` };
  }
  if (rules.audience.length > 0) {
    const raw = claims.aud;
    const audience = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.map(String) : [];
    if (!audience.some((item) => rules.audience.includes(item))) return { ok: false, message: `the token's audience (aud) is not one of ${rules.audience.join(', ')}` };
  }
  if (rules.issuer !== null && claims.iss !== rules.issuer) return { ok: false, message: `the token's issuer (iss) is not ${rules.issuer}` };
  return { ok: true, principal: principal.trim(), expiresAtMs: exp * 1000 };
}

/** Kafka's unsecured validator: an unsigned JWT whose claims check out. */
export class UnsecuredValidator implements OAuthBearerValidator {
  private readonly rules: ClaimRules;

  constructor(options: ReadonlyMap<string, string>, configName: string) {
    const skew = options.get('unsecuredValidatorAllowableClockSkewMs') ?? '0';
    if (!/^\d+$/.test(skew)) throw new SluiceError('INVALID_CONFIG', `Invalid ${configName}: unsecuredValidatorAllowableClockSkewMs must be a number of ms, not '${skew}'`);
    this.rules = {
      principalClaim: options.get('unsecuredValidatorPrincipalClaimName') ?? 'sub',
      scopeClaim: options.get('unsecuredValidatorScopeClaimName') ?? 'scope',
      requiredScope: (options.get('unsecuredValidatorRequiredScope') ?? '').split(' ').filter((item) => item !== ''),
      clockSkewMs: Number(skew),
      audience: [],
      issuer: null,
    };
  }

  async start(): Promise<void> {}

  validate(token: string, nowMs: number): TokenCheck {
    const jwt = parseJwt(token);
    if (typeof jwt === 'string') return { ok: false, message: jwt };
    if (jwt.header.alg !== 'none') return { ok: false, message: `an unsecured token has alg none, not ${String(jwt.header.alg)} (configure Kafka's OAuthBearerValidatorCallbackHandler to check signatures)` };
    if (jwt.signature.length !== 0) return { ok: false, message: 'an unsecured token has no signature' };
    return checkClaims(jwt.claims, this.rules, nowMs);
  }

  close(): void {}
}

export interface JwksSettings {
  url: string;
  refreshMs: number;
  audience: string[];
  issuer: string | null;
  subClaim: string;
  scopeClaim: string;
  clockSkewMs: number;
}

/** JWS algorithms by name: the digest, and how the key signs. */
const ALGORITHMS: ReadonlyMap<string, { digest: string; kty: string; options?: Partial<crypto.VerifyKeyObjectInput> }> = new Map([
  ['RS256', { digest: 'sha256', kty: 'RSA' }],
  ['RS384', { digest: 'sha384', kty: 'RSA' }],
  ['RS512', { digest: 'sha512', kty: 'RSA' }],
  ['PS256', { digest: 'sha256', kty: 'RSA', options: { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } }],
  ['PS384', { digest: 'sha384', kty: 'RSA', options: { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 } }],
  ['PS512', { digest: 'sha512', kty: 'RSA', options: { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 } }],
  ['ES256', { digest: 'sha256', kty: 'EC', options: { dsaEncoding: 'ieee-p1363' } }],
  ['ES384', { digest: 'sha384', kty: 'EC', options: { dsaEncoding: 'ieee-p1363' } }],
  ['ES512', { digest: 'sha512', kty: 'EC', options: { dsaEncoding: 'ieee-p1363' } }],
]);

/** A key of the JWKS a signed token may name (kid). */
interface VerificationKey {
  kid: string | undefined;
  kty: string;
  key: crypto.KeyObject;
}

/** A newly seen kid refreshes the keys at most this often (Kafka backs off its refreshes too). */
const UNKNOWN_KID_REFRESH_MIN_MS = 10_000;

/** Kafka's secured validator (KIP-768): a JWT signed by a key of the identity provider's JWKS. */
export class JwksValidator implements OAuthBearerValidator {
  private keys: VerificationKey[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastRefreshMs = 0;
  private onRefreshError: (error: Error) => void = () => {};
  private readonly rules: ClaimRules;

  constructor(private readonly settings: JwksSettings) {
    this.rules = { principalClaim: settings.subClaim, scopeClaim: settings.scopeClaim, requiredScope: [], clockSkewMs: settings.clockSkewMs, audience: settings.audience, issuer: settings.issuer };
  }

  /** Fetches the keys (a failure fails the start: the listener would refuse every token). */
  async start(onRefreshError: (error: Error) => void): Promise<void> {
    this.onRefreshError = onRefreshError;
    await this.refresh();
    this.timer = setInterval(() => this.refresh().catch((error) => this.onRefreshError(error as Error)), this.settings.refreshMs);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    this.lastRefreshMs = Date.now();
    const { url } = this.settings;
    let text: string;
    try {
      if (url.startsWith('file:')) text = fs.readFileSync(new URL(url), 'utf8');
      else {
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        text = await response.text();
      }
    } catch (error) {
      throw new SluiceError('INVALID_CONFIG', `Cannot read the JWKS at sasl.oauthbearer.jwks.endpoint.url ${url}: ${(error as Error).message}`);
    }
    let set: { keys?: unknown };
    try {
      set = JSON.parse(text) as { keys?: unknown };
    } catch {
      throw new SluiceError('INVALID_CONFIG', `The JWKS at ${url} is not JSON`);
    }
    if (!Array.isArray(set.keys)) throw new SluiceError('INVALID_CONFIG', `The JWKS at ${url} has no keys array`);
    this.keys = set.keys.flatMap((jwk: Record<string, unknown>) => {
      if (jwk.use !== undefined && jwk.use !== 'sig') return [];
      try {
        return [{ kid: typeof jwk.kid === 'string' ? jwk.kid : undefined, kty: String(jwk.kty), key: crypto.createPublicKey({ key: jwk as crypto.JsonWebKey, format: 'jwk' }) }];
      } catch {
        return []; // a key type Node cannot use signs no token we can check
      }
    });
  }

  validate(token: string, nowMs: number): TokenCheck {
    const jwt = parseJwt(token);
    if (typeof jwt === 'string') return { ok: false, message: jwt };
    const signed = this.checkSignature(jwt, nowMs);
    return signed === null ? checkClaims(jwt.claims, this.rules, nowMs) : { ok: false, message: signed };
  }

  /** Why the signature does not verify, or null when it does. */
  private checkSignature(jwt: Jwt, nowMs: number): string | null {
    const algorithm = ALGORITHMS.get(String(jwt.header.alg));
    if (algorithm === undefined) return `the token's alg ${String(jwt.header.alg)} is not a signature algorithm sluice checks (RS*, PS*, ES*)`;
    const kid = typeof jwt.header.kid === 'string' ? jwt.header.kid : undefined;
    const candidates = this.keys.filter((key) => key.kty === algorithm.kty && (kid === undefined || key.kid === kid));
    if (candidates.length === 0) {
      if (nowMs - this.lastRefreshMs >= UNKNOWN_KID_REFRESH_MIN_MS) this.refresh().catch((error) => this.onRefreshError(error as Error));
      return `no key of the JWKS matches the token's kid ${kid ?? '(none)'}`;
    }
    const data = Buffer.from(jwt.signingInput, 'ascii');
    const verified = candidates.some(({ key }) => {
      try {
        return crypto.verify(algorithm.digest, data, { key, ...algorithm.options } as crypto.VerifyKeyObjectInput, jwt.signature);
      } catch {
        return false; // a signature of the wrong length for the key
      }
    });
    return verified ? null : 'the token\'s signature does not verify';
  }

  close(): void {
    clearInterval(this.timer);
  }
}
