// Offset-index lookup over a full, memory-mapped 10 MiB index (1,310,720 entries), three ways:
//   sluice        the lookup the storage engine makes (IndexView: JS over a heap copy of the keys
//                 with a summary, index-keys.ts)
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
  const dir = benchDir('index');
  const native = new binding.MappedIndex(path.join(dir, '00000000000000000000.index'), { kind: 'offset', maxBytes: INDEX_BYTES });
  const entries = INDEX_BYTES / OFFSET_INDEX_ENTRY_BYTES;
  const keys = new Uint32Array(entries);
  for (let i = 0; i < entries; i++) {
    keys[i] = i * 8 + 1; // an entry every 8 offsets, as with ~4 KiB between entries of 512-byte batches
    native.append(keys[i]!, i * 1600);
  }
  native.close();
  const index = new IndexView(new binding.MappedIndex(path.join(dir, '00000000000000000000.index'), { kind: 'offset', maxBytes: INDEX_BYTES }));
  const addon = new binding.MappedIndex(path.join(dir, '00000000000000000000.index'), { kind: 'offset', maxBytes: 0, readOnly: true });
  const targets = Array.from({ length: LOOKUPS_PER_ITERATION }, () => Math.floor(Math.random() * entries * 8));

  // Each subject sums in a local and adds one bit to `sink`: a sum kept in the shared closure
  // variable outgrew a small integer after a few iterations, and every lookup then boxed a heap
  // number, so the garbage collector ran inside the timed loops.
  let sink = 0;
  const sluiceNs: number[] = [];
  const referenceNs: number[] = [];
  const addonNs: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const ours = await measure('index lookup (sluice)', () => {
      let sum = 0;
      for (const target of targets) sum += index.lookup(target);
      sink += sum & 1;
    }, timeMs);
    const reference = await measure('index lookup (JS reference)', () => {
      let sum = 0;
      for (const target of targets) sum += jsLookup(keys, target);
      sink += sum & 1;
    }, timeMs);
    const call = await measure('index lookup (addon call)', () => {
      let sum = 0;
      for (const target of targets) sum += addon.lookup(target);
      sink += sum & 1;
    }, timeMs);
    sluiceNs.push(ours.medianNs / LOOKUPS_PER_ITERATION);
    referenceNs.push(reference.medianNs / LOOKUPS_PER_ITERATION);
    addonNs.push(call.medianNs / LOOKUPS_PER_ITERATION);
    ratios.push(reference.medianNs / ours.medianNs);
  }
  if (sink === 42) console.log('');
  index.close();
  addon.close();

  const workload = 'offset index lookup, 10 MiB index';
  return {
    rows: [
      { suite: 'index', workload, subject: 'sluice lookup (IndexView, internal)', medianNs: median(sluiceNs) },
      { suite: 'index', workload, subject: 'JS binary search (reference)', medianNs: median(referenceNs) },
      { suite: 'index', workload, subject: 'addon call (internal)', medianNs: median(addonNs) },
    ],
    ratios: [
      { name: 'index_lookup_vs_js_search', value: median(ratios), description: `lookups/s: sluice's lookup (IndexView, keys on the heap with a summary) / a flat JS binary search over a Uint32Array; median of ${rounds} paired rounds` },
      { name: 'index_lookup_addon_call_vs_js_search', value: median(referenceNs) / median(addonNs), description: 'internal: one N-API call per lookup / JS over a Uint32Array' },
    ],
    notes: [`offset index lookup median: ${median(sluiceNs).toFixed(0)} ns (sluice), ${median(addonNs).toFixed(0)} ns (addon call), ${median(referenceNs).toFixed(0)} ns (JS reference)`],
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
