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

/**
 * The longest delay Node's timers take: a longer one (a LONG config such as file.delete.delay.ms
 * or flush.ms set near Long.MAX_VALUE) fires after 1 ms with a warning. Delays are clamped to it,
 * ~24.8 days.
 */
export const TIMER_DELAY_MAX_MS = 2 ** 31 - 1;

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
 * Segments whose .log is mapped for reads at once (src/storage/segment-mapping.ts); past this the
 * oldest mapping is dropped. Each mapping is one of the kernel's vm.max_map_count areas (65,530 by
 * default), which the indexes (two a segment) also use: 4,096 leaves room for 30,000 segments.
 */
export const MAPPED_SEGMENTS_MAX = 4096;

/**
 * How often the log directories look for mapped reads that faulted outside a log call (a view a
 * caller read after fetchBatches returned it; src/storage/mapping-faults.ts): the longest such a
 * directory stays online after its disk failed under a view. One native call that finds nothing.
 */
export const MAPPING_FAULT_SWEEP_MS = 1000;

/** The least an active segment is mapped at for reads (then twice its size): 1 MiB is ~10 batches of 100 KB. */
export const MAPPED_ACTIVE_SEGMENT_BYTES_MIN = 1 << 20;

// ---- descriptors -----------------------------------------------------------------------------
// Every partition, segment and connection costs file descriptors, and the process has
// RLIMIT_NOFILE of them (`ulimit -n`; Node raises the soft limit to the hard one). Running out
// is not an error one request can own: accept(2), dup(2) for sendfile and open(2) for a new
// segment all start failing for everyone. So the broker splits the limit up front:
//
//   usable          = limit - DESCRIPTORS_RESERVED
//   connections max = min(max.connections, floor(usable * CONNECTION_DESCRIPTOR_SHARE / DESCRIPTORS_PER_CONNECTION))
//   segments max    = floor((usable - connections max * DESCRIPTORS_PER_CONNECTION) / DESCRIPTORS_PER_SEGMENT)
//
// e.g. limit 20,000: usable 19,744; 2,468 connections (4,936 descriptors); 4,936 segments, which
// is 4,936 partitions of one segment each. With limit 1,024: 96 connections and 192 segments.
// A CreateTopics or CreatePartitions that would pass the segment budget is refused whole
// (POLICY_VIOLATION) before anything is created; connections past their budget are closed at
// accept. Rolls can still add segments past the budget (an append is never refused for it), which
// the reserve absorbs until retention deletes old segments.

/** stdio, the data-directory lock, libuv's epoll, eventfd and signal pipe, the transfer thread's
 *  epoll and wake pipe, piscina's worker pipes, files opened for a moment to write checkpoints,
 *  snapshots and topic metadata, and the duplicates the transfer thread holds of file regions in
 *  flight: a few dozen in all, 256 leaves room for them with a wide margin. */
export const DESCRIPTORS_RESERVED = 256;

/** A segment keeps its .log, .index and .timeindex open, as Kafka's LogSegment does. */
export const DESCRIPTORS_PER_SEGMENT = 3;

/** A connection's socket, and the transfer thread's duplicate of it while a fetch is being sent. */
export const DESCRIPTORS_PER_CONNECTION = 2;

/** The share of usable descriptors connections may take; storage keeps the rest, so neither a
 *  flood of clients nor a flood of partitions can starve the other. */
export const CONNECTION_DESCRIPTOR_SHARE = 0.25;

export interface DescriptorBudget {
  /** RLIMIT_NOFILE (soft). */
  limit: number;
  connectionsMax: number;
  segmentsMax: number;
}

/** The split above, for a descriptor limit and the configured max.connections. */
export function descriptorBudget(limit: number, maxConnections = Infinity): DescriptorBudget {
  const usable = Math.max(0, limit - DESCRIPTORS_RESERVED);
  const connectionsMax = Math.min(maxConnections, Math.floor((usable * CONNECTION_DESCRIPTOR_SHARE) / DESCRIPTORS_PER_CONNECTION));
  const segmentsMax = Math.floor((usable - connectionsMax * DESCRIPTORS_PER_CONNECTION) / DESCRIPTORS_PER_SEGMENT);
  return { limit, connectionsMax, segmentsMax };
}

// ---- connections and requests ----------------------------------------------------------------

/** Kafka's queued.max.request.bytes is -1 (unbounded); one Node process holds every connection's
 *  request frames, so sluice bounds them by default: 256 MiB is 2.5 frames of the largest size
 *  socket.request.max.bytes allows (100 MiB), and ~16,000 default 16 KiB produce batches. */
export const QUEUED_REQUEST_BYTES_DEFAULT = 256 * 1024 * 1024;

/** Bytes of fetched records copied into JS and not yet written, broker-wide, when
 *  sluice.fetch.zero.copy=false: a fetch copies no more than what is left, so slow readers cannot
 *  pin more than this (the zero-copy path holds no record bytes at all). 256 MiB is five fetches at
 *  Kafka's default fetch.max.bytes (50 MiB). */
export const FETCH_COPY_BYTES_MAX = 256 * 1024 * 1024;

/** Bytes of a response with file regions sent on the event loop (non-blocking sendfile(2) and
 *  send(2)) before the transfer thread takes the rest: 1 MiB is ~0.5 ms at loopback's ~2.2 GB/s,
 *  the same turn the transfer thread gives one socket (native/limits.h), and takes whole a
 *  follower's fetch of two 256 KiB batches. */
