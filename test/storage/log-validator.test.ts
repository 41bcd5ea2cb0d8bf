// Appends are validated as Kafka's LogValidator validates a client's v2 batch: batches whose
// header lies are rewritten (maxTimestamp) or refused (count), timestamps outside the topic's
// bounds are refused naming the records, and compression.type recompresses what arrives in another
// codec while leaving a batch already in the topic's codec untouched.
import { afterEach, describe, expect, it, vi } from 'vitest';

import { RecordValidationError, isSluiceError } from '../../src/errors.js';
import '../../src/record/codecs/index.js';
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  CONTROL_MASK,
  CRC_START_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  RECORDS_COUNT_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  checkBatch,
  decodeBatch,
  encodeBatch,
  iterateBatches,
  readBatchHeader,
  stampCrc,
  type CompressionName,
  type EncodeBatchOptions,
} from '../../src/record/index.js';
import { Log } from '../../src/storage/log.js';
import { resolveLogConfig } from '../../src/storage/log-config.js';
import { payload, tempDir } from '../helpers.js';

const NOW = 1_700_000_000_000;

function openLog(overrides: Record<string, string | number> = {}, nowMs = () => NOW): Log {
  return Log.open({ dir: tempDir(), config: resolveLogConfig(overrides), nowMs });
}

/** `count` records 10 ms apart from `from`, out of order so the last is not the latest. */
function records(count: number, from = NOW - 60_000) {
  return Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: payload(i), timestamp: from + ((i * 7) % count) * 10 }));
}

function batch(count: number, options: EncodeBatchOptions & { from?: number } = {}): Buffer {
  return encodeBatch(records(count, options.from), { now: NOW, ...options });
}

/** What a client whose header lies would send: maxTimestamp -1 (sarama), the CRC made to match. */
function withMaxTimestamp(bytes: Buffer, maxTimestamp: bigint): Buffer {
  bytes.writeBigInt64BE(maxTimestamp, MAX_TIMESTAMP_OFFSET);
  stampCrc(bytes, 0);
  return bytes;
}

function withCount(bytes: Buffer, count: number): Buffer {
  bytes.writeInt32BE(count, RECORDS_COUNT_OFFSET);
  bytes.writeInt32BE(count - 1, LAST_OFFSET_DELTA_OFFSET);
  stampCrc(bytes, 0);
  return bytes;
}

/** Every stored batch of the log, read back from disk. */
function storedBatches(log: Log): Buffer[] {
  const out: Buffer[] = [];
  let offset = log.logStartOffset;
  for (;;) {
    const read = log.read(offset, 64 << 20);
    if (!read) return out;
    const bytes = log.readBytes(read);
    for (const { at, header } of iterateBatches(bytes)) out.push(bytes.subarray(at, at + header.sizeBytes));
    offset = read.region.lastOffset + 1;
  }
}

