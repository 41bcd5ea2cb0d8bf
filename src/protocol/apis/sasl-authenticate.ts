// SaslAuthenticate (key 36), versions 0-2, flexible from 2: Kafka's SaslAuthenticateRequest/
// Response.json (KIP-152). v1 sessionLifetimeMs (re-authentication, KIP-368); v2 flexible.
import { defineMessage, type Decoded } from '../schema.js';

export const SaslAuthenticateRequest = defineMessage({
  name: 'SaslAuthenticateRequest',
  apiKey: 36,
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: '2+',
  fields: [{ name: 'authBytes', type: 'bytes', versions: '0+' }],
});

export const SaslAuthenticateResponse = defineMessage({
  name: 'SaslAuthenticateResponse',
  apiKey: 36,
  type: 'response',
  validVersions: [0, 2],
  flexibleVersions: '2+',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'authBytes', type: 'bytes', versions: '0+' },
    { name: 'sessionLifetimeMs', type: 'int64', versions: '1+', default: 0 },
  ],
});

export type SaslAuthenticateRequestBody = Decoded<typeof SaslAuthenticateRequest>;
export type SaslAuthenticateResponseBody = Decoded<typeof SaslAuthenticateResponse>;
