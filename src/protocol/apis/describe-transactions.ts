// DescribeTransactions (key 65), version 0, flexible: Kafka's DescribeTransactionsRequest/
// Response.json (KIP-664), what kafka-transactions describe asks a transaction coordinator: the
// state, producer, timeout, start time and partitions of each transactional id.
import { defineMessage, type Decoded } from '../schema.js';

export const DescribeTransactionsRequest = defineMessage({
  name: 'DescribeTransactionsRequest',
  apiKey: 65,
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [{ name: 'transactionalIds', type: '[]string', versions: '0+' }],
});

export const DescribeTransactionsResponse = defineMessage({
  name: 'DescribeTransactionsResponse',
  apiKey: 65,
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'transactionStates',
      type: '[]TransactionState',
      versions: '0+',
      fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'transactionalId', type: 'string', versions: '0+' },
        { name: 'transactionState', type: 'string', versions: '0+' },
        { name: 'transactionTimeoutMs', type: 'int32', versions: '0+' },
        { name: 'transactionStartTimeMs', type: 'int64', versions: '0+' },
        { name: 'producerId', type: 'int64', versions: '0+' },
        { name: 'producerEpoch', type: 'int16', versions: '0+' },
        {
          name: 'topics',
          type: '[]TopicData',
          versions: '0+',
          fields: [
            { name: 'topic', type: 'string', versions: '0+' },
            { name: 'partitions', type: '[]int32', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export type DescribeTransactionsRequestBody = Decoded<typeof DescribeTransactionsRequest>;
export type DescribeTransactionsResponseBody = Decoded<typeof DescribeTransactionsResponse>;
