// The cluster's keys in etcd and the JSON stored under them: Kafka's ZooKeeper layout mapped onto
// etcd (REPLICATION-FACTS.md, "The controller in ZooKeeper mode, and the same in etcd"). Every
// value carries "version": 1 so a later layout can be told apart, as Kafka's znodes do.
//
//   <root>/brokers/<id>              {"version":1,"brokerId":1,"host":"127.0.0.2","port":9092,"rack":null}
//                                    on the broker's lease: it vanishes when the session expires.
//                                    Its create_revision is the broker epoch (Kafka's czxid).
//   <root>/controller                {"version":1,"brokerId":1,"epoch":7}
//                                    created only if absent, on the controller's lease.
//   <root>/controller_epoch          "7" (decimal): bumped in the same transaction that creates
//                                    the controller key; its mod_revision fences controller writes.
//   <root>/topics/<topic>            {"version":1,"topicId":"<uuid>","partitions":[[1,2,3],[2,3,1]],
//                                     "configs":{"unclean.leader.election.enable":"false"},
//                                     "reassignments":{"0":{"adding":[4],"removing":[1]}}}
//                                    replica assignment by partition index, topic config overrides,
//                                    and the partitions being moved (Kafka's adding_replicas and
//                                    removing_replicas, KIP-455; absent when none is).
//   <root>/topics/<topic>/<p>/state  {"version":1,"leader":1,"leaderEpoch":0,"isr":[1,2,3],"controllerEpoch":7}
//                                    its mod_revision is the partition epoch.
//   <root>/admin/delete_topics/<topic>  {"version":1,"topicId":"<uuid>"}
//                                    a request to delete the topic (Kafka's /admin/delete_topics/<t>):
//                                    any broker writes it, the controller deletes the topic and the
//                                    request in one transaction.
//   <root>/configs/brokers/<default> {"version":1,"configs":{"log.retention.ms":"3600000"}}
//   <root>/configs/brokers/<id>      dynamic broker configs (KIP-226; src/broker/dynamic-config.ts):
//                                    the cluster-wide default entity and one broker's, as Kafka's
//                                    /config/brokers/<default> and /config/brokers/<id> znodes; any
//                                    broker writes them, every broker watches them.
//   <root>/configs/quotas/<entity>   {"version":1,"configs":{"producer_byte_rate":"1048576"}}
//                                    client quotas (src/broker/client-quotas.ts), the entity as
//                                    `user=<name>,client-id=<name>` (percent-encoded, <default>).
//   <root>/admin/shutdown/<id>       {"version":1,"brokerId":1,"brokerEpoch":123}
//                                    a broker's controlled shutdown request, on its lease (it goes
//                                    with the broker); the controller moves leadership off it.
//   <root>/admin/offline_replicas/<id>  {"version":1,"brokerId":1,"brokerEpoch":123,"partitions":[["t",0]]}
//                                    a broker's replicas in log directories that went offline (a
//                                    failed disk, KIP-112; Kafka's log_dir_event_notification), on
//                                    its lease: the controller takes them out of ISRs and leadership.
//
// Topic names hold only [a-zA-Z0-9._-] (src/engine/topic-name.ts), so '/' separates safely; a
// topic's own prefix is taken with a trailing '/' so that topic "a" never matches "ab".
import { SluiceError } from '../errors.js';

export const DEFAULT_ROOT = '/sluice';

/** The cluster-wide default broker entity's key name, as in Kafka's ZooKeeper layout. */
const DEFAULT_ENTITY_KEY = '<default>';

/** Entities with configs set at runtime, each kind under its own prefix. */
/** Dynamic broker configs, client quotas, users' SCRAM credentials (src/broker/sasl/scram-credentials.ts), ACLs, delegation tokens and finalized feature levels. */
export type ConfigEntityKind = 'brokers' | 'quotas' | 'scram' | 'acls' | 'tokens' | 'features';

