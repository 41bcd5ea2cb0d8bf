// Requests any broker writes for the controller to act on, as brokers in Kafka's ZooKeeper mode
// wrote znodes under /admin that the controller watched (keys in layout.ts):
//
//   await store.requestTopicDeletion('orders');          // <root>/admin/delete_topics/orders
//   await store.requestControlledShutdown(session);      // <root>/admin/shutdown/<id>, on the lease
//   await store.withdrawControlledShutdown(session);     // the shutdown was called off
//   await store.reportOfflineReplicas(session, [['t', 0]]); // <root>/admin/offline_replicas/<id>, on the lease
//   const admin = await store.watchAdminRequests({ deletion, shutdown });   // the controller
//   admin.deletions / admin.shutdowns                     // what is pending now
//   admin.offlineReplicas(live)                          // replicas on failed disks, by broker
//
// A deletion request names the topic's id as well as its name, so a request made for one
// incarnation of a topic never deletes a topic re-created under the same name. The controller
// deletes the topic and its request in one transaction (MetadataStore.deleteTopic), or drops a
// request whose topic is already gone (removeTopicDeletionRequest, fenced like every controller
// write).
//
// A shutdown request lives on the broker's lease: if the broker dies before it withdraws it, etcd
// removes it with the registration. It carries the broker epoch (the registration's
// create_revision), as Kafka's ControlledShutdownRequest does, and is written only while that
// registration holds, so a stale session cannot ask on behalf of a newer one.
//
// Offline replicas (a log directory whose disk failed, KIP-112) are reported the same way: on the
// lease, with the broker epoch, each report the whole list. A restarted broker starts with none:
// its directories are opened (and recovered) again, and a disk still failing is reported again.
import { SluiceError } from '../errors.js';
import { invalidTopicReason } from '../engine/topic-name.js';
import type { BrokerSession } from './broker-session.js';
import { fenceCompares, fenceHolds, fenceReads, notController, type ControllerFence } from './controller-election.js';
import type { EtcdClient } from './etcd-client.js';
import { KeyMirror, type KeyChange } from './key-mirror.js';
import { compare, op, rangeRecords, readKey, txn, type KvRecord } from './kv.js';
import {
  decodeOfflineReplicas,
  decodeShutdown,
  encodeOfflineReplicas,
  decodeTopic,
  decodeTopicDeletion,
  encodeShutdown,
  encodeTopicDeletion,
  type ClusterKeys,
  type ShutdownRequest,
  type TopicDeletionRequest,
} from './layout.js';

export interface TopicDeletionRequestRecord extends TopicDeletionRequest {
  topic: string;
  /** mod_revision of the request key. */
  revision: number;
}

export interface ShutdownRequestRecord extends ShutdownRequest {
  leaseId: string;
}

export interface AdminRequestsListener {
  /** A deletion request was written (`request`) or removed (undefined). */
  deletion?(topic: string, request: TopicDeletionRequestRecord | undefined): void;
  /** A broker asked for controlled shutdown (`request`), or withdrew it or died (undefined). */
  shutdown?(brokerId: number, request: ShutdownRequestRecord | undefined): void;
  /** A broker reported replicas in offline log directories, or they went with its session. */
  offlineReplicas?(brokerId: number): void;
  error?(error: unknown): void;
}

