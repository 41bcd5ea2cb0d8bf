// Golden bytes against kafkajs 2.2.4, the oldest client we serve (never flexible).
// Requests: kafkajs's own encoders (node_modules/kafkajs/src/protocol/requests/<api>/v<N>/request.js)
// build a frame; our readRequestHeader+decodeRequest must read the values kafkajs was given, and our
// encodeRequest, given those values in our schema's terms, must produce the very same bytes.
// Responses: our encodeResponse output must decode with kafkajs's response decoders (and pass
// their `parse`, i.e. no error code where none was meant).
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  decodeRequest,
  encodeRequest,
  encodeResponse,
  readRequestHeader,
  type RequestHeader,
} from '../../src/protocol/index.js';

const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/no-explicit-any */
const kafkajsRequest: (args: { correlationId: number; clientId: string; request: any }) => Promise<{ buffer: Buffer }> =
  require('kafkajs/src/protocol/request');
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const KafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0');

const CORRELATION_ID = 0x0102_0304;
const CLIENT_ID = 'kafkajs-golden';

function requestModule(api: string, version: number): (args: any) => any {
  return require(`kafkajs/src/protocol/requests/${api}/v${version}/request`);
}

function responseModule(api: string, version: number): { decode(bytes: Buffer): Promise<any>; parse(data: any): Promise<any> } {
  return require(`kafkajs/src/protocol/requests/${api}/v${version}/response`);
}

async function kafkajsFrame(api: string, version: number, args: any): Promise<Buffer> {
  const request = requestModule(api, version)(args);
  expect(request.apiVersion).toBe(version);
  return (await kafkajsRequest({ correlationId: CORRELATION_ID, clientId: CLIENT_ID, request })).buffer;
}

/**
 * Decodes a kafkajs frame with our codec, checks the decoded body against `expected` (in our
 * schema's terms) and that encoding `expected` gives kafkajs's bytes back.
 */
function checkRequest(frame: Buffer, apiKey: number, version: number, expected: object): any {
  expect(frame.readInt32BE(0)).toBe(frame.length - 4);
  const body = frame.subarray(4);
  const { header, bodyOffset } = readRequestHeader(body);
  expect(header).toEqual({ apiKey, apiVersion: version, correlationId: CORRELATION_ID, clientId: CLIENT_ID });
  const decoded = decodeRequest(header, body, bodyOffset);
  expect(decoded).toMatchObject(expected);
  expect(encodeRequest(header, expected)).toEqual(frame);
  return decoded;
}

/** Encodes our response and decodes it with kafkajs (payload after the correlation id). */
async function kafkajsDecode(api: string, apiKey: number, version: number, body: object, module?: any): Promise<any> {
  const header: RequestHeader = { apiKey, apiVersion: version, correlationId: CORRELATION_ID, clientId: CLIENT_ID };
  const parts = encodeResponse(header, body);
  expect(parts).toHaveLength(1);
  const frame = parts[0] as Buffer;
  expect(frame.readInt32BE(0)).toBe(frame.length - 4);
  expect(frame.readInt32BE(4)).toBe(CORRELATION_ID);
  const decoder = module ?? responseModule(api, version);
  const decoded = await decoder.decode(frame.subarray(8));
  return decoder.parse(decoded);
}

/** A record batch as kafkajs writes it (base offset, length, ..., 2 records). */
async function kafkajsBatch(firstOffset: string): Promise<Buffer> {
  const records = [
    KafkajsRecord({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('k1'), value: Buffer.from('v1'), headers: { h: 'x' } }),
    KafkajsRecord({ offsetDelta: 1, timestampDelta: 5, key: null, value: Buffer.from('v2') }),
  ];
  const batch = await RecordBatch({
    firstOffset,
    firstTimestamp: 1_700_000_000_000,
    maxTimestamp: 1_700_000_000_005,
    lastOffsetDelta: 1,
    records,
  });
  return batch.buffer;
}

const messages = [
  { key: 'k1', value: 'value-1', timestamp: 1_700_000_000_000, headers: { trace: 'abc' } },
  { key: null, value: 'value-2', timestamp: 1_700_000_000_007 },
];

