// A broker's session with the cluster: an etcd lease kept alive by the client, and the broker's
// registration key bound to it (Kafka's ephemeral /brokers/ids/<id> in ZooKeeper). While the
// session lives the broker is alive to the controller; when the lease expires (the process died,
// hung, or lost etcd for a whole TTL) etcd deletes the key and every watcher sees the broker leave.
// The controller key of a broker that is controller is bound to the same lease
// (controller-election.ts), so losing the session also ends its reign.
//
//   const session = await store.registerBroker({ brokerId: 1, host, port, rack: null },
//     { sessionTimeoutMs: 9000, replaceLeaseId: leaseIdOfMyLastRun });
//   session.brokerEpoch      // create_revision of the registration: changes with each registration
//   session.on('lost', (error) => ...)   // SESSION_EXPIRED: stop leading, register again
//   await session.close()    // revoke: the registration (and controller key) go at once
//
// TTL: broker.session.timeout.ms (default 9000) rounded up to whole seconds, as etcd counts; etcd
// raises a TTL below 1.5 x its election timeout (1 s becomes 2 s with a 1000 ms election
// timeout), and the keepalive answers carry the TTL etcd applies. etcd3 sends a keepalive every
// TTL/3 on a stream it re-opens when broken.
//
// 'lost' fires once, when etcd says the lease is gone (a keepalive answered TTL 0, a call said
// "lease not found") or when no keepalive has been answered for a whole TTL since it was sent:
// by then etcd has expired the lease unless the whole etcd cluster was down (etcd extends leases
// on a leader change), so the broker stops acting on a session it cannot vouch for. After 'lost'
// the keepalives stop; the broker registers again with `replaceLeaseId` = the lost lease id.
//
// Registering an id that is already registered: etcd holds the key until the old lease expires.
// If the old lease is `replaceLeaseId` (the caller's previous incarnation, known dead: the new
// process holds the data-dir lock the old one held) it is revoked and the new registration takes
// the id at once. Otherwise registration waits up to `registrationWaitMs` (default the session
// timeout + 2 s, long enough for a crashed predecessor's lease to expire) for the key to go, then
// fails with DUPLICATE_BROKER_REGISTRATION, as Kafka refuses a second live broker with one id.
import { EventEmitter } from 'node:events';

import type { Lease } from 'etcd3';

import { SluiceError } from '../errors.js';
import type { EtcdClient } from './etcd-client.js';
import { KeyMirror } from './key-mirror.js';
import { compare, etcdCall, op, rangeRecords, txn } from './kv.js';
import { encodeBroker, type BrokerRegistration, type ClusterKeys } from './layout.js';

export const DEFAULT_SESSION_TIMEOUT_MS = 9000;
const REGISTRATION_WAIT_EXTRA_MS = 2000;

export interface BrokerSessionOptions {
  /** broker.session.timeout.ms. Default 9000. */
  sessionTimeoutMs?: number;
  /** The lease of this broker's previous incarnation, known dead: revoked if it still holds the id. */
  replaceLeaseId?: string;
  /** How long to wait for another holder of the id to expire. Default sessionTimeoutMs + 2000. */
  registrationWaitMs?: number;
}

export interface BrokerSessionEvents {
  lost: [SluiceError];
}

/**
 * Until when a lease is certainly alive in etcd: etcd renews a lease to (receipt + TTL), and
 * receipt is after sending, so (send time of the last answered keepalive + TTL) is a safe bound.
 * Keepalive answers come in request order on a stream, so each answer pops the oldest send time;
 * a re-opened stream starts a fresh queue. Attached as soon as the lease exists, so that no
 * keepalive is missed while the registration is written.
 */
class LeaseClock {
  validUntil: number;
  ttl: number;
  private readonly sentAt: number[] = [];

  constructor(lease: Lease, ttlMs: number, grantSentAt: number) {
    this.ttl = ttlMs;
    this.validUntil = grantSentAt + ttlMs;
    lease.on('keepaliveEstablished', () => (this.sentAt.length = 0));
    lease.on('keepaliveFired', () => this.sentAt.push(Date.now()));
    lease.on('keepaliveSucceeded', (response) => {
      const sentAt = this.sentAt.shift();
      const ttlSeconds = Number(response.TTL);
      if (ttlSeconds > 0) this.ttl = ttlSeconds * 1000;
      if (sentAt !== undefined) this.validUntil = Math.max(this.validUntil, sentAt + this.ttl);
    });
  }
}

export class BrokerSession extends EventEmitter<BrokerSessionEvents> {
  private expiryTimer: NodeJS.Timeout | undefined;
  private ended = false;

  /** @internal use MetadataStore.registerBroker */
  constructor(
    private readonly client: EtcdClient,
    private readonly lease: Lease,
    private readonly clock: LeaseClock,
    readonly registration: BrokerRegistration,
    readonly leaseId: string,
    /** create_revision of the registration key: Kafka's broker epoch. */
    readonly brokerEpoch: number,
  ) {
    super();
    lease.on('lost', (error) => this.end(new SluiceError('SESSION_EXPIRED', `broker ${registration.brokerId}: etcd lease ${leaseId} lost: ${error.message}`, { cause: error })));
    this.scheduleExpiryCheck();
  }

  get brokerId(): number {
    return this.registration.brokerId;
  }

  /** The lease TTL etcd applies, in ms. */
  get ttlMs(): number {
    return this.clock.ttl;
  }

  /** Until when the lease is certainly alive in etcd (see LeaseClock). */
  get validUntilMs(): number {
    return this.clock.validUntil;
  }

  /** False once the session is lost or closed. */
  get isLive(): boolean {
    return !this.ended;
  }

