// SASL/OAUTHBEARER's messages (RFC 7628, as Kafka sends them, KIP-255): the client's initial
// response carries a bearer token, and a server that refuses it answers a JSON error as a
// challenge, which the client acknowledges with one SOH (0x01) before the failure.
//
//   client:  n,[a=authzid],^Aauth=Bearer <token>^A[key=value^A...]^A
//   server:  ''  (accepted)  |  {"status":"invalid_token"}  then, to the client's ^A, a failure
//
// Tokens are JWTs (RFC 7519) in compact form: base64url(header).base64url(claims).signature; the
// unsecured ones Kafka's default login and validator use (OAuthBearerUnsecuredJws) have the
// header {"alg":"none"} and an empty signature. The format is a few lines, so no library.

const SOH = '\u0001';

/** The client's initial response for `token`, with SASL extensions (KIP-342) if any. */
export function encodeOAuthBearerResponse(token: string, extensions: Readonly<Record<string, string>> = {}): Buffer {
  const pairs = [`auth=Bearer ${token}`, ...Object.entries(extensions).map(([key, value]) => `${key}=${value}`)];
  return Buffer.from(`n,,${SOH}${pairs.join(SOH)}${SOH}${SOH}`, 'utf8');
}

export interface OAuthBearerResponse {
  token: string;
  authorizationId: string;
  extensions: Map<string, string>;
}

/** The client's initial response, or null when it is not one (RFC 7628 section 3.1). */
export function parseOAuthBearerResponse(bytes: Buffer): OAuthBearerResponse | null {
  const text = bytes.toString('utf8');
  const match = /^n,(?:a=([^,]*))?,\u0001((?:[A-Za-z]+=[\x21-\x7E \t\r\n]*\u0001)*)\u0001$/.exec(text);
  if (match === null) return null;
  const extensions = new Map<string, string>();
  let token: string | null = null;
  for (const pair of match[2]!.split(SOH).filter((item) => item !== '')) {
    const equals = pair.indexOf('=');
    const key = pair.slice(0, equals);
    const value = pair.slice(equals + 1);
    if (key === 'auth') {
      const bearer = /^Bearer +([\x20-\x7E]+)$/i.exec(value);
      if (bearer === null) return null;
      token = bearer[1]!.trim();
    } else extensions.set(key, value);
  }
  return token === null ? null : { token, authorizationId: match[1] ?? '', extensions };
}

/** The client's acknowledgement of the server's error challenge. */
export const OAUTHBEARER_ERROR_ACK = Buffer.from(SOH, 'utf8');

export interface Jwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** The bytes the signature covers: base64url(header).base64url(claims). */
  signingInput: string;
  signature: Buffer;
}

/** A compact JWT's parts, or a reason it is not one. */
export function parseJwt(token: string): Jwt | string {
  const parts = token.split('.');
  if (parts.length !== 3) return `a JWT has 3 parts separated by '.', this one has ${parts.length}`;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as unknown;
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    if (!isObject(header) || !isObject(claims)) return 'the JWT header and claims must be JSON objects';
    return { header, claims, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2]!, 'base64url') };
  } catch {
    return 'the JWT header or claims are not base64url-encoded JSON';
  }
}

/** An unsecured JWT (alg none), as Kafka's OAuthBearerUnsecuredLoginCallbackHandler makes one. */
export function unsecuredJwt(claims: Readonly<Record<string, unknown>>): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
  return `${encode({ alg: 'none' })}.${encode(claims)}.`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
