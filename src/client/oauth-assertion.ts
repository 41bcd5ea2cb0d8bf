// The assertion of the jwt-bearer grant (RFC 7523, Kafka's JwtBearerJwtRetriever, KIP-1139): a JWT
// the client signs with its own private key and sends to the token endpoint instead of a client
// secret. Made as Kafka makes it, in three layers, each overriding the one before:
//   1. the claims of the configs: sasl.oauthbearer.assertion.claim.aud, .iss and .sub;
//   2. sasl.oauthbearer.assertion.template.file, JSON {"header": {...}, "payload": {...}};
//   3. what is made at each request: header alg and typ "JWT"; claims iat (now), exp (now +
//      sasl.oauthbearer.assertion.claim.exp.seconds, 300), nbf (now - ...nbf.seconds, 60) and, with
//      ...claim.jti.include=true, a random jti.
// Signed RS256 (RSASSA-PKCS1-v1_5 with SHA-256) or ES256 (ECDSA P-256, the signature as r||s, as
// JWS wants it) with the PKCS#8 PEM key of sasl.oauthbearer.assertion.private.key.file, encrypted
// or not (...private.key.passphrase). With sasl.oauthbearer.assertion.file, the file holds a
// finished assertion and the rest is not used. Files are read at each token request, so a key or
// assertion replaced on disk is taken at the next refresh (Kafka watches its files for the same).
//
// node:crypto signs; a JWT library would bring nothing a dozen lines here do not.
import crypto from 'node:crypto';
import fs from 'node:fs';

import { SluiceError } from '../errors.js';

export const ASSERTION_ALGORITHMS = ['RS256', 'ES256'] as const;
export type AssertionAlgorithm = (typeof ASSERTION_ALGORITHMS)[number];

export interface AssertionSettings {
  /** sasl.oauthbearer.assertion.file: a finished assertion; when set, the rest is not used. */
  file: string | undefined;
  privateKeyFile: string | undefined;
  passphrase: string | undefined;
  algorithm: AssertionAlgorithm;
  /** aud, iss and sub from the configs, those given. */
  claims: Readonly<Record<string, string>>;
  templateFile: string | undefined;
  expSeconds: number;
  nbfSeconds: number;
  includeJti: boolean;
}

/** The key type each algorithm signs with (Kafka's AssertionUtils.keyAlgorithm). */
const KEY_TYPES: Readonly<Record<AssertionAlgorithm, string>> = { RS256: 'rsa', ES256: 'ec' };

/** A new assertion as `settings` make it at `nowMs`; SASL_AUTHENTICATION_FAILED when a file cannot be read or the key cannot sign. */
export function makeAssertion(settings: AssertionSettings, nowMs = Date.now()): string {
  if (settings.file !== undefined) {
    const assertion = readFile(settings.file, 'sasl.oauthbearer.assertion.file').trim();
    if (assertion.split('.').length !== 3) throw failure(`sasl.oauthbearer.assertion.file ${settings.file} does not hold a JWT (header.payload.signature)`);
    return assertion;
  }
  const template = settings.templateFile === undefined ? { header: {}, payload: {} } : readTemplate(settings.templateFile);
  const nowSeconds = Math.floor(nowMs / 1000);
  const header = { ...template.header, alg: settings.algorithm, typ: 'JWT' };
  const payload: Record<string, unknown> = {
    ...settings.claims,
    ...template.payload,
    iat: nowSeconds,
    exp: nowSeconds + settings.expSeconds,
    nbf: nowSeconds - settings.nbfSeconds,
  };
  if (settings.includeJti) payload.jti = crypto.randomUUID();
  const input = `${base64url(header)}.${base64url(payload)}`;
  return `${input}.${sign(settings, input)}`;
}

function sign(settings: AssertionSettings, input: string): string {
  const pem = readFile(settings.privateKeyFile!, 'sasl.oauthbearer.assertion.private.key.file');
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey({ key: pem, format: 'pem', passphrase: settings.passphrase });
  } catch (error) {
    throw failure(`sasl.oauthbearer.assertion.private.key.file ${settings.privateKeyFile} is not a PEM private key${settings.passphrase === undefined ? '' : ' that the passphrase opens'}: ${(error as Error).message}`);
  }
  const wanted = KEY_TYPES[settings.algorithm];
  if (key.asymmetricKeyType !== wanted) throw failure(`${settings.algorithm} signs with an ${wanted.toUpperCase()} key; sasl.oauthbearer.assertion.private.key.file holds an ${String(key.asymmetricKeyType).toUpperCase()} one`);
  const signature = settings.algorithm === 'ES256' ? crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }) : crypto.sign('sha256', Buffer.from(input), key);
  return signature.toString('base64url');
}

/** Kafka's template file: {"header": {...}, "payload": {...}}, either optional. */
function readTemplate(file: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFile(file, 'sasl.oauthbearer.assertion.template.file'));
  } catch (error) {
    if (error instanceof SluiceError) throw error;
    throw failure(`sasl.oauthbearer.assertion.template.file ${file} is not JSON`);
  }
  const section = (name: string): Record<string, unknown> => {
    const value = (parsed as Record<string, unknown> | null)?.[name];
    if (value === undefined) return {};
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw failure(`sasl.oauthbearer.assertion.template.file ${file}: "${name}" must be a JSON object`);
    return value as Record<string, unknown>;
  };
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw failure(`sasl.oauthbearer.assertion.template.file ${file} must hold a JSON object`);
  return { header: section('header'), payload: section('payload') };
}

function readFile(file: string, config: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw failure(`Cannot read ${config} ${file}: ${(error as Error).message}`);
  }
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function failure(message: string): SluiceError {
  return new SluiceError('SASL_AUTHENTICATION_FAILED', message);
}
