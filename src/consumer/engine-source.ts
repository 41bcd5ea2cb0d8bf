// A PoolConsumer's batches from an embedded Engine, read in-process: no broker and no group, every
// partition of the topics goes to this consumer, and the batches' bytes come straight from the
// segment files (one pread per read, CRCs not checked again: the log checked them on append).
//
// Committed offsets live in the data directory, one file per group,
// `<dataDir>/pool-consumer-offsets-<group>`, in Kafka's offset checkpoint format (version,
// count, "topic partition offset" lines), replaced atomically (temporary file, fsync, rename,
// directory fsync) on each commit. Why a file rather than an internal topic: the engine does not
// compact yet, so a topic of commits would grow by one record per partition per commit forever
// and be read in full at every start; the file is as large as the partition count, is read in
// one call, and a crash leaves either the old or the new file whole. The engine ignores plain
// files in its data directory.
//
// A partition added to a topic (createPartitions) is taken at its first append, which the engine
// reports synchronously, and read from its start: everything in it was appended after this
// consumer began, so nothing is skipped whatever autoOffsetReset says (a broker's consumer only
// learns of it at its next metadata look, metadata.max.age.ms).
import path from 'node:path';

import type { CommitOffset, RevokeReason, TopicPartition } from '../client/group-member.js';
import type { Engine } from '../engine/engine.js';
import { SluiceError, isSluiceError } from '../errors.js';
import { abortedBatchFilter } from '../record/aborted-transactions.js';
import { readCheckpoint, writeCheckpoint } from '../storage/checkpoint-file.js';
import { Doorbell, chunkOf, keyOf, type FetchedPartition, type Source, type SourceHooks, type WantedPartition } from './source.js';

export interface EngineSourceOptions {
  engine: Engine;
  groupId: string;
  topics: string[];
  autoOffsetReset: 'earliest' | 'latest';
  partitionMaxBytes: number;
  /** read_committed: reads stop at each partition's last stable offset and leave aborted transactions out. */
  isolationLevel?: 'read_uncommitted' | 'read_committed';
}

const OFFSETS_FILE_PREFIX = 'pool-consumer-offsets-';

/** Groups consuming each engine in this process: two consumers of one group would both read everything. */
const active = new WeakMap<Engine, Set<string>>();

export function offsetsFilePath(engine: Engine, groupId: string): string {
  return path.join(engine.dataDir, OFFSETS_FILE_PREFIX + encodeURIComponent(groupId));
}

export class EngineSource implements Source {
  readonly skipCrc = true;
  private readonly appended = new Doorbell();
  private readonly committed = new Map<string, { topic: string; partition: number; offset: number }>();
  private partitions: TopicPartition[] = [];
  private readonly held = new Set<string>();
  /** Partitions taken at their first append: they start at the log start, not at autoOffsetReset. */
  private readonly added = new Set<string>();
  /** Set by stop(): an append then takes no partition (the consumer is giving them all up). */
  private stopping = false;
  private hooks: SourceHooks | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly file: string;

  constructor(private readonly options: EngineSourceOptions) {
    this.file = offsetsFilePath(options.engine, options.groupId);
  }

  async start(hooks: SourceHooks): Promise<void> {
    const { engine, groupId, topics } = this.options;
    // Unknown topics fail here (UNKNOWN_TOPIC_OR_PARTITION), before anything is claimed.
    const partitions = topics.flatMap((topic) => engine.describeTopic(topic).partitions.map(({ partition }) => ({ topic, partition })));
    let groups = active.get(engine);
    if (!groups) active.set(engine, (groups = new Set()));
    if (groups.has(groupId)) throw new SluiceError('INVALID_CONFIG', `Group ${groupId} already has a pool consumer on this engine`);
    groups.add(groupId);
    for (const entry of readCheckpoint(this.file)) this.committed.set(keyOf(entry.topic, entry.partition), entry);
    const wanted = new Set(topics);
    this.unsubscribe = engine.onAppend((topic, partition) => {
      if (!wanted.has(topic)) return;
      if (this.hooks !== undefined && !this.stopping && !this.held.has(keyOf(topic, partition))) this.take({ topic, partition });
      this.appended.ring();
    });
    this.partitions = partitions;
    for (const tp of partitions) this.held.add(keyOf(tp.topic, tp.partition));
    this.hooks = hooks;
    try {
      await hooks.assigned(partitions);
    } catch (error) {
      this.unsubscribe();
      groups.delete(groupId);
      throw error;
    }
  }

