// Leveled, structured logging (pino: JSON lines, one per event, cheap when a level is off) and a
// limiter so that an event a client can trigger at will (a refused connection, a malformed frame,
// a failing disk) cannot flood the log: each cause gets a few lines per interval, then one line
// saying how many were suppressed. pino rather than our own: it is the maintained, fast default
// for Node services, and operators' tooling reads its format.
import { pino, type Logger as PinoLogger } from 'pino';

import { LOG_CAUSES_TRACKED_MAX, LOG_LINES_PER_CAUSE, LOG_RATE_INTERVAL_MS } from './limits.js';
import { SluiceError } from './errors.js';

export type Logger = PinoLogger;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function parseLogLevel(raw: string, name = 'log.level'): LogLevel {
  const level = raw.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new SluiceError('INVALID_CONFIG', `Invalid value ${raw} for configuration ${name}: must be one of ${LOG_LEVELS.join(', ')}`);
  }
  return level as LogLevel;
}

/**
 * A logger writing JSON lines to stderr (or another descriptor or stream), named 'sluice'. stderr,
 * because stdout belongs to the command (`sluice broker` prints its listening line there) or to
 * the application embedding the broker. Writes are synchronous: the lines are few (rate-limited)
 * and the last ones before a crash are the ones that matter.
 */
export function createLogger(level: LogLevel, destination: number | NodeJS.WritableStream = 2): Logger {
  const options = { name: 'sluice', level, base: { pid: process.pid } };
  return pino(options, typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination);
}

type Level = 'error' | 'warn' | 'info' | 'debug';

interface CauseWindow {
  startedMs: number;
  lines: number;
  suppressed: number;
}

/**
 * At most `linesPerCause` lines per cause in each `intervalMs`; the first line of a later interval
 * carries `suppressed`, the count of lines dropped in between.
 */
export class LogLimiter {
  private readonly windows = new Map<string, CauseWindow>();

  constructor(
    readonly logger: Logger,
    private readonly linesPerCause = LOG_LINES_PER_CAUSE,
    private readonly intervalMs = LOG_RATE_INTERVAL_MS,
    private readonly nowMs: () => number = Date.now,
  ) {}

  log(level: Level, cause: string, fields: Record<string, unknown>, message: string): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const now = this.nowMs();
    let window = this.windows.get(cause);
    if (window === undefined || now - window.startedMs >= this.intervalMs) {
      const suppressed = window?.suppressed ?? 0;
      // Causes can carry client addresses: forget them all rather than grow without bound.
      if (window === undefined && this.windows.size >= LOG_CAUSES_TRACKED_MAX) this.windows.clear();
      window = { startedMs: now, lines: 0, suppressed: 0 };
      this.windows.set(cause, window);
      if (suppressed > 0) fields = { ...fields, suppressed };
    }
    if (window.lines >= this.linesPerCause) {
      window.suppressed++;
      return;
    }
    window.lines++;
    this.logger[level]({ cause, ...fields }, message);
  }
}
