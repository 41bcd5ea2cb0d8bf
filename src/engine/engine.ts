// The embedded API: topics of partitions, each partition a Log in Kafka's on-disk format.
//
//   const engine = await Engine.open({ dataDir: './data' });
//   await engine.createTopic('events', { partitions: 3 });
//   const acks = await engine.produce('events', [{ key: 'user-1', value: 'clicked' }]);
//   const { records, nextOffset } = await engine.fetch('events', 0, { offset: 0 });
//   await engine.close();
//
// produce() encodes records into one RecordBatch v2 per partition and appends it; the broker
// appends producer-encoded batches directly with appendBatches(), so both paths write the same
// bytes and fetch() reads back whatever either wrote.
import path from 'node:path';
import { randomUUID } from 'node:crypto';

import { SluiceError } from '../errors.js';
import { descriptorBudget, DESCRIPTORS_PER_SEGMENT } from '../limits.js';
import { binding } from '../native/binding.js';
import type { AbortedTransactionRef } from '../record/aborted-transactions.js';
import { decodeRecords } from '../record/decode-records.js';
import { BatchEncoder, type EncodedRecordsSummary } from '../record/batch-encoder.js';
import type { CompressionName } from '../record/batch-format.js';
import type { RecordHeaders, RecordData } from '../record/record.js';
import type { AppendResult, Log, LogRead } from '../storage/log.js';
import type { AppendOrigin } from '../storage/log-validator.js';
import type { CleaningPass, LogCleanerStats } from '../storage/log-cleaner.js';
import { cleanerConfigFromBroker, type LogCleanerConfig } from '../storage/log-cleaner-config.js';
import { brokerLogDefaults, describeLogConfig, resolveLogConfig, type ConfigValues, type LogConfig } from '../storage/log-config.js';
import { LogDirs, type LogDirMove, type OfflineLogDir } from '../storage/log-dirs.js';
import type { LogManagerStartup } from '../storage/log-manager.js';
import { defaultPartitionCount, emitConfigWarning, engineConfigWarnings, engineIntervals, topicConfigWarnings, type ConfigWarning } from './engine-config.js';
import { DefaultPartitioner } from './partitioner.js';
import { hostedPartitions, hosts, TopicStore, type TopicMetadata } from './topic-store.js';
import { checkPartitionCount, topicNamesCollide, validateTopicName } from './topic-name.js';

export interface EngineOptions {
  /** The engine's own files (topics, consumer offsets) and, unless logDirs says otherwise, the partitions' logs. */
  dataDir: string;
  /**
   * Directories to spread the partitions' logs over (Kafka's log.dirs, JBOD), each locked, recovered
   * and checkpointed on its own; a new partition goes to the one holding the fewest. Default
   * [dataDir]. dataDir may be one of them, as a broker's first log dir is.
   */
  logDirs?: readonly string[];
  /**
   * What log moves between logDirs copy a second at most (Engine.setLogDirMoveRate), from the
   * open on: a move a restart interrupted resumes there. Default: no limit.
   */
  logDirMoveBytesPerSecond?: number;
  /**
   * Broker-level settings with Kafka's names: log.segment.bytes, log.retention.hours,
   * log.flush.interval.messages, message.max.bytes, num.partitions, ... A name that takes no
   * effect is reported to onConfigWarning.
   */
  config?: ConfigValues;
  /**
   * Called at open for each name of `config` that takes no effect (one the engine does not read,
   * or a value sluice accepts without acting on it), and at createTopic and alterTopicConfig for
   * each such topic config. Default: a process warning (code SLUICE_CONFIG). A broker, which
   * reports its own settings, passes one that does nothing.
   */
  onConfigWarning?: (warning: ConfigWarning) => void;
  /** Clock for roll and retention (tests move it); defaults to Date.now. */
  nowMs?: () => number;
  /**
   * Segments the data directory may hold open (3 descriptors each) before topic and partition
   * creation is refused with POLICY_VIOLATION. Default: what the process's descriptor limit leaves
   * after its reserve (src/limits.ts); a broker passes its own, smaller share.
   */
  segmentsMax?: number;
  /** Failures of background work (retention, checkpoints, flushes), which no caller awaits. */
  onBackgroundError?: (error: unknown, task: string) => void;
}

export interface CreateTopicOptions {
  /** Defaults to num.partitions (1). */
  partitions?: number;
  /** A single engine holds one replica of each partition: only 1 is accepted. */
  replicationFactor?: number;
  /** Check everything, create nothing (CreateTopics' validate_only). */
  validateOnly?: boolean;
  /** Topic-level overrides with Kafka's names (retention.ms, segment.bytes, ...). */
  config?: ConfigValues;
  /**
   * This engine holds one replica of a cluster's topic (src/cluster): the topic's id and
   * replication factor are the cluster's, not chosen here, and `hosted` (ascending; default all)
   * names the partitions this broker is a replica of, the only ones whose logs it keeps.
   */
  replicaOf?: { id: string; replicationFactor: number; hosted?: readonly number[] };
}

export interface CreatePartitionsOptions {
  /** Check everything, create nothing (CreatePartitions' validate_only). */
  validateOnly?: boolean;
  /** The partitions hosted here once the new ones are added (see CreateTopicOptions.replicaOf). */
  hosted?: readonly number[];
}

export interface ProduceRecord {
  key?: RecordData;
  value: RecordData;
  headers?: RecordHeaders;
  /** Milliseconds since the epoch; defaults to now. */
  timestamp?: number;
  /** Sends this record to the given partition, whatever its key. */
  partition?: number;
}

export interface ProduceOptions {
  /** Every record to this partition (a record's own `partition` still wins). */
  partition?: number;
  compression?: CompressionName;
  /** fdatasync before resolving: the records survive a power loss once acknowledged. */
  sync?: boolean;
}

