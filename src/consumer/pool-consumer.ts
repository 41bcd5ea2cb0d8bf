// A consumer whose handler runs on a piscina worker pool: fetching, ordering, commits and
// rebalances stay on the main thread, per batch; decoding and the handler run in the workers.
//
//   const consumer = new PoolConsumer({
//     brokers: ['localhost:9092'],            // or engine: anEngine (embedded, no broker)
//     groupId: 'billing', topics: ['events'],
//     handler: new URL('./handle-batch.js', import.meta.url),
//     concurrency: 4,
//   });
//   consumer.on('error', (error) => ...);
//   await consumer.start();                   // joined, first assignment in
//   await consumer.stop();                    // drains, commits, leaves the group
//
// Guarantees:
// - Order: at most one batch of a partition is in a worker at a time, so a partition's records
//   are handled in offset order; different partitions run in parallel, up to `concurrency`.
// - At least once: a partition's commit is the end of its last completed batch (batches of a
//   partition complete in order), committed every autoCommitIntervalMs, on revoke and on stop.
//   A crash repeats at most the batches completed since the last commit, and those in flight.
// - Handler errors: retried `retries` times with exponential backoff (retryBackoffMs, x2 each
//   time), then onError(error, batch). If onError returns, the batch counts as done. If it throws,
//   or there is no onError, the partition stops (others go on), 'error' is emitted with a
//   HandlerError, and its commit stays before the failed batch: the partition is tried again from
//   there when it is next assigned (a rebalance or a restart). As with Node streams, an 'error'
//   event without a listener is thrown.
// - Memory: a partition holds at most one batch in flight and one read ahead (each at most
//   partitionMaxBytes, or one RecordBatch when a single batch is larger), and reads stop while
//   the bytes held reach maxBufferedBytes or the pool already has a queue of `concurrency`
//   batches waiting. So bufferedBytes <= maxBufferedBytes + one read, whatever the producer's rate.
import { EventEmitter } from 'node:events';
import os from 'node:os';
import type { Piscina } from 'piscina';

import type { Assignor, AssignorName } from '../client/assignors.js';
import type { CommitOffset, RevokeReason, TopicPartition } from '../client/group-member.js';
import type { Engine } from '../engine/engine.js';
import { SluiceError } from '../errors.js';
import { decodeRecords, deserializeError, type PoolBatch, type WorkerResult, type WorkerTask } from './batch.js';
import { BrokerSource } from './broker-source.js';
import { EngineSource } from './engine-source.js';
import { createPool, handlerUrl } from './pool.js';
import { Doorbell, keyOf, type Chunk, type FetchedPartition, type Source, type WantedPartition } from './source.js';
import type { ClientSocketOptions } from '../client/client.js';
import type { SaslCredentials } from '../client/sasl.js';
import type { TlsOptions } from '../client/tls-config.js';

/**
 * Broker mode also takes the client's socket configs (ClientSocketOptions): connectTimeoutMs and
 * connectTimeoutMaxMs (socket.connection.setup.timeout.ms and .max.ms), sendBufferBytes and
 * receiveBufferBytes (send.buffer.bytes, receive.buffer.bytes) and idleTimeoutMs
 * (connections.max.idle.ms).
 */
