// AddPartitionsToTxn (key 24), versions 0-3, flexible from 3: Kafka's AddPartitionsToTxnRequest/
// Response.json, client versions only. Kafka 3.5+ renamed the client fields "V3AndBelow..." when
// v4 (broker-to-broker batches, KIP-890) arrived; v4+ is not included. v1 is v0; v2 adds
// PRODUCER_FENCED; v3 flexible.
import { defineMessage, type Decoded } from '../schema.js';

export const AddPartitionsToTxnRequest = defineMessage({
  name: 'AddPartitionsToTxnRequest',
  apiKey: 24,
  type: 'request',
  validVersions: [0, 3],
  flexibleVersions: '3+',
  fields: [
    { name: 'v3AndBelowTransactionalId', type: 'string', versions: '0-3' },
    { name: 'v3AndBelowProducerId', type: 'int64', versions: '0-3' },
    { name: 'v3AndBelowProducerEpoch', type: 'int16', versions: '0-3' },
    {
      name: 'v3AndBelowTopics',
      type: '[]AddPartitionsToTxnTopic',
      versions: '0-3',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'partitions', type: '[]int32', versions: '0+' },
      ],
    },
  ],
});

export const AddPartitionsToTxnResponse = defineMessage({
  name: 'AddPartitionsToTxnResponse',
  apiKey: 24,
  type: 'response',
  validVersions: [0, 3],
  flexibleVersions: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'resultsByTopicV3AndBelow',
      type: '[]AddPartitionsToTxnTopicResult',
      versions: '0-3',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'resultsByPartition',
          type: '[]AddPartitionsToTxnPartitionResult',
          versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'partitionErrorCode', type: 'int16', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export type AddPartitionsToTxnRequestBody = Decoded<typeof AddPartitionsToTxnRequest>;
export type AddPartitionsToTxnResponseBody = Decoded<typeof AddPartitionsToTxnResponse>;
