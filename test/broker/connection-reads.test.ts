// A connection reads its requests either into its own reused buffer (the socket adopted, see
// socket-reads.ts) or, where the socket cannot be adopted (it is already reading), through 'data'
// events. Either way pipelined requests written in pieces of any size are each handled with their
// bytes intact and answered in order, and a request whose handler keeps its frame (all but Produce)
// keeps bytes that later reads do not overwrite.
import { describe, expect, it } from 'vitest';

import type { AnyApiHandler } from '../../src/broker/handler.js';
import { ApiKey, encodeRequest, type RequestHeader } from '../../src/protocol/index.js';
import { encodeBatch } from '../../src/record/batch.js';
import { RawClient } from '../fixtures/raw-client.js';
import { serveStandIns } from '../fixtures/stand-in-connections.js';

/**
 * Record value sizes of the requests: mostly smaller than the 128 KiB read buffer, so it is read
 * over many times, and two frames larger than it.
 */
const VALUE_BYTES = Array.from({ length: 60 }, (_, i) => (i === 20 ? 150_000 : i === 40 ? 300_000 : [1, 100, 5_000, 16_000, 300, 9_000, 40_000, 2_000][i % 8]!));

/** A stand-in handler of `apiKey` that keeps the frame it was given (a view or a copy). */
function keeping(apiKey: number, frames: Buffer[], releasesFrame: boolean): AnyApiHandler {
  return {
    apiKey,
    minVersion: 0,
    maxVersion: 20,
    releasesFrame,
    decode: (_header: RequestHeader, frame: Buffer) => {
      frames.push(releasesFrame ? Buffer.from(frame) : frame);
      return () => ({ responses: [], throttleTimeMs: 0 });
    },
  } as unknown as AnyApiHandler;
}

function request(apiKey: number, correlationId: number, valueBytes: number): Buffer {
  const header = { apiKey, apiVersion: 9, correlationId, clientId: 'reads' };
  const records = encodeBatch([{ value: Buffer.alloc(valueBytes, correlationId) }]);
  return encodeRequest(header, { transactionalId: null, acks: 1, timeoutMs: 30_000, topicData: [{ name: 't', partitionData: [{ index: 0, records }] }] });
}

describe.each([
  { path: 'into its own buffer (adopted socket)', pauseOnConnect: true },
  { path: "through 'data' events (a socket already reading)", pauseOnConnect: false },
])('a connection reading $path', ({ pauseOnConnect }) => {
  it('handles pipelined requests written in pieces with their bytes intact, and answers them in order', async () => {
    const produced: Buffer[] = [];
    // Metadata (API 3) stands for the handlers that keep bytes of their frame.
    const kept: Buffer[] = [];
    const server = await serveStandIns([keeping(ApiKey.Produce, produced, true), keeping(ApiKey.Metadata, kept, false)], { pauseOnConnect });
    const client = await RawClient.connect(server.port);
    try {
      const frames = VALUE_BYTES.map((bytes, i) => request(i % 3 === 2 ? ApiKey.Metadata : ApiKey.Produce, i + 1, bytes));
      const stream = Buffer.concat(frames);
      // Pieces of 1 B to 40 KiB, so frames start and end anywhere within reads.
      for (let at = 0, piece = 1; at < stream.length; piece = (piece * 7 + 13) % 40_960 || 1) {
        client.socket.write(stream.subarray(at, at + piece));
        at += piece;
      }
      for (let i = 0; i < frames.length; i++) expect((await client.next())!.readInt32BE(0)).toBe(i + 1);
      const expected = (apiKey: number) => frames.filter((frame) => frame.readInt16BE(4) === apiKey).map((frame) => frame.subarray(4));
      expect(produced).toEqual(expected(ApiKey.Produce));
      // The frames kept by their handlers still hold their own bytes after every later read.
      expect(kept).toEqual(expected(ApiKey.Metadata));
    } finally {
      client.socket.destroy();
      await server.close();
    }
  });
});
