// What a handler asks the authorizer: may this request's principal (User:<the user it logged in
// as>, else User:ANONYMOUS) at its address do an operation on a resource. Denials are logged as
// Kafka's authorizer logs them, at most once a minute per principal and operation.
import { SluiceError, type KafkaErrorName } from '../../errors.js';
import type { RequestContext } from '../handler.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, OPERATION_NAMES, RESOURCE_TYPE_NAMES, ResourceType, SUPPORTED_OPERATIONS } from '../../protocol/acl-codes.js';

export { AclOperation, ResourceType };

/** The request's principal as ACLs name it. */
export function principalOf(context: RequestContext): string {
  return `User:${context.quotaClient.user}`;
}

/** Whether the request may do `operation` on the resource (always, with no authorizer configured). */
export function allowed(context: RequestContext, operation: number, resourceType: number, resourceName: string): boolean {
  const { authorizer } = context.broker;
  if (!authorizer.enabled) return true;
  const principal = principalOf(context);
  if (authorizer.authorize(principal, context.clientHost, operation, resourceType, resourceName)) return true;
  logDenied(context, principal, operation, `${RESOURCE_TYPE_NAMES.get(resourceType)}:${resourceName}`);
  return false;
}

/** Kafka's error, and its message (Errors.X.message()), for a denied operation on a resource of each type. */
const DENIED_ERRORS: ReadonlyMap<number, readonly [KafkaErrorName, string]> = new Map([
  [ResourceType.TOPIC, ['TOPIC_AUTHORIZATION_FAILED', 'Topic authorization failed.']],
  [ResourceType.GROUP, ['GROUP_AUTHORIZATION_FAILED', 'Group authorization failed.']],
  [ResourceType.CLUSTER, ['CLUSTER_AUTHORIZATION_FAILED', 'Cluster authorization failed.']],
  [ResourceType.TRANSACTIONAL_ID, ['TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'Transactional Id authorization failed.']],
]);

/** The error a denial on a resource of the type answers with (TOPIC_AUTHORIZATION_FAILED, ...). */
export function deniedError(resourceType: number): SluiceError {
  const [code, message] = DENIED_ERRORS.get(resourceType) ?? DENIED_ERRORS.get(ResourceType.CLUSTER)!;
  return new SluiceError(code, message);
}

/** deniedError as a response's errorCode and errorMessage. */
export function deniedAnswer(resourceType: number): { errorCode: number; errorMessage: string } {
  const error = deniedError(resourceType);
  return { errorCode: error.errorCode, errorMessage: error.message };
}

/** As allowed, throwing deniedError when not: for handlers whose errors become error codes. */
export function requireAllowed(context: RequestContext, operation: number, resourceType: number, resourceName: string): void {
  if (!allowed(context, operation, resourceType, resourceName)) throw deniedError(resourceType);
}

/** Whether the request may do `operation` on the cluster resource. */
export function allowedOnCluster(context: RequestContext, operation: number): boolean {
  return allowed(context, operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
}

/** Whether the request may do `operation` on some resource of the type (KIP-679's check). */
export function allowedOnSome(context: RequestContext, operation: number, resourceType: number): boolean {
  const { authorizer } = context.broker;
  if (!authorizer.enabled) return true;
  const principal = principalOf(context);
  if (authorizer.authorizeByResourceType(principal, context.clientHost, operation, resourceType)) return true;
  logDenied(context, principal, operation, `any ${RESOURCE_TYPE_NAMES.get(resourceType)}`);
  return false;
}

/** A request on a replica's behalf (a follower's fetch, a marker write): CLUSTER_ACTION on the cluster. */
export function allowedClusterAction(context: RequestContext): boolean {
  return allowedOnCluster(context, AclOperation.CLUSTER_ACTION);
}

function logDenied(context: RequestContext, principal: string, operation: number, resource: string): void {
  const name = OPERATION_NAMES.get(operation);
  context.broker.log.log(
    'info',
    `authorizer:denied:${principal}:${name}`,
    { principal, host: context.clientHost, operation: name, resource, apiKey: context.header.apiKey },
    `Principal = ${principal} is Denied operation = ${name} from host = ${context.clientHost} on resource = ${resource}`,
  );
}

/**
 * The operations the request's principal may do on the resource, as the bitfield Metadata,
 * DescribeCluster and DescribeGroups carry when asked (bit n set: operation code n allowed).
 */
export function authorizedOperations(context: RequestContext, resourceType: number, resourceName: string): number {
  const { authorizer } = context.broker;
  const principal = principalOf(context);
  let bits = 0;
  for (const operation of SUPPORTED_OPERATIONS.get(resourceType) ?? []) {
    if (authorizer.authorize(principal, context.clientHost, operation, resourceType, resourceName)) bits |= 1 << operation;
  }
  return bits;
}
