// readIntoChosenBuffers: an accepted socket that has not been read yet (pauseOnConnect) is read
// into the buffers the caller chooses, and the server still counts it until it closes; a socket
// that is already being read is left alone (null: the caller reads its 'data' events).
import net from 'node:net';
import { describe, expect, it } from 'vitest';

import { readIntoChosenBuffers } from '../../src/broker/socket-reads.js';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

describe('readIntoChosenBuffers', () => {
  it('reads an accepted, unread socket into the chosen buffers; the server counts it until it closes', async () => {
    const target = Buffer.alloc(8);
    const received: Buffer[] = [];
    let adopted: net.Socket | null = null;
    const closed = new Promise<void>((resolve) => {
      const server = net.createServer({ pauseOnConnect: true }, (accepted) => {
        adopted = readIntoChosenBuffers(accepted, {
          buffer: () => target,
          callback: (bytes, buffer) => {
            expect(buffer).toBe(target);
            received.push(Buffer.from(buffer.subarray(0, bytes)));
          },
        });
        adopted!.on('close', () => server.close(() => resolve()));
      });
      void listen(server).then((port) => {
        const client = net.connect(port, '127.0.0.1', () => client.end('twenty bytes of data'));
      });
    });
    await closed; // server.close() calls back only once its connection count is back to 0
    expect(adopted).not.toBeNull();
    expect(Buffer.concat(received).toString()).toBe('twenty bytes of data');
    expect(Math.max(...received.map((chunk) => chunk.length))).toBeLessThanOrEqual(8);
  });

  it('leaves a socket that is already being read alone', async () => {
    const server = net.createServer((accepted) => {
      expect(readIntoChosenBuffers(accepted, { buffer: () => Buffer.alloc(8), callback: () => {} })).toBeNull();
      accepted.destroy();
    });
    const port = await listen(server);
    const client = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => client.on('close', resolve));
    await new Promise((resolve) => server.close(resolve));
  });
});
