// The project's own client: bootstrap, cluster metadata, one connection per broker, and the
// admin calls the CLI needs. Producer and Fetcher build on it. Kafka's error codes in responses
// become SluiceErrors named after them.
import crypto from 'node:crypto';

import { KafkaErrorCode, SluiceError, kafkaErrorName, throwIfError } from '../errors.js';
import { ApiKey } from '../protocol/api-keys.js';
import { CONFIG_RESOURCE_TYPE } from '../protocol/apis/describe-configs.js';
import { principalFields, principalText } from '../protocol/apis/delegation-tokens.js';
import { isScramMechanism, saltedPassword, SCRAM_MECHANISM_TYPES, scramMechanismType, type ScramMechanism } from '../protocol/scram.js';
import type { AclBinding, AclBindingFilter } from '../protocol/acl-codes.js';
import { exponentialBackoffMs } from './backoff.js';
import { BrokerConnection, CONNECT_TIMEOUT_MS_DEFAULT, type ConnectionOptions } from './connection.js';
import { isSaslError, type SaslCredentials } from './sasl.js';
import type { TlsOptions } from './tls-config.js';

export type ConfigResourceType = (typeof CONFIG_RESOURCE_TYPE)[keyof typeof CONFIG_RESOURCE_TYPE];
/**
 * Kafka's metadata.max.age.ms default (5 min): how long the client uses a topic's cached partitions
 * and leaders, and how often a group member or the console consumer looks for new ones.
 */
export const METADATA_MAX_AGE_MS_DEFAULT = 300_000;

/** Kafka's AlterConfigOp.OpType. */
const ALTER_CONFIG_OP = { SET: 0, DELETE: 1 } as const;

/** A DescribeConfigs entry. `source` and each synonym's are Kafka's ConfigSource ids (1 DYNAMIC_TOPIC_CONFIG, ...). */
export interface ConfigEntry {
  name: string;
  value: string | null;
  source: number;
  readOnly: boolean;
  isSensitive: boolean;
  synonyms: Array<{ name: string; value: string | null; source: number }>;
}

export interface ClientOptions {
  /** `host:port` of one or more brokers to bootstrap from. */
  brokers: string[];
  clientId?: string;
  requestTimeoutMs?: number;
  /**
   * metadata.max.age.ms (default 300000): a topic's cached partitions and leaders are asked for
   * again once this old, as Kafka's clients do, so a producer spreads over partitions added since.
   */
  metadataMaxAgeMs?: number;
  /** SASL credentials for a SASL_PLAINTEXT listener (security.protocol, sasl.mechanism, sasl.jaas.config). */
  sasl?: SaslCredentials;
  /** TLS to an SSL or SASL_SSL listener (security.protocol, ssl.*; client/tls-config.ts). */
  tls?: TlsOptions;
  /** socket.connection.setup.timeout.ms (default 10000): how long a first connect to a broker may take. */
  connectTimeoutMs?: number;
  /**
   * socket.connection.setup.timeout.max.ms (default 30000): after each failed connect to a broker
   * the next one may take twice as long, up to this, +-20% (backoff.ts).
   */
  connectTimeoutMaxMs?: number;
  /** send.buffer.bytes: every connection's SO_SNDBUF; -1 or none keeps the OS's autotuned buffer. */
  sendBufferBytes?: number;
  /** receive.buffer.bytes: every connection's SO_RCVBUF; -1 or none keeps the OS's autotuned buffer. */
  receiveBufferBytes?: number;
  /** connections.max.idle.ms (default 540000): a connection idle this long closes, and opens again when next needed; -1 never. */
  idleTimeoutMs?: number;
}

/** The socket configs of a client's connections, as a PoolConsumer and the CLI's commands take them. */
export type ClientSocketOptions = Pick<ClientOptions, 'connectTimeoutMs' | 'connectTimeoutMaxMs' | 'sendBufferBytes' | 'receiveBufferBytes' | 'idleTimeoutMs'>;

/** socket.connection.setup.timeout.max.ms's default, as Kafka's clients have it. */
export const CONNECT_TIMEOUT_MAX_MS_DEFAULT = 30_000;

export interface BrokerNode {
  nodeId: number;
  host: string;
  port: number;
  /** broker.rack; null when the broker has none (or the Metadata version carries none, v0). */
  rack: string | null;
}

export interface TopicMetadata {
  name: string;
  topicId: string;
  isInternal: boolean;
  /** leader -1: none. offline: replicas on brokers that are down (Metadata v5+). */
  partitions: Array<{ partition: number; leader: number; replicas: number[]; isr: number[]; offline: number[] }>;
}

export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerNode[];
  topics: TopicMetadata[];
}

/** One replica as DescribeLogDirs reports it. */
export interface LogDirPartition {
  topic: string;
  partition: number;
  logDir: string;
  sizeBytes: number;
  /** Log end offset minus high watermark. */
  offsetLag: number;
  /** A compacted log's dirty bytes / cleanable bytes; null when the log is not compacted. */
  dirtyRatio: number | null;
  /** When its last cleaning pass ended (epoch ms), or null: not since the broker started. */
  lastCleanedMs: number | null;
  /** Its last cleaning pass failed; the cleaner leaves it alone. */
  uncleanable: boolean;
  /** The copy of a replica being moved to this directory (AlterReplicaLogDirs), not the live replica. */
  isFuture: boolean;
}

/** One partition's outcome of DeleteRecords: its new log start offset, or the error (lowWatermark -1). */
export interface DeleteRecordsResult {
  topic: string;
  partition: number;
  lowWatermark: number;
  error: SluiceError | null;
}

/** Kafka's ElectionType: which replica an ElectLeaders request may choose. */
const ELECTION_TYPE = { preferred: 0, unclean: 1 } as const;
export type ElectionType = keyof typeof ELECTION_TYPE;

