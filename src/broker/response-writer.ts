// Writes a connection's responses in order. A response is a list of parts: Buffers (framing and
// headers, encoded in JS) and FileRegions (record bytes in segment files). Responses of Buffers
// alone go through socket.write; a response with regions goes through the addon's transmit(),
// which sends the Buffers and sendfile()s the regions in order on the transfer thread, so record
// bytes never pass through JS. A response with regions is first sent on the event loop as far as
// the socket takes it without blocking (transmitNow, at most INLINE_TRANSMIT_BYTES_MAX): most
// fetches of fresh bytes go whole that way, without a wake-up of the transfer thread and a notice
// back, and only the rest goes to the thread. Two rules keep the byte stream whole:
//   - a transmit starts only once every earlier socket.write has completed (libuv's queue empty);
//   - nothing is written while a transmit is pending: later responses wait their turn.
// Each response's `done` runs once, when its last byte is in the kernel's hands (true) or when it
// is dropped (false): the connection reads its next request only then, which is what bounds the
// bytes a client that does not read can make us hold to one response.
//
// A transfer that cannot start (dup(2) failing with EMFILE when descriptors run out) or fails on
// the way is this connection's failure alone: it is reported through onFailure, which closes the
// connection; it never throws into the caller or the event loop.
import type net from 'node:net';
import { TLSSocket } from 'node:tls';

import { binding, type FileRegion, type NativeError } from '../native/binding.js';
import { descriptorOf } from '../native/descriptor.js';
import { INLINE_TRANSMIT_BYTES_MAX } from '../limits.js';
import type { ResponseParts } from '../protocol/index.js';

export interface TrafficCounters {
  /** Bytes written from JS buffers (framing, headers, non-fetch bodies). */
  bytesWrittenFromJs: number;
  /** Record bytes sent from segment files by sendfile, never copied into JS. */
  bytesSentZeroCopy: number;
}

/** A response is finished: `written` is false when it was dropped (connection closed or failed). */
export type ResponseDone = (written: boolean) => void;

function isRegion(part: Buffer | FileRegion): part is FileRegion {
  return !Buffer.isBuffer(part);
}

interface Queued {
  parts: ResponseParts;
  /** Run once the transfer thread holds its own descriptors for the regions (or on drop). */
  releases: ReadonlyArray<() => void>;
  done: ResponseDone | undefined;
}

