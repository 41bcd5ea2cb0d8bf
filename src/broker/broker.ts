// The broker: a TCP server speaking the Kafka protocol over one Engine.
//
//   const broker = await startBroker({ port: 0 });   // a temporary data directory
//   // ... point kafkajs, @platformatic/kafka or kcat at localhost:${broker.port} ...
//   await broker.stop();
//
// What one client does stays with its connection (see connection.ts); what all of them together
// may take is bounded here: connections by max.connections, max.connections.per.ip and the
// descriptor budget (src/limits.ts), request bytes and requests in flight by queued.max.request.bytes
// and queued.max.requests, idle connections by connections.max.idle.ms. accept(2) failing (EMFILE)
// is logged and counted, never thrown.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import '../record/codecs/index.js';
import { Engine } from '../engine/engine.js';
import { isLogDirFailure, type OfflineLogDir } from '../storage/log-dirs.js';
import { CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC, isInternalTopic } from '../engine/topic-name.js';
import { SluiceError } from '../errors.js';
import { OffsetStore, type OffsetsTopicHost } from './group/offset-store.js';
import { partitionExists } from './handlers/transactions.js';
import { resolveTransactionConfig } from './txn/config.js';
import { BrokerMarkerWriter, type MarkerWriterDeps } from './txn/marker-writer.js';
import { TransactionVerifier } from './txn/produce-verification.js';
import { TransactionCoordinator } from './txn/transaction-coordinator.js';
import { brokerLogDefaults, unsupportedConfigs } from '../storage/log-config.js';
import { descriptorBudget, FETCH_COPY_BYTES_MAX, IDLE_CHECK_INTERVAL_MS_MAX, IDLE_CHECK_INTERVAL_MS_MIN, LOG_ONCE_INTERVAL_MS, type DescriptorBudget } from '../limits.js';
import { createLogger, LogLimiter, type Logger } from '../logger.js';
import { binding } from '../native/binding.js';
import { descriptorOf } from '../native/descriptor.js';
import { AppendWaiters } from './append-waiters.js';
import { ClusterNode } from './cluster-node.js';
import { Budget } from './budget.js';
import { loadOrCreateClusterId, META_PROPERTIES_FILE, newClusterId } from './cluster-id.js';
import { EtcdClient } from '../cluster/etcd-client.js';
import { MetadataStore } from '../cluster/metadata-store.js';
import { connectionLimits, interBrokerListener, reportBrokerConfig, servedListeners, servedTlsSettings, resolveBrokerSettings, type BrokerConfigValues, type BrokerSettings, type ClusterSettings, type ListenerAddress } from './config.js';
import { Connection, type ConnectionBudgets } from './connection.js';
import { CLIENT_QUOTAS_FILE, ClientQuotas } from './client-quotas.js';
import { ConfigEntityStore, readEntitiesFile, type ConfigEntities } from './config-entities.js';
import { SCRAM_CREDENTIALS_FILE, ScramCredentials } from './sasl/scram-credentials.js';
import { DELEGATION_TOKENS_FILE, DelegationTokens } from './sasl/delegation-tokens.js';
import { BrokerFeatures, FEATURES_FILE } from './features.js';
import { checkHandshake, TlsAcceptor, type TlsListenerSettings } from './tls-listener.js';
import type { PeerTls } from './peer-connections.js';
import { ACLS_FILE, Authorizer } from './authorizer/authorizer.js';
import { BrokerConfigLayers, DYNAMIC_CONFIG_FILE } from './dynamic-config.js';
import { DynamicConfigUpdates } from './dynamic-config-updates.js';
import { ConnectionQuotas } from './connection-quotas.js';
import type { AnyApiHandler, BrokerContext, ListenerContext } from './handler.js';
import { createHandlers } from './handlers/index.js';
import { countCause, createMetrics, type BrokerMetrics } from './metrics.js';
import { FetchSessionCache } from './fetch-sessions.js';
import { GroupCoordinator } from './group/coordinator.js';
import { PRODUCER_IDS_PER_BROKER, ProducerIds } from './producer-ids.js';
import { createReplicationQuotas, logDirMoveRate, type ReplicationQuotas } from './replication-quotas.js';

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
  /**
   * Where the broker logs (pino). Default: JSON lines on stdout at `log.level`, which defaults to
   * 'info' for `sluice broker` and to 'warn' for a broker started in-process, whose host owns stdout.
   */
  logger?: Logger;
}

