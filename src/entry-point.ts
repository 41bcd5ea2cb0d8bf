// Where a module that runs in another process or thread lives: the built `.js` beside the caller
// when this package runs from dist, else its `.ts` source (tests and benchmarks run the sources
// under tsx). A source entry needs tsx's loader in the new process or thread: `--import <tsx>`.
// Used by the pool consumer's workers (src/consumer/pool.ts) and the brokers of a local cluster
// (src/cluster/start-cluster.ts), which are `sluice broker` processes.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

import { SluiceError } from './errors.js';

export interface EntryPoint {
  /** Absolute path of the file to run. */
  file: string;
  /** True for a `.ts` source, which runs only with tsx's loader (tsxLoader()). */
  typescript: boolean;
}

/** `built` (a `.js` URL beside the caller's module) when it exists, else the `.ts` of the same name. */
export function entryPoint(built: URL): EntryPoint {
  const file = fileURLToPath(built);
  if (fs.existsSync(file)) return { file, typescript: false };
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
