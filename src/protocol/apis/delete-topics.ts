// DeleteTopics (key 20), versions 0-6, flexible from 4: Kafka's DeleteTopicsRequest/Response.json.
// v1 throttle time; v3 TOPIC_DELETION_DISABLED; v4 flexible; v5 errorMessage (KIP-599); v6 topics
// by name or id (`topics` replaces topicNames, names may be null).
import { defineMessage, type Decoded } from '../schema.js';

export const DeleteTopicsRequest = defineMessage({
  name: 'DeleteTopicsRequest',
  apiKey: 20,
  type: 'request',
  validVersions: [0, 6],
  flexibleVersions: '4+',
  fields: [
    {
      name: 'topics',
      type: '[]DeleteTopicState',
      versions: '6+',
      fields: [
        { name: 'name', type: 'string', versions: '6+', nullableVersions: '6+', default: null },
        { name: 'topicId', type: 'uuid', versions: '6+' },
      ],
    },
    { name: 'topicNames', type: '[]string', versions: '0-5' },
    { name: 'timeoutMs', type: 'int32', versions: '0+' },
  ],
});

export const DeleteTopicsResponse = defineMessage({
  name: 'DeleteTopicsResponse',
  apiKey: 20,
  type: 'response',
  validVersions: [0, 6],
  flexibleVersions: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
    {
      name: 'responses',
      type: '[]DeletableTopicResult',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+', nullableVersions: '6+' },
        { name: 'topicId', type: 'uuid', versions: '6+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '5+', nullableVersions: '5+', default: null },
      ],
    },
  ],
});

export type DeleteTopicsRequestBody = Decoded<typeof DeleteTopicsRequest>;
export type DeleteTopicsResponseBody = Decoded<typeof DeleteTopicsResponse>;
