// Partition leader election as Kafka's controller does it: pure functions from (assignment,
// state, who is alive) to the next partition state. No etcd here: the controller computes with
// these and writes the result with MetadataStore.updatePartitionStates (a compare-and-set on the
// partition epoch), so a decision made from a stale view is refused, re-read and recomputed.
//
// Kafka's rules (PartitionLeaderElectionAlgorithms, PartitionStateMachine, ReplicaStateMachine):
//   offline    first replica in assignment order that is alive and in the ISR; with unclean
//              leader election (unclean.leader.election.enable, per topic, default false) any
//              live replica, and then the ISR is that leader alone (it may lack committed records).
//   preferred  the first assigned replica, if alive and in the ISR.
//   controlled first replica in assignment order alive, in the ISR and not shutting down.
//   shutdown
// A dead broker leaves every ISR, except where it is the last member: an ISR is never empty, so
// the partition keeps the one replica known to hold every committed record, and its leader is
// NO_LEADER (-1) until that replica returns (or an unclean election picks another). Every change
// of leader, to another broker or to none, bumps the leader epoch; an ISR change alone does not
// (the partition epoch, which every write moves, fences stale ISR writers).
//
// Replica lists are ordered; `isAlive(id)` is whether broker `id` is registered (live) now.
import { SluiceError } from '../errors.js';
import { NO_LEADER, type PartitionState } from './layout.js';

export type IsAlive = (brokerId: number) => boolean;

export type ElectionResult = { ok: true; state: PartitionState } | { ok: false; error: SluiceError };

/**
 * The state of a new partition (Kafka's NewPartition -> OnlinePartition): the live replicas are
 * the ISR and the first of them leads, at leader epoch 0. A partition without live replicas
 * starts leaderless with every replica in its ISR: it has no records, so whichever comes first
 * may lead without losing any.
 */
export function initialPartitionState(replicas: readonly number[], isAlive: IsAlive, controllerEpoch: number): PartitionState {
  const live = replicas.filter(isAlive);
  if (live.length === 0) return { leader: NO_LEADER, leaderEpoch: 0, isr: [...replicas], controllerEpoch };
  return { leader: live[0]!, leaderEpoch: 0, isr: live, controllerEpoch };
}

/** Kafka's offlinePartitionLeaderElection: the new leader, and whether it came from outside the ISR. */
export function electOfflineLeader(
  replicas: readonly number[],
  isr: readonly number[],
  isAlive: IsAlive,
  uncleanLeaderElection: boolean,
): { leader: number; unclean: boolean } | undefined {
  const clean = replicas.find((id) => isAlive(id) && isr.includes(id));
  if (clean !== undefined) return { leader: clean, unclean: false };
  if (!uncleanLeaderElection) return undefined;
  const unclean = replicas.find(isAlive);
  return unclean === undefined ? undefined : { leader: unclean, unclean: true };
}

/** Kafka's preferredReplicaPartitionLeaderElection: the first assigned replica, if eligible. */
export function electPreferredLeader(replicas: readonly number[], isr: readonly number[], isAlive: IsAlive): number | undefined {
  const preferred = replicas[0];
  return preferred !== undefined && isAlive(preferred) && isr.includes(preferred) ? preferred : undefined;
}

/** Kafka's controlledShutdownPartitionLeaderElection. */
export function electControlledShutdownLeader(
  replicas: readonly number[],
  isr: readonly number[],
  isAlive: IsAlive,
  shuttingDown: ReadonlySet<number>,
): number | undefined {
  return replicas.find((id) => isAlive(id) && isr.includes(id) && !shuttingDown.has(id));
}

function withLeader(state: PartitionState, leader: number, isr: number[], controllerEpoch: number): PartitionState {
  const leaderEpoch = leader === state.leader ? state.leaderEpoch : state.leaderEpoch + 1;
  return { leader, leaderEpoch, isr, controllerEpoch };
}

function sameIsr(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, i) => b[i] === id);
}

/**
 * The partition's state for the brokers alive now, after brokers died or came back (Kafka's
 * onBrokerFailure / onBrokerStartup for one partition): dead members leave the ISR (the last one
 * stays), a dead or missing leader is replaced by offline election, and a leaderless partition
 * gets a leader as soon as an eligible replica is alive. Undefined when nothing changes.
 */
