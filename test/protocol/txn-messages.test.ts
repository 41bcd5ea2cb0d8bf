// The transaction APIs (AddOffsetsToTxn 25, EndTxn 26, WriteTxnMarkers 27, TxnOffsetCommit 28,
// DescribeTransactions 65, ListTransactions 66): a realistic request and response of each, at its
// highest version and at version 0, through whole frames (encodeRequest/decodeRequest,
// encodeResponse/decodeResponse) and as bare bodies (encodeMessage/decodeMessage, re-encoding to
// the same bytes); fields a version lacks come back as Kafka's defaults. Then a few bodies against
// independent encoders: kafkajs 2.2.4 (classic versions) and @platformatic/kafka (flexible ones).
import { createRequire } from 'node:module';
import * as platformatic from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import {
  AddOffsetsToTxnRequest,
  AddOffsetsToTxnResponse,
  ApiKey,
  decodeRequest,
  decodeResponse,
  DescribeTransactionsRequest,
  DescribeTransactionsResponse,
  encodeRequest,
  encodeResponse,
  EndTxnRequest,
  EndTxnResponse,
  ListTransactionsRequest,
  ListTransactionsResponse,
  readRequestHeader,
  registry,
  TxnOffsetCommitRequest,
  TxnOffsetCommitResponse,
  WriteTxnMarkersRequest,
  WriteTxnMarkersResponse,
  type RequestHeader,
} from '../../src/protocol/index.js';
import { decodeMessage, encodeMessage, type Input, type MessageSchema } from '../../src/protocol/schema.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const require = createRequire(import.meta.url);

function header(apiKey: number, apiVersion: number): RequestHeader {
  return { apiKey, apiVersion, correlationId: 0x7a7a + apiVersion, clientId: 'txn-test' };
}

/** The body as bare bytes, decoded, and re-encoded to the same bytes. */
function bodyRoundTrip(schema: MessageSchema, version: number, body: object): any {
  const bytes = encodeMessage(schema, version, body as Input<MessageSchema>);
  const decoded = decodeMessage(schema, version, bytes);
  expect(encodeMessage(schema, version, decoded as Input<MessageSchema>)).toEqual(bytes);
  return decoded;
}

/** A request through a whole frame (header included), as a broker reads it; also as a bare body. */
function requestRoundTrip(apiKey: number, version: number, body: object): any {
  const definition = registry.get(apiKey)!;
  const frame = encodeRequest(header(apiKey, version), body);
  expect(frame.readInt32BE(0)).toBe(frame.length - 4);
  const parsed = readRequestHeader(frame.subarray(4));
  expect(parsed.header).toEqual(header(apiKey, version));
  const decoded = decodeRequest(parsed.header, frame.subarray(4), parsed.bodyOffset) as any;
  expect(bodyRoundTrip(definition.request, version, body)).toEqual(decoded);
  return decoded;
}

/** A response through a whole frame, as a client reads it; also as a bare body. */
function responseRoundTrip(apiKey: number, version: number, body: object): any {
  const definition = registry.get(apiKey)!;
  const parts = encodeResponse(header(apiKey, version), body);
  expect(parts).toHaveLength(1);
  const frame = parts[0] as Buffer;
  expect(frame.readInt32BE(0)).toBe(frame.length - 4);
  const decoded = decodeResponse(header(apiKey, version), frame.subarray(4));
  expect(decoded.correlationId).toBe(header(apiKey, version).correlationId);
  expect(bodyRoundTrip(definition.response, version, body)).toEqual(decoded.body);
  return decoded.body;
}

const PRODUCER_ID = 4_000_000_123;
const TXN_ID = 'orders-txn-é';

