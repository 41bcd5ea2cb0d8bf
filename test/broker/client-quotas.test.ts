// Client quotas (src/broker/client-quotas.ts): Kafka's rate and throttle arithmetic and its order of
// entities, checked on ClientQuotas with a clock of the test's own; then over the wire on a broker:
// @platformatic/kafka's admin sets and describes quotas (AlterClientQuotas, DescribeClientQuotas)
// with Kafka's filters and errors, a Produce or Fetch past its client's byte rate is answered with
// throttle_time_ms (a Fetch without records) while another client is not throttled, a throttled
// kafkajs producer still delivers every record, and the quotas survive a restart.
import fs from 'node:fs';
import path from 'node:path';

import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { checkQuotaValue, CLIENT_QUOTAS_FILE, ClientQuotas, CONSUMER_BYTE_RATE, CONTROLLER_MUTATION_RATE, entityKey, PRODUCER_BYTE_RATE, REQUEST_PERCENTAGE, anonymousClient } from '../../src/broker/client-quotas.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { encodeBatch } from '../../src/record/index.js';
import { kafka } from '../fixtures/kafkajs.js';
import { tempDir, waitUntil } from '../helpers.js';

const WINDOW = { windowCount: 11, windowMs: 1000 };
const quota = (entity: Array<[string, string | null]>, values: Record<string, number>): [string, Record<string, string>] => [
  entityKey(new Map(entity)),
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)])),
];

describe('ClientQuotas (the arithmetic)', () => {
  it("throttles by Kafka's rule: a burst of ten windows' worth passes, then (rate - limit) / limit x elapsed", () => {
    const quotas = new ClientQuotas(WINDOW);
    quotas.replace(new Map([quota([['client-id', 'app']], { [PRODUCER_BYTE_RATE]: 1000 })]));
    const t0 = 1_000_000;
    // 10,000 bytes over the padded 10 s window is exactly the limit.
    expect(quotas.record(PRODUCER_BYTE_RATE, anonymousClient('app'), 10_000, t0)).toBe(0);
    // 20,000 bytes: 2,000 B/s, twice the limit: throttled for (2000 - 1000) / 1000 x 10 s.
    expect(quotas.record(PRODUCER_BYTE_RATE, anonymousClient('app'), 10_000, t0)).toBe(10_000);
    // Capped at the whole window (11 s).
    expect(quotas.record(PRODUCER_BYTE_RATE, anonymousClient('app'), 100_000, t0)).toBe(11_000);
    // Another client, and the other direction, are not throttled.
    expect(quotas.record(PRODUCER_BYTE_RATE, anonymousClient('other'), 1_000_000, t0)).toBe(0);
    expect(quotas.record(CONSUMER_BYTE_RATE, anonymousClient('app'), 1_000_000, t0)).toBe(0);
    // Once the windows have passed, the bytes no longer count.
    expect(quotas.record(PRODUCER_BYTE_RATE, anonymousClient('app'), 1_000, t0 + 12_000)).toBe(0);
    expect(quotas.throttled.requests).toBe(2);
  });

  it('with one window (quota.window.num=1) throttles within the window and still lets a fetch carry its window\'s worth', () => {
    const quotas = new ClientQuotas({ windowCount: 1, windowMs: 1000 });
    quotas.replace(new Map([quota([['client-id', 'app']], { [CONSUMER_BYTE_RATE]: 1000 })]));
    expect(quotas.maxBytesInWindow(CONSUMER_BYTE_RATE, anonymousClient('app'))).toBe(1000);
    expect(quotas.maxBytesInWindow(CONSUMER_BYTE_RATE, anonymousClient('other'))).toBe(Infinity);
    const throttleMs = quotas.record(CONSUMER_BYTE_RATE, anonymousClient('app'), 5000, 7_000_000);
    expect(throttleMs).toBeGreaterThan(0);
    expect(throttleMs).toBeLessThanOrEqual(1000);
  });

  it("takes the first entity in Kafka's order that sets the key, and shares a rate where Kafka does", () => {
    const quotas = new ClientQuotas(WINDOW);
    quotas.replace(new Map([
      quota([['client-id', null]], { [PRODUCER_BYTE_RATE]: 100 }),
      quota([['client-id', 'app']], { [PRODUCER_BYTE_RATE]: 200 }),
      quota([['user', null], ['client-id', 'app']], { [PRODUCER_BYTE_RATE]: 300 }),
      quota([['user', 'ANONYMOUS']], { [CONSUMER_BYTE_RATE]: 400 }),
    ]));
    expect(quotas.quotaOf(PRODUCER_BYTE_RATE, anonymousClient('app'))).toEqual({ limitPerSecond: 300, sensorKey: 'producer_byte_rate:user=ANONYMOUS,client-id=app' });
    expect(quotas.quotaOf(PRODUCER_BYTE_RATE, anonymousClient('b'))).toEqual({ limitPerSecond: 100, sensorKey: 'producer_byte_rate:client-id=b' });
    // A user quota: every client of the user (all are ANONYMOUS) shares one rate.
    expect(quotas.quotaOf(CONSUMER_BYTE_RATE, anonymousClient('b'))).toEqual({ limitPerSecond: 400, sensorKey: 'consumer_byte_rate:user=ANONYMOUS' });
    expect(quotas.quotaOf(CONSUMER_BYTE_RATE, anonymousClient('c'))?.sensorKey).toBe('consumer_byte_rate:user=ANONYMOUS');
    const t0 = 5_000_000;
    expect(quotas.record(CONSUMER_BYTE_RATE, anonymousClient('b'), 4_000, t0)).toBe(0);
    expect(quotas.record(CONSUMER_BYTE_RATE, anonymousClient('c'), 4_000, t0)).toBeGreaterThan(0);
  });
});