export function partitionStateForLiveBrokers(
  state: PartitionState,
  replicas: readonly number[],
  isAlive: IsAlive,
  uncleanLeaderElection: boolean,
  controllerEpoch: number,
): PartitionState | undefined {
  const liveIsr = state.isr.filter(isAlive);
  const leaderAlive = state.leader !== NO_LEADER && isAlive(state.leader);
  if (leaderAlive) {
    // Only followers died: shrink the ISR (the leader is in it, so it never empties).
    if (sameIsr(liveIsr, state.isr)) return undefined;
    return { ...state, isr: liveIsr, controllerEpoch };
  }
  const elected = electOfflineLeader(replicas, liveIsr, isAlive, uncleanLeaderElection);
  if (elected !== undefined) {
    return withLeader(state, elected.leader, elected.unclean ? [elected.leader] : liveIsr, controllerEpoch);
  }
  // Nobody eligible: leaderless, and the ISR keeps its live members, or else its last member.
  const isr = liveIsr.length > 0 ? liveIsr : [lastIsrMember(state)];
  if (state.leader === NO_LEADER && sameIsr(isr, state.isr)) return undefined;
  return withLeader(state, NO_LEADER, isr, controllerEpoch);
}

/** The ISR member to keep when all are dead: the leader if it was one (it acknowledged last). */
function lastIsrMember(state: PartitionState): number {
  return state.leader !== NO_LEADER && state.isr.includes(state.leader) ? state.leader : state.isr[0]!;
}

/**
 * ElectLeaders (API 43) with election type PREFERRED for one partition: ELECTION_NOT_NEEDED when
 * the preferred replica already leads, PREFERRED_LEADER_NOT_AVAILABLE when it is dead or out of
 * the ISR. The ISR is kept.
 */
export function preferredLeaderElection(state: PartitionState, replicas: readonly number[], isAlive: IsAlive, controllerEpoch: number): ElectionResult {
  const preferred = replicas[0];
  if (preferred !== undefined && state.leader === preferred) {
    return { ok: false, error: new SluiceError('ELECTION_NOT_NEEDED', 'Leader election not needed for topic partition.') };
  }
  const leader = electPreferredLeader(replicas, state.isr, isAlive);
  if (leader === undefined) {
    return { ok: false, error: new SluiceError('PREFERRED_LEADER_NOT_AVAILABLE', `The preferred leader ${preferred} is not available (dead or out of the ISR [${state.isr.join(',')}]).`) };
  }
  return { ok: true, state: withLeader(state, leader, [...state.isr], controllerEpoch) };
}

/**
 * ElectLeaders with election type UNCLEAN for one partition: ELECTION_NOT_NEEDED when its leader
 * is alive; otherwise an offline election allowing out-of-ISR replicas;
 * ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica is alive.
 */
export function uncleanLeaderElection(state: PartitionState, replicas: readonly number[], isAlive: IsAlive, controllerEpoch: number): ElectionResult {
  if (state.leader !== NO_LEADER && isAlive(state.leader)) {
    return { ok: false, error: new SluiceError('ELECTION_NOT_NEEDED', 'Leader election not needed for topic partition.') };
  }
  const next = partitionStateForLiveBrokers(state, replicas, isAlive, true, controllerEpoch);
  if (next === undefined || next.leader === NO_LEADER) {
    return { ok: false, error: new SluiceError('ELIGIBLE_LEADERS_NOT_AVAILABLE', `No replica of [${replicas.join(',')}] is alive to lead.`) };
  }
  return { ok: true, state: next };
}

/**
 * The partition's state when `shuttingDown` brokers stop (Kafka's controlled shutdown): the
 * leadership moves to the first live ISR replica not shutting down, and the brokers shutting
 * down leave the ISR. Undefined when nothing changes or when the leadership cannot move (no
 * other ISR replica alive): then the state is kept, the broker leads until it stops, and its
 * death is handled as any other.
 */
export function controlledShutdownState(
  state: PartitionState,
  replicas: readonly number[],
  isAlive: IsAlive,
  shuttingDown: ReadonlySet<number>,
  controllerEpoch: number,
): PartitionState | undefined {
  const isr = state.isr.filter((id) => !shuttingDown.has(id));
  if (state.leader !== NO_LEADER && shuttingDown.has(state.leader)) {
    const leader = electControlledShutdownLeader(replicas, state.isr, isAlive, shuttingDown);
    if (leader === undefined) return undefined;
    return withLeader(state, leader, isr, controllerEpoch);
  }
  if (isr.length === 0 || sameIsr(isr, state.isr)) return undefined;
  return { ...state, isr, controllerEpoch };
}

/**
 * Kafka's auto leader rebalance check (auto.leader.rebalance.enable, every
 * leader.imbalance.check.interval.seconds = 300): for each broker, the share of the partitions it
 * is preferred leader of that another broker leads; when a broker's share exceeds
 * `imbalancePercent` (leader.imbalance.per.broker.percentage, default 10), its partitions whose
 * preferred replica is eligible are returned for preferred election.
 */
