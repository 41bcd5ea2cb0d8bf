// The cluster's metadata in etcd: brokers, the controller, topics and partition state, as
// Kafka's lived in ZooKeeper. This is the one object the broker layer talks to; keys and value
// formats are in layout.ts, the election in controller-election.ts, sessions in broker-session.ts.
//
//   const client = new EtcdClient({ endpoints });          // etcd-client.ts
//   const store = new MetadataStore(client, { root: '/sluice' });
//
// Every broker
//   const session = await store.registerBroker({ brokerId, host, port, rack }, { sessionTimeoutMs });
//   const brokers = await store.watchBrokers({ join, leave });      // brokers.live: Map<id, LiveBroker>
//   const topics = await store.watchTopics({ topic, partition });   // topics.topics / topics.state(t, p)
//   const election = await store.startElection(session, { elected, deposed, changed });
//   // as a partition leader changing its ISR (AlterPartition, KIP-497):
//   const updated = await store.alterPartition({ topic, partition, brokerId, leaderEpoch,
//     partitionEpoch, newIsr });          // FENCED_LEADER_EPOCH / INVALID_UPDATE_VERSION / ...
//
// Admin writes from any broker (no fence; the controller acts on them, see controller.ts)
//   await store.proposeTopic({ name, partitions: assignment, configs });   // CreateTopics
//   await store.addPartitions(name, newAssignments, view.revision);        // CreatePartitions
//   await store.alterTopicConfigs(name, configs, view.revision);           // AlterConfigs
//   await store.requestTopicDeletion(name);                                // DeleteTopics
//   await store.requestControlledShutdown(session) / withdrawControlledShutdown(session)
//   await store.reportOfflineReplicas(session, [['orders', 0]])  // replicas on a failed disk
//   const admin = await store.watchAdminRequests({ deletion, shutdown }); // admin-requests.ts
//
// The controller (with the fence its election gave it; a deposed controller gets NOT_CONTROLLER)
//   await store.createTopic(fence, { name, partitions: assignment, configs, states });
//   await store.updatePartitionStates(fence, [{ topic, partition, partitionEpoch, state }, ...]);
//   await store.updateTopicConfigs(fence, name, configs);
//   await store.reassignPartitions(fence, name, (view) => steps);   // replicas + states, one write
//   await store.deleteTopic(fence, name, topicId?);   // also removes a deletion request
//   await store.removeTopicDeletionRequest(fence, name, requestRevision);
// The states come from partition-election.ts (pure functions: who leads, which ISR, which epoch)
// and assignments from replica-assignment.ts; the store only writes them, atomically and fenced.
//
// Partition epoch: the mod_revision of the partition's state key. Every write of a state changes
// it, so a compare on it is Kafka's zkVersion check: the controller's and the leader's updates
// are compare-and-set, and whoever wrote from a stale view gets a typed error and re-reads.
//
// Transactions hold at most etcd's --max-txn-ops (default 128) ops per branch, so many-partition
// writes go in chunks of TXN_PARTITIONS_MAX. Chunks are not atomic together: a controller that
// dies mid-way leaves a topic with some states missing, and the next controller writes them
// (`TopicView.states[p] === undefined`, written with partitionEpoch 0 = "must be absent").
//
// Retried writes: the client retries a call whose answer was lost, and a transaction applied by
// the first attempt then fails its compare. Each write reads back in its failure branch and takes
// "the current value is exactly what I wrote" as success, so a lost answer is not a lost race.
import { randomUUID } from 'node:crypto';

import { SluiceError } from '../errors.js';
import { invalidTopicReason } from '../engine/topic-name.js';
import {
  AdminRequestsWatch,
  removeTopicDeletionRequest,
  reportOfflineReplicas,
  requestControlledShutdown,
  requestTopicDeletion,
  unknownTopic,
  withdrawControlledShutdown,
  type AdminRequestsListener,
} from './admin-requests.js';
import { registerBroker, type BrokerSession, type BrokerSessionOptions } from './broker-session.js';
import {
  campaign,
  controllerInfo,
  ControllerElection,
  fenceCompares,
  fenceHolds,
  fenceReads,
  notController,
  resign,
  type ControllerElectionHandler,
  type ControllerFence,
  type ControllerInfo,
} from './controller-election.js';
import type { EtcdClient } from './etcd-client.js';
import { KeyMirror, type KeyChange } from './key-mirror.js';
import { compare, op, rangeRecords, readKey, readPrefix, txn, type KvRecord } from './kv.js';
import {
  ClusterKeys,
  decodeBroker,
  decodeEntityConfigs,
  decodeControllerEpoch,
  decodePartitionState,
  decodeTopic,
  encodeEntityConfigs,
  encodePartitionState,
  encodeTopic,
  NO_LEADER,
  type BrokerRegistration,
  type ConfigEntityKind,
  type PartitionReassignment,
  type PartitionState,
  type TopicRecord,
} from './layout.js';
import type { ReassignmentStep } from './partition-reassignment.js';

/** Partition states per transaction: etcd's default --max-txn-ops is 128 per branch, and a
 *  fenced chunk adds 2 fence compares (and 2 fence reads on failure) to one op per partition. */
export const TXN_PARTITIONS_MAX = 100;

/** Attempts of a leader's ISR change whose compare failed only because a broker registration
 *  moved (a member re-registered) between the read and the write. */
const ALTER_PARTITION_ATTEMPTS = 3;
/** Attempts of a reassignment whose topic record or partition states moved between its read and its write. */
const REASSIGN_ATTEMPTS = 5;

export interface MetadataStoreOptions {
  /** Key prefix of this cluster in etcd. Default '/sluice'. */
  root?: string;
}

export interface LiveBroker extends BrokerRegistration {
  /** create_revision of the registration: changes each time the broker registers. */
  brokerEpoch: number;
  leaseId: string;
}

export interface PartitionStateRecord extends PartitionState {
  topic: string;
  partition: number;
  /** mod_revision of the state key. */
  partitionEpoch: number;
}

export interface TopicView extends TopicRecord {
  name: string;
  /** mod_revision of the topic record (for compare-and-set of configs or assignment). */
  revision: number;
  /** By partition index; undefined where the state was not written yet. */
  states: (PartitionStateRecord | undefined)[];
}

