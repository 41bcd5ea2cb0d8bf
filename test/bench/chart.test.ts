// The README's chart (bench/chart.ts): each subject in its kind's colour, and every figure inside
// the picture.
import { describe, expect, it } from 'vitest';

import { renderChart } from '../../bench/chart.js';
import type { Row } from '../../bench/harness.js';
import { formatRecordsPerSec } from '../../bench/report.js';

const SLUICE = '#1f77b4';
const CEILING = '#7f7f7f';
const PEER = '#ff7f0e';
/** The chart's width, and its estimate of a character's advance at its font size. */
const WIDTH_PX = 980;
const CHAR_PX = 7.2;

const row = (workload: string, subject: string, values: Partial<Row>): Row => ({ suite: 'test', workload, subject, ...values });

/** Each bar's subject with its colour, and each figure with where it starts, in drawing order. */
function parse(svg: string) {
  const texts = [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+">([^<]*)<\/text>/g)].map((m) => ({ x: Number(m[1]), text: m[2]! }));
  const fills = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="18" fill="(#[0-9a-f]{6})"\/>/g)].map((m) => m[1]!);
  return { texts, fills };
}

describe('renderChart', () => {
  it('draws sluice paths, ceilings and peers each in their own colour, whatever the path is called', () => {
    const subjects = ['Engine.appendBatches', 'PoolConsumer, 2 workers', 'sluice copying fetch', 'fs.writeSync ceiling', 'JS binary search (reference)', 'read+write 1 MiB (copying)', 'lmdb', 'better-sqlite3', 'kcat (librdkafka 2.0.2 defaults)', 'kafkajs 2.2.4 (sends of 1000)'];
    const svg = renderChart(subjects.map((subject, i) => row('w', subject, { recordsPerSec: 1000 * (i + 1) })), 'title');
    expect(parse(svg).fills).toEqual([SLUICE, SLUICE, SLUICE, CEILING, CEILING, CEILING, PEER, PEER, PEER, PEER]);
    // The legend names the three colours.
    for (const name of ['sluice', 'ceiling or reference', 'peer, through its own API']) expect(svg).toContain(`>${name}</text>`);
  });

  it('keeps the longest figure inside the picture, beside the longest bar', () => {
    const rows = [row('reads', 'Log.read + readView, zero copy (internal)', { recordsPerSec: 1_051_524_710 }), row('reads', 'a peer', { recordsPerSec: 1_000 })];
    const { texts } = parse(renderChart(rows, 'title'));
    const figure = texts.find(({ text }) => text.endsWith('records/s') && text.startsWith('1051'))!;
    expect(figure.x + figure.text.length * CHAR_PX).toBeLessThanOrEqual(WIDTH_PX);
  });

  it('draws a group without a rate for every row by its median time, in the unit that fits', () => {
    const rows = [row('rebalance', 'range', { medianNs: 102_752_568 }), row('rebalance', 'cooperative-sticky', { medianNs: 205_931_698, recordsPerSec: 5 })];
    const svg = renderChart(rows, 'title');
    expect(svg).toContain('rebalance (time per op, lower is better)');
    expect(parse(svg).texts.map(({ text }) => text)).toEqual(expect.arrayContaining(['103 ms', '206 ms']));
  });
});

describe('formatRecordsPerSec', () => {
  it('gives rates below a thousand as they are, not rounded to "1k"', () => {
    expect(formatRecordsPerSec(551)).toBe('551');
    expect(formatRecordsPerSec(38_000)).toBe('38k');
    expect(formatRecordsPerSec(2_321_852)).toBe('2.32M');
  });
});
