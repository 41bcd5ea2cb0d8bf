// The piscina pool behind a PoolConsumer: `concurrency` worker threads running worker.ts, each
// importing the user's handler module once.
//
// TypeScript: a handler module may be .js or .ts. A .ts handler is loaded in the worker through
// tsx (worker.ts says why), so tsx must be installed. When this package runs from its sources
// (tests, benchmarks) the worker entry itself is worker.ts: then `--import <tsx>` is added to the
// workers' execArgv unless the parent already runs with a loader. Workers start with the parent's
// execArgv plus the `execArgv` option.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';

import { SluiceError } from '../errors.js';

export interface PoolOptions {
  handler: URL | string;
  concurrency: number;
  workerData?: unknown;
  execArgv?: string[];
}

const TYPESCRIPT = /\.(ts|mts|cts)$/;

/** The handler as a URL string: a URL as is, a path resolved against the working directory. */
export function handlerUrl(handler: URL | string): string {
  if (handler instanceof URL) return handler.href;
  if (/^(file|data):/.test(handler)) return handler;
  return pathToFileURL(path.resolve(handler)).href;
}

/** worker.js next to this module when built, worker.ts when running from the sources. */
function workerFile(): string {
  const built = fileURLToPath(new URL('./worker.js', import.meta.url));
  return fs.existsSync(built) ? built : fileURLToPath(new URL('./worker.ts', import.meta.url));
}

function hasLoader(execArgv: readonly string[]): boolean {
  return execArgv.some((arg, i) => /^--(import|loader|experimental-loader|require)(=|$)/.test(arg) && /tsx|ts-node|swc|esbuild/.test(arg.includes('=') ? arg : (execArgv[i + 1] ?? '')));
}

export function createPool(options: PoolOptions): Piscina {
  const filename = workerFile();
  let execArgv = [...process.execArgv, ...(options.execArgv ?? [])];
  if (TYPESCRIPT.test(filename) && !hasLoader(execArgv)) {
    let tsx: string;
    try {
      tsx = import.meta.resolve('tsx');
    } catch (error) {
      throw new SluiceError('INVALID_CONFIG', 'Running the pool consumer from its TypeScript sources needs tsx: npm install tsx', { cause: error });
    }
    execArgv = [...execArgv, '--import', tsx];
  }
  return new Piscina({
    filename,
    minThreads: options.concurrency,
    maxThreads: options.concurrency,
    // Kept for the consumer's life; destroy() ends them.
    idleTimeout: 2_147_483_647,
    concurrentTasksPerWorker: 1,
    // Idle workers wait on their event loop rather than blocking in Atomics.wait, so that timers and
    // sockets a handler leaves behind (a producer's linger, a keep-alive) keep running between batches.
    atomics: 'async',
    execArgv,
    workerData: options.workerData,
  });
}
