// The delegation token APIs (KIP-48): CreateDelegationToken (38) v0-3, RenewDelegationToken (39)
// v0-2, ExpireDelegationToken (40) v0-2 and DescribeDelegationToken (41) v0-3, as Kafka's
// *DelegationToken{Request,Response}.json define them. Flexible from v2. Create v3 and Describe v3
// add the owner a token is made for and the principal that asked for it (KIP-373).
import { SluiceError } from '../../errors.js';
import { defineMessage, type Decoded } from '../schema.js';

/** A principal as these APIs carry it: User, alice. */
export interface PrincipalFields {
  principalType: string;
  principalName: string;
}

/** 'User:alice' as these APIs carry it; INVALID_PRINCIPAL_TYPE for text without a type. */
export function principalFields(principal: string): PrincipalFields {
  const colon = principal.indexOf(':');
  if (colon <= 0) throw new SluiceError('INVALID_PRINCIPAL_TYPE', `'${principal}' is not a principal: expected Type:name, e.g. User:alice`);
  return { principalType: principal.slice(0, colon), principalName: principal.slice(colon + 1) };
}

/** A principal of these APIs as 'User:alice'. */
export function principalText({ principalType, principalName }: PrincipalFields): string {
  return `${principalType}:${principalName}`;
}

const principalSchemaFields = [
  { name: 'principalType', type: 'string', versions: '0+' },
  { name: 'principalName', type: 'string', versions: '0+' },
] as const;

export const CreateDelegationTokenRequest = defineMessage({
  name: 'CreateDelegationTokenRequest',
  apiKey: 38,
  type: 'request',
  validVersions: [0, 3],
  flexibleVersions: '2+',
  fields: [
    // Null (or v0-2): the token is the requester's own.
    { name: 'ownerPrincipalType', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
    { name: 'ownerPrincipalName', type: 'string', versions: '3+', nullableVersions: '3+', default: null },
    { name: 'renewers', type: '[]CreatableRenewers', versions: '0+', fields: principalSchemaFields },
    // -1 (or any value <= 0): delegation.token.max.lifetime.ms.
    { name: 'maxLifetimeMs', type: 'int64', versions: '0+' },
  ],
});

export const CreateDelegationTokenResponse = defineMessage({
  name: 'CreateDelegationTokenResponse',
  apiKey: 38,
  type: 'response',
  validVersions: [0, 3],
  flexibleVersions: '2+',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    { name: 'principalType', type: 'string', versions: '0+' },
    { name: 'principalName', type: 'string', versions: '0+' },
    { name: 'tokenRequesterPrincipalType', type: 'string', versions: '3+' },
    { name: 'tokenRequesterPrincipalName', type: 'string', versions: '3+' },
    { name: 'issueTimestampMs', type: 'int64', versions: '0+' },
    { name: 'expiryTimestampMs', type: 'int64', versions: '0+' },
    { name: 'maxTimestampMs', type: 'int64', versions: '0+' },
    { name: 'tokenId', type: 'string', versions: '0+' },
    { name: 'hmac', type: 'bytes', versions: '0+' },
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
  ],
});

export const RenewDelegationTokenRequest = defineMessage({
  name: 'RenewDelegationTokenRequest',
  apiKey: 39,
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: '2+',
  fields: [
    { name: 'hmac', type: 'bytes', versions: '0+' },
    // Negative: delegation.token.expiry.time.ms.
    { name: 'renewPeriodMs', type: 'int64', versions: '0+' },
  ],
});

/** Renew's and Expire's answers: the token's expiry after the change. */
const expiryResponseFields = [
  { name: 'errorCode', type: 'int16', versions: '0+' },
  { name: 'expiryTimestampMs', type: 'int64', versions: '0+' },
  { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
] as const;

export const RenewDelegationTokenResponse = defineMessage({
  name: 'RenewDelegationTokenResponse',
  apiKey: 39,
  type: 'response',
  validVersions: [0, 2],
  flexibleVersions: '2+',
  fields: expiryResponseFields,
});

export const ExpireDelegationTokenRequest = defineMessage({
  name: 'ExpireDelegationTokenRequest',
  apiKey: 40,
  type: 'request',
  validVersions: [0, 2],
  flexibleVersions: '2+',
  fields: [
    { name: 'hmac', type: 'bytes', versions: '0+' },
    // Negative: expire now.
    { name: 'expiryTimePeriodMs', type: 'int64', versions: '0+' },
  ],
});

export const ExpireDelegationTokenResponse = defineMessage({
  name: 'ExpireDelegationTokenResponse',
  apiKey: 40,
  type: 'response',
  validVersions: [0, 2],
  flexibleVersions: '2+',
  fields: expiryResponseFields,
});

export const DescribeDelegationTokenRequest = defineMessage({
  name: 'DescribeDelegationTokenRequest',
  apiKey: 41,
  type: 'request',
  validVersions: [0, 3],
  flexibleVersions: '2+',
  fields: [
    // Null: every token the requester may see; empty: none.
    { name: 'owners', type: '[]DescribeDelegationTokenOwner', versions: '0+', nullableVersions: '0+', default: null, fields: principalSchemaFields },
  ],
});

export const DescribeDelegationTokenResponse = defineMessage({
  name: 'DescribeDelegationTokenResponse',
  apiKey: 41,
  type: 'response',
  validVersions: [0, 3],
  flexibleVersions: '2+',
  fields: [
    { name: 'errorCode', type: 'int16', versions: '0+' },
    {
      name: 'tokens',
      type: '[]DescribedDelegationToken',
      versions: '0+',
      fields: [
        ...principalSchemaFields,
        { name: 'tokenRequesterPrincipalType', type: 'string', versions: '3+' },
        { name: 'tokenRequesterPrincipalName', type: 'string', versions: '3+' },
        { name: 'issueTimestamp', type: 'int64', versions: '0+' },
        { name: 'expiryTimestamp', type: 'int64', versions: '0+' },
        { name: 'maxTimestamp', type: 'int64', versions: '0+' },
        { name: 'tokenId', type: 'string', versions: '0+' },
        { name: 'hmac', type: 'bytes', versions: '0+' },
        { name: 'renewers', type: '[]DescribedDelegationTokenRenewer', versions: '0+', fields: principalSchemaFields },
      ],
    },
    { name: 'throttleTimeMs', type: 'int32', versions: '0+' },
  ],
});

export type CreateDelegationTokenRequestBody = Decoded<typeof CreateDelegationTokenRequest>;
export type CreateDelegationTokenResponseBody = Decoded<typeof CreateDelegationTokenResponse>;
export type RenewDelegationTokenRequestBody = Decoded<typeof RenewDelegationTokenRequest>;
export type ExpireDelegationTokenRequestBody = Decoded<typeof ExpireDelegationTokenRequest>;
export type DescribeDelegationTokenRequestBody = Decoded<typeof DescribeDelegationTokenRequest>;
export type DescribeDelegationTokenResponseBody = Decoded<typeof DescribeDelegationTokenResponse>;
