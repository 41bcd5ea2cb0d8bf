// AlterUserScramCredentials (key 51), version 0, flexible: Kafka's
// AlterUserScramCredentialsRequest/Response.json (KIP-554), what kafka-configs --alter
// --add-config/--delete-config 'SCRAM-SHA-256=...' sends. The client salts and hashes the password
// itself (the server never sees it); one result per affected user. Mechanism: 1 = SCRAM-SHA-256,
// 2 = SCRAM-SHA-512.
import { defineMessage, type Decoded } from '../schema.js';

export const AlterUserScramCredentialsRequest = defineMessage({
  name: 'AlterUserScramCredentialsRequest',
  apiKey: 51,
  type: 'request',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [
    {
      name: 'deletions',
      type: '[]ScramCredentialDeletion',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'mechanism', type: 'int8', versions: '0+' },
      ],
    },
    {
      name: 'upsertions',
      type: '[]ScramCredentialUpsertion',
      versions: '0+',
      fields: [
        { name: 'name', type: 'string', versions: '0+' },
        { name: 'mechanism', type: 'int8', versions: '0+' },
        { name: 'iterations', type: 'int32', versions: '0+' },
        { name: 'salt', type: 'bytes', versions: '0+' },
        { name: 'saltedPassword', type: 'bytes', versions: '0+' },
      ],
    },
  ],
});

export const AlterUserScramCredentialsResponse = defineMessage({
  name: 'AlterUserScramCredentialsResponse',
  apiKey: 51,
  type: 'response',
  validVersions: [0, 0],
  flexibleVersions: '0+',
  fields: [
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
    {
      name: 'results',
      type: '[]AlterUserScramCredentialsResult',
      versions: '0+',
      fields: [
        { name: 'user', type: 'string', versions: '0+' },
        { name: 'errorCode', type: 'int16', versions: '0+' },
        { name: 'errorMessage', type: 'string', versions: '0+', nullableVersions: '0+' },
      ],
    },
  ],
});

export type AlterUserScramCredentialsRequestBody = Decoded<typeof AlterUserScramCredentialsRequest>;
export type AlterUserScramCredentialsResponseBody = Decoded<typeof AlterUserScramCredentialsResponse>;
