// DescribeClientQuotas (48) and AlterClientQuotas (49), versions 0-1, flexible from 1: Kafka's
// DescribeClientQuotas/AlterClientQuotas Request/Response.json (KIP-546). An entity is a list of
// (type, name) pairs, "user" and "client-id" (or "ip"); a null name is the type's default entity.
import { defineMessage, type Decoded } from '../schema.js';

const FLEXIBLE = '1+';

const ENTITY_FIELDS = [
  { name: 'entityType', type: 'string', versions: '0+' },
  { name: 'entityName', type: 'string', versions: '0+', nullableVersions: '0+' },
] as const;

export const DescribeClientQuotasRequest = defineMessage({
  name: 'DescribeClientQuotasRequest',
  apiKey: 48,
  type: 'request',
  validVersions: [0, 1],
  flexibleVersions: FLEXIBLE,
  fields: [
    {
      name: 'components',
      type: '[]ComponentData',
      versions: '0+',
      fields: [
        { name: 'entityType', type: 'string', versions: '0+' },
        // 0 = exact name, 1 = the default entity, 2 = any specified name.
        { name: 'matchType', type: 'int8', versions: '0+' },
        { name: 'match', type: 'string', versions: '0+', nullableVersions: '0+' },
      ],
    },
    { name: 'strict', type: 'bool', versions: '0+' },
  ],
});

export const DescribeClientQuotasResponse = defineMessage({
  name: 'DescribeClientQuotasResponse',
  apiKey: 48,
  type: 'response',
  validVersions: [0, 1],
  flexibleVersions: FLEXIBLE,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
    {
      name: 'entries',
      type: '[]EntryData',
      versions: '0+',
      nullableVersions: '0+',
      fields: [
        { name: 'entity', type: '[]EntityData', versions: '0+', fields: ENTITY_FIELDS },
        {
          name: 'values',
          type: '[]ValueData',
          versions: '0+',
          fields: [
            { name: 'key', type: 'string', versions: '0+' },
            { name: 'value', type: 'float64', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export const AlterClientQuotasRequest = defineMessage({
  name: 'AlterClientQuotasRequest',
  apiKey: 49,
  type: 'request',
  validVersions: [0, 1],
  flexibleVersions: FLEXIBLE,
  fields: [
    {
      name: 'entries',
      type: '[]EntryData',
      versions: '0+',
      fields: [
        { name: 'entity', type: '[]EntityData', versions: '0+', fields: ENTITY_FIELDS },
        {
          name: 'ops',
          type: '[]OpData',
          versions: '0+',
          fields: [
            { name: 'key', type: 'string', versions: '0+' },
            { name: 'value', type: 'float64', versions: '0+' },
            { name: 'remove', type: 'bool', versions: '0+' },
          ],
        },
      ],
    },
    { name: 'validateOnly', type: 'bool', versions: '0+' },
  ],
});

export const AlterClientQuotasResponse = defineMessage({
  name: 'AlterClientQuotasResponse',
  apiKey: 49,
  type: 'response',
  validVersions: [0, 1],
  flexibleVersions: FLEXIBLE,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'entries',
      type: '[]EntryData',
      versions: '0+',
      fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
        { name: 'entity', type: '[]EntityData', versions: '0+', fields: ENTITY_FIELDS },
      ],
    },
  ],
});

export type DescribeClientQuotasRequestBody = Decoded<typeof DescribeClientQuotasRequest>;
export type AlterClientQuotasRequestBody = Decoded<typeof AlterClientQuotasRequest>;
