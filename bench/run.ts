// Runs the storage benchmarks and reports rows and ratios.
//   npm run bench              full run; writes bench/results/results.json and bench/results/chart.svg
//   npm run bench -- a b       suites a and b only; their entries in results.json are replaced, the
//                              other suites' entries are kept (each entry names its suite)
//   npm run bench:gate         short run; exits 1 when a ratio falls below bench/gates.json, or a
//                              gated ratio was not produced by the run
// Timings (absolute times, such as a failover's) are printed and kept, never gated.
// Each suite runs in a process of its own (as JMH forks one JVM per benchmark), which hands its
// result back as JSON: one suite's heap, JIT feedback and allocator state never bend the next
// one's figures. Run after engine-produce in one process, engine.fetch measured 0.21-0.32 of the
// decoder it replaced and 1.15-2.13x the fastest peer (a fresh-clone CI gate failed on it); alone,
// 1.8-2.3 and 11-15x.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chartTitle, renderChart } from './chart.js';
import { updateReadme, type Report } from './report.js';
import { mb, removeBenchDirs, type Ratio, type Row, type RunOptions, type SuiteResult, type Timing } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SUITES: Record<string, () => Promise<{ run: (options: RunOptions) => Promise<SuiteResult> }>> = {
  append: () => import('./append.bench.js'),
  read: () => import('./read.bench.js'),
  index: () => import('./index.bench.js'),
  sendfile: () => import('./sendfile.bench.js'),
  fetch: () => import('./fetch.bench.js'),
  'fetch-sessions': () => import('./fetch-sessions.bench.js'),
  produce: () => import('./produce.bench.js'),
  ingest: () => import('./ingest.bench.js'),
  'engine-produce': () => import('./engine-produce.bench.js'),
  'engine-fetch': () => import('./engine-fetch.bench.js'),
  'engine-fetch-keyed': () => import('./engine-fetch-keyed.bench.js'),
  consumer: () => import('./consumer.bench.js'),
  startup: () => import('./startup.bench.js'),
  'slow-readers': () => import('./slow-readers.bench.js'),
  cluster: () => import('./cluster.bench.js'),
  groups: () => import('./groups.bench.js'),
  compaction: () => import('./compaction.bench.js'),
};

/** The report of this run, over the previous one's entries of the suites it did not run. */
function mergeReport(previous: Partial<Report> | undefined, current: Report, ran: readonly string[]): Report {
  if (previous === undefined) return current;
  const ratioNames = new Set(current.ratios.map((ratio) => ratio.name));
  const timingNames = new Set(current.timings.map((timing) => timing.name));
  // A suite run again takes the place of its previous entries, so the README's tables keep their
  // order whichever suites a run selected.
  const merged = <T extends { suite?: string }>(entries: T[] | undefined, fresh: T[], sameName: (entry: T) => boolean): T[] => {
    const out: T[] = [];
    const placed = new Set<string>();
    for (const entry of entries ?? []) {
      if (entry.suite === undefined ? !sameName(entry) : !ran.includes(entry.suite)) {
        out.push(entry);
      } else if (entry.suite !== undefined && !placed.has(entry.suite)) {
        placed.add(entry.suite);
        out.push(...fresh.filter((candidate) => candidate.suite === entry.suite));
      }
    }
    return [...out, ...fresh.filter((candidate) => candidate.suite === undefined || !placed.has(candidate.suite))];
  };
  return {
    ...current,
    // A file written before `suites` existed: its suites were measured at its date.
    suites: { ...Object.fromEntries((previous.rows ?? []).map((row) => [row.suite, previous.date ?? ''])), ...previous.suites, ...current.suites },
    rows: merged(previous.rows, current.rows, () => false),
    ratios: merged(previous.ratios, current.ratios, (ratio) => ratioNames.has(ratio.name)),
    timings: merged(previous.timings, current.timings, (timing) => timingNames.has(timing.name)),
    notes: [...(previous.notes ?? []).filter((note) => typeof note === 'string' || !ran.includes(note.suite)), ...current.notes],
  };
}

function formatRate(value: number | undefined, unit: string): string {
  if (value === undefined) return '';
  if (unit === 'MB/s') return `${mb(value)} MB/s`;
  return value >= 1e6 ? `${(value / 1e6).toFixed(2)}M rec/s` : `${(value / 1e3).toFixed(0)}k rec/s`;
}

/** The flag that makes this script run one suite and write its result to a file (see runSuite). */
const CHILD_FLAG = '--suite-child=';

