// socket.send.buffer.bytes and socket.receive.buffer.bytes, in every Kafka server.properties: the
// SO_SNDBUF and SO_RCVBUF of the connections each listener accepts, or the OS's autotuned buffers
// for -1 (sluice's default; Kafka's is 102400, see config.ts). Read back from outside with ss(8),
// which shows the kernel's figures (Linux doubles a value set, for its bookkeeping).
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';

import { afterEach, describe, expect, it } from 'vitest';

import { reportBrokerConfig } from '../../src/broker/config.js';
import { startBroker, type Broker } from '../../src/index.js';
import { tempDir, waitUntil } from '../helpers.js';

let broker: Broker | undefined;
afterEach(async () => {
  await broker?.stop();
  broker = undefined;
});

/** The kernel's send and receive buffer bytes of the broker's side of each connection to `port`. */
async function acceptedBuffers(port: number): Promise<Array<{ sendBytes: number; receiveBytes: number }>> {
  const { stdout } = await promisify(execFile)('ss', ['-tmnH', 'state', 'established', `( sport = :${port} )`]);
  return [...stdout.matchAll(/skmem:\(r\d+,rb(\d+),t\d+,tb(\d+)/g)].map((match) => ({ receiveBytes: Number(match[1]), sendBytes: Number(match[2]) }));
}

async function connectedBuffers(config: Record<string, string>): Promise<{ sendBytes: number; receiveBytes: number }> {
  await broker?.stop();
  broker = await startBroker({ dataDir: tempDir(), config: { listeners: 'PLAINTEXT://127.0.0.1:0,EXTERNAL://127.0.0.1:0', 'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT', ...config } });
  const seen = [];
  // Every listener's connections take the buffers.
  for (const port of Object.values(broker.listenerPorts)) {
    const socket = net.connect(port, '127.0.0.1');
    try {
      await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      let buffers: Array<{ sendBytes: number; receiveBytes: number }> = [];
      await waitUntil(async () => (buffers = await acceptedBuffers(port)).length === 1, 'the broker accepted the connection');
      seen.push(buffers[0]!);
    } finally {
      socket.destroy();
    }
  }
  expect(seen[1]).toEqual(seen[0]);
  return seen[0]!;
}

describe('socket buffers', () => {
  it("sets each accepted connection's SO_SNDBUF and SO_RCVBUF to the values given, as Kafka's sample server.properties gives them", async () => {
    expect(await connectedBuffers({ 'socket.send.buffer.bytes': '102400', 'socket.receive.buffer.bytes': '102400' })).toEqual({ sendBytes: 2 * 102_400, receiveBytes: 2 * 102_400 });
    expect(await connectedBuffers({ 'socket.send.buffer.bytes': '50000', 'socket.receive.buffer.bytes': '60000' })).toEqual({ sendBytes: 100_000, receiveBytes: 120_000 });
  });

  it("keeps the OS's autotuned buffers for -1, the default", async () => {
    const autotuned = await connectedBuffers({});
    expect(autotuned).toEqual(await connectedBuffers({ 'socket.send.buffer.bytes': '-1', 'socket.receive.buffer.bytes': '-1' }));
    expect(autotuned.sendBytes).not.toBe(2 * 102_400);
    expect(autotuned.receiveBytes).not.toBe(2 * 102_400);
  });

  it('reports them as taking effect, and refuses a value below -1', () => {
    const { unsupported } = reportBrokerConfig({ 'socket.send.buffer.bytes': '102400', 'socket.receive.buffer.bytes': '102400' });
    expect(unsupported).toEqual([]);
    return expect(startBroker({ dataDir: tempDir(), config: { 'socket.receive.buffer.bytes': '-2' } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});
