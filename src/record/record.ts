// One record inside a RecordBatch v2 (layout in batch-format.ts): sizing, writing, reading.
// Encoding is two passes so that a batch is one allocation: layoutRecords() measures every
// record (string byte lengths are computed once and kept in a module scratch array), then
// writeRecords() writes them in place with the same numbers. Both run synchronously and call no
// user code, so one module-wide scratch array is safe.
import { SluiceError } from '../errors.js';
import { sizeOfVarint, sizeOfVarlong, VarintReader, writeVarint, writeVarlong } from './varint.js';

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

/** Result of the sizing pass. */
export interface RecordsLayout {
  /** Bytes of all records, length prefixes included. */
  recordsBytes: number;
  baseTimestamp: number;
  maxTimestamp: number;
}

// Per record: body size, key length, value length, header count, then the byte length of every
// header key and value, in write order (-1 for null). writeRecords() consumes them in the same order.
let scratch = new Int32Array(1024);
let scratchUsed = 0;

function push(n: number): void {
  if (scratchUsed === scratch.length) {
    const grown = new Int32Array(scratch.length * 2);
    grown.set(scratch);
    scratch = grown;
  }
  scratch[scratchUsed++] = n;
}

function dataLength(data: RecordData | undefined, what: string, index: number): number {
  if (data === null || data === undefined) return -1;
  if (typeof data === 'string') return Buffer.byteLength(data, 'utf8');
  if (data instanceof Uint8Array) return data.length;
  throw new SluiceError('INVALID_RECORD', `record ${index}: ${what} must be a Buffer, a string or null, not ${typeof data}`);
}

function headerKeyLength(key: unknown, index: number): number {
  if (typeof key !== 'string') throw new SluiceError('INVALID_RECORD', `record ${index}: header keys must be strings`);
  return Buffer.byteLength(key, 'utf8');
}

function sizeOfData(length: number): number {
  return length < 0 ? 1 : sizeOfVarint(length) + length;
}

function timestampOf(record: RecordInput, now: number, index: number): number {
  if (record === null || typeof record !== 'object') throw new SluiceError('INVALID_RECORD', `record ${index} is not an object`);
  const ts = record.timestamp;
  if (ts === undefined || ts === null) return now;
  if (!Number.isSafeInteger(ts) || ts < -1) {
    throw new SluiceError('INVALID_RECORD', `record ${index}: timestamp ${ts} is not an integer number of milliseconds >= -1`);
  }
  return ts;
}

/**
 * Sizing pass over `records`. The batch's base timestamp is the first record's (as the Java
 * producer does), so later records may have negative deltas.
 */
export function layoutRecords(records: readonly RecordInput[], now: number): RecordsLayout {
  scratchUsed = 0;
  const count = records.length;
  const baseTimestamp = count === 0 ? now : timestampOf(records[0]!, now, 0);
  let maxTimestamp = baseTimestamp;
  let recordsBytes = 0;
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    const timestamp = timestampOf(record, now, i);
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const sizeSlot = scratchUsed;
    push(0);
    const keyLength = dataLength(record.key, 'key', i);
    push(keyLength);
    const valueLength = dataLength(record.value, 'value', i);
    push(valueLength);
    let body = 1 + sizeOfVarlong(timestamp - baseTimestamp) + sizeOfVarint(i) + sizeOfData(keyLength) + sizeOfData(valueLength);
    const countSlot = scratchUsed;
    push(0);
    let headerCount = 0;
    const headers = record.headers;
    if (headers !== undefined && headers !== null) {
      if (Array.isArray(headers)) {
        for (const header of headers as ReadonlyArray<{ key: string; value: RecordData | undefined }>) {
          const k = headerKeyLength(header?.key, i);
          const v = dataLength(header.value, 'header value', i);
          push(k);
          push(v);
          body += sizeOfVarint(k) + k + sizeOfData(v);
          headerCount++;
        }
      } else {
        const object = headers as { readonly [key: string]: RecordData | undefined | readonly RecordData[] };
        for (const key in object) {
          if (!Object.prototype.hasOwnProperty.call(object, key)) continue;
          const value = object[key];
          const k = headerKeyLength(key, i);
          if (Array.isArray(value)) {
            for (const item of value as readonly RecordData[]) {
              const v = dataLength(item, 'header value', i);
              push(k);
              push(v);
              body += sizeOfVarint(k) + k + sizeOfData(v);
              headerCount++;
            }
          } else {
            const v = dataLength(value as RecordData | undefined, 'header value', i);
            push(k);
            push(v);
            body += sizeOfVarint(k) + k + sizeOfData(v);
            headerCount++;
          }
        }
      }
    }
    body += sizeOfVarint(headerCount);
    scratch[countSlot] = headerCount;
    scratch[sizeSlot] = body;
    recordsBytes += sizeOfVarint(body) + body;
  }
  return { recordsBytes, baseTimestamp, maxTimestamp };
}

function writeData(buf: Buffer, at: number, data: RecordData | undefined, length: number): number {
  at = writeVarint(buf, at, length);
  if (length <= 0) return at;
  if (typeof data === 'string') buf.write(data, at, length, 'utf8');
  else buf.set(data as Uint8Array, at);
  return at + length;
}

/**
 * Writes `records` at `at` using the numbers of the layoutRecords() call made just before on the
 * same records (nothing else may encode in between). Returns the offset after the last record.
 */
export function writeRecords(buf: Buffer, at: number, records: readonly RecordInput[], layout: RecordsLayout, now: number): number {
  let slot = 0;
  const { baseTimestamp } = layout;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const body = scratch[slot++]!;
    const keyLength = scratch[slot++]!;
    const valueLength = scratch[slot++]!;
    at = writeVarint(buf, at, body);
    buf[at++] = 0; // attributes: none defined for records
    const ts = record.timestamp;
    at = writeVarlong(buf, at, (ts === undefined || ts === null ? now : ts) - baseTimestamp);
    at = writeVarint(buf, at, i);
    at = writeData(buf, at, record.key, keyLength);
    at = writeData(buf, at, record.value, valueLength);
    at = writeVarint(buf, at, scratch[slot++]!);
    const headers = record.headers;
    if (headers === undefined || headers === null) continue;
    if (Array.isArray(headers)) {
      for (const header of headers as ReadonlyArray<{ key: string; value: RecordData | undefined }>) {
        at = writeData(buf, at, header.key, scratch[slot++]!);
        at = writeData(buf, at, header.value, scratch[slot++]!);
      }
      continue;
    }
    const object = headers as { readonly [key: string]: RecordData | undefined | readonly RecordData[] };
    for (const key in object) {
      if (!Object.prototype.hasOwnProperty.call(object, key)) continue;
      const value = object[key];
      if (Array.isArray(value)) {
        for (const item of value as readonly RecordData[]) {
          at = writeData(buf, at, key, scratch[slot++]!);
          at = writeData(buf, at, item, scratch[slot++]!);
        }
      } else {
        at = writeData(buf, at, key, scratch[slot++]!);
        at = writeData(buf, at, value as RecordData | undefined, scratch[slot++]!);
      }
    }
  }
  return at;
}

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
      const headerKey = reader.readUtf8(headerKeyLength);
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