export const INLINE_TRANSMIT_BYTES_MAX = 1024 * 1024;

/** A fetch session unused this long may be evicted by any new one, and one created this long ago
 *  by a session of more partitions (Kafka's MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS, 2 minutes,
 *  not a config there either). */
export const FETCH_SESSION_EVICTION_MS = 120_000;

/** The idle sweep runs at a quarter of connections.max.idle.ms, within these bounds: a connection
 *  is closed between 1x and 1.25x its idle limit, and a 10-minute limit costs a check every 30 s. */
export const IDLE_CHECK_INTERVAL_MS_MIN = 10;
export const IDLE_CHECK_INTERVAL_MS_MAX = 30_000;

// ---- logging ---------------------------------------------------------------------------------

/** Lines one cause (a refused client, a protocol error kind, a storage errno) may log per interval:
 *  enough to see what happens, too few for a client to fill a disk with our logs. */
export const LOG_LINES_PER_CAUSE = 5;
export const LOG_RATE_INTERVAL_MS = 10_000;
/** A failure of the broker's own resources (no descriptor for a sendfile) is logged once per cause
 *  in this long: the first line says what ran out, the metrics count every occurrence. */
export const LOG_ONCE_INTERVAL_MS = 60_000;
/** Distinct causes remembered by a limiter before it forgets them all (causes carry addresses). */
export const LOG_CAUSES_TRACKED_MAX = 10_000;

/**
 * Disk space an index file allocates at a time (native/limits.h kIndexAllocationBytes, one 4 KiB
 * page): the unit in which an index rebuild's need for space is counted, so that an out-of-space
 * error at startup can say how many bytes recovery needs.
 */
export const INDEX_ALLOCATION_BYTES = 4096;

/**
 * Bytes a compressed batch may inflate to when the broker must read inside it (recompression to
 * the topic's compression.type, a max timestamp to recompute, timestamp bounds to check). The
 * records are held whole while that happens; 256 MiB is 256x Kafka's default max.message.bytes,
 * above what real data reaches from a 1 MiB batch (text compresses 5-50x), and it stops a
 * decompression bomb (zstd can claim ~1000x) before it takes the process's memory.
 */
export const INFLATED_BATCH_BYTES_MAX = 256 * 1024 * 1024;

/**
 * The buffer a BatchEncoder (src/record/batch-encoder.ts) starts with and reuses: 1 MiB holds a
 * batch at Kafka's default max.message.bytes (1,000 records of 1 KiB) without growing.
 */
export const ENCODE_BUFFER_BYTES_INITIAL = 1024 * 1024;

/**
 * A BatchEncoder buffer grown past this by one large call is let go at the next call rather than
 * kept for the process's life: 16 MiB is 16 default-sized batches, one produce call over as many
 * partitions.
 */
export const ENCODE_BUFFER_BYTES_RETAINED_MAX = 16 * 1024 * 1024;

// ---- cluster brokers ---------------------------------------------------------------------------

/**
 * Partition logs a cluster broker opens in one turn of its event loop when a topic, its new
 * partitions or a reassignment brings it more; the rest open on later turns. Opening a log costs
 * 0.1-0.4 ms on a tmpfs and 1-5 ms on this machine's disk, whose metadata operations (mkdir, open,
 * fsync) vary that much, so 64 is at most ~300 ms of a turn and one topics.json commit per 64
 * logs. Opened all in one turn, a topic of 6,000 partitions on 3 brokers held each broker's loop
 * for over 9 s, past its etcd lease: all three lost their sessions. With 16 a turn, the brokers
 * were still opening logs 2.4 s after CreateTopics answered; with 64, done by then.
 */
export const LOG_OPEN_CHUNK_PARTITIONS = 64;

// ---- local clusters (startCluster, `sluice cluster`) -------------------------------------------

/** Broker i of a local cluster binds 127.0.0.(i+1), its own loopback address (so tests can cut
 *  traffic between two brokers with nft): 127.0.0.2 to 127.0.0.255 is room for 254 brokers. */
export const LOCAL_CLUSTER_BROKERS_MAX = 254;

/**
 * Log directories per broker of a local cluster (startCluster's logDirs): a local cluster's dirs
 * share one disk, so more only multiplies each broker's locks, checkpoints and cleaners.
 */
export const LOCAL_CLUSTER_LOG_DIRS_MAX = 8;

// ---- SASL logins -------------------------------------------------------------------------------

/**
 * The largest answer read from an OAuth token endpoint: a token answer is a JSON object of a few
 * KB (a JWT of a few claims is under 2 KB); 1 MiB bounds what a wrong URL pointing at a large
 * document costs a login.
 */
export const OAUTH_TOKEN_RESPONSE_BYTES_MAX = 1024 * 1024;

// ---- TLS ---------------------------------------------------------------------------------------

/**
 * How long the in-memory TLS handshake that checks a cluster listener's stores may take (Kafka's
 * SslEngineValidator, tls-listener.ts): a few ms between two contexts in one process; 10 s only
 * bounds a handshake that stalls.
 */
export const TLS_VALIDATION_HANDSHAKE_TIMEOUT_MS = 10_000;
