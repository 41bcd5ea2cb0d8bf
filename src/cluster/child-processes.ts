// What the launchers of child processes share (etcd-process.ts for etcd members, start-cluster.ts
// for brokers): a free port to give a child, and the tail of a child's log for an error message.
import fs from 'node:fs';
import net from 'node:net';

/** Bytes of a log read back into an error: the last 20 or so lines, enough to see why it died. */
const LOG_TAIL_BYTES = 2000;

/**
 * A TCP port nothing listens on at the moment, on one address: bound with port 0, read back and
 * closed. Another process can take it before the child binds it, so callers retry with a fresh
 * port when the child fails on "address in use".
 */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The end of a log file, after byte `fromByte` (what one run of a child appended); '' when none. */
export function logTail(file: string, fromByte = 0): string {
  try {
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r');
    try {
      const length = Math.max(0, Math.min(size - fromByte, LOG_TAIL_BYTES));
      const buffer = Buffer.alloc(length);
      fs.readSync(fd, buffer, 0, length, size - length);
      return buffer.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}