export interface CreateTopicSpec {
  name: string;
  /** A UUID; a fresh one when omitted. */
  topicId?: string;
  /** Replica assignment by partition index (replica-assignment.ts). */
  partitions: number[][];
  configs?: Record<string, string>;
  /** Initial state of each partition (partition-election.ts initialPartitionState). */
  states: PartitionState[];
}

/** A topic as any broker proposes it; the controller writes the partition states. */
export interface ProposeTopicSpec {
  name: string;
  /** A UUID; a fresh one when omitted. */
  topicId?: string;
  /** Replica assignment by partition index (replica-assignment.ts). */
  partitions: number[][];
  configs?: Record<string, string>;
}

export interface PartitionStateUpdate {
  topic: string;
  partition: number;
  /** The partition epoch the update was computed from; 0 when the state must not exist yet. */
  partitionEpoch: number;
  state: PartitionState;
}

export type PartitionUpdateResult =
  | { ok: true; record: PartitionStateRecord }
  /** INVALID_UPDATE_VERSION: the state moved since `partitionEpoch`; `current` is what it is now. */
  | { ok: false; error: SluiceError; current: PartitionStateRecord | undefined };

/** Kafka's AlterPartition for one partition, from its leader. */
export interface AlterPartitionRequest {
  topic: string;
  partition: number;
  /** The leader asking. */
  brokerId: number;
  leaderEpoch: number;
  partitionEpoch: number;
  newIsr: number[];
}

export interface BrokersListener {
  join?(broker: LiveBroker): void;
  leave?(broker: LiveBroker): void;
  error?(error: unknown): void;
}

export interface TopicsListener {
  /** A topic record was created or changed (`topic`), or deleted (undefined). */
  topic?(name: string, topic: TopicView | undefined): void;
  /** A partition state was written (`state`), or deleted with its topic (undefined). */
  partition?(topic: string, partition: number, state: PartitionStateRecord | undefined): void;
  error?(error: unknown): void;
}

function liveBroker(record: KvRecord): LiveBroker {
  return { ...decodeBroker(record.value), brokerEpoch: record.createRevision, leaseId: record.lease };
}

function stateRecord(topic: string, partition: number, record: KvRecord): PartitionStateRecord {
  return { topic, partition, ...decodePartitionState(record.value), partitionEpoch: record.modRevision };
}

function sameState(a: PartitionState, b: PartitionState): boolean {
  return a.leader === b.leader && a.leaderEpoch === b.leaderEpoch && a.controllerEpoch === b.controllerEpoch && a.isr.length === b.isr.length && a.isr.every((id, i) => b.isr[i] === id);
}

function checkState(where: string, state: PartitionState, replicas: readonly number[] | undefined): void {
  const { leader, leaderEpoch, isr, controllerEpoch } = state;
  const ok =
    Number.isInteger(leaderEpoch) && leaderEpoch >= 0 &&
    Number.isInteger(controllerEpoch) && controllerEpoch >= 0 &&
    Array.isArray(isr) && isr.length > 0 && new Set(isr).size === isr.length &&
    (leader === NO_LEADER || isr.includes(leader)) &&
    (replicas === undefined || isr.every((id) => replicas.includes(id)));
  if (!ok) throw new SluiceError('INVALID_REQUEST', `${where}: invalid partition state ${JSON.stringify(state)}${replicas ? ` for replicas [${replicas.join(',')}]` : ''}`);
}

/** The shape of replica lists: non-empty sets of broker ids, all of one length (the replication factor). */
function checkAssignment(where: string, partitions: readonly (readonly number[])[], replicationFactor: number | undefined): void {
  let factor = replicationFactor;
  for (const replicas of partitions) {
    const ok = Array.isArray(replicas) && replicas.length > 0 && replicas.every((id) => Number.isInteger(id) && id >= 0) && new Set(replicas).size === replicas.length;
    if (!ok) throw new SluiceError('INVALID_REPLICA_ASSIGNMENT', `${where}: replica list ${JSON.stringify(replicas)} is not a non-empty set of broker ids`);
    if (factor !== undefined && replicas.length !== factor) {
      throw new SluiceError('INVALID_REPLICA_ASSIGNMENT', `${where}: a partition with ${replicas.length} replica(s) among partitions with ${factor}`);
    }
    factor = replicas.length;
  }
}

function hasReassignments(record: TopicRecord): boolean {
  return record.reassignments !== undefined && Object.keys(record.reassignments).length > 0;
}

function staleTopic(name: string, expected: number, actual: number): SluiceError {
  return new SluiceError('INVALID_UPDATE_VERSION', `topic ${name} is at revision ${actual}, not ${expected}`);
}

function checkConfigs(where: string, configs: Record<string, string>): void {
  if (typeof configs !== 'object' || configs === null || !Object.values(configs).every((value) => typeof value === 'string')) {
    throw new SluiceError('INVALID_CONFIG', `${where}: topic configs must map names to strings`);
  }
}

export class MetadataStore {
  readonly keys: ClusterKeys;

  constructor(
    readonly client: EtcdClient,
    options: MetadataStoreOptions = {},
  ) {
    this.keys = new ClusterKeys(options.root);
  }

  // ---- the cluster -----------------------------------------------------------------------------

  /** The cluster's id: `proposed` when this is the first broker to ask, else the one written before. */
  async clusterId(proposed: string): Promise<string> {
    const result = await txn(this.client, [compare.absent(this.keys.clusterId)], [op.put(this.keys.clusterId, proposed)], [op.get(this.keys.clusterId)]);
    if (result.succeeded) return proposed;
    const existing = rangeRecords(result.responses[0])[0];
    return existing === undefined ? proposed : existing.value.toString('utf8');
  }

  // ---- brokers ---------------------------------------------------------------------------------

  /** Registers the broker on a fresh lease (broker-session.ts). */
  registerBroker(registration: BrokerRegistration, options: BrokerSessionOptions = {}): Promise<BrokerSession> {
    return registerBroker(this.client, this.keys, registration, options);
  }

