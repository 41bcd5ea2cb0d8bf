// Kafka's records in __transaction_state, byte for byte (TransactionLogKey.json and
// TransactionLogValue.json of Kafka's transaction coordinator): one record per transactional id,
// the latest of which is the transaction's state; a null value (tombstone) forgets the id.
//
//   key    version int16 (0) | transactionalId string
//   value  version int16 (0) | producerId int64 | producerEpoch int16 | transactionTimeoutMs int32
//          | transactionStatus int8 | transactionPartitions [topic string, partitionIds [int32]] (nullable)
//          | transactionLastUpdateTimestampMs int64 | transactionStartTimestampMs int64
// Version 0 is written, as Kafka 3.x writes it; version 1 (flexible, Kafka 4's transaction version
// 2, whose tagged fields name the previous and next producer ids) is read too.
import { decodeMessage, defineMessage, encodeMessage, type Decoded } from '../../protocol/schema.js';
import { RecordWriter, corruptRecord, readRecord } from '../group/record-fields.js';

const KEY_VERSION = 0;
const VALUE_VERSION = 0;

/** TransactionState's bytes in the log (Kafka's TransactionState.id). */
export const TRANSACTION_STATUS = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
} as const;
export type TransactionStatus = keyof typeof TRANSACTION_STATUS;

const STATUS_BY_BYTE = new Map<number, TransactionStatus>(Object.entries(TRANSACTION_STATUS).map(([name, byte]) => [byte, name as TransactionStatus]));

// apiKey and type only satisfy defineMessage: this is a record value, not a request.
const TransactionLogValue = defineMessage({
  name: 'TransactionLogValue',
  apiKey: 0,
  type: 'response',
  validVersions: [0, 1],
  flexibleVersions: '1+',
  fields: [
    { name: 'producerId', type: 'int64', versions: '0+' },
    { name: 'previousProducerId', type: 'int64', versions: '1+', taggedVersions: '1+', tag: 0, default: -1 },
    { name: 'nextProducerId', type: 'int64', versions: '1+', taggedVersions: '1+', tag: 1, default: -1 },
    { name: 'producerEpoch', type: 'int16', versions: '0+' },
    { name: 'transactionTimeoutMs', type: 'int32', versions: '0+' },
    { name: 'transactionStatus', type: 'int8', versions: '0+' },
    {
      name: 'transactionPartitions',
      type: '[]PartitionsSchema',
      versions: '0+',
      nullableVersions: '0+',
      fields: [
        { name: 'topic', type: 'string', versions: '0+' },
        { name: 'partitionIds', type: '[]int32', versions: '0+' },
      ],
    },
    { name: 'transactionLastUpdateTimestampMs', type: 'int64', versions: '0+' },
    { name: 'transactionStartTimestampMs', type: 'int64', versions: '0+' },
    { name: 'clientTransactionVersion', type: 'int16', versions: '1+', taggedVersions: '1+', tag: 2, default: 0 },
  ],
});

/** A transactional id's state as one record holds it. */
export interface TransactionLogRecord {
  producerId: number;
  producerEpoch: number;
  transactionTimeoutMs: number;
  status: TransactionStatus;
  /** topic -> partitions in the transaction (empty once it completed). */
  partitions: Array<{ topic: string; partitionIds: number[] }>;
  lastUpdateTimestampMs: number;
  /** When the transaction began (its first partition), -1 when none is open. */
  startTimestampMs: number;
}

export function encodeTransactionLogKey(transactionalId: string): Buffer {
  return new RecordWriter().int16(KEY_VERSION).string(transactionalId, 'transactional id').toBuffer();
}

export function decodeTransactionLogKey(key: Buffer): string {
  return readRecord(key, 'a __transaction_state key', (reader) => {
    const version = reader.readInt16();
    if (version !== KEY_VERSION) throw corruptRecord(`__transaction_state key version ${version}`);
    return reader.readString();
  });
}

export function encodeTransactionLogValue(record: TransactionLogRecord): Buffer {
  const header = Buffer.alloc(2);
  header.writeInt16BE(VALUE_VERSION, 0);
  const body = encodeMessage(TransactionLogValue, VALUE_VERSION, {
    producerId: record.producerId,
    producerEpoch: record.producerEpoch,
    transactionTimeoutMs: record.transactionTimeoutMs,
    transactionStatus: TRANSACTION_STATUS[record.status],
    transactionPartitions: record.partitions,
    transactionLastUpdateTimestampMs: record.lastUpdateTimestampMs,
    transactionStartTimestampMs: record.startTimestampMs,
  });
  return Buffer.concat([header, body]);
}

export function decodeTransactionLogValue(value: Buffer): TransactionLogRecord {
  const version = readRecord(value, 'a __transaction_state value', (reader) => reader.readInt16());
  if (version < 0 || version > 1) throw corruptRecord(`__transaction_state value version ${version}`);
  const decoded = readRecord(value, `a __transaction_state value of version ${version}`, () => decodeMessage(TransactionLogValue, version, value.subarray(2))) as Decoded<typeof TransactionLogValue>;
  const status = STATUS_BY_BYTE.get(decoded.transactionStatus);
  if (status === undefined) throw corruptRecord(`transaction status ${decoded.transactionStatus}`);
  return {
    producerId: decoded.producerId,
    producerEpoch: decoded.producerEpoch,
    transactionTimeoutMs: decoded.transactionTimeoutMs,
    status,
    partitions: decoded.transactionPartitions ?? [],
    lastUpdateTimestampMs: decoded.transactionLastUpdateTimestampMs,
    startTimestampMs: decoded.transactionStartTimestampMs,
  };
}
