// `sluice dump-log <file>`: what kafka-dump-log prints for a segment, read straight from the file
// (no broker, no lock: it is safe on a live data directory, which may show a partial last batch).
//
//   .log        one line per batch; with --print-data-log (or --deep-iteration) one `| offset: ...`
//               line per record. A tail that is not a whole batch is reported, not fatal:
//               "Found N invalid bytes at the end of <file> (why)", Kafka's wording.
//   .index      `offset: O position: P` per entry      .timeindex  `timestamp: T offset: O`
//
// The file is read in 1 MiB windows (a window grows only for a batch larger than it), so a 1 GiB
// segment costs 1 MiB of memory.
import fs from 'node:fs';
import path from 'node:path';

import '../record/codecs/index.js';
import { checkBatch, decodeBatch, iterateBatches, type BatchHeader } from '../record/batch.js';
import { LOG_OVERHEAD } from '../record/batch-format.js';
import { LOG_FILE_SUFFIX, OFFSET_INDEX_ENTRY_BYTES, OFFSET_INDEX_FILE_SUFFIX, TIME_INDEX_ENTRY_BYTES, TIME_INDEX_FILE_SUFFIX } from '../storage/index-format.js';
import type { CommandSpec } from './args.js';
import { CliError, OutputBuffer, type Command } from './command.js';

const WINDOW_BYTES = 1024 * 1024;
const INT32_MAX = 0x7fffffff;
/** Control record types (Kafka's ControlRecordType): the key is version int16, type int16. */
const CONTROL_TYPES: Record<number, string> = { 0: 'ABORT', 1: 'COMMIT' };

const spec: CommandSpec = {
  name: 'dump-log',
  summary: 'Print the batches and records of a segment file, as kafka-dump-log does.',
  usage: '<segment.log|.index|.timeindex> [--print-data-log] [--deep-iteration]',
  positionals: ['file'],
  flags: [
    { name: 'print-data-log', type: 'boolean', description: 'Also print every record, with its key and payload (as UTF-8).' },
    { name: 'deep-iteration', type: 'boolean', description: 'Also print every record, without key and payload.' },
  ],
};

export const dumpLogCommand: Command = {
  spec,
  async run(args) {
    const file = args.positionals[0]!;
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CliError(`Cannot open ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message}`);
    }
    const out = new OutputBuffer();
    try {
      await out.line(`Dumping ${file}`);
      const name = path.basename(file);
      const baseOffset = /^(\d+)\./.test(name) ? Number(/^(\d+)\./.exec(name)![1]) : undefined;
      if (name.endsWith(OFFSET_INDEX_FILE_SUFFIX) || name.endsWith(TIME_INDEX_FILE_SUFFIX)) {
        await dumpIndex(fd, name.endsWith(TIME_INDEX_FILE_SUFFIX), baseOffset ?? 0, out);
      } else {
        if (!name.endsWith(LOG_FILE_SUFFIX)) process.stderr.write(`Warning: ${name} is not named like a segment (.log); reading it as one\n`);
        await dumpLog(fd, name, baseOffset, args.boolean('print-data-log'), args.boolean('deep-iteration'), out);
      }
      await out.flush();
      return 0;
    } finally {
      fs.closeSync(fd);
    }
  },
};

async function dumpLog(fd: number, name: string, baseOffset: number | undefined, printData: boolean, deep: boolean, out: OutputBuffer): Promise<void> {
  const fileBytes = fs.fstatSync(fd).size;
  let window = Buffer.allocUnsafe(Math.min(WINDOW_BYTES, Math.max(fileBytes, 1)));
  let position = 0; // file position of window[0]
  let startPrinted = false;
  while (position < fileBytes) {
    const filled = fs.readSync(fd, window, 0, Math.min(window.length, fileBytes - position), position);
    const batches = iterateBatches(window, { end: filled });
    for (const { at, header } of batches) {
      if (!startPrinted) {
        await out.line(`Log starting offset: ${baseOffset ?? header.baseOffset}`);
        startPrinted = true;
      }
      const valid = checkBatch(window, at, header.sizeBytes) === null;
      await out.line(batchLine(header, position + at, valid));
      if (printData || deep) await printRecords(window, at, header, printData, out);
    }
    const tailPosition = position + batches.position;
    if (batches.stop === 'end' && position + filled === fileBytes) return;
    if (batches.stop === 'incomplete' && tailPosition + Math.max(batches.nextBatchBytes, LOG_OVERHEAD) <= fileBytes) {
      // The next batch continues past this window: read again from its start, in a window that holds it.
      if (batches.nextBatchBytes > window.length) window = Buffer.allocUnsafe(batches.nextBatchBytes);
      position = tailPosition;
      continue;
    }
    if (batches.stop === 'end') {
      position = tailPosition;
      continue;
    }
    if (!startPrinted) await out.line(`Log starting offset: ${baseOffset ?? 0}`);
    // The iterator's reasons count bytes from the window's start; the line gives the file position.
    const reason = (batches.error ?? '').replace(/ at byte \d+/g, '');
    const why = (await isZeros(fd, tailPosition, fileBytes))
      ? 'zeros: preallocated or never written'
      : batches.stop === 'incomplete'
        ? `a torn write: ${batches.nextBatchBytes > 0 ? `${fileBytes - tailPosition} of the batch's ${batches.nextBatchBytes} bytes` : reason}`
        : reason;
    await out.line(`Found ${fileBytes - tailPosition} invalid bytes at the end of ${name} (position ${tailPosition}: ${why})`);
    return;
  }
  if (!startPrinted) await out.line(`Log starting offset: ${baseOffset ?? 0}`);
}

