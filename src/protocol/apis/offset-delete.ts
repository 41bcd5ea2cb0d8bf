// OffsetDelete (key 47), version 0, never flexible: Kafka's OffsetDeleteRequest/Response.json
// (KIP-496). Removes a group's committed offsets for some partitions. Kafka's v1 (flexible, request
// header v3, KIP-1313) is still marked unstable there and no client sends it.
// The response's top-level errorCode is a group error (with no topics); partition errors are per
// partition.
import { defineMessage, type Decoded, type Input } from '../schema.js';

export const OffsetDeleteRequest = defineMessage({
  name: 'OffsetDeleteRequest',
  apiKey: 47,
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: 'none',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    {
      name: 'topics',
      type: '[]OffsetDeleteRequestTopic',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]OffsetDeleteRequestPartition',
          versions: '0+',
          fields: [{ name: 'partitionIndex', type: 'int32', versions: '0+' }],
        },
      ],
    },
  ],
});

export const OffsetDeleteResponse = defineMessage({
  name: 'OffsetDeleteResponse',
  apiKey: 47,
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: 'none',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'topics',
      type: '[]OffsetDeleteResponseTopic',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]OffsetDeleteResponsePartition',
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

export type OffsetDeleteRequestBody = Decoded<typeof OffsetDeleteRequest>;
export type OffsetDeleteResponseBody = Decoded<typeof OffsetDeleteResponse>;
export type OffsetDeleteRequestInput = Input<typeof OffsetDeleteRequest>;
export type OffsetDeleteResponseInput = Input<typeof OffsetDeleteResponse>;
