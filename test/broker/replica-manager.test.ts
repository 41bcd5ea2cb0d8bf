// The replica manager's roles from partition states, on a real engine with the fetchers stubbed:
// a broker named leader by a state older than its registration (a restart nobody saw as a leave)
// neither leads nor follows until the controller elects again, and its own registration showing
// in the brokers watch never makes it follow itself; where a leader sends a consumer in a rack
// (replica.selector.class, KIP-392), which replicas serve a consumer's fetch, and how broker.rack
// and replica.selector.class are read; which followers' fetches the leader's replication quota holds back.
import { afterEach, describe, expect, it, vi } from 'vitest';

import { reportBrokerConfig, resolveBrokerSettings, type ClusterSettings } from '../../src/broker/config.js';
import { ReplicaManager } from '../../src/broker/replica-manager.js';
import { ReplicationQuota } from '../../src/broker/replication-quotas.js';
import type { ReplicaFetcherManager } from '../../src/broker/replica-fetcher-manager.js';
import type { PartitionStateRecord } from '../../src/cluster/metadata-store.js';
import { Engine } from '../../src/engine/engine.js';
import { LogLimiter } from '../../src/logger.js';
import { capturingLogger } from '../fixtures/probes.js';
import { tempDir } from '../helpers.js';

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function managerOf(brokerId: number, replicaSelector: ClusterSettings['replicaSelector'] = 'leader') {
  const engine = await Engine.open({ dataDir: tempDir() });
  await engine.createTopic('t', { partitions: 1, replicaOf: { id: '5d1b4f1e-2a33-4c55-8d77-0a1b2c3d4e5f', replicationFactor: 2 } });
  const follow = vi.fn();
  const fetchers = { follow, unfollow: vi.fn() } as unknown as ReplicaFetcherManager;
  const manager = new ReplicaManager({
    brokerId,
    engine,
    settings: { replicaLagTimeMaxMs: 30_000, replicaSelector } as ClusterSettings,
    fetchers,
    alterPartition: () => Promise.reject(new Error('no ISR change expected')),
    endpointOf: (id) => ({ brokerId: id, host: '127.0.0.1', port: 9000 + id, rack: null }),
    onHighWatermark: () => {},
    log: new LogLimiter(capturingLogger('info').logger),
  });
  closers.push(() => engine.close(), () => manager.close());
  return { manager, follow, engine };
}

const state = (leader: number, leaderEpoch: number, partitionEpoch: number): PartitionStateRecord => ({ topic: 't', partition: 0, leader, leaderEpoch, isr: [2, 1], controllerEpoch: 1, partitionEpoch });

describe('ReplicaManager', () => {
  it('waits out a leadership of its previous incarnation and never follows itself when its own registration shows', async () => {
    const { manager, follow } = await managerOf(2);
    manager.applyState('t', 0, [2, 1], state(2, 0, 5)); // before this broker registered
    manager.registered(10); // its registration (revision 10) is newer than the state (5)
    manager.brokerJoined(2);
    expect(follow).not.toHaveBeenCalled();
    expect(() => manager.leaderLog('t', 0)).toThrow(/not the leader/);

    // The controller elects broker 1: broker 2 follows it.
    manager.applyState('t', 0, [2, 1], state(1, 1, 12));
    expect(follow).toHaveBeenCalledTimes(1);
    expect(follow.mock.calls[0]![0]).toMatchObject({ brokerId: 1 });
    manager.brokerJoined(2);
    expect(follow).toHaveBeenCalledTimes(1);
  });
});

