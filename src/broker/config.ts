// Broker configuration with Kafka's names (server.properties and --KEY=VALUE flags) and
// KAFKA-FACTS.md's defaults. Every name given is accounted for at startup: it takes effect, or it
// is a Kafka name sluice accepts without acting on it (reported with the reason), or it is not a
// Kafka broker config at all (reported, as Kafka reports "supplied but isn't a known config").
// Log settings (log.segment.bytes, ...) pass through to the engine; group settings to the group
// coordinator; this module reads the ones the broker itself acts on.
import fs from 'node:fs';

import { getProperties } from 'properties-file';

import { SluiceError } from '../errors.js';
import { QUEUED_REQUEST_BYTES_DEFAULT } from '../limits.js';
import { parseLogLevel, type LogLevel } from '../logger.js';
import { LOG_CLEANER_BROKER_DEFAULTS } from '../storage/log-cleaner-config.js';
import { BROKER_LOG_CONFIG_NAMES, TOPIC_CONFIG_NAMES, unsupportedConfigs } from '../storage/log-config.js';
import { GROUP_CONFIG_NAMES, unsupportedGroupConfigs } from './group/config.js';
import { TRANSACTION_CLUSTER_CONFIG_NAMES, TRANSACTION_CONFIG_NAMES } from './txn/config.js';
import { advertisedListener, everyServed, isSasl, isTls, listenerSettingName, parseListeners, servedListener, type Listener, type ProtocolListener, type ServedListener, type ServedProtocol } from './listeners.js';
import { TLS_LISTENER_CONFIG_NAMES, tlsListenerSettings, type TlsListenerSettings } from './tls-listener.js';
import { OAUTHBEARER_LOGIN_CONFIG_NAMES, OAUTHBEARER_LOGIN_HANDLER_CLASSES, unusedLoginConfigs } from '../client/oauth-login.js';
import { SSL_JAVA_ONLY_CONFIG_NAMES, SSL_STORE_CONFIG_NAMES } from '../client/tls-config.js';
import { jaasLogin, OAUTHBEARER_LOGIN_MODULE, parseJaasConfig } from './sasl/jaas.js';
import { JwksValidator, OAUTHBEARER_VALIDATOR_CLASSES, UnsecuredValidator, type OAuthBearerValidator } from './sasl/oauthbearer.js';
import { plainUsers } from './sasl/plain.js';
import type { SaslSettings } from './sasl/sasl-session.js';
import { KAFKA_AUTHORIZERS, type AuthorizerSettings } from './authorizer/authorizer.js';
import type { SaslCredentials, SaslMechanism } from '../client/sasl.js';

export type BrokerConfigValues = Record<string, string | number | boolean>;

/** A listener served, by its name in `listeners`: where it binds, what it advertises and how it is secured. */
export interface ListenerAddress {
  name: string;
  host: string;
  port: number;
  advertisedHost: string;
  /** undefined: the bound port. */
  advertisedPort: number | undefined;
  protocol: ServedProtocol;
  /** Authentication on a SASL_PLAINTEXT or SASL_SSL listener (sasl/sasl-session.ts); null on others. */
  sasl: SaslSettings | null;
  /** TLS on an SSL or SASL_SSL listener (tls-listener.ts); null on others. */
  tls: TlsListenerSettings | null;
}

export interface BrokerSettings {
  nodeId: number;
  /** The name in `listeners` of the broker's own listener (listeners.ts), which host, port, advertised*, protocol, sasl and tls below describe. */
  listenerName: string;
  protocol: ServedProtocol;
  /** The listener brokers reach each other on (inter.broker.listener.name): the broker's own, or one of extraListeners. */
  interBrokerListenerName: string;
  /** Address to bind; '' binds every interface (IPv6 and IPv4 where the system allows). */
  host: string;
  port: number;
  /** Host and port written into Metadata responses; default: the bound port and advertisedHost. */
  advertisedHost: string;
  advertisedPort: number | undefined;
  /**
   * The other listeners served (listeners.ts), each bound and advertised as above (its
   * advertised.listeners entry, else its own address) and secured by its own settings.
   */
  extraListeners: ListenerAddress[];
  /** broker.rack: the rack (or zone) this broker is in, for rack-aware replica assignment; null for none. */
  rack: string | null;
  /** The first of log.dirs: the broker's own files (meta.properties, topics, ACLs, offsets) live here. */
  dataDir: string;
  /** log.dirs, in order: the partitions' logs are spread over them (JBOD); dataDir is the first. */
  logDirs: string[];
  autoCreateTopics: boolean;
  deleteTopicEnable: boolean;
  numPartitions: number;
  defaultReplicationFactor: number;
  minInsyncReplicas: number;
  socketRequestMaxBytes: number;
  socketListenBacklogSize: number;
  /** socket.send.buffer.bytes and socket.receive.buffer.bytes: every listener's SO_SNDBUF and SO_RCVBUF, -1 for the OS's. */
  socketSendBufferBytes: number;
  socketReceiveBufferBytes: number;
  messageMaxBytes: number;
  /** fetch.max.bytes: a Fetch response's bytes at most, whatever its max_bytes asks. */
  fetchMaxBytes: number;
  /** max.incremental.fetch.session.cache.slots: fetch sessions held at once (KIP-227, fetch-sessions.ts); 0 for none. */
  fetchSessionCacheSlots: number;
  /** queued.max.requests: requests being handled at once, broker-wide. */
  queuedMaxRequests: number;
  /** queued.max.request.bytes: request bytes held at once, broker-wide; Infinity for -1. */
  queuedMaxRequestBytes: number;
  connectionsMaxIdleMs: number;
  /** quota.window.num and quota.window.size.seconds: what a client quota's rate is measured over (client-quotas.ts). */
  quotaWindowCount: number;
  quotaWindowMs: number;
  /** controller.quota.window.num and .size.seconds: controller_mutation_rate's burst (client-quotas.ts). */
  controllerQuotaWindowCount: number;
  controllerQuotaWindowMs: number;
  /** max.request.partition.size.limit: DescribeTopicPartitions' partitions a response at most. */
  maxRequestPartitionSizeLimit: number;
  /** replication.quota.window.num and replication.quota.window.size.seconds: the same for replication quotas (replication-quotas.ts). */
  replicationQuotaWindowCount: number;
  replicationQuotaWindowMs: number;
  /** max.connections; Infinity for Kafka's default (Int.MAX). */
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** max.connections.per.ip.overrides: host or address -> limit. */
  maxConnectionsPerIpOverrides: Map<string, number>;
  logLevel: LogLevel;
  /** sluice.request.log.threshold.ms: requests slower than this are logged (long-poll waits excluded). */
  requestLogThresholdMs: number;
  /** Replication and membership, when sluice.etcd.endpoints names a cluster; null for one broker. */
  cluster: ClusterSettings | null;
  /** Authentication on the broker's own listener when it is SASL_PLAINTEXT or SASL_SSL (sasl/sasl-session.ts); null on others. */
  sasl: SaslSettings | null;
  /** Delegation tokens (sasl/delegation-tokens.ts): served when a secret key is set. */
  delegationTokens: DelegationTokenSettings;
  /** TLS on the broker's own listener when it is SSL or SASL_SSL (tls-listener.ts); null on others. */
  tls: TlsListenerSettings | null;
  /** authorizer.class.name, super.users and allow.everyone.if.no.acl.found (authorizer/authorizer.ts). */
  authorizer: AuthorizerSettings;
  /** Everything, for the engine (log.*) and for DescribeConfigs on the broker resource. */
  all: Record<string, string>;
}

