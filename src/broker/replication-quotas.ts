// Replication quotas (Kafka's ReplicationQuotaManager, KIP-73): a cap on the bytes a second that
// replication of chosen partitions moves, so that moving a partition to a new broker
// (kafka-reassign-partitions --throttle) cannot take the bandwidth its producers and consumers need.
// Two halves, each a broker's own:
//   - the leader side: leader.replication.throttled.rate (a dynamic broker config, bytes/s) over
//     the partitions a topic's leader.replication.throttled.replicas lists with this broker's id
//     ("partition:broker,...", or "*" for every replica of the topic);
//   - the follower side: follower.replication.throttled.rate over the partitions of
//     follower.replication.throttled.replicas that name this broker.
// As in Kafka, a follower in the ISR is never held back: a throttle only slows replicas catching
// up, never acks=all writes. Every byte replicated for a throttled partition counts against the
// rate, in the ISR or not, so that the total stays under it. When the rate over
// replication.quota.window.num windows of replication.quota.window.size.seconds (11 of 1 s) is
// above the limit, the leader answers a throttled partition of an out-of-sync follower's fetch
// with no records, and a follower leaves such a partition out of its next fetch.
import { SluiceError } from '../errors.js';
import { RateSensor, type QuotaWindow } from './rate-sensor.js';

export const LEADER_REPLICATION_THROTTLED_RATE = 'leader.replication.throttled.rate';
export const FOLLOWER_REPLICATION_THROTTLED_RATE = 'follower.replication.throttled.rate';
/** The copy of replicas moving between this broker's log directories (AlterReplicaLogDirs: storage/log-mover.ts); dynamic too. */
export const REPLICA_ALTER_LOG_DIRS_IO_MAX_BYTES_PER_SECOND = 'replica.alter.log.dirs.io.max.bytes.per.second';
/** Dynamic broker configs (kafka-configs --entity-type brokers), per broker or cluster-wide. */
export const REPLICATION_THROTTLED_RATE_NAMES: readonly string[] = [LEADER_REPLICATION_THROTTLED_RATE, FOLLOWER_REPLICATION_THROTTLED_RATE];
/** Kafka's default for both: Long.MAX_VALUE, no limit. */
export const REPLICATION_THROTTLED_RATE_DEFAULT = '9223372036854775807';

/** The wildcard of a throttled replica list: every replica of the topic. */
const ALL_REPLICAS = '*';

/** The limits in bytes a second (Infinity for none), from a broker's configs; INVALID_CONFIG when one is not a long >= 0. */
export function replicationThrottledRates(configs: Readonly<Record<string, string | undefined>>): { leader: number; follower: number; alterLogDirs: number } {
  const rate = (name: string): number => {
    const raw = configs[name]?.trim();
    if (raw === undefined || raw === '') return Infinity;
    if (!/^\d+$/.test(raw)) throw new SluiceError('INVALID_CONFIG', `Invalid value ${raw} for configuration ${name}: Value must be at least 0 (a number of bytes a second)`);
    const value = Number(raw);
    // Long.MAX_VALUE and its neighbours are Kafka's "no limit": above what any rate here reaches.
    return value >= Number.MAX_SAFE_INTEGER ? Infinity : value;
  };
  return { leader: rate(LEADER_REPLICATION_THROTTLED_RATE), follower: rate(FOLLOWER_REPLICATION_THROTTLED_RATE), alterLogDirs: rate(REPLICA_ALTER_LOG_DIRS_IO_MAX_BYTES_PER_SECOND) };
}

/**
 * replica.alter.log.dirs.io.max.bytes.per.second of a broker's (effective) configs, for
 * Engine.setLogDirMoveRate. A rate of 0 is taken as 1 byte a second: as Kafka's quota of 0, it
 * holds every move (1 KiB in ~17 min).
 */
export function logDirMoveRate(configs: Readonly<Record<string, string | undefined>>): number {
  return Math.max(1, replicationThrottledRates(configs).alterLogDirs);
}

/** Whether a topic's throttled replica list ("0:1,1:2" or "*") names `partition` on broker `brokerId`. */
export function listsReplica(list: readonly string[], partition: number, brokerId: number): boolean {
  if (list.length === 0) return false;
  if (list.length === 1 && list[0] === ALL_REPLICAS) return true;
  const wanted = `${partition}:${brokerId}`;
  return list.includes(wanted);
}

/** One side's limit and the rate of what it replicated for throttled partitions. */
export class ReplicationQuota {
  private limitBytesPerSecond = Infinity;
  private readonly sensor: RateSensor;
  /** Bytes replicated for throttled partitions, and partitions held back for the quota (broker metrics). */
  readonly stats = { throttledBytes: 0, heldPartitions: 0 };

  constructor(window: QuotaWindow) {
    this.sensor = new RateSensor(window);
  }

  get limit(): number {
    return this.limitBytesPerSecond;
  }

  setLimit(bytesPerSecond: number): void {
    this.limitBytesPerSecond = bytesPerSecond;
  }

  /** Kafka's isQuotaExceeded: the rate over the windows is above the limit. */
  exceeded(nowMs = Date.now()): boolean {
    if (this.limitBytesPerSecond === Infinity) return false;
    return this.sensor.rate(nowMs).bytesPerSecond > this.limitBytesPerSecond;
  }

  /** Bytes replicated for a throttled partition (counted with or without a limit, as Kafka counts them). */
  record(bytes: number, nowMs = Date.now()): void {
    if (bytes <= 0) return;
    this.stats.throttledBytes += bytes;
    this.sensor.record(bytes, nowMs);
  }

  /** A throttled partition was left out of a fetch or its answer. */
  held(): void {
    this.stats.heldPartitions++;
  }
}

export interface ReplicationQuotas {
  leader: ReplicationQuota;
  follower: ReplicationQuota;
}

export function createReplicationQuotas(window: QuotaWindow, configs: Readonly<Record<string, string | undefined>>): ReplicationQuotas {
  const quotas = { leader: new ReplicationQuota(window), follower: new ReplicationQuota(window) };
  applyReplicationThrottledRates(quotas, configs);
  return quotas;
}

/** Takes the limits of a broker's (effective) configs. */
export function applyReplicationThrottledRates(quotas: ReplicationQuotas, configs: Readonly<Record<string, string | undefined>>): void {
  const rates = replicationThrottledRates(configs);
  quotas.leader.setLimit(rates.leader);
  quotas.follower.setLimit(rates.follower);
}
