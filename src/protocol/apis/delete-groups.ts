// DeleteGroups (key 42), versions 0-2, flexible from 2: Kafka's DeleteGroupsRequest/Response.json
// (KIP-229). v1 is v0; v2 flexible. `groupsNames` is Kafka's spelling.
import { defineMessage, type Decoded } from '../schema.js';

export const DeleteGroupsRequest = defineMessage({
  name: 'DeleteGroupsRequest',
  apiKey: 42,
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: '2+',
  fields: [{ name: 'groupsNames', type: '[]string', versions: '0+' }],
});

export const DeleteGroupsResponse = defineMessage({
  name: 'DeleteGroupsResponse',
  apiKey: 42,
  type: 'response',
  validVersions: [0, 2],
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'results',
      type: '[]DeletableGroupResult',
      versions: '0+',
      fields: [
        { name: 'groupId', type: 'string', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
      ],
    },
  ],
});

export type DeleteGroupsRequestBody = Decoded<typeof DeleteGroupsRequest>;
export type DeleteGroupsResponseBody = Decoded<typeof DeleteGroupsResponse>;
