// Where a connection's socket reads land: one buffer kept for the connection's life (its arena),
// read into at its free tail, its unread bytes moved to the front when the tail runs short. Node
// otherwise allocates a new ArrayBuffer for every read: at ~32 MB/s of Produce that made V8 run a
// full mark-compact every 250-400 ms (4-14 ms each, 31 in a 2M-record run; 1 with the arena).
// Frames the decoder returns are views of it: a request that keeps them past its handler's return
// must copy them (the connection does, for every API but Produce).
import { REQUEST_SIZE_PREFIX_BYTES, type FrameDecoder } from '../protocol/index.js';

/**
 * The arena's usual size. 128 KiB holds a producer's five pipelined Produce requests of 16 KiB
 * batches (5 x 16.3 KB) with room for a read, so one read can take all of them. With 64 KiB reads
 * split them, and the unread tail was moved to the front about once every four requests. In the
 * ingest bench's replay the broker spent a median 73.5 us of CPU a request with 64 KiB and 57.5 us
 * with 128 KiB (four alternating runs each, /proc CPU time of the broker process); `sluice perf
 * produce` did not change (0.81-1.11M records/s against 0.77-1.19M). The cost: 128 KiB for each
 * connection that has read anything, as Kafka's socket.receive.buffer.bytes (100 KiB) is per
 * connection too.
 */
const ARENA_BYTES = 128 * 1024;
/** A read is given at least this much room: smaller, and the arena is compacted or replaced first. */
const READ_BYTES_MIN = 16 * 1024;
/**
 * Where the first read after a pause lands when the arena had no room left (see target). One for
 * all connections: its bytes are moved into the reading connection's arena before the read's
 * callback returns, and no other socket is read meanwhile.
 */
const SPILL = Buffer.allocUnsafeSlow(READ_BYTES_MIN);

export class ReadArena {
  private buffer: Buffer | null = null;
  private filledBytes = 0;

  /** `decoder` is the connection's: the arena holds its unread bytes. */
  constructor(private readonly decoder: FrameDecoder) {}

  /**
   * The buffer the socket's next read fills: the arena's free tail. When less than READ_BYTES_MIN
   * is left, room is made first, unless `heldWhilePaused` (a request in flight may hold a view of
   * the arena, and reading was paused for it): the read then comes after resume(), and lands in the
   * shared spill buffer, to be moved into the arena once it can be compacted. `frameHeld`: a
   * request in flight may hold a view of the arena.
   */
  target(frameHeld: boolean, heldWhilePaused: boolean): Buffer {
    const buffer = this.buffer;
    if (buffer !== null && buffer.length - this.filledBytes >= READ_BYTES_MIN) return buffer.subarray(this.filledBytes);
    if (buffer !== null && heldWhilePaused) return SPILL;
    return this.makeRoom(READ_BYTES_MIN, frameHeld);
  }

  /** `bytes` bytes were read into `target` (from target()): returns them, now in the arena. */
  filled(target: Buffer, bytes: number, frameHeld: boolean): Buffer {
    let chunk: Buffer;
    if (target === SPILL) {
      chunk = this.makeRoom(bytes, frameHeld).subarray(0, bytes);
      SPILL.copy(chunk, 0, 0, bytes);
    } else {
      chunk = target.subarray(0, bytes);
    }
    this.filledBytes += bytes;
    return chunk;
  }

  /** Whether the next read fits without making room: reading need not stop yet. */
  get hasRoomForRead(): boolean {
    return this.buffer !== null && this.buffer.length - this.filledBytes >= READ_BYTES_MIN;
  }

  /** Whether `frame` is a view of the arena (to be copied if kept past its handler). */
  holds(frame: Buffer): boolean {
    return this.buffer !== null && frame.buffer === this.buffer.buffer;
  }

  /**
   * At least `bytes` of free room at the arena's end, returned as that free tail: the bytes not yet
   * taken as frames move to the front, in place when no request may hold a view of the arena, else
   * into a new arena (the old one stays with that request). An arena grows to hold a large frame
   * whole, and shrinks back once frames fit again.
   */
  private makeRoom(bytes: number, frameHeld: boolean): Buffer {
    const buffer = this.buffer;
    let neededBytes = this.decoder.bufferedBytes;
    try {
      const frameBytes = this.decoder.headFrameBytes();
      if (frameBytes >= 0) neededBytes = Math.max(neededBytes, REQUEST_SIZE_PREFIX_BYTES + frameBytes);
    } catch {
      // A refused size prefix: the connection closes in its turn; this read may land anywhere.
    }
    neededBytes += bytes;
    const inPlace =
      buffer !== null && !frameHeld && buffer.length >= neededBytes && (buffer.length === ARENA_BYTES || neededBytes > ARENA_BYTES) && this.decoder.unreadWithin(buffer);
    const target = inPlace ? buffer : Buffer.allocUnsafeSlow(Math.max(ARENA_BYTES, neededBytes));
    this.filledBytes = this.decoder.moveUnreadTo(target);
    this.buffer = target;
    return target.subarray(this.filledBytes);
  }
}
