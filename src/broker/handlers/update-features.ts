// UpdateFeatures (57): kafka-features upgrade, downgrade and disable (features.ts keeps the levels).
// As Kafka's: ALTER on the cluster, else CLUSTER_AUTHORIZATION_FAILED for the request; each feature
// checked on its own (v0-1 answer a result per feature, v2 only the first error, at the top).
// v0's AllowDowngrade is v1's safe downgrade.
import { ApiKey } from '../../protocol/api-keys.js';
import { KafkaErrorCode } from '../../errors.js';
import { defineHandler } from '../handler.js';
import { AclOperation, allowedOnCluster, deniedAnswer, ResourceType } from '../authorizer/request-auth.js';
import { UpgradeType } from '../features.js';

export const updateFeaturesHandler = defineHandler({
  apiKey: ApiKey.UpdateFeatures,
  minVersion: 0,
  maxVersion: 2,
  handle: async (context, request) => {
    const version = context.header.apiVersion;
    if (!allowedOnCluster(context, AclOperation.ALTER)) {
      const denied = deniedAnswer(ResourceType.CLUSTER);
      return { throttleTimeMs: 0, ...denied, results: request.featureUpdates.map(({ feature }) => ({ feature, ...denied })) };
    }
    const updates = request.featureUpdates.map(({ feature, maxVersionLevel, allowDowngrade, upgradeType }) => ({
      feature,
      level: maxVersionLevel,
      upgradeType: version === 0 ? (allowDowngrade ? UpgradeType.SAFE_DOWNGRADE : UpgradeType.UPGRADE) : upgradeType,
    }));
    const outcomes = await context.broker.features.update(updates, version >= 1 && request.validateOnly);
    const results = [...outcomes].map(([feature, error]) => ({ feature, errorCode: error?.errorCode ?? KafkaErrorCode.NONE, errorMessage: error?.message ?? null }));
    const failed = results.find(({ errorCode }) => errorCode !== KafkaErrorCode.NONE);
    // v2 carries no results: the first failure is the request's.
    if (version >= 2 && failed !== undefined) return { throttleTimeMs: 0, errorCode: failed.errorCode, errorMessage: failed.errorMessage, results: [] };
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.NONE, errorMessage: null, results };
  },
});
