// Bad input on the wire: the offending connection is closed or answered with Kafka's error,
// nothing half-written reaches a log, and the broker keeps serving everyone else.
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { KafkaClient } from '../../src/client/client.js';
import { Producer } from '../../src/client/producer.js';
import { ApiKey, FrameDecoder, decodeResponse, encodeRequest, type RequestHeader } from '../../src/protocol/index.js';
import { encodeBatch } from '../../src/record/batch.js';
import { KafkaErrorCode } from '../../src/errors.js';
import { prng } from '../fixtures/random.js';
import { waitUntil } from '../helpers.js';

let broker: Broker;
const REQUEST_MAX_BYTES = 1024 * 1024;

beforeAll(async () => {
  broker = await startBroker({ port: 0, config: { 'socket.request.max.bytes': REQUEST_MAX_BYTES, 'message.max.bytes': 10_000 } });
  await broker.engine.createTopic('safe', { partitions: 1 });
});

afterAll(async () => {
  await broker?.stop();
});

/**
 * Opens a connection, writes `bytes`, and resolves with what came back once the broker closed the
 * connection, or sent a whole response, or `waitMs` passed.
 */
async function exchange(bytes: Buffer, waitMs = 2000, graceMs = 50): Promise<{ closed: boolean; received: Buffer }> {
  const socket = net.connect(broker.port, '127.0.0.1');
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('error', () => {});
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), waitMs);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      const received = Buffer.concat(chunks);
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        clearTimeout(timer);
        // Give a close that follows the response (an error answer) a moment to arrive.
        setTimeout(() => resolve(socket.destroyed || socket.readableEnded), graceMs);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.write(bytes);
  });
  socket.destroy();
  return { closed, received: Buffer.concat(chunks) };
}

function frames(received: Buffer): Buffer[] {
  const decoder = new FrameDecoder(100 * 1024 * 1024);
  decoder.push(received);
  const out: Buffer[] = [];
  for (let frame = decoder.next(); frame; frame = decoder.next()) out.push(frame);
  return out;
}

async function stillServes(): Promise<void> {
  const client = await KafkaClient.connect({ brokers: [`localhost:${broker.port}`] });
  const producer = await Producer.create(client, { acks: 1, idempotent: false, lingerMs: 0 });
  const [metadata] = await producer.send('safe', [{ value: 'still here' }]);
  client.close();
  expect(metadata!.offset).toBeGreaterThanOrEqual(0);
}

function produceRequest(records: Buffer, apiVersion = 7): Buffer {
  const header: RequestHeader = { apiKey: ApiKey.Produce, apiVersion, correlationId: 7, clientId: 'test' };
  return encodeRequest(header, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 'safe', partitionData: [{ index: 0, records }] }] });
}

describe('malformed frames', () => {
  it('survives random frames, closing only their connections', async () => {
    // Seeded, so that a failure replays. Most random frames name an unknown API key, answered with
    // INVALID_REQUEST (not a rejection); only one shorter than a request header (8 bytes) is sure
    // to be rejected as unreadable, and with lengths of 1-200 a run of 200 drew none about once in
    // a thousand (a fresh-clone CI run did): every fourth frame is such a short one.
    const random = prng(0xbad1);
    const rejectedBefore = broker.metrics.connectionsRejected;
    let shortFrames = 0;
    for (let i = 0; i < 200; i++) {
      const short = i % 4 === 0;
      if (short) shortFrames++;
      const body = Buffer.alloc(1 + Math.floor(random() * (short ? 7 : 200)));
      for (let j = 0; j < body.length; j++) body[j] = Math.floor(random() * 256);
      const frame = Buffer.alloc(4 + body.length);
      frame.writeInt32BE(body.length);
      body.copy(frame, 4);
      await exchange(frame, 200);
    }
    // A frame the broker read after exchange() stopped waiting (a loaded machine) counts later.
    await waitUntil(() => broker.metrics.connectionsRejected - rejectedBefore >= shortFrames, `${shortFrames} rejected connections`, 10_000);
    expect(broker.metrics.connectionsRejected - rejectedBefore).toBeGreaterThanOrEqual(shortFrames);
    await stillServes();
  });

  it('survives mutated produce requests and never appends half a batch', async () => {
    const valid = produceRequest(encodeBatch([{ key: 'k', value: 'v'.repeat(100) }]));
    const endBefore = broker.engine.latestOffset('safe', 0);
    let appended = 0;
    for (let i = 0; i < 300; i++) {
      const mutated = Buffer.from(valid);
      const at = 4 + Math.floor(Math.random() * (mutated.length - 4));
      mutated[at] ^= 1 + Math.floor(Math.random() * 255);
      const { received } = await exchange(mutated, 1000, 0);
      for (const frame of frames(received)) {
        try {
          const { body } = decodeResponse({ apiKey: ApiKey.Produce, apiVersion: 7, correlationId: 7, clientId: 'test' }, frame);
          if (body.responses?.[0]?.partitionResponses?.[0]?.errorCode === 0) appended++;
        } catch {
          // A mutated correlation id or api version may make the answer undecodable as v7.
        }
      }
    }
    // Every append that was acknowledged is whole: the log decodes from start to end.
    const end = broker.engine.latestOffset('safe', 0);
    let offset = endBefore;
    while (offset < end) {
      const { records, nextOffset } = await broker.engine.fetch('safe', 0, { offset });
      expect(records.length).toBeGreaterThan(0);
      offset = nextOffset;
    }
    expect(end - endBefore).toBeGreaterThanOrEqual(appended);
    await stillServes();
  });

  it('drops a frame cut short by a disconnect without appending anything', async () => {
    const endBefore = broker.engine.latestOffset('safe', 0);
    const valid = produceRequest(encodeBatch([{ value: 'never' }]));
    await exchange(valid.subarray(0, valid.length - 10), 100);
    expect(broker.engine.latestOffset('safe', 0)).toBe(endBefore);
  });

  it('refuses a size prefix above socket.request.max.bytes before reading the body, and a negative one', async () => {
    for (const size of [REQUEST_MAX_BYTES + 1, 0x7fffffff, -1]) {
      const prefix = Buffer.alloc(8);
      prefix.writeInt32BE(size);
      const { closed, received } = await exchange(prefix);
      expect(closed).toBe(true);
      expect(received.length).toBe(0);
    }
    await stillServes();
  });
});

