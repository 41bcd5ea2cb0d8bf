// SaslHandshake (key 17), versions 0-1, never flexible: Kafka's SaslHandshakeRequest/Response.json.
// v0: the SASL tokens that follow are raw (size-prefixed) frames; v1: they travel in
// SaslAuthenticate requests (KIP-152).
import { defineMessage, type Decoded } from '../schema.js';

export const SaslHandshakeRequest = defineMessage({
  name: 'SaslHandshakeRequest',
  apiKey: 17,
  type: 'request',
  validVersions: [0, 1],
  flexibleVersions: 'none',
  fields: [{ name: 'mechanism', type: 'string', versions: '0+' }],
});

export const SaslHandshakeResponse = defineMessage({
  name: 'SaslHandshakeResponse',
  apiKey: 17,
  type: 'response',
  validVersions: [0, 1],
  flexibleVersions: 'none',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'mechanisms', type: '[]string', versions: '0+' },
  ],
});

export type SaslHandshakeRequestBody = Decoded<typeof SaslHandshakeRequest>;
export type SaslHandshakeResponseBody = Decoded<typeof SaslHandshakeResponse>;