export class Broker {
  readonly settings: BrokerSettings;
  readonly engine: Engine;
  readonly metrics: BrokerMetrics;
  readonly clusterId: string;
  readonly groups: GroupCoordinator;
  private readonly transactions: TransactionParts;
  readonly logger: Logger;
  /** Configs changed while running (kafka-configs --entity-type brokers --alter). */
  readonly dynamicConfig: DynamicConfigUpdates;
  /** Client quotas (kafka-configs --entity-type clients|users): the limits and the clients' rates. */
  readonly clientQuotas: ClientQuotas;
  private readonly quotaStore: ConfigEntityStore;
  private readonly scramStore: ConfigEntityStore;
  private readonly tokenStore: ConfigEntityStore;
  private readonly featureStore: ConfigEntityStore;
  /** Delegation tokens (KIP-48): issued, renewed and expired here, checked at SCRAM logins. */
  readonly delegationTokens: DelegationTokens;
  private readonly authorizer: Authorizer;
  /** How the descriptor limit was split between connections and segments. */
  readonly descriptors: DescriptorBudget;
  /** A server for each listener served (listeners.ts), the broker's own first. */
  private readonly servers: ListenerServer[];
  /** Each SSL and SASL_SSL listener's TLS, by listener name (one secure context for its connections). */
  private readonly tlsAcceptors: ReadonlyMap<string, TlsAcceptor>;
  private readonly connections = new Set<Connection>();
  /** Connections held or about to be closed by the connection creation rates (KIP-612), with their timers. */
  private readonly throttledSockets = new Map<net.Socket, NodeJS.Timeout>();
  private readonly quotas: ConnectionQuotas;
  /** Replication quotas (leader.replication.throttled.rate and its follower twin): what a cluster member's replication may move. */
  readonly replicationQuotas: ReplicationQuotas;
  private readonly appendWaiters = new AppendWaiters();
  /** Incremental fetch sessions (KIP-227), held for every connection: a session may move to another. */
  readonly fetchSessions: FetchSessionCache;
  private readonly budgets: ConnectionBudgets;
  private readonly temporaryDataDir: boolean;
  private readonly log: LogLimiter;
  private idleTimer: NodeJS.Timeout | undefined;
  private tokenTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly fatalListeners = new Set<(error: SluiceError) => void>();
  /** Set once the broker has joined its cluster (sluice.etcd.endpoints); null for a cluster of one. */
  private clusterNode: ClusterNode | null = null;
  /**
   * A cluster member listens before it joins (it registers its bound port, and other brokers fetch
   * from it as soon as it has); requests that come meanwhile wait for the join, as Kafka's broker
   * starts processing requests only once it has started. Answered before, they would find no
   * cluster and take the single broker's path: a restarted leader acknowledged acks=all writes
   * into its own log, which no ISR covered and the elected leader's truncated away (seen with
   * min.insync.replicas=1, a leader SIGKILLed and restarted within its session).
   */
  private joinGate: Promise<void> | null = null;

  private constructor(
    settings: BrokerSettings,
    engine: Engine,
    groups: GroupCoordinator,
    transactions: TransactionParts,
    clusterId: string,
    temporaryDataDir: boolean,
    /** Fetched records go out by sendfile where the listener is plaintext (sluice.fetch.zero.copy). */
    zeroCopyFetch: boolean,
    logger: Logger,
    descriptors: DescriptorBudget,
    configLayers: BrokerConfigLayers,
    tlsAcceptors: ReadonlyMap<string, TlsAcceptor>,
    initial: StoredEntities,
  ) {
    this.settings = settings;
    this.engine = engine;
    this.groups = groups;
    this.transactions = transactions;
    this.clusterId = clusterId;
    this.temporaryDataDir = temporaryDataDir;
    this.logger = logger;
    this.descriptors = descriptors;
    this.log = new LogLimiter(logger);
    // The connection limits as the broker runs with them: its dynamic ones over its static ones.
    const limits = connectionLimits(configLayers.effective());
    this.quotas = new ConnectionQuotas(
      { ...limits, maxConnections: Math.min(limits.maxConnections, descriptors.connectionsMax) },
      { windowCount: settings.quotaWindowCount, windowMs: settings.quotaWindowMs },
      (ip) => this.clientQuotas.connectionRateOf(ip),
    );
    this.replicationQuotas = createReplicationQuotas({ windowCount: settings.replicationQuotaWindowCount, windowMs: settings.replicationQuotaWindowMs }, configLayers.effective());
    this.tlsAcceptors = tlsAcceptors;
    for (const [name, { settings: tls }] of tlsAcceptors) {
      logger.info({ clientAuth: tls.clientAuth, minVersion: tls.options.context.minVersion, maxVersion: tls.options.context.maxVersion }, `listener ${name} serves TLS: fetched records are copied to be encrypted (no sendfile)`);
    }
    this.dynamicConfig = new DynamicConfigUpdates({
      tls: tlsAcceptors,
      interBrokerListener: settings.interBrokerListenerName,
      layers: configLayers,
      engine,
      dataDir: settings.dataDir,
      logger,
      cluster: () => this.clusterNode,
      connectionQuotas: this.quotas,
      connectionsMax: descriptors.connectionsMax,
      replicationQuotas: this.replicationQuotas,
    });
    this.clientQuotas = new ClientQuotas(
      { windowCount: settings.quotaWindowCount, windowMs: settings.quotaWindowMs },
      { windowCount: settings.controllerQuotaWindowCount, windowMs: settings.controllerQuotaWindowMs },
    );
    this.clientQuotas.replace(initial.quotas);
    this.quotaStore = new ConfigEntityStore({
      kind: 'quotas',
      fileName: CLIENT_QUOTAS_FILE,
      dataDir: settings.dataDir,
      cluster: () => this.clusterNode,
      initial: initial.quotas,
      apply: (entities) => {
        this.clientQuotas.replace(entities);
        logger.info({ quotas: Object.fromEntries(entities) }, 'client quotas updated');
      },
    });
    this.scramStore = new ConfigEntityStore({
      kind: 'scram',
      fileName: SCRAM_CREDENTIALS_FILE,
      dataDir: settings.dataDir,
      cluster: () => this.clusterNode,
      initial: initial.scram,
      apply: (entities) => logger.info({ users: [...entities.keys()] }, 'SCRAM credentials updated'),
    });
    this.tokenStore = new ConfigEntityStore({
      kind: 'tokens',
      fileName: DELEGATION_TOKENS_FILE,
      dataDir: settings.dataDir,
      cluster: () => this.clusterNode,
      initial: initial.tokens,
      apply: (entities) => logger.info({ tokens: entities.size }, 'delegation tokens updated'),
    });
    this.delegationTokens = new DelegationTokens(settings.delegationTokens, this.tokenStore);
    this.featureStore = new ConfigEntityStore({
      kind: 'features',
      fileName: FEATURES_FILE,
      dataDir: settings.dataDir,
      cluster: () => this.clusterNode,
      initial: initial.features,
      apply: (entities) => logger.info({ features: Object.fromEntries(entities) }, 'finalized feature levels updated'),
    });
    this.authorizer = new Authorizer(
      settings.authorizer,
      { dataDir: settings.dataDir, cluster: () => this.clusterNode, initial: initial.acls },
      (count) => logger.info({ acls: count }, 'ACLs updated'),
    );
    if (settings.authorizer.enabled) {
      logger.info({ superUsers: settings.authorizer.superUsers, allowEveryoneIfNoAclFound: settings.authorizer.allowEveryoneIfNoAclFound }, 'authorizer on: requests are checked against ACLs');
    }
    this.metrics = createMetrics();
    this.fetchSessions = new FetchSessionCache(settings.fetchSessionCacheSlots);
    this.budgets = { requestSlots: new Budget(settings.queuedMaxRequests), requestMemory: new Budget(settings.queuedMaxRequestBytes) };
    engine.onAppend((topic, partition) => this.appendWaiters.notify(topic, partition));
    engine.onLogDirFailure((failure) => this.logDirFailed(failure));
    const context: Omit<BrokerContext, 'listener' | 'zeroCopyFetch'> = {
      engine,
      settings,
      clusterId,
      appendWaiters: this.appendWaiters,
      groups,
      metrics: this.metrics,
      fetchCopyMemory: new Budget(FETCH_COPY_BYTES_MAX),
      fetchSessions: this.fetchSessions,
      log: this.log,
      logOnce: new LogLimiter(logger, 1, LOG_ONCE_INTERVAL_MS),
      cluster: () => this.clusterNode,
      joining: () => this.joinGate,
      dynamicConfig: this.dynamicConfig,
      quotas: this.clientQuotas,
      quotaStore: this.quotaStore,
      scramCredentials: new ScramCredentials(this.scramStore),
      delegationTokens: this.delegationTokens,
      features: new BrokerFeatures(this.featureStore),
      authorizer: this.authorizer,
      transactionVerifier: transactions.verifier,
    };
    const handlers: Map<number, AnyApiHandler> = createHandlers(transactions.producerIds, groups, transactions.coordinator, transactions.markerDeps);
    this.servers = servedListeners(settings).map((listener) => {
      const tls = tlsAcceptors.get(listener.name) ?? null;
      // pauseOnConnect: a connection reads into its own buffer from its first byte (socket-reads.ts).
      const server = net.createServer({ pauseOnConnect: true }, (socket) => this.accept(socket, listenerContext, handlers, tls));
      const served: ListenerContext = {
        name: listener.name,
        advertisedHost: listener.advertisedHost,
        // Port 0 advertises the bound port, as Kafka corrects ephemeral ports in advertised.listeners.
        advertisedPort: () => listener.advertisedPort ?? boundPort(server),
        sasl: listener.sasl,
      };
      // Over TLS the bytes must be encrypted on their way out, so they pass through JS (as Kafka's do).
      const listenerContext: BrokerContext = { ...context, listener: served, zeroCopyFetch: zeroCopyFetch && tls === null };
      return { listener, served, server };
    });
  }