describe('versions and API keys', () => {
  it('answers an unknown ApiVersions version with UNSUPPORTED_VERSION and the supported list', async () => {
    const header = { apiKey: ApiKey.ApiVersions, apiVersion: 99, correlationId: 42, clientId: 'test' };
    const request = Buffer.alloc(4 + 2 + 2 + 4 + 2 + 4);
    request.writeInt32BE(request.length - 4);
    request.writeInt16BE(header.apiKey, 4);
    request.writeInt16BE(header.apiVersion, 6);
    request.writeInt32BE(header.correlationId, 8);
    request.writeInt16BE(4, 12);
    request.write('test', 14);
    const { received } = await exchange(request, 500);
    const [frame] = frames(received);
    const { correlationId, body } = decodeResponse({ ...header, apiVersion: 0 }, frame!);
    expect(correlationId).toBe(42);
    expect(body.errorCode).toBe(KafkaErrorCode.UNSUPPORTED_VERSION);
    expect(body.apiKeys.map((k: { apiKey: number }) => k.apiKey)).toContain(ApiKey.Produce);
  });

  it('answers an unsupported version of another API with UNSUPPORTED_VERSION and closes', async () => {
    const request = Buffer.alloc(4 + 10);
    request.writeInt32BE(10);
    request.writeInt16BE(ApiKey.Produce, 4);
    request.writeInt16BE(99, 6);
    request.writeInt32BE(5, 8);
    request.writeInt16BE(-1, 12);
    const { closed, received } = await exchange(request);
    expect(closed).toBe(true);
    const [frame] = frames(received);
    expect(frame!.readInt32BE(0)).toBe(5);
    expect(frame!.readInt16BE(4)).toBe(KafkaErrorCode.UNSUPPORTED_VERSION);
  });

  it('answers an unknown API key with INVALID_REQUEST and closes', async () => {
    const request = Buffer.alloc(4 + 10);
    request.writeInt32BE(10);
    request.writeInt16BE(999, 4);
    request.writeInt16BE(0, 6);
    request.writeInt32BE(6, 8);
    request.writeInt16BE(-1, 12);
    const { closed, received } = await exchange(request);
    expect(closed).toBe(true);
    expect(frames(received)[0]!.readInt16BE(4)).toBe(KafkaErrorCode.INVALID_REQUEST);
    await stillServes();
  });
});

describe('batch errors per partition', () => {
  it('answers CORRUPT_MESSAGE for a bad CRC and MESSAGE_TOO_LARGE above message.max.bytes, appending nothing', async () => {
    const endBefore = broker.engine.latestOffset('safe', 0);
    const corrupt = encodeBatch([{ value: 'x'.repeat(100) }]);
    corrupt[corrupt.length - 1] ^= 0xff;
    const large = encodeBatch([{ value: Buffer.alloc(20_000, 1) }]);
    for (const [records, expected] of [[corrupt, KafkaErrorCode.CORRUPT_MESSAGE], [large, KafkaErrorCode.MESSAGE_TOO_LARGE]] as const) {
      const { received } = await exchange(produceRequest(records), 500);
      const { body } = decodeResponse({ apiKey: ApiKey.Produce, apiVersion: 7, correlationId: 7, clientId: 'test' }, frames(received)[0]!);
      expect(body.responses[0].partitionResponses[0].errorCode).toBe(expected);
    }
    expect(broker.engine.latestOffset('safe', 0)).toBe(endBefore);
  });
});
