// A lean producer: records are partitioned like Kafka's Java client, gathered per partition into
// one RecordBatch v2 until batch.size bytes or linger.ms, and sent to the partition's leader with
// up to max.in.flight requests per broker. With idempotence (the default for acks=all, as in
// Kafka 3+), each batch carries the producer id, epoch and base sequence, so retries are safe.
import { SluiceError, kafkaErrorName, type SluiceErrorName } from '../errors.js';
import { DefaultPartitioner } from '../engine/partitioner.js';
import { ApiKey } from '../protocol/api-keys.js';
import { encodeBatch } from '../record/batch.js';
import type { CompressionName } from '../record/batch-format.js';
import type { RecordData, RecordHeaders } from '../record/record.js';
import type { KafkaClient } from './client.js';

export interface ProducerOptions {
  /** 0: no response; 1: the leader appended; -1: every in-sync replica has it (default). */
  acks?: 0 | 1 | -1;
  /** Default: true with acks=-1, as Kafka 3+ (enable.idempotence). */
  idempotent?: boolean;
  compression?: CompressionName;
  /** linger.ms: how long a batch waits for more records (Kafka 4 default 5). */
  lingerMs?: number;
  /** batch.size: a partition's batch is sent once it reaches this many bytes (default 16384). */
  batchBytes?: number;
  /** max.in.flight.requests.per.connection (default 5, the most idempotence allows). */
  maxInFlight?: number;
  /** Attempts after a retriable error (default 5). */
  retries?: number;
}

export interface ProducerRecord {
  key?: RecordData;
  value: RecordData;
  headers?: RecordHeaders;
  timestamp?: number;
  partition?: number;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 with acks=0. */
  offset: number;
}

/** One send() call: settled once every one of its records is acknowledged (or one fails). */
interface SendCall {
  results: RecordMetadata[];
  remaining: number;
  resolve: (results: RecordMetadata[]) => void;
  reject: (error: Error) => void;
  failed: boolean;
}

/** A record waiting in a batch, and where its result goes (one object per record, no promise). */
interface PendingRecord {
  record: ProducerRecord;
  call: SendCall;
  index: number;
}

interface Batch {
  topic: string;
  partition: number;
  records: PendingRecord[];
  estimatedBytes: number;
  /** Encoded once, at first send: a retry sends the same bytes with the same sequence. */
  encoded?: Buffer;
  attempts: number;
  /** When its first record came (performance.now() ms): linger.ms runs from here. */
  createdMs: number;
  /** linger.ms is over: it may be sent unfilled, and is once a request slot is free. */
  lingered: boolean;
}

