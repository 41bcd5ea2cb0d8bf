// One record inside a RecordBatch v2 (layout in batch-format.ts): what a record is given as and
// read back as, and reading one. Writing records is batch-encoder.ts's (one pass into a reused
// buffer).
import { SluiceError } from '../errors.js';
import { HeaderKeys } from './header-keys.js';
import { VarintReader } from './varint.js';

/** Bytes for a key, value or header value: a Buffer (or any Uint8Array), a string (UTF-8), or null. */
export type RecordData = Uint8Array | string | null;

/**
 * Headers as an object (several values for one key as an array, as kafkajs accepts) or as an
 * ordered list. Header keys are strings; values may be null.
 */
export type RecordHeaders =
  | { readonly [key: string]: RecordData | undefined | readonly RecordData[] }
  | ReadonlyArray<{ readonly key: string; readonly value: RecordData | undefined }>;

export interface RecordInput {
  key?: RecordData | undefined;
  value: RecordData | undefined;
  headers?: RecordHeaders | undefined;
  /** Milliseconds since the epoch; defaults to the batch's `now`. */
  timestamp?: number | undefined;
}

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** The smallest record: length, attributes, timestampDelta, offsetDelta, key, value, headerCount. */
export const RECORD_BYTES_MIN = 7;

/** readRecord's header keys (header-keys.ts says why): a read is synchronous and never re-enters. */
const headerKeys = new HeaderKeys();

/**
 * Reads one record at the reader's position. `key`, `value` and header values are views of the
 * reader's buffer, not copies. Throws CORRUPT_MESSAGE on any malformed field, including a record
 * whose fields do not fill exactly its declared length.
 */
export function readRecord(reader: VarintReader, baseOffset: number, baseTimestamp: number, logAppendTime: number | null): DecodedRecord {
  const lengthAt = reader.pos;
  const length = reader.readVarint();
  const outerEnd = reader.end;
  const start = reader.pos;
  if (length < RECORD_BYTES_MIN - 1 || length > outerEnd - start) {
    throw new SluiceError('CORRUPT_MESSAGE', `record length ${length} at byte ${lengthAt} does not fit the ${outerEnd - start} bytes left`);
  }
  const end = start + length;
  reader.end = end;
  try {
    reader.readInt8(); // attributes, unused
    const timestampDelta = reader.readVarlong();
    const offsetDelta = reader.readVarint();
    const keyLength = reader.readVarint();
    // As the Java client: any negative length is a null key or value.
    const key = keyLength < 0 ? null : reader.readBytes(keyLength);
    const valueLength = reader.readVarint();
    const value = valueLength < 0 ? null : reader.readBytes(valueLength);
    const countAt = reader.pos;
    const headerCount = reader.readVarint();
    // Each header takes at least 2 bytes; checking first keeps a corrupt count from allocating.
    if (headerCount < 0 || headerCount * 2 > reader.remaining) {
      throw new SluiceError('CORRUPT_MESSAGE', `invalid header count ${headerCount} at byte ${countAt}`);
    }
    const headers: RecordHeader[] = new Array(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const keyAt = reader.pos;
      const headerKeyLength = reader.readVarint();
      if (headerKeyLength < 0) throw new SluiceError('CORRUPT_MESSAGE', `negative header key length ${headerKeyLength} at byte ${keyAt}`);
      const keyStart = reader.pos;
      reader.skip(headerKeyLength);
      const headerKey = headerKeys.keyAt(h, reader.buf, keyStart, headerKeyLength);
      const headerValueLength = reader.readVarint();
      headers[h] = { key: headerKey, value: headerValueLength < 0 ? null : reader.readBytes(headerValueLength) };
    }
    if (reader.pos !== end) {
      throw new SluiceError('CORRUPT_MESSAGE', `record at byte ${lengthAt} declares ${length} bytes but its fields use ${reader.pos - start}`);
    }
    return {
      offset: baseOffset + offsetDelta,
      timestamp: logAppendTime ?? baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    };
  } finally {
    reader.end = outerEnd;
  }
}