describe('the registry', () => {
  it('holds the transaction APIs with the schemas of their modules', () => {
    const pairs: Array<[number, MessageSchema, MessageSchema]> = [
      [ApiKey.AddOffsetsToTxn, AddOffsetsToTxnRequest, AddOffsetsToTxnResponse],
      [ApiKey.EndTxn, EndTxnRequest, EndTxnResponse],
      [ApiKey.WriteTxnMarkers, WriteTxnMarkersRequest, WriteTxnMarkersResponse],
      [ApiKey.TxnOffsetCommit, TxnOffsetCommitRequest, TxnOffsetCommitResponse],
      [ApiKey.DescribeTransactions, DescribeTransactionsRequest, DescribeTransactionsResponse],
      [ApiKey.ListTransactions, ListTransactionsRequest, ListTransactionsResponse],
    ];
    for (const [apiKey, request, response] of pairs) {
      const definition = registry.get(apiKey)!;
      expect(definition.request).toBe(request);
      expect(definition.response).toBe(response);
      expect(definition.name).toBe(request.name.replace(/Request$/, ''));
    }
  });
});

describe('AddOffsetsToTxn (25)', () => {
  for (const version of [4, 0]) {
    it(`v${version}: request and response`, () => {
      const request = requestRoundTrip(ApiKey.AddOffsetsToTxn, version, {
        transactionalId: TXN_ID,
        producerId: PRODUCER_ID,
        producerEpoch: 7,
        groupId: 'billing-consumers',
      });
      expect(request).toEqual({ transactionalId: TXN_ID, producerId: PRODUCER_ID, producerEpoch: 7, groupId: 'billing-consumers' });
      const response = responseRoundTrip(ApiKey.AddOffsetsToTxn, version, { throttleTimeMs: 12, errorCode: 90 });
      expect(response).toEqual({ throttleTimeMs: 12, errorCode: 90 });
    });
  }
});

describe('EndTxn (26)', () => {
  it('v5: the response carries the producer id and epoch of the next transaction', () => {
    const request = requestRoundTrip(ApiKey.EndTxn, 5, { transactionalId: TXN_ID, producerId: PRODUCER_ID, producerEpoch: 32766, committed: true });
    expect(request).toMatchObject({ transactionalId: TXN_ID, producerId: PRODUCER_ID, producerEpoch: 32766, committed: true });
    const response = responseRoundTrip(ApiKey.EndTxn, 5, { throttleTimeMs: 0, errorCode: 0, producerId: PRODUCER_ID + 1, producerEpoch: 0 });
    expect(response).toEqual({ throttleTimeMs: 0, errorCode: 0, producerId: PRODUCER_ID + 1, producerEpoch: 0 });
  });

  it('v5: the new fields default to -1', () => {
    expect(responseRoundTrip(ApiKey.EndTxn, 5, { errorCode: 47 })).toEqual({ throttleTimeMs: 0, errorCode: 47, producerId: -1, producerEpoch: -1 });
  });

  for (const version of [4, 0]) {
    it(`v${version}: an abort; the response has no producer id or epoch on the wire`, () => {
      const request = requestRoundTrip(ApiKey.EndTxn, version, { transactionalId: TXN_ID, producerId: PRODUCER_ID, producerEpoch: 3, committed: false });
      expect(request.committed).toBe(false);
      expect(request.producerEpoch).toBe(3);
      const response = responseRoundTrip(ApiKey.EndTxn, version, { throttleTimeMs: 5, errorCode: 48, producerId: 99, producerEpoch: 9 });
      expect(response).toEqual({ throttleTimeMs: 5, errorCode: 48, producerId: -1, producerEpoch: -1 });
    });
  }

  it('v4 and v5 responses differ by exactly the int64 and int16', () => {
    const body = { throttleTimeMs: 1, errorCode: 0, producerId: 1, producerEpoch: 1 };
    expect(encodeMessage(EndTxnResponse, 5, body).length - encodeMessage(EndTxnResponse, 4, body).length).toBe(10);
  });
});

