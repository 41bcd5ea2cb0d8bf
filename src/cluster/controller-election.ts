// Controller election over etcd, as Kafka's ZooKeeper controller: one broker at a time holds the
// controller key, and a controller epoch fences every write of a deposed one.
//
// Campaign (one attempt): read the controller key and the epoch key at one revision; if the
// controller key is absent, run one transaction
//     if   create_revision(<root>/controller) == 0  and  mod_revision(<root>/controller_epoch) == seen
//     then put <root>/controller {brokerId, epoch: seen+1} on the broker's lease
//          put <root>/controller_epoch "seen+1"
// so becoming controller and bumping the epoch are one step; two brokers racing cannot both win,
// and no two reigns share an epoch. The winner's fence is (epoch, the epoch key's mod_revision,
// the controller key's create_revision), both revisions being the transaction's revision.
//
// Fencing (metadata-store.ts): every controller write is a transaction that also compares
//     mod_revision(<root>/controller_epoch) == fence.epochModRevision
//     create_revision(<root>/controller)   == fence.controllerCreateRevision
// The first fails once any later controller was elected; the second fails as soon as this
// controller's key is gone (its session expired or it resigned), even before a successor exists.
// A refused write is SluiceError NOT_CONTROLLER (Kafka's ControllerMovedException).
//
// ControllerElection runs the loop for one broker session: it watches the controller key and
// campaigns whenever the key is absent, so when a controller's lease expires the others notice
// by the watch and one of them wins within a round trip; etcd deletes the key within the lease
// TTL of the holder's death, so failover takes at most TTL + a watch event + one transaction.
// etcd3's Election/ElectionObserver is not used: its observer reported the wrong leader in 10 of
// 10 trials here (REPLICATION-FACTS.md).
//
//   const election = await store.startElection(session, {
//     elected: (fence) => ...,    // this broker is controller: load state, act with `fence`
//     deposed: (fence) => ...,    // stop acting as controller (key gone or taken over)
//     changed: (controller) => ..., // any change of who is controller (undefined: none now)
//   });
//   election.controller;          // ControllerInfo | undefined, as last seen
//   await election.resign();      // delete our key if we hold it and stop campaigning
// An election belongs to one session: when the session is lost it stops (deposed fires if it
// reigned), and the broker starts a new election on its new session.
import { SluiceError } from '../errors.js';
import type { BrokerSession } from './broker-session.js';
import type { EtcdClient } from './etcd-client.js';
import { KeyMirror } from './key-mirror.js';
import { compare, op, rangeRecords, txn, type KvRecord } from './kv.js';
import { decodeController, decodeControllerEpoch, encodeController, type ClusterKeys } from './layout.js';

/** Who is controller, as the controller key says. */
export interface ControllerInfo {
  brokerId: number;
  epoch: number;
  /** The lease the key is bound to: the controller's broker session. */
  leaseId: string;
  /** create_revision of the controller key: one value per reign. */
  createRevision: number;
}

/** What a controller's writes are fenced with (see the file comment). */
export interface ControllerFence {
  brokerId: number;
  epoch: number;
  epochModRevision: number;
  controllerCreateRevision: number;
}

export function controllerInfo(record: KvRecord): ControllerInfo {
  const { brokerId, epoch } = decodeController(record.value);
  return { brokerId, epoch, leaseId: record.lease, createRevision: record.createRevision };
}

/** The compares that fence a controller write. */
export function fenceCompares(keys: ClusterKeys, fence: ControllerFence) {
  return [compare.modRevision(keys.controllerEpoch, fence.epochModRevision), compare.createRevision(keys.controller, fence.controllerCreateRevision)];
}

/** The reads a fenced transaction's failure branch starts with, to tell a lost fence from other causes. */
export function fenceReads(keys: ClusterKeys) {
  return [op.get(keys.controllerEpoch), op.get(keys.controller)];
}

/** True when the first two failure responses (fenceReads) show the fence still holds. */
export function fenceHolds(fence: ControllerFence, epochRecord: KvRecord | undefined, controllerRecord: KvRecord | undefined): boolean {
  return epochRecord?.modRevision === fence.epochModRevision && controllerRecord?.createRevision === fence.controllerCreateRevision;
}

export function notController(fence: ControllerFence, current: KvRecord | undefined): SluiceError {
  let now = 'no controller now';
  if (current !== undefined) {
    try {
      const info = controllerInfo(current);
      now = `broker ${info.brokerId} is controller with epoch ${info.epoch}`;
    } catch {
      now = 'the controller key is unreadable';
    }
  }
  return new SluiceError('NOT_CONTROLLER', `broker ${fence.brokerId} is no longer controller (its epoch was ${fence.epoch}; ${now})`);
}

/**
 * One campaign: the fence when this session became (or already is) controller, undefined when
 * another broker holds the key. SESSION_EXPIRED when the session's lease is gone.
 */
export async function campaign(client: EtcdClient, keys: ClusterKeys, session: BrokerSession): Promise<ControllerFence | undefined> {
  if (!session.isLive) throw new SluiceError('SESSION_EXPIRED', `broker ${session.brokerId}: session is no longer live`);
  for (;;) {
    const read = await txn(client, [], [op.get(keys.controller), op.get(keys.controllerEpoch)]);
    const current = rangeRecords(read.responses[0])[0];
    const epochRecord = rangeRecords(read.responses[1])[0];
    if (current !== undefined) {
      const info = controllerInfo(current);
      // Ours already: a campaign whose answer was lost and retried, or a second call.
      if (info.leaseId === session.leaseId) return fenceOf(info, epochRecord);
      return undefined;
    }
    const epoch = epochRecord === undefined ? 0 : decodeControllerEpoch(epochRecord.value);
    const next = epoch + 1;
    const result = await txn(
      client,
      [compare.absent(keys.controller), compare.modRevision(keys.controllerEpoch, epochRecord?.modRevision ?? 0)],
      [op.put(keys.controller, encodeController({ brokerId: session.brokerId, epoch: next }), session.leaseId), op.put(keys.controllerEpoch, String(next))],
    );
    if (result.succeeded) {
      const revision = Number(result.header.revision);
      return { brokerId: session.brokerId, epoch: next, epochModRevision: revision, controllerCreateRevision: revision };
    }
    // Someone else moved first (or our own attempt landed and its answer was lost): look again.
  }
}