/** Leader id of a partition without a leader (Kafka's LeaderAndIsr.NoLeader). */
export const NO_LEADER = -1;

export interface BrokerRegistration {
  brokerId: number;
  /** The host clients and other brokers connect to (advertised.listeners). */
  host: string;
  port: number;
  rack: string | null;
  /**
   * The broker's endpoint on each listener it serves, by name (host and port above are its own
   * listener's, the one brokers use): a client is answered with every broker's endpoint on the
   * listener it came in on, as in Kafka. Absent in a registration written before there were several.
   */
  listeners?: ListenerEndpoint[];
}

export interface ListenerEndpoint {
  name: string;
  host: string;
  port: number;
}

export interface ControllerRecord {
  brokerId: number;
  epoch: number;
}

export interface TopicRecord {
  topicId: string;
  /**
   * Replica broker ids of each partition, in assignment order (the first is the preferred leader).
   * While a partition is reassigned: its target replicas, then the original ones not in the target.
   */
  partitions: number[][];
  /** Topic-level config overrides (e.g. unclean.leader.election.enable, min.insync.replicas). */
  configs: Record<string, string>;
  /** Partitions being reassigned, by partition index (partition-reassignment.ts). */
  reassignments?: Record<string, PartitionReassignment>;
}

/**
 * A partition reassignment in flight (KIP-455): of its replicas, those joining (not in the
 * original assignment) and those leaving (not in the target).
 */
export interface PartitionReassignment {
  adding: number[];
  removing: number[];
}

/** A request to delete a topic: the topic id names the incarnation to delete. */
export interface TopicDeletionRequest {
  topicId: string;
}

/** A broker's controlled shutdown request (Kafka's ControlledShutdownRequest). */
export interface ShutdownRequest {
  brokerId: number;
  /** The registration's create_revision when the request was made. */
  brokerEpoch: number;
}

/** A broker's replicas whose log directory went offline (its disk failed): [topic, partition] pairs. */
export interface OfflineReplicas {
  brokerId: number;
  /** The registration's create_revision when they were reported. */
  brokerEpoch: number;
  partitions: Array<[string, number]>;
}

/** Kafka's LeaderAndIsr as the controller writes it (ZooKeeper's partition state znode). */
export interface PartitionState {
  leader: number;
  leaderEpoch: number;
  isr: number[];
  /** Epoch of the controller that last elected a leader or changed the ISR for a broker change. */
  controllerEpoch: number;
}

export class ClusterKeys {
  readonly brokersPrefix: string;
  readonly controller: string;
  readonly controllerEpoch: string;
  /** The cluster's id (Kafka's cluster.id), written once by the first broker. */
  readonly clusterId: string;
  readonly topicsPrefix: string;
  readonly adminPrefix: string;
  readonly deleteTopicsPrefix: string;
  readonly shutdownPrefix: string;
  readonly offlineReplicasPrefix: string;

  constructor(readonly root = DEFAULT_ROOT) {
    if (!/^\/[^\s]*[^/\s]$/.test(root)) throw new SluiceError('INVALID_CONFIG', `etcd root '${root}' must start with '/' and not end with one`);
    this.brokersPrefix = `${root}/brokers/`;
    this.controller = `${root}/controller`;
    this.controllerEpoch = `${root}/controller_epoch`;
    this.clusterId = `${root}/cluster_id`;
    this.topicsPrefix = `${root}/topics/`;
    this.adminPrefix = `${root}/admin/`;
    this.deleteTopicsPrefix = `${root}/admin/delete_topics/`;
    this.shutdownPrefix = `${root}/admin/shutdown/`;
    this.offlineReplicasPrefix = `${root}/admin/offline_replicas/`;
  }

  /** The shared state of a client's controller_mutation_rate bucket (client-quotas.ts), by its quota key. */
  quotaBucket(quotaKey: string): string {
    return `${this.root}/quota-buckets/${encodeURIComponent(quotaKey)}`;
  }

