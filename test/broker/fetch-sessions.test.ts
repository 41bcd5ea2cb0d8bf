// Incremental fetch sessions (KIP-227) over the wire, as a Java consumer or a Kafka follower uses
// them: a full fetch at epoch 0 opens a session; incremental fetches name only what changed and are
// answered only with partitions that have news; epochs, forgotten partitions, closing, topic ids,
// and max.incremental.fetch.session.cache.slots.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { reportBrokerConfig } from '../../src/broker/config.js';
import { FetchSessionCache } from '../../src/broker/fetch-sessions.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { KafkaErrorCode as E } from '../../src/errors.js';
import { startBroker, type Broker } from '../../src/index.js';
import { ApiKey } from '../../src/protocol/index.js';
import { fetchBody } from '../fixtures/probes.js';
import { tempDir } from '../helpers.js';

interface PartitionAsk {
  partition: number;
  fetchOffset: number;
}

function fetchRequest(options: { sessionId: number; sessionEpoch: number; topics?: Array<{ topic?: string; topicId?: string; partitions: PartitionAsk[] }>; forgotten?: Array<{ topic?: string; topicId?: string; partitions: number[] }>; maxWaitMs?: number; minBytes?: number }) {
  const { sessionId, sessionEpoch, topics = [], forgotten = [], maxWaitMs = 0, minBytes = 0 } = options;
  return {
    ...fetchBody('', { maxWaitMs, minBytes }),
    sessionId,
    sessionEpoch,
    topics: topics.map(({ topic = '', topicId, partitions }) => ({
      topic,
      topicId,
      partitions: partitions.map(({ partition, fetchOffset }) => ({ partition, fetchOffset, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1, lastFetchedEpoch: -1 })),
    })),
    forgottenTopicsData: forgotten.map(({ topic = '', topicId, partitions }) => ({ topic, topicId, partitions })),
  };
}

/** partition -> records bytes, for the partitions a response carries. */
function answered(response: any): Record<number, number> {
  const out: Record<number, number> = {};
  for (const topic of response.responses) for (const p of topic.partitions) out[p.partitionIndex] = p.records ? p.records.length : 0;
  return out;
}

