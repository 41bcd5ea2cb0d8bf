// SaslHandshake (17) and SaslAuthenticate (36). On a SASL_PLAINTEXT listener they run the
// connection's authentication (sasl/sasl-session.ts); on a PLAINTEXT one, or once authenticated,
// they are ILLEGAL_SASL_STATE, as in Kafka (re-authentication, KIP-368, is not implemented).
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
    // 0: the session does not expire (connections.max.reauth.ms is not implemented).
    return { errorCode, errorMessage, authBytes: reply, sessionLifetimeMs: 0n };
  },
});
