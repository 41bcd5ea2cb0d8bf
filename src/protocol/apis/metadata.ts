// Metadata (key 3), versions 0-12, flexible from 9: Kafka's MetadataRequest/Response.json.
// Request topics: an empty list means none from v1 on (all topics in v0), null means all (v1+).
// v1 rack/controllerId/isInternal; v2 clusterId; v3 throttle time; v4 allowAutoTopicCreation;
// v5 offlineReplicas; v7 leaderEpoch; v8 authorized operations (cluster-level ones removed after
// v10, KIP-700); v9 flexible; v10 topic ids; v12 nullable topic names in the response. Kafka 4.0's
// v13 (top-level errorCode) is not included.
import { defineMessage, type Decoded, type Input } from '../schema.js';

export const MetadataRequest = defineMessage({
  name: 'MetadataRequest',
  apiKey: 3,
  type: 'request',
  validVersions: [0, 12],
  flexibleVersions: '9+',
  fields: [
    {
      name: 'topics',
      type: '[]MetadataRequestTopic',
      versions: '0+',
      nullableVersions: '1+',
      fields: [
        { name: 'topicId', type: 'uuid', versions: '10+' },
        { name: 'name', type: 'string', versions: '0+', nullableVersions: '10+' },
      ],
    },
    { name: 'allowAutoTopicCreation', type: 'bool', versions: '4+', default: true },
    { name: 'includeClusterAuthorizedOperations', type: 'bool', versions: '8-10' },
    { name: 'includeTopicAuthorizedOperations', type: 'bool', versions: '8+' },
  ],
});

export const MetadataResponse = defineMessage({
  name: 'MetadataResponse',
  apiKey: 3,
  type: 'response',
  validVersions: [0, 12],
  flexibleVersions: '9+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '3+' },
    {
      name: 'brokers',
      type: '[]MetadataResponseBroker',
      versions: '0+',
      fields: [
        { name: 'nodeId', type: 'int32', versions: '0+' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'port', type: 'int32', versions: '0+' },
        { name: 'rack', type: 'string', versions: '1+', nullableVersions: '1+', default: null },
      ],
    },
    { name: 'clusterId', type: 'string', versions: '2+', nullableVersions: '2+', default: null },
    { name: 'controllerId', type: 'int32', versions: '1+', default: -1 },
    {
      name: 'topics',
      type: '[]MetadataResponseTopic',
      versions: '0+',
      fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'name', type: 'string', versions: '0+', nullableVersions: '12+' },
        { name: 'topicId', type: 'uuid', versions: '10+' },
        { name: 'isInternal', type: 'bool', versions: '1+', default: false },
        {
          name: 'partitions',
          type: '[]MetadataResponsePartition',
          versions: '0+',
          fields: [
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'partitionIndex', type: 'int32', versions: '0+' },
            { name: 'leaderId', type: 'int32', versions: '0+' },
            { name: 'leaderEpoch', type: 'int32', versions: '7+', default: -1 },
            { name: 'replicaNodes', type: '[]int32', versions: '0+' },
            { name: 'isrNodes', type: '[]int32', versions: '0+' },
            { name: 'offlineReplicas', type: '[]int32', versions: '5+' },
          ],
        },
        { name: 'topicAuthorizedOperations', type: 'int32', versions: '8+', default: -2147483648 },
      ],
    },
    { name: 'clusterAuthorizedOperations', type: 'int32', versions: '8-10', default: -2147483648 },
  ],
});

export type MetadataRequestBody = Decoded<typeof MetadataRequest>;
export type MetadataRequestInput = Input<typeof MetadataRequest>;
export type MetadataResponseBody = Decoded<typeof MetadataResponse>;
export type MetadataResponseInput = Input<typeof MetadataResponse>;
