// Offset-index lookup: the C++ binary search over a full, memory-mapped 10 MiB index
// (1,310,720 entries), called from JS, against the same binary search in JS over a Uint32Array
// copy of the keys (the reference: what a lookup costs without crossing into the addon).
//
// Expected on the 2-core reference machine: <= 1 us median per lookup (21 probes of a mapped
// page-cache-resident file plus one N-API call of ~50-100 ns).
import path from 'node:path';

import { binding } from '../src/native/binding.js';
import { OFFSET_INDEX_ENTRY_BYTES } from '../src/storage/index-format.js';
import { benchDir, measure, type RunOptions, type SuiteResult } from './harness.js';

const INDEX_BYTES = 10 * 1024 * 1024;
const LOOKUPS_PER_ITERATION = 1000;

export async function run(options: RunOptions): Promise<SuiteResult> {
  const timeMs = options.quick ? 300 : 1000;
  const dir = benchDir('index');
  const index = new binding.MappedIndex(path.join(dir, '00000000000000000000.index'), { kind: 'offset', maxBytes: INDEX_BYTES });
  const entries = INDEX_BYTES / OFFSET_INDEX_ENTRY_BYTES;
  const keys = new Uint32Array(entries);
  for (let i = 0; i < entries; i++) {
    keys[i] = i * 8 + 1; // an entry every 8 offsets, as with ~4 KiB between entries of 512-byte batches
    index.append(keys[i]!, i * 1600);
  }
  const targets = Array.from({ length: LOOKUPS_PER_ITERATION }, () => Math.floor(Math.random() * entries * 8));

  let sink = 0;
  const native = await measure('index lookup (C++)', () => {
    for (const target of targets) sink += index.lookup(target);
  }, timeMs);
  const js = await measure('index lookup (JS reference)', () => {
    for (const target of targets) sink += jsLookup(keys, target);
  }, timeMs);
  if (sink === 42) console.log('');
  index.close();

  const nativeNs = native.medianNs / LOOKUPS_PER_ITERATION;
  const jsNs = js.medianNs / LOOKUPS_PER_ITERATION;
  return {
    rows: [
      { suite: 'index', workload: 'offset index lookup, 10 MiB index', subject: 'sluice', medianNs: nativeNs },
      { suite: 'index', workload: 'offset index lookup, 10 MiB index', subject: 'JS binary search (reference)', medianNs: jsNs },
    ],
    ratios: [{ name: 'index_lookup_vs_js_search', value: jsNs / nativeNs, description: 'lookups/s: C++ over the mapped file / JS over a Uint32Array' }],
    notes: [`offset index lookup median: ${nativeNs.toFixed(0)} ns (target <= 1000 ns)`],
  };
}

/** Largest slot with key <= target, or -1. */
function jsLookup(keys: Uint32Array, target: number): number {
  let low = 0;
  let high = keys.length - 1;
  if (keys.length === 0 || keys[0]! > target) return -1;
  while (low < high) {
    const mid = (low + high + 1) >>> 1;
    if (keys[mid]! <= target) low = mid;
    else high = mid - 1;
  }
  return low;
}