/** Errors after which the same batch may be sent again (Kafka's RetriableException subclasses). */
const RETRIABLE = new Set(['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'REQUEST_TIMED_OUT', 'NETWORK_EXCEPTION', 'NOT_ENOUGH_REPLICAS', 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', 'OUT_OF_ORDER_SEQUENCE_NUMBER', 'KAFKA_STORAGE_ERROR', 'UNKNOWN_TOPIC_OR_PARTITION', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH']);
/** Errors after which the partition's leader is looked up again. */
const METADATA_REFRESH = new Set(['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'NETWORK_EXCEPTION', 'REQUEST_TIMED_OUT', 'UNKNOWN_TOPIC_OR_PARTITION', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'ENGINE_CLOSED']);
/** Per-record framing in a batch, for the size estimate: length, attributes, deltas, counts. */
const RECORD_OVERHEAD_BYTES = 12;
const BACKOFF_MS = 100;

export class Producer {
  private readonly acks: 0 | 1 | -1;
  private readonly idempotent: boolean;
  private readonly lingerMs: number;
  private readonly batchBytes: number;
  private readonly maxInFlight: number;
  private readonly retries: number;
  private readonly partitioner = new DefaultPartitioner();
  private readonly open = new Map<string, Batch>();
  private readonly ready: Batch[] = [];
  private readonly sequences = new Map<string, number>();
  private inFlight = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private producerId = -1;
  private producerEpoch = -1;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  private constructor(private readonly client: KafkaClient, private readonly options: ProducerOptions) {
    this.acks = options.acks ?? -1;
    this.idempotent = options.idempotent ?? this.acks === -1;
    if (this.idempotent && this.acks !== -1) throw new SluiceError('INVALID_CONFIG', 'An idempotent producer needs acks=-1 (all)');
    this.lingerMs = options.lingerMs ?? 5;
    this.batchBytes = options.batchBytes ?? 16_384;
    this.maxInFlight = options.maxInFlight ?? 5;
    this.retries = options.retries ?? 5;
  }

  static async create(client: KafkaClient, options: ProducerOptions = {}): Promise<Producer> {
    const producer = new Producer(client, options);
    if (producer.idempotent) {
      const connection = await client.anyConnection();
      const response = await connection.request(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
      if (response.errorCode !== 0) throw new SluiceError(kafkaErrorName(response.errorCode), `InitProducerId: ${kafkaErrorName(response.errorCode)}`);
      producer.producerId = response.producerId;
      producer.producerEpoch = response.producerEpoch;
    }
    return producer;
  }

  /** Queues records; resolves with each record's partition and offset once acknowledged. */
  async send(topic: string, records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    if (this.closed) throw new SluiceError('ENGINE_CLOSED', 'The producer is closed');
    const partitionCount = await this.client.partitionCount(topic);
    const partitions = this.partitioner.partitionAll(records, partitionCount, topic);
    if (records.length === 0) return [];
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      const call: SendCall = { results: new Array(records.length), remaining: records.length, resolve, reject, failed: false };
      records.forEach((record, index) => this.add(topic, partitions[index]!, { record, call, index }));
      this.pump();
    });
  }

  private add(topic: string, partition: number, pending: PendingRecord): void {
    const key = `${topic}\u0000${partition}`;
    let batch = this.open.get(key);
    if (!batch) {
      batch = { topic, partition, records: [], estimatedBytes: 61, attempts: 0, createdMs: performance.now(), lingered: false };
      this.open.set(key, batch);
    }
    batch.records.push(pending);
    batch.estimatedBytes += RECORD_OVERHEAD_BYTES + size(pending.record.key) + size(pending.record.value);
    if (batch.estimatedBytes >= this.batchBytes) {
      this.open.delete(key);
      this.ready.push(batch);
    } else if (!this.lingerTimer) {
      this.armLingerTimer();
    }
  }

  /**
   * linger.ms as Kafka's accumulator has it: a batch may be sent unfilled once it is linger.ms old,
   * but it stays open, taking records, until a request slot is free to send it. Sealing it when the
   * timer fired sent part-filled batches behind max.in.flight full ones whenever a request takes
   * longer than linger.ms: with acks=all to a replicated topic (~10 ms a request), a third of the
   * 256 KiB batches of bench/cluster.bench.ts (2341 records) went out with 318-2000 records.
   */
  private armLingerTimer(): void {
    let oldestMs = Infinity;
    for (const batch of this.open.values()) if (!batch.lingered) oldestMs = Math.min(oldestMs, batch.createdMs);
    if (oldestMs === Infinity) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      const nowMs = performance.now();
      for (const batch of this.open.values()) if (nowMs - batch.createdMs >= this.lingerMs) batch.lingered = true;
      this.pump();
      if (!this.lingerTimer) this.armLingerTimer();
    }, Math.max(0, oldestMs + this.lingerMs - performance.now()));
  }

  private closeOpenBatches(): void {
    for (const batch of this.open.values()) this.ready.push(batch);
    this.open.clear();
  }

  /**
   * Sends while fewer than max.in.flight requests are outstanding: each request takes the oldest
   * ready (full) batch of each partition, and the open batch of a partition with none ready once
   * it has lingered (Kafka's RecordAccumulator.drain).
   */
  private pump(): void {
    while (this.inFlight < this.maxInFlight) {
      // One request carries at most one batch per partition (Kafka requires it of idempotent producers).
      const taken: Batch[] = [];
      const seen = new Set<string>();
      for (let i = 0; i < this.ready.length; ) {
        const batch = this.ready[i]!;
        const key = `${batch.topic}\u0000${batch.partition}`;
        if (seen.has(key)) {
          i++;
          continue;
        }
        seen.add(key);
        taken.push(batch);
        this.ready.splice(i, 1);
      }
      for (const [key, batch] of this.open) {
        if (!batch.lingered || seen.has(key)) continue;
        this.open.delete(key);
        taken.push(batch);
      }
      if (taken.length === 0) break;
      void this.sendRequest(taken);
    }
    if (this.inFlight === 0 && this.ready.length === 0 && this.open.size === 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** One Produce request per leader among `batches` (a cluster's partitions have different leaders). */
  private async sendRequest(batches: Batch[]): Promise<void> {
    this.inFlight++;
    try {
      const byLeader = new Map<number, Batch[]>();
      for (const batch of batches) {
        let leader: number;
        try {
          leader = await this.client.leaderOf(batch.topic, batch.partition);
        } catch (error) {
          this.retryOrFail(batch, (error as SluiceError).code ?? 'LEADER_NOT_AVAILABLE', (error as Error).message);
          continue;
        }
        const list = byLeader.get(leader) ?? [];
        list.push(batch);
        byLeader.set(leader, list);
      }
      await Promise.all([...byLeader].map(([leader, list]) => this.sendToLeader(leader, list)));
    } finally {
      this.inFlight--;
      this.pump();
    }
  }

  private async sendToLeader(leader: number, batches: Batch[]): Promise<void> {
    try {
      const connection = await this.client.connectionTo(leader);
      const topicData = new Map<string, Array<{ index: number; records: Buffer }>>();
      for (const batch of batches) {
        batch.encoded ??= this.encode(batch);
        const list = topicData.get(batch.topic) ?? [];
        list.push({ index: batch.partition, records: batch.encoded });
        topicData.set(batch.topic, list);
      }
      const body = { transactionalId: null, acks: this.acks, timeoutMs: 30_000, topicData: [...topicData].map(([name, partitionData]) => ({ name, partitionData })) };
      if (this.acks === 0) {
        await connection.sendOnly(ApiKey.Produce, body);
        for (const batch of batches) settle(batch, -1);
        return;
      }
      const response = await connection.request(ApiKey.Produce, body);
      for (const topic of response.responses) {
        for (const answer of topic.partitionResponses) {
          const batch = batches.find((b) => b.topic === topic.name && b.partition === answer.index)!;
          if (answer.errorCode === 0) settle(batch, answer.baseOffset);
          else this.retryOrFail(batch, kafkaErrorName(answer.errorCode), answer.errorMessage);
        }
      }
    } catch (error) {
      // A Kafka error keeps its name; a lost or refused connection (a closed BrokerConnection, an
      // errno from the socket) is Kafka's NETWORK_EXCEPTION, retried on fresh metadata.
      const code = error instanceof SluiceError && error.code !== 'ENGINE_CLOSED' ? error.code : 'NETWORK_EXCEPTION';
      for (const batch of batches) this.retryOrFail(batch, code, (error as Error).message);
    }
  }

  private encode(batch: Batch): Buffer {
    const options: Parameters<typeof encodeBatch>[1] = { compression: this.options.compression ?? 'none' };
    if (this.idempotent) {
      const key = `${batch.topic}\u0000${batch.partition}`;
      const sequence = this.sequences.get(key) ?? 0;
      this.sequences.set(key, (sequence + batch.records.length) % 2 ** 31);
      Object.assign(options, { producerId: this.producerId, producerEpoch: this.producerEpoch, baseSequence: sequence });
    }
    return encodeBatch(batch.records.map((pending) => pending.record), options);
  }

  private retryOrFail(batch: Batch, code: string, message: string | null): void {
    if (RETRIABLE.has(code) && batch.attempts < this.retries && !this.closed) {
      batch.attempts++;
      // The leader may have moved: the retry asks for metadata again (as Kafka's producer does).
      if (METADATA_REFRESH.has(code)) this.client.invalidateLeaders(batch.topic);
      setTimeout(() => {
        // Back in front: failed batches come back in the order they failed, which is their
        // sequence order, so a partition's batches still reach the log in order.
        this.ready.unshift(batch);
        this.pump();
      }, BACKOFF_MS).unref();
      return;
    }
    const error = new SluiceError(code as SluiceErrorName, `Produce to ${batch.topic}-${batch.partition} failed: ${code}${message ? ` (${message})` : ''}`);
    for (const { call } of batch.records) {
      if (call.failed) continue;
      call.failed = true;
      call.reject(error);
    }
  }

  /** Sends everything queued now and resolves once all of it is acknowledged. */
  flush(): Promise<void> {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    this.closeOpenBatches();
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.pump();
    return idle;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
  }
}

function settle(batch: Batch, baseOffset: number): void {
  batch.records.forEach(({ call, index }, i) => {
    call.results[index] = { topic: batch.topic, partition: batch.partition, offset: baseOffset < 0 ? -1 : baseOffset + i };
    if (--call.remaining === 0 && !call.failed) call.resolve(call.results);
  });
}

function size(data: RecordData | undefined): number {
  if (data === null || data === undefined) return 0;
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}
