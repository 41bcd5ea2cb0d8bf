// Partition reassignment (KIP-455, AlterPartitionReassignments / ListPartitionReassignments) as
// pure functions from (replicas, reassignment in flight, partition state, who is alive) to the
// next replicas and state. No etcd here: the controller (controller-reign.ts) computes with these
// and writes the topic record and the changed states in one fenced compare-and-set
// (MetadataStore.reassignPartitions).
//
// Kafka's model, for one partition (ORS original replicas, TRS target, RS the replicas now):
//   start     RS = TRS then ORS not in TRS; adding = RS - ORS, removing = RS - TRS. The adding
//             replicas are replicas now: they open a log and fetch from the leader, which takes
//             them into the ISR once they have caught up, as any follower.
//   complete  once every target replica is in the ISR: RS = TRS, the ISR keeps only target
//             replicas, and a leader outside the target hands over to the first target replica
//             alive and in the ISR (a new leader epoch). The removed brokers stop and delete
//             their logs when they see the record without them.
//   cancel    (replicas null) RS = ORS: the adding replicas leave, the ISR keeps only original
//             replicas, and a leader among the adding ones hands over likewise.
//   again     a new target for a partition already moving keeps its original replicas: ORS
//             stays what it was before the first reassignment.
// The leader epoch moves only with the leader: a leader that stays sees the new replica set at its
// epoch (replica-manager.ts) and the partition epoch, which every write moves, fences stale ISR
// writers. A target that only reorders the replicas takes effect at once (the preferred leader
// changes; ElectLeaders or the rebalance check moves the leadership).
import { SluiceError } from '../errors.js';
import { NO_LEADER, type PartitionReassignment, type PartitionState } from './layout.js';
import type { IsAlive } from './partition-election.js';

/** The next assignment of one partition: its replicas, its reassignment (undefined: none), and its state when that changes. */
export interface ReassignmentStep {
  replicas: number[];
  reassignment: PartitionReassignment | undefined;
  /** Undefined when the state stays as it is (no write of it). */
  state: PartitionState | undefined;
}

export type ReassignmentDecision = { ok: true; step: ReassignmentStep } | { ok: false; error: SluiceError };

/** The replicas a partition had before its reassignment (ORS). */
export function originalReplicas(replicas: readonly number[], reassignment: PartitionReassignment | undefined): number[] {
  return reassignment === undefined ? [...replicas] : replicas.filter((id) => !reassignment.adding.includes(id));
}

/** The replicas a partition moves to (TRS). */
export function targetReplicas(replicas: readonly number[], reassignment: PartitionReassignment | undefined): number[] {
  return reassignment === undefined ? [...replicas] : replicas.filter((id) => !reassignment.removing.includes(id));
}

/**
 * The state of a partition whose replicas become `replicas`: the ISR keeps its members among
 * them; a leader outside them hands over to the first of them alive and in that ISR (NO_LEADER
 * when none is alive; the controller elects once one is), bumping the leader epoch. Undefined
 * when the state does not change; an error when no ISR member would be left (the partition would
 * lose its committed records).
 */
export function stateForReplicas(state: PartitionState, replicas: readonly number[], isAlive: IsAlive, controllerEpoch: number): PartitionState | SluiceError | undefined {
  const isr = state.isr.filter((id) => replicas.includes(id));
  if (isr.length === 0) {
    return new SluiceError('INVALID_REPLICA_ASSIGNMENT', `none of the in-sync replicas [${state.isr.join(',')}] is among [${replicas.join(',')}]: their records would be lost`);
  }
  const keepsLeader = state.leader !== NO_LEADER && replicas.includes(state.leader);
  const leader = keepsLeader ? state.leader : replicas.find((id) => isAlive(id) && isr.includes(id)) ?? NO_LEADER;
  if (leader === state.leader && isr.length === state.isr.length) return undefined;
  const leaderEpoch = leader === state.leader ? state.leaderEpoch : state.leaderEpoch + 1;
  return { leader, leaderEpoch, isr, controllerEpoch };
}

function checkTarget(target: readonly number[], isAlive: IsAlive): SluiceError | undefined {
  if (target.length === 0) return new SluiceError('INVALID_REPLICA_ASSIGNMENT', 'The replica list is empty.');
  if (!target.every((id) => Number.isInteger(id) && id >= 0)) return new SluiceError('INVALID_REPLICA_ASSIGNMENT', `Replica list [${target.join(',')}] holds invalid broker ids.`);
  if (new Set(target).size !== target.length) return new SluiceError('INVALID_REPLICA_ASSIGNMENT', `Replica list [${target.join(',')}] names a broker twice.`);
  const dead = target.filter((id) => !isAlive(id));
  if (dead.length > 0) return new SluiceError('INVALID_REPLICA_ASSIGNMENT', `Replica list [${target.join(',')}] names brokers that are not alive: ${dead.join(',')}.`);
  return undefined;
}

/**
 * AlterPartitionReassignments for one partition: `target` its new replicas, or null to cancel the
 * reassignment in flight. INVALID_REPLICA_ASSIGNMENT for an empty list, a duplicate or a broker
 * not alive; NO_REASSIGNMENT_IN_PROGRESS for a cancel with nothing to cancel. The step it gives
 * may already be complete (completeReassignment is applied to it).
 */
export function reassign(
  replicas: readonly number[],
  current: PartitionReassignment | undefined,
  state: PartitionState,
  target: readonly number[] | null,
  isAlive: IsAlive,
  controllerEpoch: number,
): ReassignmentDecision {
  const original = originalReplicas(replicas, current);
  if (target === null && current === undefined) {
    return { ok: false, error: new SluiceError('NO_REASSIGNMENT_IN_PROGRESS', 'No partition reassignment is in progress for this partition.') };
  }
  if (target !== null) {
    const invalid = checkTarget(target, isAlive);
    if (invalid !== undefined) return { ok: false, error: invalid };
  }
  const wanted = target ?? original;
  const next = [...new Set([...wanted, ...original])];
  const adding = next.filter((id) => !original.includes(id));
  const removing = next.filter((id) => !wanted.includes(id));
  const reassignment = adding.length === 0 && removing.length === 0 ? undefined : { adding, removing };
  // Replicas a previous target added and this one drops leave now, and the ISR with them.
  const restricted = stateForReplicas(state, next, isAlive, controllerEpoch);
  if (restricted instanceof SluiceError) return { ok: false, error: restricted };
  const step: ReassignmentStep = { replicas: next, reassignment, state: restricted };
  return { ok: true, step: completeReassignment(step, state, isAlive, controllerEpoch) ?? step };
}

/**
 * The step that ends a reassignment once every target replica is in the ISR and one of them can
 * lead; undefined while it cannot end yet (or there is none).
 */
export function completeReassignment(step: Omit<ReassignmentStep, 'state'> & { state?: PartitionState | undefined }, current: PartitionState, isAlive: IsAlive, controllerEpoch: number): ReassignmentStep | undefined {
  if (step.reassignment === undefined) return undefined;
  const state = step.state ?? current;
  const target = targetReplicas(step.replicas, step.reassignment);
  if (!target.every((id) => state.isr.includes(id))) return undefined;
  const next = stateForReplicas(state, target, isAlive, controllerEpoch);
  if (next instanceof SluiceError) return undefined;
  const after = next ?? state;
  if (after.leader === NO_LEADER) return undefined; // wait for a target replica to be alive to lead
  return { replicas: target, reassignment: undefined, state: after === current ? undefined : after };
}
