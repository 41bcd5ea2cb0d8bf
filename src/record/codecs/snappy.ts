// Snappy (Kafka codec 2) as Kafka carries it: snappy-java's "xerial" stream framing, or one bare
// snappy block.
//
//   xerial  header, 16 bytes: magic 82 53 4E 41 50 50 59 00 ("\x82SNAPPY\0"), int32 BE version 1,
//           int32 BE compatible version 1; then blocks: int32 BE compressed length, one raw
//           snappy block. Kafka's Java producer writes it (org.xerial.snappy.SnappyOutputStream,
//           32 KiB of input per block), and so do we, byte for byte.
//   raw     one snappy block for the whole records region. librdkafka's and kafkajs-snappy's
//           producers write this; snappy-java's SnappyInputStream and librdkafka's reader fall
//           back to it when the magic is missing, so a broker must accept it too.
//
// A raw block opens with its uncompressed length as a varint, so every output size is known
// before anything is inflated: maxOutputBytes is checked against the declared lengths, and a
// length no encoder could have produced from the block's size is refused without calling the
// library (the densest snappy element, a 3-byte copy, emits 64 bytes: at most 64/3 per byte).
//
// Package: `snappy` (napi-rs over the Rust `snap` crate). Synchronous, native speed, and its
// binary ships inside registry packages (@napi-rs/snappy-<platform> optional dependencies):
// nothing is downloaded or compiled at install. `snappyjs` (pure JS) was the alternative.
import { compressSync, uncompressSync } from 'snappy';
import { SluiceError } from '../../errors.js';
import { CompressionId } from '../batch-format.js';
import type { CompressionCodec } from '../compression.js';

/** "\x82SNAPPY\0": snappy-java's SnappyCodec.MAGIC_HEADER. */
export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
/** Magic (8) + version (4) + compatible version (4). */
export const XERIAL_HEADER_BYTES = 16;
/** snappy-java's SnappyCodec.DEFAULT_VERSION and MINIMUM_COMPATIBLE_VERSION. */
const XERIAL_VERSION = 1;
/** SnappyOutputStream's default block size, which Kafka's SnappyFactory uses. */
export const XERIAL_BLOCK_BYTES = 32 * 1024;
const BLOCK_LENGTH_BYTES = 4;

const XERIAL_HEADER = Buffer.alloc(XERIAL_HEADER_BYTES);
XERIAL_MAGIC.copy(XERIAL_HEADER, 0);
XERIAL_HEADER.writeInt32BE(XERIAL_VERSION, 8);
XERIAL_HEADER.writeInt32BE(XERIAL_VERSION, 12);

function corrupt(message: string, cause?: unknown): SluiceError {
  return new SluiceError('CORRUPT_MESSAGE', `snappy: ${message}`, cause === undefined ? undefined : { cause });
}

/** True when `data` opens with the xerial header (magic only, as snappy-java and librdkafka test). */
export function isXerialFramed(data: Uint8Array): boolean {
  if (data.length < XERIAL_HEADER_BYTES) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (data[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** Compresses `data` in snappy-java's framing, one raw block per 32 KiB of input. */
export function snappyCompress(data: Buffer): Buffer {
  const parts: Buffer[] = [XERIAL_HEADER];
  let total = XERIAL_HEADER_BYTES;
  for (let at = 0; at < data.length; at += XERIAL_BLOCK_BYTES) {
    const block = compressSync(data.subarray(at, Math.min(at + XERIAL_BLOCK_BYTES, data.length)));
    const length = Buffer.allocUnsafe(BLOCK_LENGTH_BYTES);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
    total += BLOCK_LENGTH_BYTES + block.length;
  }
  return Buffer.concat(parts, total);
}

/**
 * Inflates xerial-framed or raw snappy. Throws CORRUPT_MESSAGE for anything malformed and when the
 * output would pass `maxOutputBytes`, before allocating it.
 */
export function snappyDecompress(data: Buffer, maxOutputBytes = Infinity): Buffer {
  if (!isXerialFramed(data)) return inflateBlock(data, 0, data.length, maxOutputBytes);
  const version = data.readInt32BE(8);
  if (version < XERIAL_VERSION) throw corrupt(`xerial version ${version}, at least ${XERIAL_VERSION} is required`);
  const blocks: Buffer[] = [];
  let total = 0;
  let at = XERIAL_HEADER_BYTES;
  while (at < data.length) {
    if (data.length - at < BLOCK_LENGTH_BYTES) throw corrupt(`truncated block length at byte ${at}`);
    const length = data.readInt32BE(at);
    at += BLOCK_LENGTH_BYTES;
    if (length <= 0 || length > data.length - at) {
      throw corrupt(`block at byte ${at - BLOCK_LENGTH_BYTES} says ${length} bytes, ${data.length - at} follow`);
    }
    const block = inflateBlock(data, at, at + length, maxOutputBytes - total);
    blocks.push(block);
    total += block.length;
    at += length;
  }
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks, total);
}

/** Inflates the raw snappy block data[start, end), refusing a declared length over `maxOutputBytes`. */
function inflateBlock(data: Buffer, start: number, end: number, maxOutputBytes: number): Buffer {
  // Preamble: the uncompressed length, a little-endian base-128 varint of at most 5 bytes (< 2^32).
  let declared = 0;
  let at = start;
  for (let shift = 0; ; shift += 7) {
    if (at >= end || shift > 28) throw corrupt(`bad length preamble in block at byte ${start}`);
    const byte = data[at++]!;
    declared += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
  }
  if (declared > ((end - at) * 64) / 3) {
    throw corrupt(`block at byte ${start} declares ${declared} bytes, more than ${end - at} compressed bytes can hold`);
  }
  if (declared > maxOutputBytes) {
    throw corrupt(`output would exceed maxOutputBytes: a block at byte ${start} declares ${declared} bytes, ${Math.max(0, maxOutputBytes)} are left`);
  }
  let out: Buffer;
  try {
    out = uncompressSync(data.subarray(start, end), { asBuffer: true }) as Buffer;
  } catch (error) {
    throw corrupt(`block at byte ${start}: ${(error as Error)?.message ?? String(error)}`, error);
  }
  if (out.length !== declared) throw corrupt(`block at byte ${start} inflated to ${out.length} bytes, it declares ${declared}`);
  return out;
}

export const snappyCodec: CompressionCodec = {
  id: CompressionId.snappy,
  name: 'snappy',
  compress: snappyCompress,
  decompress: snappyDecompress,
};
