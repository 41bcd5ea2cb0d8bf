// The records of fetched batches as objects ({ offset, timestamp, key, value, headers }): what
// engine.fetch returns. One pass of the RecordCursor (record-cursor.ts, the hand-written walk)
// over the bytes, one object and one view per key and value a record; a record without headers
// gets the shared frozen NO_HEADERS instead of an empty array of its own.
import type { AbortedTransactionRef } from './aborted-transactions.js';
import type { DecodedRecord } from './record.js';
import { NO_HEADERS, RecordCursor } from './record-cursor.js';

// One cursor for every call: a decode runs synchronously to its end and never re-enters. A walk
// that throws leaves it holding the bytes until the next call.
const sharedCursor = new RecordCursor();

/**
 * Appends to `out` the records at or past `fromOffset` of the batches in `bytes` (whole batches
 * back to back, as a log read returns them), control batches left out. Keys, values and header
 * values are views of `bytes` for uncompressed batches, of the inflated records for compressed
 * ones. Throws CORRUPT_MESSAGE for malformed bytes, UNSUPPORTED_COMPRESSION_TYPE for a codec
 * without an implementation. With `abortedTransactions` (read_committed), their records are left
 * out too. Returns `out`.
 */
export function decodeRecords(bytes: Buffer, fromOffset: number, out: DecodedRecord[] = [], abortedTransactions?: readonly AbortedTransactionRef[]): DecodedRecord[] {
  const cursor = sharedCursor.reset(bytes, { fromOffset, abortedTransactions });
  while (cursor.next()) {
    out.push({
      offset: cursor.offset,
      timestamp: cursor.timestamp,
      key: cursor.key(),
      value: cursor.value(),
      headers: cursor.headerCount === 0 ? NO_HEADERS : cursor.headers(),
    });
  }
  return out;
}
