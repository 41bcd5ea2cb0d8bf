// ApiVersions (key 18), versions 0-4, flexible from 3: Kafka's ApiVersionsRequest/Response.json.
// v1 throttle time; v3 flexible, client software name/version (KIP-511) and the tagged feature
// fields (KIP-584); v4 is v3 (the broker may answer UNSUPPORTED_VERSION with its key list, KIP-896).
// The response ALWAYS travels with response header v0, even at v3+ (see headers.ts), and an
// UNSUPPORTED_VERSION answer is a v0 body whatever version was asked (codec.ts).
import { defineMessage, type Decoded, type Input } from '../schema.js';

export const ApiVersionsRequest = defineMessage({
  name: 'ApiVersionsRequest',
  apiKey: 18,
  type: 'request',
  validVersions: [0, 4],
  flexibleVersions: '3+',
  fields: [
    { name: 'clientSoftwareName', type: 'string', versions: '3+' },
    { name: 'clientSoftwareVersion', type: 'string', versions: '3+' },
  ],
});

export const ApiVersionsResponse = defineMessage({
  name: 'ApiVersionsResponse',
  apiKey: 18,
  type: 'response',
  validVersions: [0, 4],
  flexibleVersions: '3+',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    {
      name: 'apiKeys',
      type: '[]ApiVersion',
      versions: '0+',
      fields: [
        { name: 'apiKey', type: 'int16', versions: '0+' },
        { name: 'minVersion', type: 'int16', versions: '0+' },
        { name: 'maxVersion', type: 'int16', versions: '0+' },
      ],
    },
    { name: 'throttleTimeMs', type: 'int32', versions: '1+' },
    {
      name: 'supportedFeatures',
      type: '[]SupportedFeatureKey',
      versions: '3+',
      taggedVersions: '3+',
      tag: 0,
      fields: [
        { name: 'name', type: 'string', versions: '3+' },
        { name: 'minVersion', type: 'int16', versions: '3+' },
        { name: 'maxVersion', type: 'int16', versions: '3+' },
      ],
    },
    { name: 'finalizedFeaturesEpoch', type: 'int64', versions: '3+', taggedVersions: '3+', tag: 1, default: -1 },
    {
      name: 'finalizedFeatures',
      type: '[]FinalizedFeatureKey',
      versions: '3+',
      taggedVersions: '3+',
      tag: 2,
      fields: [
        { name: 'name', type: 'string', versions: '3+' },
        { name: 'maxVersionLevel', type: 'int16', versions: '3+' },
        { name: 'minVersionLevel', type: 'int16', versions: '3+' },
      ],
    },
    { name: 'zkMigrationReady', type: 'bool', versions: '3+', taggedVersions: '3+', tag: 3, default: false },
  ],
});

export type ApiVersionsRequestBody = Decoded<typeof ApiVersionsRequest>;
export type ApiVersionsRequestInput = Input<typeof ApiVersionsRequest>;
export type ApiVersionsResponseBody = Decoded<typeof ApiVersionsResponse>;
export type ApiVersionsResponseInput = Input<typeof ApiVersionsResponse>;
