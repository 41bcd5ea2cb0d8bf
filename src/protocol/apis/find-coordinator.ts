// FindCoordinator (key 10), versions 0-6, flexible from 3: Kafka's FindCoordinatorRequest/
// Response.json. v1 keyType (0 group, 1 transaction) and errorMessage; v3 flexible; v4 batches
// keys (KIP-699: `coordinatorKeys` and `coordinators` replace key and the single coordinator);
// v5 TRANSACTION_ABORTABLE; v6 share-group keys (KIP-932). v4-v6 share one layout.
import { defineMessage, type Decoded } from '../schema.js';

export const FindCoordinatorRequest = defineMessage({
  name: 'FindCoordinatorRequest',
  apiKey: 10,
  type: 'request',
  validVersions: [0, 6],
  flexibleVersions: '3+',
  fields: [
    { name: 'key', type: 'string', versions: '0-3' },
    { name: 'keyType', type: 'int8', versions: '1+', default: 0 },
    { name: 'coordinatorKeys', type: '[]string', versions: '4+' },
  ],
});

export const FindCoordinatorResponse = defineMessage({
  name: 'FindCoordinatorResponse',
  apiKey: 10,
  type: 'response',
  validVersions: [0, 6],
  flexibleVersions: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
    { name: 'errorCode', type: 'int16', versions: '0-3' },
    { name: 'errorMessage', type: 'string', versions: '1-3', nullableVersions: '1-3', default: null },
    { name: 'nodeId', type: 'int32', versions: '0-3' },
    { name: 'host', type: 'string', versions: '0-3' },
    { name: 'port', type: 'int32', versions: '0-3' },
    {
      name: 'coordinators',
      type: '[]Coordinator',
      versions: '4+',
      fields: [
        { name: 'key', type: 'string', versions: '4+' },
        { name: 'nodeId', type: 'int32', versions: '4+' },
        { name: 'host', type: 'string', versions: '4+' },
        { name: 'port', type: 'int32', versions: '4+' },
        { name: 'errorCode', type: 'int16', versions: '4+' },
        { name: 'errorMessage', type: 'string', versions: '4+', nullableVersions: '4+', default: null },
      ],
    },
  ],
});

export type FindCoordinatorRequestBody = Decoded<typeof FindCoordinatorRequest>;
export type FindCoordinatorResponseBody = Decoded<typeof FindCoordinatorResponse>;
