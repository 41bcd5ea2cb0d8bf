// Kafka's topic configs through the wire, with real clients: every name Kafka 3.x knows is
// accepted at CreateTopics, AlterConfigs and IncrementalAlterConfigs with Kafka's validation (the
// failure found: another client's suite was refused compression.type=lz4 and
// message.format.version), DescribeConfigs shows the full set with Kafka's defaults,
// compression.type recompresses what producers send, and batches whose header lies (sarama's
// maxTimestamp -1) are stored so that ListOffsets by timestamp answers.
import net from 'node:net';
import { once } from 'node:events';
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { KafkaErrorCode } from '../../src/errors.js';
import { ApiKey, FrameDecoder, decodeResponse, encodeRequest, type RequestHeader } from '../../src/protocol/index.js';
import { LAST_OFFSET_DELTA_OFFSET, MAX_TIMESTAMP_OFFSET, RECORDS_COUNT_OFFSET, encodeBatch, iterateBatches, readBatchHeader, stampCrc, type CompressionName } from '../../src/record/index.js';
import { TOPIC_CONFIG_NAMES } from '../../src/storage/log-config.js';
import { CompressionTypes, Partitioners, kafka } from '../fixtures/kafkajs.js';
import { kcat } from '../fixtures/kcat.js';
import { tempDir } from '../helpers.js';

const TOPIC_RESOURCE = 2;
let broker: Broker;
let address: string;
let client: any;
let admin: any;

beforeAll(async () => {
  broker = await startBroker({ port: 0, dataDir: tempDir(), config: { 'group.initial.rebalance.delay.ms': 0 } });
  address = `localhost:${broker.port}`;
  client = kafka([address]);
  admin = client.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
  await broker?.stop();
});

async function describeTopic(topic: string): Promise<Map<string, { value: string; isDefault: boolean }>> {
  const configs = await admin.describeConfigs({ resources: [{ type: TOPIC_RESOURCE, name: topic }], includeSynonyms: false });
  return new Map(
    configs.resources[0].configEntries.map((entry: { configName: string; configValue: string; isDefault: boolean }) => [
      entry.configName,
      { value: entry.configValue, isDefault: entry.isDefault },
    ]),
  );
}

/** The codec of every batch stored in partition 0 of `topic`, read from the log itself. */
function storedCodecs(topic: string): string[] {
  const log = broker.engine.partitionLog(topic, 0);
  const codecs: string[] = [];
  let offset = log.logStartOffset;
  for (let read = log.read(offset, 1 << 20); read; read = log.read(offset, 1 << 20)) {
    const bytes = log.readBytes(read);
    for (const { header } of iterateBatches(bytes)) codecs.push(header.compressionName!);
    offset = read.region.lastOffset + 1;
  }
  return codecs;
}

async function readWithKcat(topic: string): Promise<string[]> {
  const result = await kcat(['-b', address, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\\n']);
  return result.stdout.split('\n').filter((line) => line !== '');
}

/** Sends one request frame built with the project's own protocol codec; resolves with the decoded response. */
async function roundTrip(header: RequestHeader, body: object): Promise<any> {
  const socket = net.connect(broker.port, '127.0.0.1');
  await once(socket, 'connect');
  const decoder = new FrameDecoder(1 << 20);
  const frame = await new Promise<Buffer>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      decoder.push(chunk);
      const next = decoder.next();
      if (next) resolve(next);
    });
    socket.write(encodeRequest(header, body));
  });
  socket.destroy();
  return decodeResponse(header, frame).body;
}

function rawProduce(topic: string, records: Buffer, apiVersion = 9): Promise<any> {
  return roundTrip(
    { apiKey: ApiKey.Produce, apiVersion, correlationId: 1, clientId: 'raw-producer' },
    { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] },
  );
}

