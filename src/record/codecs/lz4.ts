// LZ4 (Kafka codec 3) in the LZ4 frame format, which is what v2 batches carry. (Magic 0/1 messages
// had Kafka's broken header checksum, KAFKA-3160; v2 batches use the standard one.)
//
//   frame   magic u32 LE 0x184D2204 | FLG | BD | content size u64 LE if FLG.3 | dictionary id u32 LE
//           if FLG.0 | header checksum u8 | blocks | content checksum u32 if FLG.2
//           FLG bits 7-6 version 01, 5 independent blocks, 4 block checksums, 3 content size,
//           2 content checksum, 1 reserved, 0 dictionary id. BD bits 6-4: max block size,
//           4 = 64 KiB, 5 = 256 KiB, 6 = 1 MiB, 7 = 4 MiB.
//   block   size u32 LE (bit 31 set: stored uncompressed; 0: end mark) | data | checksum u32 if FLG.4
//   skippable frame: magic 0x184D2A50..5F | size u32 LE | size bytes, ignored
//
// The library inflates a frame in one call with no output bound, and is lenient (it returns the
// first frame and ignores what follows, even a missing end mark). So before calling it we walk the
// frames here: every block size, and inside each compressed block the LZ4 sequence tokens (literal
// and match lengths), which gives the exact output size without producing any output. A walk
// that passes maxOutputBytes, or finds a structure out of place, throws CORRUPT_MESSAGE; only then
// is each frame inflated, by itself, and checked to give the size the walk found.
//
// Package: `lz4-napi` (napi-rs over the Rust `lz4_flex` crate). Synchronous frame API, native
// speed, binaries in registry packages (@antoniomuso/lz4-napi-<platform>). `lz4js` (pure JS) was
// refused: given a flipped byte or a size cap it returns wrong or truncated output, no error.
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { SluiceError } from '../../errors.js';
import { CompressionId } from '../batch-format.js';
import type { CompressionCodec } from '../compression.js';

export const LZ4_FRAME_MAGIC = 0x184d2204;
const SKIPPABLE_MAGIC = 0x184d2a50;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const FLG_VERSION_MASK = 0xc0;
const FLG_VERSION_01 = 0x40;
const FLG_RESERVED = 0x02;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_DICTIONARY_ID = 0x01;
const BD_RESERVED = 0x8f;
const BLOCK_UNCOMPRESSED = 0x80000000;
const MIN_MATCH = 4;

interface Frame {
  start: number;
  end: number;
  outputBytes: number;
}

function corrupt(message: string, cause?: unknown): SluiceError {
  return new SluiceError('CORRUPT_MESSAGE', `lz4: ${message}`, cause === undefined ? undefined : { cause });
}

/** Compresses `data` as one LZ4 frame: independent blocks, no checksums, as Kafka's Java client writes. */
export function lz4Compress(data: Buffer): Buffer {
  return compressFrameSync(data);
}

/**
 * Inflates one or more concatenated LZ4 frames. Throws CORRUPT_MESSAGE for anything malformed, and
 * when the output would pass `maxOutputBytes`, before allocating it.
 */
