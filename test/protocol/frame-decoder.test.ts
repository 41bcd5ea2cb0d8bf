// FrameDecoder: frames split across chunks and coalesced in one chunk come out whole and in
// order; a size prefix above the limit (2 GiB - 1 here) or negative throws before any body is
// allocated, and the decoder stays failed.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FrameDecoder, ProtocolError } from '../../src/protocol/index.js';

function frame(body: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(body.length);
  return Buffer.concat([prefix, body]);
}

function drain(decoder: FrameDecoder): Buffer[] {
  const out: Buffer[] = [];
  for (let f = decoder.next(); f !== null; f = decoder.next()) out.push(f);
  return out;
}

const bodies = [Buffer.from('first frame'), Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(5000, 7), Buffer.from('last')];
const stream = Buffer.concat(bodies.map(frame));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('FrameDecoder', () => {
  it('returns whole frames from a stream pushed one byte at a time', () => {
    const decoder = new FrameDecoder(1 << 20);
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) {
      decoder.push(stream.subarray(i, i + 1));
      out.push(...drain(decoder));
    }
    expect(out).toEqual(bodies);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('returns every frame of one coalesced chunk, as windows on that chunk (no copy)', () => {
    const decoder = new FrameDecoder(1 << 20);
    decoder.push(stream);
    const out = drain(decoder);
    expect(out).toEqual(bodies);
    expect(out[0]!.buffer).toBe(stream.buffer);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('handles every split point of the stream into three chunks', () => {
    for (let a = 0; a < stream.length; a += 97) {
      for (let b = a; b < stream.length; b += 389) {
        const decoder = new FrameDecoder(1 << 20);
        const out: Buffer[] = [];
        for (const chunk of [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]) {
          decoder.push(chunk);
          out.push(...drain(decoder));
        }
        // Buffer.equals rather than toEqual: hundreds of decoders, compared byte-wise cheaply.
        expect(out.length).toBe(bodies.length);
        expect(out.every((body, i) => body.equals(bodies[i]!))).toBe(true);
      }
    }
  });

  it('counts buffered bytes, prefixes included, until a frame is complete', () => {
    const decoder = new FrameDecoder(100);
    const one = frame(Buffer.from('hello'));
    decoder.push(one.subarray(0, 6));
    expect(decoder.next()).toBeNull();
    expect(decoder.bufferedBytes).toBe(6);
    decoder.push(one.subarray(6));
    expect(decoder.next()).toEqual(Buffer.from('hello'));
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.next()).toBeNull();
  });

  it('a 2 GiB (2^31 - 1) size prefix throws FRAME_TOO_LARGE before anything is allocated', () => {
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');
    const alloc = vi.spyOn(Buffer, 'alloc');
    const allocUnsafeSlow = vi.spyOn(Buffer, 'allocUnsafeSlow');
    const decoder = new FrameDecoder(104857600);
    const prefix = Buffer.from([0x7f, 0xff, 0xff, 0xff]);
    expect(() => decoder.push(prefix)).toThrow(ProtocolError);
    expect(() => decoder.next()).toThrow(expect.objectContaining({ code: 'FRAME_TOO_LARGE' }));
    expect(allocUnsafe).not.toHaveBeenCalled();
    expect(alloc).not.toHaveBeenCalled();
    expect(allocUnsafeSlow).not.toHaveBeenCalled();
  });

  it('the limit is inclusive: a frame of exactly maxFrameBytes is accepted, one byte more is not', () => {
    const ok = new FrameDecoder(10);
    ok.push(frame(Buffer.alloc(10, 1)));
    expect(ok.next()).toEqual(Buffer.alloc(10, 1));
    const tooBig = new FrameDecoder(10);
    expect(() => tooBig.push(frame(Buffer.alloc(11)))).toThrow(/above the 10-byte limit/);
  });

  it('a negative size (0x80000000, i.e. "2 GiB" as an unsigned prefix) throws MALFORMED_FRAME and stays failed', () => {
    const decoder = new FrameDecoder(1 << 20);
    let caught: unknown;
    try {
      decoder.push(Buffer.from([0x80, 0x00, 0x00, 0x00]));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProtocolError);
    expect((caught as ProtocolError).code).toBe('MALFORMED_FRAME');
    expect(() => decoder.next()).toThrow(ProtocolError);
    expect(() => decoder.push(Buffer.from([0]))).toThrow(ProtocolError);
  });

  it('a bad prefix after good frames is reported once those frames are taken', () => {
    const decoder = new FrameDecoder(1 << 20);
    decoder.push(Buffer.concat([frame(Buffer.from('ok')), Buffer.from([0xff, 0xff, 0xff, 0xfe])]));
    expect(decoder.next()).toEqual(Buffer.from('ok'));
    expect(() => decoder.next()).toThrow(/negative frame size/);
  });

  it('returns a frame spread over chunks that follow one another in one buffer as a view of it, and copies one spread over separate buffers', () => {
    const big = frame(Buffer.alloc(5000, 9));
    const adjacent = new FrameDecoder(1 << 20);
    for (let i = 0; i < big.length; i += 1000) adjacent.push(big.subarray(i, i + 1000));
    const view = adjacent.next()!;
    expect(view.equals(Buffer.alloc(5000, 9))).toBe(true);
    expect(view.buffer).toBe(big.buffer);
    expect(view.byteOffset).toBe(big.byteOffset + 4);

    const separate = new FrameDecoder(1 << 20);
    for (let i = 0; i < big.length; i += 1000) separate.push(Buffer.from(big.subarray(i, i + 1000)));
    const copy = separate.next()!;
    expect(copy.equals(Buffer.alloc(5000, 9))).toBe(true);
    expect(copy.buffer).not.toBe(big.buffer);
  });

  it('moves the bytes not yet taken to the front of the buffer they lie in, or into another, and reads on from there', () => {
    for (const inPlace of [true, false]) {
      for (let cut = 0; cut <= stream.length; cut += 7) {
        // The stream read into one buffer in two reads, the first frames taken, the rest moved.
        const arena = Buffer.alloc(stream.length + 16);
        const decoder = new FrameDecoder(1 << 20);
        stream.copy(arena, 0, 0, cut);
        decoder.push(arena.subarray(0, cut));
        // The frames taken are handled (here: copied) before their bytes may be read over.
        const out: Buffer[] = drain(decoder).map((body) => Buffer.from(body));
        expect(decoder.unreadWithin(arena)).toBe(true);
        const target = inPlace ? arena : Buffer.alloc(stream.length);
        const moved = decoder.moveUnreadTo(target);
        expect(moved).toBe(decoder.bufferedBytes);
        stream.copy(target, moved, cut);
        decoder.push(target.subarray(moved, moved + stream.length - cut));
        out.push(...drain(decoder));
        expect(out.length).toBe(bodies.length);
        expect(out.every((body, i) => body.equals(bodies[i]!))).toBe(true);
        expect(decoder.bufferedBytes).toBe(0);
      }
    }
  });

  it('many tiny chunks stay cheap to consume (no per-chunk shifting)', () => {
    const decoder = new FrameDecoder(1 << 20);
    const big = frame(Buffer.alloc(200_000, 3));
    for (let i = 0; i < big.length; i += 3) decoder.push(big.subarray(i, i + 3));
    expect(decoder.next()!.equals(Buffer.alloc(200_000, 3))).toBe(true);
    expect(decoder.bufferedBytes).toBe(0);
  });
});