export interface PoolConsumerOptions extends ClientSocketOptions {
  /** Bootstrap brokers (`host:port`): consume as a member of a consumer group. */
  brokers?: string[];
  /** Log in to the brokers with SASL (a SASL_PLAINTEXT listener): `{ mechanism: 'PLAIN', username, password }`. */
  sasl?: SaslCredentials;
  /** Speak TLS to the brokers (an SSL or SASL_SSL listener): `tlsOptions({ 'ssl.truststore.location': ... })`. */
  tls?: TlsOptions;
  /** Or an embedded engine: every partition of the topics, offsets kept in its data directory. */
  engine?: Engine;
  groupId: string;
  topics: string[];
  /** Module run in the workers: its default export (or `handle`) gets one PoolBatch per call. */
  handler: URL | string;
  /** Worker threads, and so batches handled at once (default: available cores). */
  concurrency?: number;
  /** auto.offset.reset: where a partition without a commit starts (default 'latest', as Kafka). */
  autoOffsetReset?: 'earliest' | 'latest';
  /** auto.commit.interval.ms (default 5000). */
  autoCommitIntervalMs?: number;
  /** Attempts after a handler failure (default 3). */
  retries?: number;
  /** First retry delay, doubled each time (default 100 ms). */
  retryBackoffMs?: number;
  /** Called once a batch has failed every retry; return to skip it, throw to stop its partition. */
  onError?: (error: HandlerError, batch: PoolBatch) => void | Promise<void>;
  /** max.partition.fetch.bytes: the most bytes one batch (handler call) of a partition holds (default 1 MiB). */
  partitionMaxBytes?: number;
  /** Bytes fetched but not yet handled, across partitions, before fetching pauses (default 32 MiB). */
  maxBufferedBytes?: number;
  /** fetch.max.wait.ms of the long poll (default 500). */
  maxWaitMs?: number;
  /**
   * client.rack (broker mode, KIP-392): a leader whose brokers set replica.selector.class sends
   * this consumer to the in-sync replica in its rack, which it then reads from.
   */
  clientRack?: string;
  /**
   * isolation.level (default 'read_uncommitted', as Kafka's consumer): 'read_committed'
   * reads each partition to its last stable offset and hands no record of an aborted transaction
   * to the handler.
   */
  isolationLevel?: 'read_uncommitted' | 'read_committed';
  /** Group membership (broker mode); see GroupMemberOptions. */
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  groupInstanceId?: string | null;
  assignors?: ReadonlyArray<AssignorName | Assignor>;
  /** group.protocol: 'classic' (the default) or 'consumer' (KIP-848: the broker assigns, with serverAssignor). */
  groupProtocol?: 'classic' | 'consumer';
  serverAssignor?: string | null;
  /**
   * metadata.max.age.ms (broker mode, default 300000): how often the group's leader looks for
   * partitions added to the topics (CreatePartitions) or topics created after it subscribed, and
   * rebalances so that they are read.
   */
  metadataMaxAgeMs?: number;
  clientId?: string;
  /** Passed to the workers (`workerData` of node:worker_threads in the handler module). */
  workerData?: unknown;
  /** Extra Node flags for the workers (e.g. a loader for a handler in another language). */
  execArgv?: string[];
}

export interface PoolConsumerMetrics {
  /** Records handed to the handler and completed (including batches skipped by onError). */
  recordsProcessed: number;
  batchesProcessed: number;
  /** Handler attempts that failed (each retry counts). */
  handlerFailures: number;
  /** Batches that failed every retry (then went to onError). */
  batchesFailed: number;
  /** Bytes fetched and not yet handled, now and at most. */
  bufferedBytes: number;
  bufferedBytesMax: number;
  /** Times fetching waited for the pool (bytes or queue full). */
  fetchPauses: number;
  commits: number;
  commitFailures: number;
  assignedPartitions: number;
}

/** A batch that failed every attempt; `cause` is the handler's error. */
export class HandlerError extends Error {
  readonly topic: string;
  readonly partition: number;
  /** The batch's first offset (the position it was read from) and the offset after it. */
  readonly startOffset: number;
  readonly nextOffset: number;
  readonly attempts: number;

  constructor(fields: { topic: string; partition: number; startOffset: number; nextOffset: number; attempts: number; cause: Error }) {
    super(`Handler failed ${fields.attempts} time(s) on ${fields.topic}-${fields.partition} offsets [${fields.startOffset}, ${fields.nextOffset}): ${fields.cause.message}`, {
      cause: fields.cause,
    });
    this.name = 'HandlerError';
    this.topic = fields.topic;
    this.partition = fields.partition;
    this.startOffset = fields.startOffset;
    this.nextOffset = fields.nextOffset;
    this.attempts = fields.attempts;
  }
}

