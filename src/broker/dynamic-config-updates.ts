// How a running broker takes its dynamic configs (dynamic-config.ts): an alter is checked, written
// where the broker keeps them (the data directory's file alone, etcd in a cluster, where every
// broker's watch delivers it), and applied: the topic defaults of the engine's logs, and the
// controller's unclean.leader.election.enable default.
import { SluiceError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../logger.js';
import { unsupportedConfigs } from '../storage/log-config.js';
import type { ClusterNode } from './cluster-node.js';
import { BrokerConfigLayers, DEFAULT_ENTITY, writeDynamicConfigFile, type DynamicEntities } from './dynamic-config.js';

/** How long an alter in a cluster waits for this broker's watch to deliver its own write. */
const CLUSTER_APPLY_WAIT_MS = 5_000;
const CLUSTER_APPLY_POLL_MS = 10;

export interface DynamicConfigUpdatesOptions {
  layers: BrokerConfigLayers;
  engine: Engine;
  dataDir: string;
  logger: Logger;
  cluster(): ClusterNode | null;
}

export class DynamicConfigUpdates {
  readonly layers: BrokerConfigLayers;

  constructor(private readonly options: DynamicConfigUpdatesOptions) {
    this.layers = options.layers;
  }

  /**
   * Replaces one entity's dynamic configs with what `change` makes of the current ones. A single
   * broker takes its own entity and the default; a cluster member writes any broker's, as Kafka's
   * controller stores them for brokers not up yet.
   */
  async alter(entity: string, change: (current: Readonly<Record<string, string>>) => Record<string, string>, validateOnly: boolean): Promise<void> {
    const { layers } = this;
    const cluster = this.options.cluster();
    if (cluster === null && entity !== DEFAULT_ENTITY && entity !== String(layers.nodeId)) {
      throw new SluiceError('INVALID_REQUEST', `Broker ${entity} is not this broker (${layers.nodeId}), the only one of its cluster`);
    }
    const proposed = change(layers.dynamicOf(entity));
    const next = layers.validate(entity, proposed);
    if (validateOnly) return;
    if (cluster === null) {
      writeDynamicConfigFile(this.options.dataDir, next);
      this.apply(next);
      return;
    }
    const written = await cluster.store.updateBrokerConfigs(entity, (current) => {
      const configs = change(current);
      layers.validate(entity, configs);
      return configs;
    });
    // Answered once this broker runs with it, so a describe right after shows it.
    const deadlineMs = Date.now() + CLUSTER_APPLY_WAIT_MS;
    while (JSON.stringify(layers.dynamicOf(entity)) !== JSON.stringify(written) && Date.now() < deadlineMs) {
      await new Promise((resolve) => setTimeout(resolve, CLUSTER_APPLY_POLL_MS));
    }
  }

  /** Takes every entity's dynamic configs (loaded, written, or delivered by the cluster's watch). */
  apply(entities: DynamicEntities): void {
    const { layers, engine, logger } = this.options;
    const previous = new Map(layers.all);
    layers.replace(entities);
    try {
      engine.setBrokerLogDefaults(layers.effective());
    } catch (error) {
      // Only a store written around the checks could hold such a value: keep running as before.
      layers.replace(previous);
      logger.error({ error: String(error) }, 'dynamic broker configs not applied: a value is invalid');
      return;
    }
    this.options.cluster()?.setUncleanLeaderElectionEnable(layers.uncleanLeaderElectionEnable());
    this.report('dynamic broker configs updated', previous);
  }

  /**
   * Logs the dynamic configs this broker runs with (its own entity's and the cluster's), those that
   * differ from `previous` when given, and warns of any that sluice accepts without acting on.
   */
  report(message: string, previous?: DynamicEntities): void {
    const { layers, logger } = this.options;
    for (const entity of [DEFAULT_ENTITY, String(layers.nodeId)]) {
      const configs = layers.dynamicOf(entity);
      if (previous === undefined ? Object.keys(configs).length === 0 : JSON.stringify(previous.get(entity) ?? {}) === JSON.stringify(configs)) continue;
      const label = entity === DEFAULT_ENTITY ? 'the cluster-wide default' : `broker ${entity}`;
      logger.info({ entity: label, configs }, message);
      for (const { name, value, reason } of unsupportedConfigs(configs)) {
        logger.warn({ entity: label, config: name, value }, `dynamic config ${name}=${value} of ${label} is accepted but not supported: ${reason}`);
      }
    }
  }
}
