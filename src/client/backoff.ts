// Kafka's ExponentialBackoff (KIP-580), shared by the producer's retries and the client's
// connection setup timeouts (socket.connection.setup.timeout.ms): the initial value doubled per
// failure, at most the max (a max below the initial value is used from the first failure), then
// moved by up to 20% either way, so that clients that failed together do not try again together
// (CommonClientConfigs.RETRY_BACKOFF_JITTER).

/** +-20%: Kafka's jitter on backoffs and setup timeouts. */
const JITTER = 0.2;
/** Doublings counted at most: 2^30 times any initial value is past every max. */
const DOUBLINGS_MAX = 30;

/** The wait (or timeout) after `attempts` failures; `random` in [0, 1). */
export function exponentialBackoffMs(initialMs: number, maxMs: number, attempts: number, random: number = Math.random()): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempts, DOUBLINGS_MAX)) * (1 + JITTER * (2 * random - 1));
}
