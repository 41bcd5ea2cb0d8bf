// The broker reads each connection into one reused buffer (connection.ts, the arena): Produce
// frames are handled as views of it and its bytes are read over afterwards. These tests check
// that nothing a client sent is lost or mixed up by that reuse: pipelined requests of every size
// (larger than the buffer too), written in pieces that end anywhere, each land byte for byte; and
// bytes a handler keeps past its request (a group member's metadata) are not read over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { ApiKey, decodeResponse, encodeRequest, type RequestHeader } from '../../src/protocol/index.js';
import { encodeBatch } from '../../src/record/batch.js';
import { RawClient } from '../fixtures/raw-client.js';
import { prng } from '../fixtures/random.js';

function randomBytes(random: () => number, sizeBytes: number): Buffer {
  const bytes = Buffer.allocUnsafe(sizeBytes);
  for (let i = 0; i < sizeBytes; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

function request(apiKey: number, apiVersion: number, correlationId: number, body: object): { header: RequestHeader; frame: Buffer } {
  const header = { apiKey, apiVersion, correlationId, clientId: 'read-buffer' };
  return { header, frame: encodeRequest(header, body) };
}

function produce(correlationId: number, topic: string, values: Buffer[]) {
  const records = encodeBatch(values.map((value) => ({ value })));
  return request(ApiKey.Produce, 9, correlationId, { transactionalId: null, acks: 1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
}

describe('a connection read into one reused buffer', () => {
  let broker: Broker;

  beforeAll(async () => {
    broker = await startBroker({ port: 0, config: { 'group.initial.rebalance.delay.ms': 0 } });
    await broker.engine.createTopic('sizes', { partitions: 1 });
    await broker.engine.createTopic('filler', { partitions: 1 });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('stores pipelined Produce requests of every size, written in pieces that end anywhere, byte for byte and in order', async () => {
    const random = prng(7);
    // Values from 1 B to 300 KiB: frames far smaller and far larger than the 128 KiB buffer.
    const sent: Buffer[][] = Array.from({ length: 120 }, (_, i) => {
      // A large batch stays under max.message.bytes (1 MiB): at most three values of 300 KB.
      const large = i % 10 === 9;
      const valueBytes = large ? 100_000 + Math.floor(random() * 200_000) : 1 + Math.floor(random() * 3000);
      return Array.from({ length: 1 + Math.floor(random() * (large ? 3 : 5)) }, () => randomBytes(random, valueBytes));
    });
    const requests = sent.map((values, i) => produce(i + 1, 'sizes', values));
    const stream = Buffer.concat(requests.map((r) => r.frame));
    const client = await RawClient.connect(broker.port);
    // Pieces of 1 B to 40 KiB, each its own write on its own turn of the event loop.
    for (let at = 0; at < stream.length; ) {
      const end = Math.min(stream.length, at + 1 + Math.floor(random() * 40_000));
      client.socket.write(stream.subarray(at, end));
      at = end;
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const r of requests) {
      const { correlationId, body } = decodeResponse(r.header, (await client.next())!);
      expect(correlationId).toBe(r.header.correlationId);
      expect((body as any).responses[0].partitionResponses[0].errorCode).toBe(0);
    }
    client.socket.destroy();

    const stored: Buffer[] = [];
    for (let offset = 0; offset < sent.flat().length; ) {
      const { records, nextOffset } = await broker.engine.fetch('sizes', 0, { offset, maxBytes: 4 * 1024 * 1024 });
      for (const record of records) stored.push(record.value!);
      offset = nextOffset;
    }
    const expected = sent.flat();
    expect(stored.length).toBe(expected.length);
    expect(stored.every((value, i) => value.equals(expected[i]!))).toBe(true);
  });

  it("keeps a group member's metadata intact while later Produce requests on the same connection reuse the buffer", async () => {
    const metadata = randomBytes(prng(11), 2000);
    const client = await RawClient.connect(broker.port);
    const join = request(ApiKey.JoinGroup, 3, 1, {
      groupId: 'keeps-metadata',
      sessionTimeoutMs: 60_000,
      rebalanceTimeoutMs: 60_000,
      memberId: '',
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata }],
    });
    client.socket.write(join.frame);
    const joined = decodeResponse(join.header, (await client.next())!).body as any;
    expect(joined.errorCode).toBe(0);
    // 640 KB of Produce after it, one request at a time: the buffer the JoinGroup was read into is
    // read over again and again once nothing is in flight.
    for (let i = 0; i < 40; i++) {
      const filler = produce(i + 2, 'filler', [Buffer.alloc(16_000, i)]);
      client.socket.write(filler.frame);
      expect((decodeResponse(filler.header, (await client.next())!).body as any).responses[0].partitionResponses[0].errorCode).toBe(0);
    }
    // DescribeGroups shows members' metadata once the group is Stable, as Kafka's does.
    const sync = request(ApiKey.SyncGroup, 2, 99, { groupId: 'keeps-metadata', generationId: joined.generationId, memberId: joined.memberId, assignments: [{ memberId: joined.memberId, assignment: Buffer.alloc(0) }] });
    client.socket.write(sync.frame);
    expect((decodeResponse(sync.header, (await client.next())!).body as any).errorCode).toBe(0);

    const describeGroups = request(ApiKey.DescribeGroups, 1, 100, { groups: ['keeps-metadata'] });
    client.socket.write(describeGroups.frame);
    const described = decodeResponse(describeGroups.header, (await client.next())!).body as any;
    const member = described.groups[0].members[0];
    expect(member.memberId).toBe(joined.memberId);
    expect(Buffer.from(member.memberMetadata).equals(metadata)).toBe(true);
    client.socket.destroy();
  });
});
