// DescribeAcls (29), CreateAcls (30) and DeleteAcls (31), versions 0-3, flexible from 2: Kafka's
// DescribeAcls/CreateAcls/DeleteAcls Request/Response.json. v1 adds the resource pattern type
// (default 3, LITERAL); v3 the user resource type (no new field). Kafka 4.0 dropped v0 of
// CreateAcls and DeleteAcls; sluice keeps it, for kafkajs, which sends v0-1.
import { defineMessage, type Decoded } from '../schema.js';

const FLEXIBLE = '2+';

/** A filter's or an ACL's fields, as the three messages name them. */
const FILTER_FIELDS = [
  { name: 'resourceTypeFilter', type: 'int8', versions: '0+' },
  { name: 'resourceNameFilter', type: 'string', versions: '0+', nullableVersions: '0+' },
  { name: 'patternTypeFilter', type: 'int8', versions: '1+', default: 3 },
  { name: 'principalFilter', type: 'string', versions: '0+', nullableVersions: '0+' },
  { name: 'hostFilter', type: 'string', versions: '0+', nullableVersions: '0+' },
  { name: 'operation', type: 'int8', versions: '0+' },
  { name: 'permissionType', type: 'int8', versions: '0+' },
] as const;

export const DescribeAclsRequest = defineMessage({
  name: 'DescribeAclsRequest',
  apiKey: 29,
  type: 'request',
  validVersions: [0, 3],
  flexibleVersions: FLEXIBLE,
  fields: FILTER_FIELDS,
});

export const DescribeAclsResponse = defineMessage({
  name: 'DescribeAclsResponse',
  apiKey: 29,
  type: 'response',
  validVersions: [0, 3],
  flexibleVersions: FLEXIBLE,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
    {
      name: 'resources',
      type: '[]DescribeAclsResource',
      versions: '0+',
      fields: [
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
        { name: 'patternType', type: 'int8', versions: '1+', default: 3 },
        {
          name: 'acls',
          type: '[]AclDescription',
          versions: '0+',
          fields: [
            { name: 'principal', type: 'string', versions: '0+' },
            { name: 'host', type: 'string', versions: '0+' },
            { name: 'operation', type: 'int8', versions: '0+' },
            { name: 'permissionType', type: 'int8', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export const CreateAclsRequest = defineMessage({
  name: 'CreateAclsRequest',
  apiKey: 30,
  type: 'request',
  validVersions: [0, 3],
  flexibleVersions: FLEXIBLE,
  fields: [
    {
      name: 'creations',
      type: '[]CreatableAcl',
      versions: '0+',
      fields: [
        { name: 'resourceType', type: 'int8', versions: '0+' },
        { name: 'resourceName', type: 'string', versions: '0+' },
        { name: 'resourcePatternType', type: 'int8', versions: '1+', default: 3 },
        { name: 'principal', type: 'string', versions: '0+' },
        { name: 'host', type: 'string', versions: '0+' },
        { name: 'operation', type: 'int8', versions: '0+' },
        { name: 'permissionType', type: 'int8', versions: '0+' },
      ],
    },
  ],
});

export const CreateAclsResponse = defineMessage({
  name: 'CreateAclsResponse',
  apiKey: 30,
  type: 'response',
  validVersions: [0, 3],
  flexibleVersions: FLEXIBLE,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'results',
      type: '[]AclCreationResult',
      versions: '0+',
      fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
      ],
    },
  ],
});

export const DeleteAclsRequest = defineMessage({
  name: 'DeleteAclsRequest',
  apiKey: 31,
  type: 'request',
  validVersions: [0, 3],
  flexibleVersions: FLEXIBLE,
  fields: [{ name: 'filters', type: '[]DeleteAclsFilter', versions: '0+', fields: FILTER_FIELDS }],
});

export const DeleteAclsResponse = defineMessage({
  name: 'DeleteAclsResponse',
  apiKey: 31,
  type: 'response',
  validVersions: [0, 3],
  flexibleVersions: FLEXIBLE,
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'filterResults',
      type: '[]DeleteAclsFilterResult',
      versions: '0+',
      fields: [
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
        {
          name: 'matchingAcls',
          type: '[]DeleteAclsMatchingAcl',
          versions: '0+',
          fields: [
            { name: 'errorCode', type: 'int16', versions: '0+' },
            { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
            { name: 'resourceType', type: 'int8', versions: '0+' },
            { name: 'resourceName', type: 'string', versions: '0+' },
            { name: 'patternType', type: 'int8', versions: '1+', default: 3 },
            { name: 'principal', type: 'string', versions: '0+' },
            { name: 'host', type: 'string', versions: '0+' },
            { name: 'operation', type: 'int8', versions: '0+' },
            { name: 'permissionType', type: 'int8', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export type DescribeAclsRequestBody = Decoded<typeof DescribeAclsRequest>;
export type DescribeAclsResponseBody = Decoded<typeof DescribeAclsResponse>;
export type CreateAclsRequestBody = Decoded<typeof CreateAclsRequest>;
export type CreateAclsResponseBody = Decoded<typeof CreateAclsResponse>;
export type DeleteAclsRequestBody = Decoded<typeof DeleteAclsRequest>;
export type DeleteAclsResponseBody = Decoded<typeof DeleteAclsResponse>;
