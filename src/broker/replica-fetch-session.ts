// A follower's side of its fetch session with a leader (KIP-227; Kafka's FetchSessionHandler).
// The first Fetch names every partition at session epoch 0 and the leader opens a session; each
// later one names only the partitions whose fetch state changed (a new log end after an append, a
// new leader epoch, a partition added) and forgets those no longer fetched, at the next epoch. So a
// follower of thousands of partitions, most of them quiet, sends and gets back a few partitions a
// fetch instead of all of them (the leader answers only partitions with news, fetch-sessions.ts).
// The session starts over with a full fetch after a lost connection or when the leader no longer
// knows it (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH: evicted, or the leader restarted).
import { KafkaErrorCode } from '../errors.js';
import { INITIAL_EPOCH, INVALID_SESSION_ID, nextEpoch } from './fetch-sessions.js';

/** One partition of a follower's Fetch, every field set. */
export interface FetchPartitionInput {
  partition: number;
  currentLeaderEpoch: number;
  fetchOffset: number;
  lastFetchedEpoch: number;
  logStartOffset: number;
  partitionMaxBytes: number;
}

interface FetchTopicInput {
  topic: string;
  partitions: FetchPartitionInput[];
}

/** What one Fetch carries of the session. */
export interface SessionRequest {
  sessionId: number;
  sessionEpoch: number;
  topics: FetchTopicInput[];
  forgottenTopicsData: Array<{ topic: string; partitions: number[] }>;
}

export class ReplicaFetchSession {
  private id = INVALID_SESSION_ID;
  /** The epoch the next request carries: INITIAL_EPOCH asks for a new session. */
  private epoch = INITIAL_EPOCH;
  /** What the leader's session holds, by topic then partition, as last sent. */
  private sent = new Map<string, Map<number, FetchPartitionInput>>();
  /** The request built last, applied to `sent` once answered. */
  private pending: { next: Map<string, Map<number, FetchPartitionInput>>; full: boolean } | null = null;

  /** Full fetches are sent until the leader has opened a session. */
  get sessionId(): number {
    return this.id;
  }

  /** The request for this round's partitions: all of them without a session, else what changed and what went. */
  build(partitions: ReadonlyArray<{ topic: string; entry: FetchPartitionInput }>): SessionRequest {
    const next = new Map<string, Map<number, FetchPartitionInput>>();
    for (const { topic, entry } of partitions) {
      let byPartition = next.get(topic);
      if (byPartition === undefined) next.set(topic, (byPartition = new Map()));
      byPartition.set(entry.partition, entry);
    }
    const full = this.id === INVALID_SESSION_ID;
    this.pending = { next, full };
    if (full) {
      return { sessionId: INVALID_SESSION_ID, sessionEpoch: INITIAL_EPOCH, topics: [...next].map(([topic, byPartition]) => ({ topic, partitions: [...byPartition.values()] })), forgottenTopicsData: [] };
    }
    const topics: FetchTopicInput[] = [];
    for (const [topic, byPartition] of next) {
      const sentOfTopic = this.sent.get(topic);
      const changed = [...byPartition.values()].filter((entry) => !samePartition(sentOfTopic?.get(entry.partition), entry));
      if (changed.length > 0) topics.push({ topic, partitions: changed });
    }
    const forgottenTopicsData: SessionRequest['forgottenTopicsData'] = [];
    for (const [topic, byPartition] of this.sent) {
      const gone = [...byPartition.keys()].filter((partition) => next.get(topic)?.has(partition) !== true);
      if (gone.length > 0) forgottenTopicsData.push({ topic, partitions: gone });
    }
    return { sessionId: this.id, sessionEpoch: this.epoch, topics, forgottenTopicsData };
  }

  /**
   * The answer to the last build(): its top-level error and session id. Returns false when the
   * session is gone on the leader (the next request is a full one again).
   */
  answered(errorCode: number, sessionId: number): boolean {
    const pending = this.pending;
    this.pending = null;
    if (errorCode === KafkaErrorCode.FETCH_SESSION_ID_NOT_FOUND || errorCode === KafkaErrorCode.INVALID_FETCH_SESSION_EPOCH) {
      this.reset();
      return false;
    }
    if (errorCode !== KafkaErrorCode.NONE || pending === null) return true;
    if (pending.full) {
      // 0: the leader kept no session (no room, or none wanted); the next fetch is full again.
      this.id = sessionId;
      this.epoch = sessionId === INVALID_SESSION_ID ? INITIAL_EPOCH : nextEpoch(INITIAL_EPOCH);
    } else {
      this.epoch = nextEpoch(this.epoch);
    }
    this.sent = this.id === INVALID_SESSION_ID ? new Map() : pending.next;
    return true;
  }

  /** Starts over: after a lost connection or a failed request, the next fetch is a full one. */
  reset(): void {
    this.id = INVALID_SESSION_ID;
    this.epoch = INITIAL_EPOCH;
    this.sent = new Map();
    this.pending = null;
  }
}

function samePartition(a: FetchPartitionInput | undefined, b: FetchPartitionInput): boolean {
  return (
    a !== undefined &&
    a.fetchOffset === b.fetchOffset &&
    a.currentLeaderEpoch === b.currentLeaderEpoch &&
    a.lastFetchedEpoch === b.lastFetchedEpoch &&
    a.logStartOffset === b.logStartOffset &&
    a.partitionMaxBytes === b.partitionMaxBytes
  );
}
