// Leader election as Kafka's controller does it, on pure states (no etcd).
import { describe, expect, it } from 'vitest';

import { NO_LEADER, type PartitionState } from '../../src/cluster/layout.js';
import {
  aliveForState,
  controlledShutdownState,
  electOfflineLeader,
  electPreferredLeader,
  initialPartitionState,
  leadershipsToMove,
  partitionStateForCluster,
  partitionStateForLiveBrokers,
  partitionsToRebalance,
  preferredLeaderElection,
  uncleanLeaderElection,
} from '../../src/cluster/partition-election.js';

const alive = (...ids: number[]) => (id: number) => ids.includes(id);
const state = (leader: number, leaderEpoch: number, isr: number[], controllerEpoch = 1): PartitionState => ({ leader, leaderEpoch, isr, controllerEpoch });

describe('initialPartitionState', () => {
  it('makes the live replicas the ISR and the first of them leader, at leader epoch 0', () => {
    expect(initialPartitionState([3, 1, 2], alive(1, 2, 3), 4)).toEqual(state(3, 0, [3, 1, 2], 4));
    expect(initialPartitionState([3, 1, 2], alive(1, 2), 4)).toEqual(state(1, 0, [1, 2], 4));
  });

  it('starts leaderless with every replica in the ISR when none is alive', () => {
    expect(initialPartitionState([3, 1], alive(), 4)).toEqual(state(NO_LEADER, 0, [3, 1], 4));
  });
});

describe('electOfflineLeader', () => {
  it('picks the first replica in assignment order that is alive and in the ISR, not the first of the ISR', () => {
    expect(electOfflineLeader([1, 2, 3], [3, 2], alive(2, 3), false)).toEqual({ leader: 2, unclean: false });
    expect(electOfflineLeader([1, 2, 3], [1, 3], alive(2, 3), false)).toEqual({ leader: 3, unclean: false });
  });

  it('elects nobody outside the ISR unless unclean election is on', () => {
    expect(electOfflineLeader([1, 2, 3], [1], alive(2, 3), false)).toBeUndefined();
    expect(electOfflineLeader([1, 2, 3], [1], alive(2, 3), true)).toEqual({ leader: 2, unclean: true });
    expect(electOfflineLeader([1, 2, 3], [1], alive(), true)).toBeUndefined();
  });
});

describe('partitionStateForLiveBrokers (a broker dies or returns)', () => {
  it('moves leadership to the next eligible replica and bumps the leader epoch', () => {
    expect(partitionStateForLiveBrokers(state(1, 5, [1, 2, 3]), [1, 2, 3], alive(2, 3), false, 2)).toEqual(state(2, 6, [2, 3], 2));
  });

  it('only shrinks the ISR when a follower dies: same leader, same leader epoch', () => {
    expect(partitionStateForLiveBrokers(state(1, 5, [1, 2, 3]), [1, 2, 3], alive(1, 3), false, 2)).toEqual(state(1, 5, [1, 3], 2));
  });

  it('changes nothing when every ISR member and the leader are alive', () => {
    expect(partitionStateForLiveBrokers(state(1, 5, [1, 2]), [1, 2, 3], alive(1, 2), false, 2)).toBeUndefined();
  });

  it('keeps the last ISR member when it dies, with no leader (leader epoch bumped)', () => {
    expect(partitionStateForLiveBrokers(state(1, 5, [1]), [1, 2, 3], alive(2, 3), false, 2)).toEqual(state(NO_LEADER, 6, [1], 2));
  });

  it('keeps the leader as the last member when the whole ISR dies at once', () => {
    expect(partitionStateForLiveBrokers(state(2, 5, [1, 2]), [1, 2, 3], alive(3), false, 2)).toEqual(state(NO_LEADER, 6, [2], 2));
  });

  it('gives a leaderless partition its leader back when the last ISR member returns, not an out-of-ISR replica', () => {
    const leaderless = state(NO_LEADER, 6, [1]);
    expect(partitionStateForLiveBrokers(leaderless, [1, 2, 3], alive(2, 3), false, 3)).toBeUndefined();
    expect(partitionStateForLiveBrokers(leaderless, [1, 2, 3], alive(1, 2, 3), false, 3)).toEqual(state(1, 7, [1], 3));
  });

  it('with unclean election on, elects a live out-of-ISR replica and makes it the whole ISR', () => {
    expect(partitionStateForLiveBrokers(state(1, 5, [1]), [1, 2, 3], alive(3, 2), true, 2)).toEqual(state(2, 6, [2], 2));
  });

  it('bumps the leader epoch on every new leader across successive failures', () => {
    const replicas = [1, 2, 3];
    let s = state(1, 0, [1, 2, 3]);
    const epochs: number[] = [];
    for (const live of [[2, 3], [1, 3], [1, 2]]) {
      s = partitionStateForLiveBrokers(s, replicas, alive(...live), false, 1) ?? s;
      epochs.push(s.leaderEpoch);
    }
    // 1 dies: 2 leads (1). 2 dies, 1 back (not in ISR): 3 leads (2). 3 dies: nobody in ISR alive (3).
    expect(epochs).toEqual([1, 2, 3]);
    expect(s.leader).toBe(NO_LEADER);
    expect(s.isr).toEqual([3]);
  });
});

