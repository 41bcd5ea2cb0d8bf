// How transaction markers reach a partition's log (Kafka's TransactionMarkerChannelManager, one
// marker a request). On a single broker, and in a cluster for partitions this broker leads, the
// marker is appended here as the coordinator's (acks=all in a cluster); a partition led by another
// broker gets it in a WriteTxnMarkers request over one connection per broker, which that broker
// appends the same way (handlers/transactions.ts). Either way, a marker written to a partition of
// __consumer_offsets tells that partition's group coordinator that the producer's transactional
// offsets there take effect or go.
import { KafkaErrorCode, SluiceError, kafkaErrorName } from '../../errors.js';
import { CONSUMER_OFFSETS_TOPIC } from '../../engine/topic-name.js';
import type { Engine } from '../../engine/engine.js';
import { ApiKey } from '../../protocol/api-keys.js';
import { encodeMarkerBatch, type TransactionMarker } from '../../record/control-record.js';
import type { ClusterNode } from '../cluster-node.js';
import { PeerConnections, type PeerTls } from '../peer-connections.js';
import type { GroupCoordinator } from '../group/coordinator.js';
import type { MarkerWriter } from './transaction-coordinator.js';
import type { SaslCredentials } from '../../client/sasl.js';

/** WriteTxnMarkers v1 (flexible); every Kafka since 2.8 takes it. */
const WRITE_TXN_MARKERS_VERSION = 1;

export interface MarkerWriterDeps {
  engine: Engine;
  groups: GroupCoordinator;
  /** This broker's cluster, null for a single broker. */
  cluster: () => ClusterNode | null;
  /** How long a marker waits for its partition's ISR (acks=all), and for a peer's answer. */
  timeoutMs: number;
  /** The address a cluster broker connects from (its own loopback address). */
  localAddress?: string;
  /** The login to the peers' SASL_PLAINTEXT listener; none for PLAINTEXT. */
  sasl?: SaslCredentials;
  tls?: PeerTls;
}

/**
 * Appends a marker to a partition this broker holds (leads, in a cluster): the path of both the
 * coordinator's own markers and a peer's WriteTxnMarkers.
 */
export async function appendMarker(deps: MarkerWriterDeps, topic: string, partition: number, marker: TransactionMarker): Promise<void> {
  const batch = encodeMarkerBatch(marker);
  const cluster = deps.cluster();
  if (cluster === null) await deps.engine.appendBatches(topic, partition, batch, { origin: 'coordinator' });
  else await cluster.replicas.appendAsLeader(topic, partition, batch, -1, deps.timeoutMs, 'coordinator');
  if (topic === CONSUMER_OFFSETS_TOPIC) deps.groups.onTransactionMarker(partition, marker.producerId, marker.commit);
}

export class BrokerMarkerWriter implements MarkerWriter {
  private readonly peers: PeerConnections;

  constructor(private readonly deps: MarkerWriterDeps) {
    this.peers = new PeerConnections('sluice-txn-markers', deps.timeoutMs, deps.localAddress, deps.sasl, deps.tls);
  }

  async write(topic: string, partition: number, marker: TransactionMarker): Promise<void> {
    const cluster = this.deps.cluster();
    const leader = cluster === null ? -1 : (cluster.partition(topic, partition)?.leader ?? -1);
    if (cluster === null || leader === cluster.brokerId) return appendMarker(this.deps, topic, partition, marker);
    if (leader < 0) throw new SluiceError('LEADER_NOT_AVAILABLE', `${topic}-${partition} has no leader to take a transaction marker`);
    const connection = await this.peers.get(cluster, leader);
    const response = await connection.request(
      ApiKey.WriteTxnMarkers,
      {
        markers: [
          {
            producerId: marker.producerId,
            producerEpoch: marker.producerEpoch,
            transactionResult: marker.commit,
            topics: [{ name: topic, partitionIndexes: [partition] }],
            coordinatorEpoch: marker.coordinatorEpoch,
          },
        ],
      },
      WRITE_TXN_MARKERS_VERSION,
    );
    const errorCode: number = response.markers?.[0]?.topics?.[0]?.partitions?.[0]?.errorCode ?? KafkaErrorCode.UNKNOWN_SERVER_ERROR;
    if (errorCode !== KafkaErrorCode.NONE) {
      throw new SluiceError(kafkaErrorName(errorCode), `Broker ${leader} refused the transaction marker for ${topic}-${partition}`);
    }
  }

  close(): void {
    this.peers.close();
  }
}
