// A local copy of one etcd key or prefix, kept current by a watch: the base of every cluster
// watch (live brokers, the controller key, topics and partition states).
//
//   const mirror = await KeyMirror.start(client, { prefix: '/sluice/brokers/' }, {
//     snapshot: (records, revision) => ...,   // once, before any change
//     change: (change) => ...,                // each put / delete after the snapshot, in revision order
//   });
//   mirror.records; mirror.revision; await mirror.close();
//
// How nothing is missed or repeated: the snapshot is one range read at revision R, the watch
// starts at R+1, so every later write arrives exactly once and in order. etcd3 reconnects a
// broken watch stream by itself, but it resumes from the create answer's header revision, which
// can be past events not yet delivered; so before each (re)create the mirror sets the start
// revision to one past the last revision it has applied. When etcd cancels the watch (the start
// revision was compacted away, or another cancel reason), the mirror reads the range again and
// delivers the difference as changes, so listeners still see each join and leave.
import type { IWatchCreateRequest, IWatchResponse, Watcher } from 'etcd3';

import type { EtcdClient } from './etcd-client.js';
import { readKey, readPrefix, toRecord, type KvRecord } from './kv.js';

export type KeyTarget = { prefix: string } | { key: string };

export type KeyChange =
  | { type: 'put'; record: KvRecord; previous: KvRecord | undefined }
  | { type: 'delete'; key: string; previous: KvRecord | undefined; revision: number };

export interface KeyMirrorHandler {
  /** The records at `revision`, before any change is delivered. */
  snapshot?(records: ReadonlyMap<string, KvRecord>, revision: number): void;
  change(change: KeyChange): void;
  /** A resync that failed and will be retried (etcd unreachable; the mirror keeps its records),
   *  or an error thrown by `change`. */
  error?(error: unknown): void;
}

const RESYNC_RETRY_MS = 500;

export class KeyMirror {
  private readonly map = new Map<string, KvRecord>();
  private watcher: Watcher | undefined;
  private lastRevision = 0;
  private closed = false;
  private resyncing = false;

  private constructor(
    private readonly client: EtcdClient,
    private readonly target: KeyTarget,
    private readonly handler: KeyMirrorHandler,
  ) {}

  static async start(client: EtcdClient, target: KeyTarget, handler: KeyMirrorHandler): Promise<KeyMirror> {
    const mirror = new KeyMirror(client, target, handler);
    const { records, revision } = await mirror.read();
    for (const record of records) mirror.map.set(record.key, record);
    mirror.lastRevision = revision;
    handler.snapshot?.(mirror.map, revision);
    await mirror.watch();
    return mirror;
  }

  get records(): ReadonlyMap<string, KvRecord> {
    return this.map;
  }

  /** The last revision whose changes the mirror holds. */
  get revision(): number {
    return this.lastRevision;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const watcher = this.watcher;
    this.watcher = undefined;
    if (watcher !== undefined) await this.dropWatcher(watcher);
  }

  private async read(): Promise<{ records: KvRecord[]; revision: number }> {
    if ('prefix' in this.target) return readPrefix(this.client, this.target.prefix);
    const { record, revision } = await readKey(this.client, this.target.key);
    return { records: record === undefined ? [] : [record], revision };
  }

  private async watch(): Promise<void> {
    const builder = this.client.etcd.watch();
    if ('prefix' in this.target) builder.prefix(this.target.prefix);
    else builder.key(this.target.key);
    builder.startRevision(String(this.lastRevision + 1));
    const watcher = this.client.track(builder.watcher());
    this.watcher = watcher;
    // Before every create request (the first and each reconnect): resume after what we applied.
    // etcd3 emits the create request itself (typed as the outer IWatchRequest) and writes it next.
    watcher.on('connecting', (request) => {
      (request as IWatchCreateRequest).start_revision = this.lastRevision + 1;
    });
    watcher.on('data', (response: IWatchResponse) => this.apply(response));
    watcher.on('error', () => void this.resync(watcher));
    await new Promise<void>((resolve, reject) => {
      watcher.once('connected', () => resolve());
      watcher.once('error', reject);
    }).catch(() => undefined); // a cancel at creation is handled by the resync above
  }

  private apply(response: IWatchResponse): void {
    if (this.closed) return;
    for (const event of response.events) {
      const record = toRecord(event.kv);
      const previous = this.map.get(record.key);
      if (String(event.type) === 'Put') {
        this.map.set(record.key, record);
        this.lastRevision = Math.max(this.lastRevision, record.modRevision);
        this.deliver({ type: 'put', record, previous });
      } else {
        this.map.delete(record.key);
        this.lastRevision = Math.max(this.lastRevision, record.modRevision);
        this.deliver({ type: 'delete', key: record.key, previous, revision: record.modRevision });
      }
    }
    // etcd sends a response's events up to its header revision (and progress notifications carry
    // the revision up to which everything was sent), so the mirror is current to it.
    this.lastRevision = Math.max(this.lastRevision, Number(response.header.revision));
  }

  /** A listener that throws must not stop the changes after it (nor, inside etcd3's stream
   *  handler, crash the process): its error goes to the error handler. */
  private deliver(change: KeyChange): void {
    try {
      this.handler.change(change);
    } catch (error) {
      this.handler.error?.(error);
    }
  }

  /** Re-reads the range after etcd cancelled the watch, delivers the difference, watches again. */
  private async resync(cancelled: Watcher): Promise<void> {
    if (this.closed || this.resyncing || cancelled !== this.watcher) return;
    this.resyncing = true;
    this.watcher = undefined;
    await this.dropWatcher(cancelled);
    while (!this.closed) {
      try {
        const { records, revision } = await this.read();
        const fresh = new Map(records.map((record) => [record.key, record]));
        for (const [key, previous] of [...this.map]) {
          if (!fresh.has(key)) {
            this.map.delete(key);
            this.deliver({ type: 'delete', key, previous, revision });
          }
        }
        for (const [key, record] of fresh) {
          const previous = this.map.get(key);
          if (previous?.modRevision === record.modRevision) continue;
          this.map.set(key, record);
          this.deliver({ type: 'put', record, previous });
        }
        this.lastRevision = revision;
        this.resyncing = false;
        if (!this.closed) await this.watch();
        return;
      } catch (error) {
        this.handler.error?.(error);
        await new Promise((resolve) => setTimeout(resolve, RESYNC_RETRY_MS));
      }
    }
    this.resyncing = false;
  }

  private async dropWatcher(watcher: Watcher): Promise<void> {
    watcher.removeAllListeners('data');
    await this.client.cancel(watcher);
  }
}
