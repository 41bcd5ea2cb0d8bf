// DeleteRecords (key 21), versions 0-2, flexible from 2: Kafka's DeleteRecordsRequest/Response.json
// (KIP-107). v1 is v0 (throttle-before-response semantics); v2 flexible. Offset -1 = the high
// watermark.
import { defineMessage, type Decoded } from '../schema.js';

export const DeleteRecordsRequest = defineMessage({
  name: 'DeleteRecordsRequest',
  apiKey: 21,
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: '2+',
  fields: [
    {
      name: 'topics',
      type: '[]DeleteRecordsTopic',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]DeleteRecordsPartition',
          versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'offset', type: 'int64', versions: '0+' },
          ],
        },
      ],
    },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
  ],
});

export const DeleteRecordsResponse = defineMessage({
  name: 'DeleteRecordsResponse',
  apiKey: 21,
  type: 'response',
  validVersions: [0, 2],
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'topics',
      type: '[]DeleteRecordsTopicResult',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]DeleteRecordsPartitionResult',
          versions: '0+',
          fields: [
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'lowWatermark', type: 'int64', versions: '0+' },
            { name: 'errorCode', type: 'int16', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export type DeleteRecordsRequestBody = Decoded<typeof DeleteRecordsRequest>;
export type DeleteRecordsResponseBody = Decoded<typeof DeleteRecordsResponse>;