  static async start(options: StartBrokerOptions = {}): Promise<Broker> {
    const overrides: BrokerConfigValues = { ...options.config };
    const temporaryDataDir = options.dataDir === undefined && overrides['log.dirs'] === undefined && overrides['log.dir'] === undefined;
    if (options.dataDir !== undefined) overrides['log.dirs'] = options.dataDir;
    else if (temporaryDataDir) overrides['log.dirs'] = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-broker-'));
    const settings = resolveBrokerSettings({ 'log.level': 'warn' }, overrides);
    if (options.port !== undefined) settings.port = options.port;
    if (options.host !== undefined) settings.host = options.host;
    const logger = options.logger ?? createLogger(settings.logLevel);
    reportConfig(logger, overrides);
    const descriptors = descriptorBudget(binding.descriptorLimit().soft, settings.maxConnections);
    const dataDir = path.resolve(settings.dataDir);
    const fromEtcd = settings.cluster === null ? undefined : await readFromEtcd(settings.cluster);
    const clusterId = loadOrCreateClusterId(dataDir, settings.nodeId, fromEtcd?.clusterId);
    // Every log dir carries meta.properties, as Kafka's do: a disk of another broker or cluster is refused.
    const logDirs = settings.logDirs.map((dir) => path.resolve(dir));
    // One whose disk failed (an I/O error) opens offline with the logs (src/storage/log-dirs.ts).
    for (const dir of logDirs.slice(1)) {
      try {
        loadOrCreateClusterId(dir, settings.nodeId, clusterId, path.join(dataDir, META_PROPERTIES_FILE));
      } catch (error) {
        if (!isLogDirFailure(error)) throw error;
      }
    }
    // The dynamic configs before the logs open: a retention pass never runs on the static values alone.
    const configLayers = new BrokerConfigLayers(settings.all, settings.nodeId);
    configLayers.replace(fromEtcd?.brokerConfigs ?? readEntitiesFile(dataDir, DYNAMIC_CONFIG_FILE));
    const initial: StoredEntities = fromEtcd?.entities ?? {
      quotas: readEntitiesFile(dataDir, CLIENT_QUOTAS_FILE),
      scram: readEntitiesFile(dataDir, SCRAM_CREDENTIALS_FILE),
      acls: readEntitiesFile(dataDir, ACLS_FILE),
      tokens: readEntitiesFile(dataDir, DELEGATION_TOKENS_FILE),
      features: readEntitiesFile(dataDir, FEATURES_FILE),
    };
    // One secure context for each TLS listener; the broker's connections to its peers present the
    // inter-broker listener's key store, the current one after a renewal.
    const tlsAcceptors = startingTls(configLayers, settings, logger);
    // In a cluster brokers reach each other on their own listener, unless inter.broker.listener.name
    // names another. Over TLS, Kafka checks that its stores handshake with themselves.
    const interBrokerTls = tlsAcceptors.get(settings.interBrokerListenerName);
    if (interBrokerTls !== undefined && settings.cluster !== null) {
      await checkHandshake(interBrokerTls.settings, interBrokerTls.settings).catch((error: Error) => {
        throw new SluiceError('INVALID_CONFIG', `A client SSLEngine created with the provided settings can't connect to a server SSLEngine created with those settings: ${error.message} (brokers connect to each other with the listener's key and trust stores)`);
      });
    }
    const peerTls = peerTlsOf(settings, tlsAcceptors);
    const backgroundLog = new LogLimiter(logger);
    const engine = await Engine.open({
      dataDir,
      logDirs,
      // A move between log dirs that a restart interrupted resumes at once, under the limit.
      logDirMoveBytesPerSecond: logDirMoveRate(configLayers.effective()),
      config: startingConfig(configLayers, logger),
      segmentsMax: descriptors.segmentsMax,
      // The broker reports every name it is given (reportConfig) and the topic configs it is sent.
      onConfigWarning: () => {},
      onBackgroundError: (error, task) =>
        backgroundLog.log('error', `background:${task}:${(error as NodeJS.ErrnoException).code ?? 'error'}`, { task, error: String(error) }, `background ${task} failed`),
    });
    // In a cluster the broker joins after it listens, so the groups reach its node through this holder.
    const node: { current: ClusterNode | null } = { current: null };
    let groups: GroupCoordinator;
    let transactions: TransactionParts;
    try {
      groups = await GroupCoordinator.open(engine, settings.all, settings.cluster === null ? {} : { offsetsHost: offsetsTopicHost(node, settings) });
      transactions = await startTransactions(engine, groups, node, settings, peerTls);
    } catch (error) {
      await engine.close();
      throw error;
    }
    // sluice.fetch.zero.copy=false (ours, not Kafka's) copies fetched records through JS: the
    // baseline the sendfile path is measured against, and a fallback for filesystems without sendfile.
    const zeroCopyFetch = options.zeroCopyFetch ?? settings.all[ZERO_COPY_FETCH_CONFIG] !== 'false';
    const broker = new Broker({ ...settings, dataDir }, engine, groups, transactions, clusterId, temporaryDataDir, zeroCopyFetch, logger, descriptors, configLayers, tlsAcceptors, initial);
    let joined = () => {};
    if (settings.cluster !== null) broker.joinGate = new Promise((resolve) => (joined = resolve));
    try {
      // OAUTHBEARER's secured validators have the identity provider's keys before any login.
      for (const { name, sasl } of servedListeners(settings)) {
        await sasl?.oauthBearer?.start((error) => logger.error({ listener: name, error: error.message }, 'OAUTHBEARER: the JWKS refresh failed; tokens are checked against the keys read before'));
      }
      await broker.listen();
      if (settings.cluster !== null) node.current = await broker.joinCluster();
      broker.joinGate = null;
      joined();
    } catch (error) {
      for (const { sasl } of servedListeners(settings)) sasl?.oauthBearer?.close();
      for (const { server } of broker.servers) server.close();
      // The requests waiting for the join end with their connections, never served alone.
      for (const connection of broker.connections) connection.close();
      joined();
      await broker.clusterNode?.close();
      transactions.close();
      await groups.close();
      await engine.close();
      throw error;
    }
    reportTopicConfigs(logger, engine);
    for (const failure of engine.offlineLogDirs()) {
      logger.error({ logDir: failure.dir, code: failure.code, error: failure.message, partitions: failure.partitions.length }, `log directory ${failure.dir} failed to open: it is offline, and the partitions found in no other answer KAFKA_STORAGE_ERROR`);
    }
    broker.dynamicConfig.report('dynamic broker configs');
    logger.info(
      { port: broker.port, listeners: broker.listenerPorts, dataDir, logDirs, clusterId, descriptorLimit: descriptors.limit, connectionsMax: descriptors.connectionsMax, segmentsMax: descriptors.segmentsMax },
      'broker started',
    );
    return broker;
  }

