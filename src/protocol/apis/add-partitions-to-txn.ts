// AddPartitionsToTxn (key 24), versions 0-4, flexible from 3: Kafka's AddPartitionsToTxnRequest/
// Response.json. v1 is v0; v2 adds PRODUCER_FENCED; v3 flexible; v4 (KIP-890) batches several
// transactions and adds VerifyOnly, which a partition leader sends the coordinator to check that a
// transactional write belongs to an ongoing transaction. Kafka 3.5+ renamed the client fields
// "V3AndBelow..." when v4 arrived. v5 (TRANSACTION_ABORTABLE, transaction version 2) is not included.
import { defineMessage, type Decoded } from '../schema.js';

// Kafka's commonStructs, shared by the client versions (0-3) and the batched ones (4+).
const TOPIC_FIELDS = [
  { name: 'name', type: 'string', versions: '0+' },
  { name: 'partitions', type: '[]int32', versions: '0+' },
] as const;

const TOPIC_RESULT_FIELDS = [
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
] as const;

export const AddPartitionsToTxnRequest = defineMessage({
  name: 'AddPartitionsToTxnRequest',
  apiKey: 24,
  type: 'request',
  validVersions: [0, 4],
  flexibleVersions: '3+',
  fields: [
    {
      name: 'transactions',
      type: '[]AddPartitionsToTxnTransaction',
      versions: '4+',
      fields: [
        { name: 'transactionalId', type: 'string', versions: '4+' },
        { name: 'producerId', type: 'int64', versions: '4+' },
        { name: 'producerEpoch', type: 'int16', versions: '4+' },
        { name: 'verifyOnly', type: 'bool', versions: '4+', default: false },
        { name: 'topics', type: '[]AddPartitionsToTxnTopic', versions: '4+', fields: TOPIC_FIELDS },
      ],
    },
    { name: 'v3AndBelowTransactionalId', type: 'string', versions: '0-3' },
    { name: 'v3AndBelowProducerId', type: 'int64', versions: '0-3' },
    { name: 'v3AndBelowProducerEpoch', type: 'int16', versions: '0-3' },
    { name: 'v3AndBelowTopics', type: '[]AddPartitionsToTxnTopic', versions: '0-3', fields: TOPIC_FIELDS },
  ],
});

export const AddPartitionsToTxnResponse = defineMessage({
  name: 'AddPartitionsToTxnResponse',
  apiKey: 24,
  type: 'response',
  validVersions: [0, 4],
  flexibleVersions: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '4+' },
    {
      name: 'resultsByTransaction',
      type: '[]AddPartitionsToTxnResult',
      versions: '4+',
      fields: [
        { name: 'transactionalId', type: 'string', versions: '4+' },
        { name: 'topicResults', type: '[]AddPartitionsToTxnTopicResult', versions: '4+', fields: TOPIC_RESULT_FIELDS },
      ],
    },
    { name: 'resultsByTopicV3AndBelow', type: '[]AddPartitionsToTxnTopicResult', versions: '0-3', fields: TOPIC_RESULT_FIELDS },
  ],
});

export type AddPartitionsToTxnRequestBody = Decoded<typeof AddPartitionsToTxnRequest>;
export type AddPartitionsToTxnResponseBody = Decoded<typeof AddPartitionsToTxnResponse>;
