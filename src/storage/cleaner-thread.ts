// One log cleaner thread as the main thread sees it: a node:worker_threads worker running
// cleaner-worker.ts, started on first use and again if it dies, referenced only while it works (an
// idle cleaner does not keep a process alive). It runs one pass at a time and hands each cleaned
// group to the main thread's swap, answering the worker with whether to go on.
import type { Worker } from 'node:worker_threads';

import { startWorkerThread } from '../entry-point.js';
import { emptyStats, type CleanTask, type CleanedSegment } from './cleaner.js';
import type { CleanerWorkerData, FromWorker, ToWorker } from './cleaner-worker.js';

export type Outcome = Extract<FromWorker, { type: 'done' | 'stopped' | 'failed' }>;

export class CleanerThread {
  private worker: Worker | undefined;
  private current: { onGroup: (cleaned: CleanedSegment) => boolean; settle: (outcome: Outcome) => void } | undefined;

  constructor(private readonly data: CleanerWorkerData) {}

  clean(task: CleanTask, onGroup: (cleaned: CleanedSegment) => boolean): Promise<Outcome> {
    const worker = this.ensureWorker();
    // Referenced while it works, so that a process waiting for a pass does not exit under it.
    worker.ref();
    return new Promise<Outcome>((resolve) => {
      this.current = {
        onGroup,
        settle: (outcome) => {
          this.current = undefined;
          this.worker?.unref();
          resolve(outcome);
        },
      };
      worker.postMessage({ type: 'clean', task } satisfies ToWorker);
    });
  }

  async terminate(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
    this.current?.settle({ type: 'stopped', stats: emptyStats() });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorkerThread(new URL('./cleaner-worker.js', import.meta.url), 'The log cleaner', { workerData: this.data });
    worker.unref();
    worker.on('message', (message: FromWorker) => {
      const current = this.current;
      if (!current) return;
      if (message.type === 'group') {
        let goOn = false;
        try {
          goOn = current.onGroup(message.cleaned);
        } finally {
          worker.postMessage({ type: goOn ? 'continue' : 'stop' } satisfies ToWorker);
        }
        return;
      }
      current.settle(message);
    });
    const died = (error: unknown) => {
      if (this.worker === worker) this.worker = undefined;
      this.current?.settle({ type: 'failed', error: { message: `the cleaner thread ended: ${(error as Error)?.message ?? String(error)}` } });
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`exit code ${code}`)));
    this.worker = worker;
    return worker;
  }
}
