// ApiVersions (18): the APIs and version ranges this broker serves, and from v3 its features
// (KIP-584, features.ts): the versions it supports and the levels finalized for the cluster. A
// request of a version we do not know never reaches here: the connection answers it with the v0
// fallback (KIP-511).
import { ApiKey } from '../../protocol/api-keys.js';
import { defineHandler, type ApiHandler } from '../handler.js';
import { NONE } from './errors.js';

export function apiVersionsHandler(
  advertised: () => Array<{ apiKey: number; minVersion: number; maxVersion: number }>,
): ApiHandler<typeof ApiKey.ApiVersions> {
  return defineHandler({
    apiKey: ApiKey.ApiVersions,
    minVersion: 0,
    maxVersion: 4,
    handle: ({ broker }) => {
      const { epoch, levels } = broker.features.finalized();
      return {
        errorCode: NONE,
        apiKeys: advertised().sort((a, b) => a.apiKey - b.apiKey),
        throttleTimeMs: 0,
        supportedFeatures: broker.features.supported(),
        finalizedFeaturesEpoch: epoch,
        finalizedFeatures: levels.map(({ name, level }) => ({ name, maxVersionLevel: level, minVersionLevel: level })),
        zkMigrationReady: false,
      };
    },
  });
}