/** A broker of a replicated cluster: where its metadata lives and Kafka's replication settings. */
export interface ClusterSettings {
  etcdEndpoints: string[];
  /** sluice.etcd.root: the key prefix of this cluster in etcd (several clusters may share one etcd). */
  etcdRoot: string;
  /** broker.session.timeout.ms: the broker's etcd lease; a broker silent for this long is dead. */
  sessionTimeoutMs: number;
  replicaLagTimeMaxMs: number;
  replicaFetchWaitMaxMs: number;
  replicaFetchMinBytes: number;
  replicaFetchMaxBytes: number;
  replicaFetchResponseMaxBytes: number;
  replicaFetchBackoffMs: number;
  replicaSocketTimeoutMs: number;
  /** replica.socket.receive.buffer.bytes: a follower's fetch connections' SO_RCVBUF, -1 for the OS's. */
  replicaSocketReceiveBufferBytes: number;
  offsetsTopicReplicationFactor: number;
  offsetsCommitTimeoutMs: number;
  uncleanLeaderElectionEnable: boolean;
  autoLeaderRebalanceEnable: boolean;
  leaderImbalanceCheckIntervalMs: number;
  leaderImbalancePerBrokerPercentage: number;
  controlledShutdownEnable: boolean;
  /** How long a SIGTERM waits for the controller to move leaderships away before stopping anyway. */
  controlledShutdownTimeoutMs: number;
  /**
   * replica.selector.class: 'rack-aware' (Kafka's RackAwareReplicaSelector) sends consumers with
   * a client.rack to an in-sync replica in their rack (KIP-392); 'leader' keeps them on the leader.
   */
  replicaSelector: 'leader' | 'rack-aware';
}

/** Replication defaults (Kafka's ReplicationConfigs and KafkaConfig): they act only in a cluster. */
export const CLUSTER_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  'sluice.etcd.root': '/sluice',
  'broker.session.timeout.ms': '9000',
  'replica.lag.time.max.ms': '30000',
  'replica.fetch.wait.max.ms': '500',
  'replica.fetch.min.bytes': '1',
  'replica.fetch.max.bytes': '1048576',
  'replica.fetch.response.max.bytes': '10485760',
  'replica.fetch.backoff.ms': '1000',
  'replica.socket.timeout.ms': '30000',
  // Kafka's is 65536; the OS's autotuned buffer, as for socket.receive.buffer.bytes. A value given
  // is set once the connection is up: it bounds the window as Kafka's does, though the window
  // scale of the handshake was chosen for the OS's largest buffer.
  'replica.socket.receive.buffer.bytes': '-1',
  'replica.high.watermark.checkpoint.interval.ms': '5000',
  'offsets.topic.replication.factor': '3',
  // How long an offset commit waits for __consumer_offsets' ISR (acks=all) before REQUEST_TIMED_OUT.
  'offsets.commit.timeout.ms': '5000',
  'unclean.leader.election.enable': 'false',
  'auto.leader.rebalance.enable': 'true',
  'leader.imbalance.check.interval.seconds': '300',
  'leader.imbalance.per.broker.percentage': '10',
  'controlled.shutdown.enable': 'true',
  'controlled.shutdown.timeout.ms': '30000',
});

/** Kafka's Int.MAX_VALUE, the "no limit" of max.connections and max.connections.per.ip. */
const INT_MAX = 2_147_483_647;

export const BROKER_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  'node.id': '1',
  listeners: 'PLAINTEXT://:9092',
  'log.dirs': './data',
  'auto.create.topics.enable': 'true',
  'delete.topic.enable': 'true',
  'num.partitions': '1',
  'default.replication.factor': '1',
  'min.insync.replicas': '1',
  'socket.request.max.bytes': '104857600',
  'socket.listen.backlog.size': '50',
  // SO_SNDBUF and SO_RCVBUF of the broker's sockets. -1 keeps the OS's, which Linux autotunes (up
  // to 4 MiB on loopback): Kafka's default is 102400, a fixed buffer that cost the sendfile fetch
  // ~15% here (fetch_vs_sendfile_ceiling 0.80/0.87/0.99 against 1.13/1.03/0.91 with -1, three quick
  // runs each of bench/fetch.bench.ts, 2026-12-07). A value given, as Kafka's sample
  // server.properties gives 102400, takes effect.
  'socket.send.buffer.bytes': '-1',
  'socket.receive.buffer.bytes': '-1',
  'message.max.bytes': '1048588',
  // The most a Fetch response carries, whatever the request asks (Kafka's 55 MiB).
  'fetch.max.bytes': '57671680',
  'max.incremental.fetch.session.cache.slots': '1000',
  'queued.max.requests': '500',
  'queued.max.request.bytes': String(QUEUED_REQUEST_BYTES_DEFAULT),
  'connections.max.idle.ms': '600000',
  // Client quotas' rate: 11 windows of 1 s (Kafka's defaults).
  'quota.window.num': '11',
  'quota.window.size.seconds': '1',
  // DescribeTopicPartitions' partitions a response at most, whatever the request asks.
  'max.request.partition.size.limit': '2000',
  // controller_mutation_rate's token bucket (client-quotas.ts): its burst is this many seconds' worth.
  'controller.quota.window.num': '11',
  'controller.quota.window.size.seconds': '1',
  'replication.quota.window.num': '11',
  'replication.quota.window.size.seconds': '1',
  'max.connections': String(INT_MAX),
  'max.connections.per.ip': String(INT_MAX),
  'max.connections.per.ip.overrides': '',
  // KIP-612: new connections a second the broker takes before it holds them (connection-quotas.ts).
  'max.connection.creation.rate': String(INT_MAX),
  'log.segment.bytes': '1073741824',
  'log.retention.hours': '168',
  'log.retention.bytes': '-1',
  'log.index.interval.bytes': '4096',
  'log.index.size.max.bytes': '10485760',
  'log.retention.check.interval.ms': '300000',
  'log.flush.offset.checkpoint.interval.ms': '60000',
  'log.flush.start.offset.checkpoint.interval.ms': '60000',
  'producer.id.expiration.ms': '86400000',
  'producer.id.expiration.check.interval.ms': '600000',
  // Delegation tokens (KIP-48, sasl/delegation-tokens.ts): a token lives at most 7 days, each
  // renewal for 1 day, and expired ones are swept every hour. Served once a secret key is set.
  'delegation.token.max.lifetime.ms': '604800000',
  'delegation.token.expiry.time.ms': '86400000',
  'delegation.token.expiry.check.interval.ms': '3600000',
  // The log cleaner's (src/storage/log-cleaner.ts): log.cleaner.enable, threads, dedupe.buffer.size, ...
  ...LOG_CLEANER_BROKER_DEFAULTS,
  'log.level': 'info',
  'sluice.request.log.threshold.ms': '1000',
});

/** Log defaults (log.segment.bytes, compression.type, ...; topic-level names are accepted too):
 *  whether one takes effect is the storage layer's catalog to say, value by value. */
const LOG_CONFIG_NAMES: ReadonlySet<string> = new Set([...BROKER_LOG_CONFIG_NAMES, ...TOPIC_CONFIG_NAMES]);

/** Which listener brokers reach each other on (listeners.ts): in a cluster only. */
const INTER_BROKER_LISTENER_CONFIG_NAMES: ReadonlySet<string> = new Set(['inter.broker.listener.name', 'security.inter.broker.protocol']);

