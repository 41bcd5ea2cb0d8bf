// The piscina pool behind a PoolConsumer: `concurrency` worker threads running worker.ts, each
// importing the user's handler module once.
//
// TypeScript: a handler module may be .js or .ts. A .ts handler is loaded in the worker through
// tsx (worker.ts says why), so tsx must be installed. When this package runs from its sources
// (tests, benchmarks) the worker entry itself is worker.ts: then `--import <tsx>` is added to the
// workers' execArgv unless the parent already runs with a loader. Workers start with the parent's
// execArgv plus the `execArgv` option.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';

import { entryPoint, tsxLoader } from '../entry-point.js';

export interface PoolOptions {
  handler: URL | string;
  concurrency: number;
  workerData?: unknown;
  execArgv?: string[];
}

/** The handler as a URL string: a URL as is, a path resolved against the working directory. */
export function handlerUrl(handler: URL | string): string {
  if (handler instanceof URL) return handler.href;
  if (/^(file|data):/.test(handler)) return handler;
  return pathToFileURL(path.resolve(handler)).href;
}

function hasLoader(execArgv: readonly string[]): boolean {
  return execArgv.some((arg, i) => /^--(import|loader|experimental-loader|require)(=|$)/.test(arg) && /tsx|ts-node|swc|esbuild/.test(arg.includes('=') ? arg : (execArgv[i + 1] ?? '')));
}

export function createPool(options: PoolOptions): Piscina {
  // worker.js next to this module when built, worker.ts when running from the sources.
  const { file: filename, typescript } = entryPoint(new URL('./worker.js', import.meta.url));
  let execArgv = [...process.execArgv, ...(options.execArgv ?? [])];
  if (typescript && !hasLoader(execArgv)) execArgv = [...execArgv, '--import', tsxLoader('Running the pool consumer')];
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
