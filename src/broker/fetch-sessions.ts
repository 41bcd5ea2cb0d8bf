// Incremental fetch sessions (KIP-227), as Kafka's FetchSession.scala keeps them. A full fetch
// with session epoch 0 (INITIAL) opens a session of its partitions, and its answer carries the new
// session id; from then on the client sends only what changed (a partition added, a new fetch
// offset, partitions to forget) with the next epoch, and the answer carries only the partitions
// with records, a new high watermark or log start offset, an error, a diverging epoch or a
// preferred read replica. A consumer or follower of many quiet partitions so sends and gets a few
// bytes a fetch instead of every partition each time. Epoch -1 (FINAL) closes a session.
//
// The cache holds max.incremental.fetch.session.cache.slots sessions (1000; 0 turns sessions off:
// every answer says session id 0 and clients go on with full fetches). When it is full, a new
// session takes the place of one unused for FETCH_SESSION_EVICTION_MS, or else of one created that
// long ago that is worth less (a consumer's before a follower's, then fewer partitions); a
// follower's session may also take a newer consumer's. Otherwise it is not created.
import { randomInt } from 'node:crypto';

import { KafkaErrorCode } from '../errors.js';
import { FETCH_SESSION_EVICTION_MS } from '../limits.js';
import type { FetchRequestBody } from '../protocol/index.js';

/** Session id 0: no session. */
export const INVALID_SESSION_ID = 0;
/** A full fetch that opens a session. */
export const INITIAL_EPOCH = 0;
/** A full fetch without a session (and the end of the one it names). */
export const FINAL_EPOCH = -1;

export type FetchTopics = FetchRequestBody['topics'];
type FetchPartition = FetchTopics[number]['partitions'][number];

/** What an answered partition says that the session remembers. */
export interface AnsweredPartition {
  partitionIndex: number;
  errorCode: number;
  highWatermark: number;
  logStartOffset: number;
  preferredReadReplica: number;
  divergingEpoch?: unknown;
  records: Buffer | { count: number };
}

interface CachedPartition {
  topic: string;
  topicId: string;
  request: FetchPartition;
  /** The last high watermark and log start offset answered; -1 until answered, and after an error. */
  highWatermark: number;
  logStartOffset: number;
}

export class FetchSession {
  /** The epoch the session's next request must carry. */
  epoch = 1;
  lastUsedMs: number;
  /** In the order they are fetched: a partition answered with records goes to the end, so that a full response does not starve the others. */
  private readonly partitions = new Map<string, CachedPartition>();

  constructor(
    readonly id: number,
    /** A follower's: evicted only by age, and may evict a consumer's. */
    readonly privileged: boolean,
    /** Keyed by topic id (Fetch v13+) rather than name. */
    readonly usesTopicIds: boolean,
    readonly creationMs: number,
  ) {
    this.lastUsedMs = creationMs;
  }

  get size(): number {
    return this.partitions.size;
  }

  private key(topic: string, topicId: string, partition: number): string {
    return `${this.usesTopicIds ? topicId : topic}:${partition}`;
  }

  /** Adds or updates the request's partitions and drops the forgotten ones (Kafka's FetchSession.update). */
  update(topics: FetchTopics, forgotten: FetchRequestBody['forgottenTopicsData'], answered?: ReadonlyArray<{ partitions: AnsweredPartition[] }>): void {
    topics.forEach(({ topic, topicId, partitions }, t) => {
      partitions.forEach((request, p) => {
        const key = this.key(topic, topicId, request.partition);
        const cached = this.partitions.get(key);
        if (cached !== undefined) {
          cached.request = request;
          return;
        }
        const answer = answered?.[t]?.partitions[p];
        const unanswered = answer === undefined || answer.errorCode !== KafkaErrorCode.NONE;
        this.partitions.set(key, {
          topic,
          topicId,
          request,
          highWatermark: unanswered ? -1 : answer.highWatermark,
          logStartOffset: unanswered ? -1 : answer.logStartOffset,
        });
      });
    });
    for (const { topic, topicId, partitions } of forgotten) {
      for (const partition of partitions) this.partitions.delete(this.key(topic, topicId, partition));
    }
  }

