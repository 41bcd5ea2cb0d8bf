// Logs a broker operator can use (issue 7, item 9): one structured line per refused connection,
// protocol error, storage error and slow request, rate-limited per cause so that a client cannot
// flood the log, at the level log.level sets.
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { KafkaClient } from '../../src/client/client.js';
import { Producer } from '../../src/client/producer.js';
import { LogLimiter } from '../../src/logger.js';
import { LOG_LINES_PER_CAUSE } from '../../src/limits.js';
import { capturingLogger } from '../fixtures/probes.js';
import { mountTmpfs, tmpfsRefused, type Tmpfs } from '../fixtures/tmpfs.js';


async function sendAndWaitForClose(port: number, bytes: Buffer): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(bytes);
  await new Promise((resolve) => socket.on('close', resolve));
}

let broker: Broker | undefined;
let tmpfs: Tmpfs | undefined;

afterEach(async () => {
  await broker?.stop();
  broker = undefined;
  tmpfs?.unmount();
  tmpfs = undefined;
});

describe('LogLimiter', () => {
  it('lets a few lines of a cause through per interval, then one that counts what it dropped', () => {
    const { logger, lines } = capturingLogger();
    let nowMs = 0;
    const limiter = new LogLimiter(logger, 3, 1000, () => nowMs);
    for (let i = 0; i < 10; i++) limiter.log('warn', 'a', { i }, 'cause a');
    limiter.log('warn', 'b', {}, 'cause b');
    expect(lines.map((line) => line.msg)).toEqual(['cause a', 'cause a', 'cause a', 'cause b']);
    nowMs = 1000;
    limiter.log('warn', 'a', {}, 'cause a again');
    expect(lines.at(-1)).toMatchObject({ msg: 'cause a again', cause: 'a', suppressed: 7 });
  });
});

describe('the broker logs', () => {
  it('protocol errors and refused connections, at most a few lines per cause however many there are', async () => {
    const { logger, lines } = capturingLogger();
    broker = await startBroker({ port: 0, logger, config: { 'max.connections': 1 } });
    const negativeSize = Buffer.from([0xff, 0xff, 0xff, 0xf0]);
    for (let i = 0; i < 30; i++) await sendAndWaitForClose(broker.port, negativeSize);
    const protocolLines = lines.filter((line) => line.cause === 'protocol:MALFORMED_FRAME');
    expect(protocolLines.length).toBeGreaterThanOrEqual(1);
    expect(protocolLines.length).toBeLessThanOrEqual(LOG_LINES_PER_CAUSE);
    expect(protocolLines[0]).toMatchObject({ level: 30, client: expect.stringContaining('127.0.0.1'), msg: expect.stringContaining('closing the connection') });

    const holder = net.connect(broker.port, '127.0.0.1');
    await once(holder, 'connect');
    while (broker.connectionCount < 1) await new Promise((resolve) => setTimeout(resolve, 10));
    await sendAndWaitForClose(broker.port, Buffer.alloc(0));
    holder.destroy();
    const refused = lines.find((line) => String(line.cause).startsWith('refused:'));
    expect(refused).toMatchObject({ level: 40, msg: expect.stringMatching(/^connection refused: /) });
  });

  it('slow requests, naming the API, the client and the time spent', async () => {
    const { logger, lines } = capturingLogger();
    broker = await startBroker({ port: 0, logger, config: { 'sluice.request.log.threshold.ms': 1 } });
    const client = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`], clientId: 'slow-client' });
    // 200 partitions: 600 files created and the directory synced, well over a millisecond.
    await client.createTopics([{ name: 'wide', partitions: 200 }]);
    client.close();
    const slow = lines.find((line) => line.cause === 'slow:19');
    expect(slow).toMatchObject({ level: 40, api: 'CreateTopics', clientId: 'slow-client', ms: expect.any(Number) });
    expect(broker.metrics.slowRequests).toBeGreaterThanOrEqual(1);
  });

  it.skipIf(tmpfsRefused !== undefined)('storage errors: a produce into a full disk is answered KAFKA_STORAGE_ERROR and logged once per cause', async () => {
    tmpfs = mountTmpfs(8 << 20);
    const { logger, lines } = capturingLogger();
    broker = await startBroker({ port: 0, logger, dataDir: tmpfs.dir });
    await broker.engine.createTopic('filling', { partitions: 1 });
    tmpfs.fill(64 * 1024);
    const client = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`] });
    const producer = await Producer.create(client, { acks: 1, idempotent: false, lingerMs: 0, retries: 0 });
    const value = 'x'.repeat(100 * 1024);
    let failures = 0;
    for (let i = 0; i < 10; i++) {
      await producer.send('filling', [{ value }]).catch((error: { code?: string }) => {
        expect(error.code).toBe('KAFKA_STORAGE_ERROR');
        failures++;
      });
    }
    client.close();
    expect(failures).toBeGreaterThan(0);
    const storage = lines.filter((line) => line.cause === 'storage:ENOSPC');
    expect(storage.length).toBeGreaterThanOrEqual(1);
    expect(storage.length).toBeLessThanOrEqual(LOG_LINES_PER_CAUSE);
    expect(storage[0]).toMatchObject({ level: 50, topic: 'filling', partition: 0 });
    expect(broker.metrics.storageFailures.get('ENOSPC')).toBe(failures);
    tmpfs.unfill();
  });
});
