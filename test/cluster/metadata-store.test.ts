// Topics and partition state in etcd: creation, watches, the controller's compare-and-set and a
// leader's AlterPartition, each refused with Kafka's error when computed from a stale view.
import { beforeAll, describe, expect, it } from 'vitest';

import type { BrokerSession } from '../../src/cluster/broker-session.js';
import type { ControllerFence } from '../../src/cluster/controller-election.js';
import type { EtcdCluster } from '../../src/cluster/etcd-process.js';
import { NO_LEADER, type PartitionState } from '../../src/cluster/layout.js';
import { MetadataStore, TXN_PARTITIONS_MAX, type PartitionStateRecord } from '../../src/cluster/metadata-store.js';
import { initialPartitionState, partitionStateForLiveBrokers } from '../../src/cluster/partition-election.js';
import { assignReplicas } from '../../src/cluster/replica-assignment.js';
import { isSluiceError } from '../../src/errors.js';
import { prng } from '../fixtures/random.js';
import { clientFor, etcdForTests, freshRoot, sleep, waitUntil } from './helpers.js';

let etcd: EtcdCluster;

beforeAll(async () => {
  etcd = await etcdForTests();
});

interface World {
  /** The controller's store (broker 1's client). */
  controller: MetadataStore;
  /** Other brokers' stores, each on its own client. */
  brokers: Map<number, MetadataStore>;
  sessions: Map<number, BrokerSession>;
  fence: ControllerFence;
}

/** Brokers 1..n registered, broker 1 controller. */
async function world(n = 3): Promise<World> {
  const root = freshRoot();
  const brokers = new Map<number, MetadataStore>();
  const sessions = new Map<number, BrokerSession>();
  for (let id = 1; id <= n; id++) {
    const store = new MetadataStore(clientFor(etcd), { root });
    brokers.set(id, store);
    sessions.set(id, await store.registerBroker({ brokerId: id, host: '127.0.0.1', port: 9000 + id, rack: null }, { sessionTimeoutMs: 8000 }));
  }
  const controller = brokers.get(1)!;
  const fence = (await controller.campaign(sessions.get(1)!))!;
  return { controller, brokers, sessions, fence };
}

async function createTopic(w: World, name: string, partitions: number, rf: number, configs: Record<string, string> = {}) {
  const live = [...w.sessions.keys()];
  const assignment = assignReplicas(live, partitions, rf, { startIndex: 0 });
  const isAlive = (id: number) => live.includes(id);
  return w.controller.createTopic(w.fence, { name, partitions: assignment, configs, states: assignment.map((replicas) => initialPartitionState(replicas, isAlive, w.fence.epoch)) });
}

const codeOf = (error: unknown) => (isSluiceError(error) ? error.code : String(error));