function fenceOf(info: ControllerInfo, epochRecord: KvRecord | undefined): ControllerFence {
  if (epochRecord === undefined || decodeControllerEpoch(epochRecord.value) !== info.epoch) {
    throw new SluiceError('UNKNOWN_SERVER_ERROR', `controller key (epoch ${info.epoch}) and controller epoch key disagree`);
  }
  return { brokerId: info.brokerId, epoch: info.epoch, epochModRevision: epochRecord.modRevision, controllerCreateRevision: info.createRevision };
}

/** Deletes the controller key if this fence's reign still holds it; true when it did. */
export async function resign(client: EtcdClient, keys: ClusterKeys, fence: ControllerFence): Promise<boolean> {
  const result = await txn(client, [compare.createRevision(keys.controller, fence.controllerCreateRevision)], [op.delete(keys.controller)]);
  return result.succeeded;
}

export interface ControllerElectionHandler {
  /** This broker became controller. */
  elected?(fence: ControllerFence): void;
  /** This broker's reign ended: its key was deleted (session lost, resigned) or replaced. */
  deposed?(fence: ControllerFence): void;
  /** Who is controller changed (undefined: nobody right now). */
  changed?(controller: ControllerInfo | undefined): void;
  /** A campaign failed (etcd unreachable past the client's retry window); it is retried. */
  error?(error: unknown): void;
}

const CAMPAIGN_RETRY_MS = 500;

export class ControllerElection {
  private mirror: KeyMirror | undefined;
  private current: ControllerInfo | undefined;
  private reign: ControllerFence | undefined;
  private stopped = false;
  private campaigning = false;
  /** The key went absent while a campaign was in flight: campaign again when it ends. */
  private campaignAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly client: EtcdClient,
    private readonly keys: ClusterKeys,
    private readonly session: BrokerSession,
    private readonly handler: ControllerElectionHandler,
  ) {}

  static async start(client: EtcdClient, keys: ClusterKeys, session: BrokerSession, handler: ControllerElectionHandler = {}): Promise<ControllerElection> {
    const election = new ControllerElection(client, keys, session, handler);
    session.on('lost', () => void election.stop());
    election.mirror = await KeyMirror.start(client, { key: keys.controller }, {
      snapshot: (records) => election.observe(records.get(keys.controller)),
      change: (change) => election.observe(change.type === 'put' ? change.record : undefined),
      error: (error) => handler.error?.(error),
    });
    return election;
  }

  /** The controller as last seen by the watch (or won by this broker). */
  get controller(): ControllerInfo | undefined {
    return this.current;
  }

  /** This broker's fence while it is controller. */
  get fence(): ControllerFence | undefined {
    return this.reign;
  }

  get isController(): boolean {
    return this.reign !== undefined;
  }

  /** Gives up the controller key if held and stops campaigning (controlled shutdown). */
  async resign(): Promise<void> {
    const reign = this.reign;
    await this.stop();
    if (reign !== undefined) await resign(this.client, this.keys, reign);
  }

  /** Stops watching and campaigning; a held key stays until the session ends. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const reign = this.reign;
    this.reign = undefined;
    if (reign !== undefined) this.handler.deposed?.(reign);
    await this.mirror?.close();
  }

  private observe(record: KvRecord | undefined): void {
    if (this.stopped) return;
    let info: ControllerInfo | undefined;
    try {
      info = record === undefined ? undefined : controllerInfo(record);
    } catch (error) {
      this.handler.error?.(error);
      return;
    }
    const previous = this.current;
    this.current = info;
    if (this.reign !== undefined && info?.createRevision !== this.reign.controllerCreateRevision) {
      const reign = this.reign;
      this.reign = undefined;
      this.handler.deposed?.(reign);
    }
    if (previous?.createRevision !== info?.createRevision) this.handler.changed?.(info);
    if (info === undefined) void this.campaignOnce();
  }

  private async campaignOnce(): Promise<void> {
    if (this.stopped || !this.session.isLive) return;
    if (this.campaigning) {
      this.campaignAgain = true;
      return;
    }
    this.campaigning = true;
    this.campaignAgain = false;
    try {
      const fence = await campaign(this.client, this.keys, this.session);
      if (fence !== undefined && !this.stopped && this.reign === undefined) {
        this.reign = fence;
        // The watch may not have delivered our own put yet: record it now so that `controller`
        // agrees with `fence`; the put event then changes nothing.
        if (this.current?.createRevision !== fence.controllerCreateRevision) {
          this.current = { brokerId: fence.brokerId, epoch: fence.epoch, leaseId: this.session.leaseId, createRevision: fence.controllerCreateRevision };
          this.handler.changed?.(this.current);
        }
        this.handler.elected?.(fence);
      }
    } catch (error) {
      if (this.stopped || !this.session.isLive) return;
      this.handler.error?.(error);
      // Still no controller as far as we know: try again shortly.
      this.retryTimer = setTimeout(() => this.current === undefined && void this.campaignOnce(), CAMPAIGN_RETRY_MS);
    } finally {
      this.campaigning = false;
    }
    if (this.campaignAgain && this.current === undefined && this.reign === undefined) void this.campaignOnce();
  }
}
