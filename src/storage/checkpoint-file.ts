// Kafka's offset checkpoint files (recovery-point-offset-checkpoint, log-start-offset-checkpoint):
//
//   0                      format version
//   2                      number of entries
//   events 0 1234          topic, partition, offset: one line each
//   events 1 987
//
// Written to a temporary file, fsynced and renamed over the old one, so a crash leaves either the
// old or the new file whole, never a mix.
import fs from 'node:fs';
import path from 'node:path';

const VERSION = 0;

export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

/** Reads a checkpoint; a missing file is empty, a malformed one is an Error naming the line. */
export function readCheckpoint(filePath: string): PartitionOffset[] {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const lines = text.split('\n').filter((line) => line.length > 0);
  const malformed = (line: number) => new Error(`Malformed checkpoint ${filePath} at line ${line + 1}`);
  if (Number(lines[0]) !== VERSION) throw malformed(0);
  const count = Number(lines[1]);
  if (!Number.isSafeInteger(count) || lines.length !== count + 2) throw malformed(1);
  return lines.slice(2).map((line, i) => {
    const parts = line.split(' ');
    const offset = Number(parts[2]);
    const partition = Number(parts[1]);
    if (parts.length !== 3 || !Number.isSafeInteger(offset) || !Number.isSafeInteger(partition)) throw malformed(i + 2);
    return { topic: parts[0]!, partition, offset };
  });
}

export function writeCheckpoint(filePath: string, entries: readonly PartitionOffset[]): void {
  const lines = [String(VERSION), String(entries.length), ...entries.map((e) => `${e.topic} ${e.partition} ${e.offset}`)];
  writeFileAtomically(filePath, lines.join('\n') + '\n');
}

/** Write to `<file>.tmp`, fsync, rename over `<file>`, fsync the directory. */
export function writeFileAtomically(filePath: string, contents: string): void {
  const temporaryPath = filePath + '.tmp';
  const fd = fs.openSync(temporaryPath, 'w');
  try {
    fs.writeSync(fd, contents);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporaryPath, filePath);
  syncDirectorySync(path.dirname(filePath));
}

export function syncDirectorySync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
