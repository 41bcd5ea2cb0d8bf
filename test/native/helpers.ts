// Helpers for the native addon's tests: temporary directories, and the process's own counts of
// descriptors and mappings, by which the tests prove that open/close cycles leak nothing.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

import type { NativeError } from '../../src/native/binding.js';

const created: string[] = [];

afterAll(() => {
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the OS temp dir, removed when the test file ends. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-native-'));
  created.push(dir);
  return dir;
}

/** Descriptors open in this process (the listing's own descriptor is open in both counts alike). */
export function openFdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Lines of /proc/self/maps: one per mapping. */
export function mappingLines(): string[] {
  return fs.readFileSync('/proc/self/maps', 'utf8').trimEnd().split('\n');
}

/**
 * The kernel's VmFlags of each mapping of `file` in this process (/proc/self/smaps), e.g.
 * ['rd', 'wr', 'sh', 'mr', 'mw', 'me', 'ms', 'rr']: 'rr' is madvise(MADV_RANDOM), 'sr' MADV_SEQUENTIAL.
 */
export function mappingFlagsOf(file: string): string[][] {
  const flags: string[][] = [];
  let inFile = false;
  for (const line of fs.readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inFile = line.endsWith(file);
    else if (inFile && line.startsWith('VmFlags:')) flags.push(line.slice('VmFlags:'.length).trim().split(/\s+/));
  }
  return flags;
}

/** Runs `fn` and returns what it threw, failing the test when it throws nothing. */
export function thrown(fn: () => unknown): NativeError {
  try {
    fn();
  } catch (error) {
    return error as NativeError;
  }
  throw new Error('expected an error');
}

/** The error a promise rejects with, failing the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<NativeError> {
  try {
    await promise;
  } catch (error) {
    return error as NativeError;
  }
  throw new Error('expected a rejection');
}

export interface SocketPair {
  /** The server side: the socket sluice sends from. */
  server: net.Socket;
  /** The server side's descriptor, as src/broker would take it. */
  serverFd: number;
  /** The client side: the consumer reading what is sent. */
  client: net.Socket;
  close(): Promise<void>;
}

/** A real loopback TCP connection on 127.0.0.1, both ends connected. */
export async function socketPair(): Promise<SocketPair> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as net.AddressInfo;
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect(port, '127.0.0.1');
  const [server] = await Promise.all([accepted, new Promise((resolve) => client.once('connect', resolve))]);
  listener.close();
  // Tests that reset a connection on purpose check the transfer's error, not the sockets' own.
  server.on('error', () => {});
  client.on('error', () => {});
  const serverFd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  return {
    server,
    serverFd,
    client,
    async close() {
      client.destroy();
      server.destroy();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}