describe('WriteTxnMarkers (27)', () => {
  for (const version of [1, 0]) {
    it(`v${version}: a commit marker for two topics, and per-partition results`, () => {
      const request = requestRoundTrip(ApiKey.WriteTxnMarkers, version, {
        markers: [
          {
            producerId: PRODUCER_ID,
            producerEpoch: 4,
            transactionResult: true,
            topics: [
              { name: 'orders', partitionIndexes: [0, 3] },
              { name: '__consumer_offsets', partitionIndexes: [17] },
            ],
            coordinatorEpoch: 11,
          },
        ],
      });
      expect(request.markers).toHaveLength(1);
      expect(request.markers[0]).toMatchObject({ producerId: PRODUCER_ID, producerEpoch: 4, transactionResult: true, coordinatorEpoch: 11 });
      expect(request.markers[0].topics[1]).toEqual({ name: '__consumer_offsets', partitionIndexes: [17] });

      const response = responseRoundTrip(ApiKey.WriteTxnMarkers, version, {
        markers: [
          {
            producerId: PRODUCER_ID,
            topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 3, errorCode: 6 }] }],
          },
        ],
      });
      expect(response.markers[0].producerId).toBe(PRODUCER_ID);
      expect(response.markers[0].topics[0].partitions[1]).toEqual({ partitionIndex: 3, errorCode: 6 });
    });
  }
});

describe('TxnOffsetCommit (28)', () => {
  const body = {
    transactionalId: TXN_ID,
    groupId: 'billing-consumers',
    producerId: PRODUCER_ID,
    producerEpoch: 2,
    generationId: 41,
    memberId: 'consumer-1-6f1c',
    groupInstanceId: 'billing-host-a',
    topics: [
      {
        name: 'payments',
        partitions: [
          { partitionIndex: 0, committedOffset: 1_234_567, committedLeaderEpoch: 8, committedMetadata: 'batch 17' },
          { partitionIndex: 5, committedOffset: 2 ** 40, committedLeaderEpoch: 8, committedMetadata: null },
        ],
      },
    ],
  };

  it('v5: the consumer group membership and leader epochs survive', () => {
    const request = requestRoundTrip(ApiKey.TxnOffsetCommit, 5, body);
    expect(request).toEqual(body);
  });

  it('v0: generation, member, instance id and leader epoch are not on the wire and come back as defaults', () => {
    const request = requestRoundTrip(ApiKey.TxnOffsetCommit, 0, body);
    expect(request).toMatchObject({ transactionalId: TXN_ID, groupId: 'billing-consumers', producerId: PRODUCER_ID, producerEpoch: 2 });
    expect(request.generationId).toBe(-1);
    expect(request.memberId).toBe('');
    expect(request.groupInstanceId).toBeNull();
    expect(request.topics[0].partitions).toEqual([
      { partitionIndex: 0, committedOffset: 1_234_567, committedLeaderEpoch: -1, committedMetadata: 'batch 17' },
      { partitionIndex: 5, committedOffset: 2 ** 40, committedLeaderEpoch: -1, committedMetadata: null },
    ]);
  });

  for (const version of [5, 0]) {
    it(`v${version}: response`, () => {
      const response = responseRoundTrip(ApiKey.TxnOffsetCommit, version, {
        throttleTimeMs: 3,
        topics: [{ name: 'payments', partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 5, errorCode: 22 }] }],
      });
      expect(response.throttleTimeMs).toBe(3);
      expect(response.topics[0].partitions[1]).toEqual({ partitionIndex: 5, errorCode: 22 });
    });
  }
});

