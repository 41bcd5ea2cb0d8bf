// Golden bytes for flexible versions (KIP-482), built by hand from the rules of Kafka's JSON
// schemas rather than with our Writer: compact strings/arrays/bytes are uvarint(length + 1),
// every struct ends with a tagged-field section, request header v2 keeps an int16 clientId and
// adds a tagged section, response header v1 adds one, and ApiVersions responses keep header v0.
// ElectLeaders (43, no client of ours speaks it) is also checked at its classic versions here:
// int32 array counts, int16 string lengths, -1 for null.
import { describe, expect, it } from 'vitest';
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  readRequestHeader,
  type RequestHeader,
} from '../../src/protocol/index.js';

/** A byte builder independent of src/protocol's Writer. */
class Bytes {
  private readonly out: number[] = [];

  i8(v: number): this {
    this.out.push(v & 0xff);
    return this;
  }
  i16(v: number): this {
    return this.i8(v >> 8).i8(v);
  }
  i32(v: number): this {
    return this.i16(v >> 16).i16(v & 0xffff);
  }
  i64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    return this.raw(b);
  }
  uvarint(v: number): this {
    while (v >= 0x80) {
      this.i8((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    return this.i8(v);
  }
  raw(bytes: Uint8Array): this {
    this.out.push(...bytes);
    return this;
  }
  /** int16-length string (as in request header v2). */
  string(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.i16(b.length).raw(b);
  }
  compactString(s: string | null): this {
    if (s === null) return this.uvarint(0);
    const b = Buffer.from(s, 'utf8');
    return this.uvarint(b.length + 1).raw(b);
  }
  compactBytes(b: Buffer): this {
    return this.uvarint(b.length + 1).raw(b);
  }
  compactArray(count: number): this {
    return this.uvarint(count + 1);
  }
  uuid(s: string): this {
    return this.raw(Buffer.from(s.replaceAll('-', ''), 'hex'));
  }
  /** An empty tagged-field section. */
  noTags(): this {
    return this.uvarint(0);
  }
  build(): Buffer {
    return Buffer.from(this.out);
  }
}

/** Prepends the int32 size. */
function framed(body: Buffer): Buffer {
  return Buffer.concat([new Bytes().i32(body.length).build(), body]);
}

function requestHeaderV2(apiKey: number, apiVersion: number, correlationId: number, clientId: string): Bytes {
  return new Bytes().i16(apiKey).i16(apiVersion).i32(correlationId).string(clientId).noTags();
}

function checkRequestFrame(frame: Buffer, header: RequestHeader, body: object): any {
  expect(encodeRequest(header, body)).toEqual(frame);
  const parsed = readRequestHeader(frame.subarray(4));
  expect(parsed.header).toEqual(header);
  const decoded = decodeRequest(parsed.header, frame.subarray(4), parsed.bodyOffset);
  expect(decoded).toMatchObject(body);
  return decoded;
}

describe('flexible requests, byte for byte', () => {
  it('ApiVersions v3 request: header v2 (int16 clientId + tags), compact strings, trailing tags', () => {
    const header = { apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'sluice' };
    const frame = framed(
      requestHeaderVersionBytes(header).compactString('apache-kafka-java').compactString('3.9.0').noTags().build(),
    );
    checkRequestFrame(frame, header, { clientSoftwareName: 'apache-kafka-java', clientSoftwareVersion: '3.9.0' });
    // Byte-level landmarks: the clientId length is an int16, then the header's empty tag section.
    expect(frame.readInt16BE(12)).toBe(6);
    expect(frame[4 + 10 + 6]).toBe(0);
  });

  it('Metadata v12 request: compact nullable array of {uuid, compact nullable name}', () => {
    const header = { apiKey: 3, apiVersion: 12, correlationId: 77, clientId: 'platformatic' };
    const id = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
    const frame = framed(
      requestHeaderVersionBytes(header)
        .compactArray(2)
        .uuid('00000000-0000-0000-0000-000000000000')
        .compactString('orders')
        .noTags()
        .uuid(id)
        .compactString(null)
        .noTags()
        .i8(1) // allowAutoTopicCreation
        .i8(0) // includeTopicAuthorizedOperations
        .noTags()
        .build(),
    );
    checkRequestFrame(frame, header, {
      topics: [
        { topicId: '00000000-0000-0000-0000-000000000000', name: 'orders' },
        { topicId: id, name: null },
      ],
      allowAutoTopicCreation: true,
      includeTopicAuthorizedOperations: false,
    });
    // A null topic list (all topics) is a single 0.
    const all = framed(requestHeaderVersionBytes(header).uvarint(0).i8(0).i8(0).noTags().build());
    checkRequestFrame(all, header, { topics: null, allowAutoTopicCreation: false });
  });

  it('Produce v9 request: compact nullable transactionalId, compact records', () => {
    const header = { apiKey: 0, apiVersion: 9, correlationId: 5, clientId: 'p' };
    const batch = Buffer.from('a record batch would be here, 61+ bytes in real life');
    const frame = framed(
      requestHeaderVersionBytes(header)
        .compactString(null)
        .i16(-1)
        .i32(30000)
        .compactArray(1)
        .compactString('orders')
        .compactArray(2)
        .i32(0)
        .compactBytes(batch)
        .noTags()
        .i32(1)
        .uvarint(0) // null records
        .noTags()
        .noTags()
        .noTags()
        .build(),
    );
    const decoded = checkRequestFrame(frame, header, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [
        {
          name: 'orders',
          partitionData: [
            { index: 0, records: batch },
            { index: 1, records: null },
          ],
        },
      ],
    });
    const records = decoded.topicData[0].partitionData[0].records as Buffer;
    expect(records.buffer).toBe(frame.buffer); // a window on the frame, not a copy
  });

  it('Fetch v12 request: lastFetchedEpoch, compact arrays, and a tagged clusterId (tag 0)', () => {
    const header = { apiKey: 1, apiVersion: 12, correlationId: 9, clientId: 'c' };
    const clusterIdBytes = new Bytes().compactString('cluster-x').build();
    const frame = framed(
      requestHeaderVersionBytes(header)
        .i32(-1) // replicaId
        .i32(500) // maxWaitMs
        .i32(1) // minBytes
        .i32(0x7fffffff) // maxBytes
        .i8(1) // isolationLevel
        .i32(0) // sessionId
        .i32(-1) // sessionEpoch
        .compactArray(1)
        .compactString('orders')
        .compactArray(1)
        .i32(3) // partition
        .i32(7) // currentLeaderEpoch
        .i64(1234567890123n) // fetchOffset
        .i32(6) // lastFetchedEpoch
        .i64(-1n) // logStartOffset
        .i32(1048576) // partitionMaxBytes
        .noTags()
        .noTags()
        .compactArray(0) // forgottenTopicsData
        .compactString('rack-1')
        .uvarint(1) // one tagged field
        .uvarint(0) // tag 0: clusterId
        .uvarint(clusterIdBytes.length)
        .raw(clusterIdBytes)
        .build(),
    );
    checkRequestFrame(frame, header, {
      clusterId: 'cluster-x',
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 0x7fffffff,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: 'orders',
          partitions: [
            { partition: 3, currentLeaderEpoch: 7, fetchOffset: 1234567890123, lastFetchedEpoch: 6, logStartOffset: -1, partitionMaxBytes: 1048576 },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: 'rack-1',
    });
  });
  it('ElectLeaders v2 request: int8 electionType, compact nullable array of {topic, compact []int32}', () => {
    const header = { apiKey: 43, apiVersion: 2, correlationId: 43, clientId: 'admin' };
    const frame = framed(
      requestHeaderVersionBytes(header)
        .i8(1) // electionType: unclean
        .compactArray(1)
        .compactString('orders')
        .compactArray(2)
        .i32(0)
        .i32(2)
        .noTags()
        .i32(30000) // timeoutMs
        .noTags()
        .build(),
    );
    checkRequestFrame(frame, header, { electionType: 1, topicPartitions: [{ topic: 'orders', partitionId: [0, 2] }], timeoutMs: 30000 });
    // null = every partition: a single 0; timeoutMs defaults to Kafka's 60000.
    const all = framed(requestHeaderVersionBytes(header).i8(0).uvarint(0).i32(60000).noTags().build());
    const decoded = checkRequestFrame(all, header, { electionType: 0, topicPartitions: null });
    expect(decoded.timeoutMs).toBe(60000);
  });

  it('OffsetForLeaderEpoch v4 request: replicaId, compact arrays, currentLeaderEpoch before leaderEpoch', () => {
    const header = { apiKey: 23, apiVersion: 4, correlationId: 23, clientId: 'broker-2' };
    const frame = framed(
      requestHeaderVersionBytes(header)
        .i32(2) // replicaId
        .compactArray(1)
        .compactString('orders')
        .compactArray(1)
        .i32(5) // partition
        .i32(9) // currentLeaderEpoch
        .i32(7) // leaderEpoch
        .noTags()
        .noTags()
        .noTags()
        .build(),
    );
    checkRequestFrame(frame, header, { replicaId: 2, topics: [{ topic: 'orders', partitions: [{ partition: 5, currentLeaderEpoch: 9, leaderEpoch: 7 }] }] });
  });
});

describe('the classic (non-flexible) versions of the same APIs, byte for byte', () => {
  it('ElectLeaders v0 and v1 requests: int32 array counts, int16 strings, electionType from v1', () => {
    const v1 = { apiKey: 43, apiVersion: 1, correlationId: 1, clientId: 'admin' };
    const body = (electionType: number | null) => {
      const bytes = new Bytes().i16(43).i16(electionType === null ? 0 : 1).i32(1).string('admin');
      if (electionType !== null) bytes.i8(electionType);
      return bytes.i32(1).string('orders').i32(1).i32(3).i32(1000).build();
    };
    checkRequestFrame(framed(body(0)), v1, { electionType: 0, topicPartitions: [{ topic: 'orders', partitionId: [3] }], timeoutMs: 1000 });
    const v0 = { ...v1, apiVersion: 0 };
    const decoded = checkRequestFrame(framed(body(null)), v0, { topicPartitions: [{ topic: 'orders', partitionId: [3] }], timeoutMs: 1000 });
    expect(decoded.electionType).toBe(0);
    // A null topic list is an int32 -1.
    const all = framed(new Bytes().i16(43).i16(1).i32(1).string('admin').i8(0).i32(-1).i32(1000).build());
    checkRequestFrame(all, v1, { electionType: 0, topicPartitions: null, timeoutMs: 1000 });
  });

  it('ElectLeaders v1 response: top-level errorCode after throttle time, int16 -1 for a null message', () => {
    const header = { apiKey: 43, apiVersion: 1, correlationId: 7, clientId: 'admin' };
    const expected = framed(
      new Bytes()
        .i32(7) // correlation id, response header v0
        .i32(0) // throttleTimeMs
        .i16(0) // errorCode
        .i32(1)
        .string('orders')
        .i32(2)
        .i32(0)
        .i16(0)
        .i16(-1) // errorMessage: null
        .i32(1)
        .i16(84) // ELECTION_NOT_NEEDED
        .string('leader is already the preferred replica')
        .build(),
    );
    const value = {
      throttleTimeMs: 0,
      errorCode: 0,
      replicaElectionResults: [
        {
          topic: 'orders',
          partitionResult: [
            { partitionId: 0, errorCode: 0, errorMessage: null },
            { partitionId: 1, errorCode: 84, errorMessage: 'leader is already the preferred replica' },
          ],
        },
      ],
    };
    expect(Buffer.concat(encodeResponse(header, value) as Buffer[])).toEqual(expected);
    expect(decodeResponse(header, expected.subarray(4)).body).toEqual(value);
  });
});

describe('flexible responses, byte for byte', () => {
  it('Fetch v12 response: header v1, a tagged currentLeader (tag 1) in a partition, compact records', () => {
    const header = { apiKey: 1, apiVersion: 12, correlationId: 9, clientId: 'c' };
    const records = Buffer.from('batch-bytes');
    const leader = new Bytes().i32(2).i32(11).noTags().build();
    const body = new Bytes()
      .i32(9) // correlation id
      .noTags() // response header v1
      .i32(0) // throttleTimeMs
      .i16(0) // errorCode
      .i32(0) // sessionId
      .compactArray(1)
      .compactString('orders')
      .compactArray(1)
      .i32(3)
      .i16(0)
      .i64(100n) // highWatermark
      .i64(100n) // lastStableOffset
      .i64(0n) // logStartOffset
      .uvarint(0) // abortedTransactions: null
      .i32(-1) // preferredReadReplica
      .compactBytes(records)
      .uvarint(1) // tagged: currentLeader
      .uvarint(1)
      .uvarint(leader.length)
      .raw(leader)
      .noTags()
      .noTags()
      .build();
    const expected = framed(body);
    const value = {
      responses: [
        {
          topic: 'orders',
          partitions: [
            { partitionIndex: 3, highWatermark: 100, lastStableOffset: 100, logStartOffset: 0, currentLeader: { leaderId: 2, leaderEpoch: 11 }, records },
          ],
        },
      ],
    };
    const parts = encodeResponse(header, value);
    expect(Buffer.concat(parts as Buffer[])).toEqual(expected);
    const decoded = decodeResponse(header, expected.subarray(4));
    expect(decoded.correlationId).toBe(9);
    expect(decoded.body).toMatchObject(value);
    expect(decoded.body.responses[0].partitions[0].divergingEpoch).toEqual({ epoch: -1, endOffset: -1 });
  });

  it('ApiVersions v3 response: header v0 (no tags after the correlation id), tagged feature fields', () => {
    const header = { apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'sluice' };
    const body = new Bytes()
      .i32(1) // correlation id, and no tagged section: header v0
      .i16(0)
      .compactArray(1)
      .i16(0)
      .i16(0)
      .i16(11)
      .noTags()
      .i32(0)
      .uvarint(1) // one tagged field: finalizedFeaturesEpoch (tag 1)
      .uvarint(1)
      .uvarint(8)
      .i64(42n)
      .build();
    const expected = framed(body);
    const value = { errorCode: 0, apiKeys: [{ apiKey: 0, minVersion: 0, maxVersion: 11 }], throttleTimeMs: 0, finalizedFeaturesEpoch: 42 };
    expect(Buffer.concat(encodeResponse(header, value) as Buffer[])).toEqual(expected);
    expect(decodeResponse(header, expected.subarray(4)).body).toMatchObject(value);
  });

  it('Produce v9 response: header v1, compact arrays, tagged fields omitted at their defaults', () => {
    const header = { apiKey: 0, apiVersion: 9, correlationId: 5, clientId: 'p' };
    const expected = framed(
      new Bytes()
        .i32(5)
        .noTags()
        .compactArray(1)
        .compactString('orders')
        .compactArray(1)
        .i32(0) // index
        .i16(0) // errorCode
        .i64(10n) // baseOffset
        .i64(-1n) // logAppendTimeMs
        .i64(0n) // logStartOffset
        .compactArray(0) // recordErrors
        .compactString(null) // errorMessage
        .noTags()
        .noTags()
        .i32(0) // throttleTimeMs
        .noTags()
        .build(),
    );
    const value = { responses: [{ name: 'orders', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 10, logStartOffset: 0 }] }] };
    expect(Buffer.concat(encodeResponse(header, value) as Buffer[])).toEqual(expected);
  });
  it('ElectLeaders v2 response: header v1, compact nullable errorMessage', () => {
    const header = { apiKey: 43, apiVersion: 2, correlationId: 43, clientId: 'admin' };
    const expected = framed(
      new Bytes()
        .i32(43)
        .noTags()
        .i32(0) // throttleTimeMs
        .i16(0) // errorCode
        .compactArray(1)
        .compactString('orders')
        .compactArray(2)
        .i32(0)
        .i16(0)
        .compactString(null)
        .noTags()
        .i32(2)
        .i16(15) // COORDINATOR_NOT_AVAILABLE, any code will do
        .compactString('no')
        .noTags()
        .noTags()
        .noTags()
        .build(),
    );
    const value = {
      throttleTimeMs: 0,
      errorCode: 0,
      replicaElectionResults: [
        {
          topic: 'orders',
          partitionResult: [
            { partitionId: 0, errorCode: 0, errorMessage: null },
            { partitionId: 2, errorCode: 15, errorMessage: 'no' },
          ],
        },
      ],
    };
    expect(Buffer.concat(encodeResponse(header, value) as Buffer[])).toEqual(expected);
    expect(decodeResponse(header, expected.subarray(4)).body).toEqual(value);
  });

  it('OffsetForLeaderEpoch v4 response: errorCode before partition, then leaderEpoch and endOffset', () => {
    const header = { apiKey: 23, apiVersion: 4, correlationId: 23, clientId: 'broker-2' };
    const expected = framed(
      new Bytes()
        .i32(23)
        .noTags()
        .i32(0) // throttleTimeMs
        .compactArray(1)
        .compactString('orders')
        .compactArray(1)
        .i16(0) // errorCode
        .i32(5) // partition
        .i32(6) // leaderEpoch
        .i64(4242n) // endOffset
        .noTags()
        .noTags()
        .noTags()
        .build(),
    );
    const value = { throttleTimeMs: 0, topics: [{ topic: 'orders', partitions: [{ errorCode: 0, partition: 5, leaderEpoch: 6, endOffset: 4242 }] }] };
    expect(Buffer.concat(encodeResponse(header, value) as Buffer[])).toEqual(expected);
    expect(decodeResponse(header, expected.subarray(4)).body).toEqual(value);
  });
});

function requestHeaderVersionBytes(header: RequestHeader): Bytes {
  return requestHeaderV2(header.apiKey, header.apiVersion, header.correlationId, header.clientId!);
}