function checkBatch(records: Buffer | null): Buffer {
  expect(records).not.toBeNull();
  const batch = records!;
  expect(batch.readInt8(16)).toBe(2); // magic
  expect(batch.readInt32BE(8) + 12).toBe(batch.length); // batchLength covers the rest
  expect(batch.readInt32BE(57)).toBe(2); // recordsCount
  return batch;
}

describe('requests kafkajs sends: decoded values and identical bytes', () => {
  for (const version of [3, 7]) {
    it(`Produce v${version}`, async () => {
      const frame = await kafkajsFrame('produce', version, {
        acks: -1,
        timeout: 30000,
        transactionalId: version === 3 ? 'tx-1' : null,
        compression: 0,
        topicData: [
          { topic: 'orders', partitions: [{ partition: 2, messages, firstSequence: 0 }] },
          { topic: 'events', partitions: [{ partition: 0, messages, firstSequence: 0 }, { partition: 5, messages }] },
        ],
      });
      // The record bytes are kafkajs's own batches: read them from the frame, then check the rest.
      const { header, bodyOffset } = readRequestHeader(frame.subarray(4));
      const raw = decodeRequest(header as RequestHeader & { apiKey: 0 }, frame.subarray(4), bodyOffset);
      const batches = raw.topicData.flatMap((t) => t.partitionData.map((p) => checkBatch(p.records)));
      expect(batches).toHaveLength(3);
      const decoded = checkRequest(frame, 0, version, {
        transactionalId: version === 3 ? 'tx-1' : null,
        acks: -1,
        timeoutMs: 30000,
        topicData: [
          { name: 'orders', partitionData: [{ index: 2, records: batches[0] }] },
          { name: 'events', partitionData: [{ index: 0, records: batches[1] }, { index: 5, records: batches[2] }] },
        ],
      });
      // Zero copy: the records are a window on the request frame.
      expect(decoded.topicData[0].partitionData[0].records.buffer).toBe(frame.buffer);
    });
  }

  it('Fetch v4', async () => {
    const frame = await kafkajsFrame('fetch', 4, {
      replicaId: -1,
      maxWaitTime: 500,
      minBytes: 1,
      maxBytes: 10485760,
      isolationLevel: 1,
      topics: [{ topic: 'orders', partitions: [{ partition: 0, fetchOffset: '12345678901', maxBytes: 1048576 }] }],
    });
    checkRequest(frame, 1, 4, {
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 10485760,
      isolationLevel: 1,
      topics: [{ topic: 'orders', partitions: [{ partition: 0, fetchOffset: 12345678901, partitionMaxBytes: 1048576 }] }],
    });
  });

  it('Fetch v11', async () => {
    const frame = await kafkajsFrame('fetch', 11, {
      replicaId: -1,
      maxWaitTime: 100,
      minBytes: 1,
      maxBytes: 52428800,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      rackId: 'rack-a',
      forgottenTopics: [{ topic: 'gone', partitions: [1, 2] }],
      topics: [
        {
          topic: 'orders',
          partitions: [
            { partition: 0, currentLeaderEpoch: 3, fetchOffset: '42', logStartOffset: '-1', maxBytes: 1048576 },
            { partition: 1, fetchOffset: '0', maxBytes: 1048576 },
          ],
        },
      ],
    });
    checkRequest(frame, 1, 11, {
      replicaId: -1,
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 52428800,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: 'orders',
          partitions: [
            { partition: 0, currentLeaderEpoch: 3, fetchOffset: 42, logStartOffset: -1, partitionMaxBytes: 1048576 },
            { partition: 1, currentLeaderEpoch: -1, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 1048576 },
          ],
        },
      ],
      forgottenTopicsData: [{ topic: 'gone', partitions: [1, 2] }],
      rackId: 'rack-a',
    });
  });

  it('Metadata v6 (an empty topic list goes out as null: kafkajs means "all topics")', async () => {
    const frame = await kafkajsFrame('metadata', 6, { topics: ['orders', 'événements'], allowAutoTopicCreation: false });
    checkRequest(frame, 3, 6, { topics: [{ name: 'orders' }, { name: 'événements' }], allowAutoTopicCreation: false });
    const all = await kafkajsFrame('metadata', 6, { topics: [] });
    checkRequest(all, 3, 6, { topics: null, allowAutoTopicCreation: true });
  });

  it('ListOffsets v3', async () => {
    const frame = await kafkajsFrame('listOffsets', 3, {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ topic: 'orders', partitions: [{ partition: 0, timestamp: -2 }, { partition: 1 }] }],
    });
    checkRequest(frame, 2, 3, {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, timestamp: -2 }, { partitionIndex: 1, timestamp: -1 }] }],
    });
  });

  it('ApiVersions v2', async () => {
    checkRequest(await kafkajsFrame('apiVersions', 2, {}), 18, 2, {});
  });

  it('CreateTopics v3', async () => {
    const frame = await kafkajsFrame('createTopics', 3, {
      timeout: 5000,
      validateOnly: true,
      topics: [
        {
          topic: 'new-topic',
          numPartitions: 3,
          replicationFactor: 2,
          replicaAssignment: [{ partition: 0, replicas: [1, 2] }],
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'retention.ms', value: null },
          ],
        },
        { topic: 'defaults' },
      ],
    });
    checkRequest(frame, 19, 3, {
      topics: [
        {
          name: 'new-topic',
          numPartitions: 3,
          replicationFactor: 2,
          assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }],
          configs: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'retention.ms', value: null },
          ],
        },
        { name: 'defaults', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] },
      ],
      timeoutMs: 5000,
      validateOnly: true,
    });
  });

  it('DeleteTopics v1', async () => {
    const frame = await kafkajsFrame('deleteTopics', 1, { topics: ['a', 'b'], timeout: 7000 });
    checkRequest(frame, 20, 1, { topicNames: ['a', 'b'], timeoutMs: 7000 });
  });

  it('InitProducerId v1', async () => {
    checkRequest(await kafkajsFrame('initProducerId', 1, { transactionalId: 'tx', transactionTimeout: 60000 }), 22, 1, {
      transactionalId: 'tx',
      transactionTimeoutMs: 60000,
    });
    checkRequest(await kafkajsFrame('initProducerId', 1, { transactionalId: null, transactionTimeout: 1000 }), 22, 1, {
      transactionalId: null,
      transactionTimeoutMs: 1000,
    });
  });

  it('DescribeConfigs v2 (no config names goes out as null: all)', async () => {
    const frame = await kafkajsFrame('describeConfigs', 2, {
      resources: [
        { type: 2, name: 'orders', configNames: ['retention.ms', 'cleanup.policy'] },
        { type: 4, name: '1' },
      ],
      includeSynonyms: true,
    });
    checkRequest(frame, 32, 2, {
      resources: [
        { resourceType: 2, resourceName: 'orders', configurationKeys: ['retention.ms', 'cleanup.policy'] },
        { resourceType: 4, resourceName: '1', configurationKeys: null },
      ],
      includeSynonyms: true,
    });
  });

  it('FindCoordinator v2', async () => {
    const frame = await kafkajsFrame('findCoordinator', 2, { coordinatorKey: 'group-a', coordinatorType: 0 });
    checkRequest(frame, 10, 2, { key: 'group-a', keyType: 0 });
  });

  it('JoinGroup v5', async () => {
    const metadata = Buffer.from([0, 1, 0, 0, 0, 1, 0, 6, 111, 114, 100, 101, 114, 115]);
    const frame = await kafkajsFrame('joinGroup', 5, {
      groupId: 'group-a',
      sessionTimeout: 30000,
      rebalanceTimeout: 60000,
      memberId: '',
      protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata }],
    });
    checkRequest(frame, 11, 5, {
      groupId: 'group-a',
      sessionTimeoutMs: 30000,
      rebalanceTimeoutMs: 60000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'RoundRobinAssigner', metadata }],
    });
  });

  it('SyncGroup v3', async () => {
    const assignment = Buffer.from([0, 1, 0, 0, 0, 0]);
    const frame = await kafkajsFrame('syncGroup', 3, {
      groupId: 'group-a',
      generationId: 4,
      memberId: 'member-1',
      groupAssignment: [{ memberId: 'member-1', memberAssignment: assignment }],
    });
    checkRequest(frame, 14, 3, {
      groupId: 'group-a',
      generationId: 4,
      memberId: 'member-1',
      groupInstanceId: null,
      assignments: [{ memberId: 'member-1', assignment }],
    });
  });

  it('Heartbeat v3', async () => {
    const frame = await kafkajsFrame('heartbeat', 3, { groupId: 'group-a', groupGenerationId: 4, memberId: 'member-1', groupInstanceId: null });
    checkRequest(frame, 12, 3, { groupId: 'group-a', generationId: 4, memberId: 'member-1', groupInstanceId: null });
  });

  it('LeaveGroup v3', async () => {
    const frame = await kafkajsFrame('leaveGroup', 3, { groupId: 'group-a', members: [{ memberId: 'member-1' }] });
    checkRequest(frame, 13, 3, { groupId: 'group-a', members: [{ memberId: 'member-1', groupInstanceId: null }] });
  });

  it('OffsetCommit v5', async () => {
    const frame = await kafkajsFrame('offsetCommit', 5, {
      groupId: 'group-a',
      groupGenerationId: 4,
      memberId: 'member-1',
      topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '100' }, { partition: 1, offset: '7', metadata: 'm' }] }],
    });
    checkRequest(frame, 8, 5, {
      groupId: 'group-a',
      generationIdOrMemberEpoch: 4,
      memberId: 'member-1',
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, committedOffset: 100, committedMetadata: null },
            { partitionIndex: 1, committedOffset: 7, committedMetadata: 'm' },
          ],
        },
      ],
    });
  });

  it('OffsetFetch v4', async () => {
    const frame = await kafkajsFrame('offsetFetch', 4, { groupId: 'group-a', topics: [{ topic: 'orders', partitions: [{ partition: 0 }, { partition: 3 }] }] });
    checkRequest(frame, 9, 4, { groupId: 'group-a', topics: [{ name: 'orders', partitionIndexes: [0, 3] }] });
  });

  for (const version of [0, 1]) {
    it(`DeleteRecords v${version}`, async () => {
      const frame = await kafkajsFrame('deleteRecords', version, {
        topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '50' }, { partition: 1, offset: '-1' }] }],
        timeout: 5000,
      });
      checkRequest(frame, 21, version, {
        topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, offset: 50 }, { partitionIndex: 1, offset: -1 }] }],
        timeoutMs: 5000,
      });
    });
  }

  for (const version of [0, 1]) {
    it(`CreatePartitions v${version} (no assignments goes out as null)`, async () => {
      const frame = await kafkajsFrame('createPartitions', version, {
        topicPartitions: [
          { topic: 'orders', count: 4, assignments: [[1], [2, 3]] },
          { topic: 'events', count: 2 },
        ],
        validateOnly: false,
        timeout: 5000,
      });
      checkRequest(frame, 37, version, {
        topics: [
          { name: 'orders', count: 4, assignments: [{ brokerIds: [1] }, { brokerIds: [2, 3] }] },
          { name: 'events', count: 2, assignments: null },
        ],
        timeoutMs: 5000,
        validateOnly: false,
      });
    });
  }
});

