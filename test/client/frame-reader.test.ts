import { describe, expect, it } from 'vitest';

import { FrameReader } from '../../src/client/frame-reader.js';

function frameOf(correlationId: number, bodyBytes: number): Buffer {
  const frame = Buffer.alloc(8 + bodyBytes);
  frame.writeInt32BE(4 + bodyBytes, 0);
  frame.writeInt32BE(correlationId, 4);
  for (let i = 0; i < bodyBytes; i++) frame[8 + i] = (correlationId * 31 + i) & 0xff;
  return frame;
}

/** Feeds `stream` to the reader as a socket would: each read fills at most `readBytes` of the target the reader names. */
function feed(reader: FrameReader, stream: Buffer, readBytes: (n: number) => number): void {
  let at = 0;
  for (let n = 0; at < stream.length; n++) {
    const target = reader.readTarget();
    const bytes = Math.min(target.length, readBytes(n), stream.length - at);
    stream.copy(target, 0, at, at + bytes);
    at += bytes;
    reader.onRead(target, bytes);
  }
}

describe('FrameReader', () => {
  const sizes = [0, 1, 100, 64 * 1024 - 1, 64 * 1024 + 5, 300_000, 3, 1_000_000];
  const frames = sizes.map((size, i) => frameOf(i + 1, size));
  const stream = Buffer.concat(frames);

  for (const [name, readBytes] of [
    ['reads of 7 bytes', () => 7],
    ['reads of varying sizes', (n: number) => [3, 70_000, 5, 256 * 1024, 11, 900_000][n % 6]!],
    ['reads as large as the target', () => Number.MAX_SAFE_INTEGER],
  ] as const) {
    it(`assembles frames whole, in order, from ${name}`, () => {
      const got: Buffer[] = [];
      const reader = new FrameReader(2_000_000, Buffer.alloc(16 * 1024), (frame) => got.push(Buffer.from(frame)));
      feed(reader, stream, readBytes);
      expect(got.length).toBe(frames.length);
      got.forEach((frame, i) => expect(frame.equals(frames[i]!.subarray(4))).toBe(true));
    });
  }

  it('assembles frames from one byte per read (a shorter stream)', () => {
    const short = Buffer.concat(frames.slice(0, 4));
    const got: Buffer[] = [];
    const reader = new FrameReader(2_000_000, Buffer.alloc(1024), (frame) => got.push(Buffer.from(frame)));
    feed(reader, short, () => 1);
    expect(got.map((f) => f.length)).toEqual(sizes.slice(0, 4).map((s) => 4 + s));
    got.forEach((frame, i) => expect(frame.equals(frames[i]!.subarray(4))).toBe(true));
  });

  it('reads a large frame straight into the buffer lent for its correlation id', () => {
    const lent = Buffer.alloc(2_000_000);
    const asked: Array<[number, number]> = [];
    const got: Buffer[] = [];
    const reader = new FrameReader(2_000_000, Buffer.alloc(16 * 1024), (frame) => got.push(frame), (sizeBytes, correlationId) => {
      asked.push([sizeBytes, correlationId]);
      return correlationId === 8 ? lent : Buffer.allocUnsafe(sizeBytes);
    });
    feed(reader, stream, () => 200_000);
    expect(asked).toEqual(sizes.map((size, i) => [4 + size, i + 1]));
    const last = got.at(-1)!;
    expect(last.buffer).toBe(lent.buffer);
    expect(last.byteOffset).toBe(lent.byteOffset);
    expect(last.equals(frames.at(-1)!.subarray(4))).toBe(true);
  });

  it('allocates its own frame when the lent buffer is too short', () => {
    const got: Buffer[] = [];
    const reader = new FrameReader(2_000_000, Buffer.alloc(16 * 1024), (frame) => got.push(frame), () => Buffer.alloc(10));
    feed(reader, frames[5]!, () => 100_000);
    expect(got[0]!.equals(frames[5]!.subarray(4))).toBe(true);
  });

  it('refuses a frame shorter than a correlation id or above the limit', () => {
    const reader = new FrameReader(1000, Buffer.alloc(1024), () => {});
    expect(() => reader.push(Buffer.from([0, 0, 0, 3]))).toThrow(/3 bytes/);
    const large = new FrameReader(1000, Buffer.alloc(1024), () => {});
    expect(() => large.push(Buffer.from([0, 0, 0x10, 0]))).toThrow(/4096 bytes \(limit 1000\)/);
  });
});