describe('ReplicaManager.preferredReadReplica (RackAwareReplicaSelector)', () => {
  const RACKS: Record<number, string> = { 1: 'a', 2: 'b', 3: 'b', 4: 'c' };

  /** Broker 1 leading t-0 (replicas 1, 2, 3, 4; ISR 1, 2, 4), broker i in rack RACKS[i]. */
  async function leaderOf(replicaSelector: ClusterSettings['replicaSelector']) {
    const engine = await Engine.open({ dataDir: tempDir() });
    await engine.createTopic('t', { partitions: 1, replicaOf: { id: '5d1b4f1e-2a33-4c55-8d77-0a1b2c3d4e5f', replicationFactor: 4 } });
    const manager = new ReplicaManager({
      brokerId: 1,
      engine,
      settings: { replicaLagTimeMaxMs: 30_000, replicaSelector } as ClusterSettings,
      fetchers: { follow: vi.fn(), unfollow: vi.fn() } as unknown as ReplicaFetcherManager,
      alterPartition: () => new Promise(() => {}),
      endpointOf: (id) => ({ brokerId: id, host: '127.0.0.1', port: 9000 + id, rack: RACKS[id]! }),
      onHighWatermark: () => {},
      log: new LogLimiter(capturingLogger('info').logger),
    });
    closers.push(() => engine.close(), () => manager.close());
    manager.registered(1);
    manager.applyState('t', 0, [1, 2, 3, 4], { topic: 't', partition: 0, leader: 1, leaderEpoch: 1, isr: [1, 2, 4], controllerEpoch: 1, partitionEpoch: 5 });
    for (const follower of [2, 3, 4]) manager.recordFollowerFetch('t', 0, follower, 0);
    return manager;
  }

  it("sends a consumer to an in-sync replica in its rack, and keeps it on the leader in the leader's rack or without a rack", async () => {
    const manager = await leaderOf('rack-aware');
    expect(manager.preferredReadReplica('t', 0, 0, 'b')).toBe(2); // 3 is in rack b too, but not in the ISR
    expect(manager.preferredReadReplica('t', 0, 0, 'c')).toBe(4);
    expect(manager.preferredReadReplica('t', 0, 0, 'a')).toBe(-1); // the leader's rack
    expect(manager.preferredReadReplica('t', 0, 0, '')).toBe(-1);
    expect(manager.preferredReadReplica('t', 0, 0, 'z')).toBe(-1); // no replica there
    // A follower whose log does not reach the fetch offset cannot serve it.
    expect(manager.preferredReadReplica('t', 0, 5, 'b')).toBe(-1);
    expect(manager.preferredReadReplica('other', 0, 0, 'b')).toBe(-1);
  });

  it('sends nobody anywhere with replica.selector.class unset (LeaderSelector)', async () => {
    const manager = await leaderOf('leader');
    expect(manager.preferredReadReplica('t', 0, 0, 'b')).toBe(-1);
  });

  it('with replica.selector.class, a follower serves consumers (readableLog) up to its log end; without, only the leader does', async () => {
    for (const selector of ['rack-aware', 'leader'] as const) {
      const { manager, engine } = await managerOf(2, selector);
      manager.registered(1);
      manager.applyState('t', 0, [2, 1], state(1, 1, 5));
      expect(() => manager.leaderLog('t', 0)).toThrow(/not the leader/);
      if (selector === 'leader') {
        expect(() => manager.readableLog('t', 0, -1, 0)).toThrow(expect.objectContaining({ code: 'NOT_LEADER_OR_FOLLOWER' }));
        continue;
      }
      expect(manager.readableLog('t', 0, -1, 0)).toBe(engine.partitionLog('t', 0));
      expect(() => manager.readableLog('t', 0, 2, 0)).toThrow(/newer/);
      // Past the follower's log end: back to the leader (NOT_LEADER_OR_FOLLOWER, not OFFSET_OUT_OF_RANGE).
      expect(() => manager.readableLog('t', 0, -1, 1)).toThrow(expect.objectContaining({ code: 'NOT_LEADER_OR_FOLLOWER' }));
    }
  });
});

