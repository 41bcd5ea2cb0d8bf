// A follower's fetcher for one leader broker (Kafka's ReplicaFetcherThread over
// AbstractFetcherThread): one connection, one Fetch at a time for every partition this broker
// follows there. Fetch v12 (flexible, topic names, LastFetchedEpoch), ReplicaId = this broker's id,
// per partition CurrentLeaderEpoch, FetchOffset = the follower's log end offset, LastFetchedEpoch =
// its latest epoch, LogStartOffset, in a fetch session (KIP-227, replica-fetch-session.ts): after
// the first, a Fetch names only the partitions whose state changed, and a partition the answer
// leaves out had no news. With each answer, per partition:
//   - records are appended as the leader wrote them (Log.appendAsFollower, no re-encoding), then
//     the follower's high watermark = min(leader's HighWatermark, own LEO), and its log start
//     follows the leader's once below that high watermark;
//   - DivergingEpoch: truncate to where both epoch histories agree (truncationFor; never to the
//     high watermark alone, KIP-101), then fetch again from there;
//   - OFFSET_OUT_OF_RANGE: below the leader's log start, start over empty at it; past the leader's
//     log end (ListOffsets latest with our replica id answers the LEO), truncate to it;
//   - FENCED_LEADER_EPOCH (our epoch is older: the new state is on its way to us) or a storage
//     error (the leader's or ours): the partition is paused and reported (onPartitionError) until
//     the replica manager adds or updates it again;
//   - any other error, NOT_LEADER_OR_FOLLOWER, UNKNOWN_LEADER_EPOCH and UNKNOWN_TOPIC_OR_PARTITION
//     included (the leader has not learned of its leadership or of the topic yet: every broker
//     learns a new state from etcd's watch at its own moment), delays the partition by
//     replica.fetch.backoff.ms and it is fetched again, as Kafka's fetcher retries them.
// With follower.replication.throttled.rate over its limit, a partition that
// follower.replication.throttled.replicas lists for this broker, and whose ISR this broker is not
// in, stays out of the next Fetch (replication-quotas.ts); with nothing left to ask, the fetcher
// backs off replica.fetch.backoff.ms.
// Each add or update of a partition makes a new state, and an answer is applied only to the state
// it was asked for, with the log end it was asked at: once removePartition returns, nothing more
// lands in that log. A lost connection or a timed-out request drops the connection; after
// replica.fetch.backoff.ms the fetcher connects again and carries on. Nothing is thrown out of the
// loop: errors go to onPartitionError or to the log; close() ends the loop at once, in flight
// requests included.
import { BrokerConnection } from '../client/connection.js';
import { KafkaErrorCode, SluiceError, kafkaErrorName, type SluiceErrorName } from '../errors.js';
import type { LogLimiter } from '../logger.js';
import { ApiKey, type FetchRequestInput, type FetchResponseBody } from '../protocol/index.js';
import type { Log } from '../storage/log.js';
import { errorCodeOf } from './handlers/errors.js';
import { truncationFor, type EpochEndOffset } from './replica-divergence.js';
import { ReplicaFetchSession, type FetchPartitionInput } from './replica-fetch-session.js';
import type { ReplicationQuota } from './replication-quotas.js';
import type { SaslCredentials } from '../client/sasl.js';
import type { PeerTls } from './peer-connections.js';

/** Topic names (v12), flexible, LastFetchedEpoch and DivergingEpoch: the version followers speak. */
export const REPLICA_FETCH_VERSION = 12;

/** Kafka's defaults (ReplicationConfigs.java) for the options of the same names. */
export const REPLICA_FETCHER_DEFAULTS = Object.freeze({
  /** replica.fetch.wait.max.ms */
  maxWaitMs: 500,
  /** replica.fetch.min.bytes */
  minBytes: 1,
  /** replica.fetch.response.max.bytes */
  maxBytes: 10 * 1024 * 1024,
  /** replica.fetch.max.bytes */
  partitionMaxBytes: 1024 * 1024,
  /** replica.fetch.backoff.ms */
  backoffMs: 1000,
  /** replica.socket.timeout.ms: above maxWaitMs, or every long poll would time out. */
  requestTimeoutMs: 30_000,
});

const LATEST_TIMESTAMP = -1;
const READ_UNCOMMITTED = 0;