export interface ProduceAck {
  partition: number;
  baseOffset: number;
  lastOffset: number;
  /** The broker time stamped on the batch when the topic uses LogAppendTime, else -1. */
  logAppendTime: number;
}

export interface FetchOptions {
  offset: number;
  /** Upper bound on the batch bytes read (the first batch is returned whole even when larger). */
  maxBytes?: number;
  /**
   * Kafka's isolation.level. read_committed reads only below the last stable offset (no open
   * transaction's records) and leaves aborted transactions' records out, as a Kafka consumer
   * does; default read_uncommitted.
   */
  isolationLevel?: IsolationLevel;
}

export type IsolationLevel = 'read_uncommitted' | 'read_committed';

export interface ConsumedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  /**
   * In the order they were produced; a key may repeat, as Kafka allows. Records without headers
   * share one frozen empty array (NO_HEADERS): copy it before adding to it.
   */
  headers: Array<{ key: string; value: Buffer | null }>;
}

export interface FetchResult {
  records: ConsumedRecord[];
  /** The offset to fetch next. */
  nextOffset: number;
  highWatermark: number;
  /** The first offset of the oldest transaction not yet decided (the high watermark when none). */
  lastStableOffset: number;
  logStartOffset: number;
}

export interface FetchBatchesOptions extends FetchOptions {
  /**
   * A buffer to read the batches into, reused call after call. A fresh 1 MiB Buffer per fetch
   * (its allocation, first touch and collection) cost ~0.14 ms a call: fetchBatches over 100 B
   * records ran ~22M records/s with fresh buffers, ~32M with one reused (medians of 8 paired
   * runs). Too small for the batches, and a new one is used.
   */
  into?: Buffer;
  /**
   * The bytes as a view over the segment's read mapping, not copied (`into` is then unused): a
   * random read of a 100 KB batch takes 3.0 µs this way, 15.5 µs copied (bench/read.bench.ts). The
   * view stays readable while referenced, even after its segment is deleted, and holding it holds
   * that segment's mapping (address space and one of the kernel's map areas, not heap): copy what
   * you keep for long. A truncation of the log below it (a follower's) turns the cut bytes to zeros.
   */
  view?: boolean;
}

export interface FetchBatchesResult {
  /**
   * Whole batches, back to back, in Kafka's RecordBatch v2 format; empty when there is nothing at
   * `offset` yet. The first may begin below the offset asked for.
   */
  batches: Buffer;
  /** The offset to fetch next. */
  nextOffset: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /**
   * read_committed: the aborted transactions the batches reach into, as a Fetch response lists
   * them; pass them to readRecords() ({ abortedTransactions }) to leave their records out.
   * Empty for read_uncommitted.
   */
  abortedTransactions: AbortedTransactionRef[];
}

export interface PartitionDescription {
  partition: number;
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  sizeBytes: number;
  segmentCount: number;
  /**
   * Set when the partition's log is in a log directory that went offline (onLogDirFailure): that
   * directory. Its offsets are then -1 and its size 0, as nothing of it can be read.
   */
  offlineLogDir?: string;
}

export interface TopicDescription {
  name: string;
  id: string;
  replicationFactor: number;
  /** Partitions of the topic, whether their logs are here or not. */
  partitionCount: number;
  /** The partitions whose logs are here: all of them, unless this engine is a broker of a cluster. */
  partitions: PartitionDescription[];
  /** Effective topic-level config, by Kafka's names. */
  config: Record<string, string>;
  /** The overrides set on this topic. */
  overrides: Record<string, string>;
}

export interface OffsetAndTimestamp {
  offset: number;
  timestamp: number;
}

/** 1 MiB: Kafka's default max.partition.fetch.bytes. */
const DEFAULT_FETCH_MAX_BYTES = 1024 * 1024;

const EMPTY_BATCHES = Buffer.alloc(0);

function readCommitted(options: FetchOptions): boolean {
  const level = options.isolationLevel ?? 'read_uncommitted';
  if (level !== 'read_uncommitted' && level !== 'read_committed') {
    throw new SluiceError('INVALID_REQUEST', `isolationLevel must be 'read_uncommitted' or 'read_committed', not ${JSON.stringify(level)}`);
  }
  return level === 'read_committed';
}

/**
 * The bytes of a log read, in `into` when they fit, else in a new Buffer: a copy on the calling
 * thread (from the segment's mapping, or a pread where it has none). From the page cache a 1 MiB
 * read takes ~0.15-0.2 ms; with the read on the thread pool (readBytesAsync) the loop sat idle for
 * 18% of a profiled run of 1 MiB fetches of 100 B records. Through Log.readInto, so that a page
 * the disk could not serve fails the fetch (mapping-faults.ts) rather than passing for records.
 */
function readRegion(log: Log, read: LogRead, into?: Buffer): Buffer {
  const sizeBytes = read.region.sizeBytes;
  const bytes = into !== undefined && into.length >= sizeBytes ? into : Buffer.allocUnsafe(sizeBytes);
  const copied = log.readInto(read, bytes, 0);
  return copied === bytes.length ? bytes : bytes.subarray(0, copied);
}

export class Engine {
  readonly dataDir: string;
  private defaults: LogConfig;
  private readonly defaultPartitions: number;
  private readonly topics: TopicStore;
  private readonly logs: LogDirs;
  private readonly partitioner = new DefaultPartitioner();
  /** produce()'s encoder; its buffer is reused call after call (see produce). */
  private readonly encoder = new BatchEncoder();
  private readonly appendListeners = new Set<(topic: string, partition: number) => void>();
  private readonly logDirFailureListeners = new Set<(failure: OfflineLogDir) => void>();
  private closed = false;
  /** See EngineOptions.segmentsMax. */
  readonly segmentsMax: number;
  private readonly onConfigWarning: (warning: ConfigWarning) => void;

