// Splits a socket's byte stream into frames: [size int32][size bytes], the size not counting
// itself. push() takes chunks as they arrive; next() returns the next whole frame (without its
// size prefix) or null. The size prefix is checked as soon as its 4 bytes are here, before any
// body is allocated: a negative size is MALFORMED_FRAME, one above maxFrameBytes (Kafka's
// socket.request.max.bytes) FRAME_TOO_LARGE, and the decoder stays failed (the connection must be
// closed: the stream cannot be resynchronised).
//
// A frame that lies within one chunk, or over chunks that follow one another in one buffer (a
// socket that reads into a buffer we choose, broker/connection.ts), is returned as a subarray (no
// copy); a frame spread over separate buffers is copied once into its own Buffer.
import { ProtocolError } from './errors.js';
import { REQUEST_SIZE_PREFIX_BYTES } from './headers.js';

export class FrameDecoder {
  private readonly maxFrameBytes: number;
  private chunks: Buffer[] = [];
  /** Index of the first chunk still holding unread bytes, and the read position in it. */
  private chunkIndex = 0;
  private chunkOffset = 0;
  private buffered = 0;
  /** Body size of the frame at the head of the stream, once its prefix was read; else -1. */
  private pendingBodyBytes = -1;
  private failure: ProtocolError | null = null;

  constructor(maxFrameBytes: number) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 0 || maxFrameBytes > 0x7fffffff) {
      throw new RangeError(`maxFrameBytes must be an integer in [0, 2^31 - 1], got ${maxFrameBytes}`);
    }
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received and not yet returned in a frame (size prefixes included). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Body size of the frame at the head of the stream once its size prefix has arrived (checked as
   * in push), else -1: what a caller reserves memory for before the body is buffered.
   */
  headFrameBytes(): number {
    if (this.failure !== null) throw this.failure;
    return this.readPrefix() ? this.pendingBodyBytes : -1;
  }

  push(chunk: Buffer): void {
    if (this.failure !== null) throw this.failure;
    if (chunk.length === 0) return;
    const last = this.chunks.length > this.chunkIndex ? this.chunks[this.chunks.length - 1]! : undefined;
    if (last !== undefined && last.buffer === chunk.buffer && last.byteOffset + last.length === chunk.byteOffset) {
      // The next read of the same buffer (broker/read-arena.ts): one chunk, so a frame across the
      // two reads is returned as one view.
      this.chunks[this.chunks.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + chunk.length);
    } else {
      this.chunks.push(chunk);
    }
    this.buffered += chunk.length;
    this.readPrefix();
  }

  next(): Buffer | null {
    if (this.failure !== null) throw this.failure;
    if (!this.readPrefix()) return null;
    const bodyBytes = this.pendingBodyBytes;
    if (this.buffered < REQUEST_SIZE_PREFIX_BYTES + bodyBytes) return null;
    this.skip(REQUEST_SIZE_PREFIX_BYTES);
    this.pendingBodyBytes = -1;
    return this.take(bodyBytes);
  }

  /** Reads and checks the head frame's size prefix if its 4 bytes are here; false if not yet. */
  private readPrefix(): boolean {
    if (this.pendingBodyBytes >= 0) return true;
    if (this.buffered < REQUEST_SIZE_PREFIX_BYTES) return false;
    let size = 0;
    let index = this.chunkIndex;
    let offset = this.chunkOffset;
    for (let i = 0; i < REQUEST_SIZE_PREFIX_BYTES; i++) {
      while (offset >= this.chunks[index]!.length) {
        index++;
        offset = 0;
      }
      size = (size << 8) | this.chunks[index]![offset++]!;
    }
    if (size < 0) {
      this.failure = new ProtocolError('MALFORMED_FRAME', `negative frame size ${size}`);
      throw this.failure;
    }
    if (size > this.maxFrameBytes) {
      this.failure = new ProtocolError('FRAME_TOO_LARGE', `frame of ${size} bytes above the ${this.maxFrameBytes}-byte limit`);
      throw this.failure;
    }
    this.pendingBodyBytes = size;
    return true;
  }

  private advance(count: number): void {
    this.chunkOffset += count;
    this.buffered -= count;
    while (this.chunkIndex < this.chunks.length && this.chunkOffset >= this.chunks[this.chunkIndex]!.length) {
      this.chunkOffset -= this.chunks[this.chunkIndex]!.length;
      this.chunkIndex++;
    }
    // Drop consumed chunks in batches so that many tiny chunks do not cost a shift each.
    if (this.chunkIndex === this.chunks.length) {
      this.chunks = [];
      this.chunkIndex = 0;
    } else if (this.chunkIndex >= 64) {
      this.chunks = this.chunks.slice(this.chunkIndex);
      this.chunkIndex = 0;
    }
  }

  private skip(count: number): void {
    let left = count;
    while (left > 0) {
      const chunk = this.chunks[this.chunkIndex]!;
      const step = Math.min(left, chunk.length - this.chunkOffset);
      this.advance(step);
      left -= step;
    }
  }

  /** Whether every byte not yet returned lies in `buffer`'s memory. */
  unreadWithin(buffer: Buffer): boolean {
    for (let i = this.chunkIndex; i < this.chunks.length; i++) if (this.chunks[i]!.buffer !== buffer.buffer) return false;
    return true;
  }

  /**
   * Copies the bytes not yet returned to the start of `target` (which may be the buffer they lie
   * in, when unreadWithin says so) and reads on from there; returns how many there were.
   */
  moveUnreadTo(target: Buffer): number {
    let written = 0;
    for (let i = this.chunkIndex; i < this.chunks.length; i++) {
      const chunk = i === this.chunkIndex ? this.chunks[i]!.subarray(this.chunkOffset) : this.chunks[i]!;
      // TypedArray.set copies as if through a temporary when source and target share memory.
      target.set(chunk, written);
      written += chunk.length;
    }
    this.chunks = written === 0 ? [] : [target.subarray(0, written)];
    this.chunkIndex = 0;
    this.chunkOffset = 0;
    return written;
  }

  private take(count: number): Buffer {
    if (count === 0) return Buffer.alloc(0);
    const first = this.chunks[this.chunkIndex]!;
    if (first.length - this.chunkOffset >= count) {
      const frame = first.subarray(this.chunkOffset, this.chunkOffset + count);
      this.advance(count);
      return frame;
    }
    const frame = Buffer.allocUnsafe(count);
    let written = 0;
    while (written < count) {
      const chunk = this.chunks[this.chunkIndex]!;
      const step = Math.min(count - written, chunk.length - this.chunkOffset);
      chunk.copy(frame, written, this.chunkOffset, this.chunkOffset + step);
      written += step;
      this.advance(step);
    }
    return frame;
  }
}
