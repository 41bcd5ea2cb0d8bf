// The index entry sizes compiled into the addon (native/formats.h) equal the TypeScript constants.
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { binding } from '../../src/native/binding.js';
import { OFFSET_INDEX_ENTRY_BYTES, TIME_INDEX_ENTRY_BYTES } from '../../src/storage/index-format.js';
import { tempDir } from './helpers.js';

describe('formats', () => {
  it('agree between native/formats.h and src/storage/index-format.ts', () => {
    expect(binding.formats).toEqual({
      offsetIndexEntryBytes: OFFSET_INDEX_ENTRY_BYTES,
      timeIndexEntryBytes: TIME_INDEX_ENTRY_BYTES,
    });
  });

  it('are what each MappedIndex uses', () => {
    const dir = tempDir();
    const offsetIndex = new binding.MappedIndex(path.join(dir, 'a.index'), { kind: 'offset', maxBytes: 1024 });
    const timeIndex = new binding.MappedIndex(path.join(dir, 'a.timeindex'), { kind: 'time', maxBytes: 1024 });
    expect(offsetIndex.entryBytes).toBe(OFFSET_INDEX_ENTRY_BYTES);
    expect(timeIndex.entryBytes).toBe(TIME_INDEX_ENTRY_BYTES);
    offsetIndex.close();
    timeIndex.close();
    expect(Object.isFrozen(binding.formats)).toBe(true);
  });
});