  /** Joins the replicated cluster once the listener is up (other brokers fetch from it as soon as it registers). */
  private async joinCluster(): Promise<ClusterNode> {
    const cluster = this.settings.cluster!;
    const interBroker = interBrokerListener(this.settings);
    const endpoints = this.servers.map(({ served }) => ({ name: served.name, host: served.advertisedHost, port: served.advertisedPort() }));
    this.clusterNode = await ClusterNode.join({
      settings: { ...this.settings, cluster },
      engine: this.engine,
      // Where the other brokers reach this one: its endpoint on the inter-broker listener.
      advertised: endpoints.find(({ name }) => name === interBroker.name)!,
      listeners: endpoints,
      localAddress: interBroker.host,
      logger: this.logger,
      log: this.log,
      onHighWatermark: (topic, partition) => this.appendWaiters.notify(topic, partition),
      onConfigEntities: (kind, entities) => ({ brokers: this.dynamicConfig.store, quotas: this.quotaStore, scram: this.scramStore, acls: this.authorizer.store, tokens: this.tokenStore, features: this.featureStore })[kind].deliver(entities),
      uncleanLeaderElectionEnable: this.dynamicConfig.layers.uncleanLeaderElectionEnable(),
      replicationQuotas: this.replicationQuotas,
      peerTls: peerTlsOf(this.settings, this.tlsAcceptors),
      peerSasl: interBroker.sasl?.interBroker,
      onLeadership: (topic, partition, leading) => {
        if (topic === CONSUMER_OFFSETS_TOPIC) this.groups.onOffsetsLeadership(partition, leading);
        if (topic === TRANSACTION_STATE_TOPIC) this.transactions.coordinator.onLeadership(partition, leading);
      },
    });
    return this.clusterNode;
  }

