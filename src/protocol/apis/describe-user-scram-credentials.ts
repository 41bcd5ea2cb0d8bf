// DescribeUserScramCredentials (key 50), version 0, flexible: Kafka's
// DescribeUserScramCredentialsRequest/Response.json (KIP-554), what kafka-configs --describe
// --entity-type users asks: the SCRAM mechanisms (and iteration counts) each user has credentials
// for, never the salts or salted passwords. Mechanism: 1 = SCRAM-SHA-256, 2 = SCRAM-SHA-512.
import { defineMessage, type Decoded } from '../schema.js';

export const DescribeUserScramCredentialsRequest = defineMessage({
  name: 'DescribeUserScramCredentialsRequest',
  apiKey: 50,
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [
    // The users to describe, or null/empty to describe all users.
    {
      name: 'users',
      type: '[]UserName',
      versions: '0+',
      nullableVersions: '0+',
      fields: [{ name: 'name', type: 'string', versions: '0+' }],
    },
  ],
});

export const DescribeUserScramCredentialsResponse = defineMessage({
  name: 'DescribeUserScramCredentialsResponse',
  apiKey: 50,
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    // The message-level error: 0 except for authorization or infrastructure issues.
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
    {
      name: 'results',
      type: '[]DescribeUserScramCredentialsResult',
      versions: '0+',
      fields: [
        { name: 'user', type: 'string', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
        {
          name: 'credentialInfos',
          type: '[]CredentialInfo',
          versions: '0+',
          fields: [
            { name: 'mechanism', type: 'int8', versions: '0+' },
            { name: 'iterations', type: 'int32', versions: '0+' },
          ],
        },
      ],
    },
  ],
});

export type DescribeUserScramCredentialsRequestBody = Decoded<typeof DescribeUserScramCredentialsRequest>;
export type DescribeUserScramCredentialsResponseBody = Decoded<typeof DescribeUserScramCredentialsResponse>;
