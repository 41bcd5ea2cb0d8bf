// What a request handler sees, and the shape every per-API handler module exports.
import type { Engine } from '../engine/engine.js';
import type { RequestHeader } from '../protocol/index.js';
import type { BrokerSettings } from './config.js';
import type { AppendWaiters } from './append-waiters.js';
import type { BrokerMetrics } from './metrics.js';
import type { GroupCoordinator } from './group/coordinator.js';
import type { Budget } from './budget.js';
import type { LogLimiter } from '../logger.js';

/** The broker state handlers work with. */
export interface BrokerContext {
  engine: Engine;
  settings: BrokerSettings;
  clusterId: string;
  /** The port clients should use, as advertised in Metadata. */
  advertisedPort(): number;
  appendWaiters: AppendWaiters;
  groups: GroupCoordinator;
  metrics: BrokerMetrics;
  /** Record bytes of fetch responses go out by sendfile (plaintext); false copies them through JS. */
  zeroCopyFetch: boolean;
  /** Bytes of fetched records copied into JS and not yet written, broker-wide (zero copy off). */
  fetchCopyMemory: Budget;
  /** Rate-limited logging of what clients and disks do to the broker. */
  log: LogLimiter;
}

export interface RequestContext {
  broker: BrokerContext;
  header: RequestHeader;
  /** The client's address, for group membership and logs. */
  clientHost: string;
  /** Called once the response's file regions are in the transfer thread's hands (or dropped). */
  onResponseSent(callback: () => void): void;
  /** Aborted when the connection closes (or the broker stops): long polls end early. */
  signal: AbortSignal;
  /**
   * Waits for `event` outside the request queue: a long poll does not hold one of the
   * queued.max.requests slots while it waits (Kafka's purgatory), and its wait does not count as
   * handling time in the slow-request log.
   */
  park<T>(event: Promise<T>): Promise<T>;
}

/**
 * A handler answers one API. It returns the response body, or null for no response at all
 * (Produce with acks=0). Errors it throws become UNKNOWN_SERVER_ERROR responses only where the
 * API has a top-level error code; otherwise the connection is closed, as Kafka does.
 */
export interface ApiHandler<Request = any, Response = any> {
  apiKey: number;
  /** Versions this broker serves (advertised in ApiVersions). */
  minVersion: number;
  maxVersion: number;
  handle(context: RequestContext, request: Request): Promise<Response | null> | Response | null;
}