/** Names that take effect: the broker's own, the group coordinator's, and ours (sluice.*, log.level). */
const SUPPORTED: ReadonlySet<string> = new Set([
  ...Object.keys(BROKER_DEFAULTS),
  'broker.id',
  'sluice.etcd.endpoints',
  ...Object.keys(CLUSTER_DEFAULTS),
  'log.dir',
  'advertised.listeners',
  'broker.rack',
  'replica.selector.class',
  // Each listener's protocol, and so which are served (listeners.ts).
  'listener.security.protocol.map',
  ...INTER_BROKER_LISTENER_CONFIG_NAMES,
  'sluice.fetch.zero.copy',
  // The authorizer (authorizer/authorizer.ts): Kafka's ACL rules when authorizer.class.name names Kafka's.
  'authorizer.class.name',
  // Kafka's default builder only (principalBuilder below): another class is refused at startup.
  'principal.builder.class',
  'super.users',
  'allow.everyone.if.no.acl.found',
  // The key that signs delegation tokens; its deprecated name is read when it is unset.
  'delegation.token.secret.key',
  'delegation.token.master.key',
  ...GROUP_CONFIG_NAMES,
  ...TRANSACTION_CONFIG_NAMES,
]);

/**
 * Kafka's PASSWORD-type broker configs: DescribeConfigs never sends their values (null, marked
 * sensitive), as Kafka's does not. A listener's own setting (listener.name.NAME.*) has no type in
 * Kafka's catalog, which also makes it sensitive there (KafkaConfig.maybeSensitive).
 */
const PASSWORD_CONFIG_NAMES: ReadonlySet<string> = new Set([
  'ssl.key.password',
  'ssl.keystore.password',
  'ssl.truststore.password',
  'ssl.keystore.key',
  'ssl.keystore.certificate.chain',
  'ssl.truststore.certificates',
  'sasl.jaas.config',
  'password.encoder.secret',
  'password.encoder.old.secret',
  'delegation.token.master.key',
  'delegation.token.secret.key',
]);

export function isSensitiveConfig(name: string): boolean {
  return (name.startsWith('listener.name.') && listenerConnectionLimitOf(name) === null) || PASSWORD_CONFIG_NAMES.has(name);
}

/**
 * Kafka broker configs sluice accepts without acting on them, by reason. An entry ending in '.'
 * covers every name with that prefix (ssl.keystore.location, ...).
 */
const UNSUPPORTED: ReadonlyArray<readonly [reason: string, names: readonly string[]]> = [
  [
    'sluice authenticates clients by TLS certificate (SSL) or by SASL PLAIN, SCRAM or OAUTHBEARER, on a listener of that protocol',
    ['ssl.', 'sasl.', 'listener.name.', 'security.providers',
      'connections.max.reauth.ms',
      'connection.failed.authentication.delay.ms', 'password.encoder.'],
  ],
  [
    'cluster metadata lives in etcd (sluice.etcd.endpoints), not in ZooKeeper or a KRaft quorum',
    ['zookeeper.', 'process.roles', 'controller.', 'metadata.', 'broker.heartbeat.interval.ms', 'initial.broker.registration.timeout.ms',
      'broker.id.generation.enable', 'reserved.broker.max.id', 'early.start.listeners'],
  ],
  [
    'brokers replicate with one fetcher per source broker',
    ['inter.broker.protocol.version', 'num.replica.fetchers', 'replica.fetch.response.max.bytes.per.partition', 'controlled.shutdown.max.retries', 'controlled.shutdown.retry.backoff.ms'],
  ],
  [
    'replicas move between log directories on the event loop, under replica.alter.log.dirs.io.max.bytes.per.second alone',
    ['num.replica.alter.log.dirs.threads', 'alter.log.dirs.replication.quota.'],
  ],
  [
    'sluice serves every connection and request on one event loop',
    ['num.network.threads', 'num.io.threads', 'background.threads', 'num.recovery.threads.per.data.dir'],
  ],
  ['transactions use the version 1 protocol (KIP-98); KIP-890\'s version 2 is not implemented', ['transaction.version', 'transaction.two.phase.commit.enable']],
  ['__consumer_offsets records are written uncompressed', ['offsets.topic.compression.codec']],
  [
    'of quotas, sluice enforces client byte rates, controller mutation rates, connection creation rates and replication rates only',
    ['quota.', 'client.quota.callback.class', 'producer.quota.', 'consumer.quota.'],
  ],
  ['tiered storage is not implemented', ['remote.log.']],
  ['metrics are exposed as broker.metrics, not through reporters', ['metric.reporters', 'metrics.', 'kafka.metrics.', 'auto.include.jmx.reporter']],
  [
    'not implemented',
    ['create.topic.policy.class.name', 'alter.config.policy.class.name', 'config.providers', 'request.timeout.ms',
      'fetch.purgatory.purge.interval.requests', 'producer.purgatory.purge.interval.requests', 'delete.records.purgatory.purge.interval.requests',
      'offsets.commit.required.acks', 'group.consumer.', 'group.coordinator.',
      'log.dir.failure.timeout.ms', 'cluster.id'],
  ],
  ['share groups (KIP-932) are not implemented', ['share.', 'group.share.']],
];

export interface ConfigReport {
  /** Kafka names accepted but not acted on, with why. */
  unsupported: Array<{ name: string; reason: string }>;
  /** Listeners of `listeners` that are not served (KRaft controller listeners), with why. */
  listenersNotServed: Array<{ listener: string; reason: string }>;
  /** Names that are not Kafka broker configs (nor ours). */
  unknown: string[];
}

function unsupportedReason(name: string): string | undefined {
  for (const [reason, names] of UNSUPPORTED) {
    if (names.some((entry) => (entry.endsWith('.') ? name.startsWith(entry) : name === entry))) return reason;
  }
  return undefined;
}

/** What sluice makes of each given setting (defaults are not reported). */
export function reportBrokerConfig(given: Readonly<BrokerConfigValues>): ConfigReport {
  const report: ConfigReport = { unsupported: [], listenersNotServed: brokerListener(given).notServed, unknown: [] };
  const securityInEffect = new Set([...reportSasl(given, report), ...reportTls(given, report)]);
  const servedNames = everyServed(brokerListener(given)).map(({ name }) => name);
  for (const [name, value] of Object.entries(given)) {
    if (securityInEffect.has(name)) continue;
    const limitedListener = listenerConnectionLimitOf(name)?.listener;
    if (limitedListener !== undefined) {
      if (!servedNames.includes(limitedListener)) report.unsupported.push({ name, reason: `it names no listener sluice serves (${servedNames.join(', ')})` });
      continue;
    }
    const ownSetting = /^listener\.name\.[^.]+\.(.+)$/.exec(name)?.[1];
    if (ownSetting !== undefined && !/^(ssl\.|sasl\.|(plain|scram-sha-256|scram-sha-512|oauthbearer|gssapi)\.|connections\.max\.reauth\.ms$)/.test(ownSetting)) {
      report.unsupported.push({ name, reason: `a listener's own settings are its TLS, SASL and connection limit ones; ${ownSetting} applies broker-wide only` });
      continue;
    }
    if (name === 'group.coordinator.rebalance.protocols') {
      report.unsupported.push(...unsupportedGroupConfigs({ [name]: value }));
      continue;
    }
    if (LOG_CONFIG_NAMES.has(name)) {
      for (const { reason } of unsupportedConfigs({ [name]: value })) report.unsupported.push({ name, reason });
      continue;
    }
    if ((name in CLUSTER_DEFAULTS || TRANSACTION_CLUSTER_CONFIG_NAMES.has(name) || INTER_BROKER_LISTENER_CONFIG_NAMES.has(name)) && !given['sluice.etcd.endpoints']) {
      report.unsupported.push({ name, reason: 'replication settings act only in a cluster, and no sluice.etcd.endpoints was given' });
      continue;
    }
    if (SUPPORTED.has(name)) continue;
    const reason = unsupportedReason(name);
    if (reason !== undefined) report.unsupported.push({ name, reason });
    else report.unknown.push(name);
  }
  return report;
}