  /** The prefix of one kind of entity configs set at runtime (dynamic broker configs, client quotas). */
  configsPrefix(kind: ConfigEntityKind): string {
    return `${this.root}/configs/${kind}/`;
  }

  /** The key of an entity's configs: the broker entity '' (every broker) is Kafka's <default>. */
  configEntity(kind: ConfigEntityKind, entity: string): string {
    if (entity.includes('/')) throw new SluiceError('INVALID_REQUEST', `'${entity}' cannot name a config entity`);
    return `${this.configsPrefix(kind)}${entity === '' ? DEFAULT_ENTITY_KEY : entity}`;
  }

  /** The entity a key under configsPrefix(kind) names ('' for the broker default), or undefined. */
  parseConfigEntityKey(kind: ConfigEntityKind, key: string): string | undefined {
    const prefix = this.configsPrefix(kind);
    if (!key.startsWith(prefix)) return undefined;
    const rest = key.slice(prefix.length);
    if (rest === '' || rest.includes('/')) return undefined;
    return rest === DEFAULT_ENTITY_KEY ? '' : rest;
  }

  broker(brokerId: number): string {
    return `${this.brokersPrefix}${brokerId}`;
  }

  topic(topic: string): string {
    return `${this.topicsPrefix}${topic}`;
  }

  /** Prefix of a topic's partition state keys. */
  topicPartitionsPrefix(topic: string): string {
    return `${this.topicsPrefix}${topic}/`;
  }

  partitionState(topic: string, partition: number): string {
    return `${this.topicsPrefix}${topic}/${partition}/state`;
  }

  deleteTopicRequest(topic: string): string {
    return `${this.deleteTopicsPrefix}${topic}`;
  }

  shutdownRequest(brokerId: number): string {
    return `${this.shutdownPrefix}${brokerId}`;
  }

  offlineReplicas(brokerId: number): string {
    return `${this.offlineReplicasPrefix}${brokerId}`;
  }

  /** What a key under adminPrefix names: a topic deletion, a controlled shutdown request or a broker's offline replicas. */
  parseAdminKey(key: string): { kind: 'delete_topic'; topic: string } | { kind: 'shutdown' | 'offline_replicas'; brokerId: number } | undefined {
    if (key.startsWith(this.deleteTopicsPrefix)) {
      const topic = key.slice(this.deleteTopicsPrefix.length);
      return topic !== '' && !topic.includes('/') ? { kind: 'delete_topic', topic } : undefined;
    }
    if (key.startsWith(this.shutdownPrefix)) {
      const rest = key.slice(this.shutdownPrefix.length);
      return /^(0|[1-9][0-9]*)$/.test(rest) ? { kind: 'shutdown', brokerId: Number(rest) } : undefined;
    }
    if (key.startsWith(this.offlineReplicasPrefix)) {
      const rest = key.slice(this.offlineReplicasPrefix.length);
      return /^(0|[1-9][0-9]*)$/.test(rest) ? { kind: 'offline_replicas', brokerId: Number(rest) } : undefined;
    }
    return undefined;
  }

  /** The broker id of a key under brokersPrefix, or undefined for another key. */
  parseBrokerKey(key: string): number | undefined {
    if (!key.startsWith(this.brokersPrefix)) return undefined;
    const rest = key.slice(this.brokersPrefix.length);
    return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : undefined;
  }

  /** What a key under topicsPrefix names: a topic record or a partition state. */
  parseTopicKey(key: string): { kind: 'topic'; topic: string } | { kind: 'partition'; topic: string; partition: number } | undefined {
    if (!key.startsWith(this.topicsPrefix)) return undefined;
    const parts = key.slice(this.topicsPrefix.length).split('/');
    if (parts.length === 1 && parts[0] !== '') return { kind: 'topic', topic: parts[0]! };
    if (parts.length === 3 && parts[2] === 'state' && /^(0|[1-9][0-9]*)$/.test(parts[1]!)) {
      return { kind: 'partition', topic: parts[0]!, partition: Number(parts[1]) };
    }
    return undefined;
  }
}

