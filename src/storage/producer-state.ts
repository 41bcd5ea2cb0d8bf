// Idempotent and transactional producer state of one partition (Kafka's ProducerStateManager):
// per producer id, its epoch and the last five batches' sequence ranges and offsets. A retried
// batch that matches one of them is a duplicate, acknowledged with its original offsets and not
// appended again; a batch whose first sequence does not follow the last is out of order.
// Transactions: a producer's first transactional batch opens its transaction at that batch's
// offset, and a marker (COMMIT or ABORT, written by the transaction coordinator) closes it. The
// first offset of the oldest open transaction bounds the last stable offset, up to which
// read_committed consumers read; a transaction stays "unreplicated" until the high watermark
// passes its marker, so the LSO never passes a marker a follower could still lose (Kafka's
// unreplicatedTxns). An aborted transaction is kept ({producerId, firstOffset, lastOffset}, the
// last being its marker's) for fetches to list, until the log start passes its marker.
//
// Persistence: a snapshot (`producer-state.snapshot`, JSON, written atomically on roll and on
// close) records the state as of an offset; on open, the batch headers after that offset are
// replayed from the log, so the state after a crash is exactly what the log holds. A snapshot only
// bounds that replay: an older one, or none, costs the next open more headers to read, never a
// wrong state. The roll's snapshot is therefore written off the event loop (as Kafka does since
// KAFKA-15046): its two fsyncs, ~1 ms on an idle disk, held a log's append path 100-570 ms while
// another writer's fsync kept the disk busy (measured here with a dd of 1.5 GB beside a roll).
import fs from 'node:fs';
import path from 'node:path';

import { SluiceError } from '../errors.js';
import { writeFileAtomically, writeFileAtomicallyInBackground } from './checkpoint-file.js';

export const PRODUCER_SNAPSHOT_FILE = 'producer-state.snapshot';
/** Kafka keeps the metadata of the last 5 batches per producer (max.in.flight.requests <= 5). */
export const PRODUCER_BATCHES_RETAINED = 5;
/** Kafka's producer.id.expiration.ms default: a producer silent for a day is forgotten. */
export const PRODUCER_ID_EXPIRATION_MS = 24 * 60 * 60 * 1000;
/** 2 adds the open and aborted transactions; a version 1 snapshot is rebuilt from the log. */
const SNAPSHOT_VERSION = 2;
const SEQUENCE_MAX = 2 ** 31 - 1;

export interface ProducerBatch {
  firstSequence: number;
  lastSequence: number;
  firstOffset: number;
  lastOffset: number;
}

interface ProducerEntry {
  epoch: number;
  /** Oldest first, at most PRODUCER_BATCHES_RETAINED. */
  batches: ProducerBatch[];
  lastTimestamp: number;
}

/** A transaction ended by an ABORT marker: what a read_committed fetch lists (Kafka's AbortedTxn). */
export interface AbortedTransaction {
  producerId: number;
  firstOffset: number;
  /** The offset of its ABORT marker. */
  lastOffset: number;
}

/** What the header of an idempotent batch says about its producer. */
export interface ProducerBatchHeader {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
}

/** The sequence after `sequence`: sequences wrap from int32 max to 0, as in Kafka. */
function nextSequence(sequence: number): number {
  return sequence === SEQUENCE_MAX ? 0 : sequence + 1;
}

function lastSequenceOf(header: ProducerBatchHeader): number {
  return (header.baseSequence + header.lastOffsetDelta) % (SEQUENCE_MAX + 1);
}

interface SnapshotFile {
  version: number;
  offset: number;
  producers: Array<{ producerId: number } & ProducerEntry>;
  ongoing: Array<[producerId: number, firstOffset: number]>;
  unreplicated: Array<{ firstOffset: number; lastOffset: number }>;
  aborted: AbortedTransaction[];
}

export class ProducerState {
  private readonly producers = new Map<number, ProducerEntry>();
  /**
   * Open transactions, producer id -> first offset. A transaction opens at the log end, so the
   * map's insertion order is first-offset order and its first entry the oldest.
   */
  private readonly ongoing = new Map<number, number>();
  /** Ended transactions whose marker the high watermark has not passed yet, in marker order. */
  private unreplicated: Array<{ firstOffset: number; lastOffset: number }> = [];
  /** Aborted transactions in marker order. */
  private aborted: AbortedTransaction[] = [];
  private readonly snapshotPath: string;
  /** Bumped by every snapshot write or deletion: a background write of an older state is superseded. */
  private snapshotVersion = 0;
  /** The newest state waiting for the background writer. */
  private queuedSnapshot: { contents: string; version: number; offset: number } | null = null;
  private backgroundSnapshot: Promise<void> | null = null;
  /** The offset of the snapshot the background writer is writing, if any. */
  private writingOffset: number | null = null;
  /** What the last synchronous write left on disk (null: it deleted the file; undefined: none yet). */
  private lastSynchronous: string | null | undefined = undefined;

