// DescribeConfigs (key 32), versions 0-4, flexible from 4: Kafka's DescribeConfigsRequest/
// Response.json. Resource types: 2 topic, 4 broker, 8 broker logger. v1 includeSynonyms and
// configSource (isDefault only in v0); v2 is v1; v3 includeDocumentation, configType and
// documentation (KIP-569); v4 flexible. configurationKeys null = all keys.
import { defineMessage, type Decoded } from '../schema.js';

/** Kafka's ConfigResource.Type ids of the resources sluice describes. */
export const CONFIG_RESOURCE_TYPE = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

/** Kafka's DescribeConfigsResponse.ConfigSource ids; the names are ConfigEntry.ConfigSource's, as kafka-configs prints them. */
export const CONFIG_SOURCE = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
  DYNAMIC_CLIENT_METRICS_CONFIG: 7,
  DYNAMIC_GROUP_CONFIG: 8,
} as const;

export const DescribeConfigsRequest = defineMessage({
  name: 'DescribeConfigsRequest',
  apiKey: 32,
  type: 'request',
  validVersions: [0, 4],
  flexibleVersions: '4+',
  fields: [
    {
      name: 'resources',
      type: '[]DescribeConfigsResource',
      versions: '0+',
      fields: [
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
        { name: 'configurationKeys', type: '[]string', versions: '0+', nullableVersions: '0+', default: null },
      ],
    },
    { name: 'includeSynonyms', type: 'bool', versions: '1+', default: false },
    { name: 'includeDocumentation', type: 'bool', versions: '3+', default: false },
  ],
});

export const DescribeConfigsResponse = defineMessage({
  name: 'DescribeConfigsResponse',
  apiKey: 32,
  type: 'response',
  validVersions: [0, 4],
  flexibleVersions: '4+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'results',
      type: '[]DescribeConfigsResult',
      versions: '0+',
      fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
        {
          name: 'configs',
          type: '[]DescribeConfigsResourceResult',
          versions: '0+',
          fields: [
            { name: 'name', type: 'string', versions: '0+' },
            { name: 'value', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
            { name: 'readOnly', type: 'bool', versions: '0+' },
            { name: 'isDefault', type: 'bool', versions: '0' },
            { name: 'configSource', type: 'int8', versions: '1+', default: -1 },
            { name: 'isSensitive', type: 'bool', versions: '0+' },
            {
              name: 'synonyms',
              type: '[]DescribeConfigsSynonym',
              versions: '1+',
              fields: [
                { name: 'name', type: 'string', versions: '1+' },
                { name: 'value', type: 'string', versions: '1+', nullableVersions: '0+', default: null },
                { name: 'source', type: 'int8', versions: '1+' },
              ],
            },
            { name: 'configType', type: 'int8', versions: '3+', default: 0 },
            { name: 'documentation', type: 'string', versions: '3+', nullableVersions: '0+', default: null },
          ],
        },
      ],
    },
  ],
});

export type DescribeConfigsRequestBody = Decoded<typeof DescribeConfigsRequest>;
export type DescribeConfigsResponseBody = Decoded<typeof DescribeConfigsResponse>;