  /**
   * A log directory went offline (its disk failed; KIP-112): its partitions answer
   * KAFKA_STORAGE_ERROR, and in a cluster the controller moves their leadership (cluster-node.ts).
   * With every directory offline the broker can serve nothing, and Kafka's halts: the fatal
   * listeners are told (`sluice broker` stops and exits with 1), or without one it stops itself.
   */
  private logDirFailed(failure: OfflineLogDir): void {
    this.logger.error(
      { logDir: failure.dir, code: failure.code, error: failure.message, partitions: failure.partitions.length },
      `log directory ${failure.dir} is offline: its partitions answer KAFKA_STORAGE_ERROR until the broker restarts`,
    );
    if (this.engine.offlineLogDirs().length < this.engine.logDirs.length) return;
    const error = new SluiceError('KAFKA_STORAGE_ERROR', `Shutdown broker because all log dirs in ${this.engine.logDirs.join(', ')} have failed`);
    this.logger.fatal({ logDirs: this.engine.logDirs }, error.message);
    if (this.fatalListeners.size === 0) void this.stop().catch(() => {});
    for (const listener of this.fatalListeners) listener(error);
  }

  /** Calls `listener` when the broker can serve nothing more (every log directory offline); returns an unsubscribe. */
  onFatal(listener: (error: SluiceError) => void): () => void {
    this.fatalListeners.add(listener);
    return () => this.fatalListeners.delete(listener);
  }

  /** The cluster this broker belongs to, or null for a single broker. */
  get cluster(): ClusterNode | null {
    return this.clusterNode;
  }

