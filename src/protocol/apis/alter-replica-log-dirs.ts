// AlterReplicaLogDirs (key 34), versions 0-2, flexible from 2: Kafka's AlterReplicaLogDirsRequest/
// Response.json (KIP-113). Kafka 4.0 serves 1-2 (v0 differs only in its throttling); v0 stays
// decodable here for the same reason Kafka's schema keeps it in the request.
import { defineMessage, type Decoded } from '../schema.js';

export const AlterReplicaLogDirsRequest = defineMessage({
  name: 'AlterReplicaLogDirsRequest',
  apiKey: 34,
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: '2+',
  fields: [
    {
      name: 'dirs',
      type: '[]AlterReplicaLogDir',
      versions: '0+',
      fields: [
        { name: 'path', type: 'string', versions: '0+' },
        {
          name: 'topics',
          type: '[]AlterReplicaLogDirTopic',
          versions: '0+',
          fields: [
            { name: 'name', type: 'string', versions: '0+' },
            { name: 'partitions', type: '[]int32', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export const AlterReplicaLogDirsResponse = defineMessage({
  name: 'AlterReplicaLogDirsResponse',
  apiKey: 34,
  type: 'response',
  validVersions: [0, 2],
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'results',
      type: '[]AlterReplicaLogDirTopicResult',
      versions: '0+',
      fields: [
        { name: 'topicName', type: 'string', versions: '0+' },
        {
          name: 'partitions',
          type: '[]AlterReplicaLogDirPartitionResult',
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

export type AlterReplicaLogDirsRequestBody = Decoded<typeof AlterReplicaLogDirsRequest>;
export type AlterReplicaLogDirsResponseBody = Decoded<typeof AlterReplicaLogDirsResponse>;