  /** A partition that appeared after start: assigned like the others, at its log start. */
  private take(tp: TopicPartition): void {
    const key = keyOf(tp.topic, tp.partition);
    this.held.add(key);
    this.added.add(key);
    this.partitions.push(tp);
    this.hooks!.assigned([tp]).catch((error: Error) => this.hooks?.failed(error));
  }

  async startPositions(partitions: TopicPartition[]): Promise<Map<string, number>> {
    const positions = new Map<string, number>();
    for (const { topic, partition } of partitions) {
      const key = keyOf(topic, partition);
      const committed = this.committed.get(key)?.offset;
      const log = this.options.engine.partitionLog(topic, partition);
      // A commit below the log start (retention went past it) resets, as Kafka's consumer does.
      const valid = committed !== undefined && committed >= log.logStartOffset && committed <= log.logEndOffset;
      positions.set(key, valid ? committed : this.added.has(key) ? log.logStartOffset : this.resetOffset(topic, partition));
    }
    return positions;
  }

  private resetOffset(topic: string, partition: number): number {
    const { engine, autoOffsetReset } = this.options;
    return autoOffsetReset === 'earliest' ? engine.earliestOffset(topic, partition) : engine.latestOffset(topic, partition);
  }

  async fetch(wanted: WantedPartition[], maxBytes: number, wake: Doorbell): Promise<FetchedPartition[]> {
    const { engine, partitionMaxBytes } = this.options;
    // Cleared before reading: an append after this point rings again and is not missed.
    this.appended.clear();
    const results: FetchedPartition[] = [];
    const readCommitted = this.options.isolationLevel === 'read_committed';
    let budget = maxBytes;
    for (const { topic, partition, position } of wanted) {
      if (budget <= 0) break;
      const log = engine.partitionLog(topic, partition);
      let read;
      try {
        // An open transaction holds read_committed at its first offset; its marker is an append, which rings.
        read = log.read(position, Math.min(partitionMaxBytes, budget), readCommitted ? { maxOffset: log.lastStableOffset } : undefined);
      } catch (error) {
        if (!isSluiceError(error, 'OFFSET_OUT_OF_RANGE')) throw error;
        results.push({ topic, partition, position, resetTo: this.resetOffset(topic, partition) });
        continue;
      }
      if (!read) continue;
      const bytes = Buffer.allocUnsafeSlow(read.region.sizeBytes);
      log.readInto(read, bytes);
      const keep = readCommitted ? abortedBatchFilter(log.abortedTransactions(position, read.region.lastOffset + 1)) : undefined;
      const chunk = chunkOf(bytes, position, false, keep);
      if (!chunk) continue;
      budget -= chunk.bytes.byteLength;
      results.push({ topic, partition, position, chunk });
    }
    if (results.length === 0) await Doorbell.any([this.appended, wake]);
    return results;
  }

  async commit(offsets: CommitOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    for (const { topic, partition, offset } of offsets) this.committed.set(keyOf(topic, partition), { topic, partition, offset });
    writeCheckpoint(this.file, [...this.committed.values()]);
  }

  async stop(): Promise<void> {
    try {
      this.stopping = true;
      const partitions = this.partitions;
      this.partitions = [];
      if (partitions.length > 0) await this.hooks?.revoking(partitions, 'stop' satisfies RevokeReason);
    } finally {
      this.unsubscribe?.();
      this.appended.ring();
      active.get(this.options.engine)?.delete(this.options.groupId);
    }
  }
}