  /** Revokes the lease: the registration (and the controller key, if held) are deleted now. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.expiryTimer);
    this.client.untrack(this.lease);
    try {
      await etcdCall(() => this.lease.revoke());
    } catch {
      // etcd unreachable: the lease expires on its own after the TTL.
    }
  }

  /** Stops the keepalives without revoking: the lease expires after its TTL (a hung broker). */
  release(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.expiryTimer);
    this.client.untrack(this.lease);
    this.lease.release();
  }

  private scheduleExpiryCheck(): void {
    if (this.ended) return;
    const delayMs = Math.max(0, this.clock.validUntil - Date.now());
    this.expiryTimer = setTimeout(() => {
      if (Date.now() >= this.clock.validUntil) {
        this.end(new SluiceError('SESSION_EXPIRED', `broker ${this.brokerId}: no etcd keepalive answered within the ${this.clock.ttl} ms lease TTL`));
      } else {
        this.scheduleExpiryCheck();
      }
    }, delayMs + 1);
    this.expiryTimer.unref();
  }

  private end(error: SluiceError): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.expiryTimer);
    this.client.untrack(this.lease);
    this.lease.release();
    this.emit('lost', error);
  }
}

function checkRegistration(registration: BrokerRegistration): void {
  const { brokerId, host, port, rack } = registration;
  if (!Number.isInteger(brokerId) || brokerId < 0 || brokerId > 0x7fffffff) throw new SluiceError('INVALID_CONFIG', `broker.id must be an integer in 0..2147483647, not ${brokerId}`);
  if (typeof host !== 'string' || host.length === 0) throw new SluiceError('INVALID_CONFIG', `broker ${brokerId}: an advertised host is required`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SluiceError('INVALID_CONFIG', `broker ${brokerId}: port must be in 1..65535, not ${port}`);
  if (rack !== null && (typeof rack !== 'string' || rack.length === 0)) throw new SluiceError('INVALID_CONFIG', `broker ${brokerId}: rack must be a non-empty string or null`);
}

/** Grants a lease and registers the broker on it (see the file comment). */
export async function registerBroker(
  client: EtcdClient,
  keys: ClusterKeys,
  registration: BrokerRegistration,
  options: BrokerSessionOptions = {},
): Promise<BrokerSession> {
  checkRegistration(registration);
  const sessionTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
  if (!Number.isFinite(sessionTimeoutMs) || sessionTimeoutMs <= 0) throw new SluiceError('INVALID_CONFIG', `broker.session.timeout.ms must be positive, not ${sessionTimeoutMs}`);
  const ttlSeconds = Math.max(1, Math.ceil(sessionTimeoutMs / 1000));
  const waitDeadline = Date.now() + (options.registrationWaitMs ?? sessionTimeoutMs + REGISTRATION_WAIT_EXTRA_MS);
  const key = keys.broker(registration.brokerId);

  const grantSentAt = Date.now();
  const lease = client.track(client.etcd.lease(ttlSeconds, { autoKeepAlive: true }));
  const clock = new LeaseClock(lease, ttlSeconds * 1000, grantSentAt);
  // A failed grant also emits 'lost'; the session is not built yet, so nobody else listens.
  lease.on('lost', () => undefined);
  let leaseId: string;
  try {
    leaseId = String(await etcdCall(() => lease.grant()));
  } catch (error) {
    client.untrack(lease);
    lease.release();
    throw error;
  }

  const giveUp = async (error: unknown): Promise<never> => {
    client.untrack(lease);
    await etcdCall(() => lease.revoke()).catch(() => lease.release());
    throw error;
  };

  try {
    for (;;) {
      const result = await txn(client, [compare.absent(key)], [op.put(key, encodeBroker(registration), leaseId)], [op.get(key)]);
      if (result.succeeded) {
        return new BrokerSession(client, lease, clock, registration, leaseId, Number(result.header.revision));
      }
      const holder = rangeRecords(result.responses[0])[0];
      if (holder === undefined) continue; // gone between compare and read: try again
      // Our own put, applied by an attempt whose answer was lost and then retried by the client.
      if (holder.lease === leaseId) return new BrokerSession(client, lease, clock, registration, leaseId, holder.createRevision);
      if (options.replaceLeaseId !== undefined && holder.lease === options.replaceLeaseId) {
        await etcdCall(() => client.etcd.leaseClient.leaseRevoke({ ID: options.replaceLeaseId! })).catch((error: unknown) => {
          if (!(error instanceof SluiceError && error.code === 'SESSION_EXPIRED')) throw error; // already gone
        });
        continue;
      }
      await waitUntilAbsent(client, key, waitDeadline);
      if (Date.now() >= waitDeadline) {
        throw new SluiceError(
          'DUPLICATE_BROKER_REGISTRATION',
          `broker id ${registration.brokerId} is registered by another live session (lease ${holder.lease}); it did not expire within the wait`,
        );
      }
    }
  } catch (error) {
    return giveUp(error);
  }
}

/** Resolves when `key` is absent or at `deadline`, whichever is first. */
async function waitUntilAbsent(client: EtcdClient, key: string, deadline: number): Promise<void> {
  let wake: () => void = () => undefined;
  const gone = new Promise<void>((resolve) => (wake = resolve));
  const mirror = await KeyMirror.start(client, { key }, {
    snapshot: (records) => records.size === 0 && wake(),
    change: (change) => change.type === 'delete' && wake(),
  });
  const timer = setTimeout(wake, Math.max(0, deadline - Date.now()));
  try {
    await gone;
  } finally {
    clearTimeout(timer);
    await mirror.close();
  }
}
