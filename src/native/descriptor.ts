// The file descriptor under a Node socket or server, for the addon's calls on it (sendfile,
// setsockopt). Node keeps it on the libuv handle (`_handle.fd`, on Linux); a TLS socket's handle
// wraps its TCP connection's, so it has the same descriptor.
import type net from 'node:net';

/** The descriptor of `owner`'s handle, or -1 when it has none (not open yet, or closed). */
export function descriptorOf(owner: net.Socket | net.Server): number {
  const fd = (owner as unknown as { _handle?: { fd?: number } | null })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}
