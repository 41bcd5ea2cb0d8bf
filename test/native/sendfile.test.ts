// sendfile / transmit / transmitNow / cancelTransfers over real loopback TCP connections: the transfer thread
// moves more than the socket buffers hold to a reader that stalls, while the event loop runs on;
// parts and transfers arrive in order; failures arrive as errno codes.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { binding } from '../../src/native/binding.js';
import { rejection, socketPair, tempDir } from './helpers.js';

const ADDON = fileURLToPath(new URL('../../build/Release/sluice.node', import.meta.url));
const BIG_FILE_BYTES = 64 * 1024 * 1024; // well past loopback's socket buffers (a few MiB)

let bigFile: { fd: number; sha256: string };

beforeAll(() => {
  const filePath = path.join(tempDir(), 'big.log');
  const hash = createHash('sha256');
  const fd = fs.openSync(filePath, 'w+');
  for (let written = 0; written < BIG_FILE_BYTES; written += 1 << 20) {
    const chunk = randomBytes(1 << 20);
    hash.update(chunk);
    fs.writeSync(fd, chunk);
  }
  bigFile = { fd, sha256: hash.digest('hex') };
});

afterAll(() => fs.closeSync(bigFile.fd));

/** Collects everything the socket receives until `bytes` have arrived. */
function receive(socket: net.Socket, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let receivedBytes = 0;
  return new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      receivedBytes += chunk.length;
      if (receivedBytes >= bytes) resolve(Buffer.concat(chunks));
    });
  });
}

function smallFile(content: Buffer): number {
  const filePath = path.join(tempDir(), 'small.log');
  fs.writeFileSync(filePath, content);
  return fs.openSync(filePath, 'r');
}