// ---- values ------------------------------------------------------------------------------------

function corrupt(what: string, text: string, reason: string): SluiceError {
  return new SluiceError('UNKNOWN_SERVER_ERROR', `etcd holds an unreadable ${what} (${reason}): ${text.slice(0, 200)}`);
}

function parseObject(what: string, value: Buffer): Record<string, unknown> {
  const text = value.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw corrupt(what, text, 'not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw corrupt(what, text, 'not an object');
  const object = parsed as Record<string, unknown>;
  if (object['version'] !== 1) throw corrupt(what, text, `version ${String(object['version'])}, this broker reads 1`);
  return object;
}

const isId = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;
const isIdList = (value: unknown): value is number[] => Array.isArray(value) && value.every(isId);

export function encodeBroker(registration: BrokerRegistration): string {
  const { brokerId, host, port, rack, listeners } = registration;
  return JSON.stringify({ version: 1, brokerId, host, port, rack, ...(listeners === undefined ? {} : { listeners }) });
}

export function decodeBroker(value: Buffer): BrokerRegistration {
  const o = parseObject('broker registration', value);
  const { brokerId, host, port, rack, listeners } = o;
  if (!isId(brokerId) || typeof host !== 'string' || !isId(port) || !(rack === null || typeof rack === 'string')) {
    throw corrupt('broker registration', value.toString('utf8'), 'bad fields');
  }
  if (listeners === undefined) return { brokerId, host, port, rack };
  const endpoint = (item: unknown): item is ListenerEndpoint => {
    const e = item as Partial<ListenerEndpoint> | null;
    return typeof e === 'object' && e !== null && typeof e.name === 'string' && typeof e.host === 'string' && isId(e.port);
  };
  if (!Array.isArray(listeners) || !listeners.every(endpoint)) throw corrupt('broker registration', value.toString('utf8'), 'bad listeners');
  return { brokerId, host, port, rack, listeners: listeners.map(({ name, host, port }) => ({ name, host, port })) };
}

export function encodeController(record: ControllerRecord): string {
  return JSON.stringify({ version: 1, brokerId: record.brokerId, epoch: record.epoch });
}

export function decodeController(value: Buffer): ControllerRecord {
  const o = parseObject('controller record', value);
  if (!isId(o['brokerId']) || !isId(o['epoch'])) throw corrupt('controller record', value.toString('utf8'), 'bad fields');
  return { brokerId: o['brokerId'], epoch: o['epoch'] };
}

export function decodeControllerEpoch(value: Buffer): number {
  const text = value.toString('utf8');
  if (!/^(0|[1-9][0-9]*)$/.test(text)) throw corrupt('controller epoch', text, 'not a decimal');
  return Number(text);
}

export function encodeEntityConfigs(configs: Readonly<Record<string, string>>): string {
  return JSON.stringify({ version: 1, configs });
}

export function decodeEntityConfigs(value: Buffer): Record<string, string> {
  const object = parseObject('config record', value);
  const configs = object['configs'];
  if (typeof configs !== 'object' || configs === null || Array.isArray(configs) || Object.values(configs).some((v) => typeof v !== 'string')) {
    throw corrupt('config record', value.toString('utf8'), 'configs are not names and text values');
  }
  return { ...(configs as Record<string, string>) };
}

export function encodeTopic(record: TopicRecord): string {
  const reassignments = record.reassignments !== undefined && Object.keys(record.reassignments).length > 0 ? record.reassignments : undefined;
  return JSON.stringify({ version: 1, topicId: record.topicId, partitions: record.partitions, configs: record.configs, reassignments });
}

function isReassignments(value: unknown, partitionCount: number): value is Record<string, PartitionReassignment> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.entries(value).every(([partition, r]) => {
    if (!/^(0|[1-9][0-9]*)$/.test(partition) || Number(partition) >= partitionCount) return false;
    return typeof r === 'object' && r !== null && isIdList((r as PartitionReassignment).adding) && isIdList((r as PartitionReassignment).removing);
  });
}

