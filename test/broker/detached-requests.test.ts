// A handler that is done with its request's bytes and only waits (acks=all waiting for the ISR)
// detaches: the connection takes the next request meanwhile, and still answers every request in
// the order it came (Kafka's clients match responses to requests by order as well as by id).
// A real Connection over a real socket, with a stand-in Produce handler whose waits the test ends
// (test/fixtures/stand-in-connections.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { AnyApiHandler } from '../../src/broker/handler.js';
import { ApiKey, decodeResponse, encodeRequest, type RequestHeader } from '../../src/protocol/index.js';
import { RawClient } from '../fixtures/raw-client.js';
import { serveStandIns, type StandInServer } from '../fixtures/stand-in-connections.js';

/** The connection's bound on detached requests (DETACHED_REQUESTS_MAX in connection.ts). */
const DETACHED_MAX = 16;

/** A few turns of the event loop: what would have happened by now has. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

function produceFrame(correlationId: number): { header: RequestHeader; frame: Buffer } {
  const header = { apiKey: ApiKey.Produce, apiVersion: 9, correlationId, clientId: 'detach' };
  return { header, frame: encodeRequest(header, { transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [] }) };
}

describe('requests that detach', () => {
  let server: StandInServer;
  /** Correlation ids in the order their handlers started. */
  let started: number[];
  /** Ends the wait of a detached request, by correlation id. */
  let release: Map<number, () => void>;
  /** Correlation ids whose handlers detach (the others answer at once). */
  let detaching: Set<number>;

  beforeEach(async () => {
    started = [];
    release = new Map();
    detaching = new Set();
    const handler = {
      apiKey: ApiKey.Produce,
      minVersion: 0,
      maxVersion: 11,
      decode: (header: RequestHeader) => async (context: { detach<T>(event: Promise<T>): Promise<T> }) => {
        started.push(header.correlationId);
        if (detaching.has(header.correlationId)) await context.detach(new Promise<void>((resolve) => release.set(header.correlationId, resolve)));
        return { responses: [], throttleTimeMs: 0 };
      },
    } as unknown as AnyApiHandler;
    server = await serveStandIns([handler]);
  });

  afterEach(async () => {
    for (const end of release.values()) end();
    await server.close();
  });

  it('let the requests behind them run, and every answer still goes out in request order', async () => {
    const client = await RawClient.connect(server.port);
    const requests = [1, 2, 3].map(produceFrame);
    detaching.add(1).add(2);
    client.socket.write(Buffer.concat(requests.map((request) => request.frame)));
    // All three handlers run while the first two wait.
    await until(() => started.length === 3);
    expect(started).toEqual([1, 2, 3]);
    await settle();
    // 3 is done, but its answer waits behind 1 and 2; 2's end does not let it pass 1 either.
    expect(client.received).toBe(0);
    release.get(2)!();
    await settle();
    expect(client.received).toBe(0);
    release.get(1)!();
    for (const request of requests) {
      const { correlationId } = decodeResponse(request.header, (await client.next())!);
      expect(correlationId).toBe(request.header.correlationId);
    }
    client.socket.destroy();
  });

  it(`hold at most ${DETACHED_MAX} waiting requests of a connection`, async () => {
    const client = await RawClient.connect(server.port);
    const requests = Array.from({ length: DETACHED_MAX + 4 }, (_, i) => produceFrame(i + 1));
    for (const request of requests) detaching.add(request.header.correlationId);
    client.socket.write(Buffer.concat(requests.map((request) => request.frame)));
    await until(() => started.length === DETACHED_MAX);
    await settle();
    expect(started.length).toBe(DETACHED_MAX);
    // The oldest is answered: one more request is taken.
    release.get(1)!();
    expect(decodeResponse(requests[0]!.header, (await client.next())!).correlationId).toBe(1);
    await until(() => started.length === DETACHED_MAX + 1);
    for (let id = 2; id <= requests.length; id++) {
      await until(() => release.has(id));
      release.get(id)!();
    }
    for (const request of requests.slice(1)) expect(decodeResponse(request.header, (await client.next())!).correlationId).toBe(request.header.correlationId);
    client.socket.destroy();
  });
});
