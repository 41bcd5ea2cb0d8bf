// SyncGroup (key 14), versions 0-5, flexible from 4: Kafka's SyncGroupRequest/Response.json.
// v1 throttle time; v3 groupInstanceId (KIP-345); v4 flexible; v5 protocolType/protocolName on
// both sides (KIP-559).
import { defineMessage, type Decoded } from '../schema.js';

export const SyncGroupRequest = defineMessage({
  name: 'SyncGroupRequest',
  apiKey: 14,
  type: 'request',
  validVersions: [0, 5],
  flexibleVersions: '4+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'generationId', type: 'int32', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0+' },
    { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
    { name: 'protocolType', type: 'string', versions: '5+', nullableVersions: '5+', default: null },
    { name: 'protocolName', type: 'string', versions: '5+', nullableVersions: '5+', default: null },
    {
      name: 'assignments',
      type: '[]SyncGroupRequestAssignment',
      versions: '0+',
      fields: [
        { name: 'memberId', type: 'string', versions: '0+' },
        { name: 'assignment', type: 'bytes', versions: '0+' },
      ],
    },
  ],
});

export const SyncGroupResponse = defineMessage({
  name: 'SyncGroupResponse',
  apiKey: 14,
  type: 'response',
  validVersions: [0, 5],
  flexibleVersions: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'protocolType', type: 'string', versions: '5+', nullableVersions: '5+', default: null },
    { name: 'protocolName', type: 'string', versions: '5+', nullableVersions: '5+', default: null },
    { name: 'assignment', type: 'bytes', versions: '0+' },
  ],
});

export type SyncGroupRequestBody = Decoded<typeof SyncGroupRequest>;
export type SyncGroupResponseBody = Decoded<typeof SyncGroupResponse>;