function expectCode(fn: () => unknown, code: string): SluiceErrorShape {
  try {
    fn();
  } catch (error) {
    expect(isSluiceError(error), String(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    return error as SluiceErrorShape;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}
type SluiceErrorShape = Error & { code: string };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a batch whose header lies', () => {
  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as CompressionName[]) {
    it(`maxTimestamp -1 (${compression}): the max is recomputed from the records, the header and CRC rewritten`, () => {
      const log = openLog();
      const sent = batch(20, { compression });
      const trueMax = readBatchHeader(sent).maxTimestamp;
      const compressedRecords = Buffer.from(sent.subarray(RECORDS_OFFSET));
      log.appendSync(withMaxTimestamp(sent, -1n));
      const [stored] = storedBatches(log);
      expect(checkBatch(stored!)).toBeNull();
      expect(readBatchHeader(stored!).maxTimestamp).toBe(trueMax);
      // The records themselves are stored as the producer compressed them.
      expect(stored!.subarray(RECORDS_OFFSET).equals(compressedRecords)).toBe(true);
      // ListOffsets by timestamp now finds the records (it answered null for everything before).
      const timestamps = decodeBatch(stored!).records.map((r) => r.timestamp);
      const firstAtOrAfter = (target: number) => {
        const offset = timestamps.findIndex((t) => t >= target);
        return { offset, timestamp: timestamps[offset] };
      };
      expect(log.offsetForTimestamp(trueMax)).toEqual(firstAtOrAfter(trueMax));
      expect(log.offsetForTimestamp(NOW - 60_000 + 1)).toEqual(firstAtOrAfter(NOW - 60_000 + 1));
      expect(log.offsetForTimestamp(NOW - 60_000 + 1)!.offset).toBeGreaterThan(0);
      expect(log.maxTimestampAndOffset()).toEqual(firstAtOrAfter(trueMax));
      log.close();
    });
  }

  it('an uncompressed maxTimestamp above every record is brought down to the real max', () => {
    const log = openLog();
    const sent = batch(5);
    const trueMax = readBatchHeader(sent).maxTimestamp;
    log.appendSync(withMaxTimestamp(sent, BigInt(NOW + 3_600_000)));
    expect(readBatchHeader(storedBatches(log)[0]!).maxTimestamp).toBe(trueMax);
    log.close();
  });

  it('a header that is right is not rewritten: the stored bytes are the sent bytes (offsets aside)', () => {
    const log = openLog();
    const sent = batch(5, { compression: 'lz4' });
    const copy = Buffer.from(sent);
    log.appendSync(sent);
    const [stored] = storedBatches(log);
    expect(stored!.subarray(CRC_START_OFFSET).equals(copy.subarray(CRC_START_OFFSET))).toBe(true);
    log.close();
  });

  for (const compression of ['none', 'zstd'] as CompressionName[]) {
    it(`a record count that is not the records held is INVALID_RECORD, and nothing is appended (${compression})`, () => {
      const log = openLog();
      // A compressed batch is read when its header cannot be trusted: its max lies too, as sarama's.
      const lying = (count: number) => {
        const bytes = withCount(batch(3, { compression }), count);
        return compression === 'none' ? bytes : withMaxTimestamp(bytes, -1n);
      };
      expect(expectCode(() => log.appendSync(lying(5)), 'INVALID_RECORD').message).toMatch(/declares 5 records but holds 3/);
      expect(expectCode(() => log.appendSync(lying(2)), 'INVALID_RECORD').message).toMatch(/declares 2 records but holds 3/);
      expect(log.logEndOffset).toBe(0);
      log.close();
    });
  }

  it('a record whose fields do not fill its length is INVALID_RECORD', () => {
    const log = openLog();
    const sent = batch(3);
    sent[RECORDS_OFFSET] = sent[RECORDS_OFFSET]! + 2; // the first record's length, a zigzag varint
    stampCrc(sent, 0);
    expectCode(() => log.appendSync(sent), 'INVALID_RECORD');
    expect(log.logEndOffset).toBe(0);
    log.close();
  });

  it('a control batch or an idempotent batch without a sequence is INVALID_RECORD', () => {
    const log = openLog();
    const control = batch(1);
    control.writeInt16BE(control.readInt16BE(ATTRIBUTES_OFFSET) | CONTROL_MASK, ATTRIBUTES_OFFSET);
    stampCrc(control, 0);
    expect(expectCode(() => log.appendSync(control), 'INVALID_RECORD').message).toMatch(/control records/);
    const noSequence = batch(1, { producerId: 7, producerEpoch: 0, baseSequence: 0 });
    noSequence.writeInt32BE(-1, BASE_SEQUENCE_OFFSET);
    stampCrc(noSequence, 0);
    expect(expectCode(() => log.appendSync(noSequence), 'INVALID_RECORD').message).toMatch(/Invalid sequence number/);
    log.close();
  });
});

