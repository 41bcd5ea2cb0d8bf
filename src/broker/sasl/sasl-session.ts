// One connection's SASL authentication on a SASL_PLAINTEXT listener, as Kafka's
// SaslServerAuthenticator runs it:
//
//   ApiVersions (any number, optional) -> SaslHandshake (picks the mechanism)
//     -> v1: SaslAuthenticate requests carry the tokens   -> authenticated
//     -> v0: the next frame is the bare token, no header  -> authenticated
//
// Until then no other request is served: the connection closes on one (Kafka's "Unexpected Kafka
// request of type X during SASL handshake"). A failed authentication is answered
// SASL_AUTHENTICATION_FAILED, and the connection closes after connection.failed.authentication.delay.ms.
import { KafkaErrorCode } from '../../errors.js';
import { checkPlainToken } from './plain.js';

export interface SaslSettings {
  /** sasl.enabled.mechanisms that sluice serves, in the order given (PLAIN only, today). */
  mechanisms: string[];
  /** PLAIN's users and their passwords (the JAAS line's user_NAME options). */
  plainUsers: ReadonlyMap<string, string>;
  /** connection.failed.authentication.delay.ms: a failed client waits this long for the close. */
  failedAuthenticationDelayMs: number;
}

export type SaslState = 'handshake' | 'authenticate' | 'token' | 'authenticated' | 'failed';

export type AuthenticateOutcome = { errorCode: number; errorMessage: string | null };

export class SaslSession {
  private stateNow: SaslState = 'handshake';
  private mechanism: string | null = null;
  /** Kafka's principal of the authenticated client (User:NAME), null before. */
  principal: string | null = null;

  constructor(readonly settings: SaslSettings) {}

  get state(): SaslState {
    return this.stateNow;
  }

  /** Until then, only ApiVersions and the SASL requests are served. */
  get authenticated(): boolean {
    return this.stateNow === 'authenticated';
  }

  /**
   * SaslHandshake: the mechanism the client asks for. v0 sends the token next as a bare frame;
   * v1 in SaslAuthenticate requests.
   */
  handshake(mechanism: string, version: number): number {
    if (this.stateNow !== 'handshake') return KafkaErrorCode.ILLEGAL_SASL_STATE;
    if (!this.settings.mechanisms.includes(mechanism)) return KafkaErrorCode.UNSUPPORTED_SASL_MECHANISM;
    this.mechanism = mechanism;
    this.stateNow = version === 0 ? 'token' : 'authenticate';
    return KafkaErrorCode.NONE;
  }

  /** A token, from SaslAuthenticate or a bare frame after a v0 handshake. */
  authenticate(token: Buffer): AuthenticateOutcome {
    if (this.stateNow !== 'authenticate' && this.stateNow !== 'token') {
      return { errorCode: KafkaErrorCode.ILLEGAL_SASL_STATE, errorMessage: `Unexpected SaslAuthenticate in the ${this.stateNow} state` };
    }
    // PLAIN is the one mechanism a handshake can have picked (settings.mechanisms).
    const outcome = checkPlainToken(token, this.settings.plainUsers);
    if (!outcome.ok) {
      this.stateNow = 'failed';
      return { errorCode: KafkaErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: outcome.message };
    }
    this.stateNow = 'authenticated';
    this.principal = `User:${outcome.user}`;
    return { errorCode: KafkaErrorCode.NONE, errorMessage: null };
  }

  /** The mechanism the handshake picked, for logs. */
  get mechanismName(): string | null {
    return this.mechanism;
  }
}
