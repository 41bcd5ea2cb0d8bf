// SASL/PLAIN on the broker (RFC 4616), with its users taken from a JAAS config line as Kafka's
// PlainLoginModule takes them:
//
//   listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \
//       username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";
//
// Each `user_NAME="password"` option is a user (Kafka's PlainServerCallbackHandler); `username`
// and `password` are what the broker itself would log in with (jaas.ts). A PLAIN token is three
// NUL-separated fields: checked here, as no library does it in fewer lines.
import crypto from 'node:crypto';

import { SluiceError } from '../../errors.js';
import { PLAIN_LOGIN_MODULE, type JaasConfig } from './jaas.js';

/** The users of a PlainLoginModule JAAS line: user_NAME="password" options. */
export function plainUsers(jaas: JaasConfig, configName: string): Map<string, string> {
  if (jaas.loginModule !== PLAIN_LOGIN_MODULE) {
    throw new SluiceError('INVALID_CONFIG', `Invalid ${configName}: PLAIN takes ${PLAIN_LOGIN_MODULE}, not ${jaas.loginModule}`);
  }
  const users = new Map<string, string>();
  for (const [key, value] of jaas.options) if (key.startsWith('user_') && key.length > 'user_'.length) users.set(key.slice('user_'.length), value);
  return users;
}

export type PlainOutcome = { ok: true; user: string } | { ok: false; message: string };

/**
 * Checks a PLAIN token, `[authzid] NUL authcid NUL password`, against `users`. As Kafka's
 * PlainSaslServer: an authorization id other than the user's own is refused, and a wrong user and
 * a wrong password get the same message. Passwords are compared by their digests in constant time.
 */
export function checkPlainToken(token: Buffer, users: ReadonlyMap<string, string>): PlainOutcome {
  const first = token.indexOf(0);
  const second = first < 0 ? -1 : token.indexOf(0, first + 1);
  if (first < 0 || second < 0 || token.indexOf(0, second + 1) >= 0) {
    return { ok: false, message: 'Invalid SASL/PLAIN response: expected 3 tokens separated by NUL' };
  }
  const authorizationId = token.toString('utf8', 0, first);
  const user = token.toString('utf8', first + 1, second);
  const password = token.subarray(second + 1);
  if (user === '') return { ok: false, message: 'Authentication failed: username not specified' };
  if (password.length === 0) return { ok: false, message: 'Authentication failed: password not specified' };
  if (authorizationId !== '' && authorizationId !== user) {
    return { ok: false, message: 'Authentication failed: Client requested an authorization id that is different from username' };
  }
  const expected = users.get(user);
  const digest = (bytes: Buffer | string) => crypto.createHash('sha256').update(bytes).digest();
  // Hashed either way, so an unknown user takes as long as a wrong password.
  const matches = crypto.timingSafeEqual(digest(password), digest(expected ?? crypto.randomBytes(16)));
  return matches && expected !== undefined ? { ok: true, user } : { ok: false, message: 'Authentication failed: Invalid username or password' };
}
