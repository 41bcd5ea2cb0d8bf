// A MappedIndex whose reads run in JS (MappedIndex.view(), an ArrayBuffer over the mmap'd file):
// lookup(), keyAt(), valueAt() and entries() make no call into the addon. A lookup through N-API
// measured 0.2x of a plain JS binary search over a Uint32Array of the same keys (the call and its
// argument conversion cost more than the ~20 probes). lookup() searches a heap copy of the keys with
// a summary (index-keys.ts) and measured 0.89-1.17x of that search (`node --import tsx bench/run.ts
// index`, six runs, 2026-12-05). Writes (append, truncate, resize, sync, close) stay in the addon,
// which keeps the file sparse and owns the mapping's lifetime: resize() and close() detach the view,
// and this class takes a new one after a resize.
//
// The view is taken at the first read, not when the index opens: V8 counts an external buffer's
// length (10 MiB for an active segment's index) as external memory, so taking one cost 200-430 us
// and opening 2,000 indexes ran 177 mark-compacts. Most indexes are never searched (a partition
// nobody reads by offset, a new topic's empty logs): creating a topic of 1,500 partitions spent 45%
// of its time taking views, and a cluster broker's loop was held past its etcd lease.
//
// Entries are big-endian, as Kafka writes them (index-format.ts):
//   offset index: relativeOffset u32, position u32          (8 bytes)
//   time index:   timestamp i64,      relativeOffset u32    (12 bytes)
import type { IndexKind, MappedIndex } from '../native/binding.js';
import { IndexKeys } from './index-keys.js';

const TWO_TO_32 = 4294967296;

export class IndexView implements MappedIndex {
  readonly path: string;
  readonly kind: IndexKind;
  readonly entryBytes: number;
  /** The mapping, viewed at the first read (`data`), dropped by a resize and taken again. */
  private mapped: DataView | null = null;
  private count: number;
  private room: number;
  private closed = false;
  /** The keys on the heap, searched by lookup() (index-keys.ts): built at the first lookup, kept by appends. */
  private keys: IndexKeys | null = null;

  constructor(private readonly index: MappedIndex) {
    this.path = index.path;
    this.kind = index.kind;
    this.entryBytes = index.entryBytes;
    this.count = index.entries();
    this.room = index.capacity();
  }

  entries(): number {
    return this.closed ? this.index.entries() : this.count;
  }

  capacity(): number {
    return this.closed ? this.index.capacity() : this.room;
  }

  isFull(): boolean {
    return this.closed ? this.index.isFull() : this.count >= this.room;
  }

  append(key: number, value: number): void {
    this.index.append(key, value);
    this.keys?.set(this.count, key);
    this.count++;
  }

  /** Slot of the largest entry with key <= target, or -1: the addon's answer, found in JS. */
  lookup(target: number): number {
    if (this.closed || typeof target !== 'number' || Number.isNaN(target)) return this.index.lookup(target);
    this.keys ??= new IndexKeys(this.kind === 'time', this.count, (slot) => this.key(slot));
    return this.keys.search(this.count, target);
  }

  keyAt(slot: number): number {
    if (!this.readable(slot)) return this.index.keyAt(slot); // throws the addon's RangeError or EBADF
    return this.key(slot);
  }

  valueAt(slot: number): number {
    if (!this.readable(slot)) return this.index.valueAt(slot);
    return this.data.getUint32(slot * this.entryBytes + (this.kind === 'offset' ? 4 : 8));
  }

  truncateEntries(count: number): void {
    this.index.truncateEntries(count);
    this.count = this.index.entries(); // keys past count are stale and never searched
  }

  resize(bytes: number): void {
    try {
      this.index.resize(bytes);
    } finally {
      // A failed remap may still have dropped the old mapping: look again either way.
      this.refresh();
    }
  }

  sync(): Promise<void> {
    return this.index.sync();
  }

  close(): void {
    this.index.close();
    this.closed = true;
    this.keys = null;
    this.mapped = new DataView(new ArrayBuffer(0));
  }

  view(): ArrayBuffer {
    return this.index.view();
  }

  private refresh(): void {
    this.mapped = null;
    this.count = this.index.entries();
    this.room = this.index.capacity();
    this.keys = null;
  }

  /** The key at `slot`: a u32 offset, or an i64 timestamp read as two halves (exact below 2^53). */
  private key(slot: number): number {
    const at = slot * this.entryBytes;
    const data = this.data;
    return this.kind === 'offset' ? data.getUint32(at) : data.getInt32(at) * TWO_TO_32 + data.getUint32(at + 4);
  }

  private get data(): DataView {
    return (this.mapped ??= new DataView(this.index.view()));
  }

  private readable(slot: number): boolean {
    return !this.closed && Number.isInteger(slot) && slot >= 0 && slot < this.count;
  }
}


