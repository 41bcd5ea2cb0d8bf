// ConsumerGroupHeartbeat (key 68), versions 0-1, flexible: Kafka's ConsumerGroupHeartbeatRequest/
// Response.json, the consumer group protocol of KIP-848. v1 (Kafka 4.0): the member makes its own
// id before joining, and may subscribe by regex.
import { defineMessage, type Decoded } from '../schema.js';

const topicPartitions = [
  { name: 'topicId', type: 'uuid', versions: '0+' },
  { name: 'partitions', type: '[]int32', versions: '0+' },
] as const;

export const ConsumerGroupHeartbeatRequest = defineMessage({
  name: 'ConsumerGroupHeartbeatRequest',
  apiKey: 68,
  type: 'request',
  validVersions: [0, 1],
  flexibleVersions: '0+',
  fields: [
    { name: 'groupId', type: 'string', versions: '0+' },
    { name: 'memberId', type: 'string', versions: '0+' },
    { name: 'memberEpoch', type: 'int32', versions: '0+' },
    { name: 'instanceId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'rackId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'rebalanceTimeoutMs', type: 'int32', versions: '0+', default: -1 },
    { name: 'subscribedTopicNames', type: '[]string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'subscribedTopicRegex', type: 'string', versions: '1+', nullableVersions: '1+', default: null },
    { name: 'serverAssignor', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'topicPartitions', type: '[]TopicPartitions', versions: '0+', nullableVersions: '0+', default: null, fields: topicPartitions },
  ],
});

export const ConsumerGroupHeartbeatResponse = defineMessage({
  name: 'ConsumerGroupHeartbeatResponse',
  apiKey: 68,
  type: 'response',
  validVersions: [0, 1],
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'memberId', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    { name: 'memberEpoch', type: 'int32', versions: '0+' },
    { name: 'heartbeatIntervalMs', type: 'int32', versions: '0+' },
    {
      name: 'assignment',
      type: 'Assignment',
      versions: '0+',
      nullableVersions: '0+',
      default: null,
      fields: [{ name: 'topicPartitions', type: '[]TopicPartitions', versions: '0+', fields: topicPartitions }],
    },
  ],
});

export type ConsumerGroupHeartbeatRequestBody = Decoded<typeof ConsumerGroupHeartbeatRequest>;
export type ConsumerGroupHeartbeatResponseBody = Decoded<typeof ConsumerGroupHeartbeatResponse>;
