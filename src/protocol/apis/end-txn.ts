// EndTxn (key 26), versions 0-5, flexible from 3: Kafka's EndTxnRequest/Response.json. Commits or
// aborts a producer's transaction at its coordinator. v1 is v0 (the response: sent before
// throttling); v2 adds PRODUCER_FENCED; v3 flexible; v4 TRANSACTION_ABORTABLE (KIP-890); v5 bumps
// the epoch at every transaction end (KIP-890 part 2), so the response carries the producerId and
// producerEpoch the producer's next transaction runs under (-1 by default, Kafka's "ignorable").
import { defineMessage, type Decoded } from '../schema.js';

export const EndTxnRequest = defineMessage({
  name: 'EndTxnRequest',
  apiKey: 26,
  type: 'request',
  validVersions: [0, 5],
  flexibleVersions: '3+',
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    { name: 'committed', type: 'bool', versions: '0+' },
  ],
});

export const EndTxnResponse = defineMessage({
  name: 'EndTxnResponse',
  apiKey: 26,
  type: 'response',
  validVersions: [0, 5],
  flexibleVersions: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '5+', default: -1 },
    { name: 'producerEpoch', type: 'int16', versions: '5+', default: -1 },
  ],
});

export type EndTxnRequestBody = Decoded<typeof EndTxnRequest>;
export type EndTxnResponseBody = Decoded<typeof EndTxnResponse>;
