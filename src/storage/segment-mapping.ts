// A segment's .log read through a read-only memory mapping instead of pread. On the VMs this runs
// on a syscall costs 1-4 µs, and a random read by offset of 100 KB batches made two: an 8 KiB pread
// of headers to walk and a pread of the batch (23 µs in all, `npm run bench -- read`). Through the
// mapping the header walk reads memory, a copy is a memcpy, and a caller may take the batch as a
// view without copying it at all (Log.readView).
//
// Lifetime: the mapping belongs to the ArrayBuffer over it (native SegmentFile::Map) and is
// unmapped when that is garbage-collected, so a view handed out stays readable after its segment
// is closed or deleted. A truncation first replaces the pages it cuts with zero pages in every
// live mapping of the file, so no view can touch a page the file no longer has (SIGBUS). The
// active segment is mapped ahead of its size (Segment.mapped), so it is not mapped again at every
// append; reads stay below the file's size.
//
// A page the disk cannot read (or one past the end of a file cut from outside) would raise SIGBUS
// and end the process; the addon reads zeros there instead and counts the fault, and the log call
// that met it fails with EIO (mapping-faults.ts), so its directory goes offline.
import type { SegmentFile } from '../native/binding.js';
import { MAPPED_SEGMENTS_MAX } from '../limits.js';

/** Every segment mapping held now, oldest first (a Set iterates in insertion order). */
const held = new Set<SegmentMapping>();

export class SegmentMapping {
  private buffer: Buffer | null = null;
  /** mmap failed (out of map areas or address space): read with pread from now on. */
  private unavailable = false;

  constructor(private readonly file: SegmentFile) {}

  /**
   * The mapping when it covers [0, endPosition), mapping `mapBytes` (>= endPosition) when it must;
   * null when the file cannot be mapped, and the caller reads with pread.
   */
  covering(endPosition: number, mapBytes: number): Buffer | null {
    const buffer = this.buffer;
    if (buffer !== null && endPosition <= buffer.length) return buffer;
    if (this.unavailable || endPosition === 0) return null;
    this.drop();
    try {
      this.buffer = Buffer.from(this.file.map(Math.max(mapBytes, endPosition)));
    } catch {
      this.unavailable = true;
      return null;
    }
    held.add(this);
    if (held.size > MAPPED_SEGMENTS_MAX) held.values().next().value!.drop();
    return this.buffer;
  }

  /** Lets the mapping go (it is unmapped once no view of it is left); the next read maps again. */
  drop(): void {
    if (this.buffer === null) return;
    this.buffer = null;
    held.delete(this);
  }
}
