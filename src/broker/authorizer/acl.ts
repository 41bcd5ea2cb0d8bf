// What the broker does with ACL bindings (src/protocol/acl-codes.ts): a binding names a resource
// pattern (type, name, LITERAL or PREFIXED) and an entry (principal, host, operation, ALLOW or
// DENY); CreateAcls refuses what Kafka's controller refuses, and a filter matches bindings with ANY
// and MATCH where Kafka's AclBindingFilter has them.
import { SluiceError } from '../../errors.js';
import {
  AclOperation,
  AclPermission,
  CLUSTER_RESOURCE_NAME,
  OPERATION_NAMES,
  PATTERN_TYPE_NAMES,
  PatternType,
  PERMISSION_NAMES,
  RESOURCE_TYPE_NAMES,
  ResourceType,
  WILDCARD,
  type AclBinding,
  type AclBindingFilter,
} from '../../protocol/acl-codes.js';

function isKnown(table: Map<number, string>, code: number, ...excluded: number[]): boolean {
  return table.has(code) && code !== 0 && !excluded.includes(code);
}

/**
 * Refuses a binding Kafka's controller refuses (AclControlManager.validateNewAcl), as INVALID_REQUEST:
 * unknown or ANY codes, a MATCH pattern, an empty name, a principal without its type, and a
 * cluster resource named other than kafka-cluster.
 */
export function validateBinding(binding: AclBinding): void {
  const invalid = (message: string): never => {
    throw new SluiceError('INVALID_REQUEST', message);
  };
  if (!isKnown(RESOURCE_TYPE_NAMES, binding.resourceType, ResourceType.ANY)) invalid(`Invalid resourceType ${binding.resourceType}`);
  if (binding.patternType !== PatternType.LITERAL && binding.patternType !== PatternType.PREFIXED) invalid(`Invalid patternType ${binding.patternType}`);
  if (!isKnown(OPERATION_NAMES, binding.operation, AclOperation.ANY)) invalid(`Invalid operation ${binding.operation}`);
  if (!isKnown(PERMISSION_NAMES, binding.permissionType, AclPermission.ANY)) invalid(`Invalid permissionType ${binding.permissionType}`);
  if (binding.resourceName === '') invalid('Resource name must not be empty');
  if (!/^[^:]+:.*$/.test(binding.principal)) invalid(`Could not parse principal from \`${binding.principal}\` (no colon is present separating the principal type from name)`);
  if (binding.host === '') invalid('Host must not be empty');
  if (binding.resourceType === ResourceType.CLUSTER && (binding.resourceName !== CLUSTER_RESOURCE_NAME || binding.patternType !== PatternType.LITERAL)) {
    invalid(`The only valid name for the CLUSTER resource is ${CLUSTER_RESOURCE_NAME}`);
  }
}

/** Refuses a filter with an unknown code (Kafka: "Invalid filter"), as INVALID_REQUEST. */
export function validateFilter(filter: AclBindingFilter): void {
  if (
    !isKnown(RESOURCE_TYPE_NAMES, filter.resourceType) ||
    !isKnown(PATTERN_TYPE_NAMES, filter.patternType) ||
    !isKnown(OPERATION_NAMES, filter.operation) ||
    !isKnown(PERMISSION_NAMES, filter.permissionType)
  ) {
    throw new SluiceError('INVALID_REQUEST', 'The filter has an unknown resource type, pattern type, operation or permission type');
  }
}

/** Kafka's AclBindingFilter.matches. */
export function filterMatches(filter: AclBindingFilter, binding: AclBinding): boolean {
  if (filter.resourceType !== ResourceType.ANY && filter.resourceType !== binding.resourceType) return false;
  if (!patternMatches(filter, binding)) return false;
  if (filter.principal !== null && filter.principal !== binding.principal) return false;
  if (filter.host !== null && filter.host !== binding.host) return false;
  if (filter.operation !== AclOperation.ANY && filter.operation !== binding.operation) return false;
  return filter.permissionType === AclPermission.ANY || filter.permissionType === binding.permissionType;
}

/** ResourcePatternFilter.matches: MATCH takes every pattern that applies to the named resource. */
function patternMatches(filter: AclBindingFilter, binding: AclBinding): boolean {
  const name = filter.resourceName;
  if (filter.patternType === PatternType.MATCH) {
    if (name === null) return true;
    if (binding.patternType === PatternType.PREFIXED) return name.startsWith(binding.resourceName);
    return binding.resourceName === name || binding.resourceName === WILDCARD;
  }
  if (filter.patternType !== PatternType.ANY && filter.patternType !== binding.patternType) return false;
  return name === null || name === binding.resourceName;
}