/**
 * Reads a Java properties file (server.properties, meta.properties) as Java's Properties.load
 * does, through properties-file: `key=value`, `key: value` or `key value`, `#` and `!` comments,
 * `\` escapes and lines continued by a trailing backslash, as a multi-line sasl.jaas.config is.
 */
export function readPropertiesFile(filePath: string): Record<string, string> {
  return getProperties(fs.readFileSync(filePath, 'utf8'));
}

function integer(values: Record<string, string>, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const text = values[name]!;
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || value < min || value > max) {
    throw new SluiceError('INVALID_CONFIG', `Invalid value ${text} for configuration ${name}: must be an integer in [${min}, ${max}]`);
  }
  return value;
}

function boolean(values: Record<string, string>, name: string): boolean {
  const text = values[name]!;
  if (text !== 'true' && text !== 'false') throw new SluiceError('INVALID_CONFIG', `Invalid value ${text} for configuration ${name}: must be true or false`);
  return text === 'true';
}

/** Kafka's "no limit" value (Int.MAX for connection counts) as Infinity. */
function limitOrInfinity(value: number, unlimited: number): number {
  return value === unlimited ? Infinity : value;
}

/** `host:count,host:count` (Kafka's max.connections.per.ip.overrides). */
export function parseConnectionOverrides(raw: string): Map<string, number> {
  const overrides = new Map<string, number>();
  for (const item of raw.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const colon = item.lastIndexOf(':');
    const count = Number(item.slice(colon + 1));
    if (colon <= 0 || !/^\d+$/.test(item.slice(colon + 1)) || count > INT_MAX) {
      throw new SluiceError('INVALID_CONFIG', `Invalid value ${raw} for configuration max.connections.per.ip.overrides: expected host:count[,host:count...]`);
    }
    overrides.set(item.slice(0, colon).replace(/^\[|\]$/g, ''), count);
  }
  return overrides;
}

/** The listener a broker given these values serves (defaults filled in), and those it does not. */
export function brokerListener(given: Readonly<BrokerConfigValues>): ServedListener {
  const value = (name: string): string | undefined => (given[name] === undefined ? BROKER_DEFAULTS[name] : String(given[name]));
  return servedListener({
    listeners: value('listeners')!,
    'listener.security.protocol.map': value('listener.security.protocol.map'),
    'controller.listener.names': value('controller.listener.names'),
    'inter.broker.listener.name': value('inter.broker.listener.name'),
    'security.inter.broker.protocol': value('security.inter.broker.protocol'),
  });
}

/**
 * A listener's own connection limits: listener.name.NAME.max.connections (KIP-402), its
 * connections at most, and listener.name.NAME.max.connection.creation.rate (KIP-612).
 */
const LISTENER_CONNECTION_LIMIT = /^listener\.name\.([^.]+)\.(max\.connections|max\.connection\.creation\.rate)$/;

/** The listener (upper case, as listeners are) and the limit a listener.name.NAME.max.connection* names, or null for another name. */
export function listenerConnectionLimitOf(name: string): { listener: string; limit: 'max.connections' | 'max.connection.creation.rate' } | null {
  const match = LISTENER_CONNECTION_LIMIT.exec(name);
  return match === null ? null : { listener: match[1]!.toUpperCase(), limit: match[2] as 'max.connections' | 'max.connection.creation.rate' };
}

/**
 * max.connections, max.connection.creation.rate, each listener's own (listener.name.NAME.),
 * max.connections.per.ip and its overrides from a broker's values (defaults filled in), Kafka's
 * Int.MAX as Infinity: at start, and when they change as dynamic broker configs.
 */
export function connectionLimits(all: Readonly<Record<string, string>>): {
  maxConnections: number;
  listenerMaxConnections: Map<string, number>;
  maxConnectionsPerIp: number;
  maxConnectionsPerIpOverrides: Map<string, number>;
  maxConnectionCreationRate: number;
  listenerMaxConnectionCreationRate: Map<string, number>;
} {
  const maxConnectionsPerIp = integer(all, 'max.connections.per.ip', 0, INT_MAX);
  const maxConnectionsPerIpOverrides = parseConnectionOverrides(all['max.connections.per.ip.overrides']!);
  if (maxConnectionsPerIp === 0 && maxConnectionsPerIpOverrides.size === 0) {
    // Kafka's rule: a per-IP limit of 0 refuses everyone unless some hosts are let in by override.
    throw new SluiceError('INVALID_CONFIG', 'max.connections.per.ip is 0 without max.connections.per.ip.overrides: no client could connect');
  }
  const listenerMaxConnections = new Map<string, number>();
  const listenerMaxConnectionCreationRate = new Map<string, number>();
  for (const name of Object.keys(all)) {
    const own = listenerConnectionLimitOf(name);
    if (own === null) continue;
    const limits = own.limit === 'max.connections' ? listenerMaxConnections : listenerMaxConnectionCreationRate;
    limits.set(own.listener, limitOrInfinity(integer(all, name, 0, INT_MAX), INT_MAX));
  }
  return {
    maxConnections: limitOrInfinity(integer(all, 'max.connections', 0, INT_MAX), INT_MAX),
    listenerMaxConnections,
    maxConnectionsPerIp: limitOrInfinity(maxConnectionsPerIp, INT_MAX),
    maxConnectionsPerIpOverrides,
    maxConnectionCreationRate: limitOrInfinity(integer(all, 'max.connection.creation.rate', 0, INT_MAX), INT_MAX),
    listenerMaxConnectionCreationRate,
  };
}

/** The broker's own listener, and then the others served, as bound, advertised and secured. */
export function servedListeners(settings: BrokerSettings): ListenerAddress[] {
  const { listenerName: name, host, port, advertisedHost, advertisedPort, protocol, sasl, tls } = settings;
  return [{ name, host, port, advertisedHost, advertisedPort, protocol, sasl, tls }, ...settings.extraListeners];
}

/** The listener brokers reach each other on (inter.broker.listener.name): its TLS and SASL are the brokers' to each other. */
export function interBrokerListener(settings: BrokerSettings): ListenerAddress {
  return servedListeners(settings).find(({ name }) => name === settings.interBrokerListenerName)!;
}

