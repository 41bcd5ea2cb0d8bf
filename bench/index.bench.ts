// Offset-index lookup over a full, memory-mapped 10 MiB index (1,310,720 entries), three ways:
//   sluice        the lookup the storage engine makes (IndexView: JS over the mapping itself)
//   addon         MappedIndex.lookup(), one N-API call per lookup (internal, for reference)
//   reference     the same binary search in JS over a Uint32Array copy of the keys
// Paired rounds (sluice and reference alternate, the median ratio is kept) so that a noisy
// neighbour weighs on both subjects alike. Target: no slower than the reference (ratio >= 1).
import path from 'node:path';

import { binding } from '../src/native/binding.js';
import { IndexView } from '../src/storage/index-view.js';
import { OFFSET_INDEX_ENTRY_BYTES } from '../src/storage/index-format.js';
import { benchDir, measure, median, type RunOptions, type SuiteResult } from './harness.js';

const INDEX_BYTES = 10 * 1024 * 1024;
const LOOKUPS_PER_ITERATION = 1000;

export async function run(options: RunOptions): Promise<SuiteResult> {
  const timeMs = options.quick ? 200 : 500;
  const rounds = options.quick ? 3 : 5;
  const entries = INDEX_BYTES / OFFSET_INDEX_ENTRY_BYTES;
  // An entry every ~8 offsets (~4 KiB between entries of ~512-byte batches), the gap varying
  // from 4 to 12 as batch sizes do: the shape of a real offset index.
  const realistic = await measureIndex(entries, (i) => 4 + (i * 7919) % 9, timeMs, rounds);
  // Far from linear (reported, not gated): runs of small batches (a gap of 1) and large ones (a
  // gap of 64), so interpolation guesses wrong and the search has to walk.
  const skewed = await measureIndex(entries, (i) => ((i >> 10) % 2 === 0 ? 1 : 64), timeMs, rounds);

  const workload = 'offset index lookup, 10 MiB index';
  return {
    rows: [
      { suite: 'index', workload, subject: 'sluice lookup (IndexView, internal)', medianNs: median(realistic.sluiceNs) },
      { suite: 'index', workload, subject: 'JS binary search (reference)', medianNs: median(realistic.referenceNs) },
      { suite: 'index', workload, subject: 'addon call (internal)', medianNs: median(realistic.addonNs) },
    ],
    ratios: [
      { name: 'index_lookup_vs_js_search', value: median(realistic.ratios), description: `lookups/s: sluice's lookup (JS over the mapping) / JS over a Uint32Array; median of ${rounds} paired rounds` },
      { name: 'index_lookup_skewed_vs_js_search', value: median(skewed.ratios), description: 'the same on keys far from linear (gaps of 1 and 64 in runs of 1,024 entries)' },
      { name: 'index_lookup_addon_call_vs_js_search', value: median(realistic.referenceNs) / median(realistic.addonNs), description: 'internal: one N-API call per lookup / JS over a Uint32Array' },
    ],
    notes: [
      `offset index lookup median: ${median(realistic.sluiceNs).toFixed(0)} ns (sluice), ${median(realistic.addonNs).toFixed(0)} ns (addon call), ${median(realistic.referenceNs).toFixed(0)} ns (JS reference)`,
      `offset index lookup on keys far from linear: ${median(skewed.sluiceNs).toFixed(0)} ns (sluice), ${median(skewed.referenceNs).toFixed(0)} ns (JS reference)`,
    ],
  };
}

interface IndexTimes {
  sluiceNs: number[];
  referenceNs: number[];
  addonNs: number[];
  ratios: number[];
}

/** Writes a full index whose entry i follows entry i - 1 by gap(i) offsets, and times lookups of random offsets in it. */
async function measureIndex(entries: number, gap: (entry: number) => number, timeMs: number, rounds: number): Promise<IndexTimes> {
  const dir = benchDir('index');
  const native = new binding.MappedIndex(path.join(dir, '00000000000000000000.index'), { kind: 'offset', maxBytes: INDEX_BYTES });
  const keys = new Uint32Array(entries);
  let key = 1;
  for (let i = 0; i < entries; i++) {
    keys[i] = key;
    native.append(key, i * 1600);
    key += gap(i);
  }
  native.close();
  const index = new IndexView(new binding.MappedIndex(path.join(dir, '00000000000000000000.index'), { kind: 'offset', maxBytes: INDEX_BYTES }));
  const addon = new binding.MappedIndex(path.join(dir, '00000000000000000000.index'), { kind: 'offset', maxBytes: 0, readOnly: true });
  const targets = Array.from({ length: LOOKUPS_PER_ITERATION }, () => Math.floor(Math.random() * key));
  for (const target of targets) {
    if (index.lookup(target) !== jsLookup(keys, target)) throw new Error(`index bench: lookups of ${target} disagree`);
  }

  let sink = 0;
  const times: IndexTimes = { sluiceNs: [], referenceNs: [], addonNs: [], ratios: [] };
  for (let round = 0; round < rounds; round++) {
    const ours = await measure('index lookup (sluice)', () => {
      for (const target of targets) sink += index.lookup(target);
    }, timeMs);
    const reference = await measure('index lookup (JS reference)', () => {
      for (const target of targets) sink += jsLookup(keys, target);
    }, timeMs);
    const call = await measure('index lookup (addon call)', () => {
      for (const target of targets) sink += addon.lookup(target);
    }, timeMs);
    times.sluiceNs.push(ours.medianNs / LOOKUPS_PER_ITERATION);
    times.referenceNs.push(reference.medianNs / LOOKUPS_PER_ITERATION);
    times.addonNs.push(call.medianNs / LOOKUPS_PER_ITERATION);
    times.ratios.push(reference.medianNs / ours.medianNs);
  }
  if (sink === 42) console.log('');
  index.close();
  addon.close();
  return times;
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