describe('sendfile', () => {
  it('moves 64 MiB byte-for-byte to a slow reader while the event loop keeps ticking', async () => {
    const pair = await socketPair();
    const hash = createHash('sha256');
    let receivedBytes = 0;
    let pauses = 0;
    const received = new Promise<void>((resolve) => {
      pair.client.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        receivedBytes += chunk.length;
        // Stall for 300 ms at 8, 24 and 40 MiB: the transfer must wait for EPOLLOUT and resume.
        if (pauses < 3 && receivedBytes >= (8 + pauses * 16) * 1024 * 1024) {
          pauses++;
          pair.client.pause();
          setTimeout(() => pair.client.resume(), 300);
        }
        if (receivedBytes === BIG_FILE_BYTES) resolve();
      });
    });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    const sentBytes = await binding.sendfile(pair.serverFd, bigFile.fd, 0, BIG_FILE_BYTES);
    const ticksDuringTransfer = ticks;
    clearInterval(ticker);
    await received;
    expect(sentBytes).toBe(BIG_FILE_BYTES);
    expect(pauses).toBe(3);
    expect(ticksDuringTransfer).toBeGreaterThan(10);
    expect(hash.digest('hex')).toBe(bigFile.sha256);
    await pair.close();
  });

  it('sends buffer, file region and buffer of one transmit in order', async () => {
    const content = randomBytes(300_000);
    const fd = smallFile(content);
    const pair = await socketPair();
    const head = Buffer.from('HEAD');
    const tail = Buffer.from('TAIL');
    const expected = Buffer.concat([head, content.subarray(1000, 201_000), tail]);
    const received = receive(pair.client, expected.length);
    const parts = [head, { fd, position: 1000, count: 200_000 }, tail];
    expect(await binding.transmit(pair.serverFd, parts)).toBe(expected.length);
    expect((await received).equals(expected)).toBe(true);
    fs.closeSync(fd);
    await pair.close();
  });

  it('runs many small transfers queued on one socket in FIFO order', async () => {
    const content = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789');
    const fd = smallFile(content);
    const pair = await socketPair();
    const expectedParts: Buffer[] = [];
    const transfers: Promise<number>[] = [];
    for (let i = 0; i < 600; i++) {
      const label = Buffer.from(`<${i}>`);
      const region = { fd, position: i % 30, count: 5 };
      const regionBytes = content.subarray(i % 30, (i % 30) + 5);
      if (i % 3 === 0) {
        transfers.push(binding.transmit(pair.serverFd, [label]));
        expectedParts.push(label);
      } else if (i % 3 === 1) {
        transfers.push(binding.sendfile(pair.serverFd, fd, region.position, region.count));
        expectedParts.push(regionBytes);
      } else {
        transfers.push(binding.transmit(pair.serverFd, [label, region]));
        expectedParts.push(label, regionBytes);
      }
    }
    const expected = Buffer.concat(expectedParts);
    const received = await receive(pair.client, expected.length);
    await Promise.all(transfers);
    expect(received.toString()).toBe(expected.toString());
    fs.closeSync(fd);
    await pair.close();
  });

  it('rejects with EPIPE or ECONNRESET when the peer closes mid-transfer', async () => {
    const pair = await socketPair();
    pair.client.once('data', () => pair.client.destroy());
    const error = await rejection(binding.sendfile(pair.serverFd, bigFile.fd, 0, BIG_FILE_BYTES));
    expect(['EPIPE', 'ECONNRESET']).toContain(error.code);
    expect(error.syscall).toBe('sendfile');
    await pair.close();
  });

  it('rejects every pending transfer of a socket with ECANCELED on cancelTransfers', async () => {
    const pair = await socketPair();
    pair.client.pause(); // the reader never reads: the first transfer stalls once the buffers fill
    const first = rejection(binding.sendfile(pair.serverFd, bigFile.fd, 0, BIG_FILE_BYTES));
    const second = rejection(binding.transmit(pair.serverFd, [Buffer.from('queued behind')]));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(binding.cancelTransfers(pair.serverFd)).toBe(2);
    expect((await first).code).toBe('ECANCELED');
    expect((await second).code).toBe('ECANCELED');
    expect(binding.cancelTransfers(pair.serverFd)).toBe(0);
    await pair.close();
  });

  it('rejects with ENODATA when the file ends before count', async () => {
    const fd = smallFile(Buffer.alloc(1000, 1));
    const pair = await socketPair();
    const received = receive(pair.client, 1000);
    const error = await rejection(binding.sendfile(pair.serverFd, fd, 0, 2000));
    expect(error).toMatchObject({ code: 'ENODATA', syscall: 'sendfile' });
    expect((await received).length).toBe(1000);
    fs.closeSync(fd);
    await pair.close();
  });

  it('sends from its own descriptors: closing the file right after the call is harmless', async () => {
    const content = randomBytes(100_000);
    const fd = smallFile(content);
    const pair = await socketPair();
    const received = receive(pair.client, content.length);
    const transfer = binding.sendfile(pair.serverFd, fd, 0, content.length);
    fs.closeSync(fd);
    expect(await transfer).toBe(content.length);
    expect((await received).equals(content)).toBe(true);
    await pair.close();
  });

  it('throws on bad arguments and descriptors before starting', () => {
    expect(() => binding.sendfile(-1, bigFile.fd, 0, 1)).toThrow(RangeError);
    expect(() => binding.transmit(0, 'parts' as unknown as [])).toThrow(TypeError);
    expect(() => binding.transmit(0, [42 as unknown as Uint8Array])).toThrow(TypeError);
    expect(() => binding.sendfile(2, bigFile.fd, 0, 2 ** 53)).toThrow(RangeError);
    let error: unknown;
    try {
      binding.sendfile(1_000_000, bigFile.fd, 0, 1);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'EBADF', syscall: 'dup' });
  });

  it('lets a process exit on its own once its transfers are done', () => {
    const script = `
      const net = require('node:net');
      const binding = require(${JSON.stringify(ADDON)});
      const server = net.createServer((socket) => {
        binding.transmit(socket._handle.fd, [Buffer.alloc(100000)]).then((sentBytes) => {
          console.log('sent', sentBytes);
          socket.end();
          server.close();
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const client = net.connect(server.address().port, '127.0.0.1');
        client.resume();
      });`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(child.stdout).toBe('sent 100000\n');
    expect(child.status).toBe(0);
  });

  it('survives a worker torn down with a transfer pending, and keeps serving this thread', async () => {
    const script = `
      const net = require('node:net');
      const { parentPort, workerData } = require('node:worker_threads');
      const binding = require(workerData.addon);
      const server = net.createServer((socket) => {
        binding.sendfile(socket._handle.fd, workerData.fd, 0, workerData.bytes);
        parentPort.postMessage('started');
      });
      server.listen(0, '127.0.0.1', () => net.connect(server.address().port, '127.0.0.1').pause());`;
    const worker = new Worker(script, { eval: true, workerData: { addon: ADDON, fd: bigFile.fd, bytes: BIG_FILE_BYTES } });
    await new Promise((resolve) => worker.once('message', resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await worker.terminate();

    const pair = await socketPair();
    const received = receive(pair.client, 5);
    expect(await binding.transmit(pair.serverFd, [Buffer.from('alive')])).toBe(5);
    expect((await received).toString()).toBe('alive');
    await pair.close();
  });
});