/** One partition's outcome of ElectLeaders: null, or why no leader was elected (ELECTION_NOT_NEEDED, ...). */
export interface ElectionResult {
  topic: string;
  partition: number;
  error: SluiceError | null;
}

/** Kafka's admin client salts each new SCRAM credential with fresh random bytes. */
const SCRAM_SALT_BYTES = 32;

/** One user's answer to DescribeUserScramCredentials: its mechanisms and iteration counts, or the error (RESOURCE_NOT_FOUND: no credential). */
export interface UserScramCredentialsDescription {
  user: string;
  errorCode: number;
  errorMessage: string | null;
  credentials: Array<{ mechanism: ScramMechanism; iterations: number }>;
}

/** A delegation token as CreateDelegationToken and DescribeDelegationToken give it (KIP-48); principals as 'User:name'. */
export interface DelegationTokenDescription {
  tokenId: string;
  /** HMAC-SHA512 of the id: the password a token login gives, in base64. */
  hmac: Buffer;
  owner: string;
  /** Who asked for it (KIP-373): the owner, or a principal allowed CREATE_TOKENS on the owner. */
  requester: string;
  renewers: string[];
  issueTimestampMs: number;
  expiryTimestampMs: number;
  maxTimestampMs: number;
}

/** One user's answer to AlterUserScramCredentials: errorCode 0, or why none of its changes was made. */
export interface UserScramCredentialsResult {
  user: string;
  errorCode: number;
  errorMessage: string | null;
}

/** One binding's answer to CreateAcls, in the order the bindings were given: errorCode 0, or why it was not created. */
export interface AclCreationResult {
  errorCode: number;
  errorMessage: string | null;
}

/** One filter's answer to DeleteAcls: the ACLs it matched, each deleted unless its own errorCode says why not; or the filter's error. */
export interface AclDeletionResult {
  errorCode: number;
  errorMessage: string | null;
  matching: Array<{ binding: AclBinding; errorCode: number; errorMessage: string | null }>;
}

/** One log directory of a broker, as DescribeLogDirs reports it. */
export interface LogDir {
  logDir: string;
  error: SluiceError | null;
  partitions: LogDirPartition[];
  /** The directory's file system: its size and what the broker may still write (DescribeLogDirs v4+); null when the broker did not say. */
  totalBytes: number | null;
  usableBytes: number | null;
}

/** A partition's reassignment in flight (ListPartitionReassignments). */
export interface OngoingReassignment {
  topic: string;
  partition: number;
  replicas: number[];
  adding: number[];
  removing: number[];
}

/** One partition's answer to AlterPartitionReassignments: null when started, completed or cancelled. */
export interface ReassignmentResult {
  topic: string;
  partition: number;
  error: SluiceError | null;
}

/** How long coordinatorConnection asks again while a group has no coordinator ready (Kafka's default.api.timeout.ms is 60000). */
const COORDINATOR_WAIT_MS = 30_000;
/** FindCoordinator errors that pass once the offsets partition has a leader that has loaded it. */
const COORDINATOR_RETRIABLE = new Set(['COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS', 'NOT_COORDINATOR']);

/** A controller that moved between the Metadata read and the request is looked up this often. */
const CONTROLLER_ATTEMPTS = 3;

export interface NewTopic {
  name: string;
  partitions?: number;
  replicationFactor?: number;
  /** Each partition's replicas by partition id, the first its preferred leader; instead of partitions and replicationFactor. */
  assignments?: number[][];
  configs?: Record<string, string>;
}

export function parseBrokerAddress(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address.trim());
  if (!match) return { host: address.trim() || 'localhost', port: 9092 };
  return { host: match[1] || 'localhost', port: Number(match[2]) };
}

export class KafkaClient {
  private readonly connections = new Map<number, Promise<BrokerConnection>>();
  private bootstrap: BrokerConnection | undefined;
  private nodes = new Map<number, BrokerNode>();
  private leaders = new Map<string, { leaders: number[]; fetchedAtMs: number }>();
  /** Failed connects in a row by host:port, which lengthen the next one's setup timeout. */
  private readonly setupFailures = new Map<string, number>();
  private closed = false;

  private constructor(private readonly options: ClientOptions) {}

  /** The credentials each new connection logs in with (a group coordinator's too); undefined for PLAINTEXT. */
  get sasl(): SaslCredentials | undefined {
    return this.options.sasl;
  }

  /** The TLS each new connection speaks; undefined for a plaintext listener. */
  get tls(): TlsOptions | undefined {
    return this.options.tls;
  }

  static async connect(options: ClientOptions): Promise<KafkaClient> {
    const client = new KafkaClient(options);
    const errors: string[] = [];
    for (const address of options.brokers) {
      try {
        const { host, port } = parseBrokerAddress(address);
        client.bootstrap = await client.openConnection(host, port);
        break;
      } catch (error) {
        // A refused login is not retried on the next broker, as Kafka's clients do not retry it.
        if (isSaslError(error)) throw error;
        errors.push((error as Error).message);
      }
    }
    if (!client.bootstrap) throw new SluiceError('NETWORK_EXCEPTION', `No broker reachable: ${errors.join('; ')}`);
    await client.metadata([]);
    return client;
  }

  /**
   * A new connection to host:port with this client's settings (`overrides` win). A connect that
   * fails makes the next one to the same address wait longer (socket.connection.setup.timeout.*);
   * one that succeeds starts the count again.
   */
  async openConnection(host: string, port: number, overrides: Partial<ConnectionOptions> = {}): Promise<BrokerConnection> {
    const address = `${host}:${port}`;
    const failures = this.setupFailures.get(address) ?? 0;
    const { clientId, requestTimeoutMs, sasl, tls, sendBufferBytes, receiveBufferBytes, idleTimeoutMs } = this.options;
    // Kafka's ClusterConnectionStates lengthens it as it backs off retries (backoff.ts).
    const connectTimeoutMs = Math.round(exponentialBackoffMs(this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS_DEFAULT, this.options.connectTimeoutMaxMs ?? CONNECT_TIMEOUT_MAX_MS_DEFAULT, failures));
    try {
      const connection = await BrokerConnection.connect({ host, port, clientId, requestTimeoutMs, sasl, tls, sendBufferBytes, receiveBufferBytes, idleTimeoutMs, connectTimeoutMs, ...overrides });
      this.setupFailures.delete(address);
      return connection;
    } catch (error) {
      this.setupFailures.set(address, failures + 1);
      throw error;
    }
  }

