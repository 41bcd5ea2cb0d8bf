// Feature flags (KIP-584), as Kafka 4's brokers report them in ApiVersions and change them with
// UpdateFeatures (kafka-features): each feature has the versions this broker supports and a level
// finalized for the cluster. sluice has one, group.version: at level 1, the default, the consumer
// group protocol (KIP-848, ConsumerGroupHeartbeat) is served; at level 0 it is refused with
// UNSUPPORTED_VERSION and consumers keep the classic protocol, as with Kafka's. Kafka's
// metadata.version and kraft.version describe a KRaft metadata log, which sluice does not have
// (cluster metadata lives in etcd), and a transaction.version of 2 would tell Kafka 4's producers
// to use KIP-890's second part, which sluice does not serve: neither is reported.
//
// Levels are kept as the other runtime configs are (config-entities.ts): features.json in the
// data directory, or etcd under <root>/configs/features/ in a cluster, in one entity holding every
// level and the epoch, which counts the changes (Kafka's finalized features epoch).
import { SluiceError } from '../errors.js';
import type { ConfigEntityStore } from './config-entities.js';

/** The single broker's file of finalized feature levels, in its data directory. */
export const FEATURES_FILE = 'features.json';

export const GROUP_VERSION = 'group.version';

/** Kafka's UpgradeType (UpdateFeatures v1+). */
export const UpgradeType = { UPGRADE: 1, SAFE_DOWNGRADE: 2, UNSAFE_DOWNGRADE: 3 } as const;

/** What this broker supports of each feature, and the level a new cluster starts at. */
const SUPPORTED: ReadonlyMap<string, { minVersion: number; maxVersion: number; defaultLevel: number }> = new Map([
  [GROUP_VERSION, { minVersion: 0, maxVersion: 1, defaultLevel: 1 }],
]);

/** The one entity the levels live in, and its key for the epoch. */
const ENTITY = '';
const EPOCH_KEY = 'epoch';

export interface FeatureUpdate {
  feature: string;
  /** Below 1 disables the feature (level 0). */
  level: number;
  upgradeType: number;
}

export class BrokerFeatures {
  constructor(private readonly store: ConfigEntityStore) {}

  /** Every feature this broker knows, with the versions it supports. */
  supported(): Array<{ name: string; minVersion: number; maxVersion: number }> {
    return [...SUPPORTED].map(([name, { minVersion, maxVersion }]) => ({ name, minVersion, maxVersion }));
  }

  /** The feature's finalized level (its default until one is set). */
  level(feature: string): number {
    const stored = this.store.entities.get(ENTITY)?.[feature];
    return stored === undefined ? (SUPPORTED.get(feature)?.defaultLevel ?? 0) : Number(stored);
  }

  /** The finalized levels above 0 (Kafka lists no disabled feature), and the epoch: changes so far. */
  finalized(): { epoch: number; levels: Array<{ name: string; level: number }> } {
    const levels = [...SUPPORTED.keys()].map((name) => ({ name, level: this.level(name) })).filter(({ level }) => level > 0);
    return { epoch: Number(this.store.entities.get(ENTITY)?.[EPOCH_KEY] ?? 0), levels };
  }

  /**
   * Applies `updates` as Kafka's controller does, each checked on its own (INVALID_UPDATE_VERSION
   * says why one is refused): the accepted ones are written together, unless `validateOnly`.
   */
  async update(updates: readonly FeatureUpdate[], validateOnly: boolean): Promise<Map<string, SluiceError | null>> {
    const results = new Map<string, SluiceError | null>();
    const accepted = new Map<string, number>();
    for (const update of updates) {
      if (results.has(update.feature)) {
        results.set(update.feature, new SluiceError('INVALID_REQUEST', `Feature ${update.feature} was given more than once`));
        accepted.delete(update.feature);
        continue;
      }
      try {
        accepted.set(update.feature, this.check(update));
        results.set(update.feature, null);
      } catch (error) {
        results.set(update.feature, error as SluiceError);
      }
    }
    if (validateOnly || accepted.size === 0) return results;
    await this.store.update(
      ENTITY,
      (current) => {
        const next = { ...current };
        for (const [feature, level] of accepted) next[feature] = String(level);
        next[EPOCH_KEY] = String(Number(current[EPOCH_KEY] ?? 0) + 1);
        return next;
      },
      () => {},
    );
    return results;
  }

  private check({ feature, level, upgradeType }: FeatureUpdate): number {
    const invalid = (message: string) => new SluiceError('INVALID_UPDATE_VERSION', message);
    const supported = SUPPORTED.get(feature);
    if (supported === undefined) throw invalid(`Invalid update version ${level} for feature ${feature}. The broker does not support the given feature.`);
    const target = Math.max(level, 0);
    if (target > supported.maxVersion || (target !== 0 && target < supported.minVersion)) {
      throw invalid(`Invalid update version ${level} for feature ${feature}. Broker only supports versions ${supported.minVersion}-${supported.maxVersion}`);
    }
    if (upgradeType !== UpgradeType.UPGRADE && upgradeType !== UpgradeType.SAFE_DOWNGRADE && upgradeType !== UpgradeType.UNSAFE_DOWNGRADE) {
      throw invalid(`Unknown upgrade type ${upgradeType} for feature ${feature}`);
    }
    const current = this.level(feature);
    if (target < current && upgradeType === UpgradeType.UPGRADE) {
      throw invalid(`Invalid update version ${level} for feature ${feature}. Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.`);
    }
    if (target > current && upgradeType !== UpgradeType.UPGRADE) throw invalid(`Invalid update version ${level} for feature ${feature}. Can't downgrade to a newer version.`);
    return target;
  }
}
