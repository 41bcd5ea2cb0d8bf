// One connection per peer broker for a coordinator's requests to other brokers in a cluster (the
// transaction coordinator's WriteTxnMarkers, a partition leader's AddPartitionsToTxn verification):
// opened on first use, replaced when it closed or failed to open, closed with the broker.
import { BrokerConnection } from '../client/connection.js';
import { SluiceError } from '../errors.js';
import type { ClusterNode } from './cluster-node.js';
import type { SaslCredentials } from '../client/sasl.js';
import type { TlsOptions } from '../client/tls-config.js';

/**
 * The TLS a connection to a peer broker opens with, read at each connect: after a certificate is
 * renewed (KIP-226) the next connection presents the new key store, as Kafka's inter-broker
 * clients do once their SSL factory is reconfigured. Undefined on a plaintext listener.
 */
export type PeerTls = () => TlsOptions | undefined;

export class PeerConnections {
  private readonly connections = new Map<number, Promise<BrokerConnection>>();

  /**
   * @param clientId names the connections in the peers' logs, with this broker's id appended
   * @param localAddress the address a cluster broker connects from (its own loopback address)
   */
  constructor(
    private readonly clientId: string,
    private readonly requestTimeoutMs: number,
    private readonly localAddress?: string,
    /** The login to the peers' SASL listener; none for PLAINTEXT or SSL. */
    private readonly sasl?: SaslCredentials,
    /** TLS to the peers' SSL or SASL_SSL listener; none for plaintext. */
    private readonly tls?: PeerTls,
  ) {}

  /** The open connection to `brokerId`, or a new one (a closed or failed one is replaced). */
  async get(cluster: ClusterNode, brokerId: number): Promise<BrokerConnection> {
    const existing = this.connections.get(brokerId);
    if (existing !== undefined) {
      const connection = await existing.catch(() => null);
      if (connection !== null && !connection.isClosed) return connection;
      this.connections.delete(brokerId);
    }
    const endpoint = cluster.endpointOf(brokerId);
    if (endpoint === undefined) throw new SluiceError('BROKER_NOT_AVAILABLE', `Broker ${brokerId} is not live`);
    const connecting = BrokerConnection.connect({
      host: endpoint.host,
      port: endpoint.port,
      localAddress: this.localAddress,
      sasl: this.sasl,
      tls: this.tls?.(),
      clientId: `${this.clientId}-${cluster.brokerId}`,
      requestTimeoutMs: this.requestTimeoutMs,
    });
    this.connections.set(brokerId, connecting);
    return connecting;
  }

  close(): void {
    for (const connecting of this.connections.values()) connecting.then((connection) => connection.close(), () => {});
    this.connections.clear();
  }
}
