// Draws the benchmark rows as an SVG: one group of bars per workload (sluice, its ceiling, the
// peer), each group scaled to its own largest value, labelled in MB/s (or ns for lookups).
import type { Row } from './harness.js';

const WIDTH = 860;
const LABEL_WIDTH = 250;
const BAR_HEIGHT = 18;
const GAP = 6;
const GROUP_GAP = 26;
const COLORS: Record<string, string> = { sluice: '#1f77b4', ceiling: '#7f7f7f', peer: '#ff7f0e' };

function kind(subject: string): keyof typeof COLORS {
  if (subject.startsWith('sluice')) return 'sluice';
  if (subject.includes('ceiling') || subject.includes('reference') || subject.includes('copying')) return 'ceiling';
  return 'peer';
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function renderChart(rows: readonly Row[], title: string): string {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    if (row.bytesPerSec === undefined && row.medianNs === undefined) continue;
    const list = groups.get(row.workload) ?? [];
    list.push(row);
    groups.set(row.workload, list);
  }
  const parts: string[] = [];
  let y = 50;
  for (const [workload, list] of groups) {
    const byBytes = list.every((row) => row.bytesPerSec !== undefined);
    const values = list.map((row) => (byBytes ? row.bytesPerSec! / 1e6 : row.medianNs!));
    const max = Math.max(...values);
    parts.push(`<text x="10" y="${y}" font-weight="bold">${escape(workload)}${byBytes ? ' (MB/s, higher is better)' : ' (ns per op, lower is better)'}</text>`);
    y += 8;
    list.forEach((row, i) => {
      const value = values[i]!;
      const barWidth = Math.max(1, ((WIDTH - LABEL_WIDTH - 90) * value) / max);
      parts.push(`<text x="20" y="${y + BAR_HEIGHT - 4}">${escape(row.subject)}</text>`);
      parts.push(`<rect x="${LABEL_WIDTH}" y="${y}" width="${barWidth.toFixed(1)}" height="${BAR_HEIGHT}" fill="${COLORS[kind(row.subject)]}"/>`);
      parts.push(`<text x="${(LABEL_WIDTH + barWidth + 6).toFixed(1)}" y="${y + BAR_HEIGHT - 4}">${value >= 100 ? value.toFixed(0) : value.toFixed(1)}</text>`);
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
