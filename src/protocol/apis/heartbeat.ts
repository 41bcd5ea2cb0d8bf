// Heartbeat (key 12), versions 0-4, flexible from 4: Kafka's HeartbeatRequest/Response.json.
// v1 throttle time; v3 groupInstanceId (KIP-345); v4 flexible.
import { defineMessage, type Decoded } from '../schema.js';

export const HeartbeatRequest = defineMessage({
  name: 'HeartbeatRequest',
  apiKey: 12,
  type: 'request',
  validVersions: [0, 4],
  flexibleVersions: '4+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'generationId', type: 'int32', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0+' },
    { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
  ],
});

export const HeartbeatResponse = defineMessage({
  name: 'HeartbeatResponse',
  apiKey: 12,
  type: 'response',
  validVersions: [0, 4],
  flexibleVersions: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
  ],
});

export type HeartbeatRequestBody = Decoded<typeof HeartbeatRequest>;
export type HeartbeatResponseBody = Decoded<typeof HeartbeatResponse>;
