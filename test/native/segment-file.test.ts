// SegmentFile: appends land at the tracked end in one call however many buffers, reads are
// positional, errors carry errno codes and paths, close() is safe with async work in flight,
// and open/close cycles leave no descriptor behind.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { binding } from '../../src/native/binding.js';
import { openFdCount, rejection, tempDir, thrown } from './helpers.js';

const { SegmentFile } = binding;

function bytes(text: string): Buffer {
  return Buffer.from(text);
}

function read(file: InstanceType<typeof SegmentFile>, position: number, length: number): string {
  const target = Buffer.alloc(length);
  const readBytes = file.readSync(position, target, 0, length);
  return target.subarray(0, readBytes).toString();
}

describe('SegmentFile', () => {
  it('appends one buffer or many, returns each start position and tracks the size', () => {
    const file = new SegmentFile(path.join(tempDir(), 'a.log'));
    expect(file.size()).toBe(0);
    expect(file.append(bytes('hello'))).toBe(0);
    expect(file.size()).toBe(5);
    expect(file.append([bytes(' '), bytes(''), bytes('wide'), bytes(' world')])).toBe(5);
    expect(file.append([])).toBe(16);
    expect(file.size()).toBe(16);
    expect(read(file, 0, 16)).toBe('hello wide world');
    expect(fs.statSync(file.path).size).toBe(16);
    file.close();
  });

  it('writes more buffers than IOV_MAX (1024) in order', () => {
    const file = new SegmentFile(path.join(tempDir(), 'a.log'));
    const buffers = Array.from({ length: 3000 }, (_, i) => bytes(`${i},`));
    const expected = Buffer.concat(buffers);
    expect(file.append(buffers)).toBe(0);
    expect(file.size()).toBe(expected.length);
    expect(fs.readFileSync(file.path).equals(expected)).toBe(true);
    file.close();
  });

  it('reads on the JS thread and on the thread pool, short at the end of the file', async () => {
    const file = new SegmentFile(path.join(tempDir(), 'a.log'));
    file.append(bytes('0123456789'));
    const target = Buffer.alloc(8, '.');
    expect(file.readSync(2, target, 1, 4)).toBe(4);
    expect(target.toString()).toBe('.2345...');
    expect(await file.read(6, target, 0, 8)).toBe(4);
    expect(target.subarray(0, 4).toString()).toBe('6789');
    expect(file.readSync(10, target, 0, 8)).toBe(0);
    expect(await file.read(100, target, 0, 8)).toBe(0);
    await file.sync();
    file.close();
  });

  it('truncates, and the next append lands at the new end', () => {
    const file = new SegmentFile(path.join(tempDir(), 'a.log'));
    file.append(bytes('0123456789'));
    file.truncate(4);
    expect(file.size()).toBe(4);
    expect(fs.statSync(file.path).size).toBe(4);
    expect(file.append(bytes('xy'))).toBe(4);
    expect(read(file, 0, 100)).toBe('0123xy');
    file.close();
  });

  it('reopens at the size on disk', () => {
    const filePath = path.join(tempDir(), 'a.log');
    const first = new SegmentFile(filePath);
    first.append(bytes('abc'));
    first.close();
    const second = new SegmentFile(filePath);
    expect(second.size()).toBe(3);
    expect(second.append(bytes('d'))).toBe(3);
    second.close();
    const readOnly = new SegmentFile(filePath, { readOnly: true });
    expect(read(readOnly, 0, 10)).toBe('abcd');
    readOnly.close();
  });

  it('preallocates without changing the size', () => {
    const file = new SegmentFile(path.join(tempDir(), 'a.log'));
    file.append(bytes('abc'));
    file.preallocate(1 << 20);
    file.preallocate(0);
    expect(file.size()).toBe(3);
    expect(fs.statSync(file.path).size).toBe(3);
    expect(file.append(bytes('d'))).toBe(3);
    file.close();
  });

  it('raises errno-coded errors with the syscall and the path', () => {
    const dir = tempDir();
    const missing = path.join(dir, 'no-such-dir', 'a.log');
    const error = thrown(() => new SegmentFile(missing));
    expect(error).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'open', path: missing });
    expect(error.message).toBe(`open ${missing}: No such file or directory`);
    expect(thrown(() => new SegmentFile(path.join(dir, 'b.log'), { create: false })).code).toBe('ENOENT');
    expect(thrown(() => new SegmentFile(path.join(dir, 'b.log'), { readOnly: true })).code).toBe('ENOENT');

    fs.writeFileSync(path.join(dir, 'c.log'), 'abc');
    const readOnly = new SegmentFile(path.join(dir, 'c.log'), { readOnly: true });
    for (const write of [() => readOnly.append(bytes('x')), () => readOnly.truncate(0), () => readOnly.preallocate(10)]) {
      expect(thrown(write)).toMatchObject({ code: 'EBADF', path: path.join(dir, 'c.log') });
    }
    readOnly.close();
  });

  it('validates its arguments with TypeError and RangeError', () => {
    const file = new SegmentFile(path.join(tempDir(), 'a.log'));
    const target = Buffer.alloc(4);
    const typeErrors = [
      () => file.append('text' as unknown as Uint8Array),
      () => file.append([bytes('a'), 'b' as unknown as Uint8Array]),
      () => file.readSync('0' as unknown as number, target, 0, 1),
      () => file.readSync(0, [] as unknown as Uint8Array, 0, 1),
      () => new SegmentFile(42 as unknown as string),
    ];
    for (const call of typeErrors) expect(thrown(call)).toBeInstanceOf(TypeError);
    const rangeErrors = [
      () => file.readSync(-1, target, 0, 1),
      () => file.readSync(2 ** 53, target, 0, 1),
      () => file.readSync(0, target, 0, 5),
      () => file.readSync(0, target, 3, 2),
      () => file.readSync(0, target, 5, 0),
      () => file.read(0.5, target, 0, 1),
      () => file.truncate(-1),
      () => file.preallocate(Number.NaN),
    ];
    for (const call of rangeErrors) expect(thrown(call)).toBeInstanceOf(RangeError);
    file.close();
  });

  it('throws EBADF on every call after close, and close() again is harmless', () => {
    const file = new SegmentFile(path.join(tempDir(), 'a.log'));
    file.close();
    file.close();
    expect(file.fd).toBe(-1);
    const target = Buffer.alloc(1);
    const calls = [
      () => file.size(),
      () => file.append(bytes('x')),
      () => file.preallocate(1),
      () => file.readSync(0, target, 0, 1),
      () => file.read(0, target, 0, 1),
      () => file.sync(),
      () => file.truncate(0),
    ];
    for (const call of calls) expect(thrown(call)).toMatchObject({ code: 'EBADF', path: file.path });
  });

  it('closes with 100 reads and a sync in flight: each settles, then the descriptor is gone', async () => {
    const fdsBefore = openFdCount();
    const file = new SegmentFile(path.join(tempDir(), 'a.log'));
    const content = Buffer.alloc(64 * 1024);
    for (let i = 0; i < content.length; i++) content[i] = i % 251;
    file.append(content);
    const targets = Array.from({ length: 100 }, () => Buffer.alloc(1024));
    const reads = targets.map((target, i) => file.read(i * 512, target, 0, target.length));
    const sync = file.sync();
    file.close();
    expect(() => file.size()).toThrow();
    const settled = await Promise.allSettled([...reads, sync]);
    // The descriptor outlives close() until the last operation completes, so every one succeeds.
    expect(settled.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    targets.forEach((target, i) => expect(target.equals(content.subarray(i * 512, i * 512 + 1024))).toBe(true));
    expect(openFdCount()).toBe(fdsBefore);
  });

  it('leaves the descriptor count unchanged after 2000 open/append/close cycles', async () => {
    const filePath = path.join(tempDir(), 'a.log');
    const fdsBefore = openFdCount();
    const inFlight: Promise<number>[] = [];
    for (let cycle = 0; cycle < 2000; cycle++) {
      const file = new SegmentFile(filePath);
      file.append([bytes('x'), bytes('y')]);
      if (cycle % 100 === 0) inFlight.push(file.read(0, Buffer.alloc(2), 0, 2));
      file.close();
    }
    expect(await Promise.all(inFlight)).toEqual(inFlight.map(() => 2));
    expect(openFdCount()).toBe(fdsBefore);
    expect(fs.statSync(filePath).size).toBe(4000);
  });

  it('rejects a read on a directory with EISDIR', async () => {
    const dir = tempDir();
    const file = new SegmentFile(dir, { readOnly: true });
    expect(await rejection(file.read(0, Buffer.alloc(1), 0, 1))).toMatchObject({ code: 'EISDIR', syscall: 'read', path: dir });
    file.close();
  });
});
