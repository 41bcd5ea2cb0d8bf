// What crosses between the pool consumer and its workers, and the one decode both sides share.
//
// A task carries the raw bytes of whole RecordBatches (what the log or the Fetch response held),
// copied once into an ArrayBuffer of their own, and the worker decodes them. Measured here
// (1000 records of 100 B per task, 2 workers): raw bytes 3.3M records/s with 20 us of main-thread
// time per task; decoding on the main thread and cloning the record objects instead 0.41M
// records/s with ~1 ms per task. So the main thread works per batch, never per record.
//
// The worker decodes with engine.fetch's RecordCursor walk (record/decode-records.ts), after one
// CRC check a batch when the bytes came off the network. Measured in one process on the 2-core
// machine, one 1000-record batch a call, CRC checked: 100 B values 10.3M records/s with the
// generic decodeBatch it replaced, 21.6M with the cursor; keyed with two headers 3.2M and 6.8M.
import { SluiceError } from '../errors.js';
import { checkBatch, iterateBatches } from '../record/batch.js';
import { decodeRecords as decodeBatches } from '../record/decode-records.js';

export interface PoolRecord {
  offset: number;
  timestamp: number;
  /** Views of the task's bytes (not copies): valid for as long as the handler keeps them. */
  key: Buffer | null;
  value: Buffer | null;
  /** A record without headers shares one frozen empty array (copy it to add to it), as engine.fetch's. */
  headers: Array<{ key: string; value: Buffer | null }>;
}

/** One handler call: records of one partition, in offset order. */
export interface PoolBatch {
  topic: string;
  partition: number;
  records: PoolRecord[];
}

export interface WorkerTask {
  /** URL of the handler module. */
  handler: string;
  topic: string;
  partition: number;
  /** Records below this offset are skipped (a batch may start before the position asked for). */
  startOffset: number;
  /** Whole RecordBatch v2 bytes. */
  bytes: Uint8Array;
  /** Bytes from our own log were checked on append; bytes off the network are checked again. */
  skipCrc: boolean;
}

/** Loads the handler and checks it (start() runs one in a worker to fail fast). */
export interface WorkerProbe {
  probe: true;
  handler: string;
}

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

export interface WorkerResult {
  /** Records handed to the handler. */
  records: number;
  /** Set when the handler threw or rejected. */
  error?: SerializedError;
}

/**
 * The records of whole batches at or after `startOffset`, control batches left out. Unless
 * `skipCrc`, every whole batch's CRC is checked first, control batches too (as Kafka's consumer
 * does): CORRUPT_MESSAGE on a mismatch, before any record reaches the handler.
 */
export function decodeRecords(bytes: Uint8Array, startOffset: number, skipCrc: boolean): PoolRecord[] {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!skipCrc) {
    for (const { at } of iterateBatches(buf)) {
      const reason = checkBatch(buf, at);
      if (reason !== null) throw new SluiceError('CORRUPT_MESSAGE', reason);
    }
  }
  return decodeBatches(buf, startOffset);
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, stack: error.stack, code: typeof code === 'string' ? code : undefined };
  }
  return { name: 'Error', message: String(error) };
}

export function deserializeError(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.stack) error.stack = serialized.stack;
  if (serialized.code !== undefined) Object.assign(error, { code: serialized.code });
  return error;
}
