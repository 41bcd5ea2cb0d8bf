// DescribeProducers (key 61), version 0, flexible: Kafka's DescribeProducersRequest/Response.json
// (KIP-664), what kafka-transactions describe-producers asks: the producers with state on each
// partition's leader.
import { defineMessage, type Decoded } from '../schema.js';

export const DescribeProducersRequest = defineMessage({
  name: 'DescribeProducersRequest',
  apiKey: 61,
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [
    {
      name: 'topics',
      type: '[]TopicRequest',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitionIndexes', type: '[]int32', versions: '0+' },
      ],
    },
  ],
});

export const DescribeProducersResponse = defineMessage({
  name: 'DescribeProducersResponse',
  apiKey: 61,
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'topics',
      type: '[]TopicResponse',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]PartitionResponse',
          versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
            {
              name: 'activeProducers',
              type: '[]ProducerState',
              versions: '0+',
              fields: [
                { name: 'producerId', type: 'int64', versions: '0+' },
                { name: 'producerEpoch', type: 'int32', versions: '0+' },
                { name: 'lastSequence', type: 'int32', versions: '0+', default: -1 },
                { name: 'lastTimestamp', type: 'int64', versions: '0+', default: -1 },
                { name: 'coordinatorEpoch', type: 'int32', versions: '0+' },
                { name: 'currentTxnStartOffset', type: 'int64', versions: '0+', default: -1 },
              ],
            },
          ],
        },
      ],
    },
  ],
});

export type DescribeProducersRequestBody = Decoded<typeof DescribeProducersRequest>;
export type DescribeProducersResponseBody = Decoded<typeof DescribeProducersResponse>;