  private accept(socket: net.Socket, context: BrokerContext, handlers: ReadonlyMap<number, AnyApiHandler>, tls: TlsAcceptor | null): void {
    const address = socket.remoteAddress ?? 'unknown';
    const listener = context.listener.name;
    let refusal = this.stopped ? 'the broker is stopping' : this.quotas.admit(address, listener);
    if (refusal !== null && !this.stopped && this.quotas.atBrokerLimit && this.protects(listener)) refusal = this.makeRoomFor(address, listener);
    if (refusal !== null) {
      this.metrics.connectionsRefused++;
      this.log.log('warn', `refused:${address}`, { client: address }, `connection refused: ${refusal}`);
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const throttle = this.quotas.throttle(address, listener);
    if (throttle !== null) {
      // KIP-612: the connection stays unread meanwhile (the server pauses what it accepts), and
      // one over its address's quota is then closed.
      socket.on('error', () => {});
      const closing = throttle.closeAfterMs !== undefined;
      if (closing) this.metrics.connectionsThrottled++;
      else this.metrics.connectionsDelayed++;
      this.log.log('info', `throttled:${closing ? address : 'broker'}`, { client: address },
        closing ? `connection closed after ${throttle.closeAfterMs} ms: ${address} is over its connection_creation_rate quota` : `connection held ${throttle.holdMs} ms: max.connection.creation.rate exceeded`);
      const timer = setTimeout(() => {
        this.throttledSockets.delete(socket);
        if (closing || this.stopped || socket.destroyed) {
          socket.destroy();
          if (!closing) this.quotas.release(address, listener);
          return;
        }
        this.serve(socket, address, context, handlers, tls);
      }, closing ? throttle.closeAfterMs : throttle.holdMs);
      this.throttledSockets.set(socket, timer);
      return;
    }
    this.serve(socket, address, context, handlers, tls);
  }

  /**
   * KIP-402: in a cluster with several listeners, the brokers' own (inter.broker.listener.name) is
   * never locked out by the broker-wide max.connections, or replication would stop while clients
   * hold every slot.
   */
  private protects(listener: string): boolean {
    return this.settings.cluster !== null && listener === this.settings.interBrokerListenerName && this.servers.length > 1;
  }

  /**
   * Takes a connection on the protected listener past the broker-wide limit as Kafka's acceptor
   * does: the least recently active connection of another listener is closed for it. Returns why
   * it is still refused (its listener's or its address's limit, or no other connection to close).
   */
  private makeRoomFor(address: string, listener: string): string | null {
    let oldest: Connection | undefined;
    for (const connection of this.connections) {
      if (connection.broker.listener.name === listener) continue;
      if (oldest === undefined || connection.lastActivityMs < oldest.lastActivityMs) oldest = connection;
    }
    if (oldest === undefined) return `the broker holds ${this.quotas.connectionCount} connections, its limit (max.connections, or the descriptor budget), all on the inter-broker listener`;
    this.log.log('warn', `protected:${listener}`, { client: oldest.clientHost, listener: oldest.broker.listener.name }, `connection closed to take one on the inter-broker listener ${listener} past max.connections (KIP-402)`);
    oldest.close();
    return this.quotas.admit(address, listener);
  }

  private serve(socket: net.Socket, address: string, context: BrokerContext, handlers: ReadonlyMap<number, AnyApiHandler>, tls: TlsAcceptor | null): void {
    this.metrics.connectionsOpened++;
    const connection = new Connection(socket, context, handlers, this.budgets, (closed) => {
      this.metrics.connectionsClosed++;
      this.quotas.release(address, context.listener.name);
      this.connections.delete(closed);
    }, tls);
    this.connections.add(connection);
  }

  /** Binds every listener's server, the broker's own first; rejects (and closes those bound) when one cannot bind. */
  private async listen(): Promise<void> {
    try {
      for (const served of this.servers) await this.listenOn(served);
    } catch (error) {
      for (const { server } of this.servers) server.close();
      throw error;
    }
    this.startIdleSweep();
    this.startTokenSweep();
  }

  private listenOn({ listener, server }: ListenerServer): Promise<void> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      const host = listener.host === '' ? undefined : listener.host;
      server.listen({ port: listener.port, host, backlog: this.settings.socketListenBacklogSize }, () => {
        server.off('error', reject);
        // Set on the listening socket, before any connection: accepted ones inherit both buffers,
        // and the receive buffer sizes the TCP window from the handshake on, as Kafka's does.
        const { socketSendBufferBytes: sendBytes, socketReceiveBufferBytes: receiveBytes } = this.settings;
        if (sendBytes >= 0 || receiveBytes >= 0) {
          try {
            binding.setSocketBuffers(serverFd(server), sendBytes, receiveBytes);
          } catch (error) {
            server.close();
            reject(error);
            return;
          }
        }
        // From now on a server error is accept(2) failing (EMFILE, ENFILE, ENOBUFS): libuv has
        // already shed the connection it could not take; the broker goes on serving the others.
        server.on('error', (error: NodeJS.ErrnoException) => {
          const code = error.code ?? 'UNKNOWN';
          countCause(this.metrics.acceptFailures, code);
          this.log.log('error', `accept:${code}`, { code, listener: listener.name, error: error.message }, 'cannot accept a connection');
        });
        resolve();
      });
    });
  }

  /** connections.max.idle.ms: closes connections that neither sent nor were answered for that long. */
  private startIdleSweep(): void {
    const idleMs = this.settings.connectionsMaxIdleMs;
    if (idleMs <= 0) return;
    const intervalMs = Math.min(Math.max(idleMs / 4, IDLE_CHECK_INTERVAL_MS_MIN), IDLE_CHECK_INTERVAL_MS_MAX);
    this.idleTimer = setInterval(() => {
      const now = Date.now();
      for (const connection of this.connections) {
        // A request being handled is not idle (a long poll, a produce waiting for its flush); one
        // whose response the client does not read is.
        if (now - connection.lastActivityMs <= idleMs || (connection.busy && !connection.writing)) continue;
        this.metrics.connectionsClosedIdle++;
        this.log.log('info', 'idle', { client: connection.clientHost, idleMs: now - connection.lastActivityMs }, 'closing an idle connection (connections.max.idle.ms)');
        connection.close();
      }
    }, intervalMs);
    this.idleTimer.unref();
  }

  /** delegation.token.expiry.check.interval.ms: removes expired delegation tokens. */
  private startTokenSweep(): void {
    if (!this.delegationTokens.enabled) return;
    this.tokenTimer = setInterval(() => {
      this.delegationTokens.removeExpired().then(
        (removed) => removed > 0 && this.logger.info({ removed }, 'expired delegation tokens removed'),
        (error: unknown) => this.log.log('warn', 'tokens:sweep', { error: String(error) }, 'could not remove expired delegation tokens'),
      );
    }, this.settings.delegationTokens.expiryCheckIntervalMs);
    this.tokenTimer.unref();
  }

  /** The bound port of the broker's own listener (useful after `port: 0`). */
  get port(): number {
    return boundPort(this.servers[0]!.server);
  }

  /** The bound port of every listener served, by name (`listeners`), the broker's own first. */
  get listenerPorts(): Record<string, number> {
    return Object.fromEntries(this.servers.map(({ listener, server }) => [listener.name, boundPort(server)]));
  }

  get host(): string {
    return this.settings.advertisedHost;
  }

  get dataDir(): string {
    return this.settings.dataDir;
  }

  /** Open client connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Partitions with a long-poll Fetch waiting on them (zero once every wait is over). */
  get appendWaitersPartitions(): number {
    return this.appendWaiters.waitedPartitions;
  }

  /** Stops accepting, closes every connection, closes the engine cleanly. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    // Controlled shutdown first, while still serving: leaderships move to other in-sync
    // replicas, and clients see NOT_LEADER_OR_FOLLOWER and a metadata refresh, not a dead socket.
    await this.clusterNode?.shutDownControlled();
    this.stopped = true;
    clearInterval(this.idleTimer);
    clearInterval(this.tokenTimer);
    this.appendWaiters.close();
    const closed = Promise.all(this.servers.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))));
    for (const connection of [...this.connections]) connection.close();
    for (const [socket, timer] of this.throttledSockets) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.throttledSockets.clear();
    await closed;
    this.transactions.close();
    await this.clusterNode?.close();
    await this.groups.close();
    await this.engine.close();
    for (const { sasl } of servedListeners(this.settings)) sasl?.oauthBearer?.close();
    if (this.temporaryDataDir) fs.rmSync(this.settings.dataDir, { recursive: true, force: true });
    this.logger.info({ dataDir: this.settings.dataDir }, 'broker stopped');
  }
}

/** Says at startup which given names sluice does not act on (never silently ignored). */
function reportConfig(logger: Logger, given: BrokerConfigValues): void {
  const { unsupported, listenersNotServed, unknown } = reportBrokerConfig(given);
  for (const { name, reason } of unsupported) logger.warn({ config: name, reason }, `config ${name} is accepted but not supported: ${reason}`);
  for (const { listener, reason } of listenersNotServed) logger.warn({ config: 'listeners', listener, reason }, `listener ${listener} is not served: ${reason}`);
  for (const name of unknown) logger.warn({ config: name }, `config ${name} was supplied but isn't a known config`);
}

