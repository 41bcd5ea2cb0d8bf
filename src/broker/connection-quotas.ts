// Kafka's ConnectionQuotas: how many connections the broker takes in all (max.connections, capped
// by the descriptor budget of src/limits.ts), on one listener (listener.name.NAME.max.connections,
// KIP-402) and from one address (max.connections.per.ip, with max.connections.per.ip.overrides).
// A connection past a limit is closed at accept, before it costs anything but its descriptor for a
// moment, and the broker logs and counts it.
//
// And how fast it takes them (KIP-612), over quota.window.num windows of quota.window.size.seconds
// (11 of 1 s, so a burst of 10 s' worth): past the broker-wide max.connection.creation.rate, or its
// listener's listener.name.NAME.max.connection.creation.rate, a new connection is held, unread, for the throttle time (Kafka's acceptor waits that long before it
// takes it on); past its address's connection_creation_rate (an ip client quota, client-quotas.ts)
// it is closed after the throttle time, and does not count against the rate. Either throttle is
// at most one window, as Kafka bounds it.
import { RateSensor, type QuotaWindow } from './rate-sensor.js';

export interface ConnectionQuotaSettings {
  maxConnections: number;
  /** listener.name.NAME.max.connections: listener name (upper case) -> limit; a listener without one has none of its own. */
  listenerMaxConnections: ReadonlyMap<string, number>;
  maxConnectionsPerIp: number;
  /** Host or address -> limit; overrides maxConnectionsPerIp for that address. */
  maxConnectionsPerIpOverrides: ReadonlyMap<string, number>;
  /** max.connection.creation.rate: new connections a second the broker takes; Infinity for Kafka's default (Int.MAX). */
  maxConnectionCreationRate: number;
  /** listener.name.NAME.max.connection.creation.rate: listener name (upper case) -> new connections a second it takes. */
  listenerMaxConnectionCreationRate: ReadonlyMap<string, number>;
}

/** What the creation rates make of a new connection: held before it is served, or closed after a while. */
export type ConnectionThrottle = { holdMs: number; closeAfterMs?: undefined } | { closeAfterMs: number; holdMs?: undefined };

/** How often idle per-address rate sensors are dropped (their rate is 0 again anyway). */
const SENSOR_SWEEP_INTERVAL_MS = 60_000;

export class ConnectionQuotas {
  private total = 0;
  private readonly byAddress = new Map<string, number>();
  private readonly byListener = new Map<string, number>();
  private readonly brokerRate: RateSensor;
  private readonly listenerRates = new Map<string, RateSensor>();
  private readonly addressRates = new Map<string, RateSensor>();
  private lastSweepMs = 0;

  constructor(
    private settings: ConnectionQuotaSettings,
    private readonly window: QuotaWindow = { windowCount: 11, windowMs: 1000 },
    /** The connection_creation_rate quota of an address (its own, else the default ip entity's), if any. */
    private readonly addressQuota: (ip: string) => number | undefined = () => undefined,
  ) {
    this.brokerRate = new RateSensor(window);
  }

  /**
   * New limits (dynamic broker configs): they apply to connections accepted from now on; those
   * already open stay, as Kafka leaves them.
   */
  reconfigure(settings: ConnectionQuotaSettings): void {
    this.settings = settings;
  }

  get connectionCount(): number {
    return this.total;
  }

  /** Whether the broker holds max.connections (or its descriptor budget) already. */
  get atBrokerLimit(): boolean {
    return this.total >= this.settings.maxConnections;
  }

  /** Counts a connection on `listener` in and returns null, or returns why it is refused (and counts nothing). */
  admit(address: string, listener: string): string | null {
    const ip = normalizeAddress(address);
    if (this.total >= this.settings.maxConnections) {
      return `the broker holds ${this.total} connections, its limit (max.connections, or the descriptor budget)`;
    }
    const onListener = this.byListener.get(listener) ?? 0;
    const listenerLimit = this.settings.listenerMaxConnections.get(listener);
    if (listenerLimit !== undefined && onListener >= listenerLimit) {
      return `listener ${listener} holds ${onListener} connections, its limit (listener.name.${listener.toLowerCase()}.max.connections)`;
    }
    const limit = this.limitFor(ip);
    const current = this.byAddress.get(ip) ?? 0;
    if (current >= limit) return `${ip} holds ${current} connections, its limit (max.connections.per.ip)`;
    this.total++;
    this.byAddress.set(ip, current + 1);
    this.byListener.set(listener, onListener + 1);
    return null;
  }

