// Runs the storage benchmarks and reports rows and ratios.
//   npm run bench        full run; writes bench/results/results.json and bench/results/chart.svg
//   npm run bench:gate   short run; exits 1 when a ratio falls below bench/gates.json
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { renderChart } from './chart.js';
import { mb, removeBenchDirs, type Ratio, type Row, type RunOptions, type SuiteResult } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SUITES: Record<string, () => Promise<{ run: (options: RunOptions) => Promise<SuiteResult> }>> = {
  append: () => import('./append.bench.js'),
  read: () => import('./read.bench.js'),
  index: () => import('./index.bench.js'),
  sendfile: () => import('./sendfile.bench.js'),
  fetch: () => import('./fetch.bench.js'),
  produce: () => import('./produce.bench.js'),
  consumer: () => import('./consumer.bench.js'),
  startup: () => import('./startup.bench.js'),
  'slow-readers': () => import('./slow-readers.bench.js'),
};

function formatRate(value: number | undefined, unit: string): string {
  if (value === undefined) return '';
  if (unit === 'MB/s') return `${mb(value)} MB/s`;
  return value >= 1e6 ? `${(value / 1e6).toFixed(2)}M rec/s` : `${(value / 1e3).toFixed(0)}k rec/s`;
}

async function main(): Promise<void> {
  const gate = process.argv.includes('--gate');
  const only = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  const options: RunOptions = { quick: gate };
  const rows: Row[] = [];
  const ratios: Ratio[] = [];
  const notes: string[] = [];
  for (const [name, load] of Object.entries(SUITES)) {
    if (only.length > 0 && !only.includes(name)) continue;
    process.stdout.write(`running ${name}...\n`);
    const result = await (await load()).run(options);
    rows.push(...result.rows);
    ratios.push(...result.ratios);
    notes.push(...(result.notes ?? []));
    removeBenchDirs();
  }

  console.log('\n' + ['workload'.padEnd(34), 'subject'.padEnd(30), 'records/s'.padStart(16), 'throughput'.padStart(12), 'median'.padStart(14)].join(' '));
  for (const row of rows) {
    const median = row.medianNs === undefined ? '' : row.medianNs >= 1e6 ? `${(row.medianNs / 1e6).toFixed(2)} ms` : `${row.medianNs.toFixed(0)} ns`;
    console.log([row.workload.padEnd(34), row.subject.padEnd(30), formatRate(row.recordsPerSec, 'rec').padStart(16), formatRate(row.bytesPerSec, 'MB/s').padStart(12), median.padStart(14)].join(' '));
  }
  const gates = JSON.parse(fs.readFileSync(path.join(here, 'gates.json'), 'utf8')) as Record<string, number | string>;
  console.log('\nratios (measured side by side in this run):');
  let failures = 0;
  for (const ratio of ratios) {
    const threshold = gates[ratio.name];
    const gated = typeof threshold === 'number';
    const ok = !gated || ratio.value >= threshold;
    if (!ok) failures++;
    const verdict = gated ? (ok ? `ok (gate >= ${threshold})` : `BELOW GATE ${threshold}`) : '';
    console.log(`  ${ratio.name.padEnd(40)} ${ratio.value.toFixed(2).padStart(7)}  ${verdict.padEnd(22)} ${ratio.description}`);
  }
  for (const note of notes) console.log(`  ${note}`);

  if (!gate) {
    const resultsDir = path.join(here, 'results');
    fs.mkdirSync(resultsDir, { recursive: true });
    const machine = `${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
    const report = { date: new Date().toISOString(), machine, rows, ratios, notes };
    fs.writeFileSync(path.join(resultsDir, 'results.json'), JSON.stringify(report, null, 2) + '\n');
    fs.writeFileSync(path.join(resultsDir, 'chart.svg'), renderChart(rows, `sluice storage benchmarks (${machine})`));
    console.log(`\nwrote bench/results/results.json and bench/results/chart.svg`);
  } else {
    console.log(failures === 0 ? '\nbenchmark gate: all ratios at or above their thresholds' : `\nbenchmark gate: ${failures} ratio(s) below threshold`);
    process.exitCode = failures === 0 ? 0 : 1;
  }
}

await main();