export function decodeTopic(value: Buffer): TopicRecord {
  const o = parseObject('topic record', value);
  const { topicId, partitions, configs, reassignments } = o;
  if (typeof topicId !== 'string' || !Array.isArray(partitions) || !partitions.every(isIdList)) {
    throw corrupt('topic record', value.toString('utf8'), 'bad fields');
  }
  if (typeof configs !== 'object' || configs === null || Array.isArray(configs) || !Object.values(configs).every((v) => typeof v === 'string')) {
    throw corrupt('topic record', value.toString('utf8'), 'bad configs');
  }
  if (reassignments === undefined) return { topicId, partitions, configs: configs as Record<string, string> };
  if (!isReassignments(reassignments, partitions.length)) throw corrupt('topic record', value.toString('utf8'), 'bad reassignments');
  return { topicId, partitions, configs: configs as Record<string, string>, reassignments };
}

export function encodePartitionState(state: PartitionState): string {
  return JSON.stringify({ version: 1, leader: state.leader, leaderEpoch: state.leaderEpoch, isr: state.isr, controllerEpoch: state.controllerEpoch });
}

export function decodePartitionState(value: Buffer): PartitionState {
  const o = parseObject('partition state', value);
  const { leader, leaderEpoch, isr, controllerEpoch } = o;
  if (!(leader === NO_LEADER || isId(leader)) || !isId(leaderEpoch) || !isIdList(isr) || !isId(controllerEpoch)) {
    throw corrupt('partition state', value.toString('utf8'), 'bad fields');
  }
  return { leader, leaderEpoch, isr, controllerEpoch };
}

export function encodeTopicDeletion(request: TopicDeletionRequest): string {
  return JSON.stringify({ version: 1, topicId: request.topicId });
}

export function decodeTopicDeletion(value: Buffer): TopicDeletionRequest {
  const o = parseObject('topic deletion request', value);
  if (typeof o['topicId'] !== 'string') throw corrupt('topic deletion request', value.toString('utf8'), 'bad fields');
  return { topicId: o['topicId'] };
}

export function encodeShutdown(request: ShutdownRequest): string {
  return JSON.stringify({ version: 1, brokerId: request.brokerId, brokerEpoch: request.brokerEpoch });
}

export function decodeShutdown(value: Buffer): ShutdownRequest {
  const o = parseObject('controlled shutdown request', value);
  if (!isId(o['brokerId']) || !isId(o['brokerEpoch'])) throw corrupt('controlled shutdown request', value.toString('utf8'), 'bad fields');
  return { brokerId: o['brokerId'], brokerEpoch: o['brokerEpoch'] };
}

export function encodeOfflineReplicas(record: OfflineReplicas): string {
  return JSON.stringify({ version: 1, brokerId: record.brokerId, brokerEpoch: record.brokerEpoch, partitions: record.partitions });
}

export function decodeOfflineReplicas(value: Buffer): OfflineReplicas {
  const o = parseObject('offline replicas', value);
  const partitions = o['partitions'];
  const pair = (p: unknown): p is [string, number] => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && Number.isInteger(p[1]) && (p[1] as number) >= 0;
  if (!isId(o['brokerId']) || !isId(o['brokerEpoch']) || !Array.isArray(partitions) || !partitions.every(pair)) {
    throw corrupt('offline replicas', value.toString('utf8'), 'bad fields');
  }
  return { brokerId: o['brokerId'], brokerEpoch: o['brokerEpoch'], partitions };
}
