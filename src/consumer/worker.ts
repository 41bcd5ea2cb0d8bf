// The piscina worker of the pool consumer: decodes a task's record batches and calls the user's
// handler module (its default export, else its `handle` export) with them. A handler that throws
// or rejects is reported in the result, not thrown, so that a failing batch is told apart from a
// dying worker; the main thread decides about retries.
//
// TypeScript handlers: on Node 20 a worker does not get the ESM loader hooks of `--import tsx`
// (its CommonJS hook, which loads this file from the sources, does work), so a .ts handler that
// import() cannot load is loaded with tsx's tsImport, which registers its hooks in this thread.
// tsx must be installed where this package is.
import { pathToFileURL } from 'node:url';

import '../record/codecs/index.js';
import { decodeRecords, serializeError, type PoolBatch, type WorkerProbe, type WorkerResult, type WorkerTask } from './batch.js';

type Handler = (batch: PoolBatch) => unknown;

const handlers = new Map<string, Promise<Handler>>();

function loadHandler(url: string): Promise<Handler> {
  let loading = handlers.get(url);
  if (!loading) {
    const href = url.startsWith('file:') || url.startsWith('data:') ? url : pathToFileURL(url).href;
    loading = importModule(href).then((module: Record<string, unknown>) => {
      const candidate = typeof module.default === 'function' ? module.default : module.handle;
      if (typeof candidate !== 'function') throw new TypeError(`The handler module ${url} exports no function as default or as 'handle'`);
      return candidate as Handler;
    });
    handlers.set(url, loading);
    loading.catch(() => handlers.delete(url));
  }
  return loading;
}

async function importModule(href: string): Promise<Record<string, unknown>> {
  try {
    return await import(href);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !/\.(ts|mts|cts)$/.test(new URL(href).pathname)) throw error;
    const { tsImport } = await import('tsx/esm/api');
    return tsImport(href, import.meta.url);
  }
}

export default async function runTask(task: WorkerTask | WorkerProbe): Promise<WorkerResult> {
  const handler = await loadHandler(task.handler);
  if ('probe' in task) return { records: 0 };
  const records = decodeRecords(task.bytes, task.startOffset, task.skipCrc);
  if (records.length === 0) return { records: 0 };
  try {
    await handler({ topic: task.topic, partition: task.partition, records });
    return { records: records.length };
  } catch (error) {
    return { records: records.length, error: serializeError(error) };
  }
}