  async liveBrokers(): Promise<LiveBroker[]> {
    const { records } = await readPrefix(this.client, this.keys.brokersPrefix);
    return records.map(liveBroker).sort((a, b) => a.brokerId - b.brokerId);
  }

  /** Live brokers now and as they join and leave; `join` is not called for the initial ones. */
  async watchBrokers(listener: BrokersListener = {}): Promise<BrokersWatch> {
    const live = new Map<number, LiveBroker>();
    const decode = (record: KvRecord): LiveBroker | undefined => {
      try {
        return liveBroker(record);
      } catch (error) {
        listener.error?.(error);
        return undefined;
      }
    };
    const mirror = await KeyMirror.start(this.client, { prefix: this.keys.brokersPrefix }, {
      snapshot: (records) => {
        for (const record of records.values()) {
          const broker = decode(record);
          if (broker !== undefined) live.set(broker.brokerId, broker);
        }
      },
      change: (change) => {
        const key = change.type === 'put' ? change.record.key : change.key;
        const brokerId = this.keys.parseBrokerKey(key);
        if (brokerId === undefined) return;
        const before = live.get(brokerId);
        if (before !== undefined) {
          live.delete(brokerId);
          listener.leave?.(before);
        }
        if (change.type === 'put') {
          const broker = decode(change.record);
          if (broker === undefined) return;
          live.set(brokerId, broker);
          listener.join?.(broker);
        }
      },
      error: (error) => listener.error?.(error),
    });
    return new BrokersWatch(live, mirror);
  }

  // ---- configs set at runtime: dynamic broker configs, client quotas ---------------------------

  /** Every entity's configs of one kind (the broker default is ''), by entity. */
  async readConfigEntities(kind: ConfigEntityKind): Promise<Map<string, Record<string, string>>> {
    const { records } = await readPrefix(this.client, this.keys.configsPrefix(kind));
    return this.configEntitiesOf(kind, records);
  }

  /** Calls `listener` with every entity's configs of one kind now, and again after each change. */
  watchConfigEntities(kind: ConfigEntityKind, listener: (entities: Map<string, Record<string, string>>) => void, onError?: (error: unknown) => void): Promise<KeyMirror> {
    const current = new Map<string, KvRecord>();
    const deliver = () => {
      try {
        listener(this.configEntitiesOf(kind, current.values()));
      } catch (error) {
        onError?.(error);
      }
    };
    return KeyMirror.start(this.client, { prefix: this.keys.configsPrefix(kind) }, {
      snapshot: (records) => {
        for (const [key, record] of records) current.set(key, record);
        deliver();
      },
      change: (change) => {
        if (change.type === 'put') current.set(change.record.key, change.record);
        else current.delete(change.key);
        deliver();
      },
      error: onError,
    });
  }

  /**
   * Replaces one entity's configs with what `change` makes of the current ones (empty: the key is
   * deleted), compare-and-set on the key's revision, retried on a race with another broker's
   * write; returns what was written.
   */
  async updateConfigEntity(kind: ConfigEntityKind, entity: string, change: (current: Record<string, string>) => Record<string, string>): Promise<Record<string, string>> {
    const key = this.keys.configEntity(kind, entity);
    for (;;) {
      const { record } = await readKey(this.client, key);
      const next = change(record === undefined ? {} : decodeEntityConfigs(record.value));
      const write = Object.keys(next).length === 0 ? op.delete(key) : op.put(key, encodeEntityConfigs(next));
      const result = await txn(this.client, [compare.modRevision(key, record?.modRevision ?? 0)], [write]);
      if (result.succeeded) return next;
    }
  }

  /**
   * Replaces the JSON state under a client's controller_mutation_rate bucket with what `change`
   * makes of it (undefined: none yet), compare-and-set as updateConfigEntity; resolves with what
   * `change` returned of the write that held. The key has no lease: a bucket left full is as
   * good as none, and there is one per quota entity.
   */
  async updateQuotaBucket<T extends object, R>(quotaKey: string, change: (current: T | undefined) => { next: T; result: R }): Promise<R> {
    const key = this.keys.quotaBucket(quotaKey);
    for (;;) {
      const { record } = await readKey(this.client, key);
      const { next, result } = change(record === undefined ? undefined : (JSON.parse(record.value.toString('utf8')) as T));
      const written = await txn(this.client, [compare.modRevision(key, record?.modRevision ?? 0)], [op.put(key, JSON.stringify(next))]);
      if (written.succeeded) return result;
    }
  }

  private configEntitiesOf(kind: ConfigEntityKind, records: Iterable<KvRecord>): Map<string, Record<string, string>> {
    const entities = new Map<string, Record<string, string>>();
    for (const record of records) {
      const entity = this.keys.parseConfigEntityKey(kind, record.key);
      if (entity !== undefined) entities.set(entity, decodeEntityConfigs(record.value));
    }
    return entities;
  }

  // ---- controller ------------------------------------------------------------------------------

  async readController(): Promise<ControllerInfo | undefined> {
    const { record } = await readKey(this.client, this.keys.controller);
    return record === undefined ? undefined : controllerInfo(record);
  }

  /** The controller epoch (0 before any controller was elected). */
  async readControllerEpoch(): Promise<number> {
    const { record } = await readKey(this.client, this.keys.controllerEpoch);
    return record === undefined ? 0 : decodeControllerEpoch(record.value);
  }

  /** One campaign (controller-election.ts): our fence, or undefined when another broker leads. */
  campaign(session: BrokerSession): Promise<ControllerFence | undefined> {
    return campaign(this.client, this.keys, session);
  }

  /** Deletes the controller key if `fence`'s reign holds it. */
  resign(fence: ControllerFence): Promise<boolean> {
    return resign(this.client, this.keys, fence);
  }

  /** Watches the controller key and campaigns whenever it is absent. */
  startElection(session: BrokerSession, handler: ControllerElectionHandler = {}): Promise<ControllerElection> {
    return ControllerElection.start(this.client, this.keys, session, handler);
  }

