// A client that pipelines its requests (a producer keeps up to 5 in flight on a connection) gets
// every answer, in order: the broker handles the requests it already holds one after the other and
// writes their small responses together (connection.ts, a burst). Those responses are never held
// behind a request that waits: a long poll pipelined after a Produce does not delay the Produce's
// answer. A connection closed for a bad frame first sends the answers of the requests before it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { ApiKey, decodeResponse, encodeRequest, type RequestHeader } from '../../src/protocol/index.js';
import { encodeBatch } from '../../src/record/batch.js';
import { fetchBody } from '../fixtures/probes.js';
import { RawClient } from '../fixtures/raw-client.js';

const RECORDS_PER_BATCH = 10;

function produceRequest(correlationId: number, topic: string, partition: number): { header: RequestHeader; frame: Buffer } {
  const header = { apiKey: ApiKey.Produce, apiVersion: 9, correlationId, clientId: 'pipelining' };
  const records = encodeBatch(Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({ value: `record ${correlationId}-${i}` })));
  const frame = encodeRequest(header, { transactionalId: null, acks: 1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] });
  return { header, frame };
}

describe('pipelined requests', () => {
  let broker: Broker;

  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
    await broker.engine.createTopic('pipelined', { partitions: 2 });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('50 Produce requests sent in one write are each answered, in order, with their own offsets', async () => {
    const client = await RawClient.connect(broker.port);
    const requests = Array.from({ length: 50 }, (_, i) => produceRequest(i + 1, 'pipelined', 0));
    client.socket.write(Buffer.concat(requests.map((request) => request.frame)));
    for (const [i, request] of requests.entries()) {
      const { correlationId, body } = decodeResponse(request.header, (await client.next())!);
      expect(correlationId).toBe(i + 1);
      const partition = body.responses[0].partitionResponses[0];
      expect(partition.errorCode).toBe(0);
      expect(partition.baseOffset).toBe(i * RECORDS_PER_BATCH);
    }
    expect(broker.engine.latestOffset('pipelined', 0)).toBe(50 * RECORDS_PER_BATCH);
    client.socket.destroy();
  });

  it('a long poll pipelined behind Produce requests does not hold back their answers', async () => {
    const client = await RawClient.connect(broker.port);
    const produces = [produceRequest(1, 'pipelined', 0), produceRequest(2, 'pipelined', 0)];
    const fetchHeader = { apiKey: ApiKey.Fetch, apiVersion: 11, correlationId: 3, clientId: 'pipelining' };
    const fetchOffset = broker.engine.latestOffset('pipelined', 1);
    const fetch = encodeRequest(fetchHeader, fetchBody('pipelined', { partitions: [1], fetchOffset, maxWaitMs: 60_000 }));
    client.socket.write(Buffer.concat([...produces.map((request) => request.frame), fetch]));
    // Both answers come while the long poll waits (for up to a minute: the test would time out).
    for (const request of produces) {
      const { correlationId, body } = decodeResponse(request.header, (await client.next())!);
      expect(correlationId).toBe(request.header.correlationId);
      expect(body.responses[0].partitionResponses[0].errorCode).toBe(0);
    }
    expect(client.received).toBe(0);
    await broker.engine.produce('pipelined', [{ value: 'wake' }], { partition: 1 });
    const { correlationId, body } = decodeResponse(fetchHeader, (await client.next())!);
    expect(correlationId).toBe(3);
    expect(body.responses[0].partitions[0].records?.length).toBeGreaterThan(0);
    client.socket.destroy();
  });

  it('answers the requests it holds while the next one has only partly arrived', async () => {
    // A burst ends at the last whole request: the rest of the third comes only once the first two
    // are answered, so their answers must not wait for it.
    const client = await RawClient.connect(broker.port);
    const produces = [produceRequest(1, 'pipelined', 0), produceRequest(2, 'pipelined', 0)];
    const third = produceRequest(3, 'pipelined', 0);
    const half = third.frame.length >> 1;
    client.socket.write(Buffer.concat([...produces.map((request) => request.frame), third.frame.subarray(0, half)]));
    for (const request of produces) {
      const { correlationId, body } = decodeResponse(request.header, (await client.next())!);
      expect(correlationId).toBe(request.header.correlationId);
      expect(body.responses[0].partitionResponses[0].errorCode).toBe(0);
    }
    client.socket.write(third.frame.subarray(half));
    const { correlationId, body } = decodeResponse(third.header, (await client.next())!);
    expect(correlationId).toBe(3);
    expect(body.responses[0].partitionResponses[0].errorCode).toBe(0);
    client.socket.destroy();
  });

  it('requests before a frame of an unknown API are answered before the connection closes', async () => {
    const client = await RawClient.connect(broker.port);
    const produces = [produceRequest(1, 'pipelined', 1), produceRequest(2, 'pipelined', 1), produceRequest(3, 'pipelined', 1)];
    const unknown = Buffer.alloc(4 + 10);
    unknown.writeInt32BE(10, 0);
    unknown.writeInt16BE(999, 4); // api key
    unknown.writeInt32BE(4, 8); // correlation id
    unknown.writeInt16BE(-1, 12); // null client id
    client.socket.write(Buffer.concat([...produces.map((request) => request.frame), unknown]));
    for (const request of produces) {
      const { correlationId, body } = decodeResponse(request.header, (await client.next())!);
      expect(correlationId).toBe(request.header.correlationId);
      expect(body.responses[0].partitionResponses[0].errorCode).toBe(0);
    }
    const error = (await client.next())!;
    expect(error.readInt32BE(0)).toBe(4);
    expect(await client.next()).toBeNull();
    expect(client.closed).toBe(true);
  });
});