describe('client quotas on a broker', () => {
  const dataDir = tempDir();
  let broker: Broker;
  let admin: Admin;

  async function start(): Promise<void> {
    broker = await startBroker({ port: 0, dataDir });
    admin = new Admin({ clientId: 'quotas-admin', bootstrapBrokers: [`localhost:${broker.port}`], retries: 0 });
  }

  beforeAll(start);
  afterAll(async () => {
    await admin?.close();
    await broker?.stop();
  });

  async function connection(clientId: string): Promise<BrokerConnection> {
    return BrokerConnection.connect({ host: '127.0.0.1', port: broker.port, clientId });
  }

  it('are set and described through @platformatic/kafka, with Kafka\'s filters and errors', async () => {
    await admin.alterClientQuotas({
      entries: [
        { entities: [{ entityType: 'client-id', entityName: 'slow' }], ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }, { key: 'consumer_byte_rate', value: 1024, remove: false }] },
        { entities: [{ entityType: 'client-id', entityName: null }], ops: [{ key: 'producer_byte_rate', value: 10_485_760, remove: false }] },
        { entities: [{ entityType: 'user', entityName: 'ANONYMOUS' }, { entityType: 'client-id', entityName: 'pair' }], ops: [{ key: 'consumer_byte_rate', value: 4096, remove: false }] },
      ],
    });
    const exact = await admin.describeClientQuotas({ components: [{ entityType: 'client-id', matchType: 0, match: 'slow' }], strict: true });
    expect(exact).toEqual([{ entity: [{ entityType: 'client-id', entityName: 'slow' }], values: expect.arrayContaining([{ key: 'producer_byte_rate', value: 1024 }, { key: 'consumer_byte_rate', value: 1024 }]) }]);
    const defaults = await admin.describeClientQuotas({ components: [{ entityType: 'client-id', matchType: 1 }], strict: true });
    expect(defaults.map((entry) => entry.entity)).toEqual([[{ entityType: 'client-id', entityName: null }]]);
    // Not strict: entities with other types too (the user and client pair).
    const any = await admin.describeClientQuotas({ components: [{ entityType: 'client-id', matchType: 2 }], strict: false });
    expect(any).toHaveLength(3);
    const strict = await admin.describeClientQuotas({ components: [{ entityType: 'client-id', matchType: 2 }], strict: true });
    expect(strict).toHaveLength(2);

    // Refused (INVALID_REQUEST; @platformatic/kafka does not pass the broker's message on: the CLI's test reads it).
    for (const ops of [
      [{ key: 'request_percentage', value: 0, remove: false }],
      [{ key: 'producer_byte_rate', value: 0.5, remove: false }],
      [{ key: 'bogus', value: 1, remove: false }],
    ]) {
      await expect(admin.alterClientQuotas({ entries: [{ entities: [{ entityType: 'client-id', entityName: 'slow' }], ops: ops as any }] })).rejects.toThrow('Altering client quotas failed');
    }
    const unchanged = await admin.describeClientQuotas({ components: [{ entityType: 'client-id', matchType: 0, match: 'slow' }], strict: true });
    expect(unchanged).toEqual(exact);
  });

  it('a Produce past its client\'s producer_byte_rate is answered with throttle_time_ms; another client is not throttled', async () => {
    await broker.engine.createTopic('quota-produce', { partitions: 1 });
    const batch = encodeBatch(Array.from({ length: 10 }, () => ({ value: Buffer.alloc(1000, 'q') })));
    const produce = (client: BrokerConnection) =>
      client.request(ApiKey.Produce, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'quota-produce', partitionData: [{ index: 0, records: batch }] }] }, 9);
    const slow = await connection('slow');
    const other = await connection('someone');
    try {
      // 1 KiB/s: ten windows' worth (10 KiB) passes; the second request of ~10 KB goes over, and is
      // appended and answered, with the time the client is to wait (the connection waits it out too).
      const first = await produce(slow);
      const second = await produce(slow);
      expect([first.throttleTimeMs, second.throttleTimeMs > 0]).toEqual([0, true]);
      expect(second.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 10 });
      expect((await produce(other)).throttleTimeMs).toBe(0);
      expect(broker.clientQuotas.throttled.requests).toBeGreaterThan(0);
    } finally {
      slow.close();
      other.close();
    }
  });

  it('a Fetch past consumer_byte_rate gets no records and a throttle time; the records stay to be read', async () => {
    const fetch = (client: BrokerConnection, fetchOffset: number) =>
      client.request(ApiKey.Fetch, {
        replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic: 'quota-produce', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
        forgottenTopicsData: [], rackId: '',
      }, 11);
    const slow = await connection('slow');
    try {
      // 1 KiB/s: a fetch is capped at ten windows' worth (10 KiB, one batch of ~10 KB); the next goes over.
      const first = await fetch(slow, 0);
      expect(first.throttleTimeMs).toBe(0);
      expect(first.responses[0].partitions[0].records.length).toBeGreaterThan(10_000);
      expect(first.responses[0].partitions[0].records.length).toBeLessThanOrEqual(10_240 + 200);
      const throttled = await fetch(slow, 10);
      expect(throttled.throttleTimeMs).toBeGreaterThan(0);
      expect(throttled.responses).toEqual([]);
    } finally {
      slow.close();
    }
    const other = await connection('reader');
    try {
      const answered = await fetch(other, 0);
      expect(answered.throttleTimeMs).toBe(0);
      expect(answered.responses[0].partitions[0].highWatermark).toBe(30);
    } finally {
      other.close();
    }
  });

  it('a throttled kafkajs producer still delivers every record, in order', async () => {
    await admin.alterClientQuotas({ entries: [{ entities: [{ entityType: 'client-id', entityName: 'kafkajs-slow' }], ops: [{ key: 'producer_byte_rate', value: 20_000, remove: false }] }] });
    const client = kafka([`localhost:${broker.port}`], 'kafkajs-slow');
    const producer = client.producer();
    await producer.connect();
    const throttledBefore = broker.clientQuotas.throttled.requests;
    try {
      // ~240 KB: past the 200 KB burst, so the last sends are throttled.
      for (let i = 0; i < 24; i++) await producer.send({ topic: 'quota-kafkajs', acks: 1, messages: Array.from({ length: 10 }, (_, j) => ({ value: `${i * 10 + j}:${'k'.repeat(1000)}` })) });
    } finally {
      await producer.disconnect();
    }
    expect(broker.clientQuotas.throttled.requests).toBeGreaterThan(throttledBefore);
    const { records } = await broker.engine.fetch('quota-kafkajs', 0, { offset: 0, maxBytes: 10 << 20 });
    expect(records.map((record) => Number(record.value!.toString().split(':')[0]))).toEqual(Array.from({ length: 240 }, (_, i) => i));
  });

  it("request_percentage: a client whose requests take more of the broker's time than its share gets a throttle time, and another does not", async () => {
    // 0.01% of a thread: 1 ms of request time over the ten windows of 1 s a new client's rate is
    // taken over; a Metadata request takes tens of microseconds of the broker's time (more while
    // its code is cold), so some requests pass before one is throttled.
    await admin.alterClientQuotas({ entries: [{ entities: [{ entityType: 'client-id', entityName: 'busy' }], ops: [{ key: REQUEST_PERCENTAGE, value: 0.01, remove: false }] }] } as never);
    expect(broker.clientQuotas.limitsRequests).toBe(true);
    const busy = await connection('busy');
    const other = await connection('someone-else');
    try {
      let throttleTimeMs = 0;
      let requests = 0;
      // The connection waits out a throttle before its next request: stop at the first one.
      while (throttleTimeMs === 0 && requests < 500) {
        throttleTimeMs = (await busy.request(ApiKey.Metadata, { topics: null, allowAutoTopicCreation: false })).throttleTimeMs;
        requests++;
      }
      expect(throttleTimeMs).toBeGreaterThan(0);
      for (let i = 0; i < 20; i++) expect((await other.request(ApiKey.Metadata, { topics: null, allowAutoTopicCreation: false })).throttleTimeMs).toBe(0);
    } finally {
      busy.close();
      other.close();
      await admin.alterClientQuotas({ entries: [{ entities: [{ entityType: 'client-id', entityName: 'busy' }], ops: [{ key: REQUEST_PERCENTAGE, value: 0, remove: true }] }] } as never);
    }
    expect(broker.clientQuotas.limitsRequests).toBe(false);
  });

  it('survive a restart (kept in the data directory)', async () => {
    await admin.close();
    await broker.stop();
    const kept = JSON.parse(fs.readFileSync(path.join(dataDir, CLIENT_QUOTAS_FILE), 'utf8'));
    expect(kept.entities['client-id=slow']).toEqual({ producer_byte_rate: '1024', consumer_byte_rate: '1024' });
    await start();
    expect(broker.clientQuotas.quotaOf(PRODUCER_BYTE_RATE, anonymousClient('slow'))?.limitPerSecond).toBe(1024);
    await admin.alterClientQuotas({ entries: [{ entities: [{ entityType: 'client-id', entityName: 'slow' }], ops: [{ key: 'producer_byte_rate', remove: true }, { key: 'consumer_byte_rate', remove: true }] }] });
    expect(await admin.describeClientQuotas({ components: [{ entityType: 'client-id', matchType: 0, match: 'slow' }], strict: true })).toEqual([]);
  });
});

