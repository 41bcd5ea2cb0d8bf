// The leader-epoch history on its own: Kafka's LeaderEpochFileCache semantics case by case, and the
// leader-epoch-checkpoint file byte for byte, including what a crash can leave of it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { LEADER_EPOCH_CHECKPOINT_FILE, LeaderEpochCache, UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET } from '../../src/storage/leader-epoch-cache.js';
import { tempDir } from '../helpers.js';

const UNDEFINED = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };

function cacheWith(...entries: Array<[number, number]>): LeaderEpochCache {
  const cache = LeaderEpochCache.open(tempDir());
  for (const [epoch, startOffset] of entries) cache.assign(epoch, startOffset);
  return cache;
}

const entries = (cache: LeaderEpochCache) => cache.epochEntries().map((e) => [e.epoch, e.startOffset]);
const fileText = (cache: LeaderEpochCache) => fs.readFileSync(cache.checkpointPath, 'utf8');

describe('assign', () => {
  it('records each new epoch at its first offset, and ignores the same epoch at a later offset', () => {
    const cache = cacheWith([0, 0], [0, 1], [0, 2], [1, 3], [1, 4], [2, 6], [2, 7]);
    expect(entries(cache)).toEqual([[0, 0], [1, 3], [2, 6]]);
    expect(cache.latestEpoch).toBe(2);
    expect(cache.assign(2, 9)).toBe(false);
  });

  it('keeps epochs and offsets strictly increasing by dropping the entries a conflicting one contradicts', () => {
    // The same epoch at an earlier offset: the log was cut and rewritten below it.
    expect(entries(cacheWith([5, 11], [6, 12], [7, 13], [7, 12]))).toEqual([[5, 11], [7, 12]]);
    // A later epoch at the same offset: the earlier epoch wrote nothing.
    expect(entries(cacheWith([2, 9], [3, 9]))).toEqual([[3, 9]]);
    // A later epoch at a smaller offset.
    expect(entries(cacheWith([2, 6], [3, 5]))).toEqual([[3, 5]]);
    // An older epoch at a later offset.
    expect(entries(cacheWith([1, 5], [2, 6], [1, 7]))).toEqual([[1, 7]]);
  });

  it('refuses negative epochs and offsets', () => {
    const cache = cacheWith();
    expect(() => cache.assign(-1, 0)).toThrow(RangeError);
    expect(() => cache.assign(0, -1)).toThrow(RangeError);
    expect(() => cache.assign(2 ** 31, 0)).toThrow(RangeError);
  });
});

describe('endOffsetFor (OffsetForLeaderEpoch)', () => {
  it('answers the latest epoch with the log end offset', () => {
    const cache = cacheWith([2, 11]);
    expect(cache.endOffsetFor(2, 14)).toEqual({ epoch: 2, endOffset: 14 });
  });

  it('answers an earlier epoch with the start of the next one', () => {
    const cache = cacheWith([0, 0], [1, 3], [2, 6]);
    expect(cache.endOffsetFor(0, 9)).toEqual({ epoch: 0, endOffset: 3 });
    expect(cache.endOffsetFor(1, 9)).toEqual({ epoch: 1, endOffset: 6 });
  });

  it('answers an epoch it never saw with the largest epoch below it and that epoch\'s end', () => {
    const cache = cacheWith([0, 10], [2, 13], [4, 17]);
    expect(cache.endOffsetFor(1, 20)).toEqual({ epoch: 0, endOffset: 13 });
    expect(cache.endOffsetFor(3, 20)).toEqual({ epoch: 2, endOffset: 17 });
  });

  it('answers an epoch older than its history with that epoch and where the history starts', () => {
    const cache = cacheWith([5, 11], [6, 12], [7, 13]);
    expect(cache.endOffsetFor(4, 20)).toEqual({ epoch: 4, endOffset: 11 });
  });

  it('is UNDEFINED for an empty history, for UNDEFINED_EPOCH, and past the latest epoch', () => {
    expect(cacheWith().endOffsetFor(0, 0)).toEqual(UNDEFINED);
    expect(cacheWith().endOffsetFor(UNDEFINED_EPOCH, 73)).toEqual(UNDEFINED);
    expect(cacheWith([2, 11], [3, 12]).endOffsetFor(UNDEFINED_EPOCH, 20)).toEqual(UNDEFINED);
    expect(cacheWith([2, 100]).endOffsetFor(3, 100)).toEqual(UNDEFINED);
  });

  it('follows the history as leaders change, including an epoch that wrote nothing', () => {
    const cache = cacheWith([0, 0], [1, 0]);
    expect(cache.endOffsetFor(1, 0)).toEqual({ epoch: 1, endOffset: 0 });
    // Epoch 0 wrote nothing, so epoch 1 replaced it; asked about 0, the history answers from its start.
    expect(entries(cache)).toEqual([[1, 0]]);
    expect(cache.endOffsetFor(0, 0)).toEqual({ epoch: 0, endOffset: 0 });
    cache.assign(2, 5);
    expect(cache.endOffsetFor(2, 10)).toEqual({ epoch: 2, endOffset: 10 });
    expect(cache.endOffsetFor(1, 10)).toEqual({ epoch: 1, endOffset: 5 });
  });
});

