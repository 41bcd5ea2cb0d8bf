// Transaction verification on produce (KIP-890 part 1, Kafka 3.6+'s
// transaction.partition.verification.enable, default true). A transactional batch from a producer
// with no transaction open on the partition would open one there; if the producer never added the
// partition to its transaction (a late retry after its transaction was aborted, a client that
// skipped AddPartitionsToTxn), no marker will ever close it: a hanging transaction that holds the
// partition's last stable offset, and so every read_committed consumer, until an operator aborts
// it (`sluice transactions find-hanging`). So before taking such a batch the partition's leader
// asks the producer's transaction coordinator whether the partition is in the ongoing transaction:
// here when this broker coordinates the id, else with AddPartitionsToTxn v4 (VerifyOnly) over one
// connection per coordinator broker. Only a transaction's first batch on a partition pays the
// round trip; its next batches find the transaction open in the partition's producer state.
//
// Errors as Kafka's ReplicaManager gives them to the producer: a partition not in the transaction
// is INVALID_TXN_STATE; a fenced producer INVALID_PRODUCER_EPOCH; a coordinator that is moving,
// loading or busy NOT_ENOUGH_REPLICAS, which every producer retries.
import { KafkaErrorCode, SluiceError, kafkaErrorName, type SluiceErrorName } from '../../errors.js';
import { TRANSACTION_STATE_TOPIC } from '../../engine/topic-name.js';
import { ApiKey } from '../../protocol/api-keys.js';
import type { ClusterNode } from '../cluster-node.js';
import { PeerConnections, type PeerTls } from '../peer-connections.js';
import { errorCodeOf } from '../handlers/errors.js';
import type { TransactionCoordinator } from './transaction-coordinator.js';
import type { SaslCredentials } from '../../client/sasl.js';

/** AddPartitionsToTxn with VerifyOnly: the first version that has it. */
const VERIFY_VERSION = 4;

/** Coordinator answers that say "ask again", turned into an error the producer retries. */
const RETRIABLE = new Set<number>([
  KafkaErrorCode.CONCURRENT_TRANSACTIONS,
  KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  KafkaErrorCode.COORDINATOR_NOT_AVAILABLE,
  KafkaErrorCode.NOT_COORDINATOR,
]);

export interface TransactionalWrite {
  transactionalId: string | null;
  topic: string;
  partition: number;
  producerId: number;
  producerEpoch: number;
}

export interface VerifierDeps {
  coordinator: TransactionCoordinator;
  /** This broker's cluster, null for a single broker. */
  cluster: () => ClusterNode | null;
  /** transaction.partition.verification.enable */
  enabled: boolean;
  timeoutMs: number;
  localAddress?: string;
  /** The login to the peers' SASL_PLAINTEXT listener; none for PLAINTEXT. */
  sasl?: SaslCredentials;
  tls?: PeerTls;
}

export class TransactionVerifier {
  private readonly peers: PeerConnections;

  constructor(private readonly deps: VerifierDeps) {
    this.peers = new PeerConnections('sluice-txn-verify', deps.timeoutMs, deps.localAddress, deps.sasl, deps.tls);
  }

  get enabled(): boolean {
    return this.deps.enabled;
  }

  /** Resolves when the write belongs to the producer's ongoing transaction; throws Kafka's error otherwise. */
  async verify(write: TransactionalWrite): Promise<void> {
    const { transactionalId, topic, partition } = write;
    if (transactionalId === null || transactionalId === '') {
      throw new SluiceError('INVALID_TXN_STATE', `A transactional batch for ${topic}-${partition} came without a transactional id`);
    }
    const code = await this.ask(write as TransactionalWrite & { transactionalId: string });
    if (code === KafkaErrorCode.NONE) return;
    if (code === KafkaErrorCode.INVALID_TXN_STATE) {
      throw new SluiceError('INVALID_TXN_STATE', `${topic}-${partition} is not in transactional id ${transactionalId}'s ongoing transaction`);
    }
    const name: SluiceErrorName = RETRIABLE.has(code) ? 'NOT_ENOUGH_REPLICAS' : code === KafkaErrorCode.PRODUCER_FENCED ? 'INVALID_PRODUCER_EPOCH' : kafkaErrorName(code);
    throw new SluiceError(name, `Could not verify that ${topic}-${partition} is in transactional id ${transactionalId}'s transaction: ${kafkaErrorName(code)}`);
  }

  close(): void {
    this.peers.close();
  }

  /** The coordinator's code for the partition. */
  private async ask(write: TransactionalWrite & { transactionalId: string }): Promise<number> {
    const { coordinator } = this.deps;
    const { transactionalId, topic, partition, producerId, producerEpoch } = write;
    const cluster = this.deps.cluster();
    const leader = cluster === null ? -1 : (cluster.partition(TRANSACTION_STATE_TOPIC, coordinator.partitionFor(transactionalId))?.leader ?? -1);
    if (cluster === null || leader === cluster.brokerId) {
      try {
        return coordinator.verifyPartitions(transactionalId, producerId, producerEpoch, new Map([[topic, [partition]]])).get(topic)!.get(partition)!;
      } catch (error) {
        return errorCodeOf(error);
      }
    }
    if (leader < 0) return KafkaErrorCode.COORDINATOR_NOT_AVAILABLE;
    try {
      const connection = await this.peers.get(cluster, leader);
      const response = await connection.request(
        ApiKey.AddPartitionsToTxn,
        { transactions: [{ transactionalId, producerId, producerEpoch, verifyOnly: true, topics: [{ name: topic, partitions: [partition] }] }] },
        VERIFY_VERSION,
      );
      if (response.errorCode !== KafkaErrorCode.NONE) return response.errorCode;
      return response.resultsByTransaction?.[0]?.topicResults?.[0]?.resultsByPartition?.[0]?.partitionErrorCode ?? KafkaErrorCode.UNKNOWN_SERVER_ERROR;
    } catch {
      // The coordinator's broker is unreachable or slow: the producer retries.
      return KafkaErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }
}
