// RecordBatch v2 (magic 2): the bytes of a batch in a segment's `.log`, identical to the bytes in
// a Produce request and a Fetch response. This module is the format's document; every other
// module reads and writes batches through these names. All integers are big-endian.
//
//   at  size  field                 notes
//    0    8   baseOffset            int64; assigned by the log on append (stamped in place)
//    8    4   batchLength           int32; bytes AFTER this field: whole batch = 12 + batchLength
//   12    4   partitionLeaderEpoch  int32; stamped by the leader (in place); -1 when unknown
//   16    1   magic                 int8; 2 (0 and 1 are the legacy message sets, not supported)
//   17    4   crc                   uint32; CRC-32C (Castagnoli) of bytes [21, end of batch)
//   21    2   attributes            int16; bits below
//   23    4   lastOffsetDelta       int32; offset of the last record minus baseOffset
//   27    8   baseTimestamp         int64; timestamp of the first record (ms); record timestamps
//                                   are baseTimestamp + timestampDelta
//   35    8   maxTimestamp          int64; largest record timestamp, or the broker's append time
//                                   when the timestamp type is LogAppendTime
//   43    8   producerId            int64; -1 when the producer is not idempotent
//   51    2   producerEpoch         int16; -1 when not idempotent
//   53    4   baseSequence          int32; sequence of the first record; -1 when not idempotent
//   57    4   recordsCount          int32; number of records (outside the compressed part)
//   61    …   records               recordsCount records back to back; when the codec is not
//                                   none, this whole region is one compressed blob
//
// attributes (int16): bits 0-2 codec (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd),
//   bit 3 timestamp type (0 CreateTime, 1 LogAppendTime), bit 4 transactional,
//   bit 5 control batch, bit 6 delete horizon set (baseTimestamp holds the horizon; KIP-534).
//
// The CRC starts at `attributes`, so the three fields the broker changes on append (baseOffset,
// partitionLeaderEpoch) and the length are outside it: stamping them needs no re-checksum.
//
// Record (inside `records`; varint = zigzag int32, varlong = zigzag int64, LEB128 groups):
//   length varint          bytes of the record after this field
//   attributes int8        unused, 0
//   timestampDelta varlong
//   offsetDelta varint
//   keyLength varint       -1 = null key
//   key bytes
//   valueLength varint     -1 = null value
//   value bytes
//   headerCount varint
//   headers                per header: keyLength varint, key (UTF-8, never null),
//                          valueLength varint (-1 = null), value bytes

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** Bytes of a batch header, records excluded: a batch with no records is exactly this long. */
export const BATCH_HEADER_BYTES = RECORDS_OFFSET;
/** The fields before batchLength's count starts (baseOffset 8 + batchLength 4), Kafka's LOG_OVERHEAD. */
export const LOG_OVERHEAD = 12;
/** The smallest legal batchLength: a header with no records, minus LOG_OVERHEAD (61 - 12). */
export const BATCH_LENGTH_MIN = BATCH_HEADER_BYTES - LOG_OVERHEAD;
/** The CRC covers [CRC_START_OFFSET, end of batch). */
export const CRC_START_OFFSET = ATTRIBUTES_OFFSET;

export const MAGIC_V2 = 2;

export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_MASK = 0x10;
export const CONTROL_MASK = 0x20;
export const DELETE_HORIZON_MASK = 0x40;

/** Codec ids in the attribute bits 0-2 (Kafka's CompressionType ids). */
export const CompressionId = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
} as const;

export type CompressionName = keyof typeof CompressionId;

/** Codec names by id; ids 5-7 are not defined by Kafka. */
export const COMPRESSION_NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** Values Kafka writes when a field does not apply (RecordBatch.NO_* in the Java client). */
export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1;

/** A varint (zigzag int32) takes at most 5 bytes: ceil(32 / 7). */
export const VARINT_BYTES_MAX = 5;
/** A varlong (zigzag int64) takes at most 10 bytes: ceil(64 / 7). */
export const VARLONG_BYTES_MAX = 10;