describe('the failure found: compression.type and message.format.version', () => {
  it('kafkajs creates a topic with them and alters them (CreateTopics, AlterConfigs)', async () => {
    const created = await admin.createTopics({
      topics: [
        {
          topic: 'tc-lz4',
          configEntries: [
            { name: 'compression.type', value: 'lz4' },
            { name: 'message.format.version', value: '3.0' },
            { name: 'delete.retention.ms', value: '1000' },
          ],
        },
      ],
    });
    expect(created).toBe(true);
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: TOPIC_RESOURCE,
          name: 'tc-lz4',
          configEntries: [
            { name: 'compression.type', value: 'lz4' },
            { name: 'message.format.version', value: '2.8' },
          ],
        },
      ],
    });
    const described = await describeTopic('tc-lz4');
    expect(described.get('compression.type')).toEqual({ value: 'lz4', isDefault: false });
    expect(described.get('message.format.version')).toEqual({ value: '2.8', isDefault: false });
    // AlterConfigs replaces the whole set: delete.retention.ms is back at Kafka's default.
    expect(described.get('delete.retention.ms')).toEqual({ value: '86400000', isDefault: true });
  });

  it('refuses bad values and unknown names with INVALID_CONFIG and Kafka\'s message', async () => {
    await expect(admin.createTopics({ topics: [{ topic: 'tc-bad', configEntries: [{ name: 'compression.type', value: 'brotli' }] }] })).rejects.toMatchObject({
      errors: [expect.objectContaining({ type: 'INVALID_CONFIG' })],
    });
    await expect(
      admin.alterConfigs({ resources: [{ type: TOPIC_RESOURCE, name: 'tc-lz4', configEntries: [{ name: 'compresion.type', value: 'lz4' }] }] }),
    ).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
    expect(await admin.listTopics()).not.toContain('tc-bad');
  });
});

describe('DescribeConfigs', () => {
  it('shows every topic config Kafka 3.x knows, with Kafka\'s defaults', async () => {
    await admin.createTopics({ topics: [{ topic: 'tc-defaults' }] });
    const described = await describeTopic('tc-defaults');
    expect([...described.keys()].sort()).toEqual([...TOPIC_CONFIG_NAMES].sort());
    expect(described.size).toBe(36);
    expect(described.get('compression.type')).toEqual({ value: 'producer', isDefault: true });
    expect(described.get('message.timestamp.before.max.ms')).toEqual({ value: '9223372036854775807', isDefault: true });
    expect(described.get('min.cleanable.dirty.ratio')).toEqual({ value: '0.5', isDefault: true });
    expect(described.get('local.retention.ms')).toEqual({ value: '-2', isDefault: true });
  });

  it('gives synonyms when asked (kafkajs includeSynonyms), most specific first, as Kafka does; none when not', async () => {
    await admin.createTopics({ topics: [{ topic: 'tc-synonyms', configEntries: [{ name: 'retention.ms', value: '60000' }] }] });
    const ask = async (includeSynonyms: boolean) => {
      const described = await admin.describeConfigs({ resources: [{ type: TOPIC_RESOURCE, name: 'tc-synonyms', configNames: ['retention.ms', 'segment.bytes'] }], includeSynonyms });
      return Object.fromEntries(described.resources[0].configEntries.map((entry: any) => [entry.configName, entry.configSynonyms.map((s: any) => `${s.configSource}:${s.configName}=${s.configValue}`)]));
    };
    // ConfigSource 1 DYNAMIC_TOPIC_CONFIG, 5 DEFAULT_CONFIG.
    expect(await ask(true)).toEqual({ 'retention.ms': ['1:retention.ms=60000', '5:log.retention.hours=168'], 'segment.bytes': ['5:log.segment.bytes=1073741824'] });
    expect(await ask(false)).toEqual({ 'retention.ms': [], 'segment.bytes': [] });
  });
});

describe('IncrementalAlterConfigs (@platformatic/kafka)', () => {
  it('sets, appends to and deletes any topic config, refusing what Kafka refuses', async () => {
    const platformatic = new Admin({ clientId: 'tc-admin', bootstrapBrokers: [address] });
    try {
      await platformatic.createTopics({ topics: ['tc-incremental'], partitions: 1, replicas: 1, configs: [{ name: 'compression.type', value: 'lz4' }] });
      const SET = 0;
      const DELETE = 1;
      const APPEND = 2;
      await platformatic.incrementalAlterConfigs({
        resources: [
          {
            resourceType: TOPIC_RESOURCE,
            resourceName: 'tc-incremental',
            configs: [
              { name: 'message.format.version', configOperation: SET, value: '3.0-IV1' },
              { name: 'segment.jitter.ms', configOperation: SET, value: '1000' },
              { name: 'leader.replication.throttled.replicas', configOperation: APPEND, value: '0:1' },
              { name: 'compression.type', configOperation: DELETE },
            ],
          },
        ],
      });
      const described = await describeTopic('tc-incremental');
      expect(described.get('message.format.version')!.value).toBe('3.0-IV1');
      expect(described.get('segment.jitter.ms')!.value).toBe('1000');
      expect(described.get('leader.replication.throttled.replicas')!.value).toBe('0:1');
      expect(described.get('compression.type')).toEqual({ value: 'producer', isDefault: true });
      await expect(
        platformatic.incrementalAlterConfigs({
          resources: [{ resourceType: TOPIC_RESOURCE, resourceName: 'tc-incremental', configs: [{ name: 'compression.zstd.level', configOperation: SET, value: '99' }] }],
        }),
      ).rejects.toThrow();
      expect((await describeTopic('tc-incremental')).get('compression.zstd.level')!.value).toBe('3');

      // An empty list of keys asks for every config, as Kafka reads it (not for none).
      const [described2] = await platformatic.describeConfigs({ resources: [{ resourceType: TOPIC_RESOURCE, resourceName: 'tc-incremental', configurationKeys: [] }] });
      expect(described2!.configs.map((config) => config.name).sort()).toEqual([...TOPIC_CONFIG_NAMES].sort());
      const [some] = await platformatic.describeConfigs({ resources: [{ resourceType: TOPIC_RESOURCE, resourceName: 'tc-incremental', configurationKeys: ['segment.jitter.ms'] }] });
      expect(some!.configs.map((config) => [config.name, config.value])).toEqual([['segment.jitter.ms', '1000']]);
    } finally {
      await platformatic.close();
    }
  });
});