describe('timestamps', () => {
  it('message.timestamp.before.max.ms refuses older records with INVALID_TIMESTAMP naming each one', () => {
    const log = openLog({ 'message.timestamp.before.max.ms': 1000 });
    const sent = encodeBatch(
      [
        { value: 'old', timestamp: NOW - 5000 },
        { value: 'fine', timestamp: NOW - 500 },
        { value: 'none', timestamp: -1 },
        { value: 'older', timestamp: NOW - 9000 },
      ],
      { now: NOW },
    );
    const error = expectCode(() => log.appendSync(sent), 'INVALID_TIMESTAMP') as RecordValidationError;
    expect(error).toBeInstanceOf(RecordValidationError);
    expect(error.recordErrors.map((e) => e.batchIndex)).toEqual([0, 3]);
    expect(error.recordErrors[0]!.message).toBe(
      `Timestamp ${NOW - 5000} of message with offset 0 is out of range. The timestamp should be within [${NOW - 1000}, ${BigInt(NOW) + 2n ** 63n - 1n}]`,
    );
    expect(log.logEndOffset).toBe(0);
    log.appendSync(encodeBatch([{ value: 'ok', timestamp: NOW - 1000 }, { value: 'no timestamp', timestamp: -1 }], { now: NOW }));
    expect(log.logEndOffset).toBe(2);
    log.close();
  });

  it('message.timestamp.after.max.ms refuses records from the future, compressed ones too', () => {
    const log = openLog({ 'message.timestamp.after.max.ms': 1000 });
    const future = encodeBatch([{ value: 'a', timestamp: NOW }, { value: 'b', timestamp: NOW + 2000 }], { now: NOW, compression: 'zstd' });
    const error = expectCode(() => log.appendSync(future), 'INVALID_TIMESTAMP') as RecordValidationError;
    expect(error.recordErrors.map((e) => e.batchIndex)).toEqual([1]);
    log.appendSync(encodeBatch([{ value: 'a', timestamp: NOW + 1000 }], { now: NOW, compression: 'zstd' }));
    expect(log.logEndOffset).toBe(1);
    log.close();
  });

  it('the deprecated message.timestamp.difference.max.ms bounds both sides while before/after keep their defaults', () => {
    const log = openLog({ 'message.timestamp.difference.max.ms': 1000 });
    expectCode(() => log.appendSync(encodeBatch([{ value: 'a', timestamp: NOW - 2000 }], { now: NOW })), 'INVALID_TIMESTAMP');
    expectCode(() => log.appendSync(encodeBatch([{ value: 'a', timestamp: NOW + 2000 }], { now: NOW })), 'INVALID_TIMESTAMP');
    const overridden = openLog({ 'message.timestamp.difference.max.ms': 1000, 'message.timestamp.before.max.ms': 5000 });
    overridden.appendSync(encodeBatch([{ value: 'a', timestamp: NOW - 2000 }], { now: NOW }));
    expectCode(() => overridden.appendSync(encodeBatch([{ value: 'a', timestamp: NOW + 2000 }], { now: NOW })), 'INVALID_TIMESTAMP');
    log.close();
    overridden.close();
  });

  it('LogAppendTime: the broker stamps its clock; a producer may not mark a batch LogAppendTime itself', () => {
    const log = openLog({ 'message.timestamp.type': 'LogAppendTime' });
    const result = log.appendSync(batch(3, { compression: 'gzip' }));
    expect(result.logAppendTime).toBe(NOW);
    const stored = decodeBatch(storedBatches(log)[0]!);
    expect(stored.header.timestampType).toBe('logAppend');
    expect(stored.records.map((r) => r.timestamp)).toEqual([NOW, NOW, NOW]);
    expectCode(() => log.appendSync(batch(1, { timestampType: 'logAppend' })), 'INVALID_TIMESTAMP');
    log.close();
  });

  it('CreateTime: a batch the producer marked LogAppendTime is stored as CreateTime at its max timestamp, or refused without one', () => {
    const log = openLog();
    const marked = batch(2, { timestampType: 'logAppend', now: NOW - 10 });
    log.appendSync(marked);
    const header = readBatchHeader(storedBatches(log)[0]!);
    expect(header.timestampType).toBe('create');
    expect(header.maxTimestamp).toBe(NOW - 10);
    const withoutTime = batch(2, { timestampType: 'logAppend' });
    withMaxTimestamp(withoutTime, -1n);
    expect(withoutTime.readInt16BE(ATTRIBUTES_OFFSET) & TIMESTAMP_TYPE_MASK).not.toBe(0);
    const error = expectCode(() => log.appendSync(withoutTime), 'INVALID_TIMESTAMP') as RecordValidationError;
    expect(error.recordErrors).toHaveLength(2);
    log.close();
  });
});

