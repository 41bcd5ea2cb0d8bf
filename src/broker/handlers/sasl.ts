// SaslHandshake (17) and SaslAuthenticate (36). On a SASL_PLAINTEXT listener they run the
// connection's authentication (sasl/sasl-session.ts), and its re-authentications (KIP-368); on a
// PLAINTEXT one they are ILLEGAL_SASL_STATE, as in Kafka.
import { ApiKey } from '../../protocol/api-keys.js';
import { KafkaErrorCode } from '../../errors.js';
import { defineHandler } from '../handler.js';

export const saslHandshakeHandler = defineHandler({
  apiKey: ApiKey.SaslHandshake,
  minVersion: 0,
  maxVersion: 1,
  handle: (context, request) => {
    const sasl = context.sasl;
    if (sasl === null) return { errorCode: KafkaErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
    return { errorCode: sasl.handshake(request.mechanism, context.header.apiVersion), mechanisms: sasl.settings.mechanisms };
  },
});

export const saslAuthenticateHandler = defineHandler({
  apiKey: ApiKey.SaslAuthenticate,
  minVersion: 0,
  maxVersion: 2,
  handle: (context, request) => {
    const sasl = context.sasl;
    if (sasl === null) return { errorCode: KafkaErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SaslAuthenticate on a listener without SASL', authBytes: Buffer.alloc(0) };
    const { errorCode, errorMessage, reply } = sasl.authenticate(request.authBytes);
    // v1+: how long the login lasts (connections.max.reauth.ms; 0, for ever, by default).
    const sessionLifetimeMs = errorCode === KafkaErrorCode.NONE ? BigInt(sasl.sessionLifetimeMs(Date.now())) : 0n;
    return { errorCode, errorMessage, authBytes: reply, sessionLifetimeMs };
  },
});