describe('compression.type takes effect', () => {
  it('zstd: kafkajs\'s lz4 and gzip batches are stored as zstd, and kcat reads them back', async () => {
    await admin.createTopics({ topics: [{ topic: 'tc-zstd', configEntries: [{ name: 'compression.type', value: 'zstd' }] }] });
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const values = Array.from({ length: 40 }, (_, i) => `value-${i}-${'z'.repeat(i)}`);
    await producer.send({ topic: 'tc-zstd', compression: CompressionTypes.LZ4, messages: values.slice(0, 20).map((value) => ({ value, partition: 0 })) });
    await producer.send({ topic: 'tc-zstd', compression: CompressionTypes.GZIP, messages: values.slice(20).map((value) => ({ value, partition: 0 })) });
    await producer.disconnect();
    expect(storedCodecs('tc-zstd')).toEqual(['zstd', 'zstd']);
    expect(await readWithKcat('tc-zstd')).toEqual(values);
  });

  it('gzip: @platformatic/kafka\'s lz4 and uncompressed batches are stored as gzip; its gzip batch untouched', async () => {
    await admin.createTopics({ topics: [{ topic: 'tc-gzip', configEntries: [{ name: 'compression.type', value: 'gzip' }] }] });
    const producer = new Producer({ clientId: 'tc-producer', bootstrapBrokers: [address], serializers: stringSerializers });
    const values = Array.from({ length: 30 }, (_, i) => `gz-${i}`);
    try {
      for (const [compression, slice] of [['lz4', values.slice(0, 10)], ['none', values.slice(10, 20)], ['gzip', values.slice(20)]] as const) {
        await producer.send({ messages: slice.map((value) => ({ topic: 'tc-gzip', value, partition: 0 })), compression });
      }
    } finally {
      await producer.close();
    }
    expect(storedCodecs('tc-gzip')).toEqual(['gzip', 'gzip', 'gzip']);
    expect(await readWithKcat('tc-gzip')).toEqual(values);
  });

  it('producer (the default) stores each batch in the codec it came in; uncompressed stores none', async () => {
    await admin.createTopics({ topics: [{ topic: 'tc-producer' }, { topic: 'tc-uncompressed', configEntries: [{ name: 'compression.type', value: 'uncompressed' }] }] });
    // librdkafka sends a batch uncompressed when its codec would not make it smaller: give it text that compresses.
    const lines = (codec: string) => Array.from({ length: 50 }, (_, i) => `${codec}-${i}-${'x'.repeat(40)}`);
    for (const codec of ['lz4', 'snappy', 'gzip']) {
      for (const topic of ['tc-producer', 'tc-uncompressed']) {
        // A long linger keeps each run's lines in one batch, however busy the machine.
        const produced = await kcat(['-b', address, '-P', '-t', topic, '-p', '0', '-z', codec, '-X', 'linger.ms=1000'], lines(codec).join('\n') + '\n');
        expect(produced.code).toBe(0);
      }
    }
    // Consecutive batches of one run collapse into one entry, should librdkafka still split a run.
    expect(storedCodecs('tc-producer').filter((codec, i, all) => codec !== all[i - 1])).toEqual(['lz4', 'snappy', 'gzip']);
    expect(new Set(storedCodecs('tc-uncompressed'))).toEqual(new Set(['none']));
    expect(await readWithKcat('tc-uncompressed')).toEqual([...lines('lz4'), ...lines('snappy'), ...lines('gzip')]);
  });
});

