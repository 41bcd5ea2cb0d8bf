// Broker counters, named after Kafka's BrokerTopicMetrics where there is one.
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
  };
}