function batchLine(h: BatchHeader, position: number, valid: boolean): string {
  const lastSequence = h.baseSequence < 0 ? -1 : addSequence(h.baseSequence, h.lastOffsetDelta);
  return (
    `baseOffset: ${h.baseOffset} lastOffset: ${h.lastOffset} count: ${h.recordsCount} baseSequence: ${h.baseSequence} lastSequence: ${lastSequence} ` +
    `producerId: ${h.producerId} producerEpoch: ${h.producerEpoch} partitionLeaderEpoch: ${h.partitionLeaderEpoch} ` +
    `isTransactional: ${h.isTransactional} isControl: ${h.isControl} position: ${position} ${timestampLabel(h)}: ${h.maxTimestamp} ` +
    `size: ${h.sizeBytes} magic: ${h.magic} compresscodec: ${h.compressionName ?? `unknown(${h.compression})`} crc: ${h.crc} isvalid: ${valid}`
  );
}

async function printRecords(window: Buffer, at: number, header: BatchHeader, printData: boolean, out: OutputBuffer): Promise<void> {
  let records;
  try {
    records = decodeBatch(window, at, { skipCrc: true }).records;
  } catch (error) {
    await out.line(`| cannot read the records of this batch: ${(error as Error).message}`);
    return;
  }
  const label = timestampLabel(header);
  for (const record of records) {
    const sequence = header.baseSequence < 0 ? -1 : addSequence(header.baseSequence, record.offset - header.baseOffset);
    let line =
      `| offset: ${record.offset} ${label}: ${record.timestamp} keySize: ${record.key?.length ?? -1} valueSize: ${record.value?.length ?? -1} ` +
      `sequence: ${sequence} headerKeys: [${record.headers.map((h) => h.key).join(',')}]`;
    if (header.isControl) {
      const type = record.key && record.key.length >= 4 ? record.key.readInt16BE(2) : -1;
      const coordinatorEpoch = record.value && record.value.length >= 6 ? record.value.readInt32BE(2) : -1;
      line += type === 0 || type === 1 ? ` endTxnMarker: ${CONTROL_TYPES[type]} coordinatorEpoch: ${coordinatorEpoch}` : ` controlType: ${type}`;
    } else if (printData) {
      if (record.key !== null) line += ` key: ${record.key.toString('utf8')}`;
      if (record.value !== null) line += ` payload: ${record.value.toString('utf8')}`;
    }
    await out.line(line);
  }
}

function timestampLabel(header: BatchHeader): string {
  return header.timestampType === 'logAppend' ? 'LogAppendTime' : 'CreateTime';
}

/** Kafka's DefaultRecordBatch.incrementSequence: sequences wrap from Int32 max to 0. */
function addSequence(sequence: number, increment: number): number {
  return sequence > INT32_MAX - increment ? increment - (INT32_MAX - sequence) - 1 : sequence + increment;
}

async function isZeros(fd: number, from: number, to: number): Promise<boolean> {
  const chunk = Buffer.allocUnsafe(Math.min(WINDOW_BYTES, to - from));
  for (let position = from; position < to; ) {
    const read = fs.readSync(fd, chunk, 0, Math.min(chunk.length, to - position), position);
    if (read <= 0) return true;
    for (let i = 0; i < read; i++) if (chunk[i] !== 0) return false;
    position += read;
  }
  return true;
}

/**
 * An index's entries up to the first all-zero one: the unused, preallocated rest of an active
 * segment's index. No real entry is all zeros: Kafka indexes a batch only after
 * index.interval.bytes of log, so the first entry's position is above 0.
 */
async function dumpIndex(fd: number, timeIndex: boolean, baseOffset: number, out: OutputBuffer): Promise<void> {
  const entryBytes = timeIndex ? TIME_INDEX_ENTRY_BYTES : OFFSET_INDEX_ENTRY_BYTES;
  const bytes = fs.readFileSync(fd);
  const whole = bytes.length - (bytes.length % entryBytes);
  for (let at = 0; at < whole; at += entryBytes) {
    if (bytes.subarray(at, at + entryBytes).every((b) => b === 0)) break;
    if (timeIndex) await out.line(`timestamp: ${Number(bytes.readBigInt64BE(at))} offset: ${baseOffset + bytes.readUInt32BE(at + 8)}`);
    else await out.line(`offset: ${baseOffset + bytes.readUInt32BE(at)} position: ${bytes.readUInt32BE(at + 4)}`);
  }
  if (whole !== bytes.length) await out.line(`Found ${bytes.length - whole} invalid bytes at the end of the index (not a whole ${entryBytes}-byte entry)`);
}
