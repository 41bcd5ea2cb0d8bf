// Where a module that runs in another process or thread lives: the built `.js` beside the caller
// when this package runs from dist, else its `.ts` source (tests and benchmarks run the sources
// under tsx). A source entry needs tsx's loader in the new process or thread: `--import <tsx>`.
// Used by the pool consumer's workers (src/consumer/pool.ts), the brokers of a local cluster
// (src/cluster/start-cluster.ts), which are `sluice broker` processes, and the log cleaner's
// threads (src/storage/log-cleaner.ts).
//
// RUN_BUILT_ENV lets a caller that runs from the sources start its processes and threads from the
// build: the test suite sets it once dist/ is built from the current sources (test/global-setup.ts),
// so that the brokers of its clusters run as `sluice broker` does, without tsx, which costs every
// Node process it starts ~0.35 s of CPU (`sluice --help`: 0.46 s under tsx, 0.15 s from dist/).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

import { SluiceError } from './errors.js';

export interface EntryPoint {
  /** Absolute path of the file to run. */
  file: string;
  /** True for a `.ts` source, which runs only with tsx's loader (tsxLoader()). */
  typescript: boolean;
}

/** Set to `1`: a caller running from src/ starts its processes and threads from dist/ (see above). */
export const RUN_BUILT_ENV = 'SLUICE_RUN_BUILT';

/** This package's src/ and dist/ (this module is src/entry-point.ts or dist/entry-point.js). */
const PACKAGE_ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const SOURCE_DIR = path.join(PACKAGE_ROOT, 'src') + path.sep;
const BUILD_DIR = path.join(PACKAGE_ROOT, 'dist') + path.sep;

/**
 * `built` (a `.js` URL beside the caller's module) when it exists, else the `.ts` of the same name;
 * with RUN_BUILT_ENV set, a source's counterpart in dist/ when that exists.
 */
export function entryPoint(built: URL): EntryPoint {
  const file = fileURLToPath(built);
  if (fs.existsSync(file)) return { file, typescript: false };
  if (process.env[RUN_BUILT_ENV] === '1' && file.startsWith(SOURCE_DIR)) {
    const compiled = BUILD_DIR + file.slice(SOURCE_DIR.length);
    if (fs.existsSync(compiled)) return { file: compiled, typescript: false };
  }
  return { file: file.replace(/\.js$/, '.ts'), typescript: true };
}

/** tsx's loader as a URL for `--import`; `what` says what needs it in the error when tsx is missing. */
export function tsxLoader(what: string): string {
  try {
    return import.meta.resolve('tsx');
  } catch (error) {
    throw new SluiceError('INVALID_CONFIG', `${what} from its TypeScript sources needs tsx: npm install tsx`, { cause: error });
  }
}

/**
 * Starts a worker thread on `built` (a `.js` URL beside the caller's module), or on its `.ts` source
 * when running from the sources. On Node 20 a worker does not inherit the ESM loader hooks of
 * `--import tsx`, so a source entry is loaded through tsx's tsImport from a one-line bootstrap.
 */
export function startWorkerThread(built: URL, what: string, options: WorkerOptions = {}): Worker {
  const { file, typescript } = entryPoint(built);
  if (!typescript) return new Worker(file, options);
  let api: string;
  try {
    api = import.meta.resolve('tsx/esm/api');
  } catch (error) {
    throw new SluiceError('INVALID_CONFIG', `${what} from its TypeScript sources needs tsx: npm install tsx`, { cause: error });
  }
  const bootstrap = `import(${JSON.stringify(api)}).then(({ tsImport }) => tsImport(${JSON.stringify(pathToFileURL(file).href)}, ${JSON.stringify(import.meta.url)}));`;
  return new Worker(bootstrap, { ...options, eval: true });
}
