// Draws the benchmark rows as an SVG: one group of bars per workload (sluice, its ceiling, the
// peer), each group scaled to its own largest value, labelled in MB/s, records/s, or a duration
// in the unit that fits the group (ns for a lookup, ms for a rebalance). The label column is as
// wide as the longest label, and every bar leaves room for its figure.
import type { Row } from './harness.js';
import { formatBytesPerSec, formatDuration, formatRecordsPerSec } from './report.js';

const WIDTH = 980;
/** Approximate advance of one character at font-size 13 (sans-serif averages ~0.55 em). */
const CHAR_PX = 7.2;
const FIGURE_PX = 90;
const BAR_HEIGHT = 18;
const GAP = 6;
const GROUP_GAP = 26;
const COLORS: Record<string, string> = { sluice: '#1f77b4', ceiling: '#7f7f7f', peer: '#ff7f0e' };

function kind(subject: string): keyof typeof COLORS {
  if (subject.startsWith('sluice') || subject.startsWith('engine.') || subject.includes('(internal)')) return 'sluice';
  if (subject.includes('ceiling') || subject.includes('reference') || subject.includes('copying')) return 'ceiling';
  return 'peer';
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The chart's title line. */
export function chartTitle(machine: string): string {
  return `sluice benchmarks (${machine})`;
}

export function renderChart(rows: readonly Row[], title: string): string {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    if (row.bytesPerSec === undefined && row.recordsPerSec === undefined && row.medianNs === undefined) continue;
    const list = groups.get(row.workload) ?? [];
    list.push(row);
    groups.set(row.workload, list);
  }
  const labelWidth = Math.ceil(20 + CHAR_PX * Math.max(0, ...[...groups.values()].flat().map((row) => row.subject.length))) + 10;
  const parts: string[] = [];
  let y = 50;
  for (const [workload, list] of groups) {
    // One measure for the whole group: throughput when every row has it, else the median time.
    const measure = list.every((row) => row.bytesPerSec !== undefined) ? 'bytes' : list.every((row) => row.recordsPerSec !== undefined) ? 'records' : 'time';
    const values = list.map((row) => (measure === 'bytes' ? row.bytesPerSec : measure === 'records' ? row.recordsPerSec : row.medianNs) ?? 0);
    const format = measure === 'bytes' ? formatBytesPerSec : measure === 'records' ? (v: number) => `${formatRecordsPerSec(v)} records/s` : formatDuration;
    const max = Math.max(...values);
    const legend = measure === 'time' ? 'time per op, lower is better' : 'higher is better';
    parts.push(`<text x="10" y="${y}" font-weight="bold">${escape(workload)} (${legend})</text>`);
    y += 8;
    list.forEach((row, i) => {
      const value = values[i]!;
      const barWidth = max > 0 ? Math.max(1, ((WIDTH - labelWidth - FIGURE_PX - 20) * value) / max) : 1;
      parts.push(`<text x="20" y="${y + BAR_HEIGHT - 4}">${escape(row.subject)}</text>`);
      parts.push(`<rect x="${labelWidth}" y="${y}" width="${barWidth.toFixed(1)}" height="${BAR_HEIGHT}" fill="${COLORS[kind(row.subject)]}"/>`);
      parts.push(`<text x="${(labelWidth + barWidth + 6).toFixed(1)}" y="${y + BAR_HEIGHT - 4}">${escape(format(value))}</text>`);
      y += BAR_HEIGHT + GAP;
    });
    y += GROUP_GAP;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="24" font-size="16" font-weight="bold">${escape(title)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
