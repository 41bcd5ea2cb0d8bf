// Memory for request frames, reused once each frame is written. A producer's Produce request of
// 16 KiB batches needs 16 KiB: allocated anew for every request (2,000 a second at 285k records/s
// of 100 B) that is ~32 MB/s of ArrayBuffers, which V8 answers with a full mark-compact every few
// hundred milliseconds in the producer's process. A few buffers taken and given back instead keep
// that memory flat. Frames below POOLED_BYTES_MIN come from Node's own Buffer pool, as before.

/** Smaller frames (most requests but Produce) are cut from Node's 8 KiB Buffer pool. */
const POOLED_BYTES_MIN = 4 * 1024;
/** A buffer this pool makes holds at least this much, so that requests of about one size share buffers. */
const BUFFER_BYTES_MIN = 64 * 1024;
/** Free buffers kept at most: a producer has max.in.flight (5) requests being written at once. */
const FREE_BUFFERS_MAX = 8;
/** A buffer above this size (a request of large batches) is not kept once written. */
const KEPT_BUFFER_BYTES_MAX = 4 * 1024 * 1024;

export class WriteBuffers {
  private readonly free: ArrayBuffer[] = [];
  /** The buffers this pool made: only those are taken back. */
  private readonly made = new WeakSet<ArrayBuffer>();

  /** A buffer of exactly `sizeBytes`, to be given back by release() once it is written. */
  take(sizeBytes: number): Buffer {
    if (sizeBytes < POOLED_BYTES_MIN) return Buffer.allocUnsafe(sizeBytes);
    for (let i = this.free.length - 1; i >= 0; i--) {
      const memory = this.free[i]!;
      if (memory.byteLength < sizeBytes) continue;
      this.free.splice(i, 1);
      return Buffer.from(memory, 0, sizeBytes);
    }
    const memory = new ArrayBuffer(Math.max(BUFFER_BYTES_MIN, sizeBytes));
    this.made.add(memory);
    return Buffer.from(memory, 0, sizeBytes);
  }

  /** `frame`, from take(), is written: its memory may be reused. */
  release(frame: Buffer): void {
    const memory = frame.buffer as ArrayBuffer;
    if (!this.made.has(memory) || memory.byteLength > KEPT_BUFFER_BYTES_MAX || this.free.length >= FREE_BUFFERS_MAX) return;
    this.free.push(memory);
  }
}