class PartitionState {
  readonly key: string;
  /** The next offset to read. */
  position: number;
  /** The offset after the last completed batch: what a commit would store. */
  completed: number;
  /** What the source has stored (-1: nothing yet, or not known). */
  committed = -1;
  inFlight: Chunk | null = null;
  ready: Chunk | null = null;
  /** Handed back (revoke or stop): no more reads or dispatches. */
  closing = false;
  /** Stopped by a failed batch (until it is next assigned). */
  failed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly topic: string,
    readonly partition: number,
    position: number,
  ) {
    this.key = keyOf(topic, partition);
    this.position = position;
    this.completed = position;
  }

  get wantsData(): boolean {
    return !this.closing && !this.failed && this.ready === null;
  }

  /** Resolves once no batch of this partition is in a worker (or retrying). */
  idle(): Promise<void> {
    if (this.inFlight === null) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  settle(): void {
    this.inFlight = null;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }
}

export interface PoolConsumerEvents {
  assigned: [partitions: TopicPartition[]];
  revoked: [partitions: TopicPartition[]];
  error: [error: Error];
}

/** Options of the broker mode: group membership, fetch long polls, metadata and the client's name. */
const BROKER_ONLY_OPTIONS = [
  'maxWaitMs',
  'clientRack',
  'sessionTimeoutMs',
  'rebalanceTimeoutMs',
  'heartbeatIntervalMs',
  'groupInstanceId',
  'assignors',
  'groupProtocol',
  'serverAssignor',
  'metadataMaxAgeMs',
  'clientId',
  'connectTimeoutMs',
  'connectTimeoutMaxMs',
  'sendBufferBytes',
  'receiveBufferBytes',
  'idleTimeoutMs',
] as const satisfies ReadonlyArray<keyof PoolConsumerOptions>;

export class PoolConsumer extends EventEmitter<PoolConsumerEvents> {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly concurrency: number;
  private readonly options: PoolConsumerOptions;
  private readonly handler: string;
  private readonly retries: number;
  private readonly retryBackoffMs: number;
  private readonly autoCommitIntervalMs: number;
  private readonly maxBufferedBytes: number;
  private readonly source: Source;
  private readonly states = new Map<string, PartitionState>();
  private readonly doorbell = new Doorbell();
  private readonly stats: PoolConsumerMetrics = {
    recordsProcessed: 0,
    batchesProcessed: 0,
    handlerFailures: 0,
    batchesFailed: 0,
    bufferedBytes: 0,
    bufferedBytesMax: 0,
    fetchPauses: 0,
    commits: 0,
    commitFailures: 0,
    assignedPartitions: 0,
  };
  private pool: Piscina | undefined;
  private running = false;
  private started: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  private fetching: Promise<void> | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();