  constructor(dir: string) {
    this.snapshotPath = path.join(dir, PRODUCER_SNAPSHOT_FILE);
  }

  get producerCount(): number {
    return this.producers.size;
  }

  /**
   * Checks an idempotent batch before it is appended: returns the batch it duplicates, or null
   * when it is the next one to append. Throws INVALID_PRODUCER_EPOCH for a fenced (older) epoch,
   * OUT_OF_ORDER_SEQUENCE_NUMBER for a gap, UNKNOWN_PRODUCER_ID for a producer we have no state
   * for that does not start at sequence 0.
   */
  check(header: ProducerBatchHeader, transactional = false): ProducerBatch | null {
    if (!transactional && this.ongoing.has(header.producerId)) {
      throw new SluiceError('INVALID_TXN_STATE', `Producer ${header.producerId} has a transaction open on this partition, and wrote a batch outside it`);
    }
    const entry = this.producers.get(header.producerId);
    const lastSequence = lastSequenceOf(header);
    if (!entry) {
      if (header.baseSequence !== 0) {
        throw new SluiceError('UNKNOWN_PRODUCER_ID', `No state for producer ${header.producerId}, and its batch starts at sequence ${header.baseSequence}, not 0`);
      }
      return null;
    }
    if (header.producerEpoch < entry.epoch) {
      throw new SluiceError('INVALID_PRODUCER_EPOCH', `Producer ${header.producerId} epoch ${header.producerEpoch} is older than the current epoch ${entry.epoch}`);
    }
    if (header.producerEpoch > entry.epoch) {
      if (header.baseSequence !== 0) {
        throw new SluiceError('OUT_OF_ORDER_SEQUENCE_NUMBER', `Producer ${header.producerId} started epoch ${header.producerEpoch} at sequence ${header.baseSequence}, not 0`);
      }
      return null;
    }
    const duplicate = entry.batches.find((b) => b.firstSequence === header.baseSequence && b.lastSequence === lastSequence);
    if (duplicate) return duplicate;
    const last = entry.batches[entry.batches.length - 1];
    const expected = last ? nextSequence(last.lastSequence) : 0;
    if (header.baseSequence !== expected) {
      throw new SluiceError(
        'OUT_OF_ORDER_SEQUENCE_NUMBER',
        `Out of order sequence number for producer ${header.producerId} at epoch ${header.producerEpoch}: got ${header.baseSequence}, expected ${expected}`,
      );
    }
    return null;
  }

  /**
   * Checks a transaction marker before it is appended: a marker at an older epoch than the
   * producer's comes from a coordinator that lost the producer (INVALID_PRODUCER_EPOCH).
   */
  checkMarker(producerId: number, producerEpoch: number): void {
    const entry = this.producers.get(producerId);
    if (entry && producerEpoch < entry.epoch) {
      throw new SluiceError('INVALID_PRODUCER_EPOCH', `A transaction marker for producer ${producerId} at epoch ${producerEpoch}, older than its epoch ${entry.epoch}`);
    }
  }

  /** Records an appended idempotent batch; a transactional one opens its producer's transaction. */
  record(header: ProducerBatchHeader, firstOffset: number, timestamp: number, transactional = false): void {
    const entry = this.entryAt(header.producerId, header.producerEpoch, timestamp);
    if (transactional && !this.ongoing.has(header.producerId)) this.ongoing.set(header.producerId, firstOffset);
    entry.batches.push({
      firstSequence: header.baseSequence,
      lastSequence: lastSequenceOf(header),
      firstOffset,
      lastOffset: firstOffset + header.lastOffsetDelta,
    });
    if (entry.batches.length > PRODUCER_BATCHES_RETAINED) entry.batches.shift();
    entry.lastTimestamp = Math.max(entry.lastTimestamp, timestamp);
  }