  /** Calls `listener` with the current controller and on each change (undefined: none). */
  async watchController(listener: (controller: ControllerInfo | undefined) => void, onError?: (error: unknown) => void): Promise<KeyMirror> {
    const deliver = (record: KvRecord | undefined) => {
      try {
        listener(record === undefined ? undefined : controllerInfo(record));
      } catch (error) {
        onError?.(error);
      }
    };
    return KeyMirror.start(this.client, { key: this.keys.controller }, {
      snapshot: (records) => deliver(records.get(this.keys.controller)),
      change: (change) => deliver(change.type === 'put' ? change.record : undefined),
      error: onError,
    });
  }

  // ---- topics: reads ---------------------------------------------------------------------------

  async readTopic(name: string): Promise<TopicView | undefined> {
    const result = await txn(this.client, [], [op.get(this.keys.topic(name)), op.getPrefix(this.keys.topicPartitionsPrefix(name))]);
    const topicRecord = rangeRecords(result.responses[0])[0];
    if (topicRecord === undefined) return undefined;
    return this.topicView(name, topicRecord, rangeRecords(result.responses[1]));
  }

  async listTopics(): Promise<Map<string, TopicView>> {
    const { records } = await readPrefix(this.client, this.keys.topicsPrefix);
    return this.topicViews(records);
  }

  async readPartitionState(topic: string, partition: number): Promise<PartitionStateRecord | undefined> {
    const { record } = await readKey(this.client, this.keys.partitionState(topic, partition));
    return record === undefined ? undefined : stateRecord(topic, partition, record);
  }

  /**
   * Topics and partition states now, and each change after: what a broker needs to answer
   * Metadata and to become leader or follower of its replicas. Listeners are not called for the
   * initial state (read it from the returned watch).
   */
  async watchTopics(listener: TopicsListener = {}): Promise<TopicsWatch> {
    const watch = new TopicsWatch(this.keys, listener);
    watch.attach(
      await KeyMirror.start(this.client, { prefix: this.keys.topicsPrefix }, {
        snapshot: (records) => watch.load(records),
        change: (change) => watch.apply(change),
        error: (error) => listener.error?.(error),
      }),
    );
    return watch;
  }

  private topicView(name: string, topicRecord: KvRecord, stateRecords: KvRecord[]): TopicView {
    const record = decodeTopic(topicRecord.value);
    const states: (PartitionStateRecord | undefined)[] = record.partitions.map(() => undefined);
    for (const kv of stateRecords) {
      const parsed = this.keys.parseTopicKey(kv.key);
      if (parsed?.kind === 'partition' && parsed.topic === name && parsed.partition < states.length) {
        states[parsed.partition] = stateRecord(name, parsed.partition, kv);
      }
    }
    return { name, ...record, revision: topicRecord.modRevision, states };
  }

  private topicViews(records: Iterable<KvRecord>): Map<string, TopicView> {
    const topicRecords = new Map<string, KvRecord>();
    const stateRecords = new Map<string, KvRecord[]>();
    for (const record of records) {
      const parsed = this.keys.parseTopicKey(record.key);
      if (parsed?.kind === 'topic') topicRecords.set(parsed.topic, record);
      else if (parsed?.kind === 'partition') {
        const list = stateRecords.get(parsed.topic) ?? [];
        list.push(record);
        stateRecords.set(parsed.topic, list);
      }
    }
    const views = new Map<string, TopicView>();
    for (const [name, record] of topicRecords) views.set(name, this.topicView(name, record, stateRecords.get(name) ?? []));
    return views;
  }

  // ---- topics: admin writes from any broker (no fence) ------------------------------------------

  /**
   * Writes a topic record if the name is free (Kafka's ZooKeeper-mode CreateTopics on any broker);
   * the controller then writes each partition's initial state. TOPIC_ALREADY_EXISTS when the name
   * is taken; INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, INVALID_REPLICA_ASSIGNMENT for a bad
   * name or assignment shape (the assignment should come from replica-assignment.ts). The view
   * returned has no states yet.
   */
  async proposeTopic(spec: ProposeTopicSpec): Promise<TopicView> {
    const reason = invalidTopicReason(spec.name);
    if (reason !== null) throw new SluiceError('INVALID_TOPIC_EXCEPTION', `Topic name is invalid: ${reason}`);
    if (spec.partitions.length === 0) throw new SluiceError('INVALID_PARTITIONS', `topic ${spec.name}: no partitions`);
    checkAssignment(spec.name, spec.partitions, undefined);
    const configs = { ...(spec.configs ?? {}) };
    checkConfigs(spec.name, configs);
    const record: TopicRecord = { topicId: spec.topicId ?? randomUUID(), partitions: spec.partitions.map((replicas) => [...replicas]), configs };
    const topicKey = this.keys.topic(spec.name);
    const result = await txn(this.client, [compare.absent(topicKey)], [op.put(topicKey, encodeTopic(record))], [op.get(topicKey)]);
    let revision = Number(result.header.revision);
    if (!result.succeeded) {
      const existing = rangeRecords(result.responses[0])[0];
      // Ours, from an attempt whose answer was lost.
      const ours = existing !== undefined && decodeTopic(existing.value).topicId === record.topicId;
      if (!ours) throw new SluiceError('TOPIC_ALREADY_EXISTS', `Topic '${spec.name}' already exists.`);
      revision = existing.modRevision;
    }
    return { name: spec.name, ...record, revision, states: record.partitions.map(() => undefined) };
  }

  /**
   * Appends partitions to a topic (CreatePartitions): `newAssignments` are the replica lists of
   * partitions n, n+1, ... where n is the current count; the controller writes their states.
   * Pass the revision of the view the assignment was computed from, so that two requests from
   * one view cannot both land (INVALID_UPDATE_VERSION). UNKNOWN_TOPIC_OR_PARTITION,
   * INVALID_PARTITIONS (none given), INVALID_REPLICA_ASSIGNMENT (shape, or another replication factor).
   */
  async addPartitions(name: string, newAssignments: number[][], expectedRevision?: number): Promise<TopicView> {
    if (newAssignments.length === 0) throw new SluiceError('INVALID_PARTITIONS', `topic ${name}: no partitions to add`);
    return this.casTopicRecord(name, expectedRevision, (record) => {
      if (hasReassignments(record)) throw new SluiceError('REASSIGNMENT_IN_PROGRESS', `topic ${name}: partitions are being reassigned; add partitions once that is done`);
      checkAssignment(name, newAssignments, record.partitions[0]?.length);
      return { ...record, partitions: [...record.partitions, ...newAssignments.map((replicas) => [...replicas])] };
    });
  }