describe('our responses, decoded by kafkajs', () => {
  for (const version of [3, 7]) {
    it(`Produce v${version}`, async () => {
      const decoded = await kafkajsDecode('produce', 0, version, {
        responses: [
          {
            name: 'orders',
            partitionResponses: [{ index: 2, errorCode: 0, baseOffset: 2 ** 40, logAppendTimeMs: -1, logStartOffset: 17 }],
          },
        ],
        throttleTimeMs: 0,
      });
      expect(decoded.topics).toEqual([
        {
          topicName: 'orders',
          partitions: [
            {
              partition: 2,
              errorCode: 0,
              baseOffset: String(2 ** 40),
              logAppendTime: '-1',
              ...(version >= 5 ? { logStartOffset: '17' } : {}),
            },
          ],
        },
      ]);
    });
  }

  for (const version of [4, 11]) {
    it(`Fetch v${version} with kafkajs's own record batch`, async () => {
      const batch = await kafkajsBatch('100');
      const decoded = await kafkajsDecode('fetch', 1, version, {
        throttleTimeMs: 0,
        errorCode: 0,
        sessionId: 0,
        responses: [
          {
            topic: 'orders',
            partitions: [
              {
                partitionIndex: 0,
                errorCode: 0,
                highWatermark: 102,
                lastStableOffset: 102,
                logStartOffset: 0,
                abortedTransactions: null,
                preferredReadReplica: -1,
                records: batch,
              },
              { partitionIndex: 1, errorCode: 0, highWatermark: 0, lastStableOffset: 0, records: null },
            ],
          },
        ],
      });
      const [first, second] = decoded.responses[0].partitions;
      expect(decoded.responses[0].topicName).toBe('orders');
      expect(first).toMatchObject({ partition: 0, errorCode: 0, highWatermark: '102', lastStableOffset: '102', abortedTransactions: [] });
      expect(first.messages.map((m: any) => [m.offset, m.key?.toString() ?? null, m.value.toString()])).toEqual([
        ['100', 'k1', 'v1'],
        ['101', null, 'v2'],
      ]);
      expect(first.messages[0].headers).toEqual({ h: Buffer.from('x') });
      expect(second).toMatchObject({ partition: 1, highWatermark: '0', messages: [] });
      if (version === 11) expect(first.preferredReadReplica).toBe(-1);
    });
  }

  it('Metadata v6', async () => {
    const decoded = await kafkajsDecode('metadata', 3, 6, {
      brokers: [
        { nodeId: 1, host: 'localhost', port: 9092, rack: null },
        { nodeId: 2, host: 'b2', port: 9093, rack: 'r1' },
      ],
      clusterId: 'cluster-1',
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: 'orders',
          isInternal: false,
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1, 2], isrNodes: [1], offlineReplicas: [2] }],
        },
      ],
    });
    expect(decoded).toMatchObject({
      brokers: [
        { nodeId: 1, host: 'localhost', port: 9092, rack: null },
        { nodeId: 2, host: 'b2', port: 9093, rack: 'r1' },
      ],
      clusterId: 'cluster-1',
      controllerId: 1,
      topicMetadata: [
        {
          topicErrorCode: 0,
          topic: 'orders',
          isInternal: false,
          partitionMetadata: [{ partitionErrorCode: 0, partitionId: 0, leader: 1, replicas: [1, 2], isr: [1], offlineReplicas: [2] }],
        },
      ],
    });
  });

  it('ListOffsets v3', async () => {
    const decoded = await kafkajsDecode('listOffsets', 2, 3, {
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1, offset: 123456789012 }] }],
    });
    expect(decoded.responses).toEqual([{ topic: 'orders', partitions: [{ partition: 0, errorCode: 0, timestamp: '-1', offset: '123456789012' }] }]);
  });

  it('ApiVersions v2', async () => {
    const apiKeys = [
      { apiKey: 0, minVersion: 0, maxVersion: 11 },
      { apiKey: 18, minVersion: 0, maxVersion: 4 },
    ];
    const decoded = await kafkajsDecode('apiVersions', 18, 2, { errorCode: 0, apiKeys, throttleTimeMs: 0 });
    expect(decoded).toMatchObject({ errorCode: 0, apiVersions: apiKeys });
  });

  it('CreateTopics v3', async () => {
    const decoded = await kafkajsDecode('createTopics', 19, 3, { topics: [{ name: 'new-topic', errorCode: 0, errorMessage: null }] });
    expect(decoded.topicErrors).toEqual([{ topic: 'new-topic', errorCode: 0, errorMessage: null }]);
  });

  it('DeleteTopics v1', async () => {
    const decoded = await kafkajsDecode('deleteTopics', 20, 1, { responses: [{ name: 'a', errorCode: 0 }] });
    expect(decoded.topicErrors).toEqual([{ topic: 'a', errorCode: 0 }]);
  });

  it('InitProducerId v1', async () => {
    const decoded = await kafkajsDecode('initProducerId', 22, 1, { errorCode: 0, producerId: 4000, producerEpoch: 2 });
    expect(decoded).toMatchObject({ errorCode: 0, producerId: '4000', producerEpoch: 2 });
  });

  it('DescribeConfigs v2', async () => {
    const decoded = await kafkajsDecode('describeConfigs', 32, 2, {
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: 'orders',
          configs: [
            {
              name: 'retention.ms',
              value: '604800000',
              readOnly: false,
              configSource: 5,
              isSensitive: false,
              synonyms: [{ name: 'log.retention.ms', value: '604800000', source: 5 }],
            },
          ],
        },
      ],
    });
    expect(decoded.resources).toEqual([
      {
        errorCode: 0,
        errorMessage: null,
        resourceType: 2,
        resourceName: 'orders',
        configEntries: [
          {
            configName: 'retention.ms',
            configValue: '604800000',
            readOnly: false,
            isDefault: true,
            configSource: 5,
            isSensitive: false,
            configSynonyms: [{ configName: 'log.retention.ms', configValue: '604800000', configSource: 5 }],
          },
        ],
      },
    ]);
  });

  it('FindCoordinator v2', async () => {
    const decoded = await kafkajsDecode('findCoordinator', 10, 2, { errorCode: 0, errorMessage: null, nodeId: 1, host: 'localhost', port: 9092 });
    expect(decoded).toMatchObject({ errorCode: 0, errorMessage: null, coordinator: { nodeId: 1, host: 'localhost', port: 9092 } });
  });

  it('JoinGroup v5', async () => {
    const metadata = Buffer.from([0, 1, 2]);
    const decoded = await kafkajsDecode('joinGroup', 11, 5, {
      errorCode: 0,
      generationId: 3,
      protocolName: 'RoundRobinAssigner',
      leader: 'member-1',
      memberId: 'member-1',
      members: [{ memberId: 'member-1', groupInstanceId: null, metadata }],
    });
    expect(decoded).toMatchObject({
      errorCode: 0,
      generationId: 3,
      groupProtocol: 'RoundRobinAssigner',
      leaderId: 'member-1',
      memberId: 'member-1',
      members: [{ memberId: 'member-1', groupInstanceId: null, memberMetadata: metadata }],
    });
  });

  it('SyncGroup v3', async () => {
    const assignment = Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const decoded = await kafkajsDecode('syncGroup', 14, 3, { errorCode: 0, assignment });
    expect(decoded).toMatchObject({ errorCode: 0, memberAssignment: assignment });
  });

  it('Heartbeat v3', async () => {
    expect(await kafkajsDecode('heartbeat', 12, 3, { errorCode: 0 })).toMatchObject({ errorCode: 0 });
  });

  it('LeaveGroup v3', async () => {
    const decoded = await kafkajsDecode('leaveGroup', 13, 3, { errorCode: 0, members: [{ memberId: 'member-1', groupInstanceId: null, errorCode: 0 }] });
    expect(decoded).toMatchObject({ errorCode: 0, members: [{ memberId: 'member-1', groupInstanceId: null, errorCode: 0 }] });
  });

  it('OffsetCommit v5', async () => {
    const decoded = await kafkajsDecode('offsetCommit', 8, 5, { topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 }] }] });
    expect(decoded.responses).toEqual([{ topic: 'orders', partitions: [{ partition: 0, errorCode: 0 }] }]);
  });

  it('OffsetFetch v4', async () => {
    const decoded = await kafkajsDecode('offsetFetch', 9, 4, {
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: -1, metadata: '', errorCode: 0 }] }],
      errorCode: 0,
    });
    expect(decoded).toMatchObject({ errorCode: 0, responses: [{ topic: 'orders', partitions: [{ partition: 0, offset: '-1', metadata: '', errorCode: 0 }] }] });
  });

  it('DeleteRecords v1', async () => {
    const topics = [{ topic: 'orders', partitions: [{ partition: 0, offset: '50' }] }];
    const module = require('kafkajs/src/protocol/requests/deleteRecords/v1/response')({ topics });
    const decoded = await kafkajsDecode('deleteRecords', 21, 1, {
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, lowWatermark: 50, errorCode: 0 }] }],
    }, module);
    expect(decoded.topics).toHaveLength(1);
    expect(decoded.topics[0].topic).toBe('orders');
    expect(decoded.topics[0].partitions[0]).toMatchObject({ partition: 0, errorCode: 0 });
    expect(String(decoded.topics[0].partitions[0].lowWatermark)).toBe('50');
  });

  it('CreatePartitions v1', async () => {
    const decoded = await kafkajsDecode('createPartitions', 37, 1, { results: [{ name: 'orders', errorCode: 0, errorMessage: null }] });
    expect(decoded.topicErrors).toEqual([{ topic: 'orders', errorCode: 0, errorMessage: null }]);
  });
});
