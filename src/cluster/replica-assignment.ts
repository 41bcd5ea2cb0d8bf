// Which brokers hold each partition's replicas: Kafka's assignment (AdminUtils.assignReplicasToBrokers,
// rack-unaware and rack-aware), and the checks Kafka makes of an explicit assignment (CreateTopics'
// `assignments`).
//
// Rack-unaware (no broker has broker.rack), with brokers sorted by id (n of them):
//   1. The first replica of each partition goes round-robin from a start index:
//        first(p) = (p + startIndex) mod n
//   2. The others follow the first at a shift that grows by one at each partition id that is a
//      non-zero multiple of n, so that the partitions a broker leads have their followers spread
//      over different brokers:
//        replica j of p (j = 1 .. RF-1) = (first(p) + 1 + (shift + j - 1) mod (n - 1)) mod n
// startIndex and the initial shift are random (one draw each) unless a start index is given, which
// then serves as both, as in Kafka. Kafka's own example (5 brokers, 10 partitions, RF 3, start 0):
//   p0 0,1,2  p1 1,2,3  p2 2,3,4  p3 3,4,0  p4 4,0,1  p5 0,2,3  p6 1,3,4  p7 2,4,0  p8 3,0,1  p9 4,1,2
//
// Rack-aware (some broker has a rack): the same walk over the brokers listed rack by rack in turn
// (racks sorted by name, each rack's brokers by id: racks a {1,2}, b {3}, c {4} give 1,3,4,2), with
// the follower shift multiplied by the number of racks; a candidate is skipped while some rack has
// no replica of the partition yet and the candidate's rack has one, or while some broker has none
// and the candidate has one. So each partition's replicas span min(RF, racks) racks, and leaders
// and followers spread evenly over the racks. Brokers without a rack form one rack of their own
// (Kafka's KRaft controller accepts such a mix; ZooKeeper-era Kafka refused it).
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

/** A broker as the assignment sees it: its id and broker.rack (null: none). */
export interface AssignableBroker {
  brokerId: number;
  rack: string | null;
}

/**
 * Replica lists for `partitionCount` partitions (entry i is partition startPartitionId + i), over
 * the brokers given (ids, or ids with racks). INVALID_PARTITIONS for a count below 1;
 * INVALID_REPLICATION_FACTOR for a factor below 1 or above the number of (live) brokers given.
 */
export function assignReplicas(
  brokers: ReadonlyArray<number | AssignableBroker>,
  partitionCount: number,
  replicationFactor: number,
  options: AssignOptions = {},
): number[][] {
  if (!Number.isInteger(partitionCount) || partitionCount <= 0) {
    throw new SluiceError('INVALID_PARTITIONS', 'Number of partitions was set to an invalid non-positive value.');
  }
  // Checked before the loop below runs partitionCount times: a CreateTopics of 2^31 - 1 partitions
  // once filled a broker's heap here (4 GB in ~30 s) before the engine's own check was reached.
  checkPartitionCount(partitionCount);
  if (!Number.isInteger(replicationFactor) || replicationFactor <= 0) {
    throw new SluiceError('INVALID_REPLICATION_FACTOR', 'Replication factor must be larger than 0.');
  }
  const rackOf = new Map<number, string | null>();
  for (const broker of brokers) {
    if (typeof broker === 'number') rackOf.set(broker, rackOf.get(broker) ?? null);
    else rackOf.set(broker.brokerId, broker.rack);
  }
  if (replicationFactor > rackOf.size) {
    throw new SluiceError('INVALID_REPLICATION_FACTOR', `Replication factor: ${replicationFactor} larger than available brokers: ${rackOf.size}.`);
  }
  const fixed = options.startIndex;
  if (fixed !== undefined && (!Number.isInteger(fixed) || fixed < 0)) throw new SluiceError('INVALID_REQUEST', `start index must be a non-negative integer, not ${fixed}`);
  const rackAware = [...rackOf.values()].some((rack) => rack !== null);
  return rackAware
    ? assignRackAware(rackOf, partitionCount, replicationFactor, options)
    : assignRackUnaware([...rackOf.keys()].sort((a, b) => a - b), partitionCount, replicationFactor, options);
}

