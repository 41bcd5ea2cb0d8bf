// Kafka's checkpoint files share one text layout: a version line, a count line, then one entry a
// line. The offset checkpoints of a data directory (recovery-point-offset-checkpoint,
// log-start-offset-checkpoint, replication-offset-checkpoint) hold `topic partition offset`:
//
//   0                      format version
//   2                      number of entries
//   events 0 1234          topic, partition, offset: one line each
//   events 1 987
//
// and a partition's leader-epoch-checkpoint holds `epoch startOffset` (leader-epoch-cache.ts).
// Written to a temporary file, fsynced and renamed over the old one, so a crash leaves either the
// old or the new file whole, never a mix; a torn `.tmp` left by a crash is never read.
import fs from 'node:fs';
import path from 'node:path';

/** The only format version Kafka has written for these files. */
export const CHECKPOINT_VERSION = 0;
/** Suffix of the file a checkpoint is written to before the rename. */
export const CHECKPOINT_TMP_SUFFIX = '.tmp';
/** A background write's temporary file is `<file>.background.tmp`. */
const BACKGROUND_TMP_INFIX = '.background';

export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

/** A checkpoint whose text is not version, count and that many entries. */
export class MalformedCheckpointError extends Error {
  constructor(
    readonly filePath: string,
    readonly lineIndex: number,
  ) {
    super(`Malformed checkpoint ${filePath} at line ${lineIndex + 1}`);
    this.name = 'MalformedCheckpointError';
  }
}

/**
 * The entry lines of a checkpoint (after the version and count), each split on spaces into
 * `fieldCount` fields; null when the file does not exist. Throws MalformedCheckpointError naming
 * the first bad line.
 */
export function readCheckpointFields(filePath: string, fieldCount: number): string[][] | null {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const lines = text.split('\n').filter((line) => line.length > 0);
  if (lines[0] !== String(CHECKPOINT_VERSION)) throw new MalformedCheckpointError(filePath, 0);
  const count = Number(lines[1]);
  if (!Number.isSafeInteger(count) || count < 0 || lines.length !== count + 2) throw new MalformedCheckpointError(filePath, 1);
  return lines.slice(2).map((line, i) => {
    const fields = line.split(' ');
    if (fields.length !== fieldCount) throw new MalformedCheckpointError(filePath, i + 2);
    return fields;
  });
}

/** Writes version, count and the entry lines atomically (see writeFileAtomically). */
export function writeCheckpointLines(filePath: string, entryLines: readonly string[]): void {
  writeFileAtomically(filePath, checkpointText(entryLines));
}

/** The exact bytes of a checkpoint holding `entryLines`. */
export function checkpointText(entryLines: readonly string[]): string {
  return [String(CHECKPOINT_VERSION), String(entryLines.length), ...entryLines].join('\n') + '\n';
}

/** Parses a decimal integer field exactly (no blanks, exponents or fractions), else NaN. */
export function parseIntegerField(text: string): number {
  return /^-?\d+$/.test(text) ? Number(text) : NaN;
}

/** Reads a `topic partition offset` checkpoint; a missing file is empty, a malformed one throws. */
export function readCheckpoint(filePath: string): PartitionOffset[] {
  const rows = readCheckpointFields(filePath, 3) ?? [];
  return rows.map(([topic, partitionText, offsetText], i) => {
    const partition = parseIntegerField(partitionText!);
    const offset = parseIntegerField(offsetText!);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(partition)) throw new MalformedCheckpointError(filePath, i + 2);
    return { topic: topic!, partition, offset };
  });
}

export function writeCheckpoint(filePath: string, entries: readonly PartitionOffset[]): void {
  writeCheckpointLines(filePath, partitionOffsetLines(entries));
}

export function partitionOffsetLines(entries: readonly PartitionOffset[]): string[] {
  return entries.map((e) => `${e.topic} ${e.partition} ${e.offset}`);
}

/** Write to `<file>.tmp`, fsync, rename over `<file>`, fsync the directory. */
export function writeFileAtomically(filePath: string, contents: string): void {
  const temporaryPath = filePath + CHECKPOINT_TMP_SUFFIX;
  const fd = fs.openSync(temporaryPath, 'w');
  try {
    try {
      fs.writeSync(fd, contents);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    // A full disk leaves a short .tmp: remove it rather than keep a torn file around (it would never
    // be read, but it holds blocks the next attempt needs).
    fs.rmSync(temporaryPath, { force: true });
    throw error;
  }
  fs.renameSync(temporaryPath, filePath);
  syncDirectorySync(path.dirname(filePath));
}

/** What a background write did: written; dropped as superseded; or written over a newer synchronous write that landed during its rename (the caller writes the newest again). */
export type BackgroundWriteResult = 'written' | 'superseded' | 'raced';

/**
 * writeFileAtomically with its fsyncs and its rename on libuv's thread pool. For the periodic
 * checkpoints, whose fsyncs took up to 290 ms on a busy disk (ext4 commits the dirty log data with
 * them), and whose rename, synchronous before, blocked a follower's event loop for 459 ms in all
 * over one run of bench/cluster.bench.ts, stalling every request of the broker meanwhile. Its own
 * .tmp file, so a synchronous writeFileAtomically of the same file meanwhile never shares one.
 * `superseded()` is asked before the rename (nothing is written if a newer synchronous write came)
 * and after it: a synchronous write that landed while the rename ran was replaced by this older
 * one, which resolves 'raced' so that the caller writes the newest state again.
 */
export async function writeFileAtomicallyInBackground(filePath: string, contents: string, superseded: () => boolean = () => false): Promise<BackgroundWriteResult> {
  const temporaryPath = filePath + BACKGROUND_TMP_INFIX + CHECKPOINT_TMP_SUFFIX;
  try {
    const file = await fs.promises.open(temporaryPath, 'w');
    try {
      await file.writeFile(contents);
      await file.sync();
    } finally {
      await file.close();
    }
  } catch (error) {
    await fs.promises.rm(temporaryPath, { force: true });
    throw error;
  }
  if (superseded()) {
    await fs.promises.rm(temporaryPath, { force: true });
    return 'superseded';
  }
  await fs.promises.rename(temporaryPath, filePath);
  if (superseded()) return 'raced';
  const dir = await fs.promises.open(path.dirname(filePath), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return 'written';
}

export function syncDirectorySync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