describe('preferred and unclean leader election (ElectLeaders)', () => {
  it('moves leadership to the first assigned replica when it is alive and in the ISR, keeping the ISR', () => {
    const result = preferredLeaderElection(state(2, 3, [2, 1]), [1, 2], alive(1, 2), 4);
    expect(result).toEqual({ ok: true, state: state(1, 4, [2, 1], 4) });
    expect(electPreferredLeader([1, 2], [2], alive(1, 2))).toBeUndefined();
  });

  it('answers ELECTION_NOT_NEEDED and PREFERRED_LEADER_NOT_AVAILABLE as Kafka does', () => {
    const notNeeded = preferredLeaderElection(state(1, 3, [1, 2]), [1, 2], alive(1, 2), 4);
    expect(notNeeded.ok || notNeeded.error.code).toBe('ELECTION_NOT_NEEDED');
    const dead = preferredLeaderElection(state(2, 3, [1, 2]), [1, 2], alive(2), 4);
    expect(dead.ok || dead.error.code).toBe('PREFERRED_LEADER_NOT_AVAILABLE');
    const outOfIsr = preferredLeaderElection(state(2, 3, [2]), [1, 2], alive(1, 2), 4);
    expect(outOfIsr.ok || outOfIsr.error.code).toBe('PREFERRED_LEADER_NOT_AVAILABLE');
  });

  it('unclean: not needed while the leader lives; elects out of the ISR otherwise; none alive is ELIGIBLE_LEADERS_NOT_AVAILABLE', () => {
    const live = uncleanLeaderElection(state(1, 3, [1]), [1, 2], alive(1, 2), 4);
    expect(live.ok || live.error.code).toBe('ELECTION_NOT_NEEDED');
    expect(uncleanLeaderElection(state(NO_LEADER, 3, [1]), [1, 2], alive(2), 4)).toEqual({ ok: true, state: state(2, 4, [2], 4) });
    const none = uncleanLeaderElection(state(NO_LEADER, 3, [1]), [1, 2], alive(), 4);
    expect(none.ok || none.error.code).toBe('ELIGIBLE_LEADERS_NOT_AVAILABLE');
  });
});

describe('controlledShutdownState', () => {
  it('moves leadership off a broker shutting down and drops it from the ISR', () => {
    expect(controlledShutdownState(state(1, 2, [1, 2, 3]), [1, 2, 3], alive(1, 2, 3), new Set([1]), 5)).toEqual(state(2, 3, [2, 3], 5));
  });

  it('drops a follower shutting down from the ISR without a new leader epoch', () => {
    expect(controlledShutdownState(state(1, 2, [1, 2, 3]), [1, 2, 3], alive(1, 2, 3), new Set([3]), 5)).toEqual(state(1, 2, [1, 2], 5));
  });

  it('keeps the state when no other ISR replica can lead', () => {
    expect(controlledShutdownState(state(1, 2, [1]), [1, 2], alive(1, 2), new Set([1]), 5)).toBeUndefined();
  });
});

describe('partitionsToRebalance', () => {
  it("returns a broker's partitions led elsewhere once more than 10% of them are, if the preferred replica can lead", () => {
    const partitions = [
      { id: 'a', replicas: [1, 2], state: state(2, 1, [1, 2]) },
      { id: 'b', replicas: [1, 2], state: state(1, 1, [1, 2]) },
      { id: 'c', replicas: [2, 1], state: state(2, 1, [2, 1]) },
      { id: 'd', replicas: [1, 2], state: state(2, 1, [2]) }, // preferred out of the ISR: not eligible
    ];
    expect(partitionsToRebalance(partitions, alive(1, 2)).map((p) => p.id)).toEqual(['a']);
    expect(partitionsToRebalance(partitions, alive(1, 2), 70)).toEqual([]);
  });
});

