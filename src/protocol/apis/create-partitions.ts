// CreatePartitions (key 37), versions 0-3, flexible from 2: Kafka's CreatePartitionsRequest/
// Response.json (KIP-195). `count` is the new total; assignments (null = broker decides) give the
// replicas of each new partition. v1 is v0; v2 flexible; v3 THROTTLING_QUOTA_EXCEEDED (KIP-599).
import { defineMessage, type Decoded } from '../schema.js';

export const CreatePartitionsRequest = defineMessage({
  name: 'CreatePartitionsRequest',
  apiKey: 37,
  type: 'request',
  validVersions: [0, 3],
  flexibleVersions: '2+',
  fields: [
    {
      name: 'topics',
      type: '[]CreatePartitionsTopic',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'count', type: 'int32', versions: '0+' },
        {
          name: 'assignments',
          type: '[]CreatePartitionsAssignment',
          versions: '0+',
          nullableVersions: '0+',
          default: null,
          fields: [{ name: 'brokerIds', type: '[]int32', versions: '0+' }],
        },
      ],
    },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
    { name: 'validateOnly', type: 'bool', versions: '0+' },
  ],
});

export const CreatePartitionsResponse = defineMessage({
  name: 'CreatePartitionsResponse',
  apiKey: 37,
  type: 'response',
  validVersions: [0, 3],
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'results',
      type: '[]CreatePartitionsTopicResult',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
      ],
    },
  ],
});

export type CreatePartitionsRequestBody = Decoded<typeof CreatePartitionsRequest>;
export type CreatePartitionsResponseBody = Decoded<typeof CreatePartitionsResponse>;
