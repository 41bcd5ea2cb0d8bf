// The etcd client every cluster component shares: etcd3 (1.1.2, over @grpc/grpc-js) with fault
// handling set by us, and a close that leaves no timer or stream behind.
//
//   const client = new EtcdClient({ endpoints: etcd.endpoints });   // or 'http://a:2379,http://b:2379'
//   client.etcd.get('key')...          // the etcd3 namespace, for the metadata store's calls
//   client.track(watcher) / client.track(lease)   // closed by close(), in that order
//   await client.close()
//
// Why our own fault handling. etcd3's defaults put a circuit breaker on each host that opens for
// 5 s after three consecutive failures, behind a global policy of three retries. When the etcd
// Raft leader dies, every member answers "no leader"/"leader changed" for the ~1.1 s the
// re-election takes here, the breakers of all hosts open, and every call fails for ~6 s
// (REPLICATION-FACTS.md). A broker session is 9 s: 6 s of refusals would cost sessions. So:
//   - host: no breaker. A failed call resets that host's channel; the next attempt goes to
//     another host (etcd3 shuffles hosts per call).
//   - global: retry recoverable errors (UNAVAILABLE, deadline, "no leader", ...) with a backoff
//     of 50 ms doubling to 500 ms, for up to `retryForMs` (default 5000: several elections of
//     1 s) in total; then the last error is thrown. Errors etcd3 does not call recoverable (a
//     failed compare is not an error; a lost lease, bad argument, auth) are thrown at once.
//   - each attempt has a deadline of `callTimeoutMs` (default 2000), so a member that accepts a
//     call and never answers (partitioned away) costs one attempt, not the whole window.
//   - watch streams reconnect after 100 ms doubling to 1000 ms (etcd3's default backs off to 30 s),
//     and resume from the last revision they delivered.
// Retrying a call whose first attempt was applied but whose answer was lost repeats it: a put is
// idempotent; a transaction's compare then fails, and the metadata store reads back to tell
// "already applied" from "lost the race" (see metadata-store.ts).
import { Etcd3, isRecoverableError, type IOptions, type Lease, type Watcher } from 'etcd3';

import { SluiceError } from '../errors.js';

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = FaultHandling['global'] & object;
type WatchBackoff = FaultHandling['watchBackoff'] & object;

export interface EtcdClientOptions {
  /** etcd client URLs: an array or a comma-separated list (`sluice.etcd.endpoints`). */
  endpoints: string[] | string;
  /** Deadline of one attempt of a unary call. Default 2000. */
  callTimeoutMs?: number;
  /** Retry recoverable failures for this long in all before failing the call. Default 5000. */
  retryForMs?: number;
  /** Time to establish a connection. Default 5000. */
  dialTimeoutMs?: number;
}

const RETRY_BACKOFF_FIRST_MS = 50;
const RETRY_BACKOFF_MAX_MS = 500;
const WATCH_BACKOFF_FIRST_MS = 100;
const WATCH_BACKOFF_MAX_MS = 1000;
/** etcd answers a watch cancel within a round trip; a second means the stream is gone. */
const WATCH_CANCEL_WAIT_MS = 1000;
/** gRPC keepalive pings on open streams (watches, lease keepalives), so a member that vanished
 *  without a reset is noticed; etcd refuses pings more often than every 5 s (its
 *  --grpc-keepalive-min-time), so 10 s, with 5 s for the answer. */
const GRPC_KEEPALIVE_TIME_MS = 10_000;
const GRPC_KEEPALIVE_TIMEOUT_MS = 5_000;

export function parseEndpoints(endpoints: string[] | string): string[] {
  const list = (typeof endpoints === 'string' ? endpoints.split(',') : endpoints).map((endpoint) => endpoint.trim()).filter(Boolean);
  if (list.length === 0) throw new SluiceError('INVALID_CONFIG', 'sluice.etcd.endpoints: no etcd endpoint given');
  for (const endpoint of list) {
    if (!/^https?:\/\/[^/]+$/.test(endpoint)) {
      throw new SluiceError('INVALID_CONFIG', `sluice.etcd.endpoints: '${endpoint}' is not an etcd client URL such as http://127.0.0.1:2379`);
    }
  }
  return list;
}

const noopDisposable = { dispose: () => undefined };

/** A policy that runs the call once (the per-host slot: no circuit breaker). */
function passThroughPolicy(): Policy {
  const policy = {
    onSuccess: () => noopDisposable,
    onFailure: () => noopDisposable,
    execute: <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T, signal?: AbortSignal) =>
      Promise.resolve().then(() => fn({ signal: signal ?? new AbortController().signal })),
  };
  return policy as unknown as Policy;
}

