// How a running broker takes its dynamic configs (dynamic-config.ts): an alter is checked and
// written where the broker keeps them (config-entities.ts), and applied: the topic defaults of the
// engine's logs, the log cleaner's settings, the connection limits, the replication quotas' rates,
// a TLS listener's stores (new connections take them), and the controller's
// unclean.leader.election.enable default.
import { SluiceError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../logger.js';
import { unsupportedConfigs } from '../storage/log-config.js';
import type { ClusterNode } from './cluster-node.js';
import { connectionLimits, servedTlsSettings } from './config.js';
import { checkRenewalHandshakes, type TlsAcceptor, type TlsListenerSettings } from './tls-listener.js';
import type { ConnectionQuotas } from './connection-quotas.js';
import { ConfigEntityStore, type ConfigEntities } from './config-entities.js';
import { BrokerConfigLayers, DEFAULT_ENTITY, DYNAMIC_CONFIG_FILE } from './dynamic-config.js';
import { applyReplicationThrottledRates, logDirMoveRate, replicationThrottledRates, type ReplicationQuotas } from './replication-quotas.js';

export interface DynamicConfigUpdatesOptions {
  /** The broker's layers, holding the dynamic configs it started with. */
  layers: BrokerConfigLayers;
  engine: Engine;
  dataDir: string;
  logger: Logger;
  cluster(): ClusterNode | null;
  connectionQuotas: ConnectionQuotas;
  /** What the descriptor budget gave connections at start: max.connections stays within it. */
  connectionsMax: number;
  replicationQuotas: ReplicationQuotas;
  /** Each TLS listener's acceptor, by listener name, which takes new key and trust stores. */
  tls: ReadonlyMap<string, TlsAcceptor>;
  /** The listener brokers reach each other on (inter.broker.listener.name). */
  interBrokerListener: string;
}

export class DynamicConfigUpdates {
  readonly layers: BrokerConfigLayers;
  readonly store: ConfigEntityStore;

  constructor(private readonly options: DynamicConfigUpdatesOptions) {
    this.layers = options.layers;
    this.store = new ConfigEntityStore({
      kind: 'brokers',
      fileName: DYNAMIC_CONFIG_FILE,
      dataDir: options.dataDir,
      cluster: options.cluster,
      initial: options.layers.all,
      apply: (entities) => this.apply(entities),
    });
  }

  /**
   * Replaces one entity's dynamic configs with what `change` makes of the current ones. A single
   * broker takes its own entity and the default; a cluster member writes any broker's, as Kafka's
   * controller stores them for brokers not up yet.
   */
  async alter(entity: string, change: (current: Readonly<Record<string, string>>) => Record<string, string>, validateOnly: boolean): Promise<void> {
    const { layers } = this;
    if (this.options.cluster() === null && entity !== DEFAULT_ENTITY && entity !== String(layers.nodeId)) {
      throw new SluiceError('INVALID_REQUEST', `Broker ${entity} is not this broker (${layers.nodeId}), the only one of its cluster`);
    }
    const serving = new Map([...this.options.tls].map(([listener, acceptor]) => [listener, acceptor.settings]));
    const check = (next: ConfigEntities) => layers.check(entity, next, serving);
    const interBroker = serving.get(this.options.interBrokerListener);
    if (interBroker !== undefined && this.options.cluster() !== null) {
      // The listener brokers use with each other: renewed stores must handshake with the current
      // ones both ways first (Kafka's SslEngineValidator), checked on a dry run of the alter since
      // a handshake needs the event loop and the store's check cannot wait.
      const dryRun: { renewed: TlsListenerSettings | undefined } = { renewed: undefined };
      await this.store.update(entity, change, (next) => {
        dryRun.renewed = check(next)?.get(this.options.interBrokerListener);
      }, true);
      if (dryRun.renewed !== undefined) {
        try {
          await checkRenewalHandshakes(interBroker, dryRun.renewed);
        } catch (error) {
          throw layers.refusal(entity, error);
        }
      }
    }
    await this.store.update(entity, change, check, validateOnly);
  }

  /** Takes every entity's dynamic configs (loaded, written, or delivered by the cluster's watch). */
  apply(entities: ConfigEntities): void {
    const { layers, engine, logger } = this.options;
    const previous = new Map(layers.all);
    layers.replace(entities);
    try {
      const effective = layers.effective();
      const limits = connectionLimits(effective);
      replicationThrottledRates(effective);
      // Read first: a store that cannot be opened leaves every setting as it was.
      const tls = this.options.tls.size === 0 ? new Map<string, TlsListenerSettings>() : servedTlsSettings(effective);
      engine.setBrokerLogDefaults(effective);
      engine.setCleanerConfig(effective);
      this.options.connectionQuotas.reconfigure({ ...limits, maxConnections: Math.min(limits.maxConnections, this.options.connectionsMax) });
      applyReplicationThrottledRates(this.options.replicationQuotas, effective);
      engine.setLogDirMoveRate(logDirMoveRate(effective));
      for (const [listener, acceptor] of this.options.tls) {
        const settings = tls.get(listener);
        if (settings !== undefined) acceptor.reconfigure(settings);
      }
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
  report(message: string, previous?: ConfigEntities): void {
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