describe('DescribeTransactions (65)', () => {
  it('v0 (the only version): an ongoing transaction and an unknown id', () => {
    const request = requestRoundTrip(ApiKey.DescribeTransactions, 0, { transactionalIds: [TXN_ID, 'nope'] });
    expect(request).toEqual({ transactionalIds: [TXN_ID, 'nope'] });
    const response = responseRoundTrip(ApiKey.DescribeTransactions, 0, {
      throttleTimeMs: 0,
      transactionStates: [
        {
          errorCode: 0,
          transactionalId: TXN_ID,
          transactionState: 'Ongoing',
          transactionTimeoutMs: 60_000,
          transactionStartTimeMs: 1_700_000_000_123,
          producerId: PRODUCER_ID,
          producerEpoch: 12,
          topics: [{ topic: 'orders', partitions: [0, 2] }],
        },
        { errorCode: 105, transactionalId: 'nope', transactionState: '', producerId: -1, producerEpoch: -1 },
      ],
    });
    expect(response.transactionStates[0]).toMatchObject({
      transactionState: 'Ongoing',
      transactionStartTimeMs: 1_700_000_000_123,
      producerId: PRODUCER_ID,
      producerEpoch: 12,
      topics: [{ topic: 'orders', partitions: [0, 2] }],
    });
    expect(response.transactionStates[1]).toEqual({
      errorCode: 105,
      transactionalId: 'nope',
      transactionState: '',
      transactionTimeoutMs: 0,
      transactionStartTimeMs: 0,
      producerId: -1,
      producerEpoch: -1,
      topics: [],
    });
  });
});

describe('ListTransactions (66)', () => {
  const request = { stateFilters: ['Ongoing', 'PrepareCommit'], producerIdFilters: [PRODUCER_ID, 7], durationFilter: 30_000 };
  const response = {
    throttleTimeMs: 0,
    errorCode: 0,
    unknownStateFilters: ['Bogus'],
    transactionStates: [{ transactionalId: TXN_ID, producerId: PRODUCER_ID, transactionState: 'Ongoing' }],
  };

  it('v1: the duration filter survives', () => {
    expect(requestRoundTrip(ApiKey.ListTransactions, 1, request)).toEqual(request);
    expect(responseRoundTrip(ApiKey.ListTransactions, 1, response)).toEqual(response);
  });

  it('v0: no duration filter on the wire (-1, all transactions)', () => {
    expect(requestRoundTrip(ApiKey.ListTransactions, 0, request)).toEqual({ ...request, durationFilter: -1 });
    expect(responseRoundTrip(ApiKey.ListTransactions, 0, response)).toEqual(response);
  });

  it('v1 writes the v0 request plus one int64, and the same response bytes', () => {
    expect(encodeMessage(ListTransactionsRequest, 1, request).length - encodeMessage(ListTransactionsRequest, 0, request).length).toBe(8);
    expect(encodeMessage(ListTransactionsResponse, 1, response)).toEqual(encodeMessage(ListTransactionsResponse, 0, response));
  });
});