  private constructor(dataDir: string, defaults: LogConfig, defaultPartitions: number, topics: TopicStore, logs: LogDirs, segmentsMax: number, onConfigWarning: (warning: ConfigWarning) => void) {
    this.dataDir = dataDir;
    this.onConfigWarning = onConfigWarning;
    this.defaults = defaults;
    this.defaultPartitions = defaultPartitions;
    this.topics = topics;
    this.logs = logs;
    this.segmentsMax = segmentsMax;
  }

  /**
   * Opens (creating when missing) a data directory: takes its lock, loads the topics and recovers
   * every partition log. A second Engine or process on the same directory gets DATA_DIR_LOCKED.
   */
  static async open(options: EngineOptions): Promise<Engine> {
    const dataDir = path.resolve(options.dataDir);
    const brokerConfig = options.config ?? {};
    const defaults = brokerLogDefaults(brokerConfig);
    const onConfigWarning = options.onConfigWarning ?? emitConfigWarning;
    const defaultPartitions = defaultPartitionCount(brokerConfig);
    const topics = new TopicStore(dataDir);
    const logs = await LogDirs.open({
      dirs: (options.logDirs ?? [dataDir]).map((dir) => path.resolve(dir)),
      moveBytesPerSecond: options.logDirMoveBytesPerSecond,
      nowMs: options.nowMs,
      // A partition directory of no topic, or past its topic's count, is what a crash during a
      // topic or partition creation leaves (the metadata is written last); one the topic does not
      // host here, what a crash in hostPartitions leaves: either is removed.
      configFor: (topic, partition) => {
        const metadata = topics.get(topic);
        return metadata && hosts(metadata, partition) ? resolveLogConfig(metadata.config, defaults) : undefined;
      },
      ...engineIntervals(brokerConfig),
      onBackgroundError: options.onBackgroundError,
      cleaner: cleanerConfigFromBroker(brokerConfig),
    });
    const segmentsMax = options.segmentsMax ?? descriptorBudget(binding.descriptorLimit().soft, 0).segmentsMax;
    const engine = new Engine(dataDir, defaults, defaultPartitions, topics, logs, segmentsMax, onConfigWarning);
    logs.onLogDirFailure = (failure) => {
      for (const listener of engine.logDirFailureListeners) listener(failure);
    };
    // Data directories written before creation became whole-or-nothing may lack a partition's
    // directory; a missing one is an empty log. Unless a directory failed to open, which may hold
    // it: it is offline then, not created empty.
    try {
      for (const [name, metadata] of topics.entries()) logs.openHostedLogs(name, hostedPartitions(metadata), resolveLogConfig(metadata.config, defaults));
    } catch (error) {
      await logs.close();
      throw error;
    }
    for (const warning of engineConfigWarnings(brokerConfig)) onConfigWarning(warning);
    return engine;
  }

  /** How the data directory was found on open: clean shutdown, segments recovered, bytes cut. */
  get startup(): LogManagerStartup {
    return this.logs.startup;
  }

  /** The directories the partitions' logs are spread over (EngineOptions.logDirs). */
  get logDirs(): string[] {
    return this.logs.dirs;
  }

  /** The directory holding a partition's log; UNKNOWN_TOPIC_OR_PARTITION when this engine holds none. */
  logDirOf(topic: string, partition: number): string {
    this.partitionLog(topic, partition);
    return this.logs.dirOf(topic, partition)!;
  }

  /**
   * Moves a partition's log to `dir`, another of logDirs, while it stays readable and writable
   * (Kafka's AlterReplicaLogDirs); resolves once the log is there. A move of the partition under
   * way to another directory is replaced; asking for the directory that holds it cancels one.
   * LOG_DIR_NOT_FOUND when `dir` is not one of logDirs. A move that a restart interrupts resumes
   * when the engine opens again (logDirMoves lists it; nothing awaits it).
   */
  async alterLogDir(topic: string, partition: number, dir: string): Promise<void> {
    this.partitionLog(topic, partition);
    await this.logs.alterLogDir(topic, partition, path.resolve(dir));
  }

  /**
   * The bytes a second that log moves copy at most, all together (Infinity, the default: no
   * limit); applies to the moves under way. The broker sets it from
   * replica.alter.log.dirs.io.max.bytes.per.second.
   */
  setLogDirMoveRate(bytesPerSecond: number): void {
    if (!(bytesPerSecond > 0)) throw new RangeError(`A log dir move rate must be above 0 bytes a second, not ${bytesPerSecond}`);
    this.logs.moveBytesPerSecond = bytesPerSecond;
  }

  /**
   * Where the partition's log is to be created when this engine comes to host it (a replica a
   * reassignment is adding; AlterReplicaLogDirs sets it as Kafka's does), instead of the directory
   * holding the fewest logs. Used once; not kept across a restart. LOG_DIR_NOT_FOUND for a
   * directory not in logDirs.
   */
  preferLogDir(topic: string, partition: number, dir: string): void {
    this.ensureOpen();
    this.logs.preferDir(topic, partition, path.resolve(dir));
  }

  /** The log moves under way: each future log's directory, end offset, bytes and lag behind the live log. */
  logDirMoves(): LogDirMove[] {
    this.ensureOpen();
    return this.logs.moves();
  }

  // ---- topics --------------------------------------------------------------------------------

