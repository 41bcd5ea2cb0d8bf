// InitProducerId (key 22), versions 0-5, flexible from 2: Kafka's InitProducerIdRequest/
// Response.json. v1 is v0; v2 flexible; v3 producerId/producerEpoch to bump an epoch (KIP-360);
// v4 PRODUCER_FENCED; v5 TRANSACTION_ABORTABLE (KIP-890). Kafka 4.0's v6 (2PC) is not included.
import { defineMessage, type Decoded } from '../schema.js';

export const InitProducerIdRequest = defineMessage({
  name: 'InitProducerIdRequest',
  apiKey: 22,
  type: 'request',
  validVersions: [0, 5],
  flexibleVersions: '2+',
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'transactionTimeoutMs', type: 'int32', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '3+', default: -1 },
    { name: 'producerEpoch', type: 'int16', versions: '3+', default: -1 },
  ],
});

export const InitProducerIdResponse = defineMessage({
  name: 'InitProducerIdResponse',
  apiKey: 22,
  type: 'response',
  validVersions: [0, 5],
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+', default: -1 },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
  ],
});

export type InitProducerIdRequestBody = Decoded<typeof InitProducerIdRequest>;
export type InitProducerIdResponseBody = Decoded<typeof InitProducerIdResponse>;
