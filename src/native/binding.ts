// The only importer of the compiled addon (build/Release/sluice.node). Everything native is
// typed here; the rest of the project imports these types and functions, never the raw binding.
// The C++ side lives in native/; its errors arrive as JS Errors carrying an errno `code`
// ('ENOENT', 'EBADF', ...), `errno` (negative, as in Node's own fs errors: -2 for ENOENT),
// `syscall` and, where a file is involved, `path`. Bad arguments throw a TypeError (code
// 'ERR_INVALID_ARG_TYPE') or a RangeError (code 'ERR_OUT_OF_RANGE'), as Node's APIs do.
import { createRequire } from 'node:module';

/** An error raised by the addon: an operating-system failure, named by its errno. */
export interface NativeError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
  path?: string;
}

export interface SegmentFileOptions {
  /** Create the file when missing (default true; a read-only open never creates). */
  create?: boolean;
  /** Open read-only (default false): append, truncate and preallocate then fail with EBADF. */
  readOnly?: boolean;
}

/**
 * An open segment `.log` file. Appends go to the tracked end (initially the file size), one
 * `pwritev` per call however many buffers are passed. Reads are positional and never move the end.
 * close() is safe with async operations in flight: the descriptor is closed when the last finishes,
 * and every call after close() throws an error with code 'EBADF' (close() itself may be repeated).
 */
export interface SegmentFile {
  readonly path: string;
  /** The descriptor, for sendfile; -1 once closed. */
  readonly fd: number;
  /** Bytes up to the tracked end. */
  size(): number;
  /** Writes the buffers back to back at the end; returns the position of the first byte. */
  append(buffers: Uint8Array | readonly Uint8Array[]): number;
  /** Reserves disk blocks up to `bytes` without changing the size (fallocate KEEP_SIZE). */
  preallocate(bytes: number): void;
  /** pread on the JS thread: for page-cache hits, where a thread hop costs more than the read. */
  readSync(position: number, target: Uint8Array, targetOffset: number, length: number): number;
  /** pread on libuv's thread pool. */
  read(position: number, target: Uint8Array, targetOffset: number, length: number): Promise<number>;
  /** fdatasync on libuv's thread pool. */
  sync(): Promise<void>;
  /**
   * Cuts the file to `size` bytes and moves the end there. Pages of map()'s mappings wholly past
   * the cut become zero pages first, so a view over them never faults (SIGBUS).
   */
  truncate(size: number): void;
  /**
   * A read-only shared mapping of the file's first `bytes` (which may exceed its size: read only
   * below size()). The ArrayBuffer owns the mapping, unmapped when it is garbage-collected, so it
   * stays readable after close() and after the file is deleted.
   */
  map(bytes: number): ArrayBuffer;
  close(): void;
}

export interface SegmentFileConstructor {
  new (path: string, options?: SegmentFileOptions): SegmentFile;
}

export type IndexKind = 'offset' | 'time';

export interface MappedIndexOptions {
  kind: IndexKind;
  /**
   * Size the file is grown to and mapped at when writable (segment.index.bytes), rounded down to
   * whole entries as Kafka does. Ignored when readOnly.
   */
  maxBytes: number;
  /** Map read-only and keep the file's size (default false). */
  readOnly?: boolean;
}

/**
 * A memory-mapped sparse index file in Kafka's format, big-endian entries:
 *   offset index: relativeOffset u32, position u32          (8 bytes)
 *   time index:   timestamp i64,      relativeOffset u32    (12 bytes)
 * On open the entry count is the bytes before the file's first hole / entry size (all of a trimmed
 * file; the written pages of one a crash left untrimmed); a writable index is then grown to
 * maxBytes, sparse, and mapped. The file stays sparse: append() allocates each new page with
 * fallocate first, so a full disk throws 'ENOSPC' (syscall 'fallocate') instead of SIGBUS, and
 * truncateEntries() writes nothing. Keys must be appended in ascending order; lookup()
 * binary-searches in C++ for the largest entry whose key is <= target. append() on a full index
 * throws a RangeError; writes to a read-only index, and every call after close() (which may be
 * repeated), throw 'EBADF'.
 */
export interface MappedIndex {
  readonly path: string;
  readonly kind: IndexKind;
  readonly entryBytes: number;
  /** Entries written. */
  entries(): number;
  /** Entries the mapping has room for. */
  capacity(): number;
  isFull(): boolean;
  append(key: number, value: number): void;
  /** Slot of the largest entry with key <= target, or -1 when none (or empty). */
  lookup(target: number): number;
  keyAt(slot: number): number;
  valueAt(slot: number): number;
  /**
   * Forgets entries from `count` on, e.g. on log truncation or rebuild: cuts the file there and
   * grows it back, so their pages are freed and the rest of the last one reads as zeros.
   */
  truncateEntries(count: number): void;
  /** Remaps the file at `bytes` (>= entries * entryBytes): trim to the entries, or grow back. */
  resize(bytes: number): void;
  /** msync on libuv's thread pool. */
  sync(): Promise<void>;
  close(): void;
  /**
   * The mapping as an ArrayBuffer of capacity() entries, of which the first entries() hold
   * entries (never read past them: the rest are the file's holes). Detached by resize() and
   * close(), after which its views read as empty; call again after a resize.
   */
  view(): ArrayBuffer;
}