  constructor(options: PoolConsumerOptions) {
    super();
    if ((options.brokers === undefined) === (options.engine === undefined)) throw new SluiceError('INVALID_CONFIG', 'PoolConsumer needs either brokers or engine');
    if (typeof options.groupId !== 'string' || options.groupId === '') throw new SluiceError('INVALID_GROUP_ID', 'groupId must be a non-empty string');
    if (!Array.isArray(options.topics) || options.topics.length === 0) throw new SluiceError('INVALID_CONFIG', 'topics must name at least one topic');
    if (options.handler === undefined) throw new SluiceError('INVALID_CONFIG', 'handler must be the URL or path of a module');
    if (options.engine !== undefined) {
      // Nothing of a broker, a group or a long poll exists with an engine: such an option would do nothing.
      const brokerOnly = BROKER_ONLY_OPTIONS.filter((name) => options[name] !== undefined);
      if (brokerOnly.length > 0) throw new SluiceError('INVALID_CONFIG', `${brokerOnly.join(', ')} apply only with brokers, not with engine`);
    }
    if (options.isolationLevel !== undefined && options.isolationLevel !== 'read_uncommitted' && options.isolationLevel !== 'read_committed') {
      throw new SluiceError('INVALID_CONFIG', `isolationLevel must be 'read_uncommitted' or 'read_committed', got ${JSON.stringify(options.isolationLevel)}`);
    }
    this.options = options;
    this.groupId = options.groupId;
    this.topics = [...options.topics];
    this.concurrency = positiveInteger(options.concurrency ?? os.availableParallelism(), 'concurrency');
    this.handler = handlerUrl(options.handler);
    this.retries = options.retries ?? 3;
    this.retryBackoffMs = options.retryBackoffMs ?? 100;
    this.autoCommitIntervalMs = positiveInteger(options.autoCommitIntervalMs ?? 5000, 'autoCommitIntervalMs');
    this.maxBufferedBytes = positiveInteger(options.maxBufferedBytes ?? 32 * 1024 * 1024, 'maxBufferedBytes');
    const partitionMaxBytes = positiveInteger(options.partitionMaxBytes ?? 1024 * 1024, 'partitionMaxBytes');
    const autoOffsetReset = options.autoOffsetReset ?? 'latest';
    this.source = options.engine
      ? new EngineSource({ engine: options.engine, groupId: options.groupId, topics: this.topics as string[], autoOffsetReset, partitionMaxBytes, isolationLevel: options.isolationLevel })
      : new BrokerSource({
          brokers: options.brokers!,
          sasl: options.sasl,
          tls: options.tls,
          clientId: options.clientId,
          groupId: options.groupId,
          topics: this.topics as string[],
          sessionTimeoutMs: options.sessionTimeoutMs,
          rebalanceTimeoutMs: options.rebalanceTimeoutMs,
          heartbeatIntervalMs: options.heartbeatIntervalMs,
          groupInstanceId: options.groupInstanceId,
          assignors: options.assignors,
          groupProtocol: options.groupProtocol,
          serverAssignor: options.serverAssignor,
          metadataMaxAgeMs: options.metadataMaxAgeMs,
          autoOffsetReset,
          partitionMaxBytes,
          maxWaitMs: options.maxWaitMs ?? 500,
          clientRack: options.clientRack,
          isolationLevel: options.isolationLevel,
          connectTimeoutMs: options.connectTimeoutMs,
          connectTimeoutMaxMs: options.connectTimeoutMaxMs,
          sendBufferBytes: options.sendBufferBytes,
          receiveBufferBytes: options.receiveBufferBytes,
          idleTimeoutMs: options.idleTimeoutMs,
        });
  }

  /** Counters and gauges, a snapshot. */
  get metrics(): PoolConsumerMetrics {
    return { ...this.stats, assignedPartitions: this.states.size };
  }