describe('incremental fetch sessions', () => {
  let broker: Broker;
  let connection: BrokerConnection;
  const produce = (partition: number, value = 'v') => broker.engine.produce('quiet', [{ value }], { partition });

  beforeAll(async () => {
    broker = await startBroker({ port: 0, dataDir: tempDir() });
    await broker.engine.createTopic('quiet', { partitions: 3 });
    for (const partition of [0, 1, 2]) produce(partition);
    connection = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port });
  });

  afterAll(async () => {
    connection?.close();
    await broker?.stop();
  });

  it('a full fetch at epoch 0 opens a session; incremental fetches carry only the partitions with news', async () => {
    const all = [0, 1, 2].map((partition) => ({ partition, fetchOffset: 0 }));
    const full = await connection.request(ApiKey.Fetch, fetchRequest({ sessionId: 0, sessionEpoch: 0, topics: [{ topic: 'quiet', partitions: all }] }), 12);
    expect(full.errorCode).toBe(E.NONE);
    expect(full.sessionId).toBeGreaterThan(0);
    expect(Object.keys(answered(full))).toEqual(['0', '1', '2']);
    const sessionId = full.sessionId;

    // Epoch 1: the client moves its offsets past what it read; nothing new: an empty answer.
    const moved = [0, 1, 2].map((partition) => ({ partition, fetchOffset: 1 }));
    const quiet = await connection.request(ApiKey.Fetch, fetchRequest({ sessionId, sessionEpoch: 1, topics: [{ topic: 'quiet', partitions: moved }] }), 12);
    expect(quiet).toMatchObject({ errorCode: E.NONE, sessionId });
    expect(answered(quiet)).toEqual({});

    // Epoch 2 names nothing: the session's offsets are used, and only partition 1 has a record.
    produce(1, 'news');
    const news = await connection.request(ApiKey.Fetch, fetchRequest({ sessionId, sessionEpoch: 2 }), 12);
    expect(news.sessionId).toBe(sessionId);
    expect(Object.keys(answered(news))).toEqual(['1']);
    expect(answered(news)[1]).toBeGreaterThan(0);

    // A long poll of a session waits for a partition the request does not name.
    const waiting = connection.request(ApiKey.Fetch, fetchRequest({ sessionId, sessionEpoch: 3, topics: [{ topic: 'quiet', partitions: [{ partition: 1, fetchOffset: 2 }] }], maxWaitMs: 30_000, minBytes: 1 }), 12);
    await new Promise((resolve) => setTimeout(resolve, 100));
    produce(2, 'late');
    const woken = await waiting;
    expect(Object.keys(answered(woken))).toEqual(['2']);

    // A stale epoch, and an unknown session.
    expect((await connection.request(ApiKey.Fetch, fetchRequest({ sessionId, sessionEpoch: 3 }), 12)).errorCode).toBe(E.INVALID_FETCH_SESSION_EPOCH);
    expect((await connection.request(ApiKey.Fetch, fetchRequest({ sessionId: sessionId + 1, sessionEpoch: 1 }), 12)).errorCode).toBe(E.FETCH_SESSION_ID_NOT_FOUND);

    // Forgotten partitions leave the session: new records of partition 0 are not fetched. (The
    // client moves partition 2 past the record it read.)
    const forgotten = await connection.request(
      ApiKey.Fetch,
      fetchRequest({ sessionId, sessionEpoch: 4, topics: [{ topic: 'quiet', partitions: [{ partition: 2, fetchOffset: 2 }] }], forgotten: [{ topic: 'quiet', partitions: [0] }] }),
      12,
    );
    expect(forgotten.errorCode).toBe(E.NONE);
    produce(0, 'unseen');
    expect(answered(await connection.request(ApiKey.Fetch, fetchRequest({ sessionId, sessionEpoch: 5 }), 12))).toEqual({});

    // Epoch -1 closes it: the fetch is a full one without a session, and the id is gone.
    const closing = await connection.request(ApiKey.Fetch, fetchRequest({ sessionId, sessionEpoch: -1, topics: [{ topic: 'quiet', partitions: [{ partition: 0, fetchOffset: 0 }] }] }), 12);
    expect(closing.sessionId).toBe(0);
    expect(answered(closing)[0]).toBeGreaterThan(0);
    expect((await connection.request(ApiKey.Fetch, fetchRequest({ sessionId, sessionEpoch: 6 }), 12)).errorCode).toBe(E.FETCH_SESSION_ID_NOT_FOUND);
  });

  it('keys sessions by topic id from Fetch v13, and refuses a session used across that line', async () => {
    const topicId = broker.engine.topicId('quiet')!;
    const full = await connection.request(ApiKey.Fetch, fetchRequest({ sessionId: 0, sessionEpoch: 0, topics: [{ topicId, partitions: [{ partition: 2, fetchOffset: 0 }] }] }), 13);
    expect(full.sessionId).toBeGreaterThan(0);
    expect(full.responses[0].topicId).toBe(topicId);
    produce(2, 'by-id');
    const next = await connection.request(ApiKey.Fetch, fetchRequest({ sessionId: full.sessionId, sessionEpoch: 1, topics: [{ topicId, partitions: [{ partition: 2, fetchOffset: 3 }] }] }), 13);
    expect(next.responses).toHaveLength(1);
    expect(next.responses[0]).toMatchObject({ topicId, partitions: [expect.objectContaining({ partitionIndex: 2 })] });
    expect((await connection.request(ApiKey.Fetch, fetchRequest({ sessionId: full.sessionId, sessionEpoch: 2 }), 12)).errorCode).toBe(E.FETCH_SESSION_TOPIC_ID_ERROR);
  });

  it('sessionless fetches (epoch -1, as kafkajs and librdkafka send) open nothing', async () => {
    const before = broker.fetchSessions.count;
    const response = await connection.request(ApiKey.Fetch, fetchRequest({ sessionId: 0, sessionEpoch: -1, topics: [{ topic: 'quiet', partitions: [{ partition: 0, fetchOffset: 0 }] }] }), 12);
    expect(response.sessionId).toBe(0);
    expect(broker.fetchSessions.count).toBe(before);
  });
});

