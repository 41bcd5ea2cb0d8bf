// ListTransactions (key 66), versions 0-1, flexible: Kafka's ListTransactionsRequest/
// Response.json (KIP-664), what kafka-transactions list asks every broker: the transactions its
// coordinator holds, filtered by state and producer id. v1 adds the request's durationFilter
// (KIP-994: only transactions running longer than that many ms; -1, the default, for all); the v1
// response is v0. Kafka 4.1's v2 (KIP-1152, a transactionalIdPattern) is not included.
import { defineMessage, type Decoded } from '../schema.js';

export const ListTransactionsRequest = defineMessage({
  name: 'ListTransactionsRequest',
  apiKey: 66,
  type: 'request',
  validVersions: [0, 1],
  flexibleVersions: '0+',
  fields: [
    { name: 'stateFilters', type: '[]string', versions: '0+' },
    { name: 'producerIdFilters', type: '[]int64', versions: '0+' },
    { name: 'durationFilter', type: 'int64', versions: '1+', default: -1 },
  ],
});

export const ListTransactionsResponse = defineMessage({
  name: 'ListTransactionsResponse',
  apiKey: 66,
  type: 'response',
  validVersions: [0, 1],
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'unknownStateFilters', type: '[]string', versions: '0+' },
    {
      name: 'transactionStates',
      type: '[]TransactionState',
      versions: '0+',
      fields: [
        { name: 'transactionalId', type: 'string', versions: '0+' },
        { name: 'producerId', type: 'int64', versions: '0+' },
        { name: 'transactionState', type: 'string', versions: '0+' },
      ],
    },
  ],
});

export type ListTransactionsRequestBody = Decoded<typeof ListTransactionsRequest>;
export type ListTransactionsResponseBody = Decoded<typeof ListTransactionsResponse>;
