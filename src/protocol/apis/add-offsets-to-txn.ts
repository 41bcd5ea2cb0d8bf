// AddOffsetsToTxn (key 25), versions 0-4, flexible from 3: Kafka's AddOffsetsToTxnRequest/
// Response.json. A transactional producer adds its consumer group's offsets partition to the
// transaction before TxnOffsetCommit. v1 is v0 (the response: sent before throttling); v2 adds
// PRODUCER_FENCED; v3 flexible; v4 TRANSACTION_ABORTABLE (KIP-890). No version changes a field.
import { defineMessage, type Decoded } from '../schema.js';

export const AddOffsetsToTxnRequest = defineMessage({
  name: 'AddOffsetsToTxnRequest',
  apiKey: 25,
  type: 'request',
  validVersions: [0, 4],
  flexibleVersions: '3+',
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    { name: 'groupId', type: 'string', versions: '0+' },
  ],
});

export const AddOffsetsToTxnResponse = defineMessage({
  name: 'AddOffsetsToTxnResponse',
  apiKey: 25,
  type: 'response',
  validVersions: [0, 4],
  flexibleVersions: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
  ],
});

export type AddOffsetsToTxnRequestBody = Decoded<typeof AddOffsetsToTxnRequest>;
export type AddOffsetsToTxnResponseBody = Decoded<typeof AddOffsetsToTxnResponse>;
