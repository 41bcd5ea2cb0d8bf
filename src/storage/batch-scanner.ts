// Walks the batch headers of a segment file without reading the records: a Kafka batch header
// says how long the batch is, so finding an offset or a batch boundary costs one parse per batch.
// Reads go through one scratch buffer: small batches are parsed many to a read, and a batch
// larger than the buffer costs a single read of its first bytes. Given the segment's read mapping
// (segment-mapping.ts), the walk reads the headers there and makes no read at all.
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BATCH_HEADER_BYTES,
  BATCH_LENGTH_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
} from '../record/batch-format.js';
import type { SegmentFile } from '../native/binding.js';

export interface BatchPosition {
  /** Byte position of the batch in the .log file. */
  position: number;
  baseOffset: number;
  lastOffset: number;
  sizeBytes: number;
  maxTimestamp: number;
  /** The epoch of the leader that wrote the batch, or -1 (a producer's value when no leader stamped it). */
  partitionLeaderEpoch: number;
  /** -1 unless the batch came from an idempotent producer. */
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** The header's attributes (codec, timestamp type, transactional and control bits). */
  attributes: number;
}

/** Bytes read per step; 8 KiB holds ~100 single-record batches of 80 bytes. */
const SCAN_CHUNK_BYTES = 8 * 1024;
const sharedScratch = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
let sharedScratchBusy = false;

/**
 * Yields the batches from `position` up to `endPosition`, stopping at the end or at the first
 * header that does not look like a whole batch inside the range. The scanner trusts what a clean
 * log holds; recovery validates CRCs separately. A scan borrows one module-wide scratch buffer
 * (scans are synchronous and rarely overlap); an overlapping scan allocates its own.
 */
export function* scanBatches(file: SegmentFile, position: number, endPosition: number, mapped: Buffer | null = null): Generator<BatchPosition> {
  if (mapped !== null && endPosition <= mapped.length) {
    yield* scanMapped(mapped, position, endPosition);
    return;
  }
  const borrowed = !sharedScratchBusy;
  const scratch = borrowed ? sharedScratch : Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
  if (borrowed) sharedScratchBusy = true;
  try {
    yield* scan(file, scratch, position, endPosition);
  } finally {
    if (borrowed) sharedScratchBusy = false;
  }
}

function* scan(file: SegmentFile, scratch: Buffer, position: number, endPosition: number): Generator<BatchPosition> {
  let chunkPosition = -1;
  let chunkBytes = 0;
  while (position + BATCH_HEADER_BYTES <= endPosition) {
    if (position < chunkPosition || position + BATCH_HEADER_BYTES > chunkPosition + chunkBytes) {
      chunkPosition = position;
      chunkBytes = file.readSync(position, scratch, 0, Math.min(SCAN_CHUNK_BYTES, endPosition - position));
      if (chunkBytes < BATCH_HEADER_BYTES) return;
    }
    const batch = headerAt(scratch, position - chunkPosition, position, endPosition);
    if (batch === null) return;
    yield batch;
    position += batch.sizeBytes;
  }
}

function* scanMapped(mapped: Buffer, position: number, endPosition: number): Generator<BatchPosition> {
  while (position + BATCH_HEADER_BYTES <= endPosition) {
    const batch = headerAt(mapped, position, position, endPosition);
    if (batch === null) return;
    yield batch;
    position += batch.sizeBytes;
  }
}

/** The header at `at` in `bytes` (the batch's `position` in the file), or null unless it looks like a whole batch before endPosition. */
function headerAt(bytes: Buffer, at: number, position: number, endPosition: number): BatchPosition | null {
  const sizeBytes = LOG_OVERHEAD + bytes.readInt32BE(at + BATCH_LENGTH_OFFSET);
  if (sizeBytes < BATCH_HEADER_BYTES || position + sizeBytes > endPosition || bytes[at + MAGIC_OFFSET] !== 2) return null;
  const baseOffset = readInt64(bytes, at);
  return {
    position,
    baseOffset,
    lastOffset: baseOffset + bytes.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET),
    sizeBytes,
    maxTimestamp: readInt64(bytes, at + MAX_TIMESTAMP_OFFSET),
    partitionLeaderEpoch: bytes.readInt32BE(at + PARTITION_LEADER_EPOCH_OFFSET),
    producerId: readInt64(bytes, at + PRODUCER_ID_OFFSET),
    producerEpoch: bytes.readInt16BE(at + PRODUCER_EPOCH_OFFSET),
    baseSequence: bytes.readInt32BE(at + BASE_SEQUENCE_OFFSET),
    attributes: bytes.readInt16BE(at + ATTRIBUTES_OFFSET),
  };
}

/**
 * A big-endian int64 as a Number from two 32-bit reads: exact for offsets, timestamps and producer
 * ids (all below 2^53), and no BigInt allocated per field (three a header, the largest cost of a
 * header walk after the preads).
 */
function readInt64(buffer: Buffer, at: number): number {
  return buffer.readInt32BE(at) * 4294967296 + buffer.readUInt32BE(at + 4);
}
