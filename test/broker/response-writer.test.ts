// ResponseWriter over a real loopback connection: a response with file regions goes on the event
// loop as far as the socket takes it, the transfer thread sends the rest, and responses of either
// kind reach the reader whole and in order.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ResponseWriter, type TrafficCounters } from '../../src/broker/response-writer.js';
import { tempDir, waitUntil } from '../helpers.js';
import { socketPair } from '../native/helpers.js';

const FILE_BYTES = 16 * 1024 * 1024; // past what loopback's socket buffers take while nobody reads

let file: { fd: number; content: Buffer };

beforeAll(() => {
  const content = randomBytes(FILE_BYTES);
  const filePath = path.join(tempDir(), 'segment.log');
  fs.writeFileSync(filePath, content);
  file = { fd: fs.openSync(filePath, 'r'), content };
});

afterAll(() => fs.closeSync(file.fd));

function counters(): TrafficCounters {
  return { bytesWrittenFromJs: 0, bytesSentZeroCopy: 0 };
}

function failOnError(error: Error): never {
  throw error;
}

describe('ResponseWriter', () => {
  it('sends a response of regions the socket takes whole on the event loop: done before send returns', async () => {
    const pair = await socketPair();
    const traffic = counters();
    const writer = new ResponseWriter(pair.server, traffic, failOnError);
    const received = collect(pair.client, 4 + 50_000);
    const outcomes: boolean[] = [];
    let released = 0;
    writer.send([Buffer.from('HEAD'), { fd: file.fd, position: 7, count: 50_000 }], [() => released++], (written) => outcomes.push(written));
    expect(outcomes).toEqual([true]);
    expect(released).toBe(1);
    expect(traffic).toEqual({ bytesWrittenFromJs: 4, bytesSentZeroCopy: 50_000 });
    expect((await received).equals(Buffer.concat([Buffer.from('HEAD'), file.content.subarray(7, 50_007)]))).toBe(true);
    writer.close();
    await pair.close();
  });

  it('hands what the socket did not take to the transfer thread, and keeps later responses behind it', async () => {
    const pair = await socketPair();
    pair.client.pause(); // the buffers fill before the first response is out
    const writer = new ResponseWriter(pair.server, counters(), failOnError);
    const outcomes: string[] = [];
    const responses: Array<{ parts: Array<Buffer | { fd: number; position: number; count: number }>; bytes: Buffer }> = [
      { parts: [Buffer.from('one'), { fd: file.fd, position: 0, count: FILE_BYTES }], bytes: Buffer.concat([Buffer.from('one'), file.content]) },
      { parts: [Buffer.from('two, buffers alone')], bytes: Buffer.from('two, buffers alone') },
      {
        parts: [Buffer.from('three'), { fd: file.fd, position: 100, count: 1000 }, Buffer.from('end')],
        bytes: Buffer.concat([Buffer.from('three'), file.content.subarray(100, 1100), Buffer.from('end')]),
      },
    ];
    const expected = Buffer.concat(responses.map((response) => response.bytes));
    const received = collect(pair.client, expected.length);
    responses.forEach((response, i) => writer.send(response.parts, [], (written) => outcomes.push(`${i}:${written}`)));
    expect(outcomes).toEqual([]); // the first is still going: the socket took only part of it
    pair.client.resume();
    const bytes = await received;
    await waitUntil(() => outcomes.length === 3, 'every response done');
    expect(outcomes).toEqual(['0:true', '1:true', '2:true']);
    expect(bytes.length).toBe(expected.length);
    expect(bytes.equals(expected)).toBe(true);
    writer.close();
    await pair.close();
  });
});

function collect(socket: net.Socket, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let receivedBytes = 0;
  return new Promise((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      receivedBytes += chunk.length;
      if (receivedBytes >= bytes) resolve(Buffer.concat(chunks));
    });
  });
}
