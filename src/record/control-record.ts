// Transaction markers: Kafka's control batches (attributes: transactional and control bits) that
// end a producer's transaction on a partition, one control record each (EndTransactionMarker):
//   key   int16 version (0), int16 type (0 ABORT, 1 COMMIT)
//   value int16 version (0), int32 coordinator epoch
// The transaction coordinator writes them (WriteTxnMarkers); a client may not. Consumers skip them,
// and read_committed consumers use them, with the fetch's AbortedTransactions, to drop what an
// abort ended.
import { SluiceError } from '../errors.js';
import { ATTRIBUTES_OFFSET, BATCH_HEADER_BYTES, COMPRESSION_CODEC_MASK, CONTROL_MASK, RECORDS_OFFSET } from './batch-format.js';
import { encodeBatch } from './batch.js';
import { VarintReader } from './varint.js';

export const ControlType = { ABORT: 0, COMMIT: 1 } as const;
export type ControlType = (typeof ControlType)[keyof typeof ControlType];

const CONTROL_RECORD_VERSION = 0;
const KEY_BYTES = 4;
const VALUE_BYTES = 6;

export interface TransactionMarker {
  producerId: number;
  producerEpoch: number;
  /** True for COMMIT, false for ABORT. */
  commit: boolean;
  /** The transaction coordinator's epoch (its __transaction_state partition's leader epoch). */
  coordinatorEpoch: number;
  /** The marker's timestamp, ms. */
  timestamp: number;
}

/** The marker as one RecordBatch v2 (offset 0, to be stamped by the log that appends it). */
export function encodeMarkerBatch(marker: TransactionMarker): Buffer {
  const key = Buffer.alloc(KEY_BYTES);
  key.writeInt16BE(CONTROL_RECORD_VERSION, 0);
  key.writeInt16BE(marker.commit ? ControlType.COMMIT : ControlType.ABORT, 2);
  const value = Buffer.alloc(VALUE_BYTES);
  value.writeInt16BE(CONTROL_RECORD_VERSION, 0);
  value.writeInt32BE(marker.coordinatorEpoch, 2);
  return encodeBatch([{ key, value, timestamp: marker.timestamp }], {
    producerId: marker.producerId,
    producerEpoch: marker.producerEpoch,
    baseSequence: -1,
    transactional: true,
    control: true,
    now: marker.timestamp,
  });
}

/** Whether the batch at `at` is a control batch. */
export function isControlBatch(buf: Buffer, at: number): boolean {
  return (buf.readInt16BE(at + ATTRIBUTES_OFFSET) & CONTROL_MASK) !== 0;
}

/**
 * The type of the control record that opens the (uncompressed) control batch at `at`: COMMIT,
 * ABORT, or another type Kafka defines for other uses (its KRaft records), returned as it is.
 * Throws CORRUPT_MESSAGE when the bytes do not hold a control record's key.
 */
export function controlTypeOf(buf: Buffer, at: number, sizeBytes: number): number {
  if (sizeBytes <= BATCH_HEADER_BYTES || (buf.readInt16BE(at + ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK) !== 0) {
    throw new SluiceError('CORRUPT_MESSAGE', `The control batch at byte ${at} holds no uncompressed record`);
  }
  const reader = new VarintReader(buf, at + RECORDS_OFFSET, at + sizeBytes);
  reader.readVarint(); // record length
  reader.pos += 1; // attributes
  reader.readVarlong(); // timestamp delta
  reader.readVarint(); // offset delta
  const keyBytes = reader.readVarint();
  if (keyBytes < KEY_BYTES || reader.remaining < keyBytes) {
    throw new SluiceError('CORRUPT_MESSAGE', `The control record at byte ${at} has a key of ${keyBytes} bytes, not ${KEY_BYTES}`);
  }
  return buf.readInt16BE(reader.pos + 2);
}