export function unknownTopic(name: string): SluiceError {
  return new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host this topic-partition: ${name}`);
}

/** Asks the controller to delete a topic. UNKNOWN_TOPIC_OR_PARTITION when there is none. */
export async function requestTopicDeletion(client: EtcdClient, keys: ClusterKeys, name: string): Promise<void> {
  if (invalidTopicReason(name) !== null) throw unknownTopic(name);
  const topicKey = keys.topic(name);
  for (;;) {
    const { record } = await readKey(client, topicKey);
    if (record === undefined) throw unknownTopic(name);
    const { topicId } = decodeTopic(record.value);
    const result = await txn(client, [compare.createRevision(topicKey, record.createRevision)], [op.put(keys.deleteTopicRequest(name), encodeTopicDeletion({ topicId }))]);
    if (result.succeeded) return;
    // The topic was deleted (or deleted and re-created) in between: look again.
  }
}

/** The controller drops a deletion request whose topic is gone, unless it was written again since `revision`. */
export async function removeTopicDeletionRequest(client: EtcdClient, keys: ClusterKeys, fence: ControllerFence, name: string, revision: number): Promise<void> {
  const key = keys.deleteTopicRequest(name);
  const result = await txn(client, [...fenceCompares(keys, fence), compare.modRevision(key, revision)], [op.delete(key)], fenceReads(keys));
  if (result.succeeded) return;
  const [epochRecord, controllerRecord] = result.responses.map((response) => rangeRecords(response)[0]);
  if (!fenceHolds(fence, epochRecord, controllerRecord)) throw notController(fence, controllerRecord);
  // Gone already, or a newer request: leave it.
}

/** Asks the controller to move leadership off this broker (controlled shutdown). SESSION_EXPIRED when the session is gone. */
export async function requestControlledShutdown(client: EtcdClient, keys: ClusterKeys, session: BrokerSession): Promise<void> {
  const { brokerId, brokerEpoch, leaseId } = session;
  if (!session.isLive) throw new SluiceError('SESSION_EXPIRED', `broker ${brokerId}: session is no longer live`);
  const result = await txn(
    client,
    [compare.createRevision(keys.broker(brokerId), brokerEpoch)],
    [op.put(keys.shutdownRequest(brokerId), encodeShutdown({ brokerId, brokerEpoch }), leaseId)],
  );
  if (!result.succeeded) throw new SluiceError('SESSION_EXPIRED', `broker ${brokerId}: registration with broker epoch ${brokerEpoch} is gone`);
}

/** Withdraws this session's controlled shutdown request (nothing to do if the session is gone). */
export async function withdrawControlledShutdown(client: EtcdClient, keys: ClusterKeys, session: BrokerSession): Promise<void> {
  // While the registration is this session's, any shutdown key for the id is this session's too:
  // requests compare the registration, and an older session's request went with its lease.
  await txn(client, [compare.createRevision(keys.broker(session.brokerId), session.brokerEpoch)], [op.delete(keys.shutdownRequest(session.brokerId))]);
}

/**
 * Reports this session's replicas in offline log directories (the whole list each time), for the
 * controller to take them out of ISRs and leadership. SESSION_EXPIRED when the session is gone.
 */
export async function reportOfflineReplicas(client: EtcdClient, keys: ClusterKeys, session: BrokerSession, partitions: Array<[string, number]>): Promise<void> {
  const { brokerId, brokerEpoch, leaseId } = session;
  if (!session.isLive) throw new SluiceError('SESSION_EXPIRED', `broker ${brokerId}: session is no longer live`);
  const result = await txn(
    client,
    [compare.createRevision(keys.broker(brokerId), brokerEpoch)],
    [op.put(keys.offlineReplicas(brokerId), encodeOfflineReplicas({ brokerId, brokerEpoch, partitions }), leaseId)],
  );
  if (!result.succeeded) throw new SluiceError('SESSION_EXPIRED', `broker ${brokerId}: registration with broker epoch ${brokerEpoch} is gone`);
}

/** Pending deletion and shutdown requests, kept current by a watch. */
export class AdminRequestsWatch {
  private readonly deletionMap = new Map<string, TopicDeletionRequestRecord>();
  private readonly shutdownMap = new Map<number, ShutdownRequestRecord>();
  private readonly offlineMap = new Map<number, { brokerEpoch: number; partitions: Set<string> }>();
  private mirror: KeyMirror | undefined;

  private constructor(
    private readonly keys: ClusterKeys,
    private readonly listener: AdminRequestsListener,
  ) {}

  /** Listeners are not called for the requests pending at the start (read them from the watch). */
  static async start(client: EtcdClient, keys: ClusterKeys, listener: AdminRequestsListener = {}): Promise<AdminRequestsWatch> {
    const watch = new AdminRequestsWatch(keys, listener);
    watch.mirror = await KeyMirror.start(client, { prefix: keys.adminPrefix }, {
      snapshot: (records) => {
        for (const record of records.values()) watch.put(record, false);
      },
      change: (change) => watch.apply(change),
      error: (error) => listener.error?.(error),
    });
    return watch;
  }

  get deletions(): ReadonlyMap<string, TopicDeletionRequestRecord> {
    return this.deletionMap;
  }

  get shutdowns(): ReadonlyMap<number, ShutdownRequestRecord> {
    return this.shutdownMap;
  }

  /**
   * The brokers in controlled shutdown: those whose current registration (of `live`) made a
   * request. A request of an earlier registration of the id is stale (it normally goes with its lease).
   */
  shuttingDown(live: ReadonlyMap<number, { brokerEpoch: number }>): Set<number> {
    const ids = new Set<number>();
    for (const [brokerId, request] of this.shutdownMap) if (live.get(brokerId)?.brokerEpoch === request.brokerEpoch) ids.add(brokerId);
    return ids;
  }

  /**
   * Whether a broker registered now (`live`) reported its replica of a partition offline; null
   * when none reported any. A report of an earlier registration of the id is stale.
   */
  offlineReplicas(live: ReadonlyMap<number, { brokerEpoch: number }>): ((brokerId: number, topic: string, partition: number) => boolean) | null {
    if (this.offlineMap.size === 0) return null; // Metadata asks for every replica of every partition
    const offline = new Map<number, ReadonlySet<string>>();
    for (const [brokerId, report] of this.offlineMap) if (live.get(brokerId)?.brokerEpoch === report.brokerEpoch) offline.set(brokerId, report.partitions);
    if (offline.size === 0) return null;
    return (brokerId, topic, partition) => offline.get(brokerId)?.has(offlineReplicaKey(topic, partition)) === true;
  }

  close(): Promise<void> {
    return this.mirror?.close() ?? Promise.resolve();
  }

  private apply(change: KeyChange): void {
    if (change.type === 'put') return this.put(change.record, true);
    const parsed = this.keys.parseAdminKey(change.key);
    if (parsed?.kind === 'delete_topic' && this.deletionMap.delete(parsed.topic)) this.listener.deletion?.(parsed.topic, undefined);
    if (parsed?.kind === 'shutdown' && this.shutdownMap.delete(parsed.brokerId)) this.listener.shutdown?.(parsed.brokerId, undefined);
    if (parsed?.kind === 'offline_replicas' && this.offlineMap.delete(parsed.brokerId)) this.listener.offlineReplicas?.(parsed.brokerId);
  }

  private put(record: KvRecord, notify: boolean): void {
    const parsed = this.keys.parseAdminKey(record.key);
    try {
      if (parsed?.kind === 'delete_topic') {
        const request = { topic: parsed.topic, ...decodeTopicDeletion(record.value), revision: record.modRevision };
        this.deletionMap.set(parsed.topic, request);
        if (notify) this.listener.deletion?.(parsed.topic, request);
      } else if (parsed?.kind === 'shutdown') {
        const request = { ...decodeShutdown(record.value), leaseId: record.lease };
        this.shutdownMap.set(parsed.brokerId, request);
        if (notify) this.listener.shutdown?.(parsed.brokerId, request);
      } else if (parsed?.kind === 'offline_replicas') {
        const report = decodeOfflineReplicas(record.value);
        this.offlineMap.set(parsed.brokerId, { brokerEpoch: report.brokerEpoch, partitions: new Set(report.partitions.map(([topic, partition]) => offlineReplicaKey(topic, partition))) });
        if (notify) this.listener.offlineReplicas?.(parsed.brokerId);
      }
    } catch (error) {
      this.listener.error?.(error);
    }
  }
}

function offlineReplicaKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
