// CreateDelegationToken (38), RenewDelegationToken (39), ExpireDelegationToken (40) and
// DescribeDelegationToken (41), as Kafka's KafkaApis answers them (KIP-48, KIP-373); the tokens
// themselves are sasl/delegation-tokens.ts's. As in Kafka:
//   - only a connection authenticated other than by a delegation token may ask: a PLAINTEXT
//     connection, an SSL one without a client certificate, or a token's login gets
//     DELEGATION_TOKEN_REQUEST_NOT_ALLOWED;
//   - a token for another owner needs CREATE_TOKENS on User:<owner>, else
//     DELEGATION_TOKEN_AUTHORIZATION_FAILED;
//   - a describe shows the tokens the requester owns, asked for or renews, and others' only with
//     DESCRIBE on the token (DelegationToken:<id>) or DESCRIBE_TOKENS on User:<owner>;
//   - without delegation.token.secret.key every request gets DELEGATION_TOKEN_AUTH_DISABLED.
import { ApiKey } from '../../protocol/api-keys.js';
import { KafkaErrorCode } from '../../errors.js';
import { defineHandler, type RequestContext } from '../handler.js';
import { AclOperation, allowed, principalOf, ResourceType } from '../authorizer/request-auth.js';
import { ownerOrRenewer, type DelegationToken } from '../sasl/delegation-tokens.js';
import { errorCodeOf } from './errors.js';
import { principalFields, principalText } from '../../protocol/apis/delegation-tokens.js';

const NO_HMAC = Buffer.alloc(0);

/** Kafka's allowTokenRequests: an authenticated connection, not one logged in by a token. */
function tokenRequestsAllowed(context: RequestContext): boolean {
  const authentication = context.authentication;
  return authentication === 'sasl' || authentication === 'certificate';
}

function requesterFields(requester: string): { tokenRequesterPrincipalType: string; tokenRequesterPrincipalName: string } {
  const { principalType, principalName } = principalFields(requester);
  return { tokenRequesterPrincipalType: principalType, tokenRequesterPrincipalName: principalName };
}

export const createDelegationTokenHandler = defineHandler({
  apiKey: ApiKey.CreateDelegationToken,
  minVersion: 0,
  maxVersion: 3,
  handle: async (context, request) => {
    const requester = principalOf(context);
    const owner = request.ownerPrincipalName ? principalText({ principalType: request.ownerPrincipalType || 'User', principalName: request.ownerPrincipalName }) : requester;
    const refused = (errorCode: number) => ({
      errorCode,
      ...principalFields(owner),
      ...requesterFields(requester),
      issueTimestampMs: -1,
      expiryTimestampMs: -1,
      maxTimestampMs: -1,
      tokenId: '',
      hmac: NO_HMAC,
      throttleTimeMs: 0,
    });
    if (!tokenRequestsAllowed(context)) return refused(KafkaErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED);
    if (owner !== requester && !allowed(context, AclOperation.CREATE_TOKENS, ResourceType.USER, owner)) {
      return refused(KafkaErrorCode.DELEGATION_TOKEN_AUTHORIZATION_FAILED);
    }
    const renewers = request.renewers.map(principalText);
    try {
      const token = await context.broker.delegationTokens.create(owner, requester, renewers, Number(request.maxLifetimeMs));
      return {
        errorCode: KafkaErrorCode.NONE,
        ...principalFields(token.owner),
        ...requesterFields(token.requester),
        issueTimestampMs: token.issueTimestampMs,
        expiryTimestampMs: token.expiryTimestampMs,
        maxTimestampMs: token.maxTimestampMs,
        tokenId: token.tokenId,
        hmac: token.hmac,
        throttleTimeMs: 0,
      };
    } catch (error) {
      return refused(errorCodeOf(error));
    }
  },
});

/** Renew and Expire: the token's new expiry, or the error and -1. */
async function changeExpiry(context: RequestContext, change: (principal: string) => Promise<number>) {
  if (!tokenRequestsAllowed(context)) return { errorCode: KafkaErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, expiryTimestampMs: -1, throttleTimeMs: 0 };
  try {
    return { errorCode: KafkaErrorCode.NONE, expiryTimestampMs: await change(principalOf(context)), throttleTimeMs: 0 };
  } catch (error) {
    return { errorCode: errorCodeOf(error), expiryTimestampMs: -1, throttleTimeMs: 0 };
  }
}

export const renewDelegationTokenHandler = defineHandler({
  apiKey: ApiKey.RenewDelegationToken,
  minVersion: 0,
  maxVersion: 2,
  handle: (context, request) =>
    changeExpiry(context, (principal) => context.broker.delegationTokens.renew(request.hmac, principal, Number(request.renewPeriodMs))),
});

export const expireDelegationTokenHandler = defineHandler({
  apiKey: ApiKey.ExpireDelegationToken,
  minVersion: 0,
  maxVersion: 2,
  handle: (context, request) =>
    changeExpiry(context, (principal) => context.broker.delegationTokens.expire(request.hmac, principal, Number(request.expiryTimePeriodMs))),
});

export const describeDelegationTokenHandler = defineHandler({
  apiKey: ApiKey.DescribeDelegationToken,
  minVersion: 0,
  maxVersion: 3,
  handle: (context, request) => {
    const { delegationTokens } = context.broker;
    if (!tokenRequestsAllowed(context)) return { errorCode: KafkaErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, tokens: [], throttleTimeMs: 0 };
    if (!delegationTokens.enabled) return { errorCode: KafkaErrorCode.DELEGATION_TOKEN_AUTH_DISABLED, tokens: [], throttleTimeMs: 0 };
    // An empty list of owners asks for none; null for every token the requester may see.
    const owners = request.owners?.map(principalText) ?? null;
    const requester = principalOf(context);
    const visible = (token: DelegationToken) =>
      (owners === null || owners.some((owner) => ownerOrRenewer(token, owner))) &&
      (ownerOrRenewer(token, requester) ||
        allowed(context, AclOperation.DESCRIBE, ResourceType.DELEGATION_TOKEN, token.tokenId) ||
        allowed(context, AclOperation.DESCRIBE_TOKENS, ResourceType.USER, token.owner));
    const tokens = owners?.length === 0 ? [] : delegationTokens.list().filter(visible);
    return {
      errorCode: KafkaErrorCode.NONE,
      tokens: tokens.map((token) => ({
        ...principalFields(token.owner),
        ...requesterFields(token.requester),
        issueTimestamp: token.issueTimestampMs,
        expiryTimestamp: token.expiryTimestampMs,
        maxTimestamp: token.maxTimestampMs,
        tokenId: token.tokenId,
        hmac: token.hmac,
        renewers: token.renewers.map((renewer) => principalFields(renewer)),
      })),
      throttleTimeMs: 0,
    };
  },
});