  /** Replaces a topic's config overrides from any broker (AlterConfigs), compare-and-set on `expectedRevision` when given. */
  async alterTopicConfigs(name: string, configs: Record<string, string>, expectedRevision?: number): Promise<TopicView> {
    checkConfigs(name, configs);
    return this.casTopicRecord(name, expectedRevision, (record) => ({ ...record, configs: { ...configs } }));
  }

  /** Asks the controller to delete the topic (admin-requests.ts). UNKNOWN_TOPIC_OR_PARTITION. */
  requestTopicDeletion(name: string): Promise<void> {
    return requestTopicDeletion(this.client, this.keys, name);
  }

  /** Asks the controller to move leadership off this session's broker (admin-requests.ts). */
  requestControlledShutdown(session: BrokerSession): Promise<void> {
    return requestControlledShutdown(this.client, this.keys, session);
  }

  withdrawControlledShutdown(session: BrokerSession): Promise<void> {
    return withdrawControlledShutdown(this.client, this.keys, session);
  }

  /** This session's replicas in offline log directories, the whole list (admin-requests.ts). */
  reportOfflineReplicas(session: BrokerSession, partitions: Array<[string, number]>): Promise<void> {
    return reportOfflineReplicas(this.client, this.keys, session, partitions);
  }

  /** Pending deletion and shutdown requests now, and each change after. */
  watchAdminRequests(listener: AdminRequestsListener = {}): Promise<AdminRequestsWatch> {
    return AdminRequestsWatch.start(this.client, this.keys, listener);
  }

  // ---- topics: controller writes ---------------------------------------------------------------

  /**
   * Writes a new topic and its partitions' initial states. TOPIC_ALREADY_EXISTS when the name is
   * taken; NOT_CONTROLLER when `fence` no longer holds. The assignment should come validated
   * (replica-assignment.ts); only its shape is checked here.
   */
  async createTopic(fence: ControllerFence, spec: CreateTopicSpec): Promise<TopicView> {
    const reason = invalidTopicReason(spec.name);
    if (reason !== null) throw new SluiceError('INVALID_TOPIC_EXCEPTION', `Topic name is invalid: ${reason}`);
    if (spec.partitions.length === 0) throw new SluiceError('INVALID_PARTITIONS', `topic ${spec.name}: no partitions`);
    if (spec.states.length !== spec.partitions.length) {
      throw new SluiceError('INVALID_REQUEST', `topic ${spec.name}: ${spec.partitions.length} partitions but ${spec.states.length} states`);
    }
    spec.states.forEach((state, p) => checkState(`${spec.name}-${p}`, state, spec.partitions[p]));
    const record: TopicRecord = { topicId: spec.topicId ?? randomUUID(), partitions: spec.partitions, configs: spec.configs ?? {} };
    const topicKey = this.keys.topic(spec.name);
    const first = spec.states.slice(0, TXN_PARTITIONS_MAX - 1);

    const result = await txn(
      this.client,
      [...fenceCompares(this.keys, fence), compare.absent(topicKey)],
      [op.put(topicKey, encodeTopic(record)), ...first.map((state, p) => op.put(this.keys.partitionState(spec.name, p), encodePartitionState(state)))],
      [...fenceReads(this.keys), op.get(topicKey)],
    );
    if (!result.succeeded) {
      const [epochRecord, controllerRecord, existing] = result.responses.map((response) => rangeRecords(response)[0]);
      if (!fenceHolds(fence, epochRecord, controllerRecord)) throw notController(fence, controllerRecord);
      // Ours, from an attempt whose answer was lost: carry on with the rest.
      const ours = existing !== undefined && decodeTopic(existing.value).topicId === record.topicId;
      if (!ours) throw new SluiceError('TOPIC_ALREADY_EXISTS', `Topic '${spec.name}' already exists.`);
    }
    if (spec.states.length > first.length) {
      const rest = spec.states.slice(first.length).map((state, i) => ({ topic: spec.name, partition: first.length + i, partitionEpoch: 0, state }));
      const results = await this.updatePartitionStates(fence, rest);
      const failed = results.find((r) => !r.ok);
      if (failed !== undefined && !failed.ok) throw failed.error;
    }
    const view = await this.readTopic(spec.name);
    if (view === undefined) throw notController(fence, undefined); // deleted at once by a successor
    return view;
  }

  /**
   * Compare-and-set of partition states by the controller. Each update succeeds only if its
   * state's partition epoch is still `partitionEpoch` (0: absent); the ones that moved come back
   * as INVALID_UPDATE_VERSION with the current state, the others are written. NOT_CONTROLLER
   * (thrown) when `fence` no longer holds.
   */
  async updatePartitionStates(fence: ControllerFence, updates: readonly PartitionStateUpdate[]): Promise<PartitionUpdateResult[]> {
    for (const update of updates) checkState(`${update.topic}-${update.partition}`, update.state, undefined);
    const results: PartitionUpdateResult[] = new Array(updates.length);
    for (let start = 0; start < updates.length; start += TXN_PARTITIONS_MAX) {
      let pending = updates.slice(start, start + TXN_PARTITIONS_MAX).map((update, i) => ({ update, index: start + i }));
      while (pending.length > 0) {
        const stateKeys = pending.map(({ update }) => this.keys.partitionState(update.topic, update.partition));
        const result = await txn(
          this.client,
          [...fenceCompares(this.keys, fence), ...pending.map(({ update }, i) => compare.modRevision(stateKeys[i]!, update.partitionEpoch))],
          pending.map(({ update }, i) => op.put(stateKeys[i]!, encodePartitionState(update.state))),
          [...fenceReads(this.keys), ...stateKeys.map((key) => op.get(key))],
        );
        if (result.succeeded) {
          const partitionEpoch = Number(result.header.revision);
          for (const { update, index } of pending) results[index] = { ok: true, record: { topic: update.topic, partition: update.partition, ...update.state, partitionEpoch } };
          break;
        }
        const [epochRecord, controllerRecord, ...current] = result.responses.map((response) => rangeRecords(response)[0]);
        if (!fenceHolds(fence, epochRecord, controllerRecord)) throw notController(fence, controllerRecord);
        const stillValid: typeof pending = [];
        pending.forEach((entry, i) => {
          const { update, index } = entry;
          const now = current[i] === undefined ? undefined : stateRecord(update.topic, update.partition, current[i]!);
          if ((now?.partitionEpoch ?? 0) === update.partitionEpoch) stillValid.push(entry);
          else if (now !== undefined && sameState(now, update.state)) results[index] = { ok: true, record: now }; // our lost answer
          else {
            results[index] = {
              ok: false,
              current: now,
              error: new SluiceError('INVALID_UPDATE_VERSION', `${update.topic}-${update.partition}: partition epoch is ${now?.partitionEpoch ?? 0}, not ${update.partitionEpoch}`),
            };
          }
        });
        pending = stillValid;
      }
    }
    return results;
  }

