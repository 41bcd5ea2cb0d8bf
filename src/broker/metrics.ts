// Broker counters, named after Kafka's BrokerTopicMetrics and SocketServer metrics where there is one.
import type { Engine } from '../engine/engine.js';
import type { TrafficCounters } from './response-writer.js';

export interface BrokerMetrics extends TrafficCounters {
  /** Bytes of request frames received (BytesInPerSec). */
  bytesIn: number;
  /** Records appended by Produce (MessagesInPerSec). */
  messagesIn: number;
  /** Requests handled, by API key. */
  requests: Map<number, number>;
  connectionsOpened: number;
  connectionsClosed: number;
  /** Connections closed because of a malformed or oversized frame. */
  connectionsRejected: number;
  /** Connections closed at accept: max.connections, max.connections.per.ip, the descriptor budget. */
  connectionsRefused: number;
  /** Connections closed after connections.max.idle.ms without traffic. */
  connectionsClosedIdle: number;
  /** Connections closed for their address's connection_creation_rate quota (KIP-612), after the throttle time. */
  connectionsThrottled: number;
  /** Connections held unread past max.connection.creation.rate (KIP-612) before they were served. */
  connectionsDelayed: number;
  /** accept(2) failures (EMFILE, ENFILE, ...), by errno code. */
  acceptFailures: Map<string, number>;
  /** Responses that could not be sent (dup(2) EMFILE for sendfile, ...), by errno code; each closed its connection. */
  transferFailures: Map<string, number>;
  /** Storage failures answered as KAFKA_STORAGE_ERROR or logged from background work, by errno code. */
  storageFailures: Map<string, number>;
  /** Times a connection waited for queued.max.request.bytes, and for a queued.max.requests slot. */
  requestMemoryWaits: number;
  requestSlotWaits: number;
  /** Requests whose handling passed sluice.request.log.threshold.ms. */
  slowRequests: number;
}

export function createMetrics(): BrokerMetrics {
  return {
    bytesIn: 0,
    bytesWrittenFromJs: 0,
    bytesSentZeroCopy: 0,
    messagesIn: 0,
    requests: new Map(),
    connectionsOpened: 0,
    connectionsClosed: 0,
    connectionsRejected: 0,
    connectionsRefused: 0,
    connectionsClosedIdle: 0,
    connectionsThrottled: 0,
    connectionsDelayed: 0,
    acceptFailures: new Map(),
    transferFailures: new Map(),
    storageFailures: new Map(),
    requestMemoryWaits: 0,
    requestSlotWaits: 0,
    slowRequests: 0,
  };
}

/** Adds one to a by-cause counter. */
export function countCause(counter: Map<string, number>, cause: string): void {
  counter.set(cause, (counter.get(cause) ?? 0) + 1);
}

/**
 * The log cleaner's gauges of one compacted partition (Kafka reports the broker-wide
 * max-dirty-percent, max-clean-time-secs and uncleanable-partitions-count; these are the per-log
 * figures they are made of). Read on demand: each call works out the dirty ratio from the log's
 * segments as they are.
 */
export interface CompactedLogGauges {
  topic: string;
  partition: number;
  /** Dirty bytes / (clean + dirty) bytes of the cleanable part. */
  dirtyRatio: number;
  /** When its last cleaning pass ended (the engine's clock), or null. */
  lastCleanedMs: number | null;
  /** Bytes its passes read (the offset map and the cleaning) and wrote, since the engine opened. */
  bytesCleaned: number;
  bytesWritten: number;
  passes: number;
  /** Its last pass failed; the cleaner leaves it alone until compactNow(). */
  uncleanable: boolean;
}

/** The gauges of every partition whose cleanup.policy includes compact. */
export function compactedLogGauges(engine: Engine): CompactedLogGauges[] {
  const gauges: CompactedLogGauges[] = [];
  for (const topic of engine.listTopics()) {
    for (const { partition, offlineLogDir } of engine.describeTopic(topic).partitions) {
      if (offlineLogDir !== undefined) continue;
      const stats = engine.cleanerStats(topic, partition);
      if (!stats) continue;
      gauges.push({
        topic,
        partition,
        dirtyRatio: stats.dirtyRatio,
        lastCleanedMs: stats.lastCleanedMs,
        bytesCleaned: stats.bytesRead,
        bytesWritten: stats.bytesWritten,
        passes: stats.passes,
        uncleanable: stats.uncleanable !== null,
      });
    }
  }
  return gauges;
}
