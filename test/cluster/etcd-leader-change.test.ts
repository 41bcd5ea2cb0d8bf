// Client calls, a broker session and watches keep working when the etcd Raft leader of a
// 3-member cluster is killed. etcd3's default fault handling failed every call for ~6 s here after
// such a change (a circuit breaker per host); ours retries across members for up to 5 s.
import { describe, expect, it } from 'vitest';

import { MetadataStore } from '../../src/cluster/metadata-store.js';
import { clientFor, etcdForTests, freshRoot, sleep, waitUntil } from './helpers.js';

describe('etcd leader change', () => {
  it('keeps calls, the session, the controller and watches working when the etcd leader is SIGKILLed', async () => {
    const etcd = await etcdForTests({ members: 3 });
    const root = freshRoot();
    const store = new MetadataStore(clientFor(etcd), { root });
    const observer = new MetadataStore(clientFor(etcd), { root });
    const session = await store.registerBroker({ brokerId: 1, host: '127.0.0.1', port: 9001, rack: null }); // default 9 s session
    const lost: unknown[] = [];
    session.on('lost', (error) => lost.push(error));
    const election = await store.startElection(session);
    await waitUntil(() => election.isController, 'broker 1 to be controller');
    const fence = election.fence!;
    const joined: number[] = [];
    const watch = await observer.watchBrokers({ join: (b) => joined.push(b.brokerId) });

    // Calls back to back, before, during and after the change: each must succeed.
    const outcomes: { ok: boolean; error?: unknown; latencyMs: number }[] = [];
    let running = true;
    const loop = (async () => {
      for (let i = 0; running; i++) {
        const started = Date.now();
        try {
          await store.createTopic(fence, { name: `t${i}`, partitions: [[1]], states: [{ leader: 1, leaderEpoch: 0, isr: [1], controllerEpoch: fence.epoch }] });
          await observer.readTopic(`t${i}`);
          outcomes.push({ ok: true, latencyMs: Date.now() - started });
        } catch (error) {
          outcomes.push({ ok: false, error, latencyMs: Date.now() - started });
        }
        await sleep(10);
      }
    })();

    await waitUntil(() => outcomes.length >= 5, 'calls before the change');
    const oldLeader = await etcd.leaderName();
    await etcd.killMember(oldLeader);
    const killedAtCall = outcomes.length;
    let newLeader = oldLeader;
    await waitUntil(async () => {
      newLeader = await etcd.leaderName().catch(() => oldLeader);
      return newLeader !== oldLeader;
    }, 'a new etcd leader');
    const electedAtCall = outcomes.length;
    await waitUntil(() => outcomes.length >= electedAtCall + 20, 'calls after the change');
    running = false;
    await loop;

    const failures = outcomes.filter((o) => !o.ok);
    expect(failures.map((f) => String(f.error))).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(killedAtCall);
    // The session survived (etcd extends leases on a leader change) and so did the reign.
    expect(lost).toEqual([]);
    expect(session.isLive).toBe(true);
    expect((await observer.liveBrokers()).map((b) => b.brokerId)).toEqual([1]);
    expect(election.isController).toBe(true);
    expect((await observer.readController())?.epoch).toBe(fence.epoch);
    // The watch, opened before the change, still delivers.
    const second = await observer.registerBroker({ brokerId: 2, host: '127.0.0.1', port: 9002, rack: null });
    await waitUntil(() => joined.includes(2), 'a join seen by the watch opened before the change');
    expect([...watch.live.keys()].sort()).toEqual([1, 2]);
    await Promise.all([second.close(), election.stop(), watch.close()]);
    await session.close();
  });
});