  /**
   * Moves partitions of a topic (partition-reassignment.ts): `plan` maps the topic as etcd holds
   * it now to the step of each partition to change (none: nothing to write). The topic record
   * (replicas and reassignments) and the changed states are written in one transaction, compared
   * on the record's revision, each changed state's partition epoch and the fence; when any moved
   * meanwhile, the topic is read again and planned again, up to REASSIGN_ATTEMPTS times
   * (INVALID_UPDATE_VERSION after). A retry after a lost answer plans nothing: the steps are
   * already there. UNKNOWN_TOPIC_OR_PARTITION, NOT_CONTROLLER.
   */
  async reassignPartitions(fence: ControllerFence, name: string, plan: (view: TopicView) => ReadonlyMap<number, ReassignmentStep>): Promise<{ view: TopicView; written: PartitionStateRecord[] }> {
    if (invalidTopicReason(name) !== null) throw unknownTopic(name);
    const topicKey = this.keys.topic(name);
    for (let attempt = 1; ; attempt++) {
      const view = await this.readTopic(name);
      if (view === undefined) throw unknownTopic(name);
      const steps = plan(view);
      if (steps.size === 0) return { view, written: [] };
      const partitions = view.partitions.map((replicas) => [...replicas]);
      const reassignments: Record<string, PartitionReassignment> = { ...view.reassignments };
      const states: PartitionStateUpdate[] = [];
      for (const [partition, step] of steps) {
        const current = view.states[partition];
        if (partition >= partitions.length) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host this topic-partition: ${name}-${partition}`);
        checkAssignment(`${name}-${partition}`, [step.replicas], undefined);
        partitions[partition] = [...step.replicas];
        if (step.reassignment === undefined) delete reassignments[String(partition)];
        else reassignments[String(partition)] = { adding: [...step.reassignment.adding], removing: [...step.reassignment.removing] };
        if (step.state === undefined) continue;
        if (current === undefined) throw new SluiceError('INVALID_REQUEST', `${name}-${partition} has no state yet to change`);
        checkState(`${name}-${partition}`, step.state, step.replicas);
        states.push({ topic: name, partition, partitionEpoch: current.partitionEpoch, state: step.state });
      }
      // No reassignments key once none is left: the record reads back exactly as written (decodeTopic).
      const record: TopicRecord = Object.keys(reassignments).length === 0
        ? { topicId: view.topicId, partitions, configs: view.configs }
        : { topicId: view.topicId, partitions, configs: view.configs, reassignments };
      const stateKeys = states.map((update) => this.keys.partitionState(name, update.partition));
      const result = await txn(
        this.client,
        [...fenceCompares(this.keys, fence), compare.modRevision(topicKey, view.revision), ...states.map((update, i) => compare.modRevision(stateKeys[i]!, update.partitionEpoch))],
        [op.put(topicKey, encodeTopic(record)), ...states.map((update, i) => op.put(stateKeys[i]!, encodePartitionState(update.state)))],
        fenceReads(this.keys),
      );
      if (result.succeeded) {
        const revision = Number(result.header.revision);
        const written = states.map(({ partition, state }) => ({ topic: name, partition, ...state, partitionEpoch: revision }));
        const nextStates = [...view.states];
        for (const state of written) nextStates[state.partition] = state;
        return { view: { ...record, name, revision, states: nextStates }, written };
      }
      const [epochRecord, controllerRecord] = result.responses.map((response) => rangeRecords(response)[0]);
      if (!fenceHolds(fence, epochRecord, controllerRecord)) throw notController(fence, controllerRecord);
      if (attempt >= REASSIGN_ATTEMPTS) throw new SluiceError('INVALID_UPDATE_VERSION', `topic ${name}: its record or partition states kept changing during a reassignment`);
    }
  }

  /** Replaces a topic's config overrides. UNKNOWN_TOPIC_OR_PARTITION, NOT_CONTROLLER. */
  async updateTopicConfigs(fence: ControllerFence, name: string, configs: Record<string, string>): Promise<TopicView> {
    checkConfigs(name, configs);
    return this.casTopicRecord(name, undefined, (record) => ({ ...record, configs: { ...configs } }), fence);
  }

  /**
   * Deletes a topic record, its partition states and any deletion request for it, in one
   * transaction. With `topicId`, only that incarnation of the topic: UNKNOWN_TOPIC_ID when the
   * name now holds another. UNKNOWN_TOPIC_OR_PARTITION, NOT_CONTROLLER.
   */
  async deleteTopic(fence: ControllerFence, name: string, topicId?: string): Promise<void> {
    if (invalidTopicReason(name) !== null) throw unknownTopic(name);
    const topicKey = this.keys.topic(name);
    const { record } = await readKey(this.client, topicKey);
    if (record === undefined) throw unknownTopic(name);
    if (topicId !== undefined && decodeTopic(record.value).topicId !== topicId) {
      throw new SluiceError('UNKNOWN_TOPIC_ID', `topic ${name} has another topic id than ${topicId} (it was re-created)`);
    }
    const result = await txn(
      this.client,
      [...fenceCompares(this.keys, fence), compare.createRevision(topicKey, record.createRevision)],
      [op.delete(topicKey), op.deletePrefix(this.keys.topicPartitionsPrefix(name)), op.delete(this.keys.deleteTopicRequest(name))],
      [...fenceReads(this.keys), op.get(topicKey)],
    );
    if (result.succeeded) return;
    const [epochRecord, controllerRecord, now] = result.responses.map((response) => rangeRecords(response)[0]);
    if (!fenceHolds(fence, epochRecord, controllerRecord)) throw notController(fence, controllerRecord);
    if (now !== undefined) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} was re-created while being deleted`);
    // Absent now: deleted by our own attempt whose answer was lost.
  }

  /** Drops a deletion request whose topic is gone (admin-requests.ts). NOT_CONTROLLER. */
  removeTopicDeletionRequest(fence: ControllerFence, name: string, requestRevision: number): Promise<void> {
    return removeTopicDeletionRequest(this.client, this.keys, fence, name, requestRevision);
  }

  /**
   * Compare-and-set of a topic record: `change` maps the current record to the next, written only
   * if the record is still at the revision it was read at (and, with `fence`, only by that
   * controller). With `expectedRevision`, a record at another revision is INVALID_UPDATE_VERSION;
   * without, a record that moved is read again and `change` applied to it. A retry after a lost
   * answer finds the record equal to what it wrote and takes that as success.
   */
  private async casTopicRecord(
    name: string,
    expectedRevision: number | undefined,
    change: (record: TopicRecord) => TopicRecord,
    fence?: ControllerFence,
  ): Promise<TopicView> {
    if (invalidTopicReason(name) !== null) throw unknownTopic(name);
    const topicKey = this.keys.topic(name);
    for (;;) {
      const view = await this.readTopic(name);
      if (view === undefined) throw unknownTopic(name);
      if (expectedRevision !== undefined && view.revision !== expectedRevision) throw staleTopic(name, expectedRevision, view.revision);
      const { topicId, partitions, configs, reassignments } = view;
      const next = change(reassignments === undefined ? { topicId, partitions, configs } : { topicId, partitions, configs, reassignments });
      const encoded = encodeTopic(next);
      const result = await txn(
        this.client,
        [...(fence === undefined ? [] : fenceCompares(this.keys, fence)), compare.modRevision(topicKey, view.revision)],
        [op.put(topicKey, encoded)],
        [...(fence === undefined ? [] : fenceReads(this.keys)), op.get(topicKey)],
      );
      const states = next.partitions.map((_, p) => view.states[p]);
      if (result.succeeded) return { ...view, ...next, revision: Number(result.header.revision), states };
      const failure = result.responses.map((response) => rangeRecords(response)[0]);
      if (fence !== undefined && !fenceHolds(fence, failure[0], failure[1])) throw notController(fence, failure[1]);
      const now = failure[failure.length - 1];
      if (now === undefined) throw unknownTopic(name);
      if (encodeTopic(decodeTopic(now.value)) === encoded) return { ...view, ...next, revision: now.modRevision, states }; // our lost answer
      if (expectedRevision !== undefined) throw staleTopic(name, expectedRevision, now.modRevision);
    }
  }

  // ---- partition state: leader writes ----------------------------------------------------------

  /**
   * A leader's ISR change (Kafka's AlterPartition, validated in the order of Kafka's
   * ReplicationControlManager.validateAlterPartitionData):
   *   UNKNOWN_TOPIC_OR_PARTITION  no such partition state;
   *   NOT_CONTROLLER              the request's leader or partition epoch is newer than etcd's
   *                               (Kafka's answer when the controller is behind);
   *   FENCED_LEADER_EPOCH         the leader epoch is older: a new leader was elected;
   *   INVALID_REQUEST             the sender is not the leader, or the ISR is not a set of
   *                               assigned replicas that includes the leader;
   *   INVALID_UPDATE_VERSION      the partition epoch is older: the state moved since it was read;
   *   INELIGIBLE_REPLICA          an ISR member is not a registered (live) broker.
   * Asking for the ISR the state already has (a retry after a lost answer) returns the current
   * state, as Kafka's controller does. The write compares the state's partition epoch and every
   * ISR member's registration (create_revision), so a member that left in between fails it too.
   */
  async alterPartition(request: AlterPartitionRequest): Promise<PartitionStateRecord> {
    const { topic, partition, brokerId, leaderEpoch, partitionEpoch, newIsr } = request;
    const where = `${topic}-${partition}`;
    const stateKey = this.keys.partitionState(topic, partition);
    for (let attempt = 1; ; attempt++) {
      const read = await txn(this.client, [], [op.get(this.keys.topic(topic)), op.get(stateKey), op.getPrefix(this.keys.brokersPrefix)]);
      const topicRecord = rangeRecords(read.responses[0])[0];
      const stateKv = rangeRecords(read.responses[1])[0];
      if (topicRecord === undefined || stateKv === undefined) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host this topic-partition: ${where}`);
      const current = stateRecord(topic, partition, stateKv);
      const replicas = decodeTopic(topicRecord.value).partitions[partition] ?? [];
      const registered = new Map<number, KvRecord>();
      for (const kv of rangeRecords(read.responses[2])) {
        const id = this.keys.parseBrokerKey(kv.key);
        if (id !== undefined) registered.set(id, kv);
      }

      if (leaderEpoch > current.leaderEpoch || partitionEpoch > current.partitionEpoch) {
        throw new SluiceError('NOT_CONTROLLER', `${where}: request epochs (leader ${leaderEpoch}, partition ${partitionEpoch}) are ahead of etcd's (${current.leaderEpoch}, ${current.partitionEpoch})`);
      }
      if (leaderEpoch < current.leaderEpoch) throw new SluiceError('FENCED_LEADER_EPOCH', `${where}: leader epoch ${leaderEpoch} is fenced; the current one is ${current.leaderEpoch}`);
      if (brokerId !== current.leader) throw new SluiceError('INVALID_REQUEST', `${where}: broker ${brokerId} is not the leader (${current.leader} is)`);
      if (newIsr.length === current.isr.length && newIsr.every((id, i) => current.isr[i] === id)) return current;
      if (partitionEpoch < current.partitionEpoch) throw new SluiceError('INVALID_UPDATE_VERSION', `${where}: partition epoch ${partitionEpoch} is stale; the current one is ${current.partitionEpoch}`);
      if (newIsr.length === 0 || new Set(newIsr).size !== newIsr.length || !newIsr.every((id) => replicas.includes(id))) {
        throw new SluiceError('INVALID_REQUEST', `${where}: ISR [${newIsr.join(',')}] is not a set of the replicas [${replicas.join(',')}]`);
      }
      if (!newIsr.includes(current.leader)) throw new SluiceError('INVALID_REQUEST', `${where}: ISR [${newIsr.join(',')}] does not include the leader ${current.leader}`);
      const ineligible = newIsr.filter((id) => !registered.has(id));
      if (ineligible.length > 0) throw new SluiceError('INELIGIBLE_REPLICA', `${where}: ISR [${newIsr.join(',')}] names brokers that are not registered: ${ineligible.join(',')}`);

      const next: PartitionState = { leader: current.leader, leaderEpoch: current.leaderEpoch, isr: [...newIsr], controllerEpoch: current.controllerEpoch };
      const result = await txn(
        this.client,
        [compare.modRevision(stateKey, current.partitionEpoch), ...newIsr.map((id) => compare.createRevision(this.keys.broker(id), registered.get(id)!.createRevision))],
        [op.put(stateKey, encodePartitionState(next))],
      );
      if (result.succeeded) return { topic, partition, ...next, partitionEpoch: Number(result.header.revision) };
      // The state or a member's registration moved between the read and the write. Reading
      // again names why (FENCED_LEADER_EPOCH, INVALID_UPDATE_VERSION, INELIGIBLE_REPLICA), finds
      // our own write applied by an attempt whose answer was lost (the ISR already equal), or
      // finds the write still valid (a member re-registered) and tries it once more.
      if (attempt >= ALTER_PARTITION_ATTEMPTS) {
        throw new SluiceError('INVALID_UPDATE_VERSION', `${where}: the partition state or its ISR members' registrations kept changing`);
      }
    }
  }
}

