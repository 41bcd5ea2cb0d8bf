// Reading an accepted connection into buffers we choose (net's `onread`), which Node offers for
// sockets it connects but not for sockets a net.Server accepts.
//
// Why: a socket read through 'data' events gets a new ArrayBuffer for every read. Under a producer
// at 285k records/s of 100 B (2,000 Produce requests of 16 KiB a second) that is ~32 MB/s of
// ArrayBuffers, and V8 answers the growth of that memory with a full mark-compact every 250-400 ms
// (4-14 ms each, counted with a gc PerformanceObserver in the broker); a producer's p99 latency
// is made of those pauses. Read into one reused buffer per connection, the broker's heap sees no
// such growth.
//
// How: the server is created with pauseOnConnect, so the socket it accepts has not read a byte.
// Its handle is given to a new net.Socket with the `onread` option, as Node's own accept path
// (net.js onconnection) builds its sockets from a handle, and the accepted socket object is
// destroyed when the new one closes, which keeps the server's connection count (server.close()
// waits for it). Where a Node version's sockets do not look as expected, nothing is adopted and
// the caller reads the accepted socket's 'data' events as before.
import net from 'node:net';

export interface ReadInto {
  /** The buffer the next read fills (asked again after every read). */
  buffer: () => Buffer;
  /** `bytes` bytes were read into `buffer`, the buffer the last call of buffer() returned. */
  callback: (bytes: number, buffer: Buffer) => void;
}

interface HandleOwner {
  _handle: { useUserBuffer?: unknown; readStart?: unknown } | null;
}

/** A socket over `accepted`'s connection that reads through `onread`, or null when it cannot be made. */
export function readIntoChosenBuffers(accepted: net.Socket, onread: ReadInto): net.Socket | null {
  const owner = accepted as unknown as HandleOwner;
  const handle = owner._handle;
  if (handle === null || typeof handle.useUserBuffer !== 'function' || typeof handle.readStart !== 'function' || !accepted.isPaused()) return null;
  owner._handle = null;
  const socket = new net.Socket({
    handle,
    readable: true,
    writable: true,
    onread: {
      buffer: onread.buffer,
      callback: (bytes: number, buffer: Uint8Array) => {
        onread.callback(bytes, buffer as Buffer);
        return true;
      },
    },
  } as net.SocketConstructorOpts);
  socket.once('close', () => accepted.destroy());
  return socket;
}
