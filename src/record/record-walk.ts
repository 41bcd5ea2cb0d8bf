// A walk over a batch's records region (uncompressed bytes) that checks every record's structure
// and gathers what the broker needs per batch, without making a record object: how many records
// there are, the largest timestamp, and the smallest and largest timestamps other than -1 (those
// the timestamp bounds apply to). It is the check Kafka's DefaultRecord.readFrom makes while its
// log validator iterates a batch: a record's length prefix, then attributes, timestampDelta,
// offsetDelta, key, value and headers must fill exactly that length.
//
// The walk runs in the addon (native/record_walk.cc): in JS it cost 50-70 us per batch of 1,000
// records of 100 B, a quarter of Log.appendSync's time for such a batch; in C++ it costs about
// what the batch's CRC does.
import { binding } from '../native/binding.js';
import { SluiceError } from '../errors.js';

/** What walkRecords found. */
export interface RecordsSummary {
  count: number;
  /** Largest record timestamp (baseTimestamp + delta), -1 (NO_TIMESTAMP) included. */
  maxTimestamp: number;
  /** Smallest and largest timestamp among records whose timestamp is not -1; NaN when none. */
  minCheckedTimestamp: number;
  maxCheckedTimestamp: number;
  /** Every record's offsetDelta equals its index (0, 1, ...). */
  offsetDeltasInOrder: boolean;
}

const WALK_ERRORS = [
  '',
  'its length is unreadable or runs past the end of the records',
  'its timestampDelta is unreadable',
  'its offsetDelta is unreadable',
  'its key length is unreadable or the key runs past the record',
  'its value length is unreadable or the value runs past the record',
  'a header count, header length or header runs past the record',
  'its fields end before its length says',
];

// One result array for every call: the walk is synchronous and per batch.
const out = new Float64Array(6);

/**
 * Walks the records in buf[start, end) and returns what it found. Throws SluiceError
 * ('INVALID_RECORD', as Kafka's InvalidRecordException) naming the record and byte where the
 * structure breaks. `baseTimestamp` must be a safe integer; timestamps come back exact to 2^53 ms.
 */
export function walkRecords(buf: Uint8Array, start: number, end: number, baseTimestamp: number): RecordsSummary {
  const error = binding.walkRecords(buf, start, end, baseTimestamp, out);
  if (error !== 0) {
    throw new SluiceError('INVALID_RECORD', `Found invalid record structure: record ${out[0]} at byte ${out[5]}: ${WALK_ERRORS[error] ?? `error ${error}`}`);
  }
  return {
    count: out[0]!,
    maxTimestamp: out[1]!,
    minCheckedTimestamp: out[2]!,
    maxCheckedTimestamp: out[3]!,
    offsetDeltasInOrder: out[4] === 1,
  };
}