  /** The session's partitions as a request's topics: consecutive partitions of one topic together, as Kafka groups them. */
  topics(): FetchTopics {
    const topics: FetchTopics = [];
    let last: FetchTopics[number] | undefined;
    for (const { topic, topicId, request } of this.partitions.values()) {
      if (last === undefined || last.topic !== topic || last.topicId !== topicId) {
        last = { topic, topicId, partitions: [] };
        topics.push(last);
      }
      last.partitions.push(request);
    }
    return topics;
  }

  /**
   * Keeps the answered partitions a client must hear of (Kafka's maybeUpdateResponseData), and
   * remembers what they said. `responses` answers `topics` (this session's topics() when the
   * request came) one to one.
   */
  answer<T extends { partitions: AnsweredPartition[] }>(topics: FetchTopics, responses: T[]): T[] {
    const kept: T[] = [];
    const moved: Array<[string, CachedPartition]> = [];
    responses.forEach((response, t) => {
      const { topic, topicId } = topics[t]!;
      const partitions = response.partitions.filter((answer) => {
        const key = this.key(topic, topicId, answer.partitionIndex);
        const partition = this.partitions.get(key);
        if (partition === undefined) return false; // forgotten meanwhile
        let mustRespond = recordBytes(answer) > 0 || answer.preferredReadReplica >= 0 || answer.divergingEpoch !== undefined;
        if (partition.highWatermark !== answer.highWatermark) {
          mustRespond = true;
          partition.highWatermark = answer.highWatermark;
        }
        if (partition.logStartOffset !== answer.logStartOffset) {
          mustRespond = true;
          partition.logStartOffset = answer.logStartOffset;
        }
        if (answer.errorCode !== KafkaErrorCode.NONE) {
          // Sent again once the error is gone.
          partition.highWatermark = -1;
          mustRespond = true;
        }
        if (recordBytes(answer) > 0) moved.push([key, partition]);
        return mustRespond;
      });
      if (partitions.length > 0) kept.push({ ...response, partitions });
    });
    for (const [key, partition] of moved) {
      this.partitions.delete(key);
      this.partitions.set(key, partition);
    }
    return kept;
  }
}

function recordBytes(answer: AnsweredPartition): number {
  return Buffer.isBuffer(answer.records) ? answer.records.length : answer.records.count;
}

/** The next epoch after `epoch`: past 2^31 - 1 it wraps to 1 (0 is INITIAL), as Kafka's nextEpoch. */
export function nextEpoch(epoch: number): number {
  return epoch >= 0x7fffffff ? 1 : epoch + 1;
}