  /** The partitions this consumer holds now. */
  get assignment(): TopicPartition[] {
    return [...this.states.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /**
   * The broker a partition is read from instead of its leader, or -1 (the leader; always with an
   * engine): Kafka's consumer reports it as the preferred-read-replica metric. A leader names one
   * for a consumer that gives clientRack when its brokers set replica.selector.class (KIP-392).
   */
  preferredReadReplica(topic: string, partition: number): number {
    return this.source instanceof BrokerSource ? this.source.preferredReadReplica(topic, partition) : -1;
  }

  /** The group member (broker mode), for tools and tests. */
  get groupMember() {
    return this.source instanceof BrokerSource ? this.source.groupMember : undefined;
  }

  /** Starts the workers (the handler module is loaded once to fail fast), joins, and starts fetching. */
  start(): Promise<void> {
    this.started ??= this.open();
    return this.started;
  }

  private async open(): Promise<void> {
    const pool = createPool({ handler: this.options.handler, concurrency: this.concurrency, workerData: this.options.workerData, execArgv: this.options.execArgv });
    this.pool = pool;
    try {
      await pool.run({ probe: true, handler: this.handler });
      this.running = true;
      await this.source.start({
        assigned: (partitions) => this.onAssigned(partitions),
        revoking: (partitions, reason) => this.onRevoking(partitions, reason),
        failed: (error) => void this.onSourceFailed(error),
      });
    } catch (error) {
      this.running = false;
      this.pool = undefined;
      await pool.destroy();
      throw error;
    }
    this.fetching = this.fetchLoop();
    this.commitTimer = setInterval(() => void this.commit(), this.autoCommitIntervalMs);
  }

  /** Stops fetching, lets in-flight batches finish, commits, leaves the group, ends the workers. */
  stop(): Promise<void> {
    this.stopped ??= this.close();
    return this.stopped;
  }

  private async close(): Promise<void> {
    if (this.started) await this.started.catch(() => {});
    if (!this.pool) return;
    this.running = false;
    clearInterval(this.commitTimer);
    this.doorbell.ring();
    try {
      await this.source.stop(); // revokes everything through onRevoking: drain, commit
    } finally {
      await this.fetching;
      await this.committing;
      await this.pool.destroy();
    }
  }

  // ---- assignment ---------------------------------------------------------------------------

  private async onAssigned(partitions: TopicPartition[]): Promise<void> {
    // The member counts these as held once this returns: a passing failure (a leader moving, the
    // coordinator loading) is retried here rather than leaving partitions held and never read.
    let positions: Map<string, number>;
    for (let attempt = 0; ; attempt++) {
      try {
        positions = await this.source.startPositions(partitions);
        break;
      } catch (error) {
        if (attempt >= 5 || !this.running) throw error;
        await sleep(this.retryBackoffMs * 2 ** attempt);
      }
    }
    for (const { topic, partition } of partitions) {
      const state = new PartitionState(topic, partition, positions.get(keyOf(topic, partition))!);
      this.states.set(state.key, state);
    }
    this.emit('assigned', partitions);
    this.doorbell.ring();
  }

  /** Drains the partitions' in-flight batches, commits them (unless lost), then lets them go. */
  private async onRevoking(partitions: TopicPartition[], reason: RevokeReason): Promise<void> {
    const states = partitions.map(({ topic, partition }) => this.states.get(keyOf(topic, partition))).filter((s): s is PartitionState => s !== undefined);
    for (const state of states) {
      state.closing = true;
      this.dropReady(state);
    }
    await Promise.all(states.map((state) => state.idle()));
    if (reason !== 'lost') await this.commit(states);
    for (const state of states) this.states.delete(state.key);
    if (states.length > 0) this.emit('revoked', states.map(({ topic, partition }) => ({ topic, partition })));
  }

  private async onSourceFailed(error: Error): Promise<void> {
    // The membership is gone (fenced, ...): finish what is in the workers, commit nothing.
    const partitions = this.assignment;
    await this.onRevoking(partitions, 'lost');
    this.running = false;
    this.doorbell.ring();
    this.fail(error);
  }

  // ---- fetching -----------------------------------------------------------------------------

  private async fetchLoop(): Promise<void> {
    while (this.running) {
      const budget = this.maxBufferedBytes - this.stats.bufferedBytes;
      const wanted: WantedPartition[] = [];
      for (const state of this.states.values()) if (state.wantsData) wanted.push({ topic: state.topic, partition: state.partition, position: state.position });
      if (wanted.length === 0 || budget <= 0 || this.pool!.queueSize >= this.concurrency) {
        if (wanted.length > 0) this.stats.fetchPauses++;
        await this.doorbell.wait();
        continue;
      }
      let fetched: FetchedPartition[];
      try {
        fetched = await this.source.fetch(wanted, budget, this.doorbell);
      } catch (error) {
        if (!this.running) break;
        // A broker gone or restarting: try again shortly, as Kafka's consumer does.
        await sleep(this.retryBackoffMs);
        continue;
      }
      for (const result of fetched) this.accept(result);
    }
  }

  private accept(result: FetchedPartition): void {
    const state = this.states.get(keyOf(result.topic, result.partition));
    // Revoked, reset or already read meanwhile: a stale answer.
    if (!state || !state.wantsData || state.position !== result.position) return;
    if (result.resetTo !== undefined) {
      state.position = result.resetTo;
      if (state.inFlight === null) state.completed = result.resetTo;
      return;
    }
    const chunk = result.chunk!;
    state.position = chunk.nextOffset;
    this.stats.bufferedBytes += chunk.bytes.byteLength;
    if (this.stats.bufferedBytes > this.stats.bufferedBytesMax) this.stats.bufferedBytesMax = this.stats.bufferedBytes;
    if (state.inFlight === null) this.dispatch(state, chunk);
    else state.ready = chunk;
  }

  private dropReady(state: PartitionState): void {
    if (state.ready) this.stats.bufferedBytes -= state.ready.bytes.byteLength;
    state.ready = null;
  }

  // ---- the pool -----------------------------------------------------------------------------

  private dispatch(state: PartitionState, chunk: Chunk): void {
    state.inFlight = chunk;
    void this.handle(state, chunk).then(() => {
      this.stats.bufferedBytes -= chunk.bytes.byteLength;
      state.settle();
      const next = state.ready;
      if (next && !state.closing && !state.failed) {
        state.ready = null;
        this.dispatch(state, next);
      }
      this.doorbell.ring();
    });
  }

  /** Runs one batch to its end: success, retries, onError or a stopped partition. Never throws. */
  private async handle(state: PartitionState, chunk: Chunk): Promise<void> {
    if (!chunk.needsHandler) {
      state.completed = chunk.nextOffset;
      return;
    }
    const task: WorkerTask = { handler: this.handler, topic: state.topic, partition: state.partition, startOffset: chunk.startOffset, bytes: chunk.bytes, skipCrc: this.source.skipCrc };
    let lastError: Error | undefined;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await sleep(this.retryBackoffMs * 2 ** (attempt - 1));
      let result: WorkerResult;
      try {
        result = (await this.pool!.run(task)) as WorkerResult;
      } catch (error) {
        // The worker died (or the batch does not decode): the same bytes go again.
        result = { records: 0, error: { name: (error as Error).name ?? 'Error', message: (error as Error).message ?? String(error), stack: (error as Error).stack } };
      }
      if (!result.error) {
        state.completed = chunk.nextOffset;
        this.stats.recordsProcessed += result.records;
        this.stats.batchesProcessed++;
        return;
      }
      this.stats.handlerFailures++;
      lastError = deserializeError(result.error);
    }
    this.stats.batchesFailed++;
    const error = new HandlerError({ topic: state.topic, partition: state.partition, startOffset: chunk.startOffset, nextOffset: chunk.nextOffset, attempts: this.retries + 1, cause: lastError! });
    if (this.options.onError) {
      try {
        const records = decodeRecords(chunk.bytes, chunk.startOffset, this.source.skipCrc);
        await this.options.onError(error, { topic: state.topic, partition: state.partition, records });
        state.completed = chunk.nextOffset;
        this.stats.recordsProcessed += records.length;
        this.stats.batchesProcessed++;
        return;
      } catch (hookError) {
        this.stopPartition(state, hookError instanceof Error ? hookError : new Error(String(hookError)));
        return;
      }
    }
    this.stopPartition(state, error);
  }

  private stopPartition(state: PartitionState, error: Error): void {
    state.failed = true;
    this.dropReady(state);
    this.fail(error);
  }

  private fail(error: Error): void {
    // Thrown when nobody listens, as an EventEmitter does, but outside our promise chains.
    process.nextTick(() => this.emit('error', error));
  }

  // ---- commits ------------------------------------------------------------------------------

  /** Commits what completed since the last commit; one commit at a time. */
  private commit(states: Iterable<PartitionState> = this.states.values()): Promise<void> {
    const due = [...states].filter((s) => s.completed > s.committed && s.completed >= 0);
    const run = this.committing.then(async () => {
      const offsets: CommitOffset[] = [];
      const marks = due.map((state) => ({ state, offset: state.completed }));
      for (const { state, offset } of marks) if (offset > state.committed) offsets.push({ topic: state.topic, partition: state.partition, offset });
      if (offsets.length === 0) return;
      try {
        await this.source.commit(offsets);
        for (const { state, offset } of marks) state.committed = Math.max(state.committed, offset);
        this.stats.commits++;
      } catch {
        // A rebalance or a lost membership: the batches since the last commit may be handled again.
        this.stats.commitFailures++;
      }
    });
    this.committing = run;
    return run;
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new SluiceError('INVALID_CONFIG', `${name} must be a positive integer, got ${value}`);
  return value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