export function lz4Decompress(data: Buffer, maxOutputBytes = Infinity): Buffer {
  const frames = walkFrames(data, maxOutputBytes);
  const parts: Buffer[] = [];
  let total = 0;
  for (const frame of frames) {
    let out: Buffer;
    try {
      out = decompressFrameSync(data.subarray(frame.start, frame.end));
    } catch (error) {
      throw corrupt(`frame at byte ${frame.start}: ${(error as Error)?.message ?? String(error)}`, error);
    }
    if (out.length !== frame.outputBytes) {
      throw corrupt(`frame at byte ${frame.start} inflated to ${out.length} bytes, its blocks hold ${frame.outputBytes}`);
    }
    parts.push(out);
    total += out.length;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

/** The data frames of `data` with their exact output sizes; skippable frames are left out. */
function walkFrames(data: Buffer, maxOutputBytes: number): Frame[] {
  if (data.length === 0) throw corrupt('no frame');
  const frames: Frame[] = [];
  let total = 0;
  let at = 0;
  while (at < data.length) {
    need(data, at, 4, 'frame magic');
    const magic = data.readUInt32LE(at);
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(data, at + 4, 4, 'skippable frame size');
      const size = data.readUInt32LE(at + 4);
      need(data, at + 8, size, 'skippable frame');
      at += 8 + size;
      continue;
    }
    if (magic !== LZ4_FRAME_MAGIC) throw corrupt(`bad magic 0x${magic.toString(16)} at byte ${at}`);
    const frame = walkFrame(data, at, maxOutputBytes - total);
    frames.push(frame);
    total += frame.outputBytes;
    at = frame.end;
  }
  if (frames.length === 0) throw corrupt('only skippable frames');
  return frames;
}

function walkFrame(data: Buffer, start: number, maxOutputBytes: number): Frame {
  need(data, start + 4, 3, 'frame descriptor');
  const flg = data[start + 4]!;
  const bd = data[start + 5]!;
  if ((flg & FLG_VERSION_MASK) !== FLG_VERSION_01 || flg & FLG_RESERVED || bd & BD_RESERVED) {
    throw corrupt(`bad frame descriptor FLG 0x${flg.toString(16)} BD 0x${bd.toString(16)} at byte ${start + 4}`);
  }
  const blockIdBits = (bd >> 4) & 7;
  if (blockIdBits < 4) throw corrupt(`bad block size id ${blockIdBits} at byte ${start + 5}`);
  const blockBytesMax = 1 << (8 + 2 * blockIdBits); // 4 -> 64 KiB ... 7 -> 4 MiB
  let at = start + 6;
  if (flg & FLG_CONTENT_SIZE) {
    need(data, at, 8, 'content size');
    const declared = data.readUInt32LE(at + 4) * 2 ** 32 + data.readUInt32LE(at);
    if (declared > maxOutputBytes) throw tooLarge(declared, maxOutputBytes, start);
    at += 8;
  }
  if (flg & FLG_DICTIONARY_ID) at += 4;
  at += 1; // header checksum, verified by the library
  const blockChecksumBytes = flg & FLG_BLOCK_CHECKSUM ? 4 : 0;
  let outputBytes = 0;
  for (;;) {
    need(data, at, 4, 'block size');
    const word = data.readUInt32LE(at);
    at += 4;
    if (word === 0) break; // end mark
    const size = (word & ~BLOCK_UNCOMPRESSED) >>> 0;
    if (size > blockBytesMax) throw corrupt(`block at byte ${at - 4} of ${size} bytes, the frame allows ${blockBytesMax}`);
    need(data, at, size + blockChecksumBytes, 'block');
    const limit = Math.min(blockBytesMax, maxOutputBytes - outputBytes);
    const blockOutput = word & BLOCK_UNCOMPRESSED ? size : sequenceOutputBytes(data, at, at + size, limit);
    if (blockOutput > blockBytesMax) throw corrupt(`block at byte ${at - 4} inflates past the frame's ${blockBytesMax}-byte blocks`);
    outputBytes += blockOutput;
    if (outputBytes > maxOutputBytes) throw tooLarge(outputBytes, maxOutputBytes, start);
    at += size + blockChecksumBytes;
  }
  if (flg & FLG_CONTENT_CHECKSUM) {
    need(data, at, 4, 'content checksum');
    at += 4;
  }
  return { start, end: at, outputBytes };
}

/**
 * The output size of the LZ4 block data[start, end), from its sequences: token (literal length
 * high nibble, match length - 4 low nibble, 15 = more bytes follow, each adding up to 255),
 * literals, 2-byte offset, extra match-length bytes; the last sequence has literals only.
 * Stops as soon as the size passes `limit` and returns it (then > limit).
 */
function sequenceOutputBytes(data: Buffer, start: number, end: number, limit: number): number {
  let at = start;
  let output = 0;
  for (;;) {
    if (at >= end) throw corrupt(`block at byte ${start} ends inside a sequence`);
    const token = data[at++]!;
    let literals = token >> 4;
    if (literals === 15) {
      let byte: number;
      do {
        if (at >= end) throw corrupt(`block at byte ${start} ends inside a literal length`);
        byte = data[at++]!;
        literals += byte;
      } while (byte === 255);
    }
    at += literals;
    output += literals;
    if (at === end) return output;
    if (at + 2 > end) throw corrupt(`block at byte ${start}: literals or offset run past its end`);
    if (data[at] === 0 && data[at + 1] === 0) throw corrupt(`block at byte ${start}: match offset 0 at byte ${at}`);
    at += 2;
    let match = token & 15;
    if (match === 15) {
      let byte: number;
      do {
        if (at >= end) throw corrupt(`block at byte ${start} ends inside a match length`);
        byte = data[at++]!;
        match += byte;
      } while (byte === 255);
    }
    output += match + MIN_MATCH;
    if (output > limit) return output;
  }
}

function need(data: Buffer, at: number, bytes: number, what: string): void {
  if (at + bytes > data.length) throw corrupt(`truncated ${what} at byte ${at}: ${bytes} bytes needed, ${Math.max(0, data.length - at)} left`);
}

function tooLarge(bytes: number, maxOutputBytes: number, frameStart: number): SluiceError {
  return corrupt(`output would exceed maxOutputBytes ${maxOutputBytes}: the frame at byte ${frameStart} holds at least ${bytes} bytes`);
}

export const lz4Codec: CompressionCodec = {
  id: CompressionId.lz4,
  name: 'lz4',
  compress: lz4Compress,
  decompress: lz4Decompress,
};
