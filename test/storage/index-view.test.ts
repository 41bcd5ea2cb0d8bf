// IndexView: the JS reads over the mapping answer exactly as the addon's, for both index kinds,
// through appends, truncation, trim and grow-back; after resize and close the old mapping is out
// of JS's reach (its ArrayBuffer is detached), and calls after close fail as the addon's do.
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { binding, type IndexKind } from '../../src/native/binding.js';
import { IndexView } from '../../src/storage/index-view.js';
import { tempDir } from '../helpers.js';

const MAX_BYTES = 1024 * 1024;

function pair(kind: IndexKind): { native: InstanceType<typeof binding.MappedIndex>; view: IndexView } {
  const dir = tempDir();
  // Two files with the same entries: the view wraps one, the addon answers for the other.
  const native = new binding.MappedIndex(path.join(dir, `a.${kind}`), { kind, maxBytes: MAX_BYTES });
  const view = new IndexView(new binding.MappedIndex(path.join(dir, `b.${kind}`), { kind, maxBytes: MAX_BYTES }));
  return { native, view };
}

function expectSameAnswers(native: InstanceType<typeof binding.MappedIndex>, view: IndexView, targets: number[]): void {
  expect(view.entries()).toBe(native.entries());
  expect(view.capacity()).toBe(native.capacity());
  expect(view.isFull()).toBe(native.isFull());
  expect(targets.map((t) => view.lookup(t))).toEqual(targets.map((t) => native.lookup(t)));
  for (let slot = 0; slot < native.entries(); slot += 97) {
    expect([view.keyAt(slot), view.valueAt(slot)]).toEqual([native.keyAt(slot), native.valueAt(slot)]);
  }
}

describe('IndexView', () => {
  it('answers lookups, keys and values as the addon does, for offset and time indexes', () => {
    for (const kind of ['offset', 'time'] as const) {
      const { native, view } = pair(kind);
      // Time keys cross zero and 2^32 (the i64 is read as two halves); offset keys stay u32.
      const start = kind === 'time' ? -5_000_000 : 1;
      const stride = kind === 'time' ? 3_000_000 : 7;
      const entries = Math.floor(native.capacity() * 0.9); // past the 8 KiB warm section
      for (let i = 0; i < entries; i++) {
        native.append(start + i * stride, i * 100);
        view.append(start + i * stride, i * 100);
      }
      const last = start + (entries - 1) * stride;
      const targets = [-1e15, start - 1, start, start + 0.5, last, last + 1, 2 ** 40, ...Array.from({ length: 500 }, () => start - stride + Math.floor(Math.random() * (last - start + 3 * stride)))];
      expectSameAnswers(native, view, targets);

      // Truncation, trim to the entries, and grow back.
      native.truncateEntries(1000);
      view.truncateEntries(1000);
      expectSameAnswers(native, view, targets);
      native.resize(1000 * native.entryBytes);
      view.resize(1000 * view.entryBytes);
      expectSameAnswers(native, view, targets);
      native.resize(MAX_BYTES - (MAX_BYTES % native.entryBytes));
      view.resize(MAX_BYTES - (MAX_BYTES % view.entryBytes));
      native.append(last + 10, 7);
      view.append(last + 10, 7);
      expectSameAnswers(native, view, targets);
      native.close();
      view.close();
    }
  });

  it('keeps its in-memory summary through appends and truncations made after lookups', () => {
    // The heap copy of the keys and its summary of every 16th key (index-keys.ts) are built at the
    // first lookup and then kept by appends, growing past their first 1,024 slots, and by
    // truncation: inside a summary block, at a block's first slot, and to nothing.
    for (const kind of ['offset', 'time'] as const) {
      const { native, view } = pair(kind);
      let key = 3;
      for (let i = 0; i < 20_000; i++) {
        key += 1 + (i % 5);
        native.append(key, i);
        view.append(key, i);
        if (i % 997 === 0) {
          const targets = [0, key, key + 1, Math.floor(key / 2), Math.floor(key / 3) + 1];
          expect(targets.map((t) => view.lookup(t))).toEqual(targets.map((t) => native.lookup(t)));
        }
        const truncateTo = i === 12_345 ? 7_000 : i === 15_000 ? 9_600 : i === 16_000 ? 0 : -1;
        if (truncateTo >= 0) {
          native.truncateEntries(truncateTo);
          view.truncateEntries(truncateTo);
          key = truncateTo === 0 ? 3 : native.keyAt(truncateTo - 1);
          expect([0, key, key + 1].map((t) => view.lookup(t))).toEqual([0, key, key + 1].map((t) => native.lookup(t)));
        }
      }
      expectSameAnswers(native, view, Array.from({ length: 300 }, () => Math.floor(Math.random() * (key + 10))));
      native.close();
      view.close();
    }
  });

  it('detaches the mapping from JS on resize and close; calls after close fail with EBADF', () => {
    const { native, view } = pair('offset');
    native.close();
    view.append(1, 10);
    const before = new DataView(view.view());
    expect(before.getUint32(0)).toBe(1);
    view.resize(view.entryBytes); // trim: a new mapping, the old buffer detached
    expect(() => before.getUint32(0)).toThrow(TypeError);
    expect(view.lookup(5)).toBe(0);
    const after = new DataView(view.view());
    view.close();
    expect(() => after.getUint32(0)).toThrow(TypeError);
    for (const call of [() => view.lookup(5), () => view.keyAt(0), () => view.valueAt(0), () => view.entries()]) {
      expect(call).toThrow(expect.objectContaining({ code: 'EBADF' }));
    }
  });

  it('takes the view of its mapping at the first read, and again after a resize, not when it opens', () => {
    // V8 counts an external buffer's length as external memory: a view taken on open cost a
    // mark-compact every ~11 indexes opened, most of them never searched.
    const index = new binding.MappedIndex(path.join(tempDir(), 'c.offset'), { kind: 'offset', maxBytes: MAX_BYTES });
    let views = 0;
    const counted = new Proxy(index, {
      get: (target, name) => {
        if (name === 'view') return () => (views++, target.view());
        const value = Reflect.get(target, name);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const view = new IndexView(counted);
    view.append(1, 10);
    view.append(5, 50);
    expect([view.entries(), view.capacity(), views]).toEqual([2, index.capacity(), 0]);
    expect(view.lookup(6)).toBe(1);
    expect(view.keyAt(0)).toBe(1);
    expect(views).toBe(1);
    view.resize(MAX_BYTES / 2);
    view.append(9, 90);
    expect(views).toBe(1);
    expect([view.lookup(9), view.valueAt(2)]).toEqual([2, 90]);
    expect(views).toBe(2);
    view.close();
  });

  it('refuses slots outside the entries as the addon does', () => {
    const { native, view } = pair('offset');
    for (const index of [native, view]) {
      index.append(3, 30);
      expect(() => index.keyAt(1)).toThrow(RangeError);
      expect(() => index.valueAt(-1)).toThrow(RangeError);
      expect(() => index.lookup(Number.NaN)).toThrow(TypeError);
      index.close();
    }
  });
});
