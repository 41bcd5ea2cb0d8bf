// The log cleaner's key -> latest offset map (Kafka's SkimpyOffsetMap): a bounded open-addressing
// table of 128-bit key hashes and offsets, 24 bytes an entry (16 of hash, 8 of offset), as Kafka's
// with MD5. Its bound is log.cleaner.dedupe.buffer.size divided by log.cleaner.threads; it is full
// at log.cleaner.io.buffer.load.factor (0.9) of its slots, and a cleaning whose dirty keys do not
// fit stops where it filled and leaves the rest to the next pass. The default 128 MiB holds
// 5,592,405 slots, 5,033,164 keys.
//
// The hash is MurmurHash3 x86_128 in JS, not MD5: node:crypto's MD5 costs ~5 us a key on the
// 2-core reference machine (a hash object per call), murmur3 ~0.12 us; 128 bits keep collisions
// (which would drop the record of one key for the later offset of another) as unlikely as Kafka's:
// for 5 million keys about 2^-83. Neither hash resists keys crafted to collide, in Kafka neither.
//
// The table starts small and doubles (rehashing) while below its bound, so that cleaning a small
// log costs a small table; memory never passes the bound.

/** Bytes an entry is counted as against the dedupe buffer: a 16-byte hash and an 8-byte offset. */
export const OFFSET_MAP_ENTRY_BYTES = 24;
/** Kafka's log.cleaner.io.buffer.load.factor default: the share of slots the map may fill. */
export const OFFSET_MAP_LOAD_FACTOR = 0.9;
/** Slots a table starts with (1.5 MiB): a partition of a few thousand keys never grows it. */
const INITIAL_SLOTS = 1 << 16;
/** A growable table doubles past this load, before probes lengthen (linear probing). */
const GROW_LOAD = 0.7;

export class OffsetMap {
  /** The bound: slots the dedupe buffer pays for. */
  readonly slots: number;
  /** Keys the map holds before it is full: slots * load factor. */
  readonly maxEntries: number;
  private capacity: number;
  /** Four 32-bit words of hash per slot. */
  private hashes: Int32Array;
  /** offset + 1 per slot; 0 marks an empty slot. */
  private offsets: Float64Array;
  private entries = 0;
  /** The largest offset put, or passed to updateLatestOffset; -1 when empty. */
  latestOffset = -1;
  /** Lookups and probes since the last clear (Kafka's collision rate). */
  lookups = 0;
  probes = 0;
  private readonly hash = new Int32Array(4);

  constructor(memoryBytes: number, loadFactor = OFFSET_MAP_LOAD_FACTOR) {
    this.slots = Math.floor(memoryBytes / OFFSET_MAP_ENTRY_BYTES);
    this.maxEntries = Math.floor(this.slots * loadFactor);
    if (this.maxEntries < 1) {
      // Kafka's require(): a map that holds no key makes no progress.
      throw new RangeError(
        `The offset map of ${memoryBytes} bytes holds no key (${OFFSET_MAP_ENTRY_BYTES} bytes an entry, load factor ${loadFactor}): ` +
          'raise log.cleaner.dedupe.buffer.size or lower log.cleaner.threads',
      );
    }
    this.capacity = Math.min(this.slots, INITIAL_SLOTS);
    this.hashes = new Int32Array(this.capacity * 4);
    this.offsets = new Float64Array(this.capacity);
  }

  /** Distinct keys held. */
  get size(): number {
    return this.entries;
  }

  get isFull(): boolean {
    return this.entries >= this.maxEntries;
  }

  /** Share of the bound in use (Kafka's buffer utilization). */
  get utilization(): number {
    return this.entries / this.slots;
  }

  clear(): void {
    this.entries = 0;
    this.latestOffset = -1;
    this.lookups = 0;
    this.probes = 0;
    this.offsets.fill(0);
  }

  /** Records that `key` (buf[start, end)) is at `offset`; a later put of the same key replaces it. */
  put(buf: Uint8Array, start: number, end: number, offset: number): void {
    murmur3x86x128(buf, start, end, this.hash);
    let slot = this.find(this.hash);
    if (this.offsets[slot] === 0) {
      if (this.entries >= this.maxEntries) throw new RangeError('put on a full offset map');
      if (this.capacity < this.slots && this.entries + 1 > this.capacity * GROW_LOAD) {
        this.grow();
        slot = this.find(this.hash);
      }
      const at = slot * 4;
      this.hashes[at] = this.hash[0]!;
      this.hashes[at + 1] = this.hash[1]!;
      this.hashes[at + 2] = this.hash[2]!;
      this.hashes[at + 3] = this.hash[3]!;
      this.entries++;
    }
    this.offsets[slot] = offset + 1;
    if (offset > this.latestOffset) this.latestOffset = offset;
  }