/** Live brokers, kept current by a watch. */
export class BrokersWatch {
  constructor(
    private readonly map: Map<number, LiveBroker>,
    private readonly mirror: KeyMirror,
  ) {}

  get live(): ReadonlyMap<number, LiveBroker> {
    return this.map;
  }

  /** The etcd revision the view is current to. */
  get revision(): number {
    return this.mirror.revision;
  }

  close(): Promise<void> {
    return this.mirror.close();
  }
}

/** Topics and partition states, kept current by a watch. */
export class TopicsWatch {
  private readonly topicMap = new Map<string, TopicView>();
  private mirror: KeyMirror | undefined;

  /** @internal */
  constructor(
    private readonly keys: ClusterKeys,
    private readonly listener: TopicsListener,
  ) {}

  get topics(): ReadonlyMap<string, TopicView> {
    return this.topicMap;
  }

  state(topic: string, partition: number): PartitionStateRecord | undefined {
    return this.topicMap.get(topic)?.states[partition];
  }

  get revision(): number {
    return this.mirror?.revision ?? 0;
  }

  close(): Promise<void> {
    return this.mirror?.close() ?? Promise.resolve();
  }

  /** @internal */
  attach(mirror: KeyMirror): void {
    this.mirror = mirror;
  }

  /** @internal the snapshot: topic records first, then the states under them. */
  load(records: ReadonlyMap<string, KvRecord>): void {
    const states: KvRecord[] = [];
    for (const record of records.values()) {
      const parsed = this.keys.parseTopicKey(record.key);
      if (parsed?.kind === 'topic') this.putTopic(parsed.topic, record, false);
      else if (parsed?.kind === 'partition') states.push(record);
    }
    for (const record of states) this.putState(record, false);
  }

