// The client configs of a connection's socket, taken by `sluice produce`, `sluice consume`, the
// perf tools and the admin commands (--command-config) as Kafka's clients take them: send.buffer.bytes and receive.buffer.bytes (SO_SNDBUF
// and SO_RCVBUF, read back from outside with ss(8), which shows Linux's doubled figures), and
// socket.connection.setup.timeout.ms and .max.ms, against a listener whose accept queue is full,
// so that the kernel drops the SYNs of every new connect and it never completes; and
// connections.max.idle.ms.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { exponentialBackoffMs } from '../../src/client/backoff.js';
import { KafkaClient } from '../../src/client/client.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { runScript } from '../fixtures/child.js';
import { fetchBody } from '../fixtures/probes.js';
import { tempDir, waitUntil } from '../helpers.js';
import { runCli, SLUICE_BIN, spawnCli } from './run-cli.js';

let broker: Broker;
let silent: { port: number; close: () => void };

/**
 * A listener that never accepts, with a backlog of 0 and its queue filled by one connection: the
 * kernel then drops each SYN to it (a full accept queue), so a connect to it hangs as one to a
 * broker behind a dead link does.
 */
async function silentListener(): Promise<{ port: number; close: () => void }> {
  const python: ChildProcess = spawn('python3', ['-c', "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(600)"], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    python.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    python.once('exit', (code) => reject(new Error(`the listener exited with ${code}`)));
  });
  const filler = net.connect(port, '127.0.0.1');
  filler.on('error', () => {});
  await new Promise((resolve) => filler.once('connect', resolve));
  return {
    port,
    close: () => {
      filler.destroy();
      python.kill();
    },
  };
}