describe('compression.type', () => {
  const producerFields = { producerId: 42, producerEpoch: 3, baseSequence: 0 };

  for (const source of ['none', 'gzip', 'lz4', 'snappy'] as CompressionName[]) {
    it(`zstd recompresses a ${source} batch, keeping its records, deltas, timestamps and producer fields`, () => {
      const log = openLog({ 'compression.type': 'zstd' });
      const sent = batch(30, { compression: source, ...producerFields });
      const before = decodeBatch(sent);
      const result = log.appendSync(sent);
      expect(result).toMatchObject({ baseOffset: 0, lastOffset: 29, recordCount: 30 });
      const [stored] = storedBatches(log);
      expect(checkBatch(stored!)).toBeNull();
      const after = decodeBatch(stored!);
      expect(after.header.compressionName).toBe('zstd');
      for (const field of ['producerId', 'producerEpoch', 'baseSequence', 'baseTimestamp', 'maxTimestamp', 'lastOffsetDelta', 'recordsCount', 'timestampType'] as const) {
        expect(after.header[field]).toBe(before.header[field]);
      }
      expect(after.records).toEqual(before.records);
      // The idempotent producer's retry of that batch is still recognised as a duplicate.
      expect(log.appendSync(batch(30, { compression: source, ...producerFields })).duplicate).toBe(true);
      log.close();
    });
  }

  it('a batch already in the topic\'s codec is stored untouched', () => {
    const log = openLog({ 'compression.type': 'gzip' });
    const sent = batch(10, { compression: 'gzip' });
    const copy = Buffer.from(sent);
    log.appendSync(sent);
    expect(storedBatches(log)[0]!.subarray(CRC_START_OFFSET).equals(copy.subarray(CRC_START_OFFSET))).toBe(true);
    log.close();
  });

  it('producer keeps every codec as sent; uncompressed stores records uncompressed', () => {
    const producer = openLog();
    producer.appendSync(batch(3, { compression: 'lz4' }));
    expect(readBatchHeader(storedBatches(producer)[0]!).compressionName).toBe('lz4');
    const uncompressed = openLog({ 'compression.type': 'uncompressed' });
    const sent = batch(3, { compression: 'snappy' });
    const records = decodeBatch(sent).records;
    uncompressed.appendSync(sent);
    const stored = decodeBatch(storedBatches(uncompressed)[0]!);
    expect(stored.header.compressionName).toBe('none');
    expect(stored.records).toEqual(records);
    producer.close();
    uncompressed.close();
  });

  it('several batches in one append keep their own offsets when one of them is recompressed', () => {
    const log = openLog({ 'compression.type': 'gzip' });
    const result = log.appendSync(Buffer.concat([batch(2, { compression: 'gzip' }), batch(3), batch(4, { compression: 'lz4' })]));
    expect(result).toMatchObject({ baseOffset: 0, lastOffset: 8, batchCount: 3 });
    const stored = storedBatches(log).map((b) => readBatchHeader(b));
    expect(stored.map((h) => [h.baseOffset, h.lastOffset, h.compressionName])).toEqual([
      [0, 1, 'gzip'],
      [2, 4, 'gzip'],
      [5, 8, 'gzip'],
    ]);
    log.close();
  });

  it('compression levels reach the codec: zstd level 19 stores a smaller batch than level 1', () => {
    const text = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(40));
    const sizes = [1, 19].map((level) => {
      const log = openLog({ 'compression.type': 'zstd', 'compression.zstd.level': level });
      log.appendSync(encodeBatch(Array.from({ length: 50 }, (_, i) => ({ value: Buffer.concat([text, Buffer.from(String(i))]) })), { now: NOW }));
      const size = storedBatches(log)[0]!.length;
      log.close();
      return size;
    });
    expect(sizes[1]).toBeLessThan(sizes[0]!);
  });

  it('a recompressed batch larger than max.message.bytes is MESSAGE_TOO_LARGE', () => {
    const log = openLog({ 'compression.type': 'uncompressed', 'max.message.bytes': 2000 });
    const compressible = encodeBatch(Array.from({ length: 50 }, () => ({ value: Buffer.alloc(100, 1) })), { now: NOW, compression: 'gzip' });
    expect(compressible.length).toBeLessThan(2000);
    expectCode(() => log.appendSync(compressible), 'MESSAGE_TOO_LARGE');
    log.close();
  });
});

describe('segment.jitter.ms', () => {
  it('rolls a segment up to the jitter before segment.ms, never after', () => {
    // Kafka draws the jitter once per segment: a fixed draw of half makes it 500 of 1000 ms.
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const log = openLog({ 'segment.ms': 2000, 'segment.jitter.ms': 1000 });
    const at = (timestamp: number) => encodeBatch([{ value: 'x', timestamp }], { now: timestamp });
    log.appendSync(at(NOW));
    log.appendSync(at(NOW + 1500));
    expect(log.segmentCount).toBe(1);
    log.appendSync(at(NOW + 1501));
    expect(log.segmentCount).toBe(2);
    const plain = openLog({ 'segment.ms': 2000 });
    plain.appendSync(at(NOW));
    plain.appendSync(at(NOW + 2000));
    expect(plain.segmentCount).toBe(1);
    log.close();
    plain.close();
  });
});

describe('cleanup.policy', () => {
  it('compact alone keeps segments past retention.ms (retention belongs to delete)', () => {
    let now = NOW;
    const compact = openLog({ 'cleanup.policy': 'compact', 'retention.ms': 1000, 'segment.bytes': 200 }, () => now);
    const both = openLog({ 'cleanup.policy': 'compact,delete', 'retention.ms': 1000, 'segment.bytes': 200 }, () => now);
    for (const log of [compact, both]) for (let i = 0; i < 3; i++) log.appendSync(encodeBatch([{ key: `k${i}`, value: payload(i) }], { now }));
    now += 10_000;
    expect(compact.deleteRetainedSegments()).toBe(0);
    expect(both.deleteRetainedSegments()).toBe(2);
    compact.close();
    both.close();
  });
});

describe('ListOffsets by time', () => {
  it('looks past a compressed batch whose header claims a later max than its records hold', () => {
    const log = openLog();
    // Kept as sent: compressed, and its (too large) max is not below its base timestamp.
    const overstated = withMaxTimestamp(encodeBatch([{ value: 'a', timestamp: NOW - 100 }], { now: NOW, compression: 'gzip' }), BigInt(NOW + 100));
    log.appendSync(overstated);
    log.appendSync(encodeBatch([{ value: 'b', timestamp: NOW + 50 }], { now: NOW }));
    expect(log.offsetForTimestamp(NOW)).toEqual({ offset: 1, timestamp: NOW + 50 });
    log.close();
  });
});