  /** Any connection: for requests every broker can answer. Brokers that do not answer are skipped. */
  async anyConnection(): Promise<BrokerConnection> {
    if (this.bootstrap && !this.bootstrap.isClosed) return this.bootstrap;
    const errors: string[] = [];
    for (const node of this.nodes.values()) {
      try {
        return await this.connectionTo(node.nodeId);
      } catch (error) {
        this.connections.delete(node.nodeId);
        errors.push((error as Error).message);
      }
    }
    throw new SluiceError('NETWORK_EXCEPTION', errors.length === 0 ? 'No broker known' : `No broker reachable: ${errors.join('; ')}`);
  }

  async connectionTo(nodeId: number): Promise<BrokerConnection> {
    const cached = this.connections.get(nodeId);
    if (cached) {
      const connection = await cached.catch(() => undefined);
      if (connection && !connection.isClosed) return connection;
    }
    const node = this.nodes.get(nodeId);
    if (!node) throw new SluiceError('LEADER_NOT_AVAILABLE', `Unknown broker ${nodeId}`);
    const connecting = this.openConnection(node.host, node.port);
    this.connections.set(nodeId, connecting);
    return connecting;
  }

  /** Metadata for `topics` (undefined: every topic); refreshes the leader cache. */
  async metadata(topics?: string[], allowAutoTopicCreation = false): Promise<ClusterMetadata> {
    const connection = await this.anyConnection();
    const response = await connection.request(ApiKey.Metadata, {
      topics: topics === undefined ? null : topics.map((name) => ({ name, topicId: '00000000-0000-0000-0000-000000000000' })),
      allowAutoTopicCreation,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    const metadata: ClusterMetadata = {
      clusterId: response.clusterId ?? null,
      controllerId: response.controllerId,
      brokers: response.brokers.map((b: BrokerNode) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack ?? null })),
      topics: [],
    };
    for (const node of metadata.brokers) this.nodes.set(node.nodeId, node);
    for (const topic of response.topics) {
      throwIfError(topic.errorCode, `Metadata for topic ${topic.name}`);
      const partitions = topic.partitions
        .map((p: any) => ({ partition: p.partitionIndex, leader: p.leaderId, replicas: p.replicaNodes, isr: p.isrNodes, offline: p.offlineReplicas ?? [] }))
        .sort((a: { partition: number }, b: { partition: number }) => a.partition - b.partition);
      metadata.topics.push({ name: topic.name, topicId: topic.topicId, isInternal: topic.isInternal, partitions });
      this.leaders.set(topic.name, { leaders: partitions.map((p: { leader: number }) => p.leader), fetchedAtMs: Date.now() });
    }
    return metadata;
  }

  /** A topic's leaders by partition: cached, else (or once older than metadata.max.age.ms) fresh metadata. */
  private async leadersOf(topic: string, allowAutoTopicCreation = false): Promise<number[] | undefined> {
    const cached = this.leaders.get(topic);
    if (cached !== undefined && Date.now() - cached.fetchedAtMs < (this.options.metadataMaxAgeMs ?? METADATA_MAX_AGE_MS_DEFAULT)) return cached.leaders;
    await this.metadata([topic], allowAutoTopicCreation);
    return this.leaders.get(topic)?.leaders;
  }

  /**
   * The topics whose name `pattern` matches, by name, from fresh metadata: a pattern subscription's
   * topics (Kafka's subscribe(Pattern)) and the tools' topic regexes. Internal topics
   * (__consumer_offsets) are left out when `excludeInternal`.
   */
  async topicsMatching(pattern: RegExp, excludeInternal: boolean): Promise<TopicMetadata[]> {
    const { topics } = await this.metadata(undefined);
    return topics.filter((t) => !(excludeInternal && t.isInternal) && pattern.test(t.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Partition count of a topic (from the cache, else fresh metadata; with `allowAutoTopicCreation`
   * a broker whose auto.create.topics.enable is set creates a topic it does not know).
   */
  async partitionCount(topic: string, allowAutoTopicCreation = false): Promise<number> {
    return (await this.leadersOf(topic, allowAutoTopicCreation))!.length;
  }

  /** The broker leading a partition (from the cache, else fresh metadata). */
  async leaderOf(topic: string, partition: number): Promise<number> {
    const leader = (await this.leadersOf(topic))?.[partition];
    if (leader === undefined || leader < 0) throw new SluiceError('LEADER_NOT_AVAILABLE', `No leader for ${topic}-${partition}`);
    return leader;
  }

  async leaderConnection(topic: string, partition: number): Promise<BrokerConnection> {
    return this.connectionTo(await this.leaderOf(topic, partition));
  }

  /**
   * The connection to a consumer group's coordinator (FindCoordinator): in a cluster, the leader
   * of the group's __consumer_offsets partition, which alone answers for the group. While none is
   * ready (COORDINATOR_NOT_AVAILABLE: the offsets topic being created or its leader moving;
   * COORDINATOR_LOAD_IN_PROGRESS) it asks again, as Kafka's admin client does, for up to
   * COORDINATOR_WAIT_MS.
   */
  async coordinatorConnection(groupId: string): Promise<BrokerConnection> {
    return this.connectionTo((await this.findCoordinator(groupId)).nodeId);
  }

  /** The broker coordinating a consumer group (see coordinatorConnection), or with `keyType` 1 a transactional id. */
  async findCoordinator(groupId: string, keyType: 0 | 1 = 0): Promise<BrokerNode> {
    const deadlineMs = Date.now() + COORDINATOR_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      const connection = await this.anyConnection();
      const response = await connection.request(ApiKey.FindCoordinator, { key: groupId, keyType, coordinatorKeys: [groupId] });
      const answer = response.coordinators?.[0] ?? response;
      if (answer.errorCode === 0) {
        const node = this.nodes.get(answer.nodeId) ?? { nodeId: answer.nodeId, host: answer.host, port: answer.port, rack: null };
        this.nodes.set(node.nodeId, node);
        return node;
      }
      if (!COORDINATOR_RETRIABLE.has(kafkaErrorName(answer.errorCode)) || Date.now() >= deadlineMs) {
        throwIfError(answer.errorCode, `Find the coordinator of ${keyType === 0 ? 'group' : 'transactional id'} ${groupId}`, answer.errorMessage);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 100 * 2 ** attempt)));
    }
  }