describe('topics', () => {
  it('creates a topic with its assignment, configs and partition states, each with a partition epoch', async () => {
    const w = await world();
    const view = await createTopic(w, 'orders', 3, 2, { 'unclean.leader.election.enable': 'false' });
    expect(view.partitions).toEqual([
      [1, 2],
      [2, 3],
      [3, 1],
    ]);
    expect(view.configs).toEqual({ 'unclean.leader.election.enable': 'false' });
    expect(view.topicId).toMatch(/^[0-9a-f-]{36}$/);
    expect(view.states.map((s) => [s!.leader, s!.leaderEpoch, s!.isr, s!.controllerEpoch])).toEqual([
      [1, 0, [1, 2], w.fence.epoch],
      [2, 0, [2, 3], w.fence.epoch],
      [3, 0, [3, 1], w.fence.epoch],
    ]);
    // All written in one transaction: one revision, which is every partition's epoch.
    expect(new Set(view.states.map((s) => s!.partitionEpoch)).size).toBe(1);
    expect(await w.brokers.get(2)!.readTopic('orders')).toEqual(view);
    const again = await createTopic(w, 'orders', 1, 1).catch((e: unknown) => e);
    expect(codeOf(again)).toBe('TOPIC_ALREADY_EXISTS');
    const badName = await createTopic(w, 'no/slash', 1, 1).catch((e: unknown) => e);
    expect(codeOf(badName)).toBe('INVALID_TOPIC_EXCEPTION');
  });

  it(`writes more than ${TXN_PARTITIONS_MAX} partitions in chunks and reads them all back`, async () => {
    const w = await world();
    const view = await createTopic(w, 'wide', 250, 3);
    expect(view.states.every((s) => s !== undefined)).toBe(true);
    expect(view.states.map((s) => s!.partition)).toEqual(Array.from({ length: 250 }, (_, p) => p));
    expect((await w.controller.listTopics()).get('wide')!.states.filter(Boolean)).toHaveLength(250);
  });

  it('lets brokers watch topics and partition states: creation, state changes, config changes, deletion', async () => {
    const w = await world();
    await createTopic(w, 'before', 1, 1);
    const events: string[] = [];
    const watch = await w.brokers.get(2)!.watchTopics({
      topic: (name, view) => events.push(view === undefined ? `topic ${name} deleted` : `topic ${name} ${view.partitions.length}`),
      partition: (topic, p, state) => events.push(state === undefined ? `state ${topic}-${p} deleted` : `state ${topic}-${p} leader ${state.leader} epoch ${state.leaderEpoch}`),
    });
    expect([...watch.topics.keys()]).toEqual(['before']);
    expect(watch.state('before', 0)?.leader).toBe(1);

    const view = await createTopic(w, 't', 2, 2);
    await waitUntil(() => watch.state('t', 1) !== undefined, 'the new topic in the watch');
    expect(events).toEqual(['topic t 2', 'state t-0 leader 1 epoch 0', 'state t-1 leader 2 epoch 0']);

    const s0 = view.states[0]!;
    const next = partitionStateForLiveBrokers(s0, view.partitions[0]!, (id) => id !== 1, false, w.fence.epoch)!;
    const [result] = await w.controller.updatePartitionStates(w.fence, [{ topic: 't', partition: 0, partitionEpoch: s0.partitionEpoch, state: next }]);
    expect(result!.ok).toBe(true);
    await waitUntil(() => watch.state('t', 0)?.leader === 2, 'the new leader in the watch');
    expect(watch.state('t', 0)).toEqual((result as { record: PartitionStateRecord }).record);

    await w.controller.updateTopicConfigs(w.fence, 't', { 'min.insync.replicas': '2' });
    await waitUntil(() => watch.topics.get('t')?.configs['min.insync.replicas'] === '2', 'the config change');
    expect(watch.state('t', 0)?.leader).toBe(2); // states kept across a config change

    events.length = 0;
    await w.controller.deleteTopic(w.fence, 't');
    await waitUntil(() => !watch.topics.has('t'), 'the deletion');
    expect(events).toEqual(['topic t deleted']);
    expect(await w.controller.readTopic('t')).toBeUndefined();
    expect(codeOf(await w.controller.deleteTopic(w.fence, 't').catch((e: unknown) => e))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    await watch.close();
  });
});

describe('partition state compare-and-set', () => {
  it('lets exactly one of two writers from the same partition epoch win; the other gets INVALID_UPDATE_VERSION with the current state', async () => {
    const w = await world();
    const view = await createTopic(w, 'race', 1, 3);
    let current = view.states[0]!;
    const random = prng(8);
    for (let round = 0; round < 30; round++) {
      // The controller moves leadership off broker `current.leader` while the leader shrinks its ISR.
      const controllerState: PartitionState = { leader: current.isr.find((id) => id !== current.leader)!, leaderEpoch: current.leaderEpoch + 1, isr: [...current.isr], controllerEpoch: w.fence.epoch };
      const leaderIsr = current.isr.length > 1 ? current.isr.filter((id, i) => id === current.leader || i !== current.isr.length - 1) : current.isr;
      // The leader's call reads before it writes; the controller's starts 0-8 ms later, so either may land first.
      const controllerDelayMs = Math.floor(random() * 9);
      const [byController, byLeader] = await Promise.allSettled([
        sleep(controllerDelayMs).then(() => w.controller.updatePartitionStates(w.fence, [{ topic: 'race', partition: 0, partitionEpoch: current.partitionEpoch, state: controllerState }])),
        w.brokers.get(current.leader)!.alterPartition({
          topic: 'race', partition: 0, brokerId: current.leader, leaderEpoch: current.leaderEpoch, partitionEpoch: current.partitionEpoch, newIsr: leaderIsr,
        }),
      ]);
      const controllerResult = (byController as PromiseFulfilledResult<Awaited<ReturnType<MetadataStore['updatePartitionStates']>>>).value[0]!;
      const leaderWon = byLeader.status === 'fulfilled' && byLeader.value.partitionEpoch !== current.partitionEpoch;
      expect(controllerResult.ok !== leaderWon).toBe(true);
      const now = (await w.controller.readPartitionState('race', 0))!;
      if (controllerResult.ok) {
        expect(now).toEqual(controllerResult.record);
        if (byLeader.status === 'rejected') expect(['FENCED_LEADER_EPOCH', 'INVALID_UPDATE_VERSION']).toContain(codeOf(byLeader.reason));
      } else {
        expect(controllerResult.error.code).toBe('INVALID_UPDATE_VERSION');
        expect(controllerResult.current).toEqual(now);
        expect(now.isr).toEqual(leaderIsr);
      }
      // Put every replica back in the ISR for the next round (the controller's write, fenced).
      const refill: PartitionState = { leader: now.leader, leaderEpoch: now.leaderEpoch, isr: [now.leader, ...[1, 2, 3].filter((id) => id !== now.leader)], controllerEpoch: w.fence.epoch };
      const [refilled] = await w.controller.updatePartitionStates(w.fence, [{ topic: 'race', partition: 0, partitionEpoch: now.partitionEpoch, state: refill }]);
      current = (refilled as { record: PartitionStateRecord }).record;
    }
  });

  it('writes the updates that are still current and returns the stale ones, in one call', async () => {
    const w = await world();
    const view = await createTopic(w, 'mixed', 4, 2);
    const [s0, s1, s2, s3] = view.states as PartitionStateRecord[];
    // Partition 1 moves first (its leader shrinks the ISR), so the controller's view of it is stale.
    await w.brokers.get(s1!.leader)!.alterPartition({ topic: 'mixed', partition: 1, brokerId: s1!.leader, leaderEpoch: s1!.leaderEpoch, partitionEpoch: s1!.partitionEpoch, newIsr: [s1!.leader] });
    const bump = (s: PartitionStateRecord): PartitionState => ({ leader: s.isr[1]!, leaderEpoch: s.leaderEpoch + 1, isr: [...s.isr], controllerEpoch: w.fence.epoch });
    const results = await w.controller.updatePartitionStates(
      w.fence,
      [s0!, s1!, s2!, s3!].map((s) => ({ topic: 'mixed', partition: s.partition, partitionEpoch: s.partitionEpoch, state: bump(s) })),
    );
    expect(results.map((r) => r.ok)).toEqual([true, false, true, true]);
    const stale = results[1]!;
    expect(!stale.ok && stale.error.code).toBe('INVALID_UPDATE_VERSION');
    expect(!stale.ok && stale.current?.isr).toEqual([s1!.leader]);
    const after = (await w.controller.readTopic('mixed'))!;
    expect(after.states.map((s) => s!.leaderEpoch)).toEqual([1, 0, 1, 1]);
  });

  it("refuses the partition writes of a controller whose fence no longer holds, writing none of them", async () => {
    const w = await world();
    const view = await createTopic(w, 'fenced', 2, 2);
    const fence = w.fence;
    await w.controller.resign(fence);
    const successor = (await w.brokers.get(2)!.campaign(w.sessions.get(2)!))!;
    expect(successor.epoch).toBe(fence.epoch + 1);
    const updates = view.states.map((s) => ({ topic: 'fenced', partition: s!.partition, partitionEpoch: s!.partitionEpoch, state: { ...s!, leaderEpoch: s!.leaderEpoch + 1 } }));
    expect(codeOf(await w.controller.updatePartitionStates(fence, updates).catch((e: unknown) => e))).toBe('NOT_CONTROLLER');
    expect(codeOf(await w.controller.updateTopicConfigs(fence, 'fenced', {}).catch((e: unknown) => e))).toBe('NOT_CONTROLLER');
    expect(codeOf(await w.controller.deleteTopic(fence, 'fenced').catch((e: unknown) => e))).toBe('NOT_CONTROLLER');
    expect(await w.controller.readTopic('fenced')).toEqual(view);
  });
});

describe('alterPartition (a leader changes its ISR)', () => {
  async function setUp() {
    const w = await world(4);
    await w.sessions.get(4)!.close(); // broker 4 is assigned but not alive
    const view = await w.controller.createTopic(w.fence, {
      name: 'isr',
      partitions: [[1, 2, 3, 4]],
      states: [{ leader: 1, leaderEpoch: 0, isr: [1, 2, 3], controllerEpoch: w.fence.epoch }],
    });
    return { w, state: view.states[0]! };
  }

  it('shrinks and expands the ISR by compare-and-set; each write moves the partition epoch', async () => {
    const { w, state } = await setUp();
    const leader = w.brokers.get(1)!;
    const shrunk = await leader.alterPartition({ topic: 'isr', partition: 0, brokerId: 1, leaderEpoch: 0, partitionEpoch: state.partitionEpoch, newIsr: [1, 2] });
    expect(shrunk).toMatchObject({ leader: 1, leaderEpoch: 0, isr: [1, 2], controllerEpoch: w.fence.epoch });
    expect(shrunk.partitionEpoch).toBeGreaterThan(state.partitionEpoch);
    const expanded = await leader.alterPartition({ topic: 'isr', partition: 0, brokerId: 1, leaderEpoch: 0, partitionEpoch: shrunk.partitionEpoch, newIsr: [1, 2, 3] });
    expect(expanded.isr).toEqual([1, 2, 3]);
    expect(await w.controller.readPartitionState('isr', 0)).toEqual(expanded);
    // Asking again for the ISR it has (a retry after a lost answer) returns the current state.
    expect(await leader.alterPartition({ topic: 'isr', partition: 0, brokerId: 1, leaderEpoch: 0, partitionEpoch: shrunk.partitionEpoch, newIsr: [1, 2, 3] })).toEqual(expanded);
  });

  it("answers Kafka's errors for a stale or wrong request", async () => {
    const { w, state } = await setUp();
    const request = { topic: 'isr', partition: 0, brokerId: 1, leaderEpoch: 0, partitionEpoch: state.partitionEpoch, newIsr: [1, 2] };
    const attempt = (store: MetadataStore, changes: Partial<typeof request>) => store.alterPartition({ ...request, ...changes }).catch((e: unknown) => codeOf(e));
    const leader = w.brokers.get(1)!;
    expect(await attempt(leader, { newIsr: [1, 4] })).toBe('INELIGIBLE_REPLICA'); // 4 is not registered
    expect(await attempt(leader, { newIsr: [2, 3] })).toBe('INVALID_REQUEST'); // without the leader
    expect(await attempt(leader, { newIsr: [1, 5] })).toBe('INVALID_REQUEST'); // 5 is not a replica
    expect(await attempt(w.brokers.get(2)!, { brokerId: 2 })).toBe('INVALID_REQUEST'); // not the leader
    expect(await attempt(leader, { partition: 7 })).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(await attempt(leader, { leaderEpoch: 1 })).toBe('NOT_CONTROLLER'); // ahead of etcd

    const moved = await leader.alterPartition(request);
    expect(await attempt(leader, { newIsr: [1, 3] })).toBe('INVALID_UPDATE_VERSION'); // partition epoch is stale

    // The controller elects broker 2 (broker 1 "died"): broker 1's requests are fenced.
    const [elected] = await w.controller.updatePartitionStates(w.fence, [
      { topic: 'isr', partition: 0, partitionEpoch: moved.partitionEpoch, state: { leader: 2, leaderEpoch: 1, isr: [2], controllerEpoch: w.fence.epoch } },
    ]);
    expect(elected!.ok).toBe(true);
    expect(await attempt(leader, { partitionEpoch: moved.partitionEpoch, newIsr: [1] })).toBe('FENCED_LEADER_EPOCH');
  });

  it('lets one of two concurrent ISR changes from the same partition epoch through', async () => {
    const { w, state } = await setUp();
    const request = { topic: 'isr', partition: 0, brokerId: 1, leaderEpoch: 0, partitionEpoch: state.partitionEpoch };
    // Two clients of broker 1 (as after a retry on another connection) racing with different ISRs.
    const other = new MetadataStore(clientFor(etcd), { root: w.controller.keys.root });
    const outcomes = await Promise.allSettled([w.brokers.get(1)!.alterPartition({ ...request, newIsr: [1, 2] }), other.alterPartition({ ...request, newIsr: [1, 3] })]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(codeOf(rejected.reason)).toBe('INVALID_UPDATE_VERSION');
    const winner = (outcomes.find((o) => o.status === 'fulfilled') as PromiseFulfilledResult<PartitionStateRecord>).value;
    expect(await w.controller.readPartitionState('isr', 0)).toEqual(winner);
    expect(winner.leader).not.toBe(NO_LEADER);
  });
});
