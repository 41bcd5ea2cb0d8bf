// Kafka's transaction coordinator (KIP-98, the version 1 protocol): for each transactional id, its
// producer id and epoch, and the transaction it has open, moved through Kafka's states
//   Empty -> Ongoing (AddPartitionsToTxn, AddOffsetsToTxn)
//         -> PrepareCommit | PrepareAbort (EndTxn, a timeout, or InitProducerId fencing an open one)
//         -> CompleteCommit | CompleteAbort once every partition has its marker -> Ongoing ...
// Every transition is a record in __transaction_state (transaction-log-format.ts), appended before
// the state in memory changes, so a restarted broker, or the next leader of the id's partition in
// a cluster, takes over where the last left: a transaction found in PrepareCommit or PrepareAbort
// gets its markers written again (markers are idempotent: a second COMMIT ends nothing), and one
// found Ongoing is aborted when it times out.
// One operation runs at a time for an id; a request arriving meanwhile gets CONCURRENT_TRANSACTIONS,
// which clients retry (Kafka's pendingState). EndTxn is answered once its markers are written, or,
// when a partition's leader cannot take its marker yet, once the decision (PrepareCommit or
// PrepareAbort) is durable: the markers are then retried every MARKER_RETRY_MS until they land,
// and the id's next transaction waits for them (CONCURRENT_TRANSACTIONS).
import { KafkaErrorCode, SluiceError, type SluiceErrorName } from '../../errors.js';
import type { TransactionMarker } from '../../record/control-record.js';
import type { OffsetStore } from '../group/offset-store.js';
import type { TransactionCoordinatorConfig } from './config.js';
import {
  decodeTransactionLogKey,
  decodeTransactionLogValue,
  encodeTransactionLogKey,
  encodeTransactionLogValue,
  type TransactionLogRecord,
  type TransactionStatus,
} from './transaction-log-format.js';

/** Kafka's producer epoch is an int16: at its last value the coordinator moves to a new producer id. */
const EPOCH_MAX = 32767;
/** How often markers a partition's leader refused are tried again. */
const MARKER_RETRY_MS = 500;

/** Writes one transaction marker to a partition's leader, and resolves once it is durable there (acks=all). */
export interface MarkerWriter {
  write(topic: string, partition: number, marker: TransactionMarker): Promise<void>;
}

export interface TransactionCoordinatorHost {
  /** The __transaction_state store (OffsetStore over that topic). */
  store: OffsetStore;
  /** Whether this broker coordinates the ids of a __transaction_state partition (a single broker: always). */
  leads(partition: number): boolean;
  /** The coordinator epoch written into markers: the partition's leader epoch, 0 on a single broker. */
  coordinatorEpoch(partition: number): number;
  markers: MarkerWriter;
  /** A new producer id (ProducerIds). */
  allocateProducerId(): number;
  /** Whether a topic partition exists (AddPartitionsToTxn refuses others). */
  partitionExists(topic: string, partition: number): boolean;
  nowMs(): number;
}

/** One transactional id's state (Kafka's TransactionMetadata). */
interface TransactionMetadata {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  status: TransactionStatus;
  /** topic -> partitions of the open (or completing) transaction. */
  partitions: Map<string, Set<number>>;
  startTimeMs: number;
  lastUpdateMs: number;
  /** An operation is under way: others get CONCURRENT_TRANSACTIONS. */
  pending: boolean;
  /**
   * The epoch the last InitProducerId bumped from (Kafka's lastProducerEpoch), in memory only: a
   * producer retrying that InitProducerId (its answer lost) names it, and gets the same answer.
   */
  previousEpoch: number;
}

export interface TransactionDescription {
  transactionalId: string;
  state: TransactionStatus;
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  startTimeMs: number;
  topics: Array<{ topic: string; partitions: number[] }>;
}

/** A fenced epoch's error: PRODUCER_FENCED for clients that know it (KIP-588), INVALID_PRODUCER_EPOCH before. */
export type FencedErrorName = Extract<SluiceErrorName, 'PRODUCER_FENCED' | 'INVALID_PRODUCER_EPOCH'>;

