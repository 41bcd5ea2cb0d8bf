// Every hard bound of the engine in one place, each with the reason for its number.
// Configurable defaults (segment.bytes, retention.ms, ...) live in src/storage/log-config.ts;
// these are the limits those configs must stay within.

/** A topic name: Kafka's limit, so that `<topic>-<partition>` stays within a 255-byte file name. */
export const TOPIC_NAME_LENGTH_MAX = 249;

/** Index positions are u32 and Kafka reads them as int32, so a segment stays below 2 GiB. */
export const SEGMENT_BYTES_MAX = 2 ** 31 - 1;

/** Kafka's floor for segment.bytes: a segment must hold at least one batch header and then some. */
export const SEGMENT_BYTES_MIN = 14;

/** Offsets relative to a segment's base are stored as 4 bytes and read as int32 by Kafka. */
export const RELATIVE_OFFSET_MAX = 2 ** 31 - 1;

/** Offsets are int64 on the wire; JS numbers are exact to 2^53, which at 10M records/s lasts 28 years. */
export const OFFSET_MAX = Number.MAX_SAFE_INTEGER;

/** Kafka's default partition count cap per CreateTopics request is not set; ours keeps a topic's
 *  open segment files (3 descriptors a partition) well inside a default 1M-descriptor limit. */
export const PARTITIONS_PER_TOPIC_MAX = 10_000;

/**
 * Bytes read per step when rescanning a segment during recovery: 1 MiB holds a default-sized
 * (1 MiB) batch in one read, and larger batches are read whole with a second pread.
 */
export const RECOVERY_READ_BYTES = 1 << 20;

/**
 * Bytes a compressed batch may inflate to when the broker must read inside it (recompression to
 * the topic's compression.type, a max timestamp to recompute, timestamp bounds to check). The
 * records are held whole while that happens; 256 MiB is 256x Kafka's default max.message.bytes,
 * above what real data reaches from a 1 MiB batch (text compresses 5-50x), and it stops a
 * decompression bomb (zstd can claim ~1000x) before it takes the process's memory.
 */
export const INFLATED_BATCH_BYTES_MAX = 256 * 1024 * 1024;
