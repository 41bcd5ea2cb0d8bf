// ListOffsets (key 2), versions 0-9, flexible from 6: Kafka's ListOffsetsRequest/Response.json.
// v0 returns a list of offsets (maxNumOffsets/oldStyleOffsets); v1 one timestamp+offset; v2
// isolationLevel and throttle time; v4 leader epochs (KIP-320); v5 OFFSET_NOT_AVAILABLE; v6
// flexible; v7 timestamp -3 (max timestamp, KIP-734); v8 -4 (local log start, KIP-405); v9 -5
// (latest tiered, KIP-1005). Kafka 4.0's v10 (timeoutMs) is not included.
import { defineMessage, type Decoded, type Input } from '../schema.js';

export const ListOffsetsRequest = defineMessage({
  name: 'ListOffsetsRequest',
  apiKey: 2,
  type: 'request',
  validVersions: [0, 9],
  flexibleVersions: '6+',
  fields: [
    { name: 'replicaId', type: 'int32', versions: '0+', default: -1 },
    { name: 'isolationLevel', type: 'int8', versions: '2+', default: 0 },
    {
      name: 'topics',
      type: '[]ListOffsetsTopic',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]ListOffsetsPartition',
          versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'currentLeaderEpoch', type: 'int32', versions: '4+', default: -1 },
            { name: 'timestamp', type: 'int64', versions: '0+' },
            { name: 'maxNumOffsets', type: 'int32', versions: '0', default: 1 },
          ],
        },
      ],
    },
  ],
});

export const ListOffsetsResponse = defineMessage({
  name: 'ListOffsetsResponse',
  apiKey: 2,
  type: 'response',
  validVersions: [0, 9],
  flexibleVersions: '6+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '2+' },
    {
      name: 'topics',
      type: '[]ListOffsetsTopicResponse',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]ListOffsetsPartitionResponse',
          versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'oldStyleOffsets', type: '[]int64', versions: '0' },
            { name: 'timestamp', type: 'int64', versions: '1+', default: -1 },
            { name: 'offset', type: 'int64', versions: '1+', default: -1 },
            { name: 'leaderEpoch', type: 'int32', versions: '4+', default: -1 },
          ],
        },
      ],
    },
  ],
});

export type ListOffsetsRequestBody = Decoded<typeof ListOffsetsRequest>;
export type ListOffsetsRequestInput = Input<typeof ListOffsetsRequest>;
export type ListOffsetsResponseBody = Decoded<typeof ListOffsetsResponse>;
export type ListOffsetsResponseInput = Input<typeof ListOffsetsResponse>;