/** Errors after which a partition waits for the replica manager (a new leader or epoch) to resume it. */
const PAUSING_ERRORS: ReadonlySet<SluiceErrorName> = new Set<SluiceErrorName>(['FENCED_LEADER_EPOCH', 'KAFKA_STORAGE_ERROR', 'ENGINE_CLOSED']);

/** A partition this broker follows: its log and the truncations the replica manager does. */
export interface FollowerPartition {
  topic: string;
  partition: number;
  log: Log;
  /** The leader epoch this broker knows, sent as CurrentLeaderEpoch. */
  leaderEpoch: number;
  /** follower.replication.throttled.replicas lists this replica (replication-quotas.ts); absent: never. */
  throttled?(): boolean;
  /** This broker is in the partition's ISR: a throttle never holds it back. Absent: in sync. */
  inSync?(): boolean;
  /** Truncation through the log manager (which checkpoints the recovery points). */
  truncateTo(offset: number): void;
  truncateFullyAndStartAt(offset: number): void;
}

export interface LeaderEndpoint {
  brokerId: number;
  host: string;
  port: number;
}

export interface ReplicaFetcherOptions {
  /** This broker's id, sent as ReplicaId. */
  replicaId: number;
  leader: LeaderEndpoint;
  /** The login to the leader's SASL listener (sasl.mechanism.inter.broker.protocol); none for PLAINTEXT or SSL. */
  sasl?: SaslCredentials;
  /** TLS to the leader's SSL or SASL_SSL listener, with this broker's own key store; none for plaintext. */
  tls?: PeerTls;
  /** The local address to connect from (this broker's own, e.g. 127.0.0.2). */
  localAddress?: string;
  /** replica.socket.receive.buffer.bytes: the fetch connection's SO_RCVBUF; -1 keeps the OS's. */
  receiveBufferBytes?: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  partitionMaxBytes: number;
  /** After a lost connection, a failed request or a partition's transient error. */
  backoffMs: number;
  requestTimeoutMs: number;
  /** follower.replication.throttled.rate and what counts against it; absent: unthrottled. */
  quota?: ReplicationQuota;
  /** Records were appended to the partition or its high watermark moved. */
  onAppended(topic: string, partition: number): void;
  /** The partition is paused until added or updated again (see PAUSING_ERRORS). */
  onPartitionError(topic: string, partition: number, error: SluiceError): void;
  log?: LogLimiter;
}

/** One add (or update) of a partition; replaced, never reused, by the next. */
interface PartitionState {
  key: string;
  follower: FollowerPartition;
  paused: boolean;
  /** Not fetched before this time (Date.now() ms). */
  delayedUntilMs: number;
}

/** A partition as it was asked for in one Fetch. */
interface Asked {
  state: PartitionState;
  fetchOffset: number;
}

type FetchedPartition = FetchResponseBody['responses'][number]['partitions'][number];

export class ReplicaFetcher {
  readonly leader: LeaderEndpoint;
  /** In fetch order: a partition answered moves to the end, so none starves behind the others. */
  private readonly states = new Map<string, PartitionState>();
  private connection: BrokerConnection | undefined;
  private readonly stopping = new AbortController();
  private readonly stopped: Promise<null>;
  private wakeIdle: (() => void) | undefined;
  private readonly loop: Promise<void>;
  /**
   * The one buffer every Fetch response is read into. An answer is applied synchronously (its
   * batches written to the log as they came) before the next Fetch is sent, and nothing keeps its
   * bytes, so the buffer is free again by then. A fresh 256 KiB-1 MiB frame per response cost
   * page faults on first touch: ~13% of a follower's CPU in bench/cluster.bench.ts.
   */
  private frameBuffer: Buffer | null = null;
  /** The fetch session with the leader (KIP-227), over the current connection. */
  private readonly session = new ReplicaFetchSession();
  private readonly lendFrameBuffer = (sizeBytes: number): Buffer => {
    if (this.frameBuffer === null || this.frameBuffer.length < sizeBytes) this.frameBuffer = Buffer.allocUnsafe(sizeBytes);
    return this.frameBuffer;
  };

