// TxnOffsetCommit (key 28), versions 0-5, flexible from 3: Kafka's TxnOffsetCommitRequest/
// Response.json. A transactional producer commits its consumer's offsets inside the transaction.
// v1 is v0 (the response: sent before throttling); v2 committedLeaderEpoch; v3 flexible, with the
// consumer's generationId, memberId and groupInstanceId (KIP-447) and their errors; v4
// TRANSACTION_ABORTABLE (KIP-890); v5 is v4 on the wire, but under transactions v2 (KIP-890
// part 2) it also adds the group's offsets partition to the transaction, as AddOffsetsToTxn did.
import { defineMessage, type Decoded } from '../schema.js';

export const TxnOffsetCommitRequest = defineMessage({
  name: 'TxnOffsetCommitRequest',
  apiKey: 28,
  type: 'request',
  validVersions: [0, 5],
  flexibleVersions: '3+',
  fields: [
    { name: 'transactionalId', type: 'string', versions: '0+' },
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    { name: 'generationId', type: 'int32', versions: '3+', default: -1 },
    { name: 'memberId', type: 'string', versions: '3+', default: '' },
    { name: 'groupInstanceId', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
    {
      name: 'topics',
      type: '[]TxnOffsetCommitRequestTopic',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]TxnOffsetCommitRequestPartition',
          versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'committedOffset', type: 'int64', versions: '0+' },
            { name: 'committedLeaderEpoch', type: 'int32', versions: '2+', default: -1 },
            { name: 'committedMetadata', type: 'string', versions: '0+', nullableVersions: '0+' },
          ],
        },
      ],
    },
  ],
});

export const TxnOffsetCommitResponse = defineMessage({
  name: 'TxnOffsetCommitResponse',
  apiKey: 28,
  type: 'response',
  validVersions: [0, 5],
  flexibleVersions: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'topics',
      type: '[]TxnOffsetCommitResponseTopic',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]TxnOffsetCommitResponsePartition',
          versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export type TxnOffsetCommitRequestBody = Decoded<typeof TxnOffsetCommitRequest>;
export type TxnOffsetCommitResponseBody = Decoded<typeof TxnOffsetCommitResponse>;