describe('transmitNow', () => {
  it('sends buffer, file region and buffer on the calling thread when the socket takes them', async () => {
    const content = randomBytes(300_000);
    const fd = smallFile(content);
    const pair = await socketPair();
    const expected = Buffer.concat([Buffer.from('HEAD'), content.subarray(1000, 101_000), Buffer.from('TAIL')]);
    const received = receive(pair.client, expected.length);
    const parts = [Buffer.from('HEAD'), { fd, position: 1000, count: 100_000 }, Buffer.from('TAIL')];
    expect(binding.transmitNow(pair.serverFd, parts, 1 << 20)).toBe(expected.length);
    expect((await received).equals(expected)).toBe(true);
    fs.closeSync(fd);
    await pair.close();
  });

  it('stops at maxBytes, and where the socket stops taking bytes, without blocking', async () => {
    const pair = await socketPair();
    expect(binding.transmitNow(pair.serverFd, [{ fd: bigFile.fd, position: 0, count: 1000 }], 10)).toBe(10);
    pair.client.pause(); // nothing is read: the socket's buffers fill
    const sentBytes = binding.transmitNow(pair.serverFd, [{ fd: bigFile.fd, position: 10, count: BIG_FILE_BYTES - 10 }], BIG_FILE_BYTES);
    expect(sentBytes).toBeGreaterThan(0);
    expect(sentBytes).toBeLessThan(BIG_FILE_BYTES - 10);
    await pair.close();
  });

  it('sends nothing to a descriptor in blocking mode', () => {
    const fd = fs.openSync(path.join(tempDir(), 'blocking.out'), 'w');
    expect(binding.transmitNow(fd, [Buffer.from('never')], 100)).toBe(0);
    expect(fs.fstatSync(fd).size).toBe(0);
    fs.closeSync(fd);
  });

  it('throws the errno of a send to a connection the peer reset', async () => {
    const pair = await socketPair();
    pair.server.pause(); // Node does not read the reset, so the descriptor stays open
    pair.client.resetAndDestroy();
    let error: unknown;
    for (let i = 0; i < 200 && error === undefined; i++) {
      try {
        binding.transmitNow(pair.serverFd, [Buffer.alloc(1000)], 1000);
        await new Promise((resolve) => setTimeout(resolve, 5));
      } catch (caught) {
        error = caught;
      }
    }
    expect(error).toMatchObject({ syscall: 'send' });
    expect(['EPIPE', 'ECONNRESET']).toContain((error as { code: string }).code);
    await pair.close();
  });
});
