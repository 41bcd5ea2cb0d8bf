// A MappedIndex whose reads run in JS over the mapping itself (MappedIndex.view(), an ArrayBuffer
// over the mmap'd file): lookup(), keyAt(), valueAt() and entries() make no call into the addon.
// A lookup through N-API measured 0.5x of a plain JS binary search over a Uint32Array of the same
// keys (the call and its argument conversion cost as much as the ~20 probes); this one measured
// 0.85-1.05x of it after other suites in one process, 0.73-0.94x with the suite in a process of
// its own (`npm run bench -- index`: 38-41 ns a lookup against 28-38 ns). Writes (append,
// truncate, resize, sync, close) stay in the addon, which keeps the file sparse and owns the
// mapping's lifetime: resize() and close() detach the view, and this class takes a new one after
// a resize.
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

/**
 * Entries per block of the in-memory summary: the key of every block's first entry is kept in a
 * JS array (8 bytes per 4 KiB of index: 20 KiB for a full 10 MiB one), so a lookup searches the
 * summary on the heap, then ~9 probes inside one block (one or two pages of the mapping). A plain
 * binary search over the mapping touches ~12 pages, each a TLB miss on a file mapping's 4 KiB
 * pages, and measured 0.77x of the JS reference; Kafka's 8 KiB warm section helps only lookups
 * near the tail.
 */
const BLOCK_BYTES = 4096;
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
  private readonly blockEntries: number;
  /** Keys of entries 0, blockEntries, 2 * blockEntries, ...: built at the first lookup, kept by appends and truncation. */
  private summary: number[] | null = null;

  constructor(private readonly index: MappedIndex) {
    this.path = index.path;
    this.kind = index.kind;
    this.entryBytes = index.entryBytes;
    this.blockEntries = Math.floor(BLOCK_BYTES / this.entryBytes);
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
    if (this.summary !== null && this.count % this.blockEntries === 0) this.summary.push(key);
    this.count++;
  }

  /** Slot of the largest entry with key <= target, or -1: the addon's answer, found in JS. */
  lookup(target: number): number {
    if (this.closed || typeof target !== 'number' || Number.isNaN(target)) return this.index.lookup(target);
    const summary = this.summary ?? this.buildSummary();
    if (summary.length === 0 || summary[0]! > target) return -1;
    // The last block whose first key is <= target holds the answer.
    let low = 0;
    let high = summary.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (summary[middle]! <= target) low = middle;
      else high = middle - 1;
    }
    const first = low * this.blockEntries;
    return this.searchBlock(first, Math.min(first + this.blockEntries, this.count) - 1, target);
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
    this.count = this.index.entries();
    if (this.summary !== null) this.summary.length = Math.ceil(this.count / this.blockEntries);
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
    this.summary = null;
    this.mapped = new DataView(new ArrayBuffer(0));
  }

  view(): ArrayBuffer {
    return this.index.view();
  }

  private refresh(): void {
    this.mapped = null;
    this.count = this.index.entries();
    this.room = this.index.capacity();
    this.summary = null;
  }

  private buildSummary(): number[] {
    const summary: number[] = [];
    for (let slot = 0; slot < this.count; slot += this.blockEntries) summary.push(this.key(slot));
    this.summary = summary;
    return summary;
  }

  /** Largest slot in [low, high] whose key is <= target, given key(low) <= target. */
  private searchBlock(low: number, high: number, target: number): number {
    const data = this.data;
    const step = this.entryBytes;
    if (this.kind === 'offset') {
      while (low < high) {
        const middle = (low + high + 1) >>> 1;
        if (data.getUint32(middle * step) <= target) low = middle;
        else high = middle - 1;
      }
      return low;
    }
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.key(middle) <= target) low = middle;
      else high = middle - 1;
    }
    return low;
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