/** Defaults, then the given values (later sources win). */
export function resolveBrokerSettings(...sources: BrokerConfigValues[]): BrokerSettings {
  const all: Record<string, string> = { ...BROKER_DEFAULTS };
  for (const source of sources) for (const [key, value] of Object.entries(source)) all[key] = String(value);
  if (all['broker.id'] !== undefined && sources.some((s) => 'broker.id' in s && !('node.id' in s))) all['node.id'] = all['broker.id']!;
  if (all['log.dir'] !== undefined && !sources.some((s) => 'log.dirs' in s)) all['log.dirs'] = all['log.dir']!;
  const { served: listener, protocol, extra, interBroker } = brokerListener(all);
  const advertised = all['advertised.listeners'] ? advertisedListener(all['advertised.listeners'], listener) : undefined;
  const advertisedEntries = all['advertised.listeners'] ? parseListeners(all['advertised.listeners'], 'advertised.listeners') : [];
  const listenerNames = new Set(parseListeners(all['listeners']!).map(({ name }) => name));
  const stray = advertisedEntries.find(({ name }) => !listenerNames.has(name));
  if (stray !== undefined) {
    throw new SluiceError('INVALID_CONFIG', `advertised.listeners listener names must be equal to or a subset of the ones defined in listeners: ${stray.name} is not in '${all['listeners']}'`);
  }
  const extraListeners = extra.map((served): ListenerAddress => {
    const entry = advertisedEntries.find(({ name }) => name === served.name);
    return {
      ...served,
      advertisedHost: entry?.host || served.host || 'localhost',
      advertisedPort: entry?.port || undefined,
      ...listenerSecurity(all, served, interBroker),
    };
  });
  const logDirs = all['log.dirs']!.split(',').map((dir) => dir.trim());
  if (logDirs.some((dir) => dir === '')) throw new SluiceError('INVALID_CONFIG', `log.dirs has an empty entry: '${all['log.dirs']}'`);
  // Read on a single broker too, where it has no replicas to choose from: a typo is still an error.
  const selector = replicaSelector(all['replica.selector.class']);
  checkPrincipalBuilder(all);
  const { maxConnections, maxConnectionsPerIp, maxConnectionsPerIpOverrides } = connectionLimits(all);
  return {
    nodeId: integer(all, 'node.id', 0),
    listenerName: listener.name,
    protocol,
    interBrokerListenerName: interBroker.name,
    host: listener.host,
    port: listener.port,
    advertisedHost: advertised?.host || listener.host || 'localhost',
    // Port 0 advertises the bound port, as Kafka corrects ephemeral ports in advertised.listeners.
    advertisedPort: advertised?.port || undefined,
    extraListeners,
    rack: all['broker.rack']?.trim() || null,
    dataDir: logDirs[0]!,
    logDirs,
    autoCreateTopics: boolean(all, 'auto.create.topics.enable'),
    deleteTopicEnable: boolean(all, 'delete.topic.enable'),
    numPartitions: integer(all, 'num.partitions', 1),
    defaultReplicationFactor: integer(all, 'default.replication.factor', 1),
    minInsyncReplicas: integer(all, 'min.insync.replicas', 1),
    socketRequestMaxBytes: integer(all, 'socket.request.max.bytes', 1, INT_MAX),
    socketListenBacklogSize: integer(all, 'socket.listen.backlog.size', 1, INT_MAX),
    socketSendBufferBytes: integer(all, 'socket.send.buffer.bytes', -1, INT_MAX),
    socketReceiveBufferBytes: integer(all, 'socket.receive.buffer.bytes', -1, INT_MAX),
    messageMaxBytes: integer(all, 'message.max.bytes', 0),
    fetchMaxBytes: integer(all, 'fetch.max.bytes', 1024, INT_MAX),
    fetchSessionCacheSlots: integer(all, 'max.incremental.fetch.session.cache.slots', 0, INT_MAX),
    queuedMaxRequests: integer(all, 'queued.max.requests', 1, INT_MAX),
    // As Kafka's SocketServer: a memory pool only for a positive value; 0 and -1 mean unbounded.
    queuedMaxRequestBytes: Math.max(integer(all, 'queued.max.request.bytes', -1), 0) || Infinity,
    connectionsMaxIdleMs: integer(all, 'connections.max.idle.ms', 0),
    quotaWindowCount: integer(all, 'quota.window.num', 1),
    quotaWindowMs: integer(all, 'quota.window.size.seconds', 1) * 1000,
    maxRequestPartitionSizeLimit: integer(all, 'max.request.partition.size.limit', 1, INT_MAX),
    controllerQuotaWindowCount: integer(all, 'controller.quota.window.num', 1),
    controllerQuotaWindowMs: integer(all, 'controller.quota.window.size.seconds', 1) * 1000,
    replicationQuotaWindowCount: integer(all, 'replication.quota.window.num', 1),
    replicationQuotaWindowMs: integer(all, 'replication.quota.window.size.seconds', 1) * 1000,
    maxConnections,
    maxConnectionsPerIp,
    maxConnectionsPerIpOverrides,
    logLevel: parseLogLevel(all['log.level']!),
    requestLogThresholdMs: integer(all, 'sluice.request.log.threshold.ms', 0),
    cluster: clusterSettings(all, selector),
    ...listenerSecurity(all, { ...listener, protocol }, interBroker),
    authorizer: authorizerSettings(all),
    delegationTokens: delegationTokenSettings(all),
    all,
  };
}

/** A listener's SASL and TLS settings (null where its protocol has none); `interBroker` is the listener brokers reach each other on. */
function listenerSecurity(all: Record<string, string>, listener: ProtocolListener, interBroker: Listener): { sasl: SaslSettings | null; tls: TlsListenerSettings | null } {
  const { protocol } = listener;
  return {
    sasl: isSasl(protocol) ? saslSettings(all, listener, protocol, interBroker.name === listener.name) : null,
    tls: isTls(protocol) ? tlsListenerSettings(all, listener, protocol) : null,
  };
}

/** Kafka's principal builder, the one sluice's principals follow (User:<SASL user or certificate name>). */
const DEFAULT_PRINCIPAL_BUILDER = 'org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder';

/**
 * principal.builder.class: Kafka's default, or refused. A custom builder would name principals
 * differently, and ACLs written for its names would silently match other principals here, so it
 * is INVALID_CONFIG, as Kafka refuses a class it cannot load.
 */
function checkPrincipalBuilder(all: Record<string, string>): void {
  const className = (all['principal.builder.class'] ?? '').trim();
  if (className !== '' && className !== DEFAULT_PRINCIPAL_BUILDER) {
    throw new SluiceError('INVALID_CONFIG', `Invalid value ${className} for configuration principal.builder.class: sluice builds principals as ${DEFAULT_PRINCIPAL_BUILDER} does, and cannot load another class`);
  }
}

/**
 * The authorizer's settings. authorizer.class.name may name Kafka's ACL authorizer (either class:
 * sluice applies the same rules) or nothing; another class cannot be loaded here, so it is refused,
 * as Kafka refuses a class it cannot find.
 */
function authorizerSettings(all: Record<string, string>): AuthorizerSettings {
  const className = (all['authorizer.class.name'] ?? '').trim();
  if (className !== '' && !(KAFKA_AUTHORIZERS as readonly string[]).includes(className)) {
    throw new SluiceError('INVALID_CONFIG', `Invalid value ${className} for configuration authorizer.class.name: sluice serves ${KAFKA_AUTHORIZERS.join(' and ')} (the same ACL rules)`);
  }
  const allowEveryone = (all['allow.everyone.if.no.acl.found'] ?? 'false').trim();
  if (allowEveryone !== 'true' && allowEveryone !== 'false') {
    throw new SluiceError('INVALID_CONFIG', `Invalid value ${allowEveryone} for configuration allow.everyone.if.no.acl.found: must be true or false`);
  }
  return {
    enabled: className !== '',
    superUsers: (all['super.users'] ?? '').split(';').map((user) => user.trim()).filter((user) => user !== ''),
    allowEveryoneIfNoAclFound: allowEveryone === 'true',
  };
}

