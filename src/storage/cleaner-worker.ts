// A log cleaner thread (Kafka's CleanerThread): one node:worker_threads worker per
// log.cleaner.threads, started by log-cleaner.ts. It does the heavy part of a cleaning (reading
// segments, the offset map, filtering and writing cleaned segments: cleaner.ts) off the event
// loop, and hands each cleaned group back to the main thread, which swaps it into the Log and
// answers before the next group is written (so at most one group's .cleaned files exist at once,
// as in Kafka). It imports only the record codecs and the cleaner: no Log, no Segment, no broker.
//
//   main -> worker   { type: 'clean', task }          one pass over one log
//                    { type: 'continue' | 'stop' }     the answer to a 'group'
//   worker -> main   { type: 'group', cleaned }        a group's .cleaned files are written and flushed
//                    { type: 'done', endOffset, stats } the pass is over: the next one starts at endOffset
//                    { type: 'stopped' }               after a 'stop'
//                    { type: 'failed', error }         the pass failed; its .cleaned files are removed
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

// Batches of any of Kafka's codecs are inflated and recompressed here.
import '../record/codecs/index.js';
import { Cleaner, emptyStats, groupSegmentsBySize, type CleanTask, type CleanedSegment, type CleanerStats } from './cleaner.js';
import { OffsetMap } from './offset-map.js';
import { Throttler } from './throttler.js';

/** What a worker is started with (workerData). */
export interface CleanerWorkerData {
  /** This thread's share of log.cleaner.dedupe.buffer.size. */
  dedupeBufferBytes: number;
  /** log.cleaner.io.buffer.load.factor. */
  loadFactor: number;
  /** This thread's read (and write) buffer: its share of log.cleaner.io.buffer.size, halved. */
  ioBufferBytes: number;
  /** This thread's share of log.cleaner.io.max.bytes.per.second; Infinity: unthrottled. */
  bytesPerSecond: number;
}

export type ToWorker = { type: 'clean'; task: CleanTask } | { type: 'continue' } | { type: 'stop' };

export type FromWorker =
  | { type: 'group'; cleaned: CleanedSegment; stats: CleanerStats }
  | { type: 'done'; endOffset: number; stats: CleanerStats }
  | { type: 'stopped'; stats: CleanerStats }
  | { type: 'failed'; error: { message: string; code?: string; stack?: string } };

/**
 * The nice value of a cleaner thread (10). Cleaning is background work: when CPUs are short, the
 * event loop's thread (appends, fetches) and libuv's threads go first. On the 2-core reference
 * machine, the p99 of a produce while a pass runs unthrottled was 1.8-2.6x its idle p99 at nice 0
 * and about 1.1x at nice 19 (bench/compaction.bench.ts). Not 19: at 19 a thread gets 1.5% of a
 * CPU it contends for (CFS weights 15 against 1024), and a pass on a loaded machine took minutes
 * instead of seconds; at 10, about 10%.
 */
export const CLEANER_THREAD_NICE = os.constants.priority.PRIORITY_BELOW_NORMAL;

/**
 * Lowers this thread's priority. Linux gives each thread its own nice value (setpriority on a
 * thread id); /proc/thread-self names this thread. Elsewhere, or when refused, nothing changes.
 */
function lowerThreadPriority(): void {
  try {
    const threadId = Number(path.basename(fs.readlinkSync('/proc/thread-self')));
    if (Number.isInteger(threadId) && threadId > 0 && threadId !== process.pid) os.setPriority(threadId, CLEANER_THREAD_NICE);
  } catch {
    // Not Linux, or no /proc: the thread keeps the process's priority.
  }
}

lowerThreadPriority();
const data = workerData as CleanerWorkerData;
const port = parentPort!;
const throttler = new Throttler(data.bytesPerSecond);
const cleaner = new Cleaner(new OffsetMap(data.dedupeBufferBytes, data.loadFactor), throttler, data.ioBufferBytes);
let answer: ((reply: ToWorker) => void) | undefined;

let sleptBefore = 0;

function post(message: FromWorker): void {
  if ('stats' in message) message.stats.throttledMs = throttler.sleptMs - sleptBefore;
  port.postMessage(message);
}

async function clean(task: CleanTask): Promise<void> {
  const stats = emptyStats();
  sleptBefore = throttler.sleptMs;
  throttler.reset();
  try {
    const endOffset = cleaner.buildOffsetMap(task, stats);
    const segments = task.segments.filter((segment) => segment.baseOffset < endOffset);
    for (const group of groupSegmentsBySize(segments, task.segmentBytes, task.segmentIndexBytes, task.firstUncleanableOffset)) {
      const cleaned = cleaner.cleanSegments(task, group, stats);
      const reply = new Promise<ToWorker>((resolve) => (answer = resolve));
      post({ type: 'group', cleaned, stats });
      if ((await reply).type === 'stop') {
        post({ type: 'stopped', stats });
        return;
      }
    }
    post({ type: 'done', endOffset, stats });
  } catch (error) {
    const { message, stack } = error as Error;
    post({ type: 'failed', error: { message: String(message ?? error), code: (error as { code?: string }).code, stack } });
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'clean') {
    void clean(message.task);
    return;
  }
  const resolve = answer;
  answer = undefined;
  resolve?.(message);
});