/**
 * The walk both assignments share, over n brokers: partition by partition, the index of its first
 * replica and the follower shift, which grows at each partition id that is a non-zero multiple of
 * n. Both start from the fixed start index, or from two random draws (start, then shift).
 */
function walk(n: number, partitionCount: number, options: AssignOptions, replicasAt: (firstIndex: number, shift: number) => number[]): number[][] {
  const random = options.random ?? Math.random;
  const startIndex = options.startIndex ?? Math.floor(random() * n);
  let shift = options.startIndex ?? Math.floor(random() * n);
  let partitionId = Math.max(0, options.startPartitionId ?? 0);
  const assignment: number[][] = [];
  for (let i = 0; i < partitionCount; i++, partitionId++) {
    if (partitionId > 0 && partitionId % n === 0) shift++;
    assignment.push(replicasAt((partitionId + startIndex) % n, shift));
  }
  return assignment;
}

/** The index of replica j (0 = the first follower) of a partition whose first replica is at firstIndex. */
function followerIndex(firstIndex: number, shift: number, j: number, brokerCount: number): number {
  return (firstIndex + 1 + ((shift + j) % (brokerCount - 1))) % brokerCount;
}

function assignRackUnaware(brokers: readonly number[], partitionCount: number, replicationFactor: number, options: AssignOptions): number[][] {
  const n = brokers.length;
  return walk(n, partitionCount, options, (firstIndex, shift) => {
    const replicas = [brokers[firstIndex]!];
    for (let j = 0; j < replicationFactor - 1; j++) replicas.push(brokers[followerIndex(firstIndex, shift, j, n)]!);
    return replicas;
  });
}

function assignRackAware(rackOf: ReadonlyMap<number, string | null>, partitionCount: number, replicationFactor: number, options: AssignOptions): number[][] {
  const arranged = rackAlternatedBrokers(rackOf);
  const n = arranged.length;
  const rackCount = new Set(rackOf.values()).size;
  return walk(n, partitionCount, options, (firstIndex, shift) => {
    const leader = arranged[firstIndex]!;
    const replicas = [leader];
    const racksWithReplicas = new Set([rackOf.get(leader)]);
    const brokersWithReplicas = new Set([leader]);
    for (let r = 0, k = 0; r < replicationFactor - 1; r++) {
      for (;;) {
        const broker = arranged[followerIndex(firstIndex, shift * rackCount, k++, n)]!;
        const rack = rackOf.get(broker);
        const rackFree = !racksWithReplicas.has(rack) || racksWithReplicas.size === rackCount;
        const brokerFree = !brokersWithReplicas.has(broker) || brokersWithReplicas.size === n;
        if (rackFree && brokerFree) {
          replicas.push(broker);
          racksWithReplicas.add(rack);
          brokersWithReplicas.add(broker);
          break;
        }
      }
    }
    return replicas;
  });
}

/** Brokers taken from each rack in turn (racks by name, brokers by id): Kafka's getRackAlternatedBrokerList. */
function rackAlternatedBrokers(rackOf: ReadonlyMap<number, string | null>): number[] {
  const byRack = new Map<string | null, number[]>();
  for (const [brokerId, rack] of rackOf) byRack.set(rack, [...(byRack.get(rack) ?? []), brokerId]);
  // A null rack (brokers without broker.rack) sorts first, as an empty name would.
  const racks = [...byRack.keys()].sort((a, b) => ((a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0));
  const queues = racks.map((rack) => byRack.get(rack)!.sort((a, b) => a - b));
  const arranged: number[] = [];
  for (let i = 0; arranged.length < rackOf.size; i = (i + 1) % queues.length) {
    const next = queues[i]!.shift();
    if (next !== undefined) arranged.push(next);
  }
  return arranged;
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
