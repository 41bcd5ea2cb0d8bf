// The Java client's murmur2 (org.apache.kafka.common.utils.Utils.murmur2, seed 0x9747b28c), the
// hash its default partitioner applies to key bytes. Matching it bit for bit keeps a key on the
// same partition whether Java, librdkafka (murmur2_random) or this code produced the record.
// Java's int arithmetic wraps at 32 bits: Math.imul and `| 0` reproduce it exactly.

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** Kafka's murmur2 of `data`, as the signed int32 Java returns. Strings are hashed as UTF-8. */
export function murmur2(data: Uint8Array | string): number {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const length = bytes.length;
  let h = (SEED ^ length) | 0;
  const length4 = length & ~3;
  for (let i = 0; i < length4; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // Java's switch on length % 4 falls through from case 3 to case 1.
  const tail = length & 3;
  if (tail >= 3) h ^= bytes[length4 + 2]! << 16;
  if (tail >= 2) h ^= bytes[length4 + 1]! << 8;
  if (tail >= 1) {
    h ^= bytes[length4]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit (not Math.abs, which fails at -2^31). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}
