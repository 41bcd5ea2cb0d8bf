// The two sparse index formats of a segment, as Kafka writes them (big-endian, no header, no
// checksum: after a crash they are rebuilt from the .log). native/formats.h holds the same numbers,
// and test/native proves the two agree.
//
//   .index      entry = relativeOffset u32 | position u32        (8 bytes)
//               relativeOffset = offset - segment base offset; position = byte in the .log
//   .timeindex  entry = timestamp i64 | relativeOffset u32        (12 bytes)
//               appended only when the timestamp exceeds the last entry's
export const OFFSET_INDEX_ENTRY_BYTES = 8;
export const TIME_INDEX_ENTRY_BYTES = 12;

/** Segment file names: the base offset padded to 20 digits, as Kafka names them. */
export const LOG_FILE_SUFFIX = '.log';
export const OFFSET_INDEX_FILE_SUFFIX = '.index';
export const TIME_INDEX_FILE_SUFFIX = '.timeindex';
/** A file renamed with this suffix is being deleted; recovery finishes the job. */
export const DELETED_FILE_SUFFIX = '.deleted';
/** A segment the log cleaner is still writing (log-cleaner.ts); recovery deletes it. */
export const CLEANED_FILE_SUFFIX = '.cleaned';
/** A cleaned segment being swapped in for the segments it replaces; recovery completes the swap. */
export const SWAP_FILE_SUFFIX = '.swap';
export const OFFSET_DIGITS = 20;

export function segmentFileName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(OFFSET_DIGITS, '0') + suffix;
}