  /** @internal */
  apply(change: KeyChange): void {
    const key = change.type === 'put' ? change.record.key : change.key;
    const parsed = this.keys.parseTopicKey(key);
    if (parsed === undefined) return;
    if (change.type === 'put') {
      if (parsed.kind === 'topic') this.putTopic(parsed.topic, change.record, true);
      else this.putState(change.record, true);
      return;
    }
    if (parsed.kind === 'topic') {
      if (this.topicMap.delete(parsed.topic)) this.listener.topic?.(parsed.topic, undefined);
      return;
    }
    const view = this.topicMap.get(parsed.topic);
    if (view?.states[parsed.partition] !== undefined) {
      view.states[parsed.partition] = undefined;
      this.listener.partition?.(parsed.topic, parsed.partition, undefined);
    }
  }

  private putTopic(name: string, record: KvRecord, notify: boolean): void {
    let decoded: TopicRecord;
    try {
      decoded = decodeTopic(record.value);
    } catch (error) {
      this.listener.error?.(error);
      return;
    }
    const before = this.topicMap.get(name);
    // States survive a config change; a re-created topic (a new topic id) starts without them.
    const keep = before !== undefined && before.topicId === decoded.topicId ? before.states : [];
    const states = decoded.partitions.map((_, p) => keep[p]);
    const view: TopicView = { name, ...decoded, revision: record.modRevision, states };
    this.topicMap.set(name, view);
    if (notify) this.listener.topic?.(name, view);
  }

  private putState(record: KvRecord, notify: boolean): void {
    const parsed = this.keys.parseTopicKey(record.key);
    if (parsed?.kind !== 'partition') return;
    const view = this.topicMap.get(parsed.topic);
    // A state without its topic record yet cannot happen in one transaction's order; skip it.
    if (view === undefined || parsed.partition >= view.states.length) return;
    let state: PartitionStateRecord;
    try {
      state = stateRecord(parsed.topic, parsed.partition, record);
    } catch (error) {
      this.listener.error?.(error);
      return;
    }
    view.states[parsed.partition] = state;
    if (notify) this.listener.partition?.(parsed.topic, parsed.partition, state);
  }
}