describe('ReplicaManager.leaderThrottle (leader.replication.throttled.rate)', () => {
  it('holds back an out-of-sync follower of a throttled partition once the rate is over, never one in the ISR, and counts both', async () => {
    const engine = await Engine.open({ dataDir: tempDir() });
    await engine.createTopic('t', { partitions: 1, replicaOf: { id: '5d1b4f1e-2a33-4c55-8d77-0a1b2c3d4e5f', replicationFactor: 3 } });
    // A minute a window: once over, the rate stays over for the whole test.
    const quota = new ReplicationQuota({ windowCount: 2, windowMs: 60_000 });
    const manager = new ReplicaManager({
      brokerId: 1,
      engine,
      settings: { replicaLagTimeMaxMs: 30_000, replicaSelector: 'leader' } as ClusterSettings,
      fetchers: { follow: vi.fn(), unfollow: vi.fn() } as unknown as ReplicaFetcherManager,
      leaderQuota: quota,
      alterPartition: () => new Promise(() => {}),
      endpointOf: (id) => ({ brokerId: id, host: '127.0.0.1', port: 9000 + id, rack: null }),
      onHighWatermark: () => {},
      log: new LogLimiter(capturingLogger('info').logger),
    });
    closers.push(() => engine.close(), () => manager.close());
    manager.registered(1);
    // Broker 1 leads; 2 is in the ISR, 3 (being added by a move) is not.
    manager.applyState('t', 0, [1, 2, 3], { topic: 't', partition: 0, leader: 1, leaderEpoch: 1, isr: [1, 2], controllerEpoch: 1, partitionEpoch: 5 });
    const log = engine.partitionLog('t', 0);

    expect(manager.leaderThrottle('t', 0, 3, log)).toBe('none'); // not listed
    await engine.alterTopicConfig('t', { 'leader.replication.throttled.replicas': '0:2' });
    expect(manager.leaderThrottle('t', 0, 3, log)).toBe('none'); // listed on broker 2, not on this leader
    await engine.alterTopicConfig('t', { 'leader.replication.throttled.replicas': '0:1' });
    expect(manager.leaderThrottle('t', 0, 3, log)).toBe('count'); // no limit yet

    quota.setLimit(1000);
    manager.countLeaderThrottled(500_000);
    expect(manager.leaderThrottle('t', 0, 3, log)).toBe('hold');
    expect(manager.leaderThrottle('t', 0, 2, log)).toBe('count'); // in the ISR: never held
    expect(quota.stats).toEqual({ throttledBytes: 500_000, heldPartitions: 1 });
    await engine.alterTopicConfig('t', { 'leader.replication.throttled.replicas': '*' });
    expect(manager.leaderThrottle('t', 0, 3, log)).toBe('hold');
    quota.setLimit(Infinity);
    expect(manager.leaderThrottle('t', 0, 3, log)).toBe('count');
  });
});

describe('broker.rack and replica.selector.class', () => {
  const CLUSTER = { 'sluice.etcd.endpoints': 'http://127.0.0.1:2379' };
  const RACK_AWARE = 'org.apache.kafka.common.replica.RackAwareReplicaSelector';

  it("take effect (none reported as unsupported), with Kafka's two selector classes", () => {
    const report = reportBrokerConfig({ ...CLUSTER, 'broker.rack': 'zone-1', 'replica.selector.class': RACK_AWARE });
    expect(report.unsupported).toEqual([]);
    expect(report.unknown).toEqual([]);
    expect(resolveBrokerSettings({ ...CLUSTER, 'broker.rack': ' zone-1 ' }).rack).toBe('zone-1');
    expect(resolveBrokerSettings(CLUSTER).rack).toBeNull();
    expect(resolveBrokerSettings(CLUSTER).cluster?.replicaSelector).toBe('leader');
    expect(resolveBrokerSettings({ ...CLUSTER, 'replica.selector.class': 'org.apache.kafka.common.replica.LeaderSelector' }).cluster?.replicaSelector).toBe('leader');
    expect(resolveBrokerSettings({ ...CLUSTER, 'replica.selector.class': RACK_AWARE }).cluster?.replicaSelector).toBe('rack-aware');
  });

  it('a selector class sluice does not implement is INVALID_CONFIG, naming the two it does', () => {
    for (const name of ['com.example.MySelector', 'toString']) {
      // In a cluster, and on a single broker, where it has no replicas to choose from.
      for (const where of [CLUSTER, {}]) {
        expect(() => resolveBrokerSettings({ ...where, 'replica.selector.class': name })).toThrow(
          expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining(RACK_AWARE) }),
        );
      }
    }
  });
});
