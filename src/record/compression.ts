// The codecs a batch's records region may be compressed with, by Kafka's ids (attribute bits 0-2).
// 'none' and 'gzip' (node:zlib) are built in; snappy (xerial framing), lz4 (frame format) and zstd
// are registered by whichever module brings their implementation, with registerCodec(). The API
// is synchronous: a batch is compressed or decompressed whole, on the calling thread.
import { gunzipSync, gzipSync } from 'node:zlib';
import { SluiceError } from '../errors.js';
import { COMPRESSION_NAMES, CompressionId, type CompressionName } from './batch-format.js';

export type { CompressionName } from './batch-format.js';

export interface CompressionCodec {
  /** Kafka's id: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  readonly id: number;
  readonly name: CompressionName;
  /**
   * Compresses `data`. `level` is the codec's own scale (gzip -1 or 1..9, zstd -131072..22, as
   * Kafka's compression.<codec>.level); omitted, the codec's default. Codecs without levels ignore it.
   */
  compress(data: Buffer, level?: number): Buffer;
  /**
   * Inflates `data`. `maxOutputBytes` bounds the result (a guard against decompression bombs);
   * a codec throws when the output would exceed it. Any error thrown here is reported by the
   * batch decoder as CORRUPT_MESSAGE.
   */
  decompress(data: Buffer, maxOutputBytes?: number): Buffer;
}

const registry: (CompressionCodec | undefined)[] = new Array(COMPRESSION_NAMES.length);

/**
 * Adds or replaces the codec for `codec.id`. The id and name must be Kafka's pair (e.g. 2 and
 * 'snappy'), since the id is what lands on disk and on the wire.
 */
export function registerCodec(codec: CompressionCodec): void {
  if (COMPRESSION_NAMES[codec.id] !== codec.name) {
    throw new SluiceError(
      'UNSUPPORTED_COMPRESSION_TYPE',
      `codec id ${codec.id} with name '${codec.name}' is not one of Kafka's (${COMPRESSION_NAMES.map((n, i) => `${i} ${n}`).join(', ')})`,
    );
  }
  registry[codec.id] = codec;
}

/** The registered codec for an id or a name, or undefined. */
export function findCodec(idOrName: number | string): CompressionCodec | undefined {
  const id = typeof idOrName === 'number' ? idOrName : CompressionId[idOrName as CompressionName];
  return id === undefined ? undefined : registry[id];
}

/** The registered codec for an id or a name; throws UNSUPPORTED_COMPRESSION_TYPE when there is none. */
export function getCodec(idOrName: number | string): CompressionCodec {
  const codec = findCodec(idOrName);
  if (codec !== undefined) return codec;
  const known = typeof idOrName === 'number' ? COMPRESSION_NAMES[idOrName] : idOrName in CompressionId;
  throw new SluiceError(
    'UNSUPPORTED_COMPRESSION_TYPE',
    known
      ? `compression codec ${JSON.stringify(idOrName)} is not available: no implementation registered`
      : `unknown compression codec ${JSON.stringify(idOrName)}`,
  );
}

/** Names of the codecs registered now. */
export function registeredCodecs(): CompressionName[] {
  return registry.filter((c): c is CompressionCodec => c !== undefined).map((c) => c.name);
}

registerCodec({
  id: CompressionId.none,
  name: 'none',
  compress: (data) => data,
  decompress: (data) => data,
});

registerCodec({
  id: CompressionId.gzip,
  name: 'gzip',
  // Default: zlib's level 6 (-1), as the Java producer's compression.gzip.level=-1 and kafkajs use.
  compress: (data, level) => (level === undefined ? gzipSync(data) : gzipSync(data, { level })),
  decompress: (data, maxOutputBytes) =>
    maxOutputBytes === undefined ? gunzipSync(data) : gunzipSync(data, { maxOutputLength: maxOutputBytes }),
});
