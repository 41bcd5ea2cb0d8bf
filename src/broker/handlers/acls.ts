// DescribeAcls (29), CreateAcls (30) and DeleteAcls (31), as kafka-acls and admin clients use them,
// over the broker's authorizer (authorizer/authorizer.ts). Listing ACLs takes DESCRIBE on the
// cluster and changing them ALTER, as in Kafka (CLUSTER_AUTHORIZATION_FAILED otherwise). Without an
// authorizer (authorizer.class.name unset, Kafka's default) each answers SECURITY_DISABLED, "No
// Authorizer is configured", and admin clients show Kafka's own error (kafkajs: "Security features
// are disabled").
import { KafkaErrorCode } from '../../errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import type { AclBinding, AclBindingFilter } from '../../protocol/acl-codes.js';
import { AclOperation, allowedOnCluster, deniedAnswer, ResourceType } from '../authorizer/request-auth.js';
import { defineHandler } from '../handler.js';
import { errorCodeOf, errorMessageOf } from './errors.js';

const NOT_AUTHORIZED = deniedAnswer(ResourceType.CLUSTER);
const DISABLED = { errorCode: KafkaErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured on the broker' };

export const describeAclsHandler = defineHandler({
  apiKey: ApiKey.DescribeAcls,
  minVersion: 0,
  maxVersion: 3,
  handle(context, request) {
    const { authorizer } = context.broker;
    if (!authorizer.enabled) return { throttleTimeMs: 0, ...DISABLED, resources: [] };
    if (!allowedOnCluster(context, AclOperation.DESCRIBE)) return { throttleTimeMs: 0, ...NOT_AUTHORIZED, resources: [] };
    let bindings: AclBinding[];
    try {
      bindings = authorizer.describe(bindingFilterOf(request));
    } catch (error) {
      return { throttleTimeMs: 0, errorCode: errorCodeOf(error), errorMessage: errorMessageOf(error), resources: [] };
    }
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.NONE, errorMessage: null, resources: byResource(bindings) };
  },
});

export const createAclsHandler = defineHandler({
  apiKey: ApiKey.CreateAcls,
  minVersion: 0,
  maxVersion: 3,
  async handle(context, request) {
    const { authorizer } = context.broker;
    const refused = !authorizer.enabled ? DISABLED : !allowedOnCluster(context, AclOperation.ALTER) ? NOT_AUTHORIZED : null;
    if (refused !== null) return { throttleTimeMs: 0, results: request.creations.map(() => refused) };
    const results = await authorizer.create(
      request.creations.map((creation) => ({
        resourceType: creation.resourceType,
        resourceName: creation.resourceName,
        patternType: creation.resourcePatternType,
        principal: creation.principal,
        host: creation.host,
        operation: creation.operation,
        permissionType: creation.permissionType,
      })),
    );
    return {
      throttleTimeMs: 0,
      results: results.map((error) => (error === null ? { errorCode: KafkaErrorCode.NONE, errorMessage: null } : { errorCode: errorCodeOf(error), errorMessage: errorMessageOf(error) })),
    };
  },
});

export const deleteAclsHandler = defineHandler({
  apiKey: ApiKey.DeleteAcls,
  minVersion: 0,
  maxVersion: 3,
  async handle(context, request) {
    const { authorizer } = context.broker;
    const refused = !authorizer.enabled ? DISABLED : !allowedOnCluster(context, AclOperation.ALTER) ? NOT_AUTHORIZED : null;
    if (refused !== null) return { throttleTimeMs: 0, filterResults: request.filters.map(() => ({ ...refused, matchingAcls: [] })) };
    const deletions = await authorizer.delete(request.filters.map(bindingFilterOf));
    return {
      throttleTimeMs: 0,
      filterResults: deletions.map(({ error, deleted }) => ({
        errorCode: error === null ? KafkaErrorCode.NONE : errorCodeOf(error),
        errorMessage: error === null ? null : errorMessageOf(error),
        matchingAcls: deleted.map((binding) => ({
          errorCode: KafkaErrorCode.NONE,
          errorMessage: null,
          resourceType: binding.resourceType,
          resourceName: binding.resourceName,
          patternType: binding.patternType,
          principal: binding.principal,
          host: binding.host,
          operation: binding.operation,
          permissionType: binding.permissionType,
        })),
      })),
    };
  },
});

/** A filter as DescribeAcls and DeleteAcls carry it (their *Filter fields). */
function bindingFilterOf(fields: {
  resourceTypeFilter: number;
  resourceNameFilter: string | null;
  patternTypeFilter: number;
  principalFilter: string | null;
  hostFilter: string | null;
  operation: number;
  permissionType: number;
}): AclBindingFilter {
  return {
    resourceType: fields.resourceTypeFilter,
    resourceName: fields.resourceNameFilter,
    patternType: fields.patternTypeFilter,
    principal: fields.principalFilter,
    host: fields.hostFilter,
    operation: fields.operation,
    permissionType: fields.permissionType,
  };
}

/** DescribeAcls' shape: the ACLs under their resource patterns. */
function byResource(bindings: readonly AclBinding[]) {
  const resources = new Map<string, { resourceType: number; resourceName: string; patternType: number; acls: Array<{ principal: string; host: string; operation: number; permissionType: number }> }>();
  for (const binding of bindings) {
    const key = JSON.stringify([binding.resourceType, binding.patternType, binding.resourceName]);
    let resource = resources.get(key);
    if (resource === undefined) {
      resource = { resourceType: binding.resourceType, resourceName: binding.resourceName, patternType: binding.patternType, acls: [] };
      resources.set(key, resource);
    }
    resource.acls.push({ principal: binding.principal, host: binding.host, operation: binding.operation, permissionType: binding.permissionType });
  }
  return [...resources.values()];
}
