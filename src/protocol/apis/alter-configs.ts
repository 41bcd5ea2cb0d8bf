// AlterConfigs (key 33), versions 0-2, flexible from 2: Kafka's AlterConfigsRequest/Response.json.
// Replaces a resource's whole dynamic config (IncrementalAlterConfigs edits it). v1 is v0; v2
// flexible.
import { defineMessage, type Decoded } from '../schema.js';

export const AlterConfigsRequest = defineMessage({
  name: 'AlterConfigsRequest',
  apiKey: 33,
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: '2+',
  fields: [
    {
      name: 'resources',
      type: '[]AlterConfigsResource',
      versions: '0+',
      fields: [
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
        {
          name: 'configs',
          type: '[]AlterableConfig',
          versions: '0+',
          fields: [
            { name: 'name', type: 'string', versions: '0+' },
            { name: 'value', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
          ],
        },
      ],
    },
    { name: 'validateOnly', type: 'bool', versions: '0+' },
  ],
});

export const AlterConfigsResponse = defineMessage({
  name: 'AlterConfigsResponse',
  apiKey: 33,
  type: 'response',
  validVersions: [0, 2],
  flexibleVersions: '2+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'responses',
      type: '[]AlterConfigsResourceResponse',
      versions: '0+',
      fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
      ],
    },
  ],
});

export type AlterConfigsRequestBody = Decoded<typeof AlterConfigsRequest>;
export type AlterConfigsResponseBody = Decoded<typeof AlterConfigsResponse>;