/** The kernel's send and receive buffer bytes of each client-side connection to `port`. */
async function clientBuffers(port: number): Promise<Array<{ sendBytes: number; receiveBytes: number }>> {
  const { stdout } = await promisify(execFile)('ss', ['-tmnH', 'state', 'established', `( dport = :${port} )`]);
  return [...stdout.matchAll(/skmem:\(r\d+,rb(\d+),t\d+,tb(\d+)/g)].map((match) => ({ receiveBytes: Number(match[1]), sendBytes: Number(match[2]) }));
}

/** The milliseconds a connect timed out after, as its error says. */
function timedOutAfterMs(message: string): number {
  const match = /timed out after (\d+) ms \(socket\.connection\.setup\.timeout\.ms\)/.exec(message);
  if (match === null) throw new Error(`not a setup timeout: ${message}`);
  return Number(match[1]);
}

beforeAll(async () => {
  broker = await startBroker({ port: 0 });
  await broker.engine.createTopic('sockets', { partitions: 1 });
  silent = await silentListener();
});

afterAll(async () => {
  silent?.close();
  await broker?.stop();
});

describe('client socket configs', () => {
  it('sets SO_RCVBUF and SO_SNDBUF of every connection of sluice consume and sluice produce to receive.buffer.bytes and send.buffer.bytes', async () => {
    const bootstrap = `127.0.0.1:${broker.port}`;
    const commands = [
      { start: () => spawnCli(['consume', '--bootstrap-server', bootstrap, '--topic', 'sockets', '--consumer-property', 'receive.buffer.bytes=70000', '--consumer-property', 'send.buffer.bytes=90000']), sendBytes: 90_000, receiveBytes: 70_000 },
      {
        // stdin held open: the console producer connects, then waits for lines.
        start: () => runScript(SLUICE_BIN, ['produce', '--bootstrap-server', bootstrap, '--topic', 'sockets', '--producer-property', 'receive.buffer.bytes=32768', '--producer-property', 'send.buffer.bytes=50000'], { captureStderr: true, stdin: true }),
        sendBytes: 50_000,
        receiveBytes: 32_768,
      },
    ];
    for (const { start, sendBytes, receiveBytes } of commands) {
      const child = start();
      try {
        // Linux doubles a value set, for its bookkeeping. ss sees a connection established a moment
        // before the command's connect handler has set its buffers.
        const wanted = { sendBytes: 2 * sendBytes, receiveBytes: 2 * receiveBytes };
        let buffers: Array<{ sendBytes: number; receiveBytes: number }> = [];
        await waitUntil(
          async () => (buffers = await clientBuffers(broker.port)).length > 0 && buffers.every((seen) => seen.sendBytes === wanted.sendBytes && seen.receiveBytes === wanted.receiveBytes),
          `${child.process.spawnargs[2]} connected with its buffers set`,
        ).catch((error: Error) => {
          throw new Error(`${error.message}: ${JSON.stringify(buffers)}`);
        });
      } finally {
        child.process.kill('SIGKILL');
        await child.exited;
      }
      await waitUntil(async () => (await clientBuffers(broker.port)).length === 0, 'the command closed its connections');
    }
  });

  it('refuses a buffer below -1', async () => {
    const refused = await runCli(['consume', '--bootstrap-server', `127.0.0.1:${broker.port}`, '--topic', 'sockets', '--consumer-property', 'receive.buffer.bytes=-2']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('receive.buffer.bytes');
  });

  it('gives up a connect that does not complete after socket.connection.setup.timeout.ms', async () => {
    for (const [command, flag] of [['consume', '--consumer-property'], ['produce', '--producer-property']] as const) {
      const result = await runCli([command, '--bootstrap-server', `127.0.0.1:${silent.port}`, '--topic', 'sockets', flag, 'socket.connection.setup.timeout.ms=400']);
      expect(result.code).toBe(1);
      // Kafka's +-20% of jitter around the value given (its default is 10 s).
      const afterMs = timedOutAfterMs(result.stderr);
      expect(afterMs).toBeGreaterThanOrEqual(320);
      expect(afterMs).toBeLessThanOrEqual(480);
    }
  });

  it("takes them from an admin command's --command-config file", async () => {
    const file = path.join(tempDir(), 'admin.properties');
    fs.writeFileSync(file, 'socket.connection.setup.timeout.ms=400\nsend.buffer.bytes=90000\n');
    const result = await runCli(['topics', '--bootstrap-server', `127.0.0.1:${silent.port}`, '--list', '--command-config', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('WARNING');
    const afterMs = timedOutAfterMs(result.stderr);
    expect(afterMs).toBeGreaterThanOrEqual(320);
    expect(afterMs).toBeLessThanOrEqual(480);
  });

  it('doubles the setup timeout after each failed connect to a broker, up to socket.connection.setup.timeout.max.ms', async () => {
    const client = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`], connectTimeoutMs: 200, connectTimeoutMaxMs: 700 });
    try {
      const attempt = async (port: number) => {
        const error = await client.openConnection('127.0.0.1', port).then(
          (connection) => {
            connection.close();
            return undefined;
          },
          (failure: Error) => failure,
        );
        return error === undefined ? undefined : timedOutAfterMs(error.message);
      };
      const first = await attempt(silent.port);
      const second = await attempt(silent.port);
      const third = await attempt(silent.port);
      const fourth = await attempt(silent.port);
      expect(first).toBeGreaterThanOrEqual(160);
      expect(first).toBeLessThanOrEqual(240);
      expect(second).toBeGreaterThanOrEqual(320);
      expect(second).toBeLessThanOrEqual(480);
      // 800 capped at 700, then the jitter.
      for (const capped of [third, fourth]) {
        expect(capped).toBeGreaterThanOrEqual(560);
        expect(capped).toBeLessThanOrEqual(840);
      }
      // Another address keeps its own count.
      expect(await attempt(broker.port)).toBeUndefined();
    } finally {
      client.close();
    }
  });

  it('closes a connection idle for connections.max.idle.ms, and sluice produce opens another for its next record', async () => {
    await broker.engine.createTopic('idle', { partitions: 1 });
    const producer = runScript(SLUICE_BIN, ['produce', '--bootstrap-server', `127.0.0.1:${broker.port}`, '--topic', 'idle', '--producer-property', 'connections.max.idle.ms=300'], { captureStderr: true, stdin: true });
    try {
      producer.send('first');
      await waitUntil(() => broker.engine.latestOffset('idle', 0) === 1, 'the first record');
      await waitUntil(async () => (await clientBuffers(broker.port)).length === 0, 'the idle connections closed');
      producer.send('second');
      await waitUntil(() => broker.engine.latestOffset('idle', 0) === 2, 'the second record, over a new connection');
      producer.process.stdin!.end();
      expect(await producer.exited).toBe(0);
      expect(producer.stderr).toBe('');
    } finally {
      producer.process.kill('SIGKILL');
    }
  });

  it('keeps a connection whose request awaits its answer past connections.max.idle.ms', async () => {
    await broker.engine.createTopic('idle-wait', { partitions: 1 });
    const client = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`], idleTimeoutMs: 100 });
    try {
      const connection = await client.connectionTo((await client.metadata([])).brokers[0]!.nodeId);
      // A long poll on an empty partition: the broker answers after maxWaitMs, 6 idle timeouts on.
      const response = await connection.request(ApiKey.Fetch, fetchBody('idle-wait', { maxWaitMs: 600 }), 11);
      expect(response.responses[0].partitions[0].errorCode).toBe(0);
      expect(connection.isClosed).toBe(false);
      await waitUntil(() => connection.isClosed, 'the connection closed once idle');
    } finally {
      client.close();
    }
  });

  it("computes Kafka's setup timeouts as its exponential backoff: doubled per failure, capped, +-20%", () => {
    const setupTimeoutMs = (initialMs: number, maxMs: number, failures: number, random: number) => Math.round(exponentialBackoffMs(initialMs, maxMs, failures, random));
    expect([0, 1, 2, 3, 10].map((failures) => setupTimeoutMs(10_000, 30_000, failures, 0.5))).toEqual([10_000, 20_000, 30_000, 30_000, 30_000]);
    expect(setupTimeoutMs(10_000, 30_000, 0, 0)).toBe(8000);
    expect(setupTimeoutMs(10_000, 30_000, 5, 0.999_999)).toBe(36_000);
    // A max below the initial value is used from the first failure on (KIP-580), as for the producer's retries.
    expect(setupTimeoutMs(10_000, 5000, 3, 0.5)).toBe(5000);
  });
});