describe('max.incremental.fetch.session.cache.slots', () => {
  it('bounds the sessions held; 0 answers every fetch without one', async () => {
    const request = fetchRequest({ sessionId: 0, sessionEpoch: 0, topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 0 }] }] });
    for (const slots of [0, 2]) {
      const broker = await startBroker({ port: 0, dataDir: tempDir(), config: { 'max.incremental.fetch.session.cache.slots': slots } });
      try {
        await broker.engine.createTopic('t');
        const connection = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port });
        const ids = [];
        for (let i = 0; i < 4; i++) ids.push((await connection.request(ApiKey.Fetch, request, 12)).sessionId);
        connection.close();
        // With room for 2: two sessions, then none (neither is stale, and a newcomer of the same size is worth no more).
        expect(ids.filter((id) => id > 0)).toHaveLength(slots);
        expect(broker.fetchSessions.count).toBe(slots);
      } finally {
        await broker.stop();
      }
    }
    expect(reportBrokerConfig({ 'max.incremental.fetch.session.cache.slots': '10' }).unsupported).toEqual([]);
  });
});

describe('FetchSessionCache eviction (Kafka\'s tryEvict)', () => {
  const topics = (partitions: number) => [{ topic: 't', topicId: '', partitions: Array.from({ length: partitions }, (_, partition) => ({ partition, fetchOffset: 0, partitionMaxBytes: 1, currentLeaderEpoch: -1, logStartOffset: -1, lastFetchedEpoch: -1, replicaDirectoryId: '' })) }];
  const answers = (partitions: number) => [{ partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({ partitionIndex, errorCode: 0, highWatermark: 1, logStartOffset: 0, preferredReadReplica: -1, records: Buffer.alloc(0) })) }];

  it('a full cache takes a follower\'s session in place of a consumer\'s, a larger one in place of a settled smaller one, and any in place of a stale one', () => {
    let nowMs = 0;
    const cache = new FetchSessionCache(2, () => nowMs);
    const consumer = cache.create(false, false, topics(1), answers(1));
    const other = cache.create(false, false, topics(3), answers(3));
    expect(consumer).toBeGreaterThan(0);
    expect(other).toBeGreaterThan(0);
    // Full: a consumer's new session of the same size is worth no more; a follower's takes the smallest consumer's.
    expect(cache.create(false, false, topics(1), answers(1))).toBe(0);
    const follower = cache.create(true, false, topics(1), answers(1));
    expect(follower).toBeGreaterThan(0);
    expect(cache.count).toBe(2);
    expect(cache.contextOf({ sessionId: consumer, sessionEpoch: 1, topics: [], forgottenTopicsData: [] } as any, 12)).toEqual({ kind: 'error', errorCode: E.FETCH_SESSION_ID_NOT_FOUND });
    // Within 2 minutes a follower's session is not evictable by a consumer's, however large.
    nowMs = 60_000;
    expect(cache.create(false, false, topics(10), answers(10))).toBe(0);
    // Past 2 minutes since creation, a larger consumer session takes the place of the smaller one
    // (the follower's, used just now, is not stale).
    nowMs = 121_000;
    expect(cache.contextOf({ sessionId: follower, sessionEpoch: 1, topics: [], forgottenTopicsData: [] } as any, 12).kind).toBe('incremental');
    const larger = cache.create(false, false, topics(10), answers(10));
    expect(larger).toBeGreaterThan(0);
    expect(cache.contextOf({ sessionId: other, sessionEpoch: 1, topics: [], forgottenTopicsData: [] } as any, 12).kind).toBe('error');
    // A session unused for 2 minutes goes for any newcomer, even a smaller one.
    nowMs = 250_000;
    cache.contextOf({ sessionId: follower, sessionEpoch: 2, topics: [], forgottenTopicsData: [] } as any, 12);
    expect(cache.create(false, false, topics(1), answers(1))).toBeGreaterThan(0);
    expect(cache.contextOf({ sessionId: larger, sessionEpoch: 1, topics: [], forgottenTopicsData: [] } as any, 12).kind).toBe('error');
  });
});
