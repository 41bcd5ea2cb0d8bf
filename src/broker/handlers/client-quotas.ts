// DescribeClientQuotas (48) and AlterClientQuotas (49): the client quotas of client-quotas.ts, as
// kafka-configs --entity-type clients|users|ips --describe|--alter and the admin clients send them.
// An alter is written where the broker keeps them (config-entities.ts): in a cluster any broker
// takes it, and every broker applies it.
import { NONE, errorCodeOf, errorMessageOf } from './errors.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { checkQuotaValue, entityFromRequest, entityKey, entityToResponse } from '../client-quotas.js';
import { CLUSTER_RESOURCE_NAME } from '../../protocol/acl-codes.js';
import { AclOperation, requireAllowed, ResourceType } from '../authorizer/request-auth.js';
import { defineHandler } from '../handler.js';

export const describeClientQuotasHandler = defineHandler({
  apiKey: ApiKey.DescribeClientQuotas,
  minVersion: 0,
  maxVersion: 1,
  handle(context, request) {
    const { broker } = context;
    try {
      requireAllowed(context, AclOperation.DESCRIBE_CONFIGS, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
      const entries = broker.quotas.describe(request.components, request.strict).map(({ entity, values }) => ({
        entity: entityToResponse(entity),
        values: Object.entries(values).map(([key, value]) => ({ key, value })),
      }));
      return { throttleTimeMs: 0, errorCode: NONE, errorMessage: null, entries };
    } catch (error) {
      return { throttleTimeMs: 0, errorCode: errorCodeOf(error), errorMessage: errorMessageOf(error), entries: null };
    }
  },
});

export const alterClientQuotasHandler = defineHandler({
  apiKey: ApiKey.AlterClientQuotas,
  minVersion: 0,
  maxVersion: 1,
  async handle(context, request) {
    const { broker } = context;
    const entries = [];
    for (const { entity: pairs, ops } of request.entries) {
      try {
        requireAllowed(context, AclOperation.ALTER_CONFIGS, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
        const entity = entityFromRequest(pairs);
        const change = (current: Readonly<Record<string, string>>) => {
          const next: Record<string, string> = { ...current };
          for (const { key, value, remove } of ops) {
            if (remove) {
              delete next[key];
              continue;
            }
            checkQuotaValue(entity, key, value);
            next[key] = String(value);
          }
          return next;
        };
        await broker.quotaStore.update(entityKey(entity), change, () => {}, request.validateOnly);
        entries.push({ errorCode: NONE, errorMessage: null, entity: pairs });
      } catch (error) {
        entries.push({ errorCode: errorCodeOf(error), errorMessage: errorMessageOf(error), entity: pairs });
      }
    }
    return { throttleTimeMs: 0, entries };
  },
});