describe('a consumer under a quota smaller than its fetches', () => {
  let broker: Broker;

  beforeAll(async () => {
    // Rates over 2 windows of 1 s (quota.window.num, quota.window.size.seconds), so the test's
    // throttling lasts seconds, not the default eleven.
    broker = await startBroker({ port: 0, config: { 'quota.window.num': 2, 'quota.window.size.seconds': 1, 'group.initial.rebalance.delay.ms': 0 } });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("reads every record: a fetch is capped at what the quota allows in one window (Kafka's getMaxValueInQuotaWindow)", async () => {
    await broker.engine.createTopic('quota-consume', { partitions: 1 });
    for (let i = 0; i < 20; i++) await broker.engine.produce('quota-consume', Array.from({ length: 10 }, (_, j) => ({ value: Buffer.from(`${i * 10 + j}:${'c'.repeat(100)}`) })), { partition: 0 });
    const admin = new Admin({ clientId: 'quotas-admin', bootstrapBrokers: [`localhost:${broker.port}`], retries: 0 });
    await admin.alterClientQuotas({ entries: [{ entities: [{ entityType: 'client-id', entityName: 'kafkajs-reader' }], ops: [{ key: 'consumer_byte_rate', value: 10_000, remove: false }] }] });
    await admin.close();
    // kafkajs asks for up to 10 MB a fetch; the ~27 KB here are nearly three windows' worth of 10 KB/s.
    const consumer = kafka([`localhost:${broker.port}`], 'kafkajs-reader').consumer({ groupId: 'quota-readers' });
    await consumer.connect();
    const seen: number[] = [];
    try {
      await consumer.subscribe({ topic: 'quota-consume', fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }: any) => void seen.push(Number(message.value.toString().split(':')[0])) });
      await waitUntil(() => seen.length >= 200, 'the throttled consumer to read all 200 records');
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(broker.clientQuotas.maxBytesInWindow(CONSUMER_BYTE_RATE, anonymousClient('kafkajs-reader'))).toBe(10_000);
  });
});

describe('controller_mutation_rate (KIP-599)', () => {
  it("counts partitions in Kafka's token bucket: strict requests are refused once it is below zero, older ones taken and throttled", () => {
    const quotas = new ClientQuotas(WINDOW, { windowCount: 10, windowMs: 1000 });
    quotas.replace(new Map([quota([['client-id', 'admin']], { [CONTROLLER_MUTATION_RATE]: 10 })]));
    const t0 = 5_000_000;
    // Kafka's StrictControllerMutationQuotaTest: a burst of 10 x 10 x 1 s = 100 credits.
    expect(quotas.recordMutations(anonymousClient('admin'), 90, true, t0)).toEqual({ accepted: true, throttleMs: 0 }); // 10 left
    expect(quotas.recordMutations(anonymousClient('admin'), 90, true, t0)).toEqual({ accepted: true, throttleMs: 0 }); // -80: taken, not throttled
    expect(quotas.recordMutations(anonymousClient('admin'), 1, true, t0)).toEqual({ accepted: false, throttleMs: 8000 }); // refused until back at 0
    expect(quotas.recordMutations(anonymousClient('admin'), 1, true, t0 + 7_000)).toEqual({ accepted: false, throttleMs: 1000 });
    expect(quotas.recordMutations(anonymousClient('admin'), 5, true, t0 + 8_000)).toEqual({ accepted: true, throttleMs: 0 });
    // Permissive (older request versions): always taken, throttled while below zero.
    expect(quotas.recordMutations(anonymousClient('admin'), 20, false, t0 + 8_000)).toEqual({ accepted: true, throttleMs: 2500 });
    // No quota, no counting.
    expect(quotas.recordMutations(anonymousClient('other'), 1_000, true, t0)).toEqual({ accepted: true, throttleMs: 0 });
    expect(quotas.limitsMutations(anonymousClient('other'))).toBe(false);
  });

  it('takes fractional rates and refuses what is not a rate above zero', () => {
    const client = new Map([['client-id', 'admin']]);
    expect(() => checkQuotaValue(client, CONTROLLER_MUTATION_RATE, 0.5)).not.toThrow();
    expect(() => checkQuotaValue(client, CONTROLLER_MUTATION_RATE, 0)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    expect(() => checkQuotaValue(client, PRODUCER_BYTE_RATE, 0.5)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });

  describe('on a broker', () => {
    let broker: Broker;
    const admins: Admin[] = [];
    const adminAs = (clientId: string) => {
      const admin = new Admin({ clientId, bootstrapBrokers: [`localhost:${broker.port}`], retries: 0 });
      admins.push(admin);
      return admin;
    };

    beforeAll(async () => {
      broker = await startBroker({ port: 0 });
      // 0.1 partitions a second: a burst of 1.1 (11 windows of 1 s), then one every 10 s.
      const entries = ['mutator-create', 'mutator-delete', 'mutator-partitions', 'mutator-old'].map((clientId) => ({
        entities: [{ entityType: 'client-id', entityName: clientId }],
        ops: [{ key: CONTROLLER_MUTATION_RATE, value: 0.1, remove: false }],
      }));
      await adminAs('quotas-admin').alterClientQuotas({ entries: entries as Parameters<Admin['alterClientQuotas']>[0]['entries'] });
    });
    afterAll(async () => {
      for (const admin of admins) await admin.close().catch(() => {});
      await broker?.stop();
    });

    /** 'taken', or the Kafka error names @platformatic/kafka reports for a refused request (nested in its MultipleErrors). */
    type Reported = { apiId?: string; errors?: Reported[] };
    const names = (error: Reported): string[] => (error.apiId !== undefined ? [error.apiId] : (error.errors ?? []).flatMap(names));
    const refusal = (promise: Promise<unknown>) => promise.then(() => 'taken', (error: Reported) => names(error).join(','));

    it("refuses @platformatic/kafka's CreateTopics v7, DeleteTopics v6 and CreatePartitions v3 with THROTTLING_QUOTA_EXCEEDED once the quota is spent; other clients go on", async () => {
      const creator = adminAs('mutator-create');
      await creator.createTopics({ topics: ['spent'], partitions: 3 }); // 1.1 credits left: taken, leaving -1.9
      expect(await refusal(creator.createTopics({ topics: ['refused'], partitions: 1 }))).toBe('THROTTLING_QUOTA_EXCEEDED');
      expect(broker.engine.hasTopic('spent')).toBe(true);
      expect(broker.engine.hasTopic('refused')).toBe(false);

      const deleter = adminAs('mutator-delete');
      for (const topic of ['doomed-1', 'doomed-2']) await broker.engine.createTopic(topic, { partitions: 3 });
      await deleter.deleteTopics({ topics: ['doomed-1'] });
      expect(await refusal(deleter.deleteTopics({ topics: ['doomed-2'] }))).toBe('THROTTLING_QUOTA_EXCEEDED');
      expect([broker.engine.hasTopic('doomed-1'), broker.engine.hasTopic('doomed-2')]).toEqual([false, true]);

      const grower = adminAs('mutator-partitions');
      await broker.engine.createTopic('growing', { partitions: 1 });
      await grower.createPartitions({ topics: [{ name: 'growing', count: 4, assignments: [] }] });
      expect(await refusal(grower.createPartitions({ topics: [{ name: 'growing', count: 5, assignments: [] }] }))).toBe('THROTTLING_QUOTA_EXCEEDED');
      expect(broker.engine.partitionCount('growing')).toBe(4);

      // A client without the quota is not held back.
      await adminAs('quotas-admin').createTopics({ topics: ['free'], partitions: 10 });
      expect(broker.engine.partitionCount('free')).toBe(10);
      expect(broker.clientQuotas.throttled.requests).toBeGreaterThanOrEqual(3);
    });

    it('takes an older CreateTopics (v5) whole, answering it with the throttle that brings the bucket back to zero', async () => {
      const connection = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port, clientId: 'mutator-old' });
      try {
        const topics = ['old-1', 'old-2'].map((name) => ({ name, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }));
        const response = await connection.request(ApiKey.CreateTopics, { topics, timeoutMs: 10_000, validateOnly: false }, 5);
        expect(response.topics.map((t: { name: string; errorCode: number }) => [t.name, t.errorCode])).toEqual([['old-1', 0], ['old-2', 0]]);
        // 1.1 credits less 4 partitions: 2.9 below zero at 0.1 a second.
        expect(response.throttleTimeMs).toBeGreaterThan(28_000);
        expect(response.throttleTimeMs).toBeLessThanOrEqual(29_000);
      } finally {
        connection.close();
      }
    });
  });
});