describe('lookups', () => {
  it('epochForOffset gives the epoch whose range holds the offset', () => {
    const cache = cacheWith([0, 10], [1, 20], [5, 30]);
    expect([5, 10, 19, 20, 25, 30, 50].map((offset) => cache.epochForOffset(offset))).toEqual([-1, 0, 0, 1, 1, 5, 5]);
  });

  it('previousEpoch gives the largest epoch below one, for a follower\'s next question', () => {
    const cache = cacheWith([2, 10], [4, 15], [10, 20]);
    expect([2, 3, 4, 10, 11].map((epoch) => cache.previousEpoch(epoch))).toEqual([-1, 2, 2, 4, 10]);
    expect(cache.epochEntry(4)).toEqual({ epoch: 4, startOffset: 15 });
    expect(cache.epochEntry(3)).toBeUndefined();
  });
});

describe('truncation', () => {
  it('truncateFromEnd drops the entries starting at or after the new log end', () => {
    const at = (offset: number) => {
      const cache = cacheWith([2, 6], [3, 8], [4, 11]);
      cache.truncateFromEnd(offset);
      return entries(cache);
    };
    expect(at(8)).toEqual([[2, 6]]);
    expect(at(9)).toEqual([[2, 6], [3, 8]]);
    expect(at(12)).toEqual([[2, 6], [3, 8], [4, 11]]);
    expect(at(UNDEFINED_EPOCH_OFFSET)).toEqual([[2, 6], [3, 8], [4, 11]]);
  });

  it('truncateFromStart keeps the epoch covering the new log start, starting there', () => {
    const at = (offset: number) => {
      const cache = cacheWith([2, 6], [3, 8], [4, 11]);
      cache.truncateFromStart(offset);
      return entries(cache);
    };
    expect(at(1)).toEqual([[2, 6], [3, 8], [4, 11]]);
    expect(at(6)).toEqual([[2, 6], [3, 8], [4, 11]]);
    expect(at(8)).toEqual([[3, 8], [4, 11]]);
    expect(at(9)).toEqual([[3, 9], [4, 11]]);
    expect(at(11)).toEqual([[4, 11]]);
    expect(at(15)).toEqual([[4, 15]]);
    expect(at(UNDEFINED_EPOCH_OFFSET)).toEqual([[2, 6], [3, 8], [4, 11]]);
  });

  it('does nothing on an empty history', () => {
    const cache = cacheWith();
    expect(cache.truncateFromEnd(7)).toBe(false);
    expect(cache.truncateFromStart(7)).toBe(false);
    expect(fs.existsSync(cache.checkpointPath)).toBe(false);
  });
});

describe('leader-epoch-checkpoint', () => {
  it('is Kafka\'s text: version 0, the count, then "epoch startOffset" lines', () => {
    const cache = cacheWith([0, 0], [3, 1200], [7, 4_500_000_000]);
    expect(path.basename(cache.checkpointPath)).toBe(LEADER_EPOCH_CHECKPOINT_FILE);
    expect(fileText(cache)).toBe('0\n3\n0 0\n3 1200\n7 4500000000\n');
  });

  it('is rewritten on every change, and an empty history is "0\\n0\\n"', () => {
    const cache = cacheWith([2, 6], [3, 8], [4, 11]);
    cache.truncateFromEnd(11);
    expect(fileText(cache)).toBe('0\n2\n2 6\n3 8\n');
    cache.truncateFromStart(8);
    expect(fileText(cache)).toBe('0\n1\n3 8\n');
    cache.clear();
    expect(fileText(cache)).toBe('0\n0\n');
  });

  it('opens what it wrote', () => {
    const dir = tempDir();
    const cache = LeaderEpochCache.open(dir);
    expect(cache.openedFrom).toBe('missing');
    cache.assign(1, 0);
    cache.assign(4, 250);
    const reopened = LeaderEpochCache.open(dir);
    expect(reopened.openedFrom).toBe('loaded');
    expect(entries(reopened)).toEqual([[1, 0], [4, 250]]);
  });

  it('reads a file Kafka wrote (golden text)', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE), '0\n4\n0 0\n1 37\n2 95\n5 96\n');
    const cache = LeaderEpochCache.open(dir);
    expect(entries(cache)).toEqual([[0, 0], [1, 37], [2, 95], [5, 96]]);
    expect(cache.endOffsetFor(3, 120)).toEqual({ epoch: 2, endOffset: 96 });
  });

  it('ignores a torn .tmp a crash left beside it, and replaces it on the next write', () => {
    const dir = tempDir();
    const cache = LeaderEpochCache.open(dir);
    cache.assign(1, 0);
    cache.assign(2, 40);
    const whole = fileText(cache);
    // A crash between the .tmp write and the rename: half a newer file next to the old one.
    fs.writeFileSync(cache.checkpointPath + '.tmp', '0\n3\n1 0\n2 40\n3 9');
    const reopened = LeaderEpochCache.open(dir);
    expect(reopened.openedFrom).toBe('loaded');
    expect(entries(reopened)).toEqual([[1, 0], [2, 40]]);
    reopened.assign(3, 90);
    expect(fileText(reopened)).toBe(whole.replace('0\n2\n', '0\n3\n') + '3 90\n');
    expect(fs.existsSync(cache.checkpointPath + '.tmp')).toBe(false);
  });

  it('reports a file that is not a checkpoint as corrupt, with nothing loaded', () => {
    const cases = ['', '1\n0\n', '0\n2\n1 0\n', '0\n1\n1 0 7\n', '0\n1\nx 0\n', '0\n1\n-3 0\n', '0\n1\n1 1.5\n', 'garbage'];
    for (const text of cases) {
      const dir = tempDir();
      fs.writeFileSync(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE), text);
      const cache = LeaderEpochCache.open(dir);
      expect({ text, openedFrom: cache.openedFrom, entries: entries(cache) }).toEqual({ text, openedFrom: 'corrupt', entries: [] });
    }
  });
});