  /**
   * Records an appended marker at `offset`: the producer's open transaction, if any, ends there
   * (a marker for a producer with nothing open ends nothing, as in Kafka).
   */
  recordMarker(producerId: number, producerEpoch: number, offset: number, commit: boolean, timestamp: number): void {
    const entry = this.entryAt(producerId, producerEpoch, timestamp);
    entry.lastTimestamp = Math.max(entry.lastTimestamp, timestamp);
    const firstOffset = this.ongoing.get(producerId);
    if (firstOffset === undefined) return;
    this.ongoing.delete(producerId);
    this.unreplicated.push({ firstOffset, lastOffset: offset });
    if (!commit) this.aborted.push({ producerId, firstOffset, lastOffset: offset });
  }

  /** The producer's entry, new (no batches) when it has none or `epoch` is newer than its own. */
  private entryAt(producerId: number, epoch: number, timestamp: number): ProducerEntry {
    let entry = this.producers.get(producerId);
    if (!entry || epoch > entry.epoch) {
      entry = { epoch, batches: [], lastTimestamp: timestamp };
      this.producers.set(producerId, entry);
    }
    return entry;
  }

  /**
   * The first offset a read_committed consumer may not read yet, given the high watermark: the
   * oldest open transaction's first offset, or an ended one's whose marker is not below the high
   * watermark yet; the high watermark when there is none (Kafka's lastStableOffset).
   */
  lastStableOffset(highWatermark: number): number {
    let i = 0;
    while (i < this.unreplicated.length && this.unreplicated[i]!.lastOffset < highWatermark) i++;
    if (i > 0) this.unreplicated = this.unreplicated.slice(i);
    let lso = highWatermark;
    for (const firstOffset of this.ongoing.values()) {
      lso = Math.min(lso, firstOffset);
      break;
    }
    for (const { firstOffset } of this.unreplicated) lso = Math.min(lso, firstOffset);
    return lso;
  }

  /** The first offset of `producerId`'s open transaction, or -1 (DescribeProducers). */
  openTransactionStart(producerId: number): number {
    return this.ongoing.get(producerId) ?? -1;
  }

  /**
   * The aborted transactions a read of [fromOffset, toOffset) must list: those whose records
   * reach into it (marker at or after fromOffset, first record before toOffset), as Kafka's
   * collectAbortedTransactions; by first offset, the order consumers walk them in (kafkajs
   * relies on it: in marker order, a transaction aborted after another that began later was
   * never applied, and kafkajs delivered its records).
   */
  abortedTransactions(fromOffset: number, toOffset: number): AbortedTransaction[] {
    const out: AbortedTransaction[] = [];
    for (let i = this.aborted.length - 1; i >= 0; i--) {
      const txn = this.aborted[i]!;
      if (txn.lastOffset < fromOffset) break;
      if (txn.firstOffset < toOffset) out.push(txn);
    }
    return out.sort((a, b) => a.firstOffset - b.firstOffset);
  }

  /** Forgets aborted transactions whose markers lie below the log start (their records are gone). */
  dropAbortedBefore(logStartOffset: number): void {
    let i = 0;
    while (i < this.aborted.length && this.aborted[i]!.lastOffset < logStartOffset) i++;
    if (i > 0) this.aborted = this.aborted.slice(i);
  }

  /**
   * Each producer's last batch, by its last offset (Kafka's lastDataOffset): the log cleaner keeps
   * these batches, empty if need be, so that the state survives cleaning.
   */
  lastBatchOffsets(): Array<[producerId: number, lastOffset: number]> {
    const out: Array<[number, number]> = [];
    for (const [producerId, entry] of this.producers) {
      const last = entry.batches[entry.batches.length - 1];
      if (last) out.push([producerId, last.lastOffset]);
    }
    return out;
  }

  /** Every producer with state, its epoch, last sequence and last timestamp (DescribeProducers). */
  activeProducers(): Array<{ producerId: number; producerEpoch: number; lastSequence: number; lastTimestamp: number; currentTxnStartOffset: number }> {
    return [...this.producers].map(([producerId, entry]) => ({
      producerId,
      producerEpoch: entry.epoch,
      lastSequence: entry.batches[entry.batches.length - 1]?.lastSequence ?? -1,
      lastTimestamp: entry.lastTimestamp,
      currentTxnStartOffset: this.openTransactionStart(producerId),
    }));
  }

  clear(): void {
    this.producers.clear();
    this.ongoing.clear();
    this.unreplicated = [];
    this.aborted = [];
  }

