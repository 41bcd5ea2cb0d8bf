// The replica manager's roles from partition states, on a real engine with the fetchers stubbed:
// a broker named leader by a state older than its registration (a restart nobody saw as a leave)
// neither leads nor follows until the controller elects again, and its own registration showing
// in the brokers watch never makes it follow itself.
import { afterEach, describe, expect, it, vi } from 'vitest';

import type { ClusterSettings } from '../../src/broker/config.js';
import { ReplicaManager } from '../../src/broker/replica-manager.js';
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

async function managerOf(brokerId: number) {
  const engine = await Engine.open({ dataDir: tempDir() });
  await engine.createTopic('t', { partitions: 1, replicaOf: { id: '5d1b4f1e-2a33-4c55-8d77-0a1b2c3d4e5f', replicationFactor: 2 } });
  const follow = vi.fn();
  const fetchers = { follow, unfollow: vi.fn() } as unknown as ReplicaFetcherManager;
  const manager = new ReplicaManager({
    brokerId,
    engine,
    settings: { replicaLagTimeMaxMs: 30_000 } as ClusterSettings,
    fetchers,
    alterPartition: () => Promise.reject(new Error('no ISR change expected')),
    endpointOf: (id) => ({ brokerId: id, host: '127.0.0.1', port: 9000 + id }),
    onHighWatermark: () => {},
    log: new LogLimiter(capturingLogger('info').logger),
  });
  closers.push(() => engine.close(), () => manager.close());
  return { manager, follow };
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