  /**
   * The creation rates' verdict on a connection admit() took, recorded against both rates: null to
   * serve it now. One closed for its address's quota is no longer counted (admit's count is released).
   */
  throttle(address: string, listener: string, nowMs = Date.now()): ConnectionThrottle | null {
    const ip = normalizeAddress(address);
    let holdMs = 0;
    if (this.settings.maxConnectionCreationRate !== Infinity) {
      this.brokerRate.record(1, nowMs);
      holdMs = this.throttleMs(this.brokerRate, this.settings.maxConnectionCreationRate, nowMs);
    }
    // A listener's own rate holds its connections too, the longer of the two (Kafka's acceptor).
    const listenerRate = this.settings.listenerMaxConnectionCreationRate.get(listener) ?? Infinity;
    if (listenerRate !== Infinity) {
      let sensor = this.listenerRates.get(listener);
      if (sensor === undefined) this.listenerRates.set(listener, (sensor = new RateSensor(this.window)));
      sensor.record(1, nowMs);
      holdMs = Math.max(holdMs, this.throttleMs(sensor, listenerRate, nowMs));
    }
    const quota = this.addressQuota(ip);
    if (quota !== undefined) {
      this.sweep(nowMs);
      let sensor = this.addressRates.get(ip);
      if (sensor === undefined) this.addressRates.set(ip, (sensor = new RateSensor(this.window)));
      sensor.record(1, nowMs);
      const closeAfterMs = this.throttleMs(sensor, quota, nowMs);
      if (closeAfterMs > 0) {
        sensor.record(-1, nowMs);
        this.release(address, listener);
        return { closeAfterMs };
      }
    }
    return holdMs > 0 ? { holdMs } : null;
  }

  /** Kafka's QuotaUtils.boundedThrottleTime: how long until the rate is back at the limit, at most one window. */
  private throttleMs(sensor: RateSensor, limit: number, nowMs: number): number {
    const { bytesPerSecond: rate, elapsedMs } = sensor.rate(nowMs);
    if (rate <= limit) return 0;
    if (limit <= 0) return this.window.windowMs;
    return Math.max(Math.min(Math.round(((rate - limit) / limit) * elapsedMs), this.window.windowMs), 1);
  }

  private sweep(nowMs: number): void {
    if (nowMs - this.lastSweepMs < SENSOR_SWEEP_INTERVAL_MS) return;
    this.lastSweepMs = nowMs;
    const idleMs = this.window.windowCount * this.window.windowMs;
    for (const [ip, sensor] of this.addressRates) if (nowMs - sensor.lastRecordMs > idleMs) this.addressRates.delete(ip);
  }

  release(address: string, listener: string): void {
    const ip = normalizeAddress(address);
    const current = this.byAddress.get(ip);
    if (current === undefined) return;
    this.total--;
    if (current <= 1) this.byAddress.delete(ip);
    else this.byAddress.set(ip, current - 1);
    const onListener = this.byListener.get(listener) ?? 0;
    if (onListener <= 1) this.byListener.delete(listener);
    else this.byListener.set(listener, onListener - 1);
  }

  private limitFor(ip: string): number {
    const overrides = this.settings.maxConnectionsPerIpOverrides;
    if (overrides.size > 0) {
      const override = overrides.get(ip) ?? (isLoopback(ip) ? overrides.get('localhost') : undefined);
      if (override !== undefined) return override;
    }
    return this.settings.maxConnectionsPerIp;
  }
}

/** IPv4 clients of a dual-stack listener arrive as ::ffff:a.b.c.d; limits name them a.b.c.d. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.');
}