describe('a batch whose header lies, through the broker', () => {
  for (const compression of ['none', 'gzip'] as CompressionName[]) {
    it(`maxTimestamp -1 (${compression}, as sarama writes it): ListOffsets by timestamp still finds the records`, async () => {
      const topic = `tc-sarama-${compression}`;
      await admin.createTopics({ topics: [{ topic }] });
      const base = Date.now() - 60_000;
      for (let batch = 0; batch < 3; batch++) {
        const bytes = encodeBatch(
          Array.from({ length: 5 }, (_, i) => ({ value: `b${batch}-r${i}`, timestamp: base + batch * 1000 + i * 10 })),
          { compression },
        );
        bytes.writeBigInt64BE(-1n, MAX_TIMESTAMP_OFFSET);
        stampCrc(bytes, 0);
        const response = await rawProduce(topic, bytes);
        expect(response.responses[0].partitionResponses[0].errorCode).toBe(KafkaErrorCode.NONE);
      }
      // First record at or after a timestamp, as Kafka answers; before the fix every answer was -1.
      expect(await admin.fetchTopicOffsetsByTimestamp(topic, base + 1000)).toEqual([{ partition: 0, offset: '5' }]);
      expect(await admin.fetchTopicOffsetsByTimestamp(topic, base + 2015)).toEqual([{ partition: 0, offset: '12' }]);
      const log = broker.engine.partitionLog(topic, 0);
      expect(readBatchHeader(log.readBytes(log.read(0, 1 << 20)!)).maxTimestamp).toBe(base + 40);
      // librdkafka asks the same question its own way (kcat -Q).
      const query = await kcat(['-b', address, '-Q', '-t', `${topic}:0:${base + 1015}`]);
      expect(query.stdout).toMatch(/offset 7\b/);
    });
  }

  it('a wrong record count is refused with INVALID_RECORD and nothing is stored', async () => {
    await admin.createTopics({ topics: [{ topic: 'tc-count' }] });
    const bytes = encodeBatch([{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
    bytes.writeInt32BE(4, RECORDS_COUNT_OFFSET);
    bytes.writeInt32BE(3, LAST_OFFSET_DELTA_OFFSET); // kept consistent, so only the records tell
    stampCrc(bytes, 0);
    const response = await rawProduce('tc-count', bytes);
    expect(response.responses[0].partitionResponses[0].errorCode).toBe(KafkaErrorCode.INVALID_RECORD);
    expect(broker.engine.partitionLog('tc-count', 0).logEndOffset).toBe(0);
  });
});

describe('timestamp bounds', () => {
  it('kafkajs producing a record older than message.timestamp.before.max.ms gets INVALID_TIMESTAMP', async () => {
    await admin.createTopics({ topics: [{ topic: 'tc-bounds', configEntries: [{ name: 'message.timestamp.before.max.ms', value: '60000' }] }] });
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: 0 } });
    await producer.connect();
    try {
      await producer.send({ topic: 'tc-bounds', messages: [{ value: 'now', partition: 0 }] });
      await expect(
        producer.send({ topic: 'tc-bounds', messages: [{ value: 'an hour ago', partition: 0, timestamp: String(Date.now() - 3_600_000) }] }),
      ).rejects.toMatchObject({ type: 'INVALID_TIMESTAMP' });
    } finally {
      await producer.disconnect();
    }
    expect(await readWithKcat('tc-bounds')).toEqual(['now']);
  });

  it('Produce v8+ names the refused records (record_errors)', async () => {
    const now = Date.now();
    const bytes = encodeBatch([
      { value: 'fine', timestamp: now },
      { value: 'old', timestamp: now - 3_600_000 },
      { value: 'fine too', timestamp: now - 1000 },
    ]);
    const partition = (await rawProduce('tc-bounds', bytes)).responses[0].partitionResponses[0];
    expect(partition.errorCode).toBe(KafkaErrorCode.INVALID_TIMESTAMP);
    expect(partition.errorMessage).toBe('One or more records have been rejected due to invalid timestamp');
    expect(partition.recordErrors).toHaveLength(1);
    expect(partition.recordErrors[0].batchIndex).toBe(1);
    expect(partition.recordErrors[0].batchIndexErrorMessage).toMatch(/^Timestamp \d+ of message with offset 1 is out of range/);
  });
});
