// How long the producer waits, as Kafka's does. send() waits for a topic's metadata up to
// max.block.ms: it asks with allowAutoTopicCreation (a broker with auto.create.topics.enable
// creates the topic), asks again while the topic is unknown or no broker answers, and past
// max.block.ms rejects with REQUEST_TIMED_OUT; a topic name no wait mends is refused at once. A
// Produce request without a response after request.timeout.ms is REQUEST_TIMED_OUT, retried until
// delivery.timeout.ms.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { KafkaClient } from '../../src/client/client.js';
import { Producer } from '../../src/client/producer.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { holdRequestMemory } from '../fixtures/request-memory.js';

let broker: Broker | undefined;
let client: KafkaClient | undefined;
const dirs: string[] = [];

afterEach(async () => {
  client?.close();
  await broker?.stop();
  client = undefined;
  broker = undefined;
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function values(topic: string): Promise<string[]> {
  const { records } = await broker!.engine.fetch(topic, 0, { offset: 0 });
  return records.map((record) => record.value!.toString());
}

it('a topic the broker does not know is created when its auto.create.topics.enable is set, and takes the records', async () => {
  broker = await startBroker({ port: 0 });
  client = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`] });
  const producer = await Producer.create(client, { acks: -1 });
  await expect(producer.send('created-on-send', [{ value: 'a' }])).resolves.toMatchObject([{ topic: 'created-on-send', partition: 0, offset: 0 }]);
  expect(await values('created-on-send')).toEqual(['a']);
});

it('without auto-creation, send() waits for the topic: one created meanwhile takes the records; past max.block.ms it is REQUEST_TIMED_OUT', async () => {
  broker = await startBroker({ port: 0, config: { 'auto.create.topics.enable': 'false' } });
  client = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`] });
  const waiting = await Producer.create(client, { acks: 1, idempotent: false, maxBlockMs: 60_000, retryBackoffMs: 20, retryBackoffMaxMs: 50 });
  const sent = waiting.send('later', [{ value: 'waited' }]);
  const metadataRequests = () => broker!.metrics.requests.get(ApiKey.Metadata) ?? 0;
  const before = metadataRequests();
  while (metadataRequests() < before + 2) await new Promise((resolve) => setTimeout(resolve, 10)); // it has asked, and asked again
  await broker.engine.createTopic('later', { partitions: 1 });
  await expect(sent).resolves.toMatchObject([{ topic: 'later', offset: 0 }]);
  expect(await values('later')).toEqual(['waited']);

  const impatient = await Producer.create(client, { acks: 1, idempotent: false, maxBlockMs: 200, retryBackoffMs: 20 });
  await expect(impatient.send('never', [{ value: 'x' }])).rejects.toMatchObject({
    code: 'REQUEST_TIMED_OUT',
    message: expect.stringMatching(/^Topic never not present in metadata after 200 ms \(.*UNKNOWN_TOPIC_OR_PARTITION/),
  });
  await expect(impatient.send('bad name!', [{ value: 'x' }])).rejects.toMatchObject({ code: 'INVALID_TOPIC_EXCEPTION' });
});

it('while no broker answers, send() waits: a broker back on its port within max.block.ms takes the records', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-producer-metadata-'));
  dirs.push(dataDir);
  broker = await startBroker({ port: 0, dataDir });
  const port = broker.port;
  client = await KafkaClient.connect({ brokers: [`127.0.0.1:${port}`] });
  const producer = await Producer.create(client, { acks: 1, idempotent: false, retryBackoffMs: 20, retryBackoffMaxMs: 100 });
  await broker.stop();
  broker = undefined;
  // A topic not in the client's cache: send() must reach a broker for its metadata.
  const sent = producer.send('after-restart', [{ value: 'kept' }]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  broker = await startBroker({ port, dataDir });
  await expect(sent).resolves.toMatchObject([{ topic: 'after-restart', offset: 0 }]);
  expect(await values('after-restart')).toEqual(['kept']);
});

it('a Produce request without a response after request.timeout.ms times out, and is retried until delivery.timeout.ms', async () => {
  const poolBytes = 64 * 1024;
  broker = await startBroker({ port: 0, config: { 'queued.max.request.bytes': poolBytes } });
  await broker.engine.createTopic('held', { partitions: 1 });
  // request.timeout.ms is the client's too (sluice's commands give it to both), for the metadata the retries ask for.
  client = await KafkaClient.connect({ brokers: [`127.0.0.1:${broker.port}`], requestTimeoutMs: 200 });
  const producer = await Producer.create(client, { acks: 1, idempotent: false, lingerMs: 0, requestTimeoutMs: 200, deliveryTimeoutMs: 1500, retryBackoffMs: 20 });
  await producer.send('held', [{ value: 'first' }]);
  // Certain on return: the broker holds the pool before the producer's next request comes in.
  const release = await holdRequestMemory(broker.port, poolBytes, () => broker!.metrics.requestMemoryWaits);
  try {
    await expect(producer.send('held', [{ value: 'unread' }])).rejects.toMatchObject({
      code: 'REQUEST_TIMED_OUT',
      message: expect.stringMatching(/No response to API \d+ v\d+ within 200 ms.*delivery\.timeout\.ms 1500 expired after \d+ attempts/),
    });
  } finally {
    release();
  }
  await expect(producer.send('held', [{ value: 'after' }])).resolves.toMatchObject([{ partition: 0 }]);
});