  async createTopic(name: string, options: CreateTopicOptions = {}): Promise<TopicDescription> {
    this.ensureOpen();
    validateTopicName(name);
    if (this.topics.get(name)) throw new SluiceError('TOPIC_ALREADY_EXISTS', `Topic '${name}' already exists.`);
    const collision = this.topics.names().find((existing) => topicNamesCollide(existing, name));
    if (collision) {
      throw new SluiceError('INVALID_TOPIC_EXCEPTION', `Topic '${name}' collides with existing topic: ${collision}`);
    }
    const partitions = options.partitions ?? this.defaultPartitions;
    checkPartitionCount(partitions);
    const replicationFactor = options.replicaOf?.replicationFactor ?? options.replicationFactor ?? 1;
    if (replicationFactor !== 1 && options.replicaOf === undefined) {
      throw new SluiceError('INVALID_REPLICATION_FACTOR', `Replication factor: ${replicationFactor} larger than available brokers: 1.`);
    }
    const overrides = stringifyConfig(options.config ?? {});
    const config = resolveLogConfig(overrides, this.defaults); // INVALID_CONFIG before anything is written
    const metadata: TopicMetadata = { id: options.replicaOf?.id ?? randomUUID(), partitions, replicationFactor, config: overrides };
    if (options.replicaOf?.hosted !== undefined) metadata.hosted = checkHosted(options.replicaOf.hosted, partitions);
    this.checkRoomForPartitions(hostedPartitions(metadata).length, `Topic '${name}'`);
    if (options.validateOnly) return this.describeMetadata(name, metadata, config, () => emptyPartition);
    this.createLogsThenCommit(name, metadata);
    for (const warning of topicConfigWarnings(name, overrides)) this.onConfigWarning(warning);
    return this.describeTopic(name);
  }

  /**
   * A topic (or its new or newly hosted partitions) is created whole or not at all: the missing
   * partition logs first, then the metadata, whose atomic rewrite is the commit. A failure on the
   * way (EMFILE, ENOSPC) removes the logs made so far; a crash on the way leaves directories the
   * next open removes (configFor).
   */
  private createLogsThenCommit(name: string, metadata: TopicMetadata): void {
    const made = hostedPartitions(metadata).filter((partition) => this.logs.getLog(name, partition) === undefined);
    this.logs.createLogs(name, made, resolveLogConfig(metadata.config, this.defaults));
    try {
      this.topics.put(name, metadata);
    } catch (error) {
      for (const partition of made) {
        try {
          this.logs.deleteLog(name, partition);
        } catch {
          // The next open removes what is left: the metadata does not name these partitions.
        }
      }
      throw error;
    }
  }

  /**
   * Refuses (POLICY_VIOLATION), before anything is created, partitions the descriptor budget
   * cannot hold open. Topic creation and growth check it themselves; a caller that opens a topic's
   * logs a chunk at a time (a cluster broker) checks the whole first, so that it holds all or none.
   */
  checkRoomForPartitions(newPartitions: number, what: string): void {
    const openSegments = this.logs.segmentCount();
    if (openSegments + newPartitions <= this.segmentsMax) return;
    throw new SluiceError(
      'POLICY_VIOLATION',
      `${what} would add ${newPartitions} partitions (${newPartitions * DESCRIPTORS_PER_SEGMENT} file descriptors), but the data directory ` +
        `already holds ${openSegments} open segments of the ${this.segmentsMax} its descriptor budget allows ` +
        `(${DESCRIPTORS_PER_SEGMENT} descriptors each, from the process's descriptor limit; see src/limits.ts). ` +
        'Raise the limit (ulimit -n) or delete topics.',
    );
  }

  /** Adds partitions up to `totalCount` (Kafka's CreatePartitions: the count only grows). */
  async createPartitions(name: string, totalCount: number, options: CreatePartitionsOptions = {}): Promise<TopicDescription> {
    const metadata = this.topicMetadata(name);
    checkPartitionCount(totalCount);
    if (totalCount <= metadata.partitions) {
      throw new SluiceError('INVALID_PARTITIONS', `Topic currently has ${metadata.partitions} partitions, which is higher than the requested ${totalCount}.`);
    }
    const grown: TopicMetadata = { ...metadata, partitions: totalCount };
    if (options.hosted !== undefined) grown.hosted = checkHosted(options.hosted, totalCount);
    else if (metadata.hosted !== undefined) throw new SluiceError('INVALID_REQUEST', `Topic '${name}' holds some partitions only here: say which of the new ones it holds`);
    this.checkRoomForPartitions(hostedPartitions(grown).filter((partition) => partition >= metadata.partitions).length, `Topic '${name}'`);
    if (options.validateOnly) return this.describeMetadata(name, grown, resolveLogConfig(grown.config, this.defaults), () => emptyPartition);
    this.createLogsThenCommit(name, grown);
    return this.describeTopic(name);
  }

  /**
   * Makes `hosted` (ascending) the partitions whose logs are here: opens the missing ones, empty,
   * and deletes those no longer hosted. A cluster's broker holds the partitions it is a replica of
   * (a data directory of a release that held all of them is trimmed this way on start).
   */
  hostPartitions(name: string, hosted: readonly number[]): void {
    const metadata = this.topicMetadata(name);
    const next: TopicMetadata = { ...metadata, hosted: checkHosted(hosted, metadata.partitions) };
    const leaving = hostedPartitions(metadata).filter((partition) => !hosts(next, partition));
    const arriving = hostedPartitions(next).filter((partition) => !hosts(metadata, partition));
    this.checkRoomForPartitions(arriving.length, `Topic '${name}'`);
    // Logs first, then the metadata (the commit); a crash between leaves directories the next open removes.
    this.createLogsThenCommit(name, next);
    this.logs.deleteLogs(name, leaving);
  }

  async deleteTopic(name: string): Promise<void> {
    const metadata = this.topicMetadata(name);
    // Metadata first: if we crash mid-way, the next open finds directories of no topic and removes them.
    this.topics.delete(name);
    this.logs.deleteLogs(name, hostedPartitions(metadata));
  }

