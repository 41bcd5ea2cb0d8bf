// WriteBuffers: request frames' memory is reused once a frame is written, never while it may still
// be written; small frames come from Node's Buffer pool and are never taken back.
import { describe, expect, it } from 'vitest';

import { WriteBuffers } from '../../src/client/write-buffers.js';

describe('WriteBuffers', () => {
  it('gives a released frame\'s memory to the next frame that fits, and new memory while it is out', () => {
    const buffers = new WriteBuffers();
    const first = buffers.take(16_400);
    const second = buffers.take(16_400);
    expect(first.length).toBe(16_400);
    expect(second.buffer).not.toBe(first.buffer);
    buffers.release(first);
    const third = buffers.take(20_000);
    expect(third.buffer).toBe(first.buffer);
    expect(third.length).toBe(20_000);
  });

  it('takes back only memory it made, and not beyond a few buffers', () => {
    const buffers = new WriteBuffers();
    const small = buffers.take(100);
    expect(small.length).toBe(100);
    buffers.release(small);
    buffers.release(Buffer.allocUnsafe(70_000));
    expect(buffers.take(5000).buffer).not.toBe(small.buffer);

    const frames = Array.from({ length: 20 }, () => buffers.take(10_000));
    for (const frame of frames) buffers.release(frame);
    const reused = new Set(Array.from({ length: 20 }, () => buffers.take(10_000).buffer));
    const kept = frames.filter((frame) => reused.has(frame.buffer)).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(8);
  });
});
