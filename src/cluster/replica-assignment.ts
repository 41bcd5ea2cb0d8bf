// Which brokers hold each partition's replicas: Kafka's rack-unaware assignment
// (AdminUtils.assignReplicasToBrokersRackUnaware, kept by KRaft for brokers without racks), and
// the checks Kafka makes of an explicit assignment (CreateTopics' `assignments`).
//
// The algorithm, with brokers sorted by id (n of them):
//   1. The first replica of each partition goes round-robin from a start index:
//        first(p) = (p + startIndex) mod n
//   2. The others follow the first at a shift that grows by one at each partition id that is a
//      non-zero multiple of n, so that the partitions a broker leads have their followers spread
//      over different brokers:
//        replica j of p (j = 1 .. RF-1) = (first(p) + 1 + (shift + j - 1) mod (n - 1)) mod n
// startIndex and the initial shift are random (one draw each) unless a start index is given, which
// then serves as both, as in Kafka. Kafka's own example (5 brokers, 10 partitions, RF 3, start 0):
//   p0 0,1,2  p1 1,2,3  p2 2,3,4  p3 3,4,0  p4 4,0,1  p5 0,2,3  p6 1,3,4  p7 2,4,0  p8 3,0,1  p9 4,1,2
import { SluiceError } from '../errors.js';
import { checkPartitionCount } from '../engine/topic-name.js';

export interface AssignOptions {
  /** Kafka's fixedStartIndex: the first broker index, and the initial follower shift. Random when omitted. */
  startIndex?: number;
  /** The first partition's id, when adding partitions to a topic (CreatePartitions). Default 0. */
  startPartitionId?: number;
  /** Uniform in [0, 1), for the random start. Default Math.random. */
  random?: () => number;
}

/**
 * Replica lists for `partitionCount` partitions (entry i is partition startPartitionId + i).
 * INVALID_PARTITIONS for a count below 1; INVALID_REPLICATION_FACTOR for a factor below 1 or
 * above the number of (live) brokers given.
 */
export function assignReplicas(brokerIds: readonly number[], partitionCount: number, replicationFactor: number, options: AssignOptions = {}): number[][] {
  if (!Number.isInteger(partitionCount) || partitionCount <= 0) {
    throw new SluiceError('INVALID_PARTITIONS', 'Number of partitions was set to an invalid non-positive value.');
  }
  // Checked before the loop below runs partitionCount times: a CreateTopics of 2^31 - 1 partitions
  // once filled a broker's heap here (4 GB in ~30 s) before the engine's own check was reached.
  checkPartitionCount(partitionCount);
  if (!Number.isInteger(replicationFactor) || replicationFactor <= 0) {
    throw new SluiceError('INVALID_REPLICATION_FACTOR', 'Replication factor must be larger than 0.');
  }
  const brokers = [...new Set(brokerIds)].sort((a, b) => a - b);
  if (replicationFactor > brokers.length) {
    throw new SluiceError('INVALID_REPLICATION_FACTOR', `Replication factor: ${replicationFactor} larger than available brokers: ${brokers.length}.`);
  }
  const n = brokers.length;
  const random = options.random ?? Math.random;
  const fixed = options.startIndex;
  if (fixed !== undefined && (!Number.isInteger(fixed) || fixed < 0)) throw new SluiceError('INVALID_REQUEST', `start index must be a non-negative integer, not ${fixed}`);
  const startIndex = fixed ?? Math.floor(random() * n);
  let nextReplicaShift = fixed ?? Math.floor(random() * n);
  let partitionId = Math.max(0, options.startPartitionId ?? 0);

  const assignment: number[][] = [];
  for (let i = 0; i < partitionCount; i++, partitionId++) {
    if (partitionId > 0 && partitionId % n === 0) nextReplicaShift++;
    const firstIndex = (partitionId + startIndex) % n;
    const replicas = [brokers[firstIndex]!];
    for (let j = 0; j < replicationFactor - 1; j++) {
      const shift = 1 + ((nextReplicaShift + j) % (n - 1));
      replicas.push(brokers[(firstIndex + shift) % n]!);
    }
    assignment.push(replicas);
  }
  return assignment;
}

/** One partition of CreateTopics' explicit `assignments`. */
export interface PartitionAssignment {
  partitionIndex: number;
  brokerIds: readonly number[];
}

/**
 * Checks an explicit assignment as Kafka's controller does and returns it by partition index:
 * INVALID_REPLICA_ASSIGNMENT for a partition given twice, partitions that are not 0..n-1, an
 * empty replica list, a broker listed twice or not registered, or partitions whose replica
 * counts differ.
 */
export function validateAssignment(assignments: readonly PartitionAssignment[], registeredBrokerIds: Iterable<number>): number[][] {
  const registered = new Set(registeredBrokerIds);
  const byPartition = new Map<number, number[]>();
  let replicationFactor: number | undefined;
  for (const { partitionIndex, brokerIds } of assignments) {
    if (byPartition.has(partitionIndex)) {
      throw new SluiceError('INVALID_REPLICA_ASSIGNMENT', `Found multiple manual partition assignments for partition ${partitionIndex}`);
    }
    if (brokerIds.length === 0) throw new SluiceError('INVALID_REPLICA_ASSIGNMENT', 'The manual partition assignment includes an empty replica list.');
    const seen = new Set<number>();
    for (const brokerId of brokerIds) {
      if (!registered.has(brokerId)) {
        throw new SluiceError('INVALID_REPLICA_ASSIGNMENT', `The manual partition assignment includes broker ${brokerId}, but no such broker is registered.`);
      }
      if (seen.has(brokerId)) throw new SluiceError('INVALID_REPLICA_ASSIGNMENT', `The manual partition assignment includes the broker ${brokerId} more than once.`);
      seen.add(brokerId);
    }
    if (replicationFactor !== undefined && brokerIds.length !== replicationFactor) {
      throw new SluiceError(
        'INVALID_REPLICA_ASSIGNMENT',
        `The manual partition assignment includes a partition with ${brokerIds.length} replica(s), but this is not consistent with previous partitions, which have ${replicationFactor} replica(s).`,
      );
    }
    replicationFactor = brokerIds.length;
    byPartition.set(partitionIndex, [...brokerIds]);
  }
  const result: number[][] = [];
  for (let p = 0; p < byPartition.size; p++) {
    const replicas = byPartition.get(p);
    if (replicas === undefined) throw new SluiceError('INVALID_REPLICA_ASSIGNMENT', 'partitions should be a consecutive 0-based integer sequence');
    result.push(replicas);
  }
  return result;
}