  listTopics(): string[] {
    this.ensureOpen();
    return this.topics.names();
  }

  describeTopic(name: string): TopicDescription {
    const metadata = this.topicMetadata(name);
    return this.describeMetadata(name, metadata, resolveLogConfig(metadata.config, this.defaults), (partition) => {
      const offline = this.logs.offlineDirOf(name, partition);
      if (offline !== undefined) return { logStartOffset: -1, logEndOffset: -1, highWatermark: -1, sizeBytes: 0, segmentCount: 0, offlineLogDir: offline.dir };
      const log = this.partitionLog(name, partition);
      return {
        logStartOffset: log.logStartOffset,
        logEndOffset: log.logEndOffset,
        highWatermark: log.highWatermark,
        sizeBytes: log.sizeBytes(),
        segmentCount: log.segmentCount,
      };
    });
  }

  private describeMetadata(
    name: string,
    metadata: TopicMetadata,
    config: LogConfig,
    partitionState: (partition: number) => Omit<PartitionDescription, 'partition'>,
  ): TopicDescription {
    const partitions: PartitionDescription[] = [];
    for (const partition of hostedPartitions(metadata)) partitions.push({ partition, ...partitionState(partition) });
    return {
      name,
      id: metadata.id,
      replicationFactor: metadata.replicationFactor,
      partitionCount: metadata.partitions,
      partitions,
      config: describeLogConfig(config),
      overrides: { ...metadata.config },
    };
  }

  /** The topic's partition count, whether their logs are here or not (UNKNOWN_TOPIC_OR_PARTITION). */
  partitionCount(name: string): number {
    return this.topicMetadata(name).partitions;
  }

  /** The partitions whose logs are here, ascending: all of them, unless a cluster's broker holds some only. */
  hostedPartitions(name: string): readonly number[] {
    return hostedPartitions(this.topicMetadata(name));
  }

  /** Whether the partition's log is here. */
  hostsPartition(name: string, partition: number): boolean {
    return hosts(this.topicMetadata(name), partition);
  }

  /** The topic's id (a UUID), or undefined when there is no such topic. */
  topicId(name: string): string | undefined {
    this.ensureOpen();
    return this.topics.get(name)?.id;
  }

