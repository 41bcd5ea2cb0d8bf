// One connection's SASL authentication on a SASL_PLAINTEXT listener, as Kafka's
// SaslServerAuthenticator runs it:
//
//   ApiVersions (any number, optional) -> SaslHandshake (picks the mechanism)
//     -> v1: SaslAuthenticate requests carry the tokens   -> authenticated
//     -> v0: the next frames are the bare tokens, no header -> authenticated
//
// PLAIN takes one token; SCRAM two (the client's first and final messages, each answered);
// OAUTHBEARER one, the bearer token (oauthbearer.ts), or two when it is refused: the error goes
// back as a challenge, and the client's acknowledgement (one SOH) gets the failure, as in Kafka.
// Until then no other request is served: the connection closes on one (Kafka's "Unexpected Kafka
// request of type X during SASL handshake"). A failed authentication is answered
// SASL_AUTHENTICATION_FAILED, and the connection closes after connection.failed.authentication.delay.ms.
//
// Re-authentication (KIP-368): with connections.max.reauth.ms set, a login lasts that long
// (SaslAuthenticate v1+ tells the client, as sessionLifetimeMs). The client logs in again on the
// same connection, SaslHandshake v1 then SaslAuthenticate, with the same mechanism and as the same
// user; a request after the session has expired closes the connection, as Kafka's broker does, so
// a user whose password changed or whose credential was deleted is out within that time. Unlike
// Kafka's broker, requests pipelined beside a re-authentication are served under the login still
// running, until it expires: the client need not hold them back.
import type { SaslCredentials } from '../../client/sasl.js';
import { KafkaErrorCode } from '../../errors.js';
import { isScramMechanism, ScramServer, type ScramCredential, type ScramMechanism, type ScramTokenLogin } from '../../protocol/scram.js';
import { parseOAuthBearerResponse } from '../../protocol/oauthbearer.js';
import type { OAuthBearerValidator } from './oauthbearer.js';
import { checkPlainToken } from './plain.js';

export interface SaslSettings {
  /** sasl.enabled.mechanisms that sluice serves (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), in the order given. */
  mechanisms: string[];
  /** PLAIN's users and their passwords (the JAAS line's user_NAME options); empty when PLAIN is not enabled. */
  plainUsers: ReadonlyMap<string, string>;
  /** connection.failed.authentication.delay.ms: a failed client waits this long for the close. */
  failedAuthenticationDelayMs: number;
  /**
   * connections.max.reauth.ms by mechanism (a listener's and mechanism's own setting over the
   * broker's): how long a login lasts before the client must log in again; 0 (or none) for ever.
   */
  maxReauthMs: Readonly<Record<string, number>>;
  /** OAUTHBEARER's token validator when it is enabled, else null. */
  oauthBearer: OAuthBearerValidator | null;
  /**
   * How this broker logs in to the other brokers of its cluster: the JAAS line's username and
   * password, with sasl.mechanism.inter.broker.protocol, as in Kafka. Undefined for a single broker.
   */
  interBroker?: SaslCredentials;
}

/** The stored SCRAM credential of a user (ScramCredentials.lookup). */
export type ScramLookup = (user: string, mechanism: ScramMechanism) => ScramCredential | undefined;

/** A delegation token's SCRAM login by its id (DelegationTokens.scramLogin); null when the broker issues none. */
export type TokenLookup = ((tokenId: string, mechanism: ScramMechanism) => ScramTokenLogin | undefined) | null;

export type SaslState = 'handshake' | 'authenticate' | 'token' | 'authenticated' | 'failed';

/** Whether a connection's requests other than ApiVersions and the SASL ones are served. */
export type SaslAccess = 'served' | 'unauthenticated' | 'expired';

export interface AuthenticateOutcome {
  errorCode: number;
  errorMessage: string | null;
  /** The server's token for the client (SCRAM's server-first and server-final messages); empty for PLAIN. */
  reply: Buffer;
}

const NO_TOKEN = Buffer.alloc(0);

export class SaslSession {
  private stateNow: SaslState = 'handshake';
  private mechanism: string | null = null;
  private scram: ScramServer | null = null;
  /** An OAUTHBEARER token was refused: the failure that answers the client's acknowledgement. */
  private oauthBearerFailure: string | null = null;
  /** The user the client logged in as (its principal is User:NAME), null before. */
  user: string | null = null;
  /** The login was a delegation token's (KIP-48): such a connection cannot ask for or manage tokens. */
  tokenAuthenticated = false;
  /** When the login stops serving requests (connections.max.reauth.ms after it); Infinity: never. */
  private expiresAtMs = Infinity;

  constructor(
    readonly settings: SaslSettings,
    private readonly scramLookup: ScramLookup,
    private readonly tokenLookup: TokenLookup = null,
  ) {}

  get state(): SaslState {
    return this.stateNow;
  }

  /**
   * Whether other requests are served now: once logged in (a re-authentication in progress keeps
   * the login it replaces), until the login expires.
   */
  access(nowMs: number): SaslAccess {
    if (this.user === null || this.stateNow === 'failed') return 'unauthenticated';
    return nowMs < this.expiresAtMs ? 'served' : 'expired';
  }

