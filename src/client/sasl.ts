// The client's side of SASL, run on a new connection to a SASL_PLAINTEXT listener right after
// ApiVersions, as Kafka's clients run it: SaslHandshake v1 names the mechanism, then
// SaslAuthenticate requests carry the tokens (PLAIN: one; SCRAM: two, and the server's proof that
// it knows the password is checked; OAUTHBEARER: the bearer token, and when the server answers an
// error challenge, the acknowledgement that gets the failure). A refusal fails the connection with Kafka's error name
// (SASL_AUTHENTICATION_FAILED, UNSUPPORTED_SASL_MECHANISM). A broker with connections.max.reauth.ms
// answers how long the login lasts (session_lifetime_ms, KIP-368); the connection then logs in
// again before that (BrokerConnection), as Kafka's clients do.
import { KafkaErrorCode, SluiceError, isSluiceError, kafkaErrorName } from '../errors.js';
import { ApiKey } from '../protocol/api-keys.js';
import type { SaslAuthenticateResponseBody, SaslHandshakeResponseBody } from '../protocol/index.js';
import { ScramClient, type ScramMechanism } from '../protocol/scram.js';
import { encodeOAuthBearerResponse, OAUTHBEARER_ERROR_ACK } from '../protocol/oauthbearer.js';

/** The mechanisms the client logs in with. */
export type SaslMechanism = 'PLAIN' | ScramMechanism | 'OAUTHBEARER';
export const SASL_MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];

/**
 * A login: a user and password (PLAIN, SCRAM), or a bearer token (OAUTHBEARER), asked for at each
 * login so that a re-authentication (KIP-368) sends a fresh one.
 */
export type SaslCredentials =
  | { mechanism: 'PLAIN'; username: string; password: string }
  /** `tokenAuth`: username and password are a delegation token's id and HMAC in base64 (KIP-48). */
  | { mechanism: ScramMechanism; username: string; password: string; tokenAuth?: boolean }
  | { mechanism: 'OAUTHBEARER'; token: () => string | Promise<string> };

/** A refused login: the broker answered the mechanism or the credentials with an error. */
export function isSaslError(error: unknown): error is SluiceError {
  return isSluiceError(error, 'SASL_AUTHENTICATION_FAILED') || isSluiceError(error, 'UNSUPPORTED_SASL_MECHANISM') || isSluiceError(error, 'ILLEGAL_SASL_STATE');
}

/** What of a connection the exchange needs (BrokerConnection.request). */
export interface SaslChannel {
  request<T>(apiKey: number, body: object, version?: number): Promise<T>;
  versionOf(apiKey: number): number | undefined;
}

/**
 * Authenticates `channel` with `credentials`; throws a SluiceError named as Kafka names the failure.
 * Resolves with how long the login lasts (the broker's session_lifetime_ms; 0 for as long as the connection).
 */
export async function authenticate(channel: SaslChannel, credentials: SaslCredentials, broker: string): Promise<number> {
  if (channel.versionOf(ApiKey.SaslHandshake) === undefined || channel.versionOf(ApiKey.SaslAuthenticate) === undefined) {
    throw new SluiceError('UNSUPPORTED_SASL_MECHANISM', `${broker} does not serve SaslHandshake v1 and SaslAuthenticate: it cannot authenticate ${credentials.mechanism}`);
  }
  const handshake = await channel.request<SaslHandshakeResponseBody>(ApiKey.SaslHandshake, { mechanism: credentials.mechanism }, 1);
  if (handshake.errorCode !== KafkaErrorCode.NONE) {
    const name = kafkaErrorName(handshake.errorCode);
    throw new SluiceError(name, `${broker} refused SASL mechanism ${credentials.mechanism} (${name}); it enables ${handshake.mechanisms.join(', ') || 'none'}`);
  }
  let sessionLifetimeMs = 0;
  const step = async (token: Buffer): Promise<Buffer> => {
    const answer = await channel.request<SaslAuthenticateResponseBody>(ApiKey.SaslAuthenticate, { authBytes: token });
    if (answer.errorCode !== KafkaErrorCode.NONE) {
      const name = kafkaErrorName(answer.errorCode);
      throw new SluiceError(name, `${broker}: ${answer.errorMessage ?? name}`);
    }
    sessionLifetimeMs = Number(answer.sessionLifetimeMs);
    return answer.authBytes;
  };
  if (credentials.mechanism === 'PLAIN') {
    await step(Buffer.from(`\0${credentials.username}\0${credentials.password}`, 'utf8'));
    return sessionLifetimeMs;
  }
  if (credentials.mechanism === 'OAUTHBEARER') {
    const challenge = await step(encodeOAuthBearerResponse(await credentials.token()));
    // A refused token comes back as a JSON error; the acknowledgement gets the broker's failure.
    if (challenge.length > 0) {
      await step(OAUTHBEARER_ERROR_ACK);
      throw new SluiceError('SASL_AUTHENTICATION_FAILED', `${broker} refused the token: ${challenge.toString('utf8')}`);
    }
    return sessionLifetimeMs;
  }
  const scram = new ScramClient(credentials.mechanism, credentials.username, credentials.password, undefined, credentials.tokenAuth === true);
  const serverFirst = await step(scram.first());
  const serverFinal = await step(asAuthenticationFailure(() => scram.final(serverFirst), broker));
  asAuthenticationFailure(() => scram.verify(serverFinal), broker);
  return sessionLifetimeMs;
}

/** A SCRAM message the server sent that does not check out: the login fails, as in Kafka's client. */
function asAuthenticationFailure<T>(run: () => T, broker: string): T {
  try {
    return run();
  } catch (error) {
    throw new SluiceError('SASL_AUTHENTICATION_FAILED', `${broker}: ${(error as Error).message}`, { cause: error });
  }
}