  /**
   * Forgets producers whose last batch's timestamp is `expirationMs` (producer.id.expiration.ms) or
   * more before `nowMs`, unless a transaction of theirs is open (Kafka's isProducerExpired).
   * Returns how many went.
   */
  expire(nowMs: number, expirationMs = PRODUCER_ID_EXPIRATION_MS): number {
    let expired = 0;
    for (const [producerId, entry] of this.producers) {
      if (nowMs - entry.lastTimestamp >= expirationMs && !this.ongoing.has(producerId)) {
        this.producers.delete(producerId);
        expired++;
      }
    }
    return expired;
  }

  /** Writes the state as of `offset` (the log end offset it reflects), before returning. */
  writeSnapshot(offset: number): void {
    const contents = this.snapshotText(offset);
    this.settleSynchronously(contents);
    writeFileAtomically(this.snapshotPath, contents);
  }

  /**
   * Writes the state as of `offset` on libuv's threads (the roll's snapshot, see the file's
   * comment). The state is taken now; a later write or deletion supersedes it, and writes queued
   * meanwhile collapse to the newest.
   */
  writeSnapshotInBackground(offset: number): void {
    this.queuedSnapshot = { contents: this.snapshotText(offset), version: ++this.snapshotVersion, offset };
    this.backgroundSnapshot ??= this.writeQueuedSnapshots();
  }

  /** The newest offset a background write is taking to disk (queued or under way), or null. */
  pendingSnapshotOffset(): number | null {
    return this.queuedSnapshot?.offset ?? this.writingOffset;
  }

  /** Settles once no background snapshot write is under way (before a close, or a removal). */
  snapshotWritten(): Promise<void> {
    return this.backgroundSnapshot ?? Promise.resolve();
  }

  private snapshotText(offset: number): string {
    const producers = [...this.producers].map(([producerId, entry]) => ({ producerId, ...entry }));
    const snapshot: SnapshotFile = { version: SNAPSHOT_VERSION, offset, producers, ongoing: [...this.ongoing], unreplicated: this.unreplicated, aborted: this.aborted };
    return JSON.stringify(snapshot) + '\n';
  }

  private async writeQueuedSnapshots(): Promise<void> {
    for (let queued = this.queuedSnapshot; queued !== null; queued = this.queuedSnapshot) {
      this.queuedSnapshot = null;
      this.writingOffset = queued.offset;
      try {
        const result = await writeFileAtomicallyInBackground(this.snapshotPath, queued.contents, () => this.snapshotVersion !== queued.version);
        // Renamed after something newer: put back what the last synchronous write or deletion
        // left, which always matches the log (a truncation deletes past-end snapshots
        // synchronously); a newer background write, if one is queued, follows.
        if (result === 'raced') this.redoSynchronous();
      } catch {
        // The directory went (the log was deleted), or the disk is full: see the file's comment.
      }
    }
    this.writingOffset = null;
    this.backgroundSnapshot = null;
  }

  /** A synchronous write (`contents`) or deletion (null) supersedes every background write. */
  private settleSynchronously(contents: string | null): void {
    this.snapshotVersion++;
    this.queuedSnapshot = null;
    this.lastSynchronous = contents;
  }

  private redoSynchronous(): void {
    try {
      if (this.lastSynchronous === null) fs.rmSync(this.snapshotPath, { force: true });
      else if (this.lastSynchronous !== undefined) writeFileAtomically(this.snapshotPath, this.lastSynchronous);
    } catch {
      // As in writeQueuedSnapshots.
    }
  }

  /** Loads the snapshot; returns the offset it is valid at, or null when there is none usable. */
  loadSnapshot(): number | null {
    let text: string;
    try {
      text = fs.readFileSync(this.snapshotPath, 'utf8');
    } catch {
      return null;
    }
    try {
      const snapshot = JSON.parse(text) as SnapshotFile;
      if (snapshot.version !== SNAPSHOT_VERSION || !Number.isSafeInteger(snapshot.offset)) return null;
      this.clear();
      for (const { producerId, epoch, batches, lastTimestamp } of snapshot.producers) this.producers.set(producerId, { epoch, batches, lastTimestamp });
      for (const [producerId, firstOffset] of [...snapshot.ongoing].sort((a, b) => a[1] - b[1])) this.ongoing.set(producerId, firstOffset);
      this.unreplicated = snapshot.unreplicated;
      this.aborted = snapshot.aborted;
      return snapshot.offset;
    } catch {
      // A torn or foreign file: rebuilding from the log is always correct, just slower.
      this.clear();
      return null;
    }
  }

  deleteSnapshot(): void {
    this.settleSynchronously(null);
    fs.rmSync(this.snapshotPath, { force: true });
  }
}
