// `npm run bench:readme`: rewrites the README's benchmark tables and bench/results/chart.svg from
// bench/results/results.json, without running anything.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chartTitle, renderChart } from './chart.js';
import { updateReadme, type Report } from './report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const report = JSON.parse(fs.readFileSync(path.join(here, 'results', 'results.json'), 'utf8')) as Report;
const gates = JSON.parse(fs.readFileSync(path.join(here, 'gates.json'), 'utf8')) as Record<string, number | string>;
updateReadme(path.join(here, '..', 'README.md'), report, gates);
fs.writeFileSync(path.join(here, 'results', 'chart.svg'), renderChart(report.rows, chartTitle(report.machine)));
console.log('README.md benchmark tables and bench/results/chart.svg rewritten from bench/results/results.json');