/**
 * Says at startup which existing topics carry settings sluice accepts but does not act on: a
 * warning for a user's topic; for an internal one (__consumer_offsets is compact, as in Kafka) the
 * broker chose the setting itself, so it is information.
 */
function reportTopicConfigs(logger: Logger, engine: Engine): void {
  for (const topic of engine.listTopics()) {
    const level = isInternalTopic(topic) ? 'info' : 'warn';
    for (const { name, value, reason } of unsupportedConfigs(engine.describeTopic(topic).overrides)) {
      logger[level]({ topic, config: name, value }, `topic ${topic}: config ${name}=${value} is accepted but not supported: ${reason}`);
    }
  }
}

/** A replicated cluster's id, kept in etcd: every broker reports the same one in Metadata. */
/** The entities a broker keeps besides its dynamic configs, as read at start (a file each, or etcd). */
interface StoredEntities {
  quotas: ConfigEntities;
  scram: ConfigEntities;
  acls: ConfigEntities;
  tokens: ConfigEntities;
  features: ConfigEntities;
}

/** What a cluster member reads before its logs open: the cluster's id, the dynamic broker configs, and the stored entities. */
async function readFromEtcd(cluster: ClusterSettings): Promise<{ clusterId: string; brokerConfigs: ConfigEntities; entities: StoredEntities }> {
  const client = new EtcdClient({ endpoints: cluster.etcdEndpoints });
  try {
    const store = new MetadataStore(client, { root: cluster.etcdRoot });
    return {
      clusterId: await store.clusterId(newClusterId()),
      brokerConfigs: await store.readConfigEntities('brokers'),
      entities: {
        quotas: await store.readConfigEntities('quotas'),
        scram: await store.readConfigEntities('scram'),
        acls: await store.readConfigEntities('acls'),
        tokens: await store.readConfigEntities('tokens'),
        features: await store.readConfigEntities('features'),
      },
    };
  } finally {
    await client.close();
  }
}

/**
 * The settings the engine opens with: the dynamic layers over the static ones. A stored dynamic
 * value that no longer parses is logged and left out, as Kafka skips an invalid dynamic config at
 * startup, rather than keeping the broker from starting.
 */
function startingConfig(layers: BrokerConfigLayers, logger: Logger): Record<string, string> {
  const effective = layers.effective();
  try {
    brokerLogDefaults(effective);
    return effective;
  } catch (error) {
    logger.error({ error: String(error), dynamic: Object.fromEntries(layers.all) }, 'dynamic broker configs left out at startup: a value is invalid');
    layers.replace(new Map());
    return layers.effective();
  }
}

/**
 * Each TLS listener's acceptor at startup, by name: its stores as the dynamic configs last set them
 * (a renewed certificate outlives a restart), or, when those no longer open, the static ones.
 */
function startingTls(layers: BrokerConfigLayers, settings: BrokerSettings, logger: Logger): Map<string, TlsAcceptor> {
  let dynamic = new Map<string, TlsListenerSettings>();
  try {
    dynamic = servedTlsSettings(layers.effective());
  } catch (error) {
    logger.error({ error: String(error) }, 'dynamic TLS stores left out at startup: they cannot be opened');
  }
  const acceptors = new Map<string, TlsAcceptor>();
  for (const { name, tls } of servedListeners(settings)) if (tls !== null) acceptors.set(name, new TlsAcceptor(dynamic.get(name) ?? tls));
  return acceptors;
}

/** How long the first FindCoordinator waits for __consumer_offsets' leaders. */
const OFFSETS_TOPIC_CREATE_TIMEOUT_MS = 10_000;
/** A single broker's marker append has no ISR to wait for; this bounds nothing but a stuck disk. */
const TRANSACTION_MARKER_TIMEOUT_MS = 30_000;

/**
 * __consumer_offsets in a cluster: replicated with offsets.topic.replication.factor (capped by the
 * live brokers, as the issue asks), commits appended by its leader with acks=all.
 */
function offsetsTopicHost(node: { current: ClusterNode | null }, settings: BrokerSettings): OffsetsTopicHost {
  return coordinatorTopicHost(node, CONSUMER_OFFSETS_TOPIC, settings.cluster!.offsetsTopicReplicationFactor, settings.cluster!.offsetsCommitTimeoutMs);
}

/**
 * A coordinator's internal topic in a cluster (__consumer_offsets, __transaction_state): replicated
 * with `replicationFactor` capped by the live brokers, written by each partition's leader with
 * acks=all, waiting at most `appendTimeoutMs`. A min.insync.replicas the store asks for is capped
 * by the replication factor too, or a small cluster could never write.
 */