  /** The latest offset of `key` (buf[start, end)), or -1 when the map does not hold it. */
  get(buf: Uint8Array, start: number, end: number): number {
    murmur3x86x128(buf, start, end, this.hash);
    return this.offsets[this.find(this.hash)]! - 1;
  }

  updateLatestOffset(offset: number): void {
    if (offset > this.latestOffset) this.latestOffset = offset;
  }

  /** The slot holding `hash`, or the empty slot where it would go (linear probing). */
  private find(hash: Int32Array): number {
    const { hashes, offsets, capacity } = this;
    let slot = (hash[0]! >>> 0) % capacity;
    this.lookups++;
    for (;;) {
      if (offsets[slot] === 0) return slot;
      const at = slot * 4;
      if (hashes[at] === hash[0] && hashes[at + 1] === hash[1] && hashes[at + 2] === hash[2] && hashes[at + 3] === hash[3]) return slot;
      this.probes++;
      slot = slot + 1 === capacity ? 0 : slot + 1;
    }
  }

  private grow(): void {
    const oldHashes = this.hashes;
    const oldOffsets = this.offsets;
    this.capacity = Math.min(this.slots, this.capacity * 2);
    this.hashes = new Int32Array(this.capacity * 4);
    this.offsets = new Float64Array(this.capacity);
    const hash = new Int32Array(4);
    for (let old = 0; old < oldOffsets.length; old++) {
      if (oldOffsets[old] === 0) continue;
      hash.set(oldHashes.subarray(old * 4, old * 4 + 4));
      const slot = this.find(hash);
      this.hashes.set(hash, slot * 4);
      this.offsets[slot] = oldOffsets[old]!;
    }
  }
}

/**
 * MurmurHash3_x86_128 (Austin Appleby's reference, seed 0) of buf[start, end) into `out` as four
 * int32 words h1..h4. "The quick brown fox jumps over the lazy dog" gives
 * 2f1583c3 ecee2c67 5d7bf66c e5e91d2c.
 */
export function murmur3x86x128(b: Uint8Array, start: number, end: number, out: Int32Array): void {
  const length = end - start;
  const blocksEnd = start + (length & ~15);
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  let i = start;
  for (; i < blocksEnd; i += 16) {
    let k1 = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    let k2 = b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24);
    let k3 = b[i + 8]! | (b[i + 9]! << 8) | (b[i + 10]! << 16) | (b[i + 11]! << 24);
    let k4 = b[i + 12]! | (b[i + 13]! << 8) | (b[i + 14]! << 16) | (b[i + 15]! << 24);
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul((rotl(h1, 19) + h2) | 0, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul((rotl(h2, 17) + h3) | 0, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul((rotl(h3, 15) + h4) | 0, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul((rotl(h4, 13) + h1) | 0, 5) + 0x32ac3b17) | 0;
  }
  // The tail: up to 15 bytes, little-endian into k4..k1, as the reference's fall-through switch.
  const tail = length & 15;
  if (tail > 12) {
    let k4 = 0;
    for (let j = tail - 1; j >= 12; j--) k4 = (k4 << 8) | b[i + j]!;
    h4 ^= Math.imul(rotl(Math.imul(k4, C4), 18), C1);
  }
  if (tail > 8) {
    let k3 = 0;
    for (let j = Math.min(tail, 12) - 1; j >= 8; j--) k3 = (k3 << 8) | b[i + j]!;
    h3 ^= Math.imul(rotl(Math.imul(k3, C3), 17), C4);
  }
  if (tail > 4) {
    let k2 = 0;
    for (let j = Math.min(tail, 8) - 1; j >= 4; j--) k2 = (k2 << 8) | b[i + j]!;
    h2 ^= Math.imul(rotl(Math.imul(k2, C2), 16), C3);
  }
  if (tail > 0) {
    let k1 = 0;
    for (let j = Math.min(tail, 4) - 1; j >= 0; j--) k1 = (k1 << 8) | b[i + j]!;
    h1 ^= Math.imul(rotl(Math.imul(k1, C1), 15), C2);
  }
  h1 ^= length;
  h2 ^= length;
  h3 ^= length;
  h4 ^= length;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h3 = fmix32(h3);
  h4 = fmix32(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  out[0] = h1;
  out[1] = (h2 + h1) | 0;
  out[2] = (h3 + h1) | 0;
  out[3] = (h4 + h1) | 0;
}

const C1 = 0x239b961b;
const C2 = 0xab0e9789 | 0;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93 | 0;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b | 0);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35 | 0);
  return h ^ (h >>> 16);
}
