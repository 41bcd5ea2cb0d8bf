// Partition reassignment's pure rules (src/cluster/partition-reassignment.ts), as Kafka's
// controller applies them (KIP-455): start, completion, cancellation, a second target, and the
// partition state each step leaves.
import { describe, expect, it } from 'vitest';

import { NO_LEADER, type PartitionState } from '../../src/cluster/layout.js';
import { completeReassignment, originalReplicas, reassign, stateForReplicas, targetReplicas } from '../../src/cluster/partition-reassignment.js';

const alive = (...ids: number[]) => (id: number) => ids.includes(id);
const state = (leader: number, leaderEpoch: number, isr: number[]): PartitionState => ({ leader, leaderEpoch, isr, controllerEpoch: 1 });

describe('reassign', () => {
  it('starts a move: target replicas first, then the original ones leaving; the state is untouched', () => {
    const decision = reassign([1, 2, 3], undefined, state(1, 4, [1, 2, 3]), [4, 5, 1], alive(1, 2, 3, 4, 5), 7);
    expect(decision).toEqual({ ok: true, step: { replicas: [4, 5, 1, 2, 3], reassignment: { adding: [4, 5], removing: [2, 3] }, state: undefined } });
  });

  it('completes at once when the target replicas are all in the ISR already (a replication factor lowered)', () => {
    const decision = reassign([1, 2, 3], undefined, state(3, 2, [3, 1, 2]), [1, 2], alive(1, 2, 3), 7);
    expect(decision).toEqual({ ok: true, step: { replicas: [1, 2], reassignment: undefined, state: { leader: 1, leaderEpoch: 3, isr: [1, 2], controllerEpoch: 7 } } });
  });

  it('applies a reorder at once, leadership unchanged', () => {
    expect(reassign([1, 2, 3], undefined, state(1, 0, [1, 2, 3]), [3, 2, 1], alive(1, 2, 3), 7)).toEqual({ ok: true, step: { replicas: [3, 2, 1], reassignment: undefined, state: undefined } });
  });

  it('refuses bad targets and a cancel with nothing in flight', () => {
    const s = state(1, 0, [1, 2]);
    const code = (d: ReturnType<typeof reassign>) => (d.ok ? null : d.error.code);
    expect(code(reassign([1, 2], undefined, s, [], alive(1, 2), 1))).toBe('INVALID_REPLICA_ASSIGNMENT');
    expect(code(reassign([1, 2], undefined, s, [1, 1], alive(1, 2), 1))).toBe('INVALID_REPLICA_ASSIGNMENT');
    expect(code(reassign([1, 2], undefined, s, [1, -3], alive(1, 2), 1))).toBe('INVALID_REPLICA_ASSIGNMENT');
    expect(code(reassign([1, 2], undefined, s, [1, 3], alive(1, 2), 1))).toBe('INVALID_REPLICA_ASSIGNMENT'); // 3 not alive
    expect(code(reassign([1, 2], undefined, s, null, alive(1, 2), 1))).toBe('NO_REASSIGNMENT_IN_PROGRESS');
  });

  it('keeps the original replicas across a second target, dropping what the first one added', () => {
    // [1, 2] moving to [3, 4]: replicas [3, 4, 1, 2]; 3 joined the ISR. Now the target is [5, 1].
    const current = { adding: [3, 4], removing: [1, 2] };
    expect(originalReplicas([3, 4, 1, 2], current)).toEqual([1, 2]);
    expect(targetReplicas([3, 4, 1, 2], current)).toEqual([3, 4]);
    const decision = reassign([3, 4, 1, 2], current, state(1, 2, [1, 2, 3]), [5, 1], alive(1, 2, 3, 4, 5), 7);
    expect(decision).toEqual({ ok: true, step: { replicas: [5, 1, 2], reassignment: { adding: [5], removing: [2] }, state: { leader: 1, leaderEpoch: 2, isr: [1, 2], controllerEpoch: 7 } } });
  });

  it('cancels: back to the original replicas, a leader among the added ones handing over at a new epoch', () => {
    const current = { adding: [3], removing: [1] };
    const decision = reassign([3, 2, 1], current, state(3, 5, [3, 2, 1]), null, alive(1, 2, 3), 7);
    expect(decision).toEqual({ ok: true, step: { replicas: [2, 1], reassignment: undefined, state: { leader: 2, leaderEpoch: 6, isr: [2, 1], controllerEpoch: 7 } } });
  });

  it('refuses a step that would leave no in-sync replica (their records would be lost)', () => {
    // Originals 1, 2 both dead and out of the ISR; 3 alone holds the records: cancelling would drop it.
    const decision = reassign([3, 1, 2], { adding: [3], removing: [1, 2] }, state(3, 4, [3]), null, alive(3), 7);
    expect(decision.ok ? null : decision.error.code).toBe('INVALID_REPLICA_ASSIGNMENT');
  });
});

describe('completeReassignment', () => {
  const moving = { replicas: [3, 4, 1, 2], reassignment: { adding: [3, 4], removing: [1, 2] } };

  it('waits while a target replica is out of the ISR', () => {
    expect(completeReassignment(moving, state(1, 0, [1, 2, 3]), alive(1, 2, 3, 4), 7)).toBeUndefined();
  });

  it('ends with the target replicas: the ISR keeps only them and the first of them (in target order) alive in it leads at a new epoch', () => {
    expect(completeReassignment(moving, state(1, 0, [1, 2, 4, 3]), alive(1, 2, 3, 4), 7)).toEqual({ replicas: [3, 4], reassignment: undefined, state: { leader: 3, leaderEpoch: 1, isr: [4, 3], controllerEpoch: 7 } });
    expect(completeReassignment(moving, state(1, 0, [1, 2, 3, 4]), alive(1, 2, 4), 7)!.state!.leader).toBe(4);
  });

  it('keeps a leader that is a target replica, at its epoch', () => {
    const step = { replicas: [2, 3, 1], reassignment: { adding: [3], removing: [1] } };
    expect(completeReassignment(step, state(2, 3, [2, 1, 3]), alive(1, 2, 3), 7)).toEqual({ replicas: [2, 3], reassignment: undefined, state: { leader: 2, leaderEpoch: 3, isr: [2, 3], controllerEpoch: 7 } });
  });

  it('waits for a target replica alive to lead', () => {
    expect(completeReassignment(moving, state(1, 0, [1, 2, 3, 4]), alive(1, 2), 7)).toBeUndefined();
  });
});

describe('stateForReplicas', () => {
  it('is undefined when nothing changes, leaderless when no new replica is alive to lead', () => {
    expect(stateForReplicas(state(1, 0, [1, 2]), [1, 2, 3], alive(1, 2, 3), 7)).toBeUndefined();
    expect(stateForReplicas(state(1, 0, [1, 2]), [2], alive(1), 7)).toEqual({ leader: NO_LEADER, leaderEpoch: 1, isr: [2], controllerEpoch: 7 });
  });
});