export function partitionsToRebalance<P extends { replicas: readonly number[]; state: PartitionState }>(
  partitions: readonly P[],
  isAlive: IsAlive,
  imbalancePercent = 10,
): P[] {
  const byPreferred = new Map<number, P[]>();
  for (const partition of partitions) {
    const preferred = partition.replicas[0];
    if (preferred === undefined) continue;
    const list = byPreferred.get(preferred) ?? [];
    list.push(partition);
    byPreferred.set(preferred, list);
  }
  const chosen: P[] = [];
  for (const [preferred, list] of byPreferred) {
    const notLed = list.filter((p) => p.state.leader !== preferred);
    if ((notLed.length * 100) / list.length <= imbalancePercent) continue;
    for (const p of notLed) if (electPreferredLeader(p.replicas, p.state.isr, isAlive) !== undefined) chosen.push(p);
  }
  return chosen;
}

/**
 * The partition's state for the cluster as it is now: dead brokers handled as by
 * partitionStateForLiveBrokers, then brokers in controlled shutdown as by controlledShutdownState
 * (the controller's one pass over a partition after any broker change). A leader change across
 * both steps bumps the leader epoch once. Undefined when nothing changes.
 */
export function partitionStateForCluster(
  state: PartitionState,
  replicas: readonly number[],
  isAlive: IsAlive,
  shuttingDown: ReadonlySet<number>,
  uncleanLeaderElection: boolean,
  controllerEpoch: number,
): PartitionState | undefined {
  const afterLiveness = partitionStateForLiveBrokers(state, replicas, isAlive, uncleanLeaderElection, controllerEpoch);
  const afterShutdown = shuttingDown.size === 0 ? undefined : controlledShutdownState(afterLiveness ?? state, replicas, isAlive, shuttingDown, controllerEpoch);
  const next = afterShutdown ?? afterLiveness;
  if (next === undefined) return undefined;
  const leaderEpoch = next.leader === state.leader ? state.leaderEpoch : state.leaderEpoch + 1;
  return { ...next, leaderEpoch };
}

/** Whether a leadership in a state of `partitionEpoch` predates the leader's registration `brokerEpoch` (both etcd revisions). */
export function leadershipPredatesRegistration(partitionEpoch: number, brokerEpoch: number): boolean {
  return brokerEpoch >= partitionEpoch;
}

/**
 * Kafka's bounced broker, for one partition: the state names as leader a broker that has
 * registered since the state was written (its broker epoch, the create revision of its
 * registration, is above the state's partition epoch, the mod revision of the state: both are etcd
 * revisions). The leadership belonged to an earlier incarnation of that broker, one that restarted
 * or lost its session before any controller saw it leave: a restart that revokes its old lease and
 * registers again can reach etcd before a controller reacts, or while none is elected (the
 * controller itself was the broker killed). The new incarnation has none of its predecessor's
 * leader state (its follower positions, its high watermark) and may hold fewer records than it
 * acknowledged; Kafka's controller handles such a broker as failed and then started, so it loses
 * its leaderships, at a new leader epoch, and leaves the ISR until it has caught up.
 * `isAlive` for that partition then counts the leader as dead: another live ISR replica leads, or,
 * with none, the partition is leaderless with the bounced broker as the last ISR member, and the
 * next pass (the state is newer than its registration now) elects it again at a new epoch.
 */
export function aliveForState(
  state: PartitionState & { partitionEpoch: number },
  isAlive: IsAlive,
  brokerEpochOf: (brokerId: number) => number | undefined,
): IsAlive {
  if (state.leader === NO_LEADER) return isAlive;
  const registeredAt = brokerEpochOf(state.leader);
  if (registeredAt === undefined || !leadershipPredatesRegistration(state.partitionEpoch, registeredAt)) return isAlive;
  const bounced = state.leader;
  return (id) => id !== bounced && isAlive(id);
}

/** What leadershipsToMove reads of a topic (a TopicView fits). */
export interface TopicPartitions {
  name: string;
  partitions: readonly (readonly number[])[];
  states: readonly (PartitionState | undefined)[];
}

/**
 * For a broker in controlled shutdown: the partitions it still leads whose leadership the
 * controller can move (another live ISR replica not shutting down exists). The broker waits until
 * this is empty, watching topics and brokers (MetadataStore.watchTopics / watchBrokers, and
 * watchAdminRequests for other brokers shutting down); what remains (no other live ISR replica)
 * it leads until it stops, as Kafka's broker does after its controlled shutdown attempts. A
 * deadline is still the broker's: the controller may be gone.
 */
export function leadershipsToMove(
  topics: Iterable<TopicPartitions>,
  brokerId: number,
  isAlive: IsAlive,
  shuttingDown: ReadonlySet<number> = new Set([brokerId]),
): { topic: string; partition: number }[] {
  const down = shuttingDown.has(brokerId) ? shuttingDown : new Set([...shuttingDown, brokerId]);
  const result: { topic: string; partition: number }[] = [];
  for (const topic of topics) {
    topic.states.forEach((state, partition) => {
      if (state === undefined || state.leader !== brokerId) return;
      if (electControlledShutdownLeader(topic.partitions[partition] ?? [], state.isr, isAlive, down) !== undefined) result.push({ topic: topic.name, partition });
    });
  }
  return result;
}
