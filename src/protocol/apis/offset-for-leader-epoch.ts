// OffsetForLeaderEpoch (key 23), versions 0-4, flexible from 4: Kafka's OffsetForLeaderEpoch
// Request/Response.json (KIP-101, KIP-279). Followers use it to truncate to the leader's epoch
// boundary. v1 leaderEpoch in the response; v2 currentLeaderEpoch and throttle time (KIP-320);
// v3 replicaId (-1 consumer, -2 debug: the default); v4 flexible. Kafka 4.0 dropped request v0-1
// (its JSON says 2-4); we keep them, as its response JSON still says 0-4.
// Note the response partition order: errorCode BEFORE partition (Kafka's EpochEndOffset).
import { defineMessage, type Decoded } from '../schema.js';

export const OffsetForLeaderEpochRequest = defineMessage({
  name: 'OffsetForLeaderEpochRequest',
  apiKey: 23,
  type: 'request',
  validVersions: [0, 4],
  flexibleVersions: '4+',
  fields: [
    { name: 'replicaId', type: 'int32', versions: '3+', default: -2 },
    {
      name: 'topics',
      type: '[]OffsetForLeaderTopic',
      versions: '0+',
      fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]OffsetForLeaderPartition',
          versions: '0+',
          fields: [
            { name: 'partition', type: 'int32', versions: '0+' },
            { name: 'currentLeaderEpoch', type: 'int32', versions: '2+', default: -1 },
            { name: 'leaderEpoch', type: 'int32', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export const OffsetForLeaderEpochResponse = defineMessage({
  name: 'OffsetForLeaderEpochResponse',
  apiKey: 23,
  type: 'response',
  validVersions: [0, 4],
  flexibleVersions: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '2+' },
    {
      name: 'topics',
      type: '[]OffsetForLeaderTopicResult',
      versions: '0+',
      fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]EpochEndOffset',
          versions: '0+',
          fields: [
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'partition', type: 'int32', versions: '0+' },
            { name: 'leaderEpoch', type: 'int32', versions: '1+', default: -1 },
            // No default in Kafka's JSON (so 0): an error answer sets -1 (UNDEFINED) itself, as Kafka's does.
            { name: 'endOffset', type: 'int64', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export type OffsetForLeaderEpochRequestBody = Decoded<typeof OffsetForLeaderEpochRequest>;
export type OffsetForLeaderEpochResponseBody = Decoded<typeof OffsetForLeaderEpochResponse>;
