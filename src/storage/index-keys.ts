// A copy of an index's keys on the JS heap, searched instead of the mapping: a Uint32Array of
// relative offsets (an offset index) or a Float64Array of timestamps (a time index), and a summary
// holding every 16th key. A lookup binary-searches the summary (1/16 of the keys: 80 KiB for a full
// 10 MiB offset index, so its pages stay in the TLB), then the 16 keys of one block (64 bytes, one
// cache line of the copy). A binary search over all the keys touches ~10 pages per lookup, each a
// TLB miss that costs a two-level page walk on this VM; over the mapping itself it measured
// 0.45-1.05x of a JS binary search over a Uint32Array (55-69 ns against 31 ns in fresh-clone CI
// runs), and a flat search of a heap copy moved between 25 and 65 ns from process to process. The
// two levels measured 25-36 ns where the flat search took 32-50 ns in the same processes
// (2026-12-05). The cost is 4.25 bytes of heap per offset-index entry (one entry per 4 KiB of log:
// 1.1 MiB for a 1 GiB segment), and only for indexes that are searched.
const BLOCK_SHIFT = 4;
const BLOCK_KEYS = 1 << BLOCK_SHIFT;
const INITIAL_ROOM = 1024;

type Keys = Uint32Array | Float64Array;

export class IndexKeys {
  private keys: Keys;
  private summary: Keys;

  /** Keys of slots [0, count), read by `keyAt`. */
  constructor(private readonly timestamps: boolean, count: number, keyAt: (slot: number) => number) {
    this.keys = this.allocate(Math.max(INITIAL_ROOM, count));
    this.summary = this.allocate(blocksOf(this.keys.length));
    for (let slot = 0; slot < count; slot++) this.set(slot, keyAt(slot));
  }

  /** Records the key of `slot`; slots past it are forgotten (a truncation rewrites them). */
  set(slot: number, key: number): void {
    if (slot >= this.keys.length) {
      this.keys = this.grown(this.keys, this.keys.length * 2);
      this.summary = this.grown(this.summary, blocksOf(this.keys.length));
    }
    this.keys[slot] = key;
    if ((slot & (BLOCK_KEYS - 1)) === 0) this.summary[slot >>> BLOCK_SHIFT] = key;
  }

  /** Largest slot in [0, count) whose key is <= target, or -1. */
  search(count: number, target: number): number {
    const keys = this.keys;
    if (count === 0 || keys[0]! > target) return -1;
    const block = searchRange(this.summary, 0, (count - 1) >>> BLOCK_SHIFT, target);
    const first = block << BLOCK_SHIFT;
    return searchRange(keys, first, Math.min(first + BLOCK_KEYS, count) - 1, target);
  }

  private allocate(room: number): Keys {
    return this.timestamps ? new Float64Array(room) : new Uint32Array(room);
  }

  private grown(keys: Keys, room: number): Keys {
    const larger = this.allocate(room);
    larger.set(keys);
    return larger;
  }
}

function blocksOf(slots: number): number {
  return (slots + BLOCK_KEYS - 1) >>> BLOCK_SHIFT;
}

/** Largest slot in [low, high] whose key is <= target, given keys[low] <= target. */
function searchRange(keys: Keys, low: number, high: number, target: number): number {
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if (keys[middle]! <= target) low = middle;
    else high = middle - 1;
  }
  return low;
}