describe('against independent encoders', () => {
  async function kafkajsBody(api: string, version: number, args: object): Promise<Buffer> {
    const build = require(`kafkajs/src/protocol/requests/${api}/v${version}/request`);
    return (await build(args).encode()).buffer;
  }

  it('kafkajs v0 requests: AddOffsetsToTxn, EndTxn, TxnOffsetCommit', async () => {
    const common = { transactionalId: TXN_ID, producerId: String(PRODUCER_ID), producerEpoch: 3 };
    expect(await kafkajsBody('addOffsetsToTxn', 0, { ...common, groupId: 'g1' })).toEqual(
      encodeMessage(AddOffsetsToTxnRequest, 0, { transactionalId: TXN_ID, producerId: PRODUCER_ID, producerEpoch: 3, groupId: 'g1' }),
    );
    expect(await kafkajsBody('endTxn', 0, { ...common, transactionResult: true })).toEqual(
      encodeMessage(EndTxnRequest, 0, { transactionalId: TXN_ID, producerId: PRODUCER_ID, producerEpoch: 3, committed: true }),
    );
    const kafkajs = await kafkajsBody('txnOffsetCommit', 0, {
      ...common,
      groupId: 'g1',
      topics: [{ topic: 't', partitions: [{ partition: 2, offset: '99', metadata: null }] }],
    });
    expect(decodeMessage(TxnOffsetCommitRequest, 0, kafkajs)).toEqual({
      transactionalId: TXN_ID,
      groupId: 'g1',
      producerId: PRODUCER_ID,
      producerEpoch: 3,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 't', partitions: [{ partitionIndex: 2, committedOffset: 99, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
  });

  it('@platformatic/kafka flexible requests: EndTxn v4, TxnOffsetCommit v4, ListTransactions v1, DescribeTransactions v0', () => {
    const p = platformatic as any;
    expect(p.endTxnV4.createRequest(TXN_ID, BigInt(PRODUCER_ID), 3, true).buffer).toEqual(
      encodeMessage(EndTxnRequest, 4, { transactionalId: TXN_ID, producerId: PRODUCER_ID, producerEpoch: 3, committed: true }),
    );
    const partitions = [{ partitionIndex: 1, committedOffset: 10n, committedLeaderEpoch: 4, committedMetadata: null }];
    expect(p.txnOffsetCommitV4.createRequest(TXN_ID, 'g1', BigInt(PRODUCER_ID), 3, 41, 'm-1', null, [{ name: 't', partitions }]).buffer).toEqual(
      encodeMessage(TxnOffsetCommitRequest, 4, {
        transactionalId: TXN_ID,
        groupId: 'g1',
        producerId: PRODUCER_ID,
        producerEpoch: 3,
        generationId: 41,
        memberId: 'm-1',
        groupInstanceId: null,
        topics: [{ name: 't', partitions: [{ partitionIndex: 1, committedOffset: 10, committedLeaderEpoch: 4, committedMetadata: null }] }],
      }),
    );
    expect(p.listTransactionsV1.createRequest(['Ongoing'], [BigInt(PRODUCER_ID)], 5000n).buffer).toEqual(
      encodeMessage(ListTransactionsRequest, 1, { stateFilters: ['Ongoing'], producerIdFilters: [PRODUCER_ID], durationFilter: 5000 }),
    );
    expect(p.describeTransactionsV0.createRequest([TXN_ID]).buffer).toEqual(encodeMessage(DescribeTransactionsRequest, 0, { transactionalIds: [TXN_ID] }));
  });

  it('@platformatic/kafka reads our DescribeTransactions v0 and ListTransactions v1 responses', () => {
    const p = platformatic as any;
    const described = encodeMessage(DescribeTransactionsResponse, 0, {
      throttleTimeMs: 0,
      transactionStates: [
        {
          errorCode: 0,
          transactionalId: TXN_ID,
          transactionState: 'PrepareCommit',
          transactionTimeoutMs: 60_000,
          transactionStartTimeMs: 1_700_000_000_123,
          producerId: PRODUCER_ID,
          producerEpoch: 12,
          topics: [{ topic: 'orders', partitions: [0, 2] }],
        },
      ],
    });
    expect(p.describeTransactionsV0.parseResponse(1, 65, 0, p.Reader.from(described))).toEqual({
      throttleTimeMs: 0,
      transactionStates: [
        {
          errorCode: 0,
          transactionalId: TXN_ID,
          transactionState: 'PrepareCommit',
          transactionTimeoutMs: 60_000,
          transactionStartTimeMs: 1_700_000_000_123n,
          producerId: BigInt(PRODUCER_ID),
          producerEpoch: 12,
          topics: [{ topic: 'orders', partitions: [0, 2] }],
        },
      ],
    });
    const list = encodeMessage(ListTransactionsResponse, 1, {
      unknownStateFilters: ['Bogus'],
      transactionStates: [{ transactionalId: TXN_ID, producerId: PRODUCER_ID, transactionState: 'Ongoing' }],
    });
    expect(p.listTransactionsV1.parseResponse(1, 66, 1, p.Reader.from(list))).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      unknownStateFilters: ['Bogus'],
      transactionStates: [{ transactionalId: TXN_ID, producerId: BigInt(PRODUCER_ID), transactionState: 'Ongoing' }],
    });
  });
});
