// The producer's two size limits, as Kafka's has them. max.request.size: a record larger is
// MESSAGE_TOO_LARGE before anything of its call is taken, and no Produce request carries more bytes
// of batches (but always one). buffer.memory: while the producer holds that many bytes of
// unacknowledged records, send() waits for room, in arrival order, and past max.block.ms rejects
// with REQUEST_TIMED_OUT; acknowledgements make room and a waiting call goes on.
import { afterEach, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { KafkaClient } from '../../src/client/client.js';
import { Producer } from '../../src/client/producer.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { startRecordingProxy, type RecordingProxy } from '../fixtures/recording-proxy.js';
import { holdRequestMemory } from '../fixtures/request-memory.js';
import { waitUntil } from '../helpers.js';

let broker: Broker | undefined;
let client: KafkaClient | undefined;
let proxy: RecordingProxy | undefined;

afterEach(async () => {
  client?.close();
  await broker?.stop();
  await proxy?.close();
  client = undefined;
  broker = undefined;
  proxy = undefined;
});

const hundredBytes = (i: number) => `${i}`.padStart(100, '.');

async function values(topic: string, partition = 0): Promise<string[]> {
  const { records } = await broker!.engine.fetch(topic, partition, { offset: 0, maxBytes: 16 * 1024 * 1024 });
  return records.map((record) => record.value!.toString());
}

it('a record over max.request.size or buffer.memory is MESSAGE_TOO_LARGE, and nothing of its call is written', async () => {
  broker = await startBroker({ port: 0 });
  client = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`] });
  await broker.engine.createTopic('limits', { partitions: 1 });
  const producer = await Producer.create(client, { acks: 1, idempotent: false, maxRequestBytes: 1000, bufferMemoryBytes: 2000 });
  await expect(producer.send('limits', [{ value: 'fits' }, { value: 'x'.repeat(1000) }])).rejects.toMatchObject({
    code: 'MESSAGE_TOO_LARGE',
    message: 'records[1]: The message is 1072 bytes when serialized which is larger than 1000, which is the value of the max.request.size configuration.',
  });
  const roomy = await Producer.create(client, { acks: 1, idempotent: false, maxRequestBytes: 1_048_576, bufferMemoryBytes: 2000 });
  await expect(roomy.send('limits', [{ value: 'x'.repeat(3000) }])).rejects.toMatchObject({
    code: 'MESSAGE_TOO_LARGE',
    message: expect.stringMatching(/which is the value of the buffer\.memory configuration\.$/),
  });
  await expect(producer.send('limits', [{ value: 'after' }])).resolves.toMatchObject([{ offset: 0 }]);
  expect(await values('limits')).toEqual(['after']);
});

it('no Produce request carries more than max.request.size bytes of batches', async () => {
  proxy = await startRecordingProxy();
  broker = await startBroker({ port: 0, config: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` } });
  proxy.forwardTo(broker.port);
  client = await KafkaClient.connect({ brokers: [`127.0.0.1:${proxy.port}`] });
  await broker.engine.createTopic('capped', { partitions: 8 });
  // batch.size 16 KiB: eight full batches, one a partition, ready at once.
  const producer = await Producer.create(client, { acks: 1, idempotent: false, maxRequestBytes: 40_000 });
  const records = Array.from({ length: 8 * 150 }, (_, i) => ({ value: hundredBytes(i), partition: i % 8 }));
  await producer.send('capped', records);
  const produce = proxy.frames.filter((frame) => frame.readInt16BE(4) === ApiKey.Produce);
  // Two batches of ~16.3 KB a request at most, and some overhead for the request itself.
  expect(produce.length).toBeGreaterThanOrEqual(4);
  for (const frame of produce) expect(frame.length).toBeLessThanOrEqual(40_000 + 200);
  for (let p = 0; p < 8; p++) expect(await values('capped', p)).toEqual(records.filter((r) => r.partition === p).map((r) => r.value));

  // The default, 1 MiB, lets more go in one request.
  const framesBefore = proxy.frames.length;
  const roomy = await Producer.create(client, { acks: 1, idempotent: false });
  await roomy.send('capped', records);
  const largest = Math.max(...proxy.frames.slice(framesBefore).filter((frame) => frame.readInt16BE(4) === ApiKey.Produce).map((frame) => frame.length));
  expect(largest).toBeGreaterThan(40_000 + 200);
});

it('send() waits while buffer.memory is held, in arrival order, and past max.block.ms is REQUEST_TIMED_OUT', async () => {
  const POOL_BYTES = 64 * 1024;
  broker = await startBroker({ port: 0, config: { 'queued.max.request.bytes': POOL_BYTES } });
  client = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`] });
  await broker.engine.createTopic('held', { partitions: 1 });
  const options = { acks: 1 as const, idempotent: false, lingerMs: 0, bufferMemoryBytes: 20_000 };
  const patient = await Producer.create(client, options);
  const impatient = await Producer.create(client, { ...options, maxBlockMs: 300 });
  // Metadata known before the broker stops reading requests.
  await patient.send('held', [{ value: 'first' }]);
  await impatient.send('held', [{ value: 'second' }]);

  const release = await holdRequestMemory(broker.port, POOL_BYTES, () => broker!.metrics.requestMemoryWaits);
  const batch = (from: number) => Array.from({ length: 150 }, (_, i) => ({ value: hundredBytes(from + i) }));
  const order: string[] = [];
  const a = patient.send('held', batch(0)).then(() => order.push('a'));
  await waitUntil(() => patient.bufferAvailableBytes < 20_000 - 150 * 100, 'the first call taken');
  const b = patient.send('held', batch(150)).then(() => order.push('b')); // room left: taken, over the limit now
  await waitUntil(() => patient.bufferAvailableBytes < 0, 'the second call taken');
  const c = patient.send('held', batch(300)).then(() => order.push('c')); // waits
  const d = patient.send('held', [{ value: 'd' }]).then(() => order.push('d')); // waits behind c

  const filling = [impatient.send('held', batch(1000)), impatient.send('held', batch(1150))];
  await waitUntil(() => impatient.bufferAvailableBytes < 0, "the impatient producer's buffer taken");
  await expect(impatient.send('held', [{ value: 'too late' }])).rejects.toMatchObject({
    code: 'REQUEST_TIMED_OUT',
    message: expect.stringMatching(/^Failed to allocate memory within the configured max blocking time 300 ms\. Total memory: 20000 bytes\. Available memory: 0 bytes\.$/),
  });
  const heldBytes = 20_000 - patient.bufferAvailableBytes;

  release();
  await Promise.all([a, b, c, d, ...filling]);
  expect(order).toEqual(['a', 'b', 'c', 'd']);
  expect(heldBytes).toBeLessThan(40_000); // a and b, ~16.8 KB each: c and d were not taken while held
  expect(patient.bufferAvailableBytes).toBe(20_000);
  const written = await values('held');
  expect(written).not.toContain('too late');
  const patients = new Set([...batch(0), ...batch(150), ...batch(300), { value: 'd' }].map((r) => r.value));
  expect(written.filter((v) => patients.has(v))).toEqual([...patients]);
});
