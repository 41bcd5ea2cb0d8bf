// Zstandard (Kafka codec 4, KIP-110): standard zstd frames (RFC 8878), one or more, concatenated;
// skippable frames are allowed and produce nothing. We write one frame at zstd's default level 3,
// the Java producer's default too (compression.zstd.level), with the content size in its header.
//
// Reading streams the frames through one reused decompression context into output chunks sized
// to what maxOutputBytes still allows (plus one byte, to see an overflow), so a bomb stops at the
// bound instead of at the size it claims. The decoder's own window is bounded by zstd's default
// windowLogMax, 27 (128 MiB), which is also what Kafka's zstd-jni accepts: frames written at
// levels up to 22 stay readable.
//
// Package: `zstd-napi` (Node-API over libzstd 1.5.7, whose C sources it bundles). Synchronous, and
// its low-level DCtx.decompressStream lets us bound the output. Its install script tries a
// prebuilt binary from GitHub (prebuild-install), fails fast without that network, and compiles
// the bundled sources with node-gyp, the toolchain our own addon needs anyway (~30 s on 2 cores).
// Refused: @mongodb-js/zstd (prebuilt binary from GitHub only; its fallback script is not in the
// package), @toondepauw/node-zstd (no output bound), @bokuweb/zstd-wasm (async init, and a frame
// without a content size is capped at a fixed 1 MiB heap), fzstd (decompression only).
import zstdBinding from 'zstd-napi/binding.js';
import { compress as zstdCompressFrame } from 'zstd-napi';
import { SluiceError } from '../../errors.js';
import { CompressionId } from '../batch-format.js';
import type { CompressionCodec } from '../compression.js';

/** zstd's recommended output chunk (ZSTD_DStreamOutSize(), 128 KiB): the smallest chunk we hand it. */
const OUTPUT_CHUNK_BYTES_MIN = zstdBinding.dStreamOutSize();
/** Chunks grow with the output (doubling) up to this, to keep native calls few for large batches. */
const OUTPUT_CHUNK_BYTES_MAX = 8 * 1024 * 1024;

let dctx: InstanceType<typeof zstdBinding.DCtx> | undefined;

function corrupt(message: string, cause?: unknown): SluiceError {
  return new SluiceError('CORRUPT_MESSAGE', `zstd: ${message}`, cause === undefined ? undefined : { cause });
}

/** Compresses `data` as one zstd frame, at level 3 unless told otherwise (-131072..22, negative = faster). */
export function zstdCompress(data: Buffer, level?: number): Buffer {
  return level === undefined ? zstdCompressFrame(data) : zstdCompressFrame(data, { compressionLevel: level });
}

/**
 * Inflates concatenated zstd frames. Throws CORRUPT_MESSAGE for anything malformed or truncated,
 * and as soon as the output passes `maxOutputBytes`.
 */
export function zstdDecompress(data: Buffer, maxOutputBytes = Infinity): Buffer {
  if (data.length === 0) throw corrupt('no frame');
  dctx ??= new zstdBinding.DCtx();
  // A previous call may have thrown mid-frame: start from a clean session.
  dctx.reset(zstdBinding.ResetDirective.sessionOnly);
  const chunks: Buffer[] = [];
  let total = 0;
  let input = data;
  let frameDone = false;
  // The first chunk fits the first frame's declared size when its header has one (the usual
  // case), so a small batch does not pin a 128 KiB buffer behind its records.
  let next = declaredContentBytes(data) ?? OUTPUT_CHUNK_BYTES_MIN;
  for (;;) {
    // Room for what is still allowed and one byte more, so passing the bound is seen, not clipped.
    const room = Math.min(next + 1, OUTPUT_CHUNK_BYTES_MAX, maxOutputBytes - total + 1);
    const chunk = Buffer.allocUnsafe(room);
    let hint: number;
    let produced: number;
    let consumed: number;
    try {
      [hint, produced, consumed] = dctx.decompressStream(chunk, input);
    } catch (error) {
      throw corrupt(`at input byte ${data.length - input.length}: ${(error as Error)?.message ?? String(error)}`, error);
    }
    if (produced > 0) {
      // A mostly empty chunk (a frame without a declared size) is copied rather than kept whole.
      chunks.push(produced * 2 < room ? Buffer.from(chunk.subarray(0, produced)) : chunk.subarray(0, produced));
      total += produced;
      if (total > maxOutputBytes) throw corrupt(`output exceeds maxOutputBytes ${maxOutputBytes}`);
    }
    input = input.subarray(consumed);
    frameDone = hint === 0; // a frame is fully decoded and flushed
    if (input.length === 0 && (frameDone || (produced < room && consumed === 0))) break;
    if (produced === 0 && consumed === 0) throw corrupt(`no progress at input byte ${data.length - input.length}`);
    next = Math.max(OUTPUT_CHUNK_BYTES_MIN, total); // doubling, up to the cap
  }
  if (!frameDone) throw corrupt(`truncated: the last frame ends before its last block (${data.length} bytes read)`);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

/** The first frame's content size from its header, or undefined when absent or unreadable. */
function declaredContentBytes(data: Buffer): number | undefined {
  try {
    return zstdBinding.getFrameContentSize(data) ?? undefined;
  } catch {
    return undefined; // the stream decoder reports the real error
  }
}

export const zstdCodec: CompressionCodec = {
  id: CompressionId.zstd,
  name: 'zstd',
  compress: zstdCompress,
  decompress: zstdDecompress,
};