/** Retries recoverable errors with a doubling backoff until `retryForMs` has passed. */
function retryPolicy(retryForMs: number, isClosed: () => boolean): Policy {
  const policy = {
    onSuccess: () => noopDisposable,
    onFailure: () => noopDisposable,
    async execute<T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
      const context = { signal: signal ?? new AbortController().signal };
      const deadline = Date.now() + retryForMs;
      let backoffMs = RETRY_BACKOFF_FIRST_MS;
      for (;;) {
        try {
          return await fn(context);
        } catch (error) {
          const recoverable = error instanceof Error && isRecoverableError(error);
          if (!recoverable || isClosed() || context.signal.aborted || Date.now() + backoffMs > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, backoffMs));
          backoffMs = Math.min(backoffMs * 2, RETRY_BACKOFF_MAX_MS);
        }
      }
    },
  };
  return policy as unknown as Policy;
}

/** Watch reconnect delays: 100, 200, 400, 800, 1000, 1000, ... ms; etcd3 restarts from the first
 *  after a stream delivers anything. */
function watchBackoff(durationMs = WATCH_BACKOFF_FIRST_MS): WatchBackoff {
  return {
    duration: durationMs,
    next: () => watchBackoff(Math.min(durationMs * 2, WATCH_BACKOFF_MAX_MS)),
  } as WatchBackoff;
}

export class EtcdClient {
  readonly etcd: Etcd3;
  readonly endpoints: readonly string[];
  private readonly watchers = new Set<Watcher>();
  private readonly leases = new Set<Lease>();
  private closed = false;

  constructor(options: EtcdClientOptions) {
    this.endpoints = parseEndpoints(options.endpoints);
    const callTimeoutMs = options.callTimeoutMs ?? 2000;
    this.etcd = new Etcd3({
      hosts: [...this.endpoints],
      dialTimeout: options.dialTimeoutMs ?? 5000,
      faultHandling: {
        host: () => passThroughPolicy(),
        global: retryPolicy(options.retryForMs ?? 5000, () => this.closed),
        watchBackoff: watchBackoff(),
      },
      // Streams (watch, lease keepalive) live as long as they are wanted: no deadline on them.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
      grpcOptions: {
        'grpc.keepalive_time_ms': GRPC_KEEPALIVE_TIME_MS,
        'grpc.keepalive_timeout_ms': GRPC_KEEPALIVE_TIMEOUT_MS,
      },
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Registers a watcher or lease to be closed by close(); returns it. */
  track<T extends Watcher | Lease>(resource: T): T {
    if (this.closed) throw new SluiceError('ENGINE_CLOSED', 'etcd client is closed');
    if (isLease(resource)) this.leases.add(resource);
    else this.watchers.add(resource as Watcher);
    return resource;
  }

  /** Forgets a resource its owner closed itself. */
  untrack(resource: Watcher | Lease): void {
    if (isLease(resource)) this.leases.delete(resource);
    else this.watchers.delete(resource as Watcher);
  }

  /** Cancels a watcher and forgets it. etcd confirms a cancel; a dead etcd never does, so the wait
   *  is bounded (WATCH_CANCEL_WAIT_MS) and the watcher is dropped either way. */
  async cancel(watcher: Watcher): Promise<void> {
    this.watchers.delete(watcher);
    await boundedWait(watcher.cancel().catch(() => undefined));
    watcher.removeAllListeners();
    // etcd3 could still emit a late cancel answer as 'error'; an EventEmitter without a listener
    // would throw it.
    watcher.on('error', () => undefined);
  }

  /**
   * Cancels watchers, stops lease keepalives (the leases then expire after their TTL unless their
   * owners revoked them first: revoking is the session's choice, see broker-session.ts), and
   * closes the gRPC channels. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.watchers].map((watcher) => this.cancel(watcher)));
    for (const lease of this.leases) lease.release();
    this.leases.clear();
    this.etcd.close();
  }
}

/** Resolves when `promise` settles or after WATCH_CANCEL_WAIT_MS, whichever is first. */
async function boundedWait(promise: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, WATCH_CANCEL_WAIT_MS)))]);
  clearTimeout(timer);
}

function isLease(resource: Watcher | Lease): resource is Lease {
  return typeof (resource as Lease).revoke === 'function';
}