  /** Forgets a topic's leaders: the next request for it asks for metadata again (after a leader moved). */
  invalidateLeaders(topic: string): void {
    this.leaders.delete(topic);
  }

  async createTopics(topics: NewTopic[], validateOnly = false): Promise<void> {
    const connection = await this.anyConnection();
    const response = await connection.request(ApiKey.CreateTopics, {
      topics: topics.map((t) => ({
        name: t.name,
        numPartitions: t.assignments === undefined ? (t.partitions ?? -1) : -1,
        replicationFactor: t.assignments === undefined ? (t.replicationFactor ?? -1) : -1,
        assignments: (t.assignments ?? []).map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: 30_000,
      validateOnly,
    });
    for (const topic of response.topics) throwIfError(topic.errorCode, `Create topic ${topic.name}`, topic.errorMessage);
  }

  /** CreatePartitions: grows `topic` to `count` partitions (INVALID_PARTITIONS unless more than it has). */
  async createPartitions(topic: string, count: number): Promise<void> {
    const connection = await this.anyConnection();
    const response = await connection.request(ApiKey.CreatePartitions, { topics: [{ name: topic, count, assignments: null }], timeoutMs: 30_000, validateOnly: false });
    for (const result of response.results) throwIfError(result.errorCode, `Add partitions to ${result.name}`, result.errorMessage);
    this.leaders.delete(topic);
  }

  async deleteTopics(names: string[]): Promise<void> {
    const connection = await this.anyConnection();
    const response = await connection.request(ApiKey.DeleteTopics, {
      topicNames: names,
      topics: names.map((name) => ({ name, topicId: '00000000-0000-0000-0000-000000000000' })),
      timeoutMs: 30_000,
    });
    for (const topic of response.responses) throwIfError(topic.errorCode, `Delete topic ${topic.name}`, topic.errorMessage);
    for (const name of names) this.leaders.delete(name);
  }

  /** ListOffsets: -1 latest, -2 earliest, or the first offset at or after a timestamp (-1 when none). */
  async listOffset(topic: string, partition: number, timestamp: number): Promise<number> {
    const connection = await this.leaderConnection(topic, partition);
    const response = await connection.request(ApiKey.ListOffsets, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
    });
    const answer = response.topics[0].partitions[0];
    throwIfError(answer.errorCode, `List offsets of ${topic}-${partition}`);
    return answer.offset ?? answer.oldStyleOffsets?.[0] ?? -1;
  }

  /**
   * DeleteRecords (KIP-107): each partition's records before `offset` (-1: its high watermark) are
   * deleted, by one request to each partition's leader. Each partition's new low watermark, or why
   * not, comes back; none is thrown.
   */
  async deleteRecords(partitions: ReadonlyArray<{ topic: string; partition: number; offset: number }>, timeoutMs = 30_000): Promise<DeleteRecordsResult[]> {
    const results: DeleteRecordsResult[] = [];
    const byLeader = new Map<number, Array<{ topic: string; partition: number; offset: number }>>();
    // Every topic's metadata: asked by name, one missing topic fails the whole answer.
    const metadata = await this.metadata();
    for (const { topic, partition, offset } of partitions) {
      const count = metadata.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
      if (partition >= count) {
        results.push({ topic, partition, lowWatermark: -1, error: new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition} does not exist`) });
        continue;
      }
      let leader: number;
      try {
        leader = await this.leaderOf(topic, partition);
      } catch (error) {
        results.push({ topic, partition, lowWatermark: -1, error: error as SluiceError });
        continue;
      }
      const list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, [{ topic, partition, offset }]);
      else list.push({ topic, partition, offset });
    }
    for (const [leader, list] of byLeader) {
      const topics = groupByTopic(list, ({ partition, offset }) => ({ partitionIndex: partition, offset })).map(([name, partitions]) => ({ name, partitions }));
      const response = await (await this.connectionTo(leader)).request(ApiKey.DeleteRecords, { topics, timeoutMs });
      for (const topic of response.topics) {
        for (const p of topic.partitions) {
          const error = answerError(p.errorCode, null, () => `broker ${leader} answered ${kafkaErrorName(p.errorCode)} for ${topic.name}-${p.partitionIndex}`);
          results.push({ topic: topic.name, partition: p.partitionIndex, lowWatermark: Number(p.lowWatermark), error });
        }
      }
    }
    return results;
  }

  /** Effective topic configs, by name. */
  async describeTopicConfigs(topic: string): Promise<Record<string, { value: string | null; source: number }>> {
    const entries = await this.describeConfigs(CONFIG_RESOURCE_TYPE.TOPIC, topic);
    return Object.fromEntries(entries.map((entry) => [entry.name, { value: entry.value, source: entry.source }]));
  }

  /**
   * DescribeConfigs of one topic or broker: every entry, with where its value comes from (its
   * synonyms, most specific first, when `synonyms`).
   */
  async describeConfigs(resourceType: ConfigResourceType, resourceName: string, options: { synonyms?: boolean } = {}): Promise<ConfigEntry[]> {
    const connection = await this.configConnection(resourceType, resourceName);
    const response = await connection.request(ApiKey.DescribeConfigs, {
      resources: [{ resourceType, resourceName, configurationKeys: null }],
      includeSynonyms: options.synonyms ?? false,
      includeDocumentation: false,
    });
    const result = response.results[0];
    throwIfError(result.errorCode, `Describe configs of ${configResourceLabel(resourceType, resourceName)}`, result.errorMessage);
    return result.configs.map((c: any) => ({
      name: c.name,
      value: c.value,
      source: c.configSource,
      readOnly: c.readOnly,
      isSensitive: c.isSensitive,
      synonyms: (c.synonyms ?? []).map((s: any) => ({ name: s.name, value: s.value, source: s.source })),
    }));
  }

  /** IncrementalAlterConfigs (KIP-339) of one resource: each name set to its value, or deleted (null: back to the default). */
  async incrementalAlterConfigs(resourceType: ConfigResourceType, resourceName: string, changes: ReadonlyArray<{ name: string; value: string | null }>): Promise<void> {
    const connection = await this.configConnection(resourceType, resourceName);
    const configs = changes.map(({ name, value }) => ({ name, configOperation: value === null ? ALTER_CONFIG_OP.DELETE : ALTER_CONFIG_OP.SET, value }));
    const response = await connection.request(ApiKey.IncrementalAlterConfigs, { resources: [{ resourceType, resourceName, configs }], validateOnly: false });
    const result = response.responses[0];
    throwIfError(result.errorCode, `Alter configs of ${configResourceLabel(resourceType, resourceName)}`, result.errorMessage);
  }

  /**
   * DescribeClientQuotas: the quota entities matching every component (strict: and no other entity
   * type), each as (type, name|null) pairs with its values.
   */
  async describeClientQuotas(
    components: ReadonlyArray<{ entityType: string; matchType: number; match: string | null }>,
    strict: boolean,
  ): Promise<Array<{ entity: Array<{ entityType: string; entityName: string | null }>; values: Array<{ key: string; value: number }> }>> {
    const connection = await this.anyConnection();
    const response = await connection.request(ApiKey.DescribeClientQuotas, { components, strict });
    throwIfError(response.errorCode, 'Describe client quotas', response.errorMessage);
    return response.entries ?? [];
  }

  /** AlterClientQuotas of one entity: each key set to its value, or removed (null). */
  async alterClientQuotas(entity: ReadonlyArray<{ entityType: string; entityName: string | null }>, changes: ReadonlyArray<{ key: string; value: number | null }>): Promise<void> {
    const connection = await this.anyConnection();
    const ops = changes.map(({ key, value }) => ({ key, value: value ?? 0, remove: value === null }));
    const response = await connection.request(ApiKey.AlterClientQuotas, { entries: [{ entity, ops }], validateOnly: false });
    const result = response.entries[0];
    throwIfError(result.errorCode, 'Alter client quotas', result.errorMessage);
  }

  /**
   * DescribeUserScramCredentials (KIP-554): each user's SCRAM mechanisms and iteration counts, never
   * salts or keys. `users` null or empty: every user with a credential. A user's error (a named user
   * without a credential is RESOURCE_NOT_FOUND) comes back in its result; a request-level one is thrown.
   */
  async describeUserScramCredentials(users: string[] | null): Promise<UserScramCredentialsDescription[]> {
    const connection = await this.anyConnection();
    const response = await connection.request(ApiKey.DescribeUserScramCredentials, { users: users === null ? null : users.map((name) => ({ name })) });
    throwIfError(response.errorCode, 'Describe user SCRAM credentials', response.errorMessage);
    return response.results.map((result: any) => ({
      user: result.user,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage ?? null,
      // A mechanism this client does not know (Kafka's UNKNOWN) is left out.
      credentials: result.credentialInfos.flatMap((info: any) => {
        const mechanism = SCRAM_MECHANISM_TYPES.get(info.mechanism);
        return mechanism === undefined ? [] : [{ mechanism, iterations: info.iterations }];
      }),
    }));
  }

  /**
   * AlterUserScramCredentials (KIP-554): credentials deleted and set (upserted), as Kafka's admin
   * client sends them: each password salted with fresh random bytes and hashed here (PBKDF2, the
   * SCRAM SaltedPassword), so only the salt and the salted password go to the broker. One result per
   * user, its error never thrown; a user's changes are made all or none. As Kafka's client, a user
   * with an empty name or password, or an unknown mechanism, fails here and none of its changes is sent.
   */
  async alterUserScramCredentials(alterations: {
    upsertions: ReadonlyArray<{ user: string; mechanism: ScramMechanism; iterations: number; password: string }>;
    deletions: ReadonlyArray<{ user: string; mechanism: ScramMechanism }>;
  }): Promise<UserScramCredentialsResult[]> {
    const refused = new Map<string, UserScramCredentialsResult>();
    const refuse = (user: string, code: 'UNACCEPTABLE_CREDENTIAL' | 'UNSUPPORTED_SASL_MECHANISM', message: string) => {
      if (!refused.has(user)) refused.set(user, { user, errorCode: KafkaErrorCode[code], errorMessage: message });
    };
    for (const { user, mechanism } of alterations.deletions) {
      if (user === '') refuse(user, 'UNACCEPTABLE_CREDENTIAL', 'Username must not be empty');
      else if (!isScramMechanism(mechanism)) refuse(user, 'UNSUPPORTED_SASL_MECHANISM', 'Unknown SCRAM mechanism');
    }
    for (const { user, mechanism, iterations, password } of alterations.upsertions) {
      if (user === '') refuse(user, 'UNACCEPTABLE_CREDENTIAL', 'Username must not be empty');
      else if (password === '') refuse(user, 'UNACCEPTABLE_CREDENTIAL', 'Password must not be empty');
      else if (!isScramMechanism(mechanism)) refuse(user, 'UNSUPPORTED_SASL_MECHANISM', 'Unknown SCRAM mechanism');
      else if (!Number.isSafeInteger(iterations) || iterations < 1) refuse(user, 'UNACCEPTABLE_CREDENTIAL', `Iterations must be a positive integer, not ${iterations}`);
    }
    const deletions = alterations.deletions.filter(({ user }) => !refused.has(user)).map(({ user, mechanism }) => ({ name: user, mechanism: scramMechanismType(mechanism) }));
    const upsertions = alterations.upsertions
      .filter(({ user }) => !refused.has(user))
      .map(({ user, mechanism, iterations, password }) => {
        const salt = crypto.randomBytes(SCRAM_SALT_BYTES);
        return { name: user, mechanism: scramMechanismType(mechanism), iterations, salt, saltedPassword: saltedPassword(mechanism, password, salt, iterations) };
      });
    const results: UserScramCredentialsResult[] = [...refused.values()];
    if (deletions.length === 0 && upsertions.length === 0) return results;
    const connection = await this.anyConnection();
    const response = await connection.request(ApiKey.AlterUserScramCredentials, { deletions, upsertions });
    for (const result of response.results) results.push({ user: result.user, errorCode: result.errorCode, errorMessage: result.errorMessage ?? null });
    return results;
  }

  /**
   * CreateDelegationToken v3: a token of `owner` (default: the principal this client logged in
   * as), renewable by `renewers`, living at most `maxLifetimeMs` (-1: the broker's
   * delegation.token.max.lifetime.ms). Errors are thrown with Kafka's names
   * (DELEGATION_TOKEN_REQUEST_NOT_ALLOWED on a connection not authenticated, ...).
   */
  async createDelegationToken(options: { owner?: string; renewers?: readonly string[]; maxLifetimeMs?: number } = {}): Promise<DelegationTokenDescription> {
    const owner = options.owner === undefined ? null : principalFields(options.owner);
    const connection = await this.anyConnection();
    const response = await connection.request(ApiKey.CreateDelegationToken, {
      ownerPrincipalType: owner?.principalType ?? null,
      ownerPrincipalName: owner?.principalName ?? null,
      renewers: (options.renewers ?? []).map((principal) => principalFields(principal)),
      maxLifetimeMs: BigInt(options.maxLifetimeMs ?? -1),
    });
    throwIfError(response.errorCode, 'Create delegation token');
    return {
      tokenId: response.tokenId,
      hmac: response.hmac,
      owner: principalText(response),
      requester: principalText({ principalType: response.tokenRequesterPrincipalType, principalName: response.tokenRequesterPrincipalName }),
      renewers: [...(options.renewers ?? [])],
      issueTimestampMs: Number(response.issueTimestampMs),
      expiryTimestampMs: Number(response.expiryTimestampMs),
      maxTimestampMs: Number(response.maxTimestampMs),
    };
  }

  /** RenewDelegationToken: extends the token of `hmac` by `renewPeriodMs` (-1: the broker's default); resolves with its new expiry. */
  async renewDelegationToken(hmac: Buffer, renewPeriodMs = -1): Promise<number> {
    const connection = await this.anyConnection();
    const response = await connection.request(ApiKey.RenewDelegationToken, { hmac, renewPeriodMs: BigInt(renewPeriodMs) });
    throwIfError(response.errorCode, 'Renew delegation token');
    return Number(response.expiryTimestampMs);
  }

  /** ExpireDelegationToken: the token of `hmac` expires `expiryPeriodMs` from now (-1: at once, and is removed); resolves with its expiry. */
  async expireDelegationToken(hmac: Buffer, expiryPeriodMs = -1): Promise<number> {
    const connection = await this.anyConnection();
    const response = await connection.request(ApiKey.ExpireDelegationToken, { hmac, expiryTimePeriodMs: BigInt(expiryPeriodMs) });
    throwIfError(response.errorCode, 'Expire delegation token');
    return Number(response.expiryTimestampMs);
  }

  /** DescribeDelegationToken: the tokens of `owners` (null: every one this principal may see). */
  async describeDelegationTokens(owners: readonly string[] | null = null): Promise<DelegationTokenDescription[]> {
    const connection = await this.anyConnection();
    const response = await connection.request(ApiKey.DescribeDelegationToken, { owners: owners === null ? null : owners.map((principal) => principalFields(principal)) });
    throwIfError(response.errorCode, 'Describe delegation tokens');
    return response.tokens.map((token: any) => ({
      tokenId: token.tokenId,
      hmac: token.hmac,
      owner: principalText(token),
      requester: principalText({ principalType: token.tokenRequesterPrincipalType, principalName: token.tokenRequesterPrincipalName }),
      renewers: token.renewers.map(principalText),
      issueTimestampMs: Number(token.issueTimestamp),
      expiryTimestampMs: Number(token.expiryTimestamp),
      maxTimestampMs: Number(token.maxTimestamp),
    }));
  }

  /**
   * DescribeAcls: the ACLs matching `filter`, one binding each (AclBindingFilter's codes: ANY and
   * null match any, MATCH every pattern that applies to the name). Any broker answers, as Kafka's
   * admin client asks the least loaded one. A top-level error is thrown: SECURITY_DISABLED from a
   * broker without an authorizer, CLUSTER_AUTHORIZATION_FAILED without DESCRIBE on the cluster.
   */
  async describeAcls(filter: AclBindingFilter): Promise<AclBinding[]> {
    const connection = await this.anyConnection();
    const response = await connection.request(ApiKey.DescribeAcls, aclFilterFields(filter));
    throwIfError(response.errorCode, 'Describe ACLs', response.errorMessage);
    return response.resources.flatMap((resource: any) =>
      resource.acls.map((acl: any) => ({
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
        patternType: resource.patternType,
        principal: acl.principal,
        host: acl.host,
        operation: acl.operation,
        permissionType: acl.permissionType,
      })),
    );
  }

  /**
   * CreateAcls of `bindings` at any broker: one result per binding, in order, its error never thrown
   * (CreateAcls has no top-level error: a broker that refuses the request, SECURITY_DISABLED or
   * CLUSTER_AUTHORIZATION_FAILED without ALTER on the cluster, answers it for every binding).
   */
  async createAcls(bindings: readonly AclBinding[]): Promise<AclCreationResult[]> {
    const connection = await this.anyConnection();
    const creations = bindings.map(({ resourceType, resourceName, patternType, principal, host, operation, permissionType }) => ({
      resourceType,
      resourceName,
      resourcePatternType: patternType,
      principal,
      host,
      operation,
      permissionType,
    }));
    const response = await connection.request(ApiKey.CreateAcls, { creations });
    return response.results.map((result: any) => ({ errorCode: result.errorCode, errorMessage: result.errorMessage ?? null }));
  }

  /**
   * DeleteAcls at any broker: every ACL each filter matches is deleted. One result per filter, in
   * order, with its error (SECURITY_DISABLED, CLUSTER_AUTHORIZATION_FAILED, ...) and its matching
   * ACLs', never thrown.
   */
  async deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclDeletionResult[]> {
    const connection = await this.anyConnection();
    const response = await connection.request(ApiKey.DeleteAcls, { filters: filters.map(aclFilterFields) });
    return response.filterResults.map((result: any) => ({
      errorCode: result.errorCode,
      errorMessage: result.errorMessage ?? null,
      matching: result.matchingAcls.map((acl: any) => ({
        binding: {
          resourceType: acl.resourceType,
          resourceName: acl.resourceName,
          patternType: acl.patternType,
          principal: acl.principal,
          host: acl.host,
          operation: acl.operation,
          permissionType: acl.permissionType,
        },
        errorCode: acl.errorCode,
        errorMessage: acl.errorMessage ?? null,
      })),
    }));
  }

  /**
   * A broker's configs (and its loggers') are asked of that broker, as Kafka's admin client does; a topic's, and the
   * cluster-wide default broker entity's (resource name ''), of any.
   */
  private async configConnection(resourceType: ConfigResourceType, resourceName: string): Promise<BrokerConnection> {
    const ofBroker = resourceType === CONFIG_RESOURCE_TYPE.BROKER || resourceType === CONFIG_RESOURCE_TYPE.BROKER_LOGGER;
    if (!ofBroker || resourceName === '') return this.anyConnection();
    const nodeId = Number(resourceName);
    const { brokers } = await this.metadata([]);
    if (!brokers.some((broker) => broker.nodeId === nodeId)) {
      throw new SluiceError('BROKER_NOT_AVAILABLE', `Broker ${resourceName} is not a live broker of the cluster (live: ${brokers.map((b) => b.nodeId).join(', ')})`);
    }
    return this.connectionTo(nodeId);
  }

  /**
   * DescribeLogDirs to one broker: its replicas of `topics` (null = all it holds), with size, lag and
   * the log cleaner's figures of compacted logs (sluice's tagged fields; v2+ carries them).
   */
  async describeLogDirs(nodeId: number, topics: Array<{ topic: string; partitions: number[] }> | null): Promise<LogDirPartition[]> {
    const dirs = await this.logDirs(nodeId, topics);
    for (const dir of dirs) if (dir.error !== null) throw dir.error;
    return dirs.flatMap((dir) => dir.partitions);
  }

  /** The same by log directory, each with its error (KAFKA_STORAGE_ERROR, ...) rather than thrown, and listed even when empty. */
  async logDirs(nodeId: number, topics: Array<{ topic: string; partitions: number[] }> | null): Promise<LogDir[]> {
    const connection = await this.connectionTo(nodeId);
    const response = await connection.request(ApiKey.DescribeLogDirs, { topics, includeCleanerFigures: true });
    throwIfError(response.errorCode, `Describe log dirs of broker ${nodeId}`);
    return response.results.map((result: any) => ({
      logDir: result.logDir,
      error: answerError(result.errorCode, null, () => `Describe log dir ${result.logDir} of broker ${nodeId}: ${kafkaErrorName(result.errorCode)}`),
      partitions: result.topics.flatMap((topic: any) =>
        topic.partitions.map((p: any) => ({
          topic: topic.name,
          partition: p.partitionIndex,
          logDir: result.logDir,
          sizeBytes: Number(p.partitionSize),
          offsetLag: Number(p.offsetLag),
          dirtyRatio: p.dirtyRatio < 0 ? null : p.dirtyRatio,
          lastCleanedMs: Number(p.lastCleanedMs) < 0 ? null : Number(p.lastCleanedMs),
          uncleanable: p.uncleanable,
          isFuture: p.isFutureKey,
        })),
      ),
      totalBytes: Number(result.totalBytes) < 0 ? null : Number(result.totalBytes),
      usableBytes: Number(result.usableBytes) < 0 ? null : Number(result.usableBytes),
    }));
  }

  /**
   * AlterReplicaLogDirs to one broker: moves its replicas of `moves` between its log directories.
   * The error code of each partition (0 once its move has started), never thrown.
   */
  async alterReplicaLogDirs(nodeId: number, moves: ReadonlyArray<{ topic: string; partition: number; logDir: string }>): Promise<Array<{ topic: string; partition: number; errorCode: number }>> {
    const byDir = new Map<string, Map<string, number[]>>();
    for (const { topic, partition, logDir } of moves) {
      const topics = byDir.get(logDir) ?? new Map<string, number[]>();
      byDir.set(logDir, topics);
      topics.set(topic, [...(topics.get(topic) ?? []), partition]);
    }
    const dirs = [...byDir].map(([path, topics]) => ({ path, topics: [...topics].map(([name, partitions]) => ({ name, partitions })) }));
    const response = await (await this.connectionTo(nodeId)).request(ApiKey.AlterReplicaLogDirs, { dirs });
    return response.results.flatMap((result: any) => result.partitions.map((p: any) => ({ topic: result.topicName, partition: p.partitionIndex, errorCode: p.errorCode })));
  }

  /**
   * AlterPartitionReassignments at the controller: each partition to its target replicas, or
   * (replicas null) its reassignment in flight cancelled. Per-partition errors come back, never
   * thrown; a top-level error (other than a controller that moved, retried) is thrown.
   */
  async alterPartitionReassignments(partitions: ReadonlyArray<{ topic: string; partition: number; replicas: readonly number[] | null }>, timeoutMs = 30_000): Promise<ReassignmentResult[]> {
    const topics = groupByTopic(partitions, ({ partition, replicas }) => ({ partitionIndex: partition, replicas })).map(([name, list]) => ({ name, partitions: list }));
    const body = { timeoutMs, topics };
    const response = await this.controllerRequest(ApiKey.AlterPartitionReassignments, body, 'Alter partition reassignments');
    return response.responses.flatMap((topic: any) =>
      topic.partitions.map((p: any) => ({
        topic: topic.name,
        partition: p.partitionIndex,
        error: answerError(p.errorCode, p.errorMessage, () => `Reassignment of ${topic.name}-${p.partitionIndex}: ${kafkaErrorName(p.errorCode)}`),
      })),
    );
  }

  /** ListPartitionReassignments at the controller: those in flight among `partitions` (null: all). */
  async listPartitionReassignments(partitions: ReadonlyArray<{ topic: string; partition: number }> | null = null, timeoutMs = 30_000): Promise<OngoingReassignment[]> {
    const topics = partitions === null ? null : groupByTopic(partitions, (p) => p.partition).map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
    const response = await this.controllerRequest(ApiKey.ListPartitionReassignments, { timeoutMs, topics }, 'List partition reassignments');
    return response.topics.flatMap((topic: any) =>
      topic.partitions.map((p: any) => ({ topic: topic.name, partition: p.partitionIndex, replicas: p.replicas, adding: p.addingReplicas, removing: p.removingReplicas })),
    );
  }

  /**
   * ElectLeaders at the controller (KIP-460): a preferred or unclean election for `partitions`
   * (null: every partition). Each partition's outcome comes back, never thrown; ELECTION_NOT_NEEDED
   * is an outcome like any other.
   */
  async electLeaders(type: ElectionType, partitions: ReadonlyArray<{ topic: string; partition: number }> | null, timeoutMs = 30_000): Promise<ElectionResult[]> {
    const topicPartitions = partitions === null ? null : groupByTopic(partitions, (p) => p.partition).map(([topic, partitionId]) => ({ topic, partitionId }));
    const body = { electionType: ELECTION_TYPE[type], topicPartitions, timeoutMs };
    const response = await this.controllerRequest(ApiKey.ElectLeaders, body, 'Elect leaders');
    return response.replicaElectionResults.flatMap((topic: any) =>
      topic.partitionResult.map((p: any) => ({
        topic: topic.topic,
        partition: p.partitionId,
        error: answerError(p.errorCode, p.errorMessage, () => `Election for ${topic.topic}-${p.partitionId}: ${kafkaErrorName(p.errorCode)}`),
      })),
    );
  }

  /** A request only the controller answers: sent to the one Metadata names, again if it moved meanwhile (NOT_CONTROLLER). */
  private async controllerRequest(apiKey: number, body: object, what: string): Promise<any> {
    for (let attempt = 1; ; attempt++) {
      const { controllerId } = await this.metadata([]);
      if (controllerId < 0) throw new SluiceError('NOT_CONTROLLER', `${what}: the cluster has no controller now`);
      const response = await (await this.connectionTo(controllerId)).request(apiKey, body);
      if (response.errorCode === KafkaErrorCode.NOT_CONTROLLER && attempt < CONTROLLER_ATTEMPTS) continue;
      throwIfError(response.errorCode, what, response.errorMessage);
      return response;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.bootstrap?.close();
    for (const connecting of this.connections.values()) void connecting.then((c) => c.close(), () => {});
  }
}

function configResourceLabel(resourceType: ConfigResourceType, resourceName: string): string {
  if (resourceType === CONFIG_RESOURCE_TYPE.BROKER_LOGGER) return `the loggers of broker ${resourceName}`;
  if (resourceType !== CONFIG_RESOURCE_TYPE.BROKER) return `topic ${resourceName}`;
  return resourceName === '' ? 'the default broker entity' : `broker ${resourceName}`;
}

/** A filter as DescribeAcls and DeleteAcls carry it (their *Filter fields). */
function aclFilterFields(filter: AclBindingFilter) {
  return {
    resourceTypeFilter: filter.resourceType,
    resourceNameFilter: filter.resourceName,
    patternTypeFilter: filter.patternType,
    principalFilter: filter.principal,
    hostFilter: filter.host,
    operation: filter.operation,
    permissionType: filter.permissionType,
  };
}

/** `items` grouped by topic, in first-seen order, each as `value(item)`: the shape of Kafka's per-topic request lists. */
function groupByTopic<T extends { topic: string }, V>(items: Iterable<T>, value: (item: T) => V): Array<[string, V[]]> {
  const groups = new Map<string, V[]>();
  for (const item of items) {
    const list = groups.get(item.topic);
    if (list === undefined) groups.set(item.topic, [value(item)]);
    else list.push(value(item));
  }
  return [...groups];
}

/** One entry of an answer that reports errors per entry: null, or Kafka's error with the broker's message (else `fallback`). */
function answerError(errorCode: number, message: string | null | undefined, fallback: () => string): SluiceError | null {
  return errorCode === 0 ? null : new SluiceError(kafkaErrorName(errorCode), message ?? fallback());
}