  hasTopic(name: string): boolean {
    this.ensureOpen();
    return this.topics.get(name) !== undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The name of the topic with this id (Kafka's topic ids), or undefined. */
  topicNameById(id: string): string | undefined {
    this.ensureOpen();
    for (const [name, metadata] of this.topics.entries()) if (metadata.id === id) return name;
    return undefined;
  }

  /** Calls `listener` after every append, with the partition appended to; returns an unsubscribe. */
  onAppend(listener: (topic: string, partition: number) => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  private notifyAppend(topic: string, partition: number): void {
    for (const listener of this.appendListeners) listener(topic, partition);
  }

  // ---- failed disks --------------------------------------------------------------------------

  /**
   * Calls `listener` when a log directory goes offline: an I/O error from its disk (EIO, EROFS;
   * not a full disk; a page of a mapped file the disk could not read) in any of its logs, in a
   * call, in background work, or in a view from fetchBatches read later. Its partitions then
   * answer KAFKA_STORAGE_ERROR until the engine is opened again, while the other directories go
   * on (Kafka's offline log dirs, KIP-112; see src/storage/log-dirs.ts). Returns an unsubscribe.
   */
  onLogDirFailure(listener: (failure: OfflineLogDir) => void): () => void {
    this.logDirFailureListeners.add(listener);
    return () => this.logDirFailureListeners.delete(listener);
  }

  /** The log directories offline now, each with the failure that took it offline and the logs it held. */
  offlineLogDirs(): OfflineLogDir[] {
    this.logs.sweepMappingFaults(); // not a second late for a view read since the last sweep
    return this.logs.offlineDirs();
  }

  /**
   * For layers that use a partition's Log directly (the broker's fetch, the replica fetcher): an
   * error from it that is a disk failure takes its directory offline. Returns whether the
   * partition's directory is offline now.
   */
  reportStorageFailure(topic: string, partition: number, error: unknown): boolean {
    return this.logs.reportFailure(topic, partition, error);
  }

  /** `error`, after reportStorageFailure: for `throw this.failed(...)` in the partition calls below. */
  private failed(topic: string, partition: number, error: unknown): unknown {
    this.reportStorageFailure(topic, partition, error);
    return error;
  }

  /** Sets topic-level overrides (null removes one); the logs pick them up at once. */
  async alterTopicConfig(name: string, changes: Record<string, string | number | boolean | null>): Promise<TopicDescription> {
    const metadata = this.topicMetadata(name);
    const { overrides, config } = this.applyConfigChanges(metadata, changes);
    this.topics.put(name, { ...metadata, config: overrides });
    for (const partition of hostedPartitions(metadata)) this.partitionLog(name, partition).updateConfig(config);
    const changed = Object.fromEntries(Object.entries(changes).filter((entry): entry is [string, string | number | boolean] => entry[1] !== null));
    for (const warning of topicConfigWarnings(name, changed)) this.onConfigWarning(warning);
    return this.describeTopic(name);
  }

  /**
   * Replaces the broker-level settings the topic configs default to (server.properties' log.*
   * names, as brokerLogDefaults reads them), as Kafka applies a dynamic broker config: every log
   * without its own override picks the new value at once. INVALID_CONFIG, changing nothing, for a
   * value that does not parse.
   */
  setBrokerLogDefaults(brokerConfig: ConfigValues): void {
    this.ensureOpen();
    const defaults = brokerLogDefaults(brokerConfig);
    const configs = [...this.topics.entries()].map(([name, metadata]) => [name, metadata, resolveLogConfig(metadata.config, defaults)] as const);
    this.defaults = defaults;
    for (const [name, metadata, config] of configs) {
      // A log still to open (a cluster opens them a chunk a turn) takes this.defaults when it does.
      for (const partition of hostedPartitions(metadata)) this.logs.getLog(name, partition)?.updateConfig(config);
    }
  }

  /** The settings the log cleaner runs with (log.cleaner.*). */
  get cleanerConfig(): Readonly<LogCleanerConfig> {
    return this.logs.cleanerConfig;
  }

  /**
   * New log.cleaner.* broker settings (a dynamic broker config) for the running log cleaner; a set
   * that changes none of them leaves the cleaner as it is. INVALID_CONFIG for a value that does
   * not parse.
   */
  setCleanerConfig(brokerConfig: ConfigValues): void {
    this.ensureOpen();
    const config = cleanerConfigFromBroker(brokerConfig);
    if (JSON.stringify(config) !== JSON.stringify(this.logs.cleanerConfig)) this.logs.reconfigureCleaner(config);
  }

  /** Checks config changes as alterTopicConfig would apply them (INVALID_CONFIG), changing nothing. */
  validateTopicConfig(name: string, changes: Record<string, string | number | boolean | null>): void {
    this.applyConfigChanges(this.topicMetadata(name), changes);
  }

  private applyConfigChanges(metadata: TopicMetadata, changes: Record<string, string | number | boolean | null>) {
    const overrides = { ...metadata.config };
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete overrides[key];
      else overrides[key] = String(value);
    }
    return { overrides, config: resolveLogConfig(overrides, this.defaults) };
  }

  // ---- produce -------------------------------------------------------------------------------

  /**
   * Appends records, one batch per partition they land on (Kafka's default partitioner: explicit
   * partition, else murmur2 of the key, else one sticky partition for the call's keyless records).
   * Resolves with one ack per batch written.
   *
   * Every batch is encoded (BatchEncoder: one pass, into the engine's reused buffer) before
   * anything is written, so an encoding error appends nothing; then every batch is appended
   * before the first await, since the next call reuses the buffer. When all records land on one
   * partition (`options.partition`, a one-partition topic) no per-partition lists are built.
   */
  async produce(topic: string, records: readonly ProduceRecord[], options: ProduceOptions = {}): Promise<ProduceAck[]> {
    const metadata = this.topicMetadata(topic);
    if (!Array.isArray(records)) throw new SluiceError('INVALID_RECORD', `produce takes an array of records, not ${records === null ? 'null' : typeof records}`);
    if (records.length === 0) throw new SluiceError('INVALID_RECORD', 'produce needs at least one record');
    const encodeOptions = { compression: options.compression ?? 'none', now: Date.now() };
    const encoder = this.encoder;
    encoder.reset();
    const single = this.singlePartition(records, options.partition, metadata.partitions, topic);
    const partitions: number[] = [];
    const batches: Buffer[] = [];
    const summaries: EncodedRecordsSummary[] = [];
    if (single >= 0) {
      partitions.push(single);
      batches.push(encoder.encode(records, encodeOptions));
      summaries.push(encoder.summary());
    } else {
      for (const [partition, list] of this.groupByPartition(records, options.partition, metadata.partitions, topic)) {
        partitions.push(partition);
        batches.push(encoder.encode(list, encodeOptions));
        summaries.push(encoder.summary());
      }
    }
    const logs = partitions.map((partition) => this.partitionLog(topic, partition));
    // Appended in one synchronous run: the batches are views of the encoder's buffer, which the
    // next produce() (or an append listener producing) overwrites. A failed append leaves the ones
    // before it appended, as before; they are still flushed (sync) and announced.
    const results: AppendResult[] = [];
    let failed = false;
    let failure: unknown;
    for (let i = 0; i < batches.length; i++) {
      try {
        // The encoder's CRC and summary of the records stand in for the log reading them again.
        results.push(logs[i]!.appendSync(batches[i]!, { encodedHere: summaries[i] }));
      } catch (error) {
        [failed, failure] = [true, this.failed(topic, partitions[i]!, error)];
        break;
      }
    }
    if (options.sync) {
      for (let i = 0; i < results.length; i++) {
        try {
          await logs[i]!.flush();
        } catch (error) {
          this.failed(topic, partitions[i]!, error);
          if (!failed) [failed, failure] = [true, error];
        }
      }
    }
    // Whatever was appended is announced, even when a later append or a flush failed.
    const acks: ProduceAck[] = [];
    for (let i = 0; i < results.length; i++) {
      this.notifyAppend(topic, partitions[i]!);
      const result = results[i]!;
      acks.push({ partition: partitions[i]!, baseOffset: result.baseOffset, lastOffset: result.lastOffset, logAppendTime: result.logAppendTime });
    }
    if (failed) throw failure;
    return acks;
  }

  /**
   * The partition every record lands on when that needs no partitioner state: each record's own
   * `partition`, else `defaultPartition`, else (one partition) 0. Checks explicit partitions as
   * the partitioner does. Returns -1 when records land apart or a key hash or sticky choice is due.
   */
  private singlePartition(records: readonly ProduceRecord[], defaultPartition: number | undefined, partitionCount: number, topic: string): number {
    let single = -1;
    let keyless = false;
    for (let i = 0; i < records.length; i++) {
      const record = records[i];
      let partition = record !== null && typeof record === 'object' ? record.partition : undefined;
      if (partition === undefined || partition === null) partition = defaultPartition;
      if (partition === undefined || partition === null) {
        if (partitionCount !== 1) return -1;
        const key = record !== null && typeof record === 'object' ? record.key : undefined;
        if (key === undefined || key === null) keyless = true;
        partition = 0;
      } else if (single === -1 || partition !== single) {
        partition = this.partitioner.partition({ partition }, partitionCount, topic);
      }
      if (single === -1) single = partition;
      else if (partition !== single) return -1;
    }
    // As partitionAll: a call with keyless records moves the topic's sticky partition.
    if (keyless) this.partitioner.newBatch(topic, partitionCount);
    return single;
  }

  /** The call's records by partition, in order within each (the partitioner's placement). */
  private groupByPartition(records: readonly ProduceRecord[], defaultPartition: number | undefined, partitionCount: number, topic: string): Map<number, ProduceRecord[]> {
    const placed =
      defaultPartition === undefined
        ? this.partitioner.partitionAll(records, partitionCount, topic)
        : records.map((record) =>
            this.partitioner.partition(record.partition === undefined || record.partition === null ? { partition: defaultPartition } : record, partitionCount, topic),
          );
    const byPartition = new Map<number, ProduceRecord[]>();
    for (let i = 0; i < records.length; i++) {
      const list = byPartition.get(placed[i]!);
      if (list) list.push(records[i]!);
      else byPartition.set(placed[i]!, [records[i]!]);
    }
    return byPartition;
  }

  /**
   * Appends producer-encoded batches (a produce request's records) as they are: validated per
   * batch, offsets stamped in place, written once. The broker's path.
   */
  async appendBatches(topic: string, partition: number, records: Buffer, options: { sync?: boolean; leaderEpoch?: number; origin?: AppendOrigin } = {}): Promise<AppendResult> {
    const log = this.partitionLog(topic, partition);
    let result: AppendResult;
    try {
      result = log.appendSync(records, { leaderEpoch: options.leaderEpoch, origin: options.origin });
    } catch (error) {
      throw this.failed(topic, partition, error);
    }
    this.notifyAppend(topic, partition);
    if (options.sync) await log.flush().catch((error: unknown) => Promise.reject(this.failed(topic, partition, error)));
    return result;
  }

  /** A follower's append of batches its leader wrote (Log.appendAsFollower), then the append listeners. */
  appendAsFollower(topic: string, partition: number, records: Buffer): AppendResult {
    let result: AppendResult;
    try {
      result = this.partitionLog(topic, partition).appendAsFollower(records);
    } catch (error) {
      throw this.failed(topic, partition, error);
    }
    this.notifyAppend(topic, partition);
    return result;
  }

  /** A follower's truncation to where its log agrees with the leader's; checkpoints at once (LogManager.truncateTo). */
  truncateTo(topic: string, partition: number, offset: number): boolean {
    this.partitionLog(topic, partition);
    try {
      return this.logs.truncateTo(topic, partition, offset);
    } catch (error) {
      throw this.failed(topic, partition, error);
    }
  }

  /** A follower restarting its log at the leader's log start (LogManager.truncateFullyAndStartAt). */
  truncateFullyAndStartAt(topic: string, partition: number, offset: number): void {
    this.partitionLog(topic, partition);
    try {
      this.logs.truncateFullyAndStartAt(topic, partition, offset);
    } catch (error) {
      throw this.failed(topic, partition, error);
    }
  }

  // ---- fetch ---------------------------------------------------------------------------------

  /**
   * Decoded records from `offset`, whole batches up to maxBytes: one read of the region the log
   * finds, then one pass over it (decodeRecords: the hand-written cursor for uncompressed batches,
   * the registered codec for compressed ones). Control batches are left out, and so are the
   * records of the first batch below `offset`. Keys and values are views of the bytes read.
   */
  async fetch(topic: string, partition: number, options: FetchOptions): Promise<FetchResult> {
    const log = this.partitionLog(topic, partition);
    const offset = options.offset;
    const committed = readCommitted(options);
    let read: LogRead | null;
    let bytes: Buffer;
    try {
      read = log.read(offset, options.maxBytes ?? DEFAULT_FETCH_MAX_BYTES, committed ? { maxOffset: log.lastStableOffset } : undefined);
      bytes = read === null ? EMPTY_BATCHES : readRegion(log, read);
    } catch (error) {
      throw this.failed(topic, partition, error);
    }
    const result: FetchResult = { records: [], nextOffset: offset, highWatermark: log.highWatermark, lastStableOffset: log.lastStableOffset, logStartOffset: log.logStartOffset };
    if (!read) return result;
    decodeRecords(bytes, offset, result.records, committed ? log.abortedTransactions(offset, read.region.lastOffset + 1) : undefined);
    result.nextOffset = read.region.lastOffset + 1;
    return result;
  }

  /**
   * The same whole batches as fetch(), as their bytes (RecordBatch v2, as on disk and on the
   * wire), for callers that need no record objects: walk them with readRecords() (RecordCursor),
   * send them on, or store them. The first batch may begin below `offset`, and control batches
   * are included. With `into`, the bytes are read into that buffer when they fit (`batches` is
   * then a view of it, valid until the caller reuses it); otherwise into a new Buffer. With
   * `view`, they are not copied at all (see FetchBatchesOptions.view). read_committed stops at
   * the last stable offset and lists the aborted transactions the batches reach into.
   */
  async fetchBatches(topic: string, partition: number, options: FetchBatchesOptions): Promise<FetchBatchesResult> {
    const log = this.partitionLog(topic, partition);
    const offset = options.offset;
    const committed = readCommitted(options);
    let read: LogRead | null;
    let batches: Buffer;
    try {
      read = log.read(offset, options.maxBytes ?? DEFAULT_FETCH_MAX_BYTES, committed ? { maxOffset: log.lastStableOffset } : undefined);
      batches = read === null ? EMPTY_BATCHES : options.view === true ? log.readView(read) : readRegion(log, read, options.into);
    } catch (error) {
      throw this.failed(topic, partition, error);
    }
    const positions = { highWatermark: log.highWatermark, lastStableOffset: log.lastStableOffset, logStartOffset: log.logStartOffset };
    if (!read) return { batches: EMPTY_BATCHES, nextOffset: offset, ...positions, abortedTransactions: [] };
    const nextOffset = read.region.lastOffset + 1;
    const abortedTransactions = committed ? log.abortedTransactions(offset, nextOffset).map(({ producerId, firstOffset }) => ({ producerId, firstOffset })) : [];
    return { batches, nextOffset, ...positions, abortedTransactions };
  }

  /** Whole batches as file regions, for callers that send them on (the broker's zero-copy fetch). */
  read(topic: string, partition: number, offset: number, maxBytes: number, maxOffset?: number): LogRead | null {
    const log = this.partitionLog(topic, partition);
    try {
      return log.read(offset, maxBytes, { maxOffset });
    } catch (error) {
      throw this.failed(topic, partition, error);
    }
  }

  // ---- offsets -------------------------------------------------------------------------------

  earliestOffset(topic: string, partition: number): number {
    return this.partitionLog(topic, partition).logStartOffset;
  }

  latestOffset(topic: string, partition: number): number {
    return this.partitionLog(topic, partition).logEndOffset;
  }

  /** The first record at or after `timestamp`, or null when every record is older (Kafka: -1). */
  offsetForTimestamp(topic: string, partition: number, timestamp: number): OffsetAndTimestamp | null {
    return this.partitionLog(topic, partition).offsetForTimestamp(timestamp);
  }

  /** DeleteRecords: makes records below `offset` unreadable; returns the new log start offset. */
  async deleteRecords(topic: string, partition: number, offset: number): Promise<number> {
    const logStartOffset = this.partitionLog(topic, partition).deleteRecordsBefore(offset);
    this.logs.checkpoint();
    return logStartOffset;
  }

  // ---- maintenance ---------------------------------------------------------------------------

  /** One retention pass (also run every 5 minutes); returns the segments deleted. */
  runRetention(): number {
    this.ensureOpen();
    return this.logs.runRetention();
  }

  /**
   * Compacts the partition's log now (every partition of the topic without `partition`), whatever
   * its dirty ratio, pass after pass until its cleanable part (closed segments below the high
   * watermark, past min.compaction.lag.ms) is clean; waits for a pass already running. Resolves
   * with the passes made, per partition; a topic without cleanup.policy compact makes none.
   */
  async compactNow(topic: string, partition?: number): Promise<Map<number, CleaningPass[]>> {
    const metadata = this.topicMetadata(topic);
    const partitions = partition === undefined ? hostedPartitions(metadata) : [partition];
    const passes = new Map<number, CleaningPass[]>();
    for (const p of partitions) {
      this.partitionLog(topic, p);
      passes.set(p, await this.logs.cleanNow(topic, p));
    }
    return passes;
  }

  /**
   * The log cleaner's view of a partition: dirty ratio, first dirty offset, last pass, bytes
   * cleaned; undefined when the topic's cleanup.policy has no `compact`.
   */
  cleanerStats(topic: string, partition: number): LogCleanerStats | undefined {
    this.partitionLog(topic, partition);
    return this.logs.cleanerStats(topic, partition);
  }

  /** fdatasync every partition and advance their recovery points. */
  async flush(): Promise<void> {
    this.ensureOpen();
    await this.logs.flushAll();
    this.logs.checkpoint();
  }

  /** The partition's Log, for layers above the engine (broker, replication). */
  partitionLog(topic: string, partition: number): Log {
    const metadata = this.topicMetadata(topic);
    const log = Number.isInteger(partition) && partition >= 0 && partition < metadata.partitions ? this.logs.getLog(topic, partition) : undefined;
    if (!log) throw this.noLog(topic, partition);
    return log;
  }

  /** Why a partition has no log here: its directory is offline (KAFKA_STORAGE_ERROR), or it is not hosted. */
  private noLog(topic: string, partition: number): SluiceError {
    const offline = this.logs.offlineDirOf(topic, partition);
    if (offline !== undefined) {
      // A log missing at open may be in any directory that failed to open: each is named.
      const failedAtOpen = this.logs.offlineDirs().filter((dir) => dir.atOpen).map((dir) => dir.dir);
      const where = offline.atOpen ? `was found in no log directory, and ${failedAtOpen.join(' and ')} failed to open` : `is in ${offline.dir}, which is offline`;
      return new SluiceError('KAFKA_STORAGE_ERROR', `The log of ${topic}-${partition} ${where} (${offline.code}: ${offline.message})`);
    }
    return new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `This server does not host this topic-partition: ${topic}-${partition}`);
  }

  /** Flushes, checkpoints and closes every log, and releases the directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.logs.close();
  }

  private topicMetadata(name: string): TopicMetadata {
    this.ensureOpen();
    const metadata = this.topics.get(name);
    if (!metadata) throw new SluiceError('UNKNOWN_TOPIC_OR_PARTITION', `Unknown topic: ${name}`);
    return metadata;
  }

  private ensureOpen(): void {
    if (this.closed) throw new SluiceError('ENGINE_CLOSED', 'The engine is closed');
  }
}

const emptyPartition: Omit<PartitionDescription, 'partition'> = { logStartOffset: 0, logEndOffset: 0, highWatermark: 0, sizeBytes: 0, segmentCount: 1 };

/** A hosted list as the metadata keeps it: distinct partitions of the topic, ascending. */
function checkHosted(hosted: readonly number[], partitions: number): number[] {
  const sorted = [...new Set(hosted)].sort((a, b) => a - b);
  for (const partition of sorted) {
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
      throw new SluiceError('INVALID_PARTITIONS', `Partition ${partition} is not one of the topic's ${partitions}`);
    }
  }
  return sorted;
}

function stringifyConfig(config: ConfigValues): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, String(value)]));
}

