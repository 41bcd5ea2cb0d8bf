// Draws the benchmark rows as an SVG: one group of bars per workload (sluice, its ceiling, the
// peer), each group scaled to its own largest value, labelled in MB/s, records/s, or a duration
// in the unit that fits the group (ns for a lookup, ms for a rebalance). The label column is as
// wide as the longest label, the figure column as wide as the longest figure, and a legend under
// the title names the three colours.
import type { Row } from './harness.js';
import { formatBytesPerSec, formatDuration, formatRecordsPerSec } from './report.js';

const WIDTH = 980;
/** Approximate advance of one character at font-size 13 (sans-serif averages ~0.55 em). */
const CHAR_PX = 7.2;
/** Space between a bar's end and its figure, and after the figure. */
const FIGURE_PAD_PX = 12;
const BAR_HEIGHT = 18;
const GAP = 6;
const GROUP_GAP = 26;
const LEGEND_Y = 44;
type Kind = 'sluice' | 'ceiling' | 'peer';
const COLORS: Record<Kind, string> = { sluice: '#1f77b4', ceiling: '#7f7f7f', peer: '#ff7f0e' };
const LEGEND: Record<Kind, string> = { sluice: 'sluice', ceiling: 'ceiling or reference', peer: 'peer, through its own API' };
/** The peers the benches measure, each through its public API. */
const PEERS = ['classic-level', 'better-sqlite3', 'lmdb', 'kcat', 'kafkajs'];

/**
 * A subject names a peer, a ceiling (a plain syscall loop, a JS reference) or else a sluice path:
 * sluice's paths go by many names (Engine.appendBatches, PoolConsumer, GroupCoordinator.open),
 * which a test on the word "sluice" drew in the peers' colour.
 */
function kind(subject: string): Kind {
  if (PEERS.some((peer) => subject.includes(peer))) return 'peer';
  if (!subject.startsWith('sluice') && /ceiling|reference|copying/.test(subject)) return 'ceiling';
  return 'sluice';
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The chart's title line. */
export function chartTitle(machine: string): string {
  return `sluice benchmarks (${machine})`;
}

interface Group {
  workload: string;
  legend: string;
  bars: Array<{ subject: string; value: number; figure: string }>;
}

/** Rows by workload, each group with one measure: throughput when every row has it, else the median time. */
function groupRows(rows: readonly Row[]): Group[] {
  const byWorkload = new Map<string, Row[]>();
  for (const row of rows) {
    if (row.bytesPerSec === undefined && row.recordsPerSec === undefined && row.medianNs === undefined) continue;
    const list = byWorkload.get(row.workload) ?? [];
    list.push(row);
    byWorkload.set(row.workload, list);
  }
  return [...byWorkload].map(([workload, list]) => {
    const measure = list.every((row) => row.bytesPerSec !== undefined) ? 'bytes' : list.every((row) => row.recordsPerSec !== undefined) ? 'records' : 'time';
    const format = measure === 'bytes' ? formatBytesPerSec : measure === 'records' ? (v: number) => `${formatRecordsPerSec(v)} records/s` : formatDuration;
    const bars = list.map((row) => {
      const value = (measure === 'bytes' ? row.bytesPerSec : measure === 'records' ? row.recordsPerSec : row.medianNs) ?? 0;
      return { subject: row.subject, value, figure: format(value) };
    });
    return { workload, legend: measure === 'time' ? 'time per op, lower is better' : 'higher is better', bars };
  });
}

export function renderChart(rows: readonly Row[], title: string): string {
  const groups = groupRows(rows);
  const bars = groups.flatMap((group) => group.bars);
  const labelWidth = Math.ceil(20 + CHAR_PX * Math.max(0, ...bars.map((bar) => bar.subject.length))) + 10;
  const figureWidth = Math.ceil(CHAR_PX * Math.max(0, ...bars.map((bar) => bar.figure.length))) + 2 * FIGURE_PAD_PX;
  const barSpan = WIDTH - labelWidth - figureWidth;
  const parts: string[] = [];
  let legendX = 10;
  for (const entry of Object.keys(COLORS) as Kind[]) {
    parts.push(`<rect x="${legendX}" y="${LEGEND_Y - 11}" width="12" height="12" fill="${COLORS[entry]}"/>`);
    parts.push(`<text x="${legendX + 18}" y="${LEGEND_Y}">${escape(LEGEND[entry])}</text>`);
    legendX += 18 + Math.ceil(CHAR_PX * LEGEND[entry].length) + 24;
  }
  let y = LEGEND_Y + 30;
  for (const group of groups) {
    const max = Math.max(...group.bars.map((bar) => bar.value));
    parts.push(`<text x="10" y="${y}" font-weight="bold">${escape(group.workload)} (${group.legend})</text>`);
    y += 8;
    for (const bar of group.bars) {
      const barWidth = max > 0 ? Math.max(1, (barSpan * bar.value) / max) : 1;
      parts.push(`<text x="20" y="${y + BAR_HEIGHT - 4}">${escape(bar.subject)}</text>`);
      parts.push(`<rect x="${labelWidth}" y="${y}" width="${barWidth.toFixed(1)}" height="${BAR_HEIGHT}" fill="${COLORS[kind(bar.subject)]}"/>`);
      parts.push(`<text x="${(labelWidth + barWidth + FIGURE_PAD_PX / 2).toFixed(1)}" y="${y + BAR_HEIGHT - 4}">${escape(bar.figure)}</text>`);
      y += BAR_HEIGHT + GAP;
    }
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