function coordinatorTopicHost(node: { current: ClusterNode | null }, topic: string, replicationFactorWanted: number, appendTimeoutMs: number): OffsetsTopicHost {
  const current = (): ClusterNode => {
    if (node.current === null) throw new SluiceError('COORDINATOR_NOT_AVAILABLE', 'The broker has not joined its cluster yet');
    return node.current;
  };
  return {
    leads: (partition) => node.current?.replicas.isLeader(topic, partition) ?? false,
    append: async (partition, batch, origin) => {
      await current().replicas.appendAsLeader(topic, partition, batch, -1, appendTimeoutMs, origin);
    },
    ensureTopic: async (partitions, configs) => {
      const cluster = current();
      if (cluster.topic(topic) !== undefined) return;
      const replicationFactor = Math.min(replicationFactorWanted, cluster.liveBrokers.length);
      const minIsr = configs['min.insync.replicas'];
      const cappedConfigs = minIsr === undefined ? configs : { ...configs, 'min.insync.replicas': String(Math.min(Number(minIsr), replicationFactor)) };
      try {
        await cluster.createTopic(topic, {
          partitions,
          replicationFactor,
          configs: cappedConfigs,
          timeoutMs: OFFSETS_TOPIC_CREATE_TIMEOUT_MS,
        });
      } catch (error) {
        if (!(error instanceof SluiceError && error.code === 'TOPIC_ALREADY_EXISTS')) throw error;
      }
    },
  };
}

/** The transaction coordinator and what serves it: producer ids, and the markers' path to partition leaders. */
interface TransactionParts {
  coordinator: TransactionCoordinator;
  producerIds: ProducerIds;
  markerDeps: MarkerWriterDeps;
  verifier: TransactionVerifier;
  close(): void;
}

/**
 * The TLS of the broker's connections to its peers: the inter-broker listener's stores (inter.broker.listener.name)
 * as they are at each connect; none when that listener is plaintext.
 */
function peerTlsOf(settings: BrokerSettings, acceptors: ReadonlyMap<string, TlsAcceptor>): PeerTls | undefined {
  const acceptor = acceptors.get(settings.interBrokerListenerName);
  return acceptor === undefined ? undefined : () => acceptor.settings.options;
}

/**
 * The transaction coordinator over __transaction_state (transaction.state.log.* settings): a single
 * broker loads every partition now; a cluster broker loads those it comes to lead (onLeadership).
 */
async function startTransactions(engine: Engine, groups: GroupCoordinator, node: { current: ClusterNode | null }, settings: BrokerSettings, peerTls: PeerTls | undefined): Promise<TransactionParts> {
  const config = resolveTransactionConfig(settings.all);
  const cluster = settings.cluster;
  const producerIds = new ProducerIds(settings.dataDir, cluster === null ? 0 : settings.nodeId * PRODUCER_IDS_PER_BROKER);
  // A marker waits for its partition's ISR as long as a commit waits for __consumer_offsets'.
  const appendTimeoutMs = cluster?.offsetsCommitTimeoutMs ?? TRANSACTION_MARKER_TIMEOUT_MS;
  const markerDeps: MarkerWriterDeps = { engine, groups, cluster: () => node.current, timeoutMs: appendTimeoutMs, localAddress: interBrokerListener(settings).host || undefined, sasl: interBrokerListener(settings).sasl?.interBroker, tls: peerTls };
  const markers = new BrokerMarkerWriter(markerDeps);
  const store = new OffsetStore(
    engine,
    {
      topic: TRANSACTION_STATE_TOPIC,
      partitions: config.logPartitions,
      segmentBytes: config.logSegmentBytes,
      loadBufferBytes: config.logLoadBufferBytes,
      minInsyncReplicas: cluster === null ? undefined : config.logMinIsr,
    },
    cluster === null ? null : coordinatorTopicHost(node, TRANSACTION_STATE_TOPIC, config.logReplicationFactor, appendTimeoutMs),
  );
  const coordinator = new TransactionCoordinator(config, {
    store,
    leads: (partition) => cluster === null || (node.current?.replicas.isLeader(TRANSACTION_STATE_TOPIC, partition) ?? false),
    coordinatorEpoch: (partition) => node.current?.partition(TRANSACTION_STATE_TOPIC, partition)?.leaderEpoch ?? 0,
    markers,
    allocateProducerId: () => producerIds.allocate(),
    partitionExists: (topic, partition) => partitionExists(node.current, engine, topic, partition),
    nowMs: () => Date.now(),
  });
  if (cluster === null) await coordinator.loadAll();
  const verifier = new TransactionVerifier({ coordinator, cluster: () => node.current, enabled: config.partitionVerification, timeoutMs: appendTimeoutMs, localAddress: markerDeps.localAddress, sasl: markerDeps.sasl, tls: markerDeps.tls });
  return {
    coordinator,
    producerIds,
    markerDeps,
    verifier,
    close: () => {
      coordinator.close();
      markers.close();
      verifier.close();
    },
  };
}

/** Starts a broker in this process, for applications and their tests. */
export function startBroker(options: StartBrokerOptions = {}): Promise<Broker> {
  return Broker.start(options);
}

/** A listener's server, where it binds, and what its connections see of it. */
interface ListenerServer {
  listener: ListenerAddress;
  served: ListenerContext;
  server: net.Server;
}

function boundPort(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

/** A listening server's socket descriptor (`server._handle.fd`, Linux). */
function serverFd(server: net.Server): number {
  const fd = descriptorOf(server);
  if (fd < 0) throw new SluiceError('UNKNOWN_SERVER_ERROR', 'The listening socket has no descriptor to set socket.send.buffer.bytes and socket.receive.buffer.bytes on');
  return fd;
}