function fail(name: SluiceErrorName, message: string): never {
  throw new SluiceError(name, message);
}

export class TransactionCoordinator {
  private readonly transactions = new Map<string, TransactionMetadata>();
  /** __transaction_state partitions being loaded, each with a token of the leadership it belongs to. */
  private readonly loading = new Map<number, object>();
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(
    private readonly config: TransactionCoordinatorConfig,
    private readonly host: TransactionCoordinatorHost,
  ) {
    const every = (ms: number, task: () => void) => {
      const timer = setInterval(task, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(config.abortTimedOutIntervalMs, () => this.abortTimedOut());
    every(config.removeExpiredIntervalMs, () => void this.removeExpired().catch(() => {}));
  }

  /** The __transaction_state partition of an id (Kafka's partitionFor: the id's Java hash modulo the partitions). */
  partitionFor(transactionalId: string): number {
    return this.host.store.partitionFor(transactionalId);
  }

  ensureTopic(): Promise<void> {
    return this.host.store.ensureTopic();
  }

  // ---- loading -------------------------------------------------------------------------------

  /** Loads every existing partition (a single broker at start). */
  async loadAll(): Promise<void> {
    for (const partition of this.host.store.existingPartitions()) await this.loadPartition(partition);
  }

  /** This broker came to lead (or stopped leading) a __transaction_state partition. */
  onLeadership(partition: number, leading: boolean): void {
    if (this.closed) return;
    this.loading.delete(partition);
    for (const [id] of this.transactions) if (this.partitionFor(id) === partition) this.transactions.delete(id);
    if (leading) void this.loadPartition(partition).catch(() => {});
  }

  private async loadPartition(partition: number): Promise<void> {
    const token = {};
    this.loading.set(partition, token);
    const loaded = new Map<string, TransactionLogRecord | null>();
    try {
      await this.host.store.readPartition(partition, (key, value) => {
        const id = decodeTransactionLogKey(key);
        loaded.set(id, value === null ? null : decodeTransactionLogValue(value));
      });
    } catch (error) {
      if (this.loading.get(partition) === token) this.loading.delete(partition);
      throw error;
    }
    // The leadership moved on while reading: what was read belongs to no one.
    if (this.loading.get(partition) !== token || this.closed) return;
    this.loading.delete(partition);
    for (const [transactionalId, record] of loaded) {
      if (record === null || record.status === 'Dead') continue;
      const metadata: TransactionMetadata = {
        transactionalId,
        producerId: record.producerId,
        producerEpoch: record.producerEpoch,
        timeoutMs: record.transactionTimeoutMs,
        status: record.status,
        partitions: new Map(record.partitions.map(({ topic, partitionIds }) => [topic, new Set(partitionIds)])),
        startTimeMs: record.startTimestampMs,
        lastUpdateMs: record.lastUpdateTimestampMs,
        pending: false,
        previousEpoch: -1,
      };
      this.transactions.set(transactionalId, metadata);
      // A decision without all its markers: write them (again) and complete.
      if (metadata.status === 'PrepareCommit' || metadata.status === 'PrepareAbort') void this.runPending(metadata, () => this.completeTransaction(metadata));
    }
  }

  // ---- the requests --------------------------------------------------------------------------

  /**
   * InitProducerId with a transactional id: the id's producer id with its epoch bumped (a new id at
   * the epoch's end), which fences every older producer of the id. A transaction the id has open is
   * aborted first, at the new epoch. v3+ producers may name their current id and epoch (KIP-360):
   * a wrong one is PRODUCER_FENCED.
   */
  async initProducerId(transactionalId: string, timeoutMs: number, current: { producerId: number; producerEpoch: number } | null): Promise<{ producerId: number; producerEpoch: number }> {
    if (transactionalId === '') fail('INVALID_REQUEST', 'The transactional id is empty');
    if (timeoutMs <= 0 || timeoutMs > this.config.maxTimeoutMs) {
      fail('INVALID_TRANSACTION_TIMEOUT', `The transaction timeout ${timeoutMs} ms is not in (0, transaction.max.timeout.ms = ${this.config.maxTimeoutMs}]`);
    }
    this.checkCoordinator(transactionalId);
    await this.ensureTopic();
    let metadata = this.transactions.get(transactionalId);
    if (metadata === undefined) {
      const now = this.host.nowMs();
      metadata = { transactionalId, producerId: -1, producerEpoch: -1, timeoutMs, status: 'Empty', partitions: new Map(), startTimeMs: -1, lastUpdateMs: now, pending: false, previousEpoch: -1 };
      this.transactions.set(transactionalId, metadata);
      const created = metadata;
      await this.runPending(created, () => this.write(created, { producerId: this.host.allocateProducerId(), producerEpoch: 0, timeoutMs }), () => this.transactions.delete(transactionalId));
      return { producerId: created.producerId, producerEpoch: created.producerEpoch };
    }
    const found = metadata;
    this.checkNotPending(found);
    const retried = current !== null && current.producerId === found.producerId && current.producerEpoch === found.previousEpoch && found.previousEpoch >= 0;
    if (retried && found.status === 'Empty') return { producerId: found.producerId, producerEpoch: found.producerEpoch };
    if (current !== null && current.producerId >= 0 && (current.producerId !== found.producerId || current.producerEpoch !== found.producerEpoch)) {
      fail('PRODUCER_FENCED', `Transactional id ${transactionalId} is at producer ${found.producerId} epoch ${found.producerEpoch}, not ${current.producerId} epoch ${current.producerEpoch}`);
    }
    return this.runPending(found, async () => {
      if (found.status === 'Ongoing') {
        // Fence the open transaction's producer and abort what it wrote, at the bumped epoch.
        await this.write(found, { status: 'PrepareAbort', ...this.bumpedEpoch(found) });
        await this.completeTransaction(found);
      } else if (found.status === 'PrepareCommit' || found.status === 'PrepareAbort') {
        await this.completeTransaction(found);
      }
      const previousEpoch = found.producerEpoch;
      await this.write(found, { status: 'Empty', partitions: new Map(), startTimeMs: -1, timeoutMs, ...this.bumpedEpoch(found) });
      found.previousEpoch = previousEpoch;
      return { producerId: found.producerId, producerEpoch: found.producerEpoch };
    });
  }

  /** AddPartitionsToTxn: the partitions join the open transaction (opening it). */
  async addPartitions(transactionalId: string, producerId: number, producerEpoch: number, topics: Map<string, number[]>, fenced: FencedErrorName): Promise<void> {
    const metadata = this.checkProducer(transactionalId, producerId, producerEpoch, fenced);
    if (metadata.status === 'PrepareCommit' || metadata.status === 'PrepareAbort') {
      fail('CONCURRENT_TRANSACTIONS', `Transactional id ${transactionalId} is completing its last transaction`);
    }
    const partitions = new Map([...(metadata.status === 'Ongoing' ? metadata.partitions : [])].map(([topic, set]) => [topic, new Set(set)]));
    let added = false;
    for (const [topic, list] of topics) {
      let set = partitions.get(topic);
      if (!set) partitions.set(topic, (set = new Set()));
      for (const partition of list) {
        if (!set.has(partition)) added = true;
        set.add(partition);
      }
    }
    if (!added && metadata.status === 'Ongoing') return;
    await this.runPending(metadata, () =>
      this.write(metadata, { status: 'Ongoing', partitions, startTimeMs: metadata.status === 'Ongoing' ? metadata.startTimeMs : this.host.nowMs() }),
    );
  }

  /**
   * AddPartitionsToTxn v4 with VerifyOnly (KIP-890): whether the producer's ongoing transaction
   * holds each partition, asked by a partition's leader before it takes the producer's first
   * transactional write there. A partition outside it is INVALID_TXN_STATE: a write that would open
   * a transaction no marker will ever close (a hanging transaction, holding the last stable
   * offset). The producer itself is checked as AddPartitionsToTxn checks it.
   */
  verifyPartitions(transactionalId: string, producerId: number, producerEpoch: number, topics: Map<string, number[]>): Map<string, Map<number, number>> {
    // An operation under way (another AddPartitionsToTxn) does not stop the check, as in Kafka.
    const metadata = this.producerOf(transactionalId, producerId, producerEpoch, 'PRODUCER_FENCED');
    if (metadata.status === 'PrepareCommit' || metadata.status === 'PrepareAbort') {
      fail('CONCURRENT_TRANSACTIONS', `Transactional id ${transactionalId} is completing its last transaction`);
    }
    const ongoing = metadata.status === 'Ongoing' ? metadata.partitions : new Map<string, Set<number>>();
    return new Map(
      [...topics].map(([topic, partitions]) => [
        topic,
        new Map(partitions.map((partition) => [partition, ongoing.get(topic)?.has(partition) === true ? KafkaErrorCode.NONE : KafkaErrorCode.INVALID_TXN_STATE])),
      ]),
    );
  }

  /** EndTxn: commits or aborts the open transaction. A retry of a completed one answers as it did. */
  async endTransaction(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean, fenced: FencedErrorName): Promise<void> {
    const metadata = this.checkProducer(transactionalId, producerId, producerEpoch, fenced);
    const wanted: TransactionStatus = commit ? 'CompleteCommit' : 'CompleteAbort';
    const preparing: TransactionStatus = commit ? 'PrepareCommit' : 'PrepareAbort';
    switch (metadata.status) {
      case 'Ongoing':
        break;
      case 'CompleteCommit':
      case 'CompleteAbort':
        if (metadata.status === wanted) return; // a retry
        fail('INVALID_TXN_STATE', `Transactional id ${transactionalId}'s last transaction ended in ${metadata.status}, it cannot ${commit ? 'commit' : 'abort'}`);
      case 'PrepareCommit':
      case 'PrepareAbort':
        if (metadata.status === preparing) fail('CONCURRENT_TRANSACTIONS', `Transactional id ${transactionalId} is writing its markers`);
        fail('INVALID_TXN_STATE', `Transactional id ${transactionalId} is in ${metadata.status}, it cannot ${commit ? 'commit' : 'abort'}`);
      default:
        // Empty: nothing is open. Kafka refuses a commit; an abort of nothing is refused too.
        fail('INVALID_TXN_STATE', `Transactional id ${transactionalId} has no transaction open (${metadata.status})`);
    }
    // The decision is durable once written: answer when the markers land, or at once if a leader
    // cannot take one yet, and go on trying in the background as the id's next operation.
    const markersLanded = await this.runPending(metadata, async () => {
      await this.write(metadata, { status: preparing });
      return this.completeTransaction(metadata, false).then(
        () => true,
        () => false,
      );
    });
    if (!markersLanded) void this.runPending(metadata, () => this.completeTransaction(metadata)).catch(() => {});
  }

  // ---- DescribeTransactions, ListTransactions --------------------------------------------------

  describe(transactionalId: string): TransactionDescription {
    this.checkCoordinator(transactionalId);
    const metadata = this.transactions.get(transactionalId);
    if (metadata === undefined) fail('TRANSACTIONAL_ID_NOT_FOUND', `No transactional id ${transactionalId}`);
    return {
      transactionalId,
      state: metadata.status,
      producerId: metadata.producerId,
      producerEpoch: metadata.producerEpoch,
      timeoutMs: metadata.timeoutMs,
      startTimeMs: metadata.startTimeMs,
      topics: [...metadata.partitions].map(([topic, set]) => ({ topic, partitions: [...set].sort((a, b) => a - b) })),
    };
  }

  /** The ids this broker coordinates, filtered as ListTransactions asks (empty filters match all). */
  list(states: ReadonlySet<string>, producerIds: ReadonlySet<number>, minDurationMs: number): Array<{ transactionalId: string; producerId: number; state: TransactionStatus }> {
    const now = this.host.nowMs();
    const out = [];
    for (const metadata of this.transactions.values()) {
      if (states.size > 0 && !states.has(metadata.status)) continue;
      if (producerIds.size > 0 && !producerIds.has(metadata.producerId)) continue;
      if (minDurationMs >= 0 && (metadata.status !== 'Ongoing' || now - metadata.startTimeMs < minDurationMs)) continue;
      out.push({ transactionalId: metadata.transactionalId, producerId: metadata.producerId, state: metadata.status });
    }
    return out;
  }

  // ---- timeouts and expiry -------------------------------------------------------------------

  /** Aborts transactions open longer than their timeout, bumping the epoch to fence their producer (Kafka does). */
  abortTimedOut(): void {
    const now = this.host.nowMs();
    for (const metadata of this.transactions.values()) {
      if (metadata.pending || metadata.status !== 'Ongoing' || now - metadata.startTimeMs <= metadata.timeoutMs) continue;
      if (!this.host.leads(this.partitionFor(metadata.transactionalId))) continue;
      void this.runPending(metadata, async () => {
        await this.write(metadata, { status: 'PrepareAbort', ...this.bumpedEpoch(metadata) });
        await this.completeTransaction(metadata);
      }).catch(() => {});
    }
  }

  /** Forgets ids idle (nothing open) longer than transactional.id.expiration.ms, with a tombstone each. */
  async removeExpired(): Promise<void> {
    const now = this.host.nowMs();
    for (const metadata of [...this.transactions.values()]) {
      const idle = metadata.status === 'Empty' || metadata.status === 'CompleteCommit' || metadata.status === 'CompleteAbort';
      if (metadata.pending || !idle || now - metadata.lastUpdateMs <= this.config.transactionalIdExpirationMs) continue;
      if (!this.host.leads(this.partitionFor(metadata.transactionalId))) continue;
      await this.runPending(metadata, async () => {
        await this.host.store.append([{ group: metadata.transactionalId, key: encodeTransactionLogKey(metadata.transactionalId), value: null }]);
        this.transactions.delete(metadata.transactionalId);
      });
    }
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
  }

  // ---- internals -----------------------------------------------------------------------------

  private checkCoordinator(transactionalId: string): void {
    const partition = this.partitionFor(transactionalId);
    if (!this.host.leads(partition)) fail('NOT_COORDINATOR', `This broker does not coordinate transactional id ${transactionalId} (__transaction_state-${partition})`);
    if (this.loading.has(partition)) fail('COORDINATOR_LOAD_IN_PROGRESS', `__transaction_state-${partition} is loading`);
  }

  private checkNotPending(metadata: TransactionMetadata): void {
    if (metadata.pending) fail('CONCURRENT_TRANSACTIONS', `Transactional id ${metadata.transactionalId} has an operation under way`);
  }

  /** The id's metadata, checked against the producer a request names, with no operation under way. */
  private checkProducer(transactionalId: string, producerId: number, producerEpoch: number, fenced: FencedErrorName): TransactionMetadata {
    const metadata = this.producerOf(transactionalId, producerId, producerEpoch, fenced);
    this.checkNotPending(metadata);
    return metadata;
  }

  /** The id's metadata, checked against the producer a request names (Kafka's order of checks). */
  private producerOf(transactionalId: string, producerId: number, producerEpoch: number, fenced: FencedErrorName): TransactionMetadata {
    this.checkCoordinator(transactionalId);
    const metadata = this.transactions.get(transactionalId);
    if (metadata === undefined) fail('INVALID_PRODUCER_ID_MAPPING', `No producer for transactional id ${transactionalId}`);
    if (metadata.producerId !== producerId) {
      fail('INVALID_PRODUCER_ID_MAPPING', `Transactional id ${transactionalId} belongs to producer ${metadata.producerId}, not ${producerId}`);
    }
    // A producer whose transaction timed out finds its epoch bumped by the abort: it is fenced.
    if (metadata.producerEpoch !== producerEpoch) {
      fail(fenced, `Producer ${producerId} epoch ${producerEpoch} is fenced: transactional id ${transactionalId} is at epoch ${metadata.producerEpoch}`);
    }
    return metadata;
  }

  private bumpedEpoch(metadata: TransactionMetadata): { producerId: number; producerEpoch: number } {
    if (metadata.producerEpoch + 1 >= EPOCH_MAX) return { producerId: this.host.allocateProducerId(), producerEpoch: 0 };
    return { producerId: metadata.producerId, producerEpoch: metadata.producerEpoch + 1 };
  }

  /**
   * Writes every marker of the transaction in PrepareCommit or PrepareAbort, then CompleteCommit or
   * CompleteAbort. With `retry`, a refused marker is tried again until it lands or this broker stops
   * coordinating the id; without, the first refusal is thrown (the caller retries in the background).
   */
  private async completeTransaction(metadata: TransactionMetadata, retry = true): Promise<void> {
    const commit = metadata.status === 'PrepareCommit';
    const marker: TransactionMarker = {
      producerId: metadata.producerId,
      producerEpoch: metadata.producerEpoch,
      commit,
      coordinatorEpoch: this.host.coordinatorEpoch(this.partitionFor(metadata.transactionalId)),
      timestamp: this.host.nowMs(),
    };
    const remaining = [...metadata.partitions].flatMap(([topic, set]) => [...set].map((partition) => ({ topic, partition })));
    while (remaining.length > 0) {
      const results = await Promise.allSettled(remaining.map(({ topic, partition }) => this.writeMarker(topic, partition, marker)));
      const failed = remaining.filter((_, i) => results[i]!.status === 'rejected');
      if (failed.length === 0) break;
      if (!retry) throw (results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason;
      if (this.closed || !this.host.leads(this.partitionFor(metadata.transactionalId))) fail('NOT_COORDINATOR', 'The coordinator moved while writing markers');
      remaining.splice(0, remaining.length, ...failed);
      await new Promise((resolve) => setTimeout(resolve, MARKER_RETRY_MS));
    }
    await this.write(metadata, { status: commit ? 'CompleteCommit' : 'CompleteAbort', partitions: new Map(), startTimeMs: -1 });
  }

  /** A marker for a partition that no longer exists is dropped, as Kafka drops it. */
  private async writeMarker(topic: string, partition: number, marker: TransactionMarker): Promise<void> {
    if (!this.host.partitionExists(topic, partition)) return;
    await this.host.markers.write(topic, partition, marker);
  }

  /** Appends the id's state with `changes`, then takes them in memory (never before: the log leads). */
  private async write(metadata: TransactionMetadata, changes: Partial<Pick<TransactionMetadata, 'status' | 'producerId' | 'producerEpoch' | 'timeoutMs' | 'partitions' | 'startTimeMs'>>): Promise<void> {
    const next = { ...metadata, ...changes, lastUpdateMs: this.host.nowMs() };
    const record: TransactionLogRecord = {
      producerId: next.producerId,
      producerEpoch: next.producerEpoch,
      transactionTimeoutMs: next.timeoutMs,
      status: next.status,
      partitions: [...next.partitions].map(([topic, set]) => ({ topic, partitionIds: [...set].sort((a, b) => a - b) })),
      lastUpdateTimestampMs: next.lastUpdateMs,
      startTimestampMs: next.startTimeMs,
    };
    await this.host.store.append([{ group: metadata.transactionalId, key: encodeTransactionLogKey(metadata.transactionalId), value: encodeTransactionLogValue(record) }]);
    Object.assign(metadata, next, { pending: metadata.pending });
  }

  /** Runs `operation` as the id's one operation; `onError` undoes what the caller set up for it. */
  private async runPending<T>(metadata: TransactionMetadata, operation: () => Promise<T>, onError?: () => void): Promise<T> {
    this.checkNotPending(metadata);
    metadata.pending = true;
    try {
      return await operation();
    } catch (error) {
      onError?.();
      throw error;
    } finally {
      metadata.pending = false;
    }
  }

}