/** Where a request stands with its session (Kafka's FetchManager.newContext). */
export type FetchContext =
  /** A full fetch: `create` when it may open a session (epoch 0, Fetch v7+). */
  | { kind: 'full'; create: boolean }
  /** An incremental fetch of the session's partitions. */
  | { kind: 'incremental'; session: FetchSession }
  /** The request's session cannot be used: answered with this error and nothing else. */
  | { kind: 'error'; errorCode: number };

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();

  constructor(
    /** max.incremental.fetch.session.cache.slots. */
    private readonly slots: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  get count(): number {
    return this.sessions.size;
  }

  /** Forgets every session, as a restarted broker knows none: their next incremental fetch is FETCH_SESSION_ID_NOT_FOUND. */
  clear(): void {
    this.sessions.clear();
  }

  /** Partitions held by every session. */
  get partitions(): number {
    let partitions = 0;
    for (const session of this.sessions.values()) partitions += session.size;
    return partitions;
  }

  /**
   * The request's context. An incremental request updates its session (partitions, epoch) here,
   * once, however long it then waits for records.
   */
  contextOf(request: FetchRequestBody, apiVersion: number): FetchContext {
    const { sessionId, sessionEpoch } = request;
    if (sessionEpoch === INITIAL_EPOCH || sessionEpoch === FINAL_EPOCH) {
      // A full fetch ends the session it names.
      if (sessionId !== INVALID_SESSION_ID) this.sessions.delete(sessionId);
      return { kind: 'full', create: sessionEpoch === INITIAL_EPOCH && apiVersion >= 7 };
    }
    const session = this.sessions.get(sessionId);
    if (session === undefined) return { kind: 'error', errorCode: KafkaErrorCode.FETCH_SESSION_ID_NOT_FOUND };
    if (session.epoch !== sessionEpoch) return { kind: 'error', errorCode: KafkaErrorCode.INVALID_FETCH_SESSION_EPOCH };
    if (session.usesTopicIds !== apiVersion >= 13) return { kind: 'error', errorCode: KafkaErrorCode.FETCH_SESSION_TOPIC_ID_ERROR };
    session.update(request.topics, request.forgottenTopicsData);
    if (session.size === 0) {
      // Nothing left to fetch: the session ends, and the (empty) fetch is answered without one.
      this.sessions.delete(sessionId);
      return { kind: 'full', create: false };
    }
    session.epoch = nextEpoch(session.epoch);
    session.lastUsedMs = this.nowMs();
    return { kind: 'incremental', session };
  }

  /**
   * Opens a session for a full fetch's partitions, as its answer left them; returns its id, or
   * INVALID_SESSION_ID when there is no room (or no partition: Kafka opens no empty session).
   */
  create(privileged: boolean, usesTopicIds: boolean, topics: FetchTopics, answered: ReadonlyArray<{ partitions: AnsweredPartition[] }>): number {
    const size = topics.reduce((sum, topic) => sum + topic.partitions.length, 0);
    if (this.slots <= 0 || size === 0) return INVALID_SESSION_ID;
    const nowMs = this.nowMs();
    if (this.sessions.size >= this.slots && !this.evictFor(privileged, size, nowMs)) return INVALID_SESSION_ID;
    let id: number;
    do id = randomInt(1, 0x7fffffff);
    while (this.sessions.has(id));
    const session = new FetchSession(id, privileged, usesTopicIds, nowMs);
    session.update(topics, [], answered);
    this.sessions.set(id, session);
    return id;
  }

  /** Kafka's tryEvict: a stale session, else the least valuable one the newcomer outranks. */
  private evictFor(privileged: boolean, size: number, nowMs: number): boolean {
    let oldest: FetchSession | undefined;
    let cheapest: FetchSession | undefined;
    for (const session of this.sessions.values()) {
      if (oldest === undefined || session.lastUsedMs < oldest.lastUsedMs) oldest = session;
      const settled = nowMs - session.creationMs > FETCH_SESSION_EVICTION_MS;
      const evictable = settled || (privileged && !session.privileged);
      if (evictable && (cheapest === undefined || compareWorth(session, cheapest) < 0)) cheapest = session;
    }
    if (oldest !== undefined && nowMs - oldest.lastUsedMs > FETCH_SESSION_EVICTION_MS) {
      this.sessions.delete(oldest.id);
      return true;
    }
    // The newcomer counts with id 0, as Kafka's: it must be worth strictly more to take the place.
    if (cheapest === undefined || compareWorth({ privileged, size, id: 0 }, cheapest) < 0) return false;
    this.sessions.delete(cheapest.id);
    return true;
  }
}

/** Kafka's EvictableKey order: a consumer's session below a follower's, then fewer partitions, then the lower id. */
function compareWorth(a: { privileged: boolean; size: number; id: number }, b: { privileged: boolean; size: number; id: number }): number {
  return Number(a.privileged) - Number(b.privileged) || a.size - b.size || a.id - b.id;
}
