// ListGroups (key 16), versions 0-5, flexible from 3: Kafka's ListGroupsRequest/Response.json.
// v1 throttle time; v3 flexible; v4 statesFilter/groupState (KIP-518); v5 typesFilter/groupType
// (KIP-848).
import { defineMessage, type Decoded } from '../schema.js';

export const ListGroupsRequest = defineMessage({
  name: 'ListGroupsRequest',
  apiKey: 16,
  type: 'request',
  validVersions: [0, 5],
  flexibleVersions: '3+',
  fields: [
    { name: 'statesFilter', type: '[]string', versions: '4+' },
    { name: 'typesFilter', type: '[]string', versions: '5+' },
  ],
});

export const ListGroupsResponse = defineMessage({
  name: 'ListGroupsResponse',
  apiKey: 16,
  type: 'response',
  validVersions: [0, 5],
  flexibleVersions: '3+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    {
      name: 'groups',
      type: '[]ListedGroup',
      versions: '0+',
      fields: [
        { name: 'groupId', type: 'string', versions: '0+' },
        { name: 'protocolType', type: 'string', versions: '0+' },
        { name: 'groupState', type: 'string', versions: '4+' },
        { name: 'groupType', type: 'string', versions: '5+' },
      ],
    },
  ],
});

export type ListGroupsRequestBody = Decoded<typeof ListGroupsRequest>;
export type ListGroupsResponseBody = Decoded<typeof ListGroupsResponse>;
