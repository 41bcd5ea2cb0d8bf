// Reads of mapped files that the kernel could not serve. Segments are read through a memory
// mapping (segment-mapping.ts) and indexes kept in one (index-view.ts); a page the disk cannot
// read, or one past the end of a file cut from outside, raises SIGBUS, which would end the
// process. The addon answers such a fault with a zero page and counts it (native/mapping_faults.h),
// so the zeros must never pass for records: a log call that reads or writes its files notes this
// thread's count first and, when the count moved during the call, fails with EIO instead of
// returning (whileMapped). EIO is a disk failure (log-dirs.ts): the log's directory goes
// offline, as after a failed pread. A view handed to a caller (fetchBatches with `view`) is read
// after the call returned; the directories' sweep (LogDirs, once a second) finds such faults by
// path and takes their directories offline.
import path from 'node:path';

import { binding } from '../native/binding.js';

/** This thread's fault count: one word the addon increments, read here without a call. */
const faults = new Uint32Array(binding.mappingFaultCounter());

/** The error a faulted call fails with: EIO, a disk failure, as the addon's errors carry their errno. */
export function mappingFaultError(file: string): Error {
  return Object.assign(new Error(`EIO: i/o error, a mapped read of ${file} could not be served (SIGBUS)`), { code: 'EIO', syscall: 'read', path: file });
}

/**
 * Runs `call`, whose reads and writes go through mappings of files in `dir`: when one of them
 * faulted meanwhile (zeros read in place of the file's bytes), the call fails with EIO, whatever
 * it returned or threw. Costs two reads of a word; the closure is the caller's.
 */
export function whileMapped<T>(dir: string, call: () => T): T {
  const count = faults[0]!;
  let result: T;
  try {
    result = call();
  } catch (error) {
    if (faults[0] !== count) throw mappingFaultError(dir);
    throw error;
  }
  if (faults[0] !== count) throw mappingFaultError(dir);
  return result;
}

/** The files under `dirs` whose mappings faulted since the last sweep of them, each once. */
export function faultedMappingsUnder(dirs: readonly string[]): string[] {
  // Files are mapped by the paths path.join made from the directory: the same normal form.
  return binding.mappingFaultsUnder(dirs.map((dir) => path.normalize(dir)));
}
