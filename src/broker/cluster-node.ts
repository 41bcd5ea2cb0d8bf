// A broker's membership of a replicated cluster (sluice.etcd.endpoints set): its registration on
// an etcd lease, its view of the live brokers, the controller and every topic's partition states
// (watches), the local replicas those states ask for (replica-manager.ts), its turn as controller
// (src/cluster/controller.ts), and controlled shutdown. Without etcd a broker has none of this and
// is a cluster of one.
//
// Topics live in etcd; each broker keeps a local topic (in its Engine) for every cluster topic,
// with the cluster's topic id and configs, and holds logs for the partitions assigned to it.
// Partitions assigned elsewhere keep an empty local log (the engine's topics are whole), which is
// never read or written.
import fs from 'node:fs';
import path from 'node:path';

import { SluiceError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import type { Logger, LogLimiter } from '../logger.js';
import { EtcdClient } from '../cluster/etcd-client.js';
import { MetadataStore, type BrokersWatch, type LiveBroker, type TopicsWatch, type TopicView } from '../cluster/metadata-store.js';
import type { BrokerSession } from '../cluster/broker-session.js';
import type { KeyMirror } from '../cluster/key-mirror.js';
import { Controller } from '../cluster/controller.js';
import { assignReplicas, validateAssignment, type PartitionAssignment } from '../cluster/replica-assignment.js';
import { NO_LEADER, type ConfigEntityKind, type ListenerEndpoint } from '../cluster/layout.js';
import { electControlledShutdownLeader } from '../cluster/partition-election.js';
import type { AdminRequestsWatch } from '../cluster/admin-requests.js';
import type { BrokerSettings, ClusterSettings } from './config.js';
import type { SaslCredentials } from '../client/sasl.js';
import { ReplicaManager, type BrokerEndpoint, type PartitionView } from './replica-manager.js';
import { ReplicaFetcherManager } from './replica-fetcher-manager.js';
import type { ReplicationQuotas } from './replication-quotas.js';
import type { PeerTls } from './peer-connections.js';
import { LOG_OPEN_CHUNK_PARTITIONS } from '../limits.js';

/** The lease of this broker's last incarnation, so a restart revokes it instead of waiting out its TTL. */
const SESSION_FILE = 'cluster-session.json';
/** Backoff between attempts to register again after the session was lost. */
const REREGISTER_BACKOFF_MS = 1000;
/** Compare-and-set attempts of a topic's configs before AlterConfigs gives up (each after the view caught up). */
const CONFIG_WRITE_ATTEMPTS = 5;
/** Polling step while a controlled shutdown waits for leaderships to move. */
const SHUTDOWN_POLL_MS = 50;
/**
 * How long a starting broker waits to see its own registration in its watch of the live brokers,
 * and a controller in its watch of the controller key (etcd watch events, normally a few ms), and
 * how often it looks.
 */
const SELF_VISIBLE_WAIT_MS = 10_000;
const SELF_VISIBLE_POLL_MS = 10;

export interface ClusterNodeOptions {
  settings: BrokerSettings & { cluster: ClusterSettings };
  engine: Engine;
  /** Where clients and other brokers reach this broker. */
  advertised: { host: string; port: number };
  /** Its endpoint on each listener it serves (advertised), registered for Metadata answers by listener. */
  listeners: ListenerEndpoint[];
  /** The address outgoing replica connections bind, so per-pair network partitions hold ('' = any). */
  localAddress: string;
  logger: Logger;
  log: LogLimiter;
  onHighWatermark(topic: string, partition: number): void;
  onLeadership?(topic: string, partition: number, leading: boolean): void;
  /** Each kind's config entities (dynamic broker configs, client quotas), at the join and after each change (config-entities.ts). */
  onConfigEntities(kind: ConfigEntityKind, entities: Map<string, Record<string, string>>): void;
  /** unclean.leader.election.enable as this broker runs with it (static, or dynamic once loaded). */
  uncleanLeaderElectionEnable: boolean;
  /** The broker's replication quotas: the fetchers take the follower side, the replica manager the leader side. */
  replicationQuotas: ReplicationQuotas;
  /** TLS to the leaders' listener, with this broker's current key store; none for plaintext. */
  peerTls?: PeerTls;
  /** The login to the other brokers on the inter-broker listener when it is a SASL one (sasl.mechanism.inter.broker.protocol). */
  peerSasl?: SaslCredentials;
}

export interface ClusterTopicSpec {
  partitions?: number;
  replicationFactor?: number;
  assignments?: readonly PartitionAssignment[];
  configs?: Record<string, string>;
  validateOnly?: boolean;
  /** How long to wait for every partition's first leader (the request's timeout). */
  timeoutMs: number;
}

export class ClusterNode {
  readonly brokerId: number;
  readonly replicas: ReplicaManager;
  private session!: BrokerSession;
  private controller: Controller | undefined;
  private controllerId = -1;
  private controllerWatch: KeyMirror | undefined;
  private readonly configWatches: KeyMirror[] = [];
  /** The broker default a topic's unclean.leader.election.enable overrides, for the controller. */
  private uncleanLeaderElectionEnable: boolean;
  private brokers!: BrokersWatch;
  private topics!: TopicsWatch;
  /** Admin requests: other brokers' controlled shutdowns and offline replicas. */
  private admin: AdminRequestsWatch | undefined;
  private readonly fetchers: ReplicaFetcherManager;
  private readonly topicListeners = new Set<() => void>();
  private closed = false;
  /** Topics with logs still to open here, a chunk a turn (hostRestLater). */
  private readonly hostingLater = new Set<string>();
  /** Reports of replicas in offline log dirs, one after another (each writes the whole list). */
  private offlineReports: Promise<void> = Promise.resolve();
  private readonly unsubscribeLogDirFailure: () => void;

  private constructor(
    private readonly options: ClusterNodeOptions,
    private readonly client: EtcdClient,
    readonly store: MetadataStore,
  ) {
    const { settings, engine, log } = options;
    const cluster = settings.cluster;
    this.brokerId = settings.nodeId;
    this.uncleanLeaderElectionEnable = options.uncleanLeaderElectionEnable;
    this.fetchers = new ReplicaFetcherManager({
      replicaId: this.brokerId,
      localAddress: options.localAddress === '' ? undefined : options.localAddress,
      sasl: options.peerSasl,
      tls: options.peerTls,
      maxWaitMs: cluster.replicaFetchWaitMaxMs,
      minBytes: cluster.replicaFetchMinBytes,
      maxBytes: cluster.replicaFetchResponseMaxBytes,
      partitionMaxBytes: cluster.replicaFetchMaxBytes,
      backoffMs: cluster.replicaFetchBackoffMs,
      requestTimeoutMs: cluster.replicaSocketTimeoutMs,
      receiveBufferBytes: cluster.replicaSocketReceiveBufferBytes,
      quota: options.replicationQuotas.follower,
      onAppended: (topic, partition) => options.onHighWatermark(topic, partition),
      onPartitionError: (topic, partition, error) => {
        // The follower's own log failing (its errno, as the cause) may be a failed disk.
        if (error.code === 'KAFKA_STORAGE_ERROR') engine.reportStorageFailure(topic, partition, error.cause ?? error);
        log.log('warn', `fetch:${topic}-${partition}:${error.code}`, { topic, partition, code: error.code, error: error.message }, 'replica fetch failed');
      },
      log,
    });
    this.replicas = new ReplicaManager({
      brokerId: this.brokerId,
      engine,
      settings: cluster,
      fetchers: this.fetchers,
      leaderQuota: options.replicationQuotas.leader,
      alterPartition: (request) => this.store.alterPartition(request),
      endpointOf: (brokerId) => this.endpointOf(brokerId),
      onHighWatermark: options.onHighWatermark,
      onLeadership: options.onLeadership,
      log,
    });
    // Directories that failed as the engine opened: their replicas are offline from the start
    // (reported once registered).
    this.replicas.logDirFailed(engine.offlineLogDirs().flatMap(({ partitions }) => partitions));
    this.unsubscribeLogDirFailure = engine.onLogDirFailure((failure) => {
      this.replicas.logDirFailed(failure.partitions);
      this.reportOfflineReplicas();
    });
  }

  /**
   * Connects to etcd, loads the cluster's topics into local replicas, then registers the broker
   * (its listener must be up: other brokers fetch from it as soon as it is registered) and runs
   * for controller.
   */
  static async join(options: ClusterNodeOptions): Promise<ClusterNode> {
    const cluster = options.settings.cluster;
    const client = new EtcdClient({ endpoints: cluster.etcdEndpoints });
    const node = new ClusterNode(options, client, new MetadataStore(client, { root: cluster.etcdRoot }));
    try {
      await node.start();
    } catch (error) {
      await node.close();
      throw error;
    }
    return node;
  }

  private async start(): Promise<void> {
    const { log } = this.options;
    this.brokers = await this.store.watchBrokers({
      join: (broker) => this.replicas.brokerJoined(broker.brokerId),
      error: (error) => log.log('error', 'watch:brokers', { error: String(error) }, 'broker watch failed'),
    });
    this.admin = await this.store.watchAdminRequests({
      error: (error) => log.log('error', 'watch:admin', { error: String(error) }, 'admin request watch failed'),
    });
    this.controllerWatch = await this.store.watchController((controller) => (this.controllerId = controller?.brokerId ?? -1), (error) =>
      log.log('error', 'watch:controller', { error: String(error) }, 'controller watch failed'),
    );
    for (const kind of ['brokers', 'quotas', 'scram', 'acls', 'tokens', 'features'] as const) {
      const watch = await this.store.watchConfigEntities(
        kind,
        (entities) => this.options.onConfigEntities(kind, entities),
        (error) => log.log('error', `watch:configs:${kind}`, { error: String(error) }, `${kind} config watch failed`),
      );
      this.configWatches.push(watch);
    }
    this.topics = await this.store.watchTopics({
      topic: (name, view) => this.onTopic(name, view),
      partition: (topic, partition, state) => {
        const view = this.topics.topics.get(topic);
        if (state !== undefined && view !== undefined) this.applyPartition(view, partition);
        this.notifyTopicListeners();
      },
      error: (error) => log.log('error', 'watch:topics', { error: String(error) }, 'topic watch failed'),
    });
    for (const view of this.topics.topics.values()) this.onTopic(view.name, view);
    await this.register();
    // Up only once its own registration is in its view of the live brokers, and it knows the
    // controller: a Metadata answered before that left this broker out of its own brokers list
    // (seen in a CI run of test/cluster/start-cluster.test.ts), so a client bootstrapping from it
    // could not reach it, or named controller -1, which kafkajs's admin takes for a failure
    // (KafkaJSBrokerNotFound from createTopics just after startCluster).
    const deadlineMs = Date.now() + SELF_VISIBLE_WAIT_MS;
    const up = () => this.brokers.live.has(this.brokerId) && this.controllerId !== -1;
    while (!up() && Date.now() < deadlineMs) await new Promise((resolve) => setTimeout(resolve, SELF_VISIBLE_POLL_MS));
    if (!up()) this.options.logger.warn({ brokerId: this.brokerId, controllerId: this.controllerId }, 'registered, but not yet seen in the live brokers or no controller known');
  }

  private async register(): Promise<void> {
    const { settings, advertised, logger } = this.options;
    const sessionFile = path.join(settings.dataDir, SESSION_FILE);
    const previous = readPreviousLease(sessionFile);
    this.session = await this.store.registerBroker(
      { brokerId: this.brokerId, host: advertised.host, port: advertised.port, rack: this.options.settings.rack, listeners: this.options.listeners },
      { sessionTimeoutMs: settings.cluster.sessionTimeoutMs, replaceLeaseId: previous },
    );
    writeFileAtomically(sessionFile, JSON.stringify({ leaseId: this.session.leaseId }));
    this.replicas.registered(this.session.brokerEpoch);
    // A new session's registration starts with no offline replicas in etcd: report them again.
    if (this.options.engine.offlineLogDirs().length > 0) this.reportOfflineReplicas();
    this.session.once('lost', (error) => {
      logger.error({ error: error.message }, 'the broker lost its etcd session: registering again');
      void this.reregister();
    });
    this.controller = await Controller.start({
      store: this.store,
      session: this.session,
      config: {
        autoLeaderRebalanceEnable: settings.cluster.autoLeaderRebalanceEnable,
        leaderImbalanceCheckIntervalMs: settings.cluster.leaderImbalanceCheckIntervalMs,
        leaderImbalancePerBrokerPercentage: settings.cluster.leaderImbalancePerBrokerPercentage,
        uncleanLeaderElectionEnable: this.uncleanLeaderElectionEnable,
      },
      logger,
    });
    logger.info({ brokerId: this.brokerId, brokerEpoch: this.session.brokerEpoch }, 'registered in the cluster');
  }

  private async reregister(): Promise<void> {
    await this.controller?.stop().catch(() => {});
    this.controller = undefined;
    while (!this.closed) {
      try {
        await this.register();
        return;
      } catch (error) {
        this.options.logger.error({ error: String(error) }, 'cannot register in the cluster');
        await new Promise((resolve) => setTimeout(resolve, REREGISTER_BACKOFF_MS));
      }
    }
  }

  // ---- local replicas of the cluster's topics --------------------------------------------------

  private onTopic(name: string, view: TopicView | undefined): void {
    const { engine, log } = this.options;
    try {
      if (view === undefined) {
        this.replicas.removeTopic(name);
        if (engine.hasTopic(name)) this.applyLocally(() => engine.deleteTopic(name), name, 'delete');
      } else {
        this.ensureLocalTopic(view);
        view.states.forEach((state, partition) => state !== undefined && this.applyPartition(view, partition));
      }
    } catch (error) {
      log.log('error', `topic:${name}`, { topic: name, error: String(error) }, 'cannot apply a cluster topic locally');
    }
    this.notifyTopicListeners();
  }

  /**
   * The local topic for a cluster topic: same id, partition count and configs (created, grown,
   * re-created), holding the logs of the partitions this broker is a replica of and no others.
   * Past the first LOG_OPEN_CHUNK_PARTITIONS new logs, the rest open on later turns (hostNextChunk).
   */
  private ensureLocalTopic(view: TopicView): void {
    const { engine } = this.options;
    if (engine.hasTopic(view.name) && engine.topicId(view.name) !== view.topicId) {
      // Deleted and created again while this broker was away: the old records are not this topic's.
      this.replicas.removeTopic(view.name);
      this.applyLocally(() => engine.deleteTopic(view.name), view.name, 'delete');
    }
    const created = !engine.hasTopic(view.name);
    this.hostNextChunk(view);
    if (created || !engine.hasTopic(view.name)) return; // a new topic takes its configs with it
    const { overrides } = engine.describeTopic(view.name);
    const changes: Record<string, string | null> = {};
    for (const [name, value] of Object.entries(view.configs)) if (overrides[name] !== value) changes[name] = value;
    for (const name of Object.keys(overrides)) if (!(name in view.configs)) changes[name] = null;
    if (Object.keys(changes).length > 0) this.applyLocally(() => engine.alterTopicConfig(view.name, changes), view.name, 'alter the configs of');
  }

  /**
   * Brings the partitions whose logs are here one step closer to those this broker is a replica
   * of: creates the local topic or grows its partition count, drops the logs of partitions it no
   * longer replicates, and opens at most LOG_OPEN_CHUNK_PARTITIONS missing ones, leaving the rest
   * to a later turn. All or none: before opening over several turns it checks the descriptor
   * budget for every missing log, so that a first chunk that fits does not take the descriptors
   * the rest, and the segments of the logs already here, need.
   */
  private hostNextChunk(view: TopicView): void {
    const { engine } = this.options;
    const exists = engine.hasTopic(view.name);
    const wanted = hostedBy(view, this.brokerId);
    const current = exists ? engine.hostedPartitions(view.name) : [];
    const here = new Set(current);
    const missing = wanted.filter((partition) => !here.has(partition));
    const opening = missing.slice(0, LOG_OPEN_CHUNK_PARTITIONS);
    const kept = new Set(wanted);
    const hosted = [...current.filter((partition) => kept.has(partition)), ...opening].sort((a, b) => a - b);
    const what = exists ? 'add partitions to' : 'create';
    if (missing.length > opening.length && !this.applyLocally(() => engine.checkRoomForPartitions(missing.length, `Topic '${view.name}'`), view.name, what)) return;
    if (!exists) {
      // Engine.createTopic does its work before its first await: the topic exists on return.
      const replicaOf = { id: view.topicId, replicationFactor: view.partitions[0]?.length ?? 1, hosted };
      this.applyLocally(() => engine.createTopic(view.name, { partitions: view.partitions.length, config: view.configs, replicaOf }), view.name, what);
    } else if (engine.partitionCount(view.name) < view.partitions.length) {
      this.applyLocally(() => engine.createPartitions(view.name, view.partitions.length, { hosted }), view.name, what);
    } else if (hosted.length !== current.length || hosted.some((partition, i) => partition !== current[i])) {
      this.applyLocally(() => engine.hostPartitions(view.name, hosted), view.name, 'change the partitions held of');
    }
    // Only after progress: a chunk that failed (descriptor budget, full disk) is logged once, not retried every turn.
    if (missing.length > opening.length && engine.hasTopic(view.name) && engine.hostsPartition(view.name, opening[opening.length - 1]!)) this.hostRestLater(view.name);
  }

  /**
   * Opens the topic's next chunk of logs on a later turn of the event loop, then applies those
   * partitions' states (applyPartition skipped them while their logs were missing).
   */
  private hostRestLater(name: string): void {
    if (this.hostingLater.has(name)) return;
    this.hostingLater.add(name);
    setImmediate(() => {
      this.hostingLater.delete(name);
      const { engine } = this.options;
      const view = this.topics.topics.get(name);
      if (this.closed || engine.isClosed || view === undefined || engine.topicId(name) !== view.topicId) return;
      try {
        const before = new Set(engine.hostedPartitions(name));
        this.hostNextChunk(view);
        for (const partition of engine.hostedPartitions(name)) if (!before.has(partition)) this.applyPartition(view, partition);
      } catch (error) {
        this.options.log.log('error', `topic:${name}`, { topic: name, error: String(error) }, 'cannot open the logs of a cluster topic');
      }
      this.notifyTopicListeners();
    });
  }

  /**
   * Runs one change of the local copy of a cluster topic. It is logged if it fails, never thrown:
   * the cluster's record is the truth, already committed in etcd, and a broker that cannot follow
   * it (too few descriptors for the new partitions, a full disk) must stay up, with the partitions
   * it cannot hold offline here. An unhandled rejection here once took down every broker of a
   * cluster on a CreatePartitions above their descriptor budget. False when it failed at once.
   */
  private applyLocally(change: () => unknown, topic: string, what: string): boolean {
    const fail = (error: unknown) =>
      this.options.log.log('error', `topic:${topic}:${what}`, { topic, error: String(error) }, `cannot ${what} the local copy of a cluster topic`);
    try {
      const result = change();
      if (result instanceof Promise) result.catch(fail);
      return true;
    } catch (error) {
      fail(error);
      return false;
    }
  }

  private applyPartition(view: TopicView, partition: number): void {
    const state = view.states[partition];
    const replicas = view.partitions[partition];
    if (state === undefined || replicas === undefined) return;
    try {
      // A state may come before this broker has made the topic, or its new partitions, its own.
      // Only then: ensureLocalTopic describes every partition, and a topic's creation brings one
      // state per partition.
      const { engine } = this.options;
      if (engine.topicId(view.name) !== view.topicId || engine.partitionCount(view.name) < view.partitions.length) this.ensureLocalTopic(view);
      // Its log opens in a later chunk (hostRestLater), which applies this state then.
      if (this.hostingLater.has(view.name) && replicas.includes(this.brokerId) && !engine.hostsPartition(view.name, partition)) return;
      this.replicas.applyState(view.name, partition, replicas, state);
    } catch (error) {
      this.options.log.log('error', `partition:${view.name}-${partition}`, { topic: view.name, partition, error: String(error) }, 'cannot apply a partition state');
    }
  }

  private notifyTopicListeners(): void {
    for (const listener of [...this.topicListeners]) listener();
  }

  /** Resolves when `ready()` holds (checked after every topic change), or rejects after `timeoutMs`. */
  private waitForTopics(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const listener = () => {
        if (!ready()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new SluiceError('REQUEST_TIMED_OUT', `${what} did not happen within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.topicListeners.delete(listener);
      };
      this.topicListeners.add(listener);
    });
  }

  // ---- what Metadata and the handlers see ------------------------------------------------------

  get controllerBrokerId(): number {
    return this.controllerId;
  }

  get liveBrokers(): LiveBroker[] {
    return [...this.brokers.live.values()].sort((a, b) => a.brokerId - b.brokerId);
  }

  /**
   * Whether a live broker reported its replica of a partition in an offline log directory (a
   * failed disk), as of now: taken once per answer, not per replica. Null when none did.
   */
  offlineReplicas(): ((brokerId: number, topic: string, partition: number) => boolean) | null {
    return this.admin?.offlineReplicas(this.brokers.live) ?? null;
  }

  isAlive(brokerId: number): boolean {
    return this.brokers.live.has(brokerId);
  }

  /**
   * A live broker's endpoint: on its own listener (where brokers reach each other), or on the named
   * one (a client's, which it is answered on). Undefined when the broker is not live or serves no
   * listener of that name.
   */
  endpointOf(brokerId: number, listener?: string): BrokerEndpoint | undefined {
    const broker = this.brokers?.live.get(brokerId);
    if (broker === undefined) return undefined;
    // A registration without listeners (written before brokers served several) has only its own.
    const endpoint = listener === undefined || broker.listeners === undefined ? broker : broker.listeners.find(({ name }) => name === listener);
    return endpoint === undefined ? undefined : { brokerId, host: endpoint.host, port: endpoint.port, rack: broker.rack };
  }

  /** The live brokers' endpoints on the named listener, by broker id; those without one are left out, as Kafka's Metadata does. */
  liveEndpoints(listener: string): BrokerEndpoint[] {
    return this.liveBrokers.flatMap(({ brokerId }) => this.endpointOf(brokerId, listener) ?? []);
  }

  topicNames(): string[] {
    return [...this.topics.topics.keys()].sort();
  }

  topic(name: string): TopicView | undefined {
    return this.topics.topics.get(name);
  }

  topicNameById(topicId: string): string | undefined {
    for (const view of this.topics.topics.values()) if (view.topicId === topicId) return view.name;
    return undefined;
  }

  /** Leader, epoch, replicas and ISR of a partition as the cluster holds them (leader -1 while none). */
  partition(name: string, partition: number): PartitionView | undefined {
    const view = this.topics.topics.get(name);
    const replicas = view?.partitions[partition];
    if (view === undefined || replicas === undefined) return undefined;
    const state = view.states[partition];
    return { leader: state?.leader ?? NO_LEADER, leaderEpoch: state?.leaderEpoch ?? 0, replicas, isr: state?.isr ?? [] };
  }

  // ---- admin requests --------------------------------------------------------------------------

  /**
   * CreateTopics (and auto-creation) from any broker: the assignment is computed here from the
   * live brokers (or checked, when given) and proposed to etcd; the controller writes each
   * partition's first state; this resolves once every partition has a leader.
   */
  async createTopic(name: string, spec: ClusterTopicSpec): Promise<TopicView> {
    const live = this.liveBrokers.map((broker) => broker.brokerId);
    let assignment: number[][];
    if (spec.assignments !== undefined && spec.assignments.length > 0) {
      assignment = validateAssignment(spec.assignments, live);
    } else {
      const replicationFactor = spec.replicationFactor ?? this.options.settings.defaultReplicationFactor;
      if (replicationFactor > live.length) {
        throw new SluiceError('INVALID_REPLICATION_FACTOR', `Replication factor: ${replicationFactor} larger than available brokers: ${live.length}.`);
      }
      assignment = assignReplicas(this.liveBrokers, spec.partitions ?? this.options.settings.numPartitions, replicationFactor);
    }
    // The engine checks the name and the configs as it would create the topic, creating nothing.
    await this.options.engine.createTopic(name, {
      partitions: assignment.length,
      config: spec.configs,
      validateOnly: true,
      replicaOf: { id: '', replicationFactor: assignment[0]!.length, hosted: hostedBy({ partitions: assignment }, this.brokerId) },
    });
    if (this.topics.topics.has(name)) throw new SluiceError('TOPIC_ALREADY_EXISTS', `Topic '${name}' already exists.`);
    if (spec.validateOnly) return { name, topicId: '', partitions: assignment, configs: spec.configs ?? {}, revision: 0, states: [] };
    await this.store.proposeTopic({ name, partitions: assignment, configs: spec.configs ?? {} });
    await this.waitForTopics(
      () => {
        const view = this.topics.topics.get(name);
        return view !== undefined && view.states.every((state) => state !== undefined && state.leader !== NO_LEADER);
      },
      spec.timeoutMs,
      `Leaders for every partition of topic '${name}'`,
    );
    return this.topics.topics.get(name)!;
  }

  /** DeleteTopics from any broker: a deletion request the controller acts on; resolves once the topic is gone. */
  async deleteTopic(name: string, timeoutMs: number): Promise<void> {
    if (!this.topics.topics.has(name)) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host this topic: ${name}`);
    await this.store.requestTopicDeletion(name);
    await this.waitForTopics(() => !this.topics.topics.has(name), timeoutMs, `Deletion of topic '${name}'`);
  }

  /**
   * AlterConfigs in a cluster: the topic's overrides live in its etcd record, which every broker
   * applies from its topics watch (ensureLocalTopic), so they hold on every replica and across
   * restarts. Applied here at once as well, so that this broker's DescribeConfigs and its
   * partitions (min.insync.replicas for acks=all) see them when the request is answered. A
   * change only to this broker's engine was reverted by the next change of the topic's record.
   */
  async alterTopicConfigs(name: string, changes: Record<string, string | null>, timeoutMs: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const view = this.topics.topics.get(name);
      if (view === undefined) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host this topic: ${name}`);
      const configs: Record<string, string> = { ...view.configs };
      for (const [config, value] of Object.entries(changes)) {
        if (value === null) delete configs[config];
        else configs[config] = value;
      }
      try {
        await this.store.alterTopicConfigs(name, configs, view.revision);
        break;
      } catch (error) {
        // Another write to the record (configs, partitions) since this broker's view: wait for
        // the view to show it, then apply the changes over it.
        if (!(error instanceof SluiceError && error.code === 'INVALID_UPDATE_VERSION') || attempt >= CONFIG_WRITE_ATTEMPTS) throw error;
        await this.waitForTopics(() => (this.topics.topics.get(name)?.revision ?? Infinity) > view.revision, timeoutMs, `An update of topic '${name}'`);
      }
    }
    await this.options.engine.alterTopicConfig(name, changes);
  }

  /** CreatePartitions from any broker: the new partitions' replicas, proposed; resolves once each has a leader. */
  async createPartitions(name: string, totalCount: number, validateOnly: boolean, timeoutMs: number): Promise<void> {
    const view = this.topics.topics.get(name);
    if (view === undefined) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host this topic: ${name}`);
    const current = view.partitions.length;
    if (totalCount <= current) {
      throw new SluiceError('INVALID_PARTITIONS', `Topic currently has ${current} partitions, which is higher than the requested ${totalCount}.`);
    }
    const live = this.liveBrokers.map((broker) => broker.brokerId);
    const replicationFactor = view.partitions[0]?.length ?? 1;
    if (replicationFactor > live.length) {
      throw new SluiceError('INVALID_REPLICATION_FACTOR', `Replication factor: ${replicationFactor} larger than available brokers: ${live.length}.`);
    }
    // Kafka assigns the new partitions as if the topic were created with all of them, keeping the old ones.
    const added = assignReplicas(this.liveBrokers, totalCount, replicationFactor).slice(current);
    // The engine checks the count and this broker's descriptor budget as it would add the
    // partitions, creating nothing: a count every broker refuses must not reach etcd.
    await this.options.engine.createPartitions(name, totalCount, { validateOnly: true, hosted: hostedBy({ partitions: [...view.partitions, ...added] }, this.brokerId) });
    if (validateOnly) return;
    await this.store.addPartitions(name, added, view.revision);
    await this.waitForTopics(
      () => {
        const now = this.topics.topics.get(name);
        return now !== undefined && now.states.length >= totalCount && now.states.every((state) => state !== undefined && state.leader !== NO_LEADER);
      },
      timeoutMs,
      `Leaders for the new partitions of topic '${name}'`,
    );
  }

  /** The controller of this broker, when it is the active one (ElectLeaders and deletions act there). */
  get activeController(): Controller | undefined {
    return this.controller?.isActive ? this.controller : undefined;
  }

  /**
   * Controlled shutdown (SIGTERM): asks the controller to move every leadership off this broker
   * and waits until this broker leads nothing that another in-sync replica could lead, or
   * controlled.shutdown.timeout.ms passes. Clients then see only a metadata refresh.
   */
  async shutDownControlled(): Promise<void> {
    const cluster = this.options.settings.cluster;
    if (!cluster.controlledShutdownEnable || this.session === undefined || !this.session.isLive) return;
    const deadline = Date.now() + cluster.controlledShutdownTimeoutMs;
    try {
      await this.store.requestControlledShutdown(this.session);
    } catch (error) {
      this.options.logger.warn({ error: String(error) }, 'controlled shutdown request failed: stopping without it');
      return;
    }
    // The other brokers shutting down too: the controller moves no leadership to them, so a
    // partition whose other in-sync replicas are all stopping stays here until this broker stops.
    // Waiting for it instead held two brokers stopped together (a cluster's stop) for the whole
    // controlled.shutdown.timeout.ms (30 s), each waiting for the other to take its leaderships.
    const admin = this.admin;
    const movable = () => {
      const down = admin?.shuttingDown(this.brokers.live) ?? new Set<number>();
      down.add(this.brokerId);
      return this.replicas.ledPartitions().filter(({ topic, partition }) => {
        const view = this.partition(topic, partition);
        return view !== undefined && electControlledShutdownLeader(view.replicas, view.isr, (id) => this.isAlive(id), down) !== undefined;
      });
    };
    while (movable().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, SHUTDOWN_POLL_MS));
    const left = movable();
    if (left.length > 0) this.options.logger.warn({ partitions: left.length }, 'controlled shutdown timed out with leaderships left');
    else this.options.logger.info('controlled shutdown: no leadership left to move');
  }

  /**
   * Tells the controller which replicas are in offline log directories (a failed disk; Kafka's log
   * dir event, KIP-112), the whole list, after those before it. Retried every
   * REREGISTER_BACKOFF_MS while the session lives; a new session reports again (register).
   */
  private reportOfflineReplicas(): void {
    const report = async () => {
      while (!this.closed) {
        const session = this.session;
        if (session === undefined || !session.isLive) return;
        const partitions = this.options.engine.offlineLogDirs().flatMap((dir) => dir.partitions.map(({ topic, partition }): [string, number] => [topic, partition]));
        try {
          await this.store.reportOfflineReplicas(session, partitions);
          this.options.logger.warn({ partitions: partitions.length }, 'reported the replicas in offline log directories to the controller');
          return;
        } catch (error) {
          this.options.log.log('error', 'offline-replicas', { error: String(error) }, 'cannot report the replicas in offline log directories; retrying');
          await new Promise((resolve) => setTimeout(resolve, REREGISTER_BACKOFF_MS));
        }
      }
    };
    this.offlineReports = this.offlineReports.then(report);
  }

  /**
   * A dynamic change of the broker default of unclean.leader.election.enable: the controller (when
   * it is this broker) uses it from its next pass, and runs one now, so that a partition without an
   * in-sync replica gets a leader as soon as unclean election is enabled, as in Kafka.
   */
  setUncleanLeaderElectionEnable(enable: boolean): void {
    if (enable === this.uncleanLeaderElectionEnable) return;
    this.uncleanLeaderElectionEnable = enable;
    this.controller?.setUncleanLeaderElectionEnable(enable);
  }

  /** Leaves the cluster: resigns as controller, stops replication, revokes the session. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribeLogDirFailure();
    this.replicas.close();
    await this.controller?.stop().catch(() => {});
    await this.fetchers.close();
    await Promise.all([this.topics?.close(), this.brokers?.close(), this.admin?.close(), this.controllerWatch?.close(), ...this.configWatches.map((watch) => watch.close())].map((p) => p?.catch(() => {})));
    await this.session?.close();
    fs.rmSync(path.join(this.options.settings.dataDir, SESSION_FILE), { force: true });
    await this.client.close();
  }
}

function readPreviousLease(file: string): string | undefined {
  try {
    const { leaseId } = JSON.parse(fs.readFileSync(file, 'utf8')) as { leaseId?: unknown };
    return typeof leaseId === 'string' ? leaseId : undefined;
  } catch {
    return undefined;
  }
}

function writeFileAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** The partitions of a cluster topic this broker is a replica of, ascending. */
function hostedBy(view: { partitions: readonly (readonly number[])[] }, brokerId: number): number[] {
  const hosted: number[] = [];
  view.partitions.forEach((replicas, partition) => replicas.includes(brokerId) && hosted.push(partition));
  return hosted;
}