describe('partitionStateForCluster', () => {
  it('handles dead brokers, then brokers shutting down, bumping the leader epoch once per write', () => {
    // Leader 1 died; 2 would be elected but is shutting down: 3 leads, at epoch + 1 only.
    expect(partitionStateForCluster(state(1, 4, [1, 2, 3]), [1, 2, 3], alive(2, 3), new Set([2]), false, 6)).toEqual(state(3, 5, [3], 6));
    // Nothing dead: as controlledShutdownState.
    expect(partitionStateForCluster(state(1, 4, [1, 2, 3]), [1, 2, 3], alive(1, 2, 3), new Set([3]), false, 6)).toEqual(state(1, 4, [1, 2], 6));
    // A leader shutting down with no other ISR replica keeps leading.
    expect(partitionStateForCluster(state(1, 4, [1]), [1, 2], alive(1, 2), new Set([1]), false, 6)).toBeUndefined();
    // Nobody shutting down: as partitionStateForLiveBrokers.
    expect(partitionStateForCluster(state(1, 4, [1, 2]), [1, 2], alive(2), new Set(), false, 6)).toEqual(state(2, 5, [2], 6));
    expect(partitionStateForCluster(state(1, 4, [1, 2]), [1, 2], alive(1, 2), new Set(), false, 6)).toBeUndefined();
  });
});

describe('leadershipsToMove', () => {
  const topic = (name: string, partitions: number[][], states: PartitionState[]) => ({ name, partitions, states });

  it('lists the partitions a broker leads that another live ISR replica not shutting down could lead', () => {
    const topics = [
      topic('a', [[1, 2], [1, 2], [2, 1], [1, 3]], [state(1, 0, [1, 2]), state(1, 0, [1]), state(2, 0, [2, 1]), state(1, 0, [1, 3])]),
      topic('b', [[1, 2]], [state(1, 0, [1, 2])]),
    ];
    expect(leadershipsToMove(topics, 1, alive(1, 2, 3))).toEqual([
      { topic: 'a', partition: 0 },
      { topic: 'a', partition: 3 },
      { topic: 'b', partition: 0 },
    ]);
    // 3 dead, 2 shutting down too: nothing can move.
    expect(leadershipsToMove(topics, 1, alive(1, 2), new Set([2]))).toEqual([]);
  });
});

describe('aliveForState (a leader that registered again: Kafka\'s bounced broker)', () => {
  const written = (leader: number, leaderEpoch: number, isr: number[], partitionEpoch: number) => ({ ...state(leader, leaderEpoch, isr), partitionEpoch });
  const registeredAt = (epochs: Record<number, number>) => (id: number) => epochs[id];

  it('counts the leader as dead when its registration is newer than the state, so another ISR replica leads at a new epoch', () => {
    const current = written(1, 5, [1, 2, 3], 100);
    const isAlive = aliveForState(current, alive(1, 2, 3), registeredAt({ 1: 120, 2: 10, 3: 11 }));
    expect([1, 2, 3].map(isAlive)).toEqual([false, true, true]);
    expect(partitionStateForCluster(current, [1, 2, 3], isAlive, new Set(), false, 2)).toEqual(state(2, 6, [2, 3], 2));
  });

  it('leaves a leader registered before the state, and every follower, as they are', () => {
    const current = written(1, 5, [1, 2, 3], 100);
    const isAlive = aliveForState(current, alive(1, 2, 3), registeredAt({ 1: 99, 2: 120, 3: 130 }));
    expect([1, 2, 3].map(isAlive)).toEqual([true, true, true]);
    expect(partitionStateForCluster(current, [1, 2, 3], isAlive, new Set(), false, 2)).toBeUndefined();
  });

  it('makes a bounced leader that is the only ISR member leaderless first, then elects it again at a new epoch', () => {
    const current = written(1, 5, [1], 100);
    const epochs = registeredAt({ 1: 120, 2: 10 });
    const leaderless = partitionStateForCluster(current, [1, 2], aliveForState(current, alive(1, 2), epochs), new Set(), false, 2);
    expect(leaderless).toEqual(state(NO_LEADER, 6, [1], 2));
    // Written after the registration, the leaderless state no longer marks the broker bounced.
    const next = written(NO_LEADER, 6, [1], 130);
    expect(partitionStateForCluster(next, [1, 2], aliveForState(next, alive(1, 2), epochs), new Set(), false, 2)).toEqual(state(1, 7, [1], 2));
  });
});
