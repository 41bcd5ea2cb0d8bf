// Kafka's ConnectionQuotas: how many connections the broker takes in all (max.connections, capped
// by the descriptor budget of src/limits.ts) and from one address (max.connections.per.ip, with
// max.connections.per.ip.overrides). A connection past a limit is closed at accept, before it
// costs anything but its descriptor for a moment, and the broker logs and counts it.

export interface ConnectionQuotaSettings {
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** Host or address -> limit; overrides maxConnectionsPerIp for that address. */
  maxConnectionsPerIpOverrides: ReadonlyMap<string, number>;
}

export class ConnectionQuotas {
  private total = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(private settings: ConnectionQuotaSettings) {}

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

  /** Counts the connection in and returns null, or returns why it is refused (and counts nothing). */
  admit(address: string): string | null {
    const ip = normalizeAddress(address);
    if (this.total >= this.settings.maxConnections) {
      return `the broker holds ${this.total} connections, its limit (max.connections, or the descriptor budget)`;
    }
    const limit = this.limitFor(ip);
    const current = this.byAddress.get(ip) ?? 0;
    if (current >= limit) return `${ip} holds ${current} connections, its limit (max.connections.per.ip)`;
    this.total++;
    this.byAddress.set(ip, current + 1);
    return null;
  }

  release(address: string): void {
    const ip = normalizeAddress(address);
    const current = this.byAddress.get(ip);
    if (current === undefined) return;
    this.total--;
    if (current <= 1) this.byAddress.delete(ip);
    else this.byAddress.set(ip, current - 1);
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