/** SASL mechanisms sluice serves. */
const SERVED_SASL_MECHANISMS: ReadonlySet<string> = new Set(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']);

export interface DelegationTokenSettings {
  /** delegation.token.secret.key (else the deprecated delegation.token.master.key): signs each token's HMAC; null turns tokens off. */
  secretKey: string | null;
  /** delegation.token.max.lifetime.ms: the longest a token lives, whatever its renewals. */
  maxLifetimeMs: number;
  /** delegation.token.expiry.time.ms: how long a token lasts from its creation or renewal. */
  expiryTimeMs: number;
  /** delegation.token.expiry.check.interval.ms: how often expired tokens are removed. */
  expiryCheckIntervalMs: number;
}

function delegationTokenSettings(all: Readonly<Record<string, string>>): DelegationTokenSettings {
  const secretKey = all['delegation.token.secret.key'] || all['delegation.token.master.key'] || null;
  return {
    secretKey,
    maxLifetimeMs: integer(all, 'delegation.token.max.lifetime.ms', 1),
    expiryTimeMs: integer(all, 'delegation.token.expiry.time.ms', 1),
    // A timer's period: Node's setInterval takes at most INT_MAX ms.
    expiryCheckIntervalMs: integer(all, 'delegation.token.expiry.check.interval.ms', 1, INT_MAX),
  };
}

/** The broker settings of OAUTHBEARER's secured validator (KIP-768), with Kafka's defaults. */
const OAUTHBEARER_DEFAULTS: Readonly<Record<string, string>> = {
  'sasl.oauthbearer.jwks.endpoint.refresh.ms': '3600000',
  'sasl.oauthbearer.sub.claim.name': 'sub',
  'sasl.oauthbearer.scope.claim.name': 'scope',
  'sasl.oauthbearer.clock.skew.seconds': '30',
};
const OAUTHBEARER_CONFIG_NAMES: readonly string[] = [...Object.keys(OAUTHBEARER_DEFAULTS), 'sasl.oauthbearer.jwks.endpoint.url', 'sasl.oauthbearer.expected.audience', 'sasl.oauthbearer.expected.issuer'];
/**
 * Kafka's defaults of the SASL settings: GSSAPI (Kerberos), which sluice does not serve, so a SASL
 * listener must name PLAIN or SCRAM. Not among BROKER_DEFAULTS: on a PLAINTEXT listener they take
 * no effect, and a given one is reported so.
 */
const SASL_DEFAULTS: Readonly<Record<string, string>> = {
  'sasl.enabled.mechanisms': 'GSSAPI',
  'sasl.mechanism.inter.broker.protocol': 'GSSAPI',
  'connection.failed.authentication.delay.ms': '100',
  // KIP-368: 0, Kafka's default, lets a login last as long as its connection.
  'connections.max.reauth.ms': '0',
};

function enabledSaslMechanisms(all: Readonly<Record<string, string>>, listener: Listener): { name: string; mechanisms: string[] } {
  const name = listenerSettingName(all, listener, 'sasl.enabled.mechanisms');
  return { name, mechanisms: (all[name] ?? '').split(',').map((mechanism) => mechanism.trim().toUpperCase()).filter((mechanism) => mechanism !== '') };
}

/**
 * The name a login's connections.max.reauth.ms is read from, as Kafka's SaslChannelBuilder reads
 * it: the listener's and mechanism's own (listener.name.NAME.MECHANISM.), else the listener's,
 * else the broker's.
 */
function reauthConfigName(all: Readonly<Record<string, string>>, listener: Listener, mechanism: string): string {
  const own = `listener.name.${listener.name.toLowerCase()}.${mechanism.toLowerCase()}.connections.max.reauth.ms`;
  return all[own] !== undefined ? own : listenerSettingName(all, listener, 'connections.max.reauth.ms');
}

/** The name Kafka's broker reads a mechanism's JAAS line from: listener.name.NAME.MECHANISM.sasl.jaas.config. */
function jaasConfigName(listener: Listener, mechanism: string): string {
  return `listener.name.${listener.name.toLowerCase()}.${mechanism.toLowerCase()}.sasl.jaas.config`;
}

/**
 * A SASL_PLAINTEXT listener's settings: its enabled mechanisms that sluice serves (PLAIN, SCRAM),
 * PLAIN's users from its JAAS line (SCRAM's users are kept by the broker: AlterUserScramCredentials),
 * and in a cluster whose brokers reach each other on it (`interBroker`) the brokers' own login.
 */
function saslSettings(given: Readonly<Record<string, string>>, listener: Listener, protocol: ServedProtocol, interBroker: boolean): SaslSettings {
  const all = { ...SASL_DEFAULTS, ...given };
  const { name, mechanisms } = enabledSaslMechanisms(all, listener);
  const served = mechanisms.filter((mechanism) => SERVED_SASL_MECHANISMS.has(mechanism));
  if (served.length === 0) {
    throw new SluiceError('INVALID_CONFIG', `Listener ${listener.name} is ${protocol}, and ${name} '${all[name]}' names no mechanism sluice serves: it serves ${[...SERVED_SASL_MECHANISMS].join(', ')}`);
  }
  let users = new Map<string, string>();
  if (served.includes('PLAIN')) {
    const jaasName = jaasConfigName(listener, 'PLAIN');
    const jaas = all[jaasName];
    if (jaas === undefined) {
      throw new SluiceError('INVALID_CONFIG', `Listener ${listener.name} serves SASL/PLAIN, and ${jaasName} is not set: it names the users, e.g. org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";`);
    }
    users = plainUsers(parseJaasConfig(jaas, jaasName), jaasName);
  }
  const oauthBearer = served.includes('OAUTHBEARER') ? oauthBearerValidator(all, listener) : null;
  return {
    oauthBearer,
    mechanisms: served,
    plainUsers: users,
    failedAuthenticationDelayMs: integer(all, 'connection.failed.authentication.delay.ms', 0),
    maxReauthMs: Object.fromEntries(served.map((mechanism) => {
      const name = reauthConfigName(all, listener, mechanism);
      return [mechanism, integer(all, name, 0)];
    })),
    interBroker: all['sluice.etcd.endpoints'] && interBroker ? interBrokerLogin(all, listener, protocol, served) : undefined,
  };
}

/** The name of the class that validates a listener's OAUTHBEARER tokens (Kafka's unsecured one when unset). */
function oauthBearerHandlerName(listener: Listener): string {
  return `listener.name.${listener.name.toLowerCase()}.oauthbearer.sasl.server.callback.handler.class`;
}

/**
 * OAUTHBEARER's validator (sasl/oauthbearer.ts): Kafka's unsecured one, configured by the
 * listener's OAuthBearerLoginModule JAAS line, unless the listener names Kafka's secured
 * validator, which checks signatures against sasl.oauthbearer.jwks.endpoint.url. Another class
 * cannot be loaded here: INVALID_CONFIG, as Kafka refuses a class it cannot find.
 */
function oauthBearerValidator(all: Readonly<Record<string, string>>, listener: Listener): OAuthBearerValidator {
  const handlerName = oauthBearerHandlerName(listener);
  const handler = all[handlerName]?.trim();
  if (handler !== undefined && handler !== '') {
    if (!OAUTHBEARER_VALIDATOR_CLASSES.includes(handler)) throw new SluiceError('INVALID_CONFIG', `Invalid value ${handler} for configuration ${handlerName}: sluice validates tokens as ${OAUTHBEARER_VALIDATOR_CLASSES[0]} does, or unsecured tokens when it is unset`);
    const settings = { ...OAUTHBEARER_DEFAULTS, ...all };
    const url = settings['sasl.oauthbearer.jwks.endpoint.url']?.trim();
    if (url === undefined || url === '' || !/^(https?|file):/.test(url)) throw new SluiceError('INVALID_CONFIG', `${handlerName} checks tokens against the keys at sasl.oauthbearer.jwks.endpoint.url, which must be an https, http or file URL (it is '${url ?? ''}')`);
    const list = (name: string) => (settings[name] ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
    return new JwksValidator({
      url,
      refreshMs: integer(settings, 'sasl.oauthbearer.jwks.endpoint.refresh.ms', 1),
      audience: list('sasl.oauthbearer.expected.audience'),
      issuer: settings['sasl.oauthbearer.expected.issuer']?.trim() || null,
      subClaim: settings['sasl.oauthbearer.sub.claim.name']!,
      scopeClaim: settings['sasl.oauthbearer.scope.claim.name']!,
      clockSkewMs: integer(settings, 'sasl.oauthbearer.clock.skew.seconds', 0) * 1000,
    });
  }
  const jaasName = jaasConfigName(listener, 'OAUTHBEARER');
  const jaas = all[jaasName];
  if (jaas === undefined) throw new SluiceError('INVALID_CONFIG', `Listener ${listener.name} serves SASL/OAUTHBEARER, and ${jaasName} is not set, e.g. ${OAUTHBEARER_LOGIN_MODULE} required;`);
  const { loginModule, options } = parseJaasConfig(jaas, jaasName);
  if (loginModule !== OAUTHBEARER_LOGIN_MODULE) throw new SluiceError('INVALID_CONFIG', `Invalid ${jaasName}: OAUTHBEARER takes ${OAUTHBEARER_LOGIN_MODULE}, not ${loginModule}`);
  return new UnsecuredValidator(options, jaasName);
}

/**
 * A cluster broker's login to the others, over the one listener they all serve: Kafka's
 * sasl.mechanism.inter.broker.protocol (default GSSAPI, so a SASL cluster names PLAIN, SCRAM or
 * OAUTHBEARER) with that mechanism's JAAS line: its username and password options, or for
 * OAUTHBEARER unsecured tokens, or an identity provider's when the listener's login callback
 * handler is Kafka's OAuthBearerLoginCallbackHandler (client/oauth-login.ts). A SCRAM login's user
 * needs a credential (AlterUserScramCredentials) before the brokers can replicate, as in Kafka.
 */
function interBrokerLogin(all: Readonly<Record<string, string>>, listener: Listener, protocol: ServedProtocol, served: string[]): SaslCredentials {
  const mechanism = all['sasl.mechanism.inter.broker.protocol']!.toUpperCase();
  if (!served.includes(mechanism)) {
    throw new SluiceError('INVALID_CONFIG', `Listener ${listener.name} is ${protocol} in a cluster: brokers log in to each other with sasl.mechanism.inter.broker.protocol, which must be an enabled mechanism sluice serves (${served.join(', ')}; it is ${mechanism})`);
  }
  const login = oauthLoginConfigs(all, listener);
  const fromProvider = mechanism === 'OAUTHBEARER' && (login.get('sasl.login.callback.handler.class') ?? '').trim() !== '';
  if (mechanism === 'OAUTHBEARER' && all[oauthBearerHandlerName(listener)] && !fromProvider) {
    throw new SluiceError(
      'INVALID_CONFIG',
      `Brokers log in to each other over OAUTHBEARER with unsecured tokens (unsecuredLoginStringClaim_sub), which ${oauthBearerHandlerName(listener)} refuses: set ${login.prefix}sasl.login.callback.handler.class to ${OAUTHBEARER_LOGIN_HANDLER_CLASSES[0]} with sasl.oauthbearer.token.endpoint.url, or name PLAIN or SCRAM in sasl.mechanism.inter.broker.protocol`,
    );
  }
  const jaasName = jaasConfigName(listener, mechanism);
  const jaas = all[jaasName];
  if (jaas === undefined) throw new SluiceError('INVALID_CONFIG', `${jaasName} is not set: in a cluster it holds the login brokers use with each other (username="..." and password="...", or an OAuthBearerLoginModule's options)`);
  return jaasLogin(jaas, jaasName, mechanism as SaslMechanism, login.get, login.where);
}

/**
 * The broker's own OAUTHBEARER login configs (client/oauth-login.ts) on `listener`: each by its
 * listener.name.NAME.oauthbearer. name, else by its plain name, as Kafka's channel builder merges them.
 */
function oauthLoginConfigs(all: Readonly<Record<string, string>>, listener: Listener): { prefix: string; names: string[]; get: (name: string) => string | undefined; where: (name: string) => string } {
  const prefix = `listener.name.${listener.name.toLowerCase()}.oauthbearer.`;
  return {
    prefix,
    names: OAUTHBEARER_LOGIN_CONFIG_NAMES.flatMap((name) => [name, prefix + name]),
    get: (name) => all[prefix + name] ?? all[name],
    where: (name) => (all[prefix + name] !== undefined ? prefix + name : name),
  };
}

/**
 * The SASL settings given that take effect on the served SASL listeners (none on PLAINTEXT and SSL
 * ones), and what of them is accepted but not served.
 */
function reportSasl(given: Readonly<BrokerConfigValues>, report: ConfigReport): Set<string> {
  const all: Record<string, string> = { ...BROKER_DEFAULTS, ...SASL_DEFAULTS };
  for (const [key, value] of Object.entries(given)) all[key] = String(value);
  const inEffect = new Set<string>();
  const { interBroker } = brokerListener(all);
  for (const listener of securedListeners(all)) {
    if (isSasl(listener.protocol)) for (const name of reportListenerSasl(given, all, listener, interBroker, report)) inEffect.add(name);
  }
  return inEffect;
}

/** reportSasl for one SASL listener; `interBroker` is the listener brokers reach each other on. */
function reportListenerSasl(given: Readonly<BrokerConfigValues>, all: Readonly<Record<string, string>>, listener: ProtocolListener, interBroker: Listener, report: ConfigReport): Set<string> {
  const { name, mechanisms } = enabledSaslMechanisms(all, listener);
  const peersLogIn = Boolean(all['sluice.etcd.endpoints']) && interBroker.name === listener.name;
  const notServed = mechanisms.filter((mechanism) => !SERVED_SASL_MECHANISMS.has(mechanism));
  if (notServed.length > 0) reportUnsupported(report, { name, reason: `SASL mechanism${notServed.length > 1 ? 's' : ''} ${notServed.join(', ')} not implemented: sluice serves ${[...SERVED_SASL_MECHANISMS].join(', ')}` });
  const prefix = `listener.name.${listener.name.toLowerCase()}.`;
  const inEffect = new Set([name, `${prefix}sasl.enabled.mechanisms`, 'sasl.enabled.mechanisms', 'connection.failed.authentication.delay.ms', 'connections.max.reauth.ms']);
  inEffect.add(`${prefix}connections.max.reauth.ms`);
  for (const mechanism of SERVED_SASL_MECHANISMS) {
    inEffect.add(jaasConfigName(listener, mechanism));
    if (mechanisms.includes(mechanism)) inEffect.add(`${prefix}${mechanism.toLowerCase()}.connections.max.reauth.ms`);
  }
  if (mechanisms.includes('OAUTHBEARER')) {
    inEffect.add(oauthBearerHandlerName(listener));
    if (all[oauthBearerHandlerName(listener)]) for (const name of OAUTHBEARER_CONFIG_NAMES) inEffect.add(name);
  }
  if (peersLogIn) inEffect.add('sasl.mechanism.inter.broker.protocol');
  // A broker's own OAUTHBEARER login through an identity provider (interBrokerLogin): in a cluster
  // whose brokers log in to each other over OAUTHBEARER with Kafka's login handler, and only there.
  const login = oauthLoginConfigs(all, listener);
  const interBrokerMechanism = all['sasl.mechanism.inter.broker.protocol']!.toUpperCase();
  const oauthLoginUnused = (): string | null => {
    if (!all['sluice.etcd.endpoints']) return 'a broker logs in only to the other brokers of a cluster (sluice.etcd.endpoints)';
    if (!peersLogIn) return `brokers reach each other on listener ${interBroker.name} (inter.broker.listener.name), without SASL`;
    if (interBrokerMechanism !== 'OAUTHBEARER') return `brokers log in to each other with ${interBrokerMechanism} (sasl.mechanism.inter.broker.protocol)`;
    if (login.get('sasl.login.callback.handler.class')) return null;
    return `no ${login.prefix}sasl.login.callback.handler.class names ${OAUTHBEARER_LOGIN_HANDLER_CLASSES[0]}, so brokers log in to each other with unsecured tokens`;
  };
  const unused = oauthLoginUnused();
  const unusedByGrant = unused === null ? new Map(unusedLoginConfigs(login.get).map(({ name, reason }) => [login.where(name), reason])) : new Map<string, string>();
  for (const name of login.names) {
    if (given[name] === undefined || inEffect.has(name)) continue;
    inEffect.add(name);
    const reason = unused ?? unusedByGrant.get(name);
    if (reason !== undefined) reportUnsupported(report, { name, reason });
  }
  return inEffect;
}

/** Adds an accepted-but-not-served setting once, though several listeners may read it. */
function reportUnsupported(report: ConfigReport, entry: { name: string; reason: string }): void {
  if (!report.unsupported.some(({ name }) => name === entry.name)) report.unsupported.push(entry);
}

/** Every served SSL and SASL_SSL listener's TLS settings from `all` (every layer merged), by listener name. */
export function servedTlsSettings(all: Readonly<Record<string, string>>): Map<string, TlsListenerSettings> {
  const settings = new Map<string, TlsListenerSettings>();
  for (const listener of securedListeners(all)) {
    if (isTls(listener.protocol)) settings.set(listener.name, tlsListenerSettings(all, listener, listener.protocol));
  }
  return settings;
}

/** The served listeners other than PLAINTEXT ones, the broker's own first. */
function securedListeners(given: Readonly<BrokerConfigValues>): ProtocolListener[] {
  return everyServed(brokerListener(given)).filter((listener) => listener.protocol !== 'PLAINTEXT');
}

/**
 * The ssl.* settings given that take effect on the served SSL and SASL_SSL listeners (none on
 * plaintext ones), and those of Java's JSSE, which are accepted but have no counterpart in Node's TLS.
 */
function reportTls(given: Readonly<BrokerConfigValues>, report: ConfigReport): Set<string> {
  const inEffect = new Set<string>();
  const tlsListeners = securedListeners(given).filter(({ protocol }) => isTls(protocol));
  const ownClientAuth = (listener: string) => `listener.name.${listener.toLowerCase()}.ssl.client.auth`;
  // On SASL_SSL, ssl.client.auth counts only as the listener's own setting (tls-listener.ts): the
  // broker's is in effect only where an SSL listener has none of its own.
  const saslSsl = tlsListeners.find(({ protocol }) => protocol === 'SASL_SSL');
  const clientAuthRead = tlsListeners.some(({ name, protocol }) => protocol === 'SSL' && given[ownClientAuth(name)] === undefined);
  if (given['ssl.client.auth'] !== undefined && saslSsl !== undefined && !clientAuthRead) {
    reportUnsupported(report, { name: 'ssl.client.auth', reason: `on a SASL_SSL listener only ${ownClientAuth(saslSsl.name)} applies, as in Kafka` });
  }
  for (const { name: listenerName } of tlsListeners) {
    const prefix = `listener.name.${listenerName.toLowerCase()}.`;
    for (const name of [...SSL_STORE_CONFIG_NAMES, ...TLS_LISTENER_CONFIG_NAMES]) inEffect.add(name).add(prefix + name);
    for (const name of SSL_JAVA_ONLY_CONFIG_NAMES) {
      for (const full of [name, prefix + name]) {
        if (given[full] === undefined) continue;
        inEffect.add(full);
        reportUnsupported(report, { name: full, reason: 'it configures Java\'s JSSE, and sluice\'s TLS is Node\'s (OpenSSL)' });
      }
    }
  }
  return inEffect;
}

/** The cluster half of the settings, or null when no etcd is named (one broker, its own cluster). */
function clusterSettings(given: Record<string, string>, selector: ClusterSettings['replicaSelector']): ClusterSettings | null {
  const endpoints = (given['sluice.etcd.endpoints'] ?? '').split(',').map((url) => url.trim()).filter((url) => url !== '');
  if (endpoints.length === 0) return null;
  const all = { ...CLUSTER_DEFAULTS, ...given };
  return {
    etcdEndpoints: endpoints,
    etcdRoot: all['sluice.etcd.root']!,
    sessionTimeoutMs: integer(all, 'broker.session.timeout.ms', 1),
    replicaLagTimeMaxMs: integer(all, 'replica.lag.time.max.ms', 1),
    replicaFetchWaitMaxMs: integer(all, 'replica.fetch.wait.max.ms', 0),
    replicaFetchMinBytes: integer(all, 'replica.fetch.min.bytes', 1),
    replicaFetchMaxBytes: integer(all, 'replica.fetch.max.bytes', 0, INT_MAX),
    replicaFetchResponseMaxBytes: integer(all, 'replica.fetch.response.max.bytes', 0, INT_MAX),
    replicaFetchBackoffMs: integer(all, 'replica.fetch.backoff.ms', 0),
    replicaSocketTimeoutMs: integer(all, 'replica.socket.timeout.ms', 1),
    replicaSocketReceiveBufferBytes: integer(all, 'replica.socket.receive.buffer.bytes', -1, INT_MAX),
    offsetsTopicReplicationFactor: integer(all, 'offsets.topic.replication.factor', 1, 32767),
    offsetsCommitTimeoutMs: integer(all, 'offsets.commit.timeout.ms', 1, INT_MAX),
    uncleanLeaderElectionEnable: boolean(all, 'unclean.leader.election.enable'),
    autoLeaderRebalanceEnable: boolean(all, 'auto.leader.rebalance.enable'),
    leaderImbalanceCheckIntervalMs: integer(all, 'leader.imbalance.check.interval.seconds', 1) * 1000,
    leaderImbalancePerBrokerPercentage: integer(all, 'leader.imbalance.per.broker.percentage', 0, 100),
    controlledShutdownEnable: boolean(all, 'controlled.shutdown.enable'),
    controlledShutdownTimeoutMs: integer(all, 'controlled.shutdown.timeout.ms', 0),
    replicaSelector: selector,
  };
}

/** Kafka's two ReplicaSelector classes by name; a class of one's own cannot be loaded here. */
const REPLICA_SELECTORS = new Map<string, ClusterSettings['replicaSelector']>([
  ['', 'leader'],
  ['org.apache.kafka.common.replica.LeaderSelector', 'leader'],
  ['org.apache.kafka.common.replica.RackAwareReplicaSelector', 'rack-aware'],
]);

function replicaSelector(value: string | undefined): ClusterSettings['replicaSelector'] {
  const selector = REPLICA_SELECTORS.get((value ?? '').trim());
  if (selector === undefined) {
    const known = [...REPLICA_SELECTORS.keys()].filter((name) => name !== '');
    throw new SluiceError('INVALID_CONFIG', `replica.selector.class ${value}: sluice implements ${known.join(' and ')}`);
  }
  return selector;
}