  /** SaslAuthenticate v1+'s session_lifetime_ms: what is left of the login; 0 when it does not expire. */
  sessionLifetimeMs(nowMs: number): number {
    return this.expiresAtMs === Infinity ? 0 : Math.max(this.expiresAtMs - nowMs, 0);
  }

  /** The mechanism the handshake picked, for logs. */
  get mechanismName(): string | null {
    return this.mechanism;
  }

  /**
   * SaslHandshake: the mechanism the client asks for. v0 sends the tokens next as bare frames;
   * v1 in SaslAuthenticate requests.
   */
  handshake(mechanism: string, version: number): number {
    // A re-authentication (KIP-368) takes SaslHandshake v1 and the mechanism of the first login.
    const reauthentication = this.stateNow === 'authenticated';
    if (reauthentication ? version === 0 || mechanism !== this.mechanism : this.stateNow !== 'handshake') return KafkaErrorCode.ILLEGAL_SASL_STATE;
    if (!this.settings.mechanisms.includes(mechanism)) return KafkaErrorCode.UNSUPPORTED_SASL_MECHANISM;
    this.mechanism = mechanism;
    if (isScramMechanism(mechanism)) {
      const tokens = this.tokenLookup;
      this.scram = new ScramServer(mechanism, (user) => this.scramLookup(user, mechanism), undefined, tokens === null ? undefined : (tokenId) => tokens(tokenId, mechanism));
    }
    this.stateNow = version === 0 ? 'token' : 'authenticate';
    return KafkaErrorCode.NONE;
  }

  /** A token, from SaslAuthenticate or a bare frame after a v0 handshake. */
  authenticate(token: Buffer): AuthenticateOutcome {
    if (this.stateNow !== 'authenticate' && this.stateNow !== 'token') {
      return { errorCode: KafkaErrorCode.ILLEGAL_SASL_STATE, errorMessage: `Unexpected SaslAuthenticate in the ${this.stateNow} state`, reply: NO_TOKEN };
    }
    if (this.scram !== null) return this.scramStep(this.scram, token);
    if (this.mechanism === 'OAUTHBEARER') return this.oauthBearerStep(token);
    const outcome = checkPlainToken(token, this.settings.plainUsers);
    return outcome.ok ? this.succeed(outcome.user, NO_TOKEN) : this.fail(outcome.message);
  }

  private scramStep(scram: ScramServer, token: Buffer): AuthenticateOutcome {
    // The first token is the client-first-message; the exchange stays open for the final one.
    if (scram.awaitingFirst) {
      const first = scram.first(token);
      return first.ok ? { errorCode: KafkaErrorCode.NONE, errorMessage: null, reply: first.reply } : this.fail(first.message);
    }
    const final = scram.final(token);
    if (!final.ok) return this.fail(final.message);
    // A token's login lasts until the token expires (Kafka's credential lifetime, KIP-368).
    const outcome = this.succeed(final.user, final.reply, final.expiresAtMs);
    if (outcome.errorCode === KafkaErrorCode.NONE) this.tokenAuthenticated = final.tokenAuthenticated;
    return outcome;
  }

  private oauthBearerStep(token: Buffer): AuthenticateOutcome {
    if (this.oauthBearerFailure !== null) return this.fail(this.oauthBearerFailure);
    const response = parseOAuthBearerResponse(token);
    if (response === null) return this.fail('Authentication failed: not an OAUTHBEARER client initial response (RFC 7628)');
    const check = this.settings.oauthBearer!.validate(response.token, Date.now());
    if (!check.ok) {
      this.oauthBearerFailure = `Authentication failed: ${check.message}`;
      return { errorCode: KafkaErrorCode.NONE, errorMessage: null, reply: Buffer.from(JSON.stringify({ status: 'invalid_token' }), 'utf8') };
    }
    if (response.authorizationId !== '' && response.authorizationId !== check.principal) {
      return this.fail(`Authentication failed: the authorization id ${response.authorizationId} is not the token's principal ${check.principal}`);
    }
    return this.succeed(check.principal, NO_TOKEN, check.expiresAtMs);
  }

  /** `credentialExpiresAtMs`: when the credential itself ends (an OAUTHBEARER token's exp). */
  private succeed(user: string, reply: Buffer, credentialExpiresAtMs = Infinity): AuthenticateOutcome {
    // As Kafka's: a connection stays one principal's.
    if (this.user !== null && user !== this.user) return this.fail(`Cannot change principals during re-authentication from User:${this.user}: User:${user}`);
    this.stateNow = 'authenticated';
    this.user = user;
    // KIP-368: the login lasts until the credential ends or connections.max.reauth.ms, the sooner.
    const maxReauthMs = this.settings.maxReauthMs[this.mechanism!] ?? 0;
    this.expiresAtMs = Math.min(maxReauthMs > 0 ? Date.now() + maxReauthMs : Infinity, credentialExpiresAtMs);
    return { errorCode: KafkaErrorCode.NONE, errorMessage: null, reply };
  }

  private fail(message: string): AuthenticateOutcome {
    this.stateNow = 'failed';
    return { errorCode: KafkaErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: message, reply: NO_TOKEN };
  }
}