  constructor(private readonly options: ReplicaFetcherOptions) {
    if (!Number.isInteger(options.replicaId) || options.replicaId < 0) {
      throw new SluiceError('INVALID_CONFIG', `A replica fetcher needs this broker's id (>= 0), not ${options.replicaId}`);
    }
    if (!(options.requestTimeoutMs > options.maxWaitMs)) {
      // Kafka's rule too (replica.socket.timeout.ms >= replica.fetch.wait.max.ms).
      throw new SluiceError('INVALID_CONFIG', `The request timeout (${options.requestTimeoutMs} ms) must exceed the fetch max wait (${options.maxWaitMs} ms), or every long poll times out`);
    }
    this.leader = { ...options.leader };
    this.stopped = new Promise((resolve) => this.stopping.signal.addEventListener('abort', () => resolve(null), { once: true }));
    this.loop = this.run();
  }

  get isClosed(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Partitions fetched from this leader (paused ones included). */
  get partitionCount(): number {
    return this.states.size;
  }

  /** The partitions as last added or updated. */
  followedPartitions(): FollowerPartition[] {
    return [...this.states.values()].map((state) => state.follower);
  }

  /** Fetches `partition` from its log end, replacing (and resuming) any earlier add of it. */
  addPartition(partition: FollowerPartition): void {
    if (this.isClosed) throw new SluiceError('ENGINE_CLOSED', `The replica fetcher for broker ${this.leader.brokerId} is closed`);
    const key = partitionKey(partition.topic, partition.partition);
    this.states.delete(key);
    this.states.set(key, { key, follower: partition, paused: false, delayedUntilMs: 0 });
    this.wakeIdle?.();
  }

  /** A new leader epoch (or anything else) for a partition already fetched; false when it is not. */
  updatePartition(partition: FollowerPartition): boolean {
    if (!this.states.has(partitionKey(partition.topic, partition.partition))) return false;
    this.addPartition(partition);
    return true;
  }

  /** Stops fetching the partition: an answer in flight for it is dropped. */
  removePartition(topic: string, partition: number): boolean {
    return this.states.delete(partitionKey(topic, partition));
  }

  /** Ends the loop and the connection; resolves once nothing more will be applied. */
  async close(): Promise<void> {
    if (!this.isClosed) {
      this.stopping.abort();
      this.connection?.close();
    }
    await this.loop;
  }

  // ---- the loop ------------------------------------------------------------------------------

  private async run(): Promise<void> {
    while (!this.isClosed) {
      const nowMs = Date.now();
      const fetchable = [...this.states.values()].filter((state) => !state.paused && state.delayedUntilMs <= nowMs);
      if (fetchable.length === 0) {
        await this.idle(this.nextDelayEndMs(nowMs), true);
        continue;
      }
      try {
        await this.fetchOnce(fetchable);
      } catch (error) {
        if (this.isClosed) break;
        this.dropConnection();
        const code = (error as { code?: unknown })?.code ?? 'error';
        this.report('warn', `fetch:${String(code)}`, { error: messageOf(error) }, 'replica fetch failed; retrying after replica.fetch.backoff.ms');
        await this.idle(this.options.backoffMs, false);
      }
    }
    this.dropConnection();
  }

  /** One Fetch for `fetchable` and its answer applied. Throws what fails the request itself. */
  private async fetchOnce(fetchable: PartitionState[]): Promise<void> {
    const connection = await this.connect();
    if (connection === null) return;
    const asked: Asked[] = [];
    // follower.replication.throttled.rate, once a fetch: over it, the throttled partitions this
    // broker is not in the ISR of stay out of the request (Kafka's shouldFollowerThrottle).
    const quota = this.options.quota;
    const overQuota = quota !== undefined && quota.exceeded();
    let held = 0;
    const entries: Array<{ topic: string; entry: FetchPartitionInput }> = [];
    for (const state of fetchable) {
      const { topic, partition, log, leaderEpoch } = state.follower;
      if (overQuota && state.follower.throttled?.() === true && state.follower.inSync?.() === false) {
        quota.held();
        held++;
        continue;
      }
      try {
        const fetchOffset = log.logEndOffset;
        const entry = { partition, currentLeaderEpoch: leaderEpoch, fetchOffset, lastFetchedEpoch: log.latestEpoch, logStartOffset: log.logStartOffset, partitionMaxBytes: this.options.partitionMaxBytes };
        entries.push({ topic, entry });
        asked.push({ state, fetchOffset });
      } catch (error) {
        this.partitionFailed(state, error);
      }
    }
    if (asked.length === 0) {
      // Only throttled partitions, all held: Kafka's fetcher backs off replica.fetch.backoff.ms
      // when it has nothing to ask, and the rate falls meanwhile.
      if (held > 0) await this.idle(this.options.backoffMs, true);
      return;
    }
    const request: FetchRequestInput = {
      replicaId: this.options.replicaId,
      maxWaitMs: this.options.maxWaitMs,
      minBytes: this.options.minBytes,
      maxBytes: this.options.maxBytes,
      isolationLevel: READ_UNCOMMITTED,
      // The session (KIP-227): every partition at first, then only what changed and what went.
      ...this.session.build(entries),
      rackId: '',
    };
    let response: FetchResponseBody;
    try {
      response = await connection.request<FetchResponseBody>(ApiKey.Fetch, request, REPLICA_FETCH_VERSION, { frameBuffer: this.lendFrameBuffer });
    } catch (error) {
      this.session.reset();
      throw error;
    }
    if (this.isClosed) return;
    // The leader lost the session (evicted, restarted): the next fetch, at once, is a full one.
    if (!this.session.answered(response.errorCode, response.sessionId)) return;
    if (response.errorCode !== KafkaErrorCode.NONE) {
      const name = kafkaErrorName(response.errorCode);
      throw new SluiceError(name, `Broker ${this.leader.brokerId} answered the replica fetch with ${name}`);
    }
    const byKey = new Map(asked.map((entry) => [entry.state.key, entry]));
    const outOfRange: Array<{ entry: Asked; answer: FetchedPartition }> = [];
    for (const topicResponse of response.responses) {
      for (const answer of topicResponse.partitions) {
        const entry = byKey.get(partitionKey(topicResponse.topic, answer.partitionIndex));
        if (entry === undefined || !this.isCurrent(entry)) continue;
        if (answer.errorCode === KafkaErrorCode.OFFSET_OUT_OF_RANGE) outOfRange.push({ entry, answer });
        else this.apply(entry, answer);
      }
    }
    for (const { entry, answer } of outOfRange) await this.handleOutOfRange(connection, entry, answer);
  }

  /** The partition is still fetched as it was asked, at the log end it was asked from. */
  private isCurrent({ state, fetchOffset }: Asked): boolean {
    return !this.isClosed && this.states.get(state.key) === state && !state.paused && state.follower.log.logEndOffset === fetchOffset;
  }

  /** One partition's answer (all but OFFSET_OUT_OF_RANGE), applied synchronously. */
  private apply({ state }: Asked, answer: FetchedPartition): void {
    const { topic, partition, log } = state.follower;
    try {
      if (answer.errorCode !== KafkaErrorCode.NONE) {
        const name = kafkaErrorName(answer.errorCode);
        throw new SluiceError(name, `Broker ${this.leader.brokerId} answered ${name} for ${topic}-${partition}`);
      }
      // Kafka's rule: an epoch below 0 is no DivergingEpoch (-1 is the tagged field's default).
      if (answer.divergingEpoch !== undefined && answer.divergingEpoch.epoch >= 0) {
        this.truncateOnDivergence(state, answer.divergingEpoch);
        return;
      }
      const highWatermarkBefore = log.highWatermark;
      const appended = answer.records !== null && answer.records.length > 0 && log.appendAsFollower(answer.records).batchCount > 0;
      // Every byte of a throttled partition counts, in the ISR or not, so the total stays under the rate.
      if (appended && state.follower.throttled?.() === true) this.options.quota?.record(answer.records!.length);
      if (answer.highWatermark >= 0) log.updateHighWatermark(Math.min(answer.highWatermark, log.logEndOffset));
      // The leader's log start moved (retention, DeleteRecords): ours follows, below our high watermark.
      if (answer.logStartOffset > log.logStartOffset && answer.logStartOffset <= log.highWatermark) log.deleteRecordsBefore(answer.logStartOffset);
      this.moveToEnd(state);
      if (appended || log.highWatermark !== highWatermarkBefore) this.notify(() => this.options.onAppended(topic, partition));
    } catch (error) {
      this.partitionFailed(state, error);
    }
  }

  /** DivergingEpoch: cut our log back to where it agrees with the leader's; the next fetch goes on from there. */
  private truncateOnDivergence(state: PartitionState, diverging: EpochEndOffset): void {
    const { topic, partition, log } = state.follower;
    const endBefore = log.logEndOffset;
    const epochBefore = log.latestEpoch;
    const truncation = truncationFor({ endOffsetFor: (epoch) => log.endOffsetForEpoch(epoch) }, endBefore, log.highWatermark, diverging);
    state.follower.truncateTo(truncation.offset);
    this.report('info', `diverged:${topic}-${partition}`, { topic, partition, divergingEpoch: diverging, from: endBefore, to: log.logEndOffset }, 'truncated a diverging follower log');
    if (log.logEndOffset === endBefore && log.latestEpoch === epochBefore) {
      // The leader would answer the same again: ask after a backoff rather than at once, forever.
      this.delay(state);
      this.report('warn', `diverged-again:${topic}-${partition}`, { topic, partition, divergingEpoch: diverging, logEndOffset: endBefore }, 'the leader answered DivergingEpoch, but truncating changed nothing');
    }
  }

  /**
   * OFFSET_OUT_OF_RANGE (Kafka's handleOutOfRangeError): below the leader's log start, our log
   * starts over empty there; past its log end (an unclean leader), ours is cut to it.
   */
  private async handleOutOfRange(connection: BrokerConnection, entry: Asked, answer: FetchedPartition): Promise<void> {
    if (!this.isCurrent(entry)) return;
    const { state } = entry;
    const { topic, partition, log } = state.follower;
    try {
      if (answer.logStartOffset >= 0 && entry.fetchOffset < answer.logStartOffset) {
        state.follower.truncateFullyAndStartAt(answer.logStartOffset);
        this.report('info', `out-of-range:${topic}-${partition}`, { topic, partition, from: entry.fetchOffset, leaderLogStartOffset: answer.logStartOffset }, 'follower log restarted at the leader\'s log start');
        return;
      }
    } catch (error) {
      this.partitionFailed(state, error);
      return;
    }
    // A failure of the request itself is the connection's: it goes up to the loop.
    const leaderEndOffset = await this.leaderLogEndOffset(connection, state.follower);
    if (!this.isCurrent(entry)) return;
    try {
      if (typeof leaderEndOffset !== 'number') throw leaderEndOffset;
      if (leaderEndOffset < log.logEndOffset) {
        state.follower.truncateTo(leaderEndOffset);
        this.report('warn', `out-of-range:${topic}-${partition}`, { topic, partition, from: entry.fetchOffset, leaderLogEndOffset: leaderEndOffset }, 'follower log truncated to the leader\'s log end');
      } else {
        // Our offset is within the leader's log by now: fetch it again, after a backoff.
        this.delay(state);
      }
    } catch (error) {
      this.partitionFailed(state, error);
    }
  }

  /** ListOffsets "latest" with our replica id: the leader's log end offset, or the partition's error. */
  private async leaderLogEndOffset(connection: BrokerConnection, follower: FollowerPartition): Promise<number | SluiceError> {
    const response = await connection.request(ApiKey.ListOffsets, {
      replicaId: this.options.replicaId,
      isolationLevel: READ_UNCOMMITTED,
      topics: [{ name: follower.topic, partitions: [{ partitionIndex: follower.partition, currentLeaderEpoch: follower.leaderEpoch, timestamp: LATEST_TIMESTAMP, maxNumOffsets: 1 }] }],
    });
    const answer = response.topics?.[0]?.partitions?.[0];
    if (!answer) return new SluiceError('UNKNOWN_SERVER_ERROR', `Broker ${this.leader.brokerId} did not answer ListOffsets for ${follower.topic}-${follower.partition}`);
    if (answer.errorCode !== KafkaErrorCode.NONE) {
      const name = kafkaErrorName(answer.errorCode);
      return new SluiceError(name, `Broker ${this.leader.brokerId} answered ListOffsets for ${follower.topic}-${follower.partition} with ${name}`);
    }
    return (answer.offset as number | undefined) ?? (answer.oldStyleOffsets as number[] | undefined)?.[0] ?? -1;
  }

  // ---- partition errors ----------------------------------------------------------------------

  /** Pauses and reports the partition for the errors the replica manager must act on; delays it otherwise. */
  private partitionFailed(state: PartitionState, error: unknown): void {
    const { topic, partition } = state.follower;
    const failure = asSluiceError(error);
    if (PAUSING_ERRORS.has(failure.code)) {
      state.paused = true;
      this.report('info', `paused:${failure.code}:${topic}-${partition}`, { topic, partition, error: failure.message }, 'replica fetch of a partition paused');
      this.notify(() => this.options.onPartitionError(topic, partition, failure));
      return;
    }
    this.delay(state);
    this.report('warn', `partition:${failure.code}:${topic}-${partition}`, { topic, partition, error: failure.message }, 'replica fetch of a partition failed; retrying after replica.fetch.backoff.ms');
  }

  private delay(state: PartitionState): void {
    state.delayedUntilMs = Date.now() + this.options.backoffMs;
  }

  private moveToEnd(state: PartitionState): void {
    if (this.states.get(state.key) !== state) return;
    this.states.delete(state.key);
    this.states.set(state.key, state);
  }

  /** The earliest end of a partition's delay, as a wait from `nowMs`; undefined when none is delayed. */
  private nextDelayEndMs(nowMs: number): number | undefined {
    let earliest = Infinity;
    for (const state of this.states.values()) if (!state.paused && state.delayedUntilMs > nowMs) earliest = Math.min(earliest, state.delayedUntilMs);
    return earliest === Infinity ? undefined : earliest - nowMs;
  }

  // ---- connection ----------------------------------------------------------------------------

  /** The open connection to the leader, or a new one; null once closing. */
  private async connect(): Promise<BrokerConnection | null> {
    if (this.connection !== undefined && !this.connection.isClosed) return this.connection;
    this.dropConnection();
    const { host, port, brokerId } = this.leader;
    const connecting = BrokerConnection.connect({
      host,
      port,
      localAddress: this.options.localAddress,
      sasl: this.options.sasl,
      tls: this.options.tls?.(),
      clientId: `sluice-replica-fetcher-${this.options.replicaId}`,
      requestTimeoutMs: this.options.requestTimeoutMs,
      receiveBufferBytes: this.options.receiveBufferBytes,
    });
    // close() does not wait for a connect to finish: the connection is closed when it does.
    connecting.then((connection) => this.isClosed && connection.close(), () => {});
    const connection = await Promise.race([connecting, this.stopped]);
    if (connection === null || this.isClosed) {
      connection?.close();
      return null;
    }
    const version = connection.versionOf(ApiKey.Fetch);
    if (version === undefined || version < REPLICA_FETCH_VERSION) {
      connection.close();
      throw new SluiceError('UNSUPPORTED_VERSION', `Broker ${brokerId} at ${host}:${port} serves Fetch up to v${version ?? 'none'}; followers need v${REPLICA_FETCH_VERSION}`);
    }
    this.connection = connection;
    return connection;
  }

  private dropConnection(): void {
    this.connection?.close();
    this.connection = undefined;
    this.session.reset();
  }

  // ---- waiting and reporting -----------------------------------------------------------------

  /** Waits `ms` (undefined: no limit), until close(), and, if `wakeable`, until a partition is added. */
  private idle(ms: number | undefined, wakeable: boolean): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    const signal = this.stopping.signal;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        if (this.wakeIdle === done) this.wakeIdle = undefined;
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      timer?.unref();
      signal.addEventListener('abort', done, { once: true });
      if (wakeable) this.wakeIdle = done;
    });
  }

  /** Runs a caller's callback; what it throws is logged, never let into the loop. */
  private notify(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.report('error', 'callback', { error: messageOf(error) }, 'a replica fetcher callback threw');
    }
  }

  private report(level: 'error' | 'warn' | 'info' | 'debug', cause: string, fields: Record<string, unknown>, message: string): void {
    this.options.log?.log(level, `replica-fetcher:${this.leader.brokerId}:${cause}`, { leaderId: this.leader.brokerId, ...fields }, message);
  }
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** A SluiceError as it is, an errno from our own log as KAFKA_STORAGE_ERROR, anything else as UNKNOWN_SERVER_ERROR. */
function asSluiceError(error: unknown): SluiceError {
  if (error instanceof SluiceError) return error;
  return new SluiceError(kafkaErrorName(errorCodeOf(error)), messageOf(error), { cause: error });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
