// Replicas at the Log level for tests: a data directory per replica, and a few lines doing what a
// fetcher thread does (Kafka's AbstractFetcherThread): ask the leader OffsetForLeaderEpoch, truncate,
// copy the leader's batches with appendAsFollower. The replica manager built later does this over
// the wire; here the "wire" is a function call, so the storage rules can be tested on their own.
import { decodeBatch, encodeBatch, iterateBatches, readBatchHeader, type EncodeBatchOptions } from '../../src/record/batch.js';
import { UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET, type EpochEntry } from '../../src/storage/leader-epoch-cache.js';
import type { Log } from '../../src/storage/log.js';
import { LogManager } from '../../src/storage/log-manager.js';
import { resolveLogConfig, type LogConfig } from '../../src/storage/log-config.js';

export const TOPIC = 'replicated';
export const PARTITION = 0;
const MIB = 1 << 20;

/** A broker's data directory holding one replica of TOPIC-0. */
export class Replica {
  manager!: LogManager;

  constructor(
    readonly name: string,
    readonly dataDir: string,
    readonly config: LogConfig = resolveLogConfig({}),
  ) {
    this.open();
  }

  get log(): Log {
    return this.manager.getLog(TOPIC, PARTITION) ?? this.manager.createLog(TOPIC, PARTITION, this.config);
  }

  private open(): void {
    this.manager = LogManager.open({
      dataDir: this.dataDir,
      configFor: () => this.config,
      retentionCheckIntervalMs: 0,
      checkpointIntervalMs: 0,
      highWatermarkCheckpointIntervalMs: 0,
    });
  }

  /** A clean restart: flush, checkpoints (high watermarks too), close, open again. */
  async restart(): Promise<void> {
    await this.manager.close();
    this.open();
  }

  /** Becomes leader of `epoch`: the epoch starts at its log end (Kafka's makeLeader). */
  becomeLeader(epoch: number): void {
    this.log.assignEpochStartOffset(epoch, this.log.logEndOffset);
  }

  /** A leader's produce: one batch of `values`, stamped with the leader's epoch. */
  produce(values: string[], options: EncodeBatchOptions = {}): { baseOffset: number; lastOffset: number; duplicate: boolean } {
    // Timestamps of now: producer state forgets producers silent for producer.id.expiration.ms.
    const batch = encodeBatch(values.map((value) => ({ value })), { now: Date.now(), ...options });
    return this.log.appendSync(batch, { leaderEpoch: this.log.latestEpoch });
  }

  async close(): Promise<void> {
    await this.manager.close();
  }
}

/**
 * A follower's truncation against its leader (AbstractFetcherThread's, KIP-101 and KIP-279): ask
 * for the end of its latest epoch; when the leader answers with an epoch the follower does not
 * have, cut to the end of the follower's own largest epoch below it and ask again; when the epochs
 * agree, cut to the smaller of the two ends. No epochs at all: the high watermark, as before
 * KIP-101. Returns how many OffsetForLeaderEpoch requests it took.
 */
export function truncateByEpochs(follower: Replica, leader: Replica): number {
  let requests = 0;
  for (;;) {
    const log = follower.log;
    const epoch = log.latestEpoch;
    if (epoch === UNDEFINED_EPOCH) {
      follower.manager.truncateTo(TOPIC, PARTITION, log.highWatermark);
      return requests;
    }
    requests++;
    const answer = leader.log.endOffsetForEpoch(epoch);
    if (answer.endOffset === UNDEFINED_EPOCH_OFFSET) {
      follower.manager.truncateTo(TOPIC, PARTITION, log.highWatermark);
      return requests;
    }
    const own = log.endOffsetForEpoch(answer.epoch);
    const logEndOffset = log.logEndOffset;
    if (own.endOffset === UNDEFINED_EPOCH_OFFSET) {
      follower.manager.truncateTo(TOPIC, PARTITION, Math.min(answer.endOffset, logEndOffset));
      return requests;
    }
    if (own.epoch !== answer.epoch) {
      follower.manager.truncateTo(TOPIC, PARTITION, Math.min(own.endOffset, logEndOffset));
      continue;
    }
    follower.manager.truncateTo(TOPIC, PARTITION, Math.min(own.endOffset, answer.endOffset, logEndOffset));
    return requests;
  }
}

/** Truncation before KIP-101: to the follower's own high watermark. */
export function truncateToHighWatermark(follower: Replica): void {
  follower.manager.truncateTo(TOPIC, PARTITION, follower.log.highWatermark);
}

/**
 * Fetches from the leader as a follower does: from its log end, up to `maxBatches` batches (all by
 * default), appended as they came; then takes the high watermark from the "response".
 */
export function fetchFrom(follower: Replica, leader: Replica, maxBatches = Infinity): number {
  let copied = 0;
  while (copied < maxBatches && follower.log.logEndOffset < leader.log.logEndOffset) {
    const read = leader.log.read(follower.log.logEndOffset, maxBatches === Infinity ? MIB : 1)!;
    const bytes = leader.log.readBytes(read);
    follower.log.appendAsFollower(bytes);
    copied += [...iterateBatches(bytes)].length;
  }
  follower.log.updateHighWatermark(Math.min(leader.log.highWatermark, follower.log.logEndOffset));
  return copied;
}

/** Every record of a log as `offset:value`, from its log start. */
export function recordsOf(log: Log): string[] {
  const out: string[] = [];
  let offset = log.logStartOffset;
  for (;;) {
    const read = log.read(offset, MIB);
    if (!read) return out;
    const bytes = log.readBytes(read);
    for (const { at } of iterateBatches(bytes)) {
      for (const record of decodeBatch(bytes, at).records) if (record.offset >= offset) out.push(`${record.offset}:${record.value!.toString()}`);
    }
    offset = read.region.lastOffset + 1;
  }
}

/** The record at `offset`, or undefined. */
export function recordAt(log: Log, offset: number): string | undefined {
  return recordsOf(log).find((entry) => entry.startsWith(`${offset}:`));
}

/** The epoch history the log's batches imply (what a rebuild from them gives), from its log start. */
export function epochsInBatches(log: Log): EpochEntry[] {
  const entries: EpochEntry[] = [];
  let latest = UNDEFINED_EPOCH;
  let offset = log.logStartOffset;
  for (;;) {
    const read = log.read(offset, MIB);
    if (!read) return entries;
    const bytes = log.readBytes(read);
    for (const { at } of iterateBatches(bytes)) {
      const header = readBatchHeader(bytes, at);
      if (header.partitionLeaderEpoch > latest) {
        latest = header.partitionLeaderEpoch;
        entries.push({ epoch: latest, startOffset: Math.max(header.baseOffset, log.logStartOffset) });
      }
    }
    offset = read.region.lastOffset + 1;
  }
}
