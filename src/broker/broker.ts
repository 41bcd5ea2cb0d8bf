// The broker: a TCP server speaking the Kafka protocol over one Engine.
//
//   const broker = await startBroker({ port: 0 });   // a temporary data directory
//   // ... point kafkajs, @platformatic/kafka or kcat at localhost:${broker.port} ...
//   await broker.stop();
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import '../record/codecs/index.js';
import { Engine } from '../engine/engine.js';
import { AppendWaiters } from './append-waiters.js';
import { loadOrCreateClusterId } from './cluster-id.js';
import { resolveBrokerSettings, type BrokerConfigValues, type BrokerSettings } from './config.js';
import { Connection } from './connection.js';
import type { AnyApiHandler, BrokerContext } from './handler.js';
import { createHandlers } from './handlers/index.js';
import { createMetrics, type BrokerMetrics } from './metrics.js';
import { GroupCoordinator } from './group/coordinator.js';
import { ProducerIds } from './producer-ids.js';

export const ZERO_COPY_FETCH_CONFIG = 'sluice.fetch.zero.copy';

export interface StartBrokerOptions {
  /** TCP port; 0 picks a free one (read it back from `broker.port`). Default: the listener's, 9092. */
  port?: number;
  /** Interface to bind; default every interface. */
  host?: string;
  /** Data directory; default a new temporary directory, removed by stop(). */
  dataDir?: string;
  /** Kafka's broker settings by name (server.properties keys): node.id, num.partitions, log.*, ... */
  config?: BrokerConfigValues;
  /** Send fetched record bytes with sendfile (default true). */
  zeroCopyFetch?: boolean;
}

export class Broker {
  readonly settings: BrokerSettings;
  readonly engine: Engine;
  readonly metrics: BrokerMetrics;
  readonly clusterId: string;
  readonly groups: GroupCoordinator;
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private readonly temporaryDataDir: boolean;
  private stopSignal!: () => void;
  private stopped = false;

  private constructor(settings: BrokerSettings, engine: Engine, groups: GroupCoordinator, clusterId: string, temporaryDataDir: boolean, zeroCopyFetch: boolean) {
    this.settings = settings;
    this.engine = engine;
    this.groups = groups;
    this.clusterId = clusterId;
    this.temporaryDataDir = temporaryDataDir;
    this.metrics = createMetrics();
    const appendWaiters = new AppendWaiters();
    engine.onAppend((topic, partition) => appendWaiters.notify(topic, partition));
    const context: BrokerContext = {
      engine,
      settings,
      clusterId,
      advertisedPort: () => settings.advertisedPort ?? this.port,
      appendWaiters,
      groups,
      metrics: this.metrics,
      zeroCopyFetch,
      stopping: new Promise<void>((resolve) => (this.stopSignal = resolve)),
    };
    const handlers: Map<number, AnyApiHandler> = createHandlers(new ProducerIds(settings.dataDir), groups);
    this.server = net.createServer((socket) => {
      this.metrics.connectionsOpened++;
      const connection = new Connection(socket, context, handlers, (closed) => {
        this.metrics.connectionsClosed++;
        this.connections.delete(closed);
      });
      this.connections.add(connection);
    });
  }

  static async start(options: StartBrokerOptions = {}): Promise<Broker> {
    const overrides: BrokerConfigValues = { ...options.config };
    const temporaryDataDir = options.dataDir === undefined && overrides['log.dirs'] === undefined && overrides['log.dir'] === undefined;
    if (options.dataDir !== undefined) overrides['log.dirs'] = options.dataDir;
    else if (temporaryDataDir) overrides['log.dirs'] = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-broker-'));
    const settings = resolveBrokerSettings(overrides);
    if (options.port !== undefined) settings.port = options.port;
    if (options.host !== undefined) settings.host = options.host;
    const dataDir = path.resolve(settings.dataDir);
    const clusterId = loadOrCreateClusterId(dataDir, settings.nodeId);
    const engine = await Engine.open({ dataDir, config: settings.all });
    let groups: GroupCoordinator;
    try {
      groups = await GroupCoordinator.open(engine, settings.all);
    } catch (error) {
      await engine.close();
      throw error;
    }
    // sluice.fetch.zero.copy=false (ours, not Kafka's) copies fetched records through JS: the
    // baseline the sendfile path is measured against, and a fallback for filesystems without sendfile.
    const zeroCopyFetch = options.zeroCopyFetch ?? settings.all[ZERO_COPY_FETCH_CONFIG] !== 'false';
    const broker = new Broker({ ...settings, dataDir }, engine, groups, clusterId, temporaryDataDir, zeroCopyFetch);
    try {
      await broker.listen();
    } catch (error) {
      await groups.close();
      await engine.close();
      throw error;
    }
    return broker;
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const host = this.settings.host === '' ? undefined : this.settings.host;
      this.server.listen({ port: this.settings.port, host }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** The bound port (useful after `port: 0`). */
  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get host(): string {
    return this.settings.advertisedHost;
  }

  get dataDir(): string {
    return this.settings.dataDir;
  }

  /** Stops accepting, closes every connection, closes the engine cleanly. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopSignal();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of [...this.connections]) connection.close();
    await closed;
    await this.groups.close();
    await this.engine.close();
    if (this.temporaryDataDir) fs.rmSync(this.settings.dataDir, { recursive: true, force: true });
  }
}

/** Starts a broker in this process, for applications and their tests. */
export function startBroker(options: StartBrokerOptions = {}): Promise<Broker> {
  return Broker.start(options);
}
