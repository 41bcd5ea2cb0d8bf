// The controller against a real etcd, with brokers as in-process sessions (each on its own etcd
// client, as separate brokers would be): it writes the states of proposed topics, re-elects
// leaders when brokers die and return, moves leadership off a broker in controlled shutdown,
// runs ElectLeaders and the auto rebalance, deletes topics on request, and hands over to the next
// controller without losing what happened in between. Sessions are 2 s (the shortest etcd keeps
// with a 1 s election timeout), so an expiry costs about 2 s.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { BrokerSession } from '../../src/cluster/broker-session.js';
import { Controller, type ControllerConfig } from '../../src/cluster/controller.js';
import type { EtcdCluster } from '../../src/cluster/etcd-process.js';
import { encodeTopicDeletion, NO_LEADER } from '../../src/cluster/layout.js';
import { MetadataStore, TXN_PARTITIONS_MAX, type BrokersWatch, type LiveBroker, type PartitionStateRecord, type TopicView } from '../../src/cluster/metadata-store.js';
import { leadershipsToMove } from '../../src/cluster/partition-election.js';
import { isSluiceError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { capturingLogger } from '../fixtures/probes.js';
import { clientFor, etcdForTests, freshRoot, waitUntil } from './helpers.js';

/**
 * The brokers' etcd lease. Short, for the one test that waits for a hung broker's lease to expire;
 * not shorter: at 2000 a fresh-clone CI run lost broker 3's session mid-test (its keepalives, every
 * third of the TTL, all came late on the loaded 2-core machine) and failed on SESSION_EXPIRED.
 */
const SESSION_TIMEOUT_MS = 5000;

let etcd: EtcdCluster;

beforeAll(async () => {
  etcd = await etcdForTests();
});

interface Broker {
  id: number;
  store: MetadataStore;
  session: BrokerSession;
}

interface World {
  root: string;
  brokers: Map<number, Broker>;
  /** A store of its own, for reading what etcd holds. */
  observer: MetadataStore;
  controllers: Map<number, Controller>;
  logger: Logger;
  lines: Array<Record<string, any>>;
}

const worlds: World[] = [];

afterEach(async () => {
  for (const world of worlds.splice(0)) {
    await Promise.all([...world.controllers.values()].map((controller) => controller.stop()));
    await Promise.all([...world.brokers.values()].map((broker) => broker.session.close()));
    // Errors are logged, never thrown: a test's controllers logged none.
    expect(world.lines.filter((line) => line.level >= 50)).toEqual([]);
  }
});

/** Registers broker `id` (again), on its own etcd client. */
async function register(w: World, id: number): Promise<Broker> {
  const store = w.brokers.get(id)?.store ?? new MetadataStore(clientFor(etcd), { root: w.root });
  const session = await store.registerBroker({ brokerId: id, host: '127.0.0.1', port: 9000 + id, rack: null }, { sessionTimeoutMs: SESSION_TIMEOUT_MS });
  const broker = { id, store, session };
  w.brokers.set(id, broker);
  return broker;
}

async function startController(w: World, id: number, config: ControllerConfig = { autoLeaderRebalanceEnable: false }, store?: MetadataStore): Promise<Controller> {
  const broker = w.brokers.get(id)!;
  const controller = await Controller.start({ store: store ?? broker.store, session: broker.session, config, logger: w.logger });
  w.controllers.set(id, controller);
  return controller;
}

/** Brokers 1..n registered; controllers started on `controllerIds`, the first of them active before the others start. */
async function world(n: number, controllerIds: number[], config: ControllerConfig = { autoLeaderRebalanceEnable: false }): Promise<World> {
  const { logger, lines } = capturingLogger('info');
  const root = freshRoot();
  const w: World = { root, brokers: new Map(), observer: new MetadataStore(clientFor(etcd), { root }), controllers: new Map(), logger, lines };
  worlds.push(w);
  for (let id = 1; id <= n; id++) await register(w, id);
  for (const [i, id] of controllerIds.entries()) {
    const controller = await startController(w, id, config);
    if (i === 0) await waitUntil(() => controller.isActive, `controller ${id} active`);
  }
  return w;
}

/**
 * `store` with its brokers watch lagging: joins and leaves reach the watch's live brokers and its
 * listener only on release(), as when a broker's watch is behind what another broker already saw.
 */
function lagBrokersWatch(store: MetadataStore): { store: MetadataStore; release(): void } {
  const held: Array<() => void> = [];
  let holding = true;
  const lagging = Object.create(store) as MetadataStore;
  lagging.watchBrokers = async (listener = {}) => {
    const live = new Map<number, LiveBroker>();
    const defer = (apply: () => void) => (holding ? held.push(apply) : apply());
    const watch = await store.watchBrokers({
      join: (broker) => defer(() => (live.set(broker.brokerId, broker), listener.join?.(broker))),
      leave: (broker) => defer(() => (live.delete(broker.brokerId), listener.leave?.(broker))),
      error: listener.error,
    });
    for (const [id, broker] of watch.live) live.set(id, broker);
    return { live, revision: 0, close: () => watch.close() } as unknown as BrokersWatch;
  };
  return {
    store: lagging,
    release() {
      holding = false;
      for (const apply of held.splice(0)) apply();
    },
  };
}

async function activeController(w: World, except?: Controller): Promise<Controller> {
  let active: Controller | undefined;
  await waitUntil(() => {
    const actives = [...w.controllers.values()].filter((c) => c.isActive && c !== except);
    active = actives.length === 1 ? actives[0] : undefined;
    return active !== undefined;
  }, 'one active controller');
  return active!;
}

/** Polls etcd until `topic`'s view satisfies `condition`; returns that view. */
async function topicWhen(w: World, topic: string, condition: (view: TopicView) => boolean, what: string): Promise<TopicView> {
  let view: TopicView | undefined;
  await waitUntil(async () => {
    view = await w.observer.readTopic(topic);
    return view !== undefined && condition(view);
  }, `${topic}: ${what}`);
  return view!;
}

const written = (view: TopicView) => view.states.every((state) => state !== undefined);
/** [leader, leaderEpoch, isr] of each partition. */
const summary = (view: TopicView) => view.states.map((s) => [s!.leader, s!.leaderEpoch, s!.isr]);
const sameSummary = (expected: unknown[]) => (view: TopicView) => written(view) && JSON.stringify(summary(view)) === JSON.stringify(expected);

/** A leader's ISR change, as its replica manager would make it. */
async function alterIsr(w: World, topic: string, partition: number, newIsr: number[]): Promise<PartitionStateRecord> {
  const state = (await w.observer.readPartitionState(topic, partition))!;
  return w.brokers.get(state.leader)!.store.alterPartition({ topic, partition, brokerId: state.leader, leaderEpoch: state.leaderEpoch, partitionEpoch: state.partitionEpoch, newIsr });
}

const codeOf = (error: unknown) => (isSluiceError(error) ? error.code : String(error));
const codes = (outcomes: { error: { code: string } | null }[]) => outcomes.map((o) => o.error?.code ?? null);

describe('controller', () => {
  it('writes the states of a proposed topic (leaders per assignment) and of added partitions; one controller acts', async () => {
    const w = await world(3, [1, 2, 3]);
    const active = await activeController(w);
    const proposed = await w.observer.proposeTopic({ name: 'orders', partitions: [[1, 2, 3], [2, 3, 1], [3, 1, 2]], configs: { 'retention.ms': '1000' } });
    expect(proposed.states).toEqual([undefined, undefined, undefined]);
    const view = await topicWhen(w, 'orders', written, 'states written');
    expect(summary(view)).toEqual([
      [1, 0, [1, 2, 3]],
      [2, 0, [2, 3, 1]],
      [3, 0, [3, 1, 2]],
    ]);
    expect(view.states.every((s) => s!.controllerEpoch === active.epoch)).toBe(true);
    expect([...w.controllers.values()].filter((c) => c.isActive)).toEqual([active]);

    expect(codeOf(await w.observer.proposeTopic({ name: 'orders', partitions: [[1]] }).catch((e: unknown) => e))).toBe('TOPIC_ALREADY_EXISTS');
    expect(codeOf(await w.observer.proposeTopic({ name: 'no/slash', partitions: [[1]] }).catch((e: unknown) => e))).toBe('INVALID_TOPIC_EXCEPTION');
    expect(codeOf(await w.observer.proposeTopic({ name: 'dup', partitions: [[1, 1]] }).catch((e: unknown) => e))).toBe('INVALID_REPLICA_ASSIGNMENT');

    const grown = await w.brokers.get(2)!.store.addPartitions('orders', [[2, 1, 3]], view.revision);
    expect(grown.partitions).toHaveLength(4);
    const stale = await w.brokers.get(3)!.store.addPartitions('orders', [[3, 1, 2]], view.revision).catch((e: unknown) => e);
    expect(codeOf(stale)).toBe('INVALID_UPDATE_VERSION');
    expect(codeOf(await w.observer.addPartitions('orders', [[1, 2]]).catch((e: unknown) => e))).toBe('INVALID_REPLICA_ASSIGNMENT');
    const after = await topicWhen(w, 'orders', (v) => v.states.length === 4 && written(v), 'the added partition written');
    expect(summary(after)[3]).toEqual([2, 0, [2, 1, 3]]);
    expect(after.states.slice(0, 3)).toEqual(view.states); // the others untouched

    const altered = await w.brokers.get(3)!.store.alterTopicConfigs('orders', { 'retention.ms': '2000' }, after.revision);
    expect(altered.configs).toEqual({ 'retention.ms': '2000' });
    expect(codeOf(await w.observer.alterTopicConfigs('orders', {}, after.revision).catch((e: unknown) => e))).toBe('INVALID_UPDATE_VERSION');
    expect(codeOf(await w.observer.alterTopicConfigs('nope', {}).catch((e: unknown) => e))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it("waits for a broker registered in etcd but not yet in its view before writing a new partition's first state", async () => {
    const w = await world(1, []);
    const lag = lagBrokersWatch(w.brokers.get(1)!.store);
    const controller = await startController(w, 1, undefined, lag.store);
    await waitUntil(() => controller.isActive, 'controller 1 active');
    await register(w, 2); // in etcd; the controller's watch holds the join back
    await w.observer.proposeTopic({ name: 'early', partitions: [[2, 1]] });
    await waitUntil(() => w.lines.some((line) => line.msg?.startsWith('controller: new partitions wait') && line.brokers?.includes(2)), 'the controller to wait for broker 2');
    expect((await w.observer.readTopic('early'))!.states).toEqual([undefined]);
    lag.release();
    // Led by its preferred replica, both in the ISR; written before the join showed, it was [1, 0, [1]].
    expect(summary(await topicWhen(w, 'early', written, 'the state written'))).toEqual([[2, 0, [2, 1]]]);
  });

  it('re-elects leaders when brokers die (closed or expired session), keeps the last ISR member, honours unclean election per topic, and leads again when they return', async () => {
    const w = await world(4, [1]);
    await activeController(w);
    await w.observer.proposeTopic({ name: 'clean', partitions: [[2, 3, 4], [3, 2, 4]] });
    await w.observer.proposeTopic({ name: 'solo', partitions: [[3]] });
    await w.observer.proposeTopic({ name: 'strict', partitions: [[4, 2]] });
    await w.observer.proposeTopic({ name: 'dirty', partitions: [[4, 2]], configs: { 'unclean.leader.election.enable': 'true' } });
    await w.observer.proposeTopic({ name: 'later', partitions: [[4, 2]] });
    for (const topic of ['clean', 'solo', 'strict', 'dirty', 'later']) await topicWhen(w, topic, written, 'states written');
    // Broker 2 fell behind on strict, dirty and later: their leader 4 took it out of the ISR.
    for (const topic of ['strict', 'dirty', 'later']) await alterIsr(w, topic, 0, [4]);

    await w.brokers.get(3)!.session.close();
    await topicWhen(w, 'clean', sameSummary([[2, 0, [2, 4]], [2, 1, [2, 4]]]), 'broker 3 out: new leader for clean-1, out of both ISRs');
    await topicWhen(w, 'solo', sameSummary([[NO_LEADER, 1, [3]]]), 'leaderless, the last member kept');

    w.brokers.get(4)!.session.release(); // a hung broker: its lease expires after the TTL
    await topicWhen(w, 'strict', sameSummary([[NO_LEADER, 1, [4]]]), 'no eligible leader without unclean election');
    await topicWhen(w, 'dirty', sameSummary([[2, 1, [2]]]), 'the out-of-ISR replica elected (topic config)');
    await topicWhen(w, 'clean', sameSummary([[2, 0, [2]], [2, 1, [2]]]), 'broker 4 out of the ISRs');
    await topicWhen(w, 'later', sameSummary([[NO_LEADER, 1, [4]]]), 'leaderless too');
    await w.observer.alterTopicConfigs('later', { 'unclean.leader.election.enable': 'TRUE' });
    await topicWhen(w, 'later', sameSummary([[2, 2, [2]]]), 'led by the out-of-ISR replica once the topic allows it');

    await register(w, 3);
    await topicWhen(w, 'solo', sameSummary([[3, 2, [3]]]), 'broker 3 back: it leads again');
    await register(w, 4);
    await topicWhen(w, 'strict', sameSummary([[4, 2, [4]]]), 'broker 4 back: it leads again');
    // Returning brokers rejoin ISRs through their leaders, not the controller.
    expect(summary((await w.observer.readTopic('clean'))!)).toEqual([[2, 0, [2]], [2, 1, [2]]]);
  });

  it("keeps a leader's concurrent ISR change: a controller write refused on the partition epoch is recomputed from the current state", async () => {
    const w = await world(3, [1]);
    // Enough partitions that the controller writes them in several transactions (TXN_PARTITIONS_MAX
    // each), so leaders' changes land on the last ones between its reading and its writing them.
    const count = 8 * TXN_PARTITIONS_MAX;
    const shapes = [[1, 2, 3], [2, 3, 1], [1, 3, 2], [2, 1, 3]]; // led by 1 or 2, never by 3
    await w.observer.proposeTopic({ name: 'race', partitions: Array.from({ length: count }, (_, p) => shapes[p % 4]!) });
    const before = await topicWhen(w, 'race', written, 'states written');
    // Broker 3 asks for controlled shutdown. Once the controller's first write for it shows, the
    // leaders of the last partitions drop their other follower from the ISR (keeping 3, still
    // registered), from the partition epoch before.
    const racing = before.states.slice(-TXN_PARTITIONS_MAX).map((s) => s!);
    const dropped = new Map(racing.map((s) => [s.partition, s.isr.find((id) => id !== s.leader && id !== 3)!]));
    let leaderChanges: Promise<string[]> | undefined;
    const watch = await w.observer.watchTopics({
      partition: (_topic, partition, state) => {
        if (partition !== 0 || state?.isr.includes(3) !== false || leaderChanges !== undefined) return;
        leaderChanges = Promise.all(
          racing.map((s) =>
            w.brokers
              .get(s.leader)!
              .store.alterPartition({ topic: 'race', partition: s.partition, brokerId: s.leader, leaderEpoch: 0, partitionEpoch: s.partitionEpoch, newIsr: s.isr.filter((id) => id !== dropped.get(s.partition)) })
              .then(() => 'ok', (e: unknown) => codeOf(e)),
          ),
        );
      },
    });
    await w.brokers.get(3)!.store.requestControlledShutdown(w.brokers.get(3)!.session);
    const after = await topicWhen(w, 'race', (v) => v.states.every((s) => !s!.isr.includes(3)), 'broker 3 out of every ISR');
    await waitUntil(() => leaderChanges !== undefined, 'the leaders changing ISRs');
    const outcomes = await leaderChanges!;
    await watch.close();
    expect(outcomes.filter((o) => !['ok', 'INVALID_UPDATE_VERSION'].includes(o))).toEqual([]);
    // A leader's change that went through landed after the controller had computed that partition
    // (it read before the race began) and before its write, which was therefore refused and
    // recomputed. Seven more transactions of the controller against a leader's two round trips:
    // here every one of them does.
    expect(outcomes.filter((o) => o === 'ok').length, 'no leader change landed before the controller wrote').toBeGreaterThan(0);
    const final = (await w.observer.readTopic('race'))!;
    racing.forEach((s, i) => {
      const now = final.states[s.partition]!;
      // The leader's change landed first (and the controller's write was recomputed on top of it),
      // or the controller's did (and the leader's was refused).
      expect([now.leader, now.leaderEpoch, now.isr]).toEqual([s.leader, 0, outcomes[i] === 'ok' ? [s.leader] : [s.leader, dropped.get(s.partition)]]);
    });
    expect(after.states.every((s) => s!.leaderEpoch === 0)).toBe(true);
  });

  it('moves every leadership that can move off a broker in controlled shutdown and takes it out of the ISRs', async () => {
    const w = await world(3, [1]);
    await activeController(w);
    await w.observer.proposeTopic({ name: 'cs', partitions: [[2, 1, 3], [1, 2, 3], [3, 2, 1]] });
    await w.observer.proposeTopic({ name: 'single', partitions: [[2]] });
    const views = async () => [(await topicWhen(w, 'cs', written, 'written'))!, (await topicWhen(w, 'single', written, 'written'))!];
    const alive = (id: number) => w.brokers.get(id)!.session.isLive;
    expect(leadershipsToMove(await views(), 2, alive)).toEqual([{ topic: 'cs', partition: 0 }]);

    await w.brokers.get(2)!.store.requestControlledShutdown(w.brokers.get(2)!.session);
    await waitUntil(async () => leadershipsToMove(await views(), 2, alive).length === 0, 'no leadership of broker 2 left to move');
    await topicWhen(w, 'cs', sameSummary([[1, 1, [1, 3]], [1, 0, [1, 3]], [3, 0, [3, 1]]]), 'broker 2 out of leadership and ISRs');
    expect(summary((await w.observer.readTopic('single'))!)).toEqual([[2, 0, [2]]]); // nowhere to move: it stays

    // Shutdown called off: the leader takes broker 2 back in, and a preferred election gives it cs-0 again.
    await w.brokers.get(2)!.store.withdrawControlledShutdown(w.brokers.get(2)!.session);
    const admin = await w.observer.watchAdminRequests();
    expect(admin.shutdowns.size).toBe(0);
    await alterIsr(w, 'cs', 0, [1, 3, 2]);
    const active = await activeController(w);
    await waitUntil(async () => codes(await active.electLeaders('PREFERRED', [{ topic: 'cs', partition: 0 }]))[0] === null, 'broker 2 eligible again');
    expect(summary((await w.observer.readTopic('cs'))!)[0]).toEqual([2, 2, [1, 3, 2]]);

    // A request lives on the broker's lease: it goes when the broker does.
    await w.brokers.get(2)!.store.requestControlledShutdown(w.brokers.get(2)!.session);
    await waitUntil(() => admin.shutdowns.has(2), 'the request seen');
    await w.brokers.get(2)!.session.close();
    await waitUntil(() => !admin.shutdowns.has(2), 'the request gone with the session');
    expect(codeOf(await w.brokers.get(2)!.store.requestControlledShutdown(w.brokers.get(2)!.session).catch((e: unknown) => e))).toBe('SESSION_EXPIRED');
    await admin.close();
  });

  it('takes a replica a broker reported offline (a failed disk) out of its ISR and leadership, for that partition only; the report goes with the session', async () => {
    const w = await world(3, [1]);
    await w.observer.proposeTopic({ name: 'disk', partitions: [[2, 1, 3], [2, 3, 1]] });
    await topicWhen(w, 'disk', sameSummary([[2, 0, [2, 1, 3]], [2, 0, [2, 3, 1]]]), 'broker 2 leads both');
    const two = w.brokers.get(2)!;
    await two.store.reportOfflineReplicas(two.session, [['disk', 0]]);
    // disk-0: the next of its ISR in assignment order leads; disk-1 is untouched.
    await topicWhen(w, 'disk', sameSummary([[1, 1, [1, 3]], [2, 0, [2, 3, 1]]]), 'broker 2 out of disk-0 only');
    // Never elected there while offline, even as the preferred replica back in the ISR.
    await alterIsr(w, 'disk', 0, [1, 3, 2]);
    await topicWhen(w, 'disk', sameSummary([[1, 1, [1, 3]], [2, 0, [2, 3, 1]]]), 'broker 2 taken out again');
    const active = await activeController(w);
    expect(codes(await active.electLeaders('PREFERRED', [{ topic: 'disk', partition: 0 }]))).toEqual(['PREFERRED_LEADER_NOT_AVAILABLE']);

    // The report lives on the broker's lease: a new session of broker 2 starts with none.
    const admin = await w.observer.watchAdminRequests();
    const live = () => new Map([...w.brokers.values()].filter((b) => b.session.isLive).map((b) => [b.id, { brokerEpoch: b.session.brokerEpoch }]));
    expect(admin.offlineReplicas(live())?.(2, 'disk', 0)).toBe(true);
    expect(admin.offlineReplicas(live())?.(2, 'disk', 1)).toBe(false);
    await two.session.close();
    await register(w, 2);
    await waitUntil(() => admin.offlineReplicas(live()) === null, 'the report gone with the session');
    await alterIsr(w, 'disk', 0, [1, 3, 2]);
    await topicWhen(w, 'disk', (view) => view.states[0]!.isr.includes(2), 'broker 2 back in the ISR of disk-0');
    await admin.close();
  });

  it("runs ElectLeaders (preferred and unclean) with Kafka's per-partition errors, and only on the active controller", async () => {
    const w = await world(3, [1, 2]);
    const active = w.controllers.get(1)!;
    const standby = w.controllers.get(2)!;
    expect(codeOf(await standby.electLeaders('PREFERRED', null).catch((e: unknown) => e))).toBe('NOT_CONTROLLER');
    await w.observer.proposeTopic({ name: 'pref', partitions: [[2, 3], [3, 2]] });
    await w.observer.proposeTopic({ name: 'out', partitions: [[2, 3]] });
    await w.observer.proposeTopic({ name: 'u', partitions: [[3, 1]] });
    await w.observer.proposeTopic({ name: 'gone', partitions: [[3]] });
    for (const topic of ['pref', 'out', 'u', 'gone']) await topicWhen(w, topic, written, 'states written');
    await alterIsr(w, 'u', 0, [3]);

    await w.brokers.get(2)!.session.close();
    await topicWhen(w, 'pref', sameSummary([[3, 1, [3]], [3, 0, [3]]]), 'broker 2 gone');
    await topicWhen(w, 'out', sameSummary([[3, 1, [3]]]), 'broker 2 gone');
    await register(w, 2);
    await alterIsr(w, 'pref', 0, [3, 2]); // caught up on pref-0 only

    // The controller learns of broker 2's registration and of pref-0's new ISR through its watches:
    // until both have come, pref-0's preferred leader is not available to it, and the request
    // changes nothing (a full-suite run once asked before they had).
    let preferred: Awaited<ReturnType<Controller['electLeaders']>> = [];
    await waitUntil(async () => {
      preferred = await active.electLeaders('PREFERRED', [
        { topic: 'pref', partition: 0 },
        { topic: 'pref', partition: 1 },
        { topic: 'out', partition: 0 },
        { topic: 'nope', partition: 0 },
        { topic: 'pref', partition: 9 },
        { topic: 'pref', partition: 0 },
      ]);
      return codes(preferred)[0] !== 'PREFERRED_LEADER_NOT_AVAILABLE';
    }, "the controller sees broker 2 back, in pref-0's ISR");
    expect(preferred.map((o) => `${o.topic}-${o.partition}`)).toEqual(['pref-0', 'pref-1', 'out-0', 'nope-0', 'pref-9']);
    expect(codes(preferred)).toEqual([null, 'ELECTION_NOT_NEEDED', 'PREFERRED_LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_OR_PARTITION']);
    expect(summary((await w.observer.readTopic('pref'))!)).toEqual([[2, 2, [3, 2]], [3, 0, [3]]]);
    // Over all partitions, those that needed no election are left out.
    const all = await active.electLeaders('PREFERRED', null);
    expect(all.map((o) => [`${o.topic}-${o.partition}`, o.error?.code])).toEqual([['out-0', 'PREFERRED_LEADER_NOT_AVAILABLE']]);

    await w.brokers.get(3)!.session.close();
    await topicWhen(w, 'u', sameSummary([[NO_LEADER, 1, [3]]]), 'u-0 leaderless');
    await topicWhen(w, 'gone', sameSummary([[NO_LEADER, 1, [3]]]), 'gone-0 leaderless');
    const unclean = await active.electLeaders('UNCLEAN', [
      { topic: 'u', partition: 0 },
      { topic: 'pref', partition: 0 },
      { topic: 'gone', partition: 0 },
    ]);
    expect(codes(unclean)).toEqual([null, 'ELECTION_NOT_NEEDED', 'ELIGIBLE_LEADERS_NOT_AVAILABLE']);
    expect(summary((await w.observer.readTopic('u'))!)).toEqual([[1, 2, [1]]]);
  });

  it('answers a request queued just as the previous one returns (no pass left waiting for a later event)', async () => {
    const w = await world(2, [1]);
    const controller = await activeController(w);
    await w.observer.proposeTopic({ name: 'calls', partitions: [[1, 2]] });
    await topicWhen(w, 'calls', written, 'states written');
    // Each call is queued while the drain loop that answered the previous one is still finishing.
    for (let i = 0; i < 5; i++) expect(codes(await controller.electLeaders('PREFERRED', [{ topic: 'calls', partition: 0 }]))).toEqual(['ELECTION_NOT_NEEDED']);
  });

  it('rebalances preferred leaders on its own (auto.leader.rebalance.enable)', async () => {
    const w = await world(3, [1], { leaderImbalanceCheckIntervalMs: 200, leaderImbalancePerBrokerPercentage: 10 });
    await activeController(w);
    await w.observer.proposeTopic({ name: 'bal', partitions: [[2, 1], [1, 2], [2, 3]] });
    await topicWhen(w, 'bal', written, 'states written');
    await w.brokers.get(2)!.session.close();
    await topicWhen(w, 'bal', sameSummary([[1, 1, [1]], [1, 0, [1]], [3, 1, [3]]]), 'broker 2 gone');
    await register(w, 2);
    await alterIsr(w, 'bal', 0, [1, 2]); // caught up on bal-0 only
    await topicWhen(w, 'bal', sameSummary([[2, 2, [1, 2]], [1, 0, [1]], [3, 1, [3]]]), 'preferred leader back on bal-0');
  });

  it('deletes a topic on request, with its states and the request', async () => {
    const w = await world(2, [1]);
    await activeController(w);
    await w.observer.proposeTopic({ name: 'doomed', partitions: [[1], [2]] });
    await w.observer.proposeTopic({ name: 'doomed-not', partitions: [[1]] });
    await topicWhen(w, 'doomed', written, 'states written');
    await w.brokers.get(2)!.store.requestTopicDeletion('doomed');
    await waitUntil(async () => (await w.observer.readTopic('doomed')) === undefined, 'the topic gone');
    const admin = await w.observer.watchAdminRequests();
    await waitUntil(() => admin.deletions.size === 0, 'the request gone');
    expect([...(await w.observer.listTopics()).keys()]).toEqual(['doomed-not']);
    expect(codeOf(await w.observer.requestTopicDeletion('doomed').catch((e: unknown) => e))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    // Re-created under the same name: a new topic, states written again.
    await w.observer.proposeTopic({ name: 'doomed', partitions: [[2]] });
    await topicWhen(w, 'doomed', sameSummary([[2, 0, [2]]]), 'the new incarnation written');
    // Requests naming no topic, or another incarnation of one, are dropped and delete nothing.
    const put = (topic: string, topicId: string) => w.observer.client.etcd.put(w.observer.keys.deleteTopicRequest(topic)).value(encodeTopicDeletion({ topicId }));
    await put('ghost', 'no-such-id');
    await put('doomed-not', 'an-earlier-id');
    await waitUntil(() => admin.deletions.size === 0, 'the stale requests dropped');
    expect([...(await w.observer.listTopics()).keys()].sort()).toEqual(['doomed', 'doomed-not']);
    await admin.close();
  });

  it('hands over when the active controller\'s broker dies: the next one, with a higher epoch, handles a broker death of the meantime', async () => {
    const w = await world(4, [1, 2, 3]);
    const first = await activeController(w);
    const firstFence = first.fence!;
    await w.observer.proposeTopic({ name: 'fo', partitions: [[1, 4], [2, 4], [3, 4], [4, 1], [4, 2], [4, 3]] });
    await topicWhen(w, 'fo', written, 'states written');
    const dead = new Set([firstFence.brokerId, 4]);

    await w.brokers.get(firstFence.brokerId)!.session.close();
    await w.brokers.get(4)!.session.close();
    const next = await activeController(w, first);
    expect(next.epoch).toBeGreaterThan(firstFence.epoch);
    expect(first.isActive).toBe(false);

    const view = await topicWhen(
      w,
      'fo',
      (v) => v.states.every((s) => !dead.has(s!.leader) && (s!.leader === NO_LEADER ? s!.isr.length === 1 : !s!.isr.some((id) => dead.has(id)))),
      'no dead leader, no dead ISR member but the last',
    );
    for (const [p, replicas] of view.partitions.entries()) {
      const state = view.states[p]!;
      const live = replicas.filter((id) => !dead.has(id));
      expect(state.leader).toBe(live[0] ?? NO_LEADER);
      if (dead.has(replicas[0]!)) expect(state.leaderEpoch).toBeGreaterThanOrEqual(1);
    }

    // The deposed controller is refused: by its API and by etcd for its fence.
    expect(codeOf(await first.electLeaders('PREFERRED', null).catch((e: unknown) => e))).toBe('NOT_CONTROLLER');
    const s0 = view.states[0]!;
    const zombieWrite = await w.brokers
      .get(firstFence.brokerId)!
      .store.updatePartitionStates(firstFence, [{ topic: 'fo', partition: 0, partitionEpoch: s0.partitionEpoch, state: { ...s0, leaderEpoch: s0.leaderEpoch + 1 } }])
      .catch((e: unknown) => e);
    expect(codeOf(zombieWrite)).toBe('NOT_CONTROLLER');
  });

  it('takes leadership from a broker that registered again while no controller ran (a bounce nobody saw as a leave), at a new leader epoch', async () => {
    const w = await world(3, [1]);
    const first = await activeController(w);
    await w.observer.proposeTopic({ name: 'bounced', partitions: [[2, 3, 1]] });
    await w.observer.proposeTopic({ name: 'bounced-alone', partitions: [[2]] });
    await topicWhen(w, 'bounced', sameSummary([[2, 0, [2, 3, 1]]]), 'states written');
    await topicWhen(w, 'bounced-alone', sameSummary([[2, 0, [2]]]), 'states written');
    await first.stop();
    // Broker 2 restarts: its old session goes and a new registration (a new broker epoch) takes
    // its place before any controller looks.
    await w.brokers.get(2)!.session.close();
    await register(w, 2);

    const next = await startController(w, 3);
    await waitUntil(() => next.isActive, 'the new controller active');
    // Another ISR replica leads at a new epoch, and the bounced broker leaves the ISR until a
    // leader adds it back; where it is the only replica, it leads again at a new epoch, after a
    // leaderless state written after its new registration.
    await topicWhen(w, 'bounced', sameSummary([[3, 1, [3, 1]]]), 'bounced leader replaced');
    await topicWhen(w, 'bounced-alone', sameSummary([[2, 2, [2]]]), 'bounced leader elected again');
  });

  it('reconciles at election what happened while no controller ran: a dead broker, a proposed topic, added partitions, a deletion request', async () => {
    const w = await world(3, [1]);
    const first = await activeController(w);
    await w.observer.proposeTopic({ name: 'old', partitions: [[2, 3], [3, 2]] });
    await w.observer.proposeTopic({ name: 'doomed', partitions: [[1]] });
    const old = await topicWhen(w, 'old', written, 'states written');
    await topicWhen(w, 'doomed', written, 'states written');
    const firstEpoch = first.epoch!;
    await first.stop();
    expect(await w.observer.readController()).toBeUndefined();

    await w.brokers.get(2)!.session.close();
    await w.observer.proposeTopic({ name: 'fresh', partitions: [[1, 3], [3, 1]] });
    await w.observer.addPartitions('old', [[3, 2]], old.revision);
    await w.observer.requestTopicDeletion('doomed');

    const next = await startController(w, 3);
    await waitUntil(() => next.isActive, 'the new controller active');
    expect(next.epoch).toBe(firstEpoch + 1);
    const after = await topicWhen(w, 'old', sameSummary([[3, 1, [3]], [3, 0, [3]], [3, 0, [3]]]), 'reconciled');
    expect(after.states.every((s) => s!.controllerEpoch === next.epoch)).toBe(true);
    await topicWhen(w, 'fresh', sameSummary([[1, 0, [1, 3]], [3, 0, [3, 1]]]), 'written');
    await waitUntil(async () => (await w.observer.readTopic('doomed')) === undefined, 'deleted');
  });
});

describe('partition reassignment (AlterPartitionReassignments, ListPartitionReassignments)', () => {
  const ongoing = (controller: Controller) => controller.listPartitionReassignments(null).map(({ topic, partition, replicas, adding, removing }) => ({ topic, partition, replicas, adding, removing }));

  it('adds the target replicas, completes once they are in the ISR (the leader hands over at a new epoch, the removed leave), and lists what is in flight', async () => {
    const w = await world(4, [1]);
    const controller = await activeController(w);
    await w.observer.proposeTopic({ name: 'moving', partitions: [[1, 2], [2, 1]] });
    await topicWhen(w, 'moving', sameSummary([[1, 0, [1, 2]], [2, 0, [2, 1]]]), 'states written');

    const outcomes = await controller.alterPartitionReassignments([
      { topic: 'moving', partition: 0, replicas: [3, 4] },
      { topic: 'moving', partition: 1, replicas: [2, 3] },
    ]);
    expect(codes(outcomes)).toEqual([null, null]);
    const started = await topicWhen(w, 'moving', (v) => v.reassignments !== undefined, 'reassignments recorded');
    expect(started.partitions).toEqual([[3, 4, 1, 2], [2, 3, 1]]);
    expect(started.reassignments).toEqual({ '0': { adding: [3, 4], removing: [1, 2] }, '1': { adding: [3], removing: [1] } });
    expect(summary(started)).toEqual([[1, 0, [1, 2]], [2, 0, [2, 1]]]); // leaders and ISRs untouched until the new replicas catch up
    await waitUntil(() => ongoing(controller).length === 2, 'both listed');
    expect(ongoing(controller)).toEqual([
      { topic: 'moving', partition: 0, replicas: [3, 4, 1, 2], adding: [3, 4], removing: [1, 2] },
      { topic: 'moving', partition: 1, replicas: [2, 3, 1], adding: [3], removing: [1] },
    ]);
    expect(controller.listPartitionReassignments([{ topic: 'moving', partition: 1 }, { topic: 'nope', partition: 0 }]).map((r) => r.partition)).toEqual([1]);

    // Partition 1: broker 3 catches up and the leader (2, staying) takes it in: done, 1 leaves the ISR, no new epoch.
    await alterIsr(w, 'moving', 1, [2, 1, 3]);
    const one = await topicWhen(w, 'moving', (v) => v.reassignments?.['1'] === undefined, 'partition 1 completed');
    expect(one.partitions[1]).toEqual([2, 3]);
    expect(summary(one)[1]).toEqual([2, 0, [2, 3]]);
    // Partition 0: only 3 has caught up: still in flight. Then 4 too: broker 3 leads at epoch 1 (its leader, 1, is not a target).
    await alterIsr(w, 'moving', 0, [1, 2, 3]);
    await topicWhen(w, 'moving', (v) => v.states[0]!.isr.length === 3, 'broker 3 in the ISR');
    expect((await w.observer.readTopic('moving'))!.reassignments?.['0']).toEqual({ adding: [3, 4], removing: [1, 2] });
    await alterIsr(w, 'moving', 0, [1, 2, 3, 4]);
    const done = await topicWhen(w, 'moving', (v) => v.reassignments === undefined, 'partition 0 completed');
    expect(done.partitions).toEqual([[3, 4], [2, 3]]);
    expect(summary(done)).toEqual([[3, 1, [3, 4]], [2, 0, [2, 3]]]);
    await waitUntil(() => ongoing(controller).length === 0, 'nothing listed');
  });

  it('takes a target broker registered in etcd but not yet in its view', async () => {
    const w = await world(2, []);
    const lag = lagBrokersWatch(w.brokers.get(1)!.store);
    const controller = await startController(w, 1, undefined, lag.store);
    await waitUntil(() => controller.isActive, 'controller 1 active');
    await w.observer.proposeTopic({ name: 'onward', partitions: [[1, 2]] });
    await topicWhen(w, 'onward', written, 'states written');
    await register(w, 3); // in etcd; the controller's watch holds the join back
    expect(codes(await controller.alterPartitionReassignments([{ topic: 'onward', partition: 0, replicas: [1, 3] }]))).toEqual([null]);
    const started = await topicWhen(w, 'onward', (v) => v.reassignments !== undefined, 'the reassignment recorded');
    expect(started.reassignments).toEqual({ '0': { adding: [3], removing: [2] } });
    // A broker that is in neither is still refused.
    expect(codes(await controller.alterPartitionReassignments([{ topic: 'onward', partition: 0, replicas: [1, 9] }]))).toEqual(['INVALID_REPLICA_ASSIGNMENT']);
    lag.release();
  });

  it("answers Kafka's per-partition errors, cancels a reassignment in flight, applies a reorder at once, and refuses to add partitions meanwhile", async () => {
    const w = await world(3, [1, 2]);
    const controller = await activeController(w);
    await w.observer.proposeTopic({ name: 'kept', partitions: [[1, 2], [2, 1]] });
    await topicWhen(w, 'kept', written, 'states written');

    const refused = await controller.alterPartitionReassignments([
      { topic: 'kept', partition: 0, replicas: [1, 9] },
      { topic: 'kept', partition: 1, replicas: [] },
      { topic: 'kept', partition: 5, replicas: [1] },
      { topic: 'gone', partition: 0, replicas: [1] },
      { topic: 'kept', partition: 0, replicas: null },
    ]);
    // A partition named twice takes its last request (here a cancel with nothing to cancel).
    expect(codes(refused)).toEqual(['NO_REASSIGNMENT_IN_PROGRESS', 'INVALID_REPLICA_ASSIGNMENT', 'UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_OR_PARTITION', 'NO_REASSIGNMENT_IN_PROGRESS']);
    expect(codes(await controller.alterPartitionReassignments([{ topic: 'kept', partition: 0, replicas: [1, 1] }]))).toEqual(['INVALID_REPLICA_ASSIGNMENT']);
    expect(codes(await controller.alterPartitionReassignments([{ topic: 'kept', partition: 0, replicas: [1, 9] }]))).toEqual(['INVALID_REPLICA_ASSIGNMENT']);

    // Reorder: the preferred replica changes at once, the leadership stays where it is.
    expect(codes(await controller.alterPartitionReassignments([{ topic: 'kept', partition: 0, replicas: [2, 1] }]))).toEqual([null]);
    const reordered = await topicWhen(w, 'kept', (v) => v.partitions[0]![0] === 2, 'reordered');
    expect(reordered.reassignments).toBeUndefined();
    expect(summary(reordered)[0]).toEqual([1, 0, [1, 2]]);

    // In flight (broker 3 never catches up here), then cancelled: back to the original replicas.
    expect(codes(await controller.alterPartitionReassignments([{ topic: 'kept', partition: 1, replicas: [3, 1] }]))).toEqual([null]);
    const moving = await topicWhen(w, 'kept', (v) => v.reassignments !== undefined, 'in flight');
    expect(moving.partitions[1]).toEqual([3, 1, 2]);
    expect(codeOf(await w.observer.addPartitions('kept', [[1, 2]]).catch((e: unknown) => e))).toBe('REASSIGNMENT_IN_PROGRESS');
    // A second target keeps the original replicas: [2, 1] then [3, 2] adds 3 and removes 1.
    expect(codes(await controller.alterPartitionReassignments([{ topic: 'kept', partition: 1, replicas: [3, 2] }]))).toEqual([null]);
    const retargeted = await topicWhen(w, 'kept', (v) => v.reassignments?.['1']?.removing[0] === 1, 'retargeted');
    expect(retargeted.partitions[1]).toEqual([3, 2, 1]);
    expect(retargeted.reassignments).toEqual({ '1': { adding: [3], removing: [1] } });

    expect(codes(await controller.alterPartitionReassignments([{ topic: 'kept', partition: 1, replicas: null }]))).toEqual([null]);
    const cancelled = await topicWhen(w, 'kept', (v) => v.reassignments === undefined, 'cancelled');
    expect(cancelled.partitions[1]).toEqual([2, 1]);
    expect(summary(cancelled)[1]).toEqual([2, 0, [2, 1]]);

    // Only the active controller answers.
    const standby = w.controllers.get(2)!;
    expect(codeOf(await standby.alterPartitionReassignments([{ topic: 'kept', partition: 0, replicas: [1, 2] }]).catch((e: unknown) => e))).toBe('NOT_CONTROLLER');
    expect(codeOf((() => { try { return standby.listPartitionReassignments(null); } catch (e) { return e; } })())).toBe('NOT_CONTROLLER');
  });
});
