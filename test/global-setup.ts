// Runs once before the test files: makes dist/ current with src/, then lets the sources under test
// start their child processes and threads from dist/ (src/entry-point.ts, RUN_BUILT_ENV). A test
// suite that spawns ~500 Node processes (brokers of clusters, `sluice` commands) would spend ~0.35 s
// of CPU on tsx in each. `npm install` builds dist/; this rebuilds it when a source changed since.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { RUN_BUILT_ENV } from '../src/entry-point.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The newest modification time (ms) of the files under `dir` whose names end in `suffix`; 0 for none. */
function newestMtimeMs(dir: string, suffix: string): number {
  if (!fs.existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(suffix)) continue;
    newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

export default function setup(): void {
  if (newestMtimeMs(path.join(root, 'src'), '.ts') > newestMtimeMs(path.join(root, 'dist'), '.js')) {
    process.stderr.write('test setup: dist/ is older than src/, building it (tsc -p tsconfig.build.json)\n');
    execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  }
  process.env[RUN_BUILT_ENV] = '1';
}