/** Runs one suite in a child process of this script; resolves with its result. */
function runSuite(name: string, gate: boolean): Promise<SuiteResult> {
  const resultFile = path.join(os.tmpdir(), `sluice-bench-${process.pid}-${name}.json`);
  const args = [...process.execArgv, fileURLToPath(import.meta.url), `${CHILD_FLAG}${name}`, `--result=${resultFile}`, ...(gate ? ['--gate'] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      try {
        if (code !== 0) throw new Error(`suite ${name} exited with code ${code}, signal ${signal}`);
        resolve(JSON.parse(fs.readFileSync(resultFile, 'utf8')) as SuiteResult);
      } catch (error) {
        reject(error);
      } finally {
        fs.rmSync(resultFile, { force: true });
      }
    });
  });
}

/** In a child: runs the suite named by CHILD_FLAG and writes its result where --result= says. */
async function runChild(name: string): Promise<void> {
  const resultFile = process.argv.find((arg) => arg.startsWith('--result='))!.slice('--result='.length);
  const load = SUITES[name];
  if (load === undefined) throw new Error(`no suite named ${name}`);
  try {
    const result = await (await load()).run({ quick: process.argv.includes('--gate') });
    fs.writeFileSync(resultFile, JSON.stringify(result));
  } finally {
    removeBenchDirs();
  }
}

async function main(): Promise<void> {
  const gate = process.argv.includes('--gate');
  const only = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  const rows: Row[] = [];
  const ratios: Array<Ratio & { suite: string }> = [];
  const timings: Array<Timing & { suite: string }> = [];
  const notes: Array<{ suite: string; text: string }> = [];
  const ran: string[] = [];
  for (const name of Object.keys(SUITES)) {
    if (only.length > 0 && !only.includes(name)) continue;
    process.stdout.write(`running ${name}...\n`);
    const result = await runSuite(name, gate);
    rows.push(...result.rows);
    ratios.push(...result.ratios.map((ratio) => ({ suite: name, ...ratio })));
    timings.push(...(result.timings ?? []).map((timing) => ({ suite: name, ...timing })));
    notes.push(...(result.notes ?? []).map((text) => ({ suite: name, text })));
    ran.push(name);
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
  // A gate whose ratio the run did not produce fails: a renamed or dropped measurement must not
  // pass silently. With suites named on the command line, the others' gates are only listed.
  const produced = new Set(ratios.map((ratio) => ratio.name));
  for (const [name, threshold] of Object.entries(gates)) {
    if (typeof threshold !== 'number' || produced.has(name)) continue;
    if (only.length > 0) {
      console.log(`  ${name.padEnd(40)} not run (its suite was not selected)`);
      continue;
    }
    failures++;
    console.log(`  ${name.padEnd(40)} MISSING: gated at ${threshold}, but no suite produced it`);
  }
  if (timings.length > 0) console.log('\ntimes (absolute: reported, never gated):');
  for (const timing of timings) {
    const target = timing.targetMs === undefined ? '' : `goal <= ${timing.targetMs} ms`;
    console.log(`  ${timing.name.padEnd(40)} median ${timing.medianMs.toFixed(0).padStart(6)} ms, max ${timing.maxMs.toFixed(0).padStart(6)} ms  ${target.padEnd(18)} ${timing.description}`);
  }
  for (const note of notes) console.log(`  ${note.text}`);

  if (!gate) {
    const resultsDir = path.join(here, 'results');
    const resultsFile = path.join(resultsDir, 'results.json');
    fs.mkdirSync(resultsDir, { recursive: true });
    const machine = `${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
    const date = new Date().toISOString();
    const current: Report = { date, machine, suites: Object.fromEntries(ran.map((name) => [name, date])), rows, ratios, timings, notes };
    const previous = only.length > 0 && fs.existsSync(resultsFile) ? (JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as Partial<Report>) : undefined;
    const report = mergeReport(previous, current, ran);
    fs.writeFileSync(resultsFile, JSON.stringify(report, null, 2) + '\n');
    fs.writeFileSync(path.join(resultsDir, 'chart.svg'), renderChart(report.rows, chartTitle(machine)));
    updateReadme(path.join(here, '..', 'README.md'), report, gates);
    console.log(`\nwrote bench/results/results.json and bench/results/chart.svg, and the README's benchmark tables`);
  } else {
    console.log(failures === 0 ? '\nbenchmark gate: all ratios at or above their thresholds' : `\nbenchmark gate: ${failures} ratio(s) below threshold or missing`);
    process.exitCode = failures === 0 ? 0 : 1;
  }
}

const child = process.argv.find((arg) => arg.startsWith(CHILD_FLAG));
if (child !== undefined) await runChild(child.slice(CHILD_FLAG.length));
else await main();