export class ResponseWriter {
  private readonly queue: Queued[] = [];
  private transmitting = false;
  /** socket.write calls whose callback has not run yet. */
  private pendingWrites = 0;
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly counters: TrafficCounters,
    private readonly onFailure: (error: NativeError) => void,
  ) {}

  /**
   * Queues a response. `releases` run once the response no longer needs what they hold: for file
   * regions, once the transfer thread has duplicated their descriptors; for buffers, once written;
   * or when the response is dropped.
   */
  send(parts: ResponseParts, releases: ReadonlyArray<() => void> = [], done?: ResponseDone): void {
    const queued = { parts, releases, done };
    if (this.closed) {
      drop(queued);
      return;
    }
    if (this.transmitting || this.queue.length > 0) {
      this.queue.push(queued);
      return;
    }
    this.dispatch(queued);
  }

  private dispatch(queued: Queued): void {
    if (!queued.parts.some(isRegion)) {
      this.write(queued);
      return;
    }
    this.transmitting = true;
    if (this.pendingWrites === 0) this.startTransmit(queued);
    else this.queue.unshift(queued); // resumes from the last write's callback
  }

  private write(queued: Queued): void {
    const buffers = queued.parts as Buffer[];
    for (const buffer of buffers) this.counters.bytesWrittenFromJs += buffer.length;
    this.pendingWrites++;
    // The callbacks are inline arrows, not a named closure: under tsx each named closure made per
    // response costs an Object.defineProperty of its name (~2% of a Produce request's CPU time).
    if (buffers.length === 1) {
      this.socket.write(buffers[0]!, (error?: Error | null) => this.written(queued, error));
      return;
    }
    this.socket.cork();
    for (let i = 0; i < buffers.length - 1; i++) this.socket.write(buffers[i]!);
    this.socket.write(buffers[buffers.length - 1]!, (error?: Error | null) => this.written(queued, error));
    this.socket.uncork();
  }

  private written(queued: Queued, error: Error | null | undefined): void {
    this.pendingWrites--;
    // Released once the kernel has the bytes: what a release accounts for (copied records) is
    // held until then.
    release(queued);
    queued.done?.(!error && !this.closed);
    if (error) return; // the socket reports it through 'error'
    if (this.pendingWrites === 0 && this.transmitting && !this.closed) {
      const next = this.queue.shift();
      if (next) this.startTransmit(next);
      this.drainQueue(); // when that one went whole on the event loop
    }
  }

  private startTransmit(queued: Queued): void {
    const fd = socketFd(this.socket);
    if (fd < 0) {
      this.transmitting = false;
      drop(queued);
      this.fail(Object.assign(new Error('the socket has no descriptor (closed, or not a TCP socket)'), { code: 'EBADF', syscall: 'transmit' }));
      return;
    }
    let transmitted: Promise<number> | undefined;
    try {
      const rest = partsAfter(queued.parts, binding.transmitNow(fd, queued.parts, INLINE_TRANSMIT_BYTES_MAX));
      // transmit duplicates every descriptor before returning
      if (rest.length > 0) transmitted = binding.transmit(fd, rest);
    } catch (error) {
      // A send failed (the peer reset), or dup(2) failed (EMFILE, ENFILE), or a region was invalid.
      this.transmitting = false;
      drop(queued);
      this.fail(error as NativeError);
      return;
    }
    release(queued);
    for (const part of queued.parts) {
      if (isRegion(part)) this.counters.bytesSentZeroCopy += part.count;
      else this.counters.bytesWrittenFromJs += part.length;
    }
    if (transmitted === undefined) {
      // Sent whole: the caller's drainQueue goes on with the next response.
      this.transmitting = false;
      queued.done?.(!this.closed);
      return;
    }
    transmitted.then(
      () => {
        this.transmitting = false;
        queued.done?.(!this.closed);
        this.drainQueue();
      },
      (error: NativeError) => {
        this.transmitting = false;
        queued.done?.(false);
        this.fail(error);
      },
    );
  }

  private fail(error: NativeError): void {
    if (this.closed) return;
    this.onFailure(error);
  }

  private drainQueue(): void {
    while (!this.closed && !this.transmitting && this.queue.length > 0) this.dispatch(this.queue.shift()!);
  }

  /**
   * Stops writing. Pending transfers on this socket are cancelled while its descriptor is still
   * ours, so a stalled reader cannot keep the transfer thread's duplicate of it open.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const queued of this.queue.splice(0)) drop(queued);
    const fd = socketFd(this.socket);
    if (this.transmitting && fd >= 0) binding.cancelTransfers(fd);
  }
}

/** The parts left after the first `sentBytes` bytes of `parts` went. */
function partsAfter(parts: ResponseParts, sentBytes: number): ResponseParts {
  const rest: Array<Buffer | FileRegion> = [];
  let skipBytes = sentBytes;
  for (const part of parts) {
    const partBytes = isRegion(part) ? part.count : part.length;
    if (skipBytes >= partBytes) {
      skipBytes -= partBytes;
      continue;
    }
    if (skipBytes === 0) rest.push(part);
    else if (isRegion(part)) rest.push({ fd: part.fd, position: part.position + skipBytes, count: part.count - skipBytes });
    else rest.push(part.subarray(skipBytes));
    skipBytes = 0;
  }
  return rest;
}

function release(queued: Queued): void {
  for (const callback of queued.releases) callback();
}

function drop(queued: Queued): void {
  release(queued);
  queued.done?.(false);
}

/** A Node TCP socket's descriptor on Linux (`socket._handle.fd`), or -1. */
export function socketFd(socket: net.Socket): number {
  // A TLS socket's descriptor carries ciphertext: bytes sent to it directly would bypass the
  // encryption, so it has none here (and a region on it fails as EBADF, never goes out in clear).
  if (socket instanceof TLSSocket) return -1;
  return descriptorOf(socket);
}
