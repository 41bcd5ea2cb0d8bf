// UpdateFeatures (key 57), versions 0-2, flexible from 0: Kafka's UpdateFeaturesRequest/Response.json
// (KIP-584, KIP-778), what kafka-features upgrade, downgrade and disable send. v1 replaces
// AllowDowngrade with UpgradeType (1 upgrade, 2 safe downgrade, 3 unsafe downgrade) and adds
// ValidateOnly; v2's response carries only the top-level error, not a result per feature.
import { defineMessage, type Decoded } from '../schema.js';

export const UpdateFeaturesRequest = defineMessage({
  name: 'UpdateFeaturesRequest',
  apiKey: 57,
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: '0+',
  fields: [
    { name: 'timeoutMs', type: 'int32', versions: '0+', default: 60000 },
    {
      name: 'featureUpdates',
      type: '[]FeatureUpdateKey',
      versions: '0+',
      fields: [
        { name: 'feature', type: 'string', versions: '0+' },
        // Below 1 disables the feature.
        { name: 'maxVersionLevel', type: 'int16', versions: '0+' },
        { name: 'allowDowngrade', type: 'bool', versions: '0' },
        { name: 'upgradeType', type: 'int8', versions: '1+', default: 1 },
      ],
    },
    { name: 'validateOnly', type: 'bool', versions: '1+', default: false },
  ],
});

export const UpdateFeaturesResponse = defineMessage({
  name: 'UpdateFeaturesResponse',
  apiKey: 57,
  type: 'response',
  validVersions: [0, 2],
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
    {
      name: 'results',
      type: '[]UpdatableFeatureResult',
      versions: '0-1',
      fields: [
        { name: 'feature', type: 'string', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+', default: null },
      ],
    },
  ],
});

export type UpdateFeaturesRequestBody = Decoded<typeof UpdateFeaturesRequest>;
export type UpdateFeaturesResponseBody = Decoded<typeof UpdateFeaturesResponse>;