export interface MappedIndexConstructor {
  new (path: string, options: MappedIndexOptions): MappedIndex;
}

/** A region of an open file, sent with sendfile(2). */
export interface FileRegion {
  fd: number;
  position: number;
  count: number;
}

export interface Binding {
  SegmentFile: SegmentFileConstructor;
  MappedIndex: MappedIndexConstructor;
  crc32c(data: Uint8Array, start?: number, end?: number): number;
  crc32cSoftware(data: Uint8Array, start?: number, end?: number): number;
  crc32cHardware(data: Uint8Array, start?: number, end?: number): number;
  hasHardwareCrc32c: boolean;
  /**
   * Sends `count` bytes of the file from `position` to a non-blocking socket, on the addon's
   * transfer thread: as far as the socket takes, then again when epoll says it is writable.
   * Resolves with the bytes sent; rejects with an errno code (EPIPE, ECONNRESET, ECANCELED, or
   * ENODATA when the file ends first). The caller must not write to the socket until it settles.
   * Bad arguments or descriptors throw at once (an invalid fd: 'EBADF', syscall 'dup'). The transfer
   * sends from its own duplicates of both descriptors, so the file may be closed right after the
   * call; the duplicate also keeps the connection open, hence cancelTransfers before closing it.
   */
  sendfile(socketFd: number, fileFd: number, position: number, count: number): Promise<number>;
  /** Sends buffers and file regions in order as one transfer; resolves with the total bytes. */
  transmit(socketFd: number, parts: ReadonlyArray<Uint8Array | FileRegion>): Promise<number>;
  /**
   * Sends the parts in order on the calling thread, as far as the non-blocking socket takes and
   * at most maxBytes; returns the bytes sent (0 for a socket in blocking mode). Nothing is
   * duplicated or queued: call it only when no write or transfer to the socket is pending, and
   * hand what is left to transmit(). Throws the errno of a failed call.
   */
  transmitNow(socketFd: number, parts: ReadonlyArray<Uint8Array | FileRegion>, maxBytes: number): number;
  /**
   * Fails every pending transfer to the socket with ECANCELED (call before closing it). Returns how
   * many were pending; one the thread completes before it sees the cancel still resolves.
   */
  cancelTransfers(socketFd: number): number;
  /**
   * Takes an exclusive flock on the file (created if missing); returns its descriptor. A lock held
   * elsewhere (another process, or another lockFile in this one) throws code 'EAGAIN' with the path.
   */
  lockFile(path: string): number;
  /** Releases the lock and closes the descriptor. */
  unlockFile(fd: number): void;
  /**
   * The process's descriptor limit (RLIMIT_NOFILE): `soft` is what open/accept/dup can reach
   * before EMFILE. An unlimited value reads as Number.MAX_SAFE_INTEGER.
   */
  descriptorLimit(): { soft: number; hard: number };
  /**
   * Sets a socket's SO_SNDBUF and SO_RCVBUF (socket.send.buffer.bytes, socket.receive.buffer.bytes);
   * -1 leaves one as it is. A failing setsockopt throws with its errno's code.
   */
  setSocketBuffers(fd: number, sendBytes: number, receiveBytes: number): void;
  /**
   * This thread's count of mapped reads the kernel could not serve (a SIGBUS answered with a zero
   * page, native/mapping_faults.h), as one uint32 JS reads without a call. Once per thread.
   */
  mappingFaultCounter(): ArrayBuffer;
  /** The files under `dirs` whose mappings faulted since the last call, each reported once. */
  mappingFaultsUnder(dirs: readonly string[]): string[];
  /**
   * Walks the uncompressed records in records[start, end) of a RecordBatch v2 (native/record_walk.h)
   * and checks each record's structure. Returns 0, or a RecordWalkError code (1 length, 2
   * timestampDelta, 3 offsetDelta, 4 key, 5 value, 6 headers, 7 size mismatch). `out` receives
   * [count, maxTimestamp, minChecked, maxChecked, offsetDeltasInOrder (1/0), failedRecordAt]: record
   * timestamps are baseTimestamp + delta; min/maxChecked leave out records whose timestamp is -1 and
   * are NaN when none is left; on failure count is the failing record's index and failedRecordAt
   * its byte. Timestamps come back as doubles, exact to 2^53.
   */
  walkRecords(records: Uint8Array, start: number, end: number, baseTimestamp: number, out: Float64Array): number;
  /** Byte-format constants compiled into the addon, for the test that holds C++ and TS to agree. */
  formats: Readonly<Record<string, number>>;
}

const require = createRequire(import.meta.url);
// src/native/binding.ts and dist/native/binding.js sit at the same depth below the package root.
export const binding: Binding = require('../../build/Release/sluice.node');
