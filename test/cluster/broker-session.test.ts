// Broker registration on an etcd lease: live brokers join and leave, an expired lease removes the
// broker, and one id has one live registration.
import { beforeAll, describe, expect, it } from 'vitest';

import type { EtcdCluster } from '../../src/cluster/etcd-process.js';
import { MetadataStore, type LiveBroker } from '../../src/cluster/metadata-store.js';
import { isSluiceError, type SluiceError } from '../../src/errors.js';
import { clientFor, etcdForTests, freshRoot, startMember, waitUntil } from './helpers.js';

let etcd: EtcdCluster;

beforeAll(async () => {
  etcd = await etcdForTests();
});

function newStore(root = freshRoot()): MetadataStore {
  return new MetadataStore(clientFor(etcd), { root });
}

const broker = (brokerId: number, rack: string | null = null) => ({ brokerId, host: `127.0.0.${brokerId + 1}`, port: 9092, rack });

describe('broker registration', () => {
  it('registers host, port and rack on a lease; watchers see it join, and leave when the session closes', async () => {
    const store = newStore();
    const joined: LiveBroker[] = [];
    const left: number[] = [];
    const watch = await store.watchBrokers({ join: (b) => joined.push(b), leave: (b) => left.push(b.brokerId) });
    const session = await store.registerBroker(broker(1, 'rack-a'), { sessionTimeoutMs: 4000 });
    await waitUntil(() => joined.length === 1, 'the join event');
    expect(joined[0]).toEqual({ ...broker(1, 'rack-a'), brokerEpoch: session.brokerEpoch, leaseId: session.leaseId });
    expect(watch.live.get(1)?.host).toBe('127.0.0.2');
    expect(await store.liveBrokers()).toEqual([joined[0]]);
    await session.close();
    await waitUntil(() => left.includes(1), 'the leave event');
    expect(watch.live.size).toBe(0);
    expect(await store.liveBrokers()).toEqual([]);
    await watch.close();
  });

  it('gives the initial live brokers to a new watch and a new broker epoch to each registration', async () => {
    const store = newStore();
    const first = await store.registerBroker(broker(1), { sessionTimeoutMs: 4000 });
    const second = await store.registerBroker(broker(2), { sessionTimeoutMs: 4000 });
    const watch = await store.watchBrokers();
    expect([...watch.live.keys()].sort()).toEqual([1, 2]);
    await first.close();
    const again = await store.registerBroker(broker(1), { sessionTimeoutMs: 4000 });
    expect(again.brokerEpoch).toBeGreaterThan(first.brokerEpoch);
    await waitUntil(() => watch.live.get(1)?.brokerEpoch === again.brokerEpoch, 'the new registration');
    await Promise.all([again.close(), second.close(), watch.close()]);
  });

  it('uses the TTL etcd applies: a 1 s session is raised to 2 s with a 1000 ms election timeout', async () => {
    const session = await newStore().registerBroker(broker(1), { sessionTimeoutMs: 1000 });
    await waitUntil(() => session.ttlMs === 2000, 'the TTL from the keepalive answer');
    expect(session.validUntilMs).toBeGreaterThan(Date.now());
    await session.close();
  });

  it('refuses a second live registration of one id with DUPLICATE_BROKER_REGISTRATION, and admits it once the first is gone', async () => {
    const store = newStore();
    const first = await store.registerBroker(broker(3), { sessionTimeoutMs: 4000 });
    const refused = await store.registerBroker(broker(3), { sessionTimeoutMs: 4000, registrationWaitMs: 300 }).catch((e: unknown) => e);
    expect(isSluiceError(refused, 'DUPLICATE_BROKER_REGISTRATION')).toBe(true);
    const waiting = store.registerBroker(broker(3), { sessionTimeoutMs: 4000, registrationWaitMs: 30_000 });
    await first.close();
    const second = await waiting;
    expect((await store.liveBrokers()).map((b) => b.leaseId)).toEqual([second.leaseId]);
    await second.close();
  });

  it("takes the id at once from its own previous incarnation's lease (replaceLeaseId), which loses its session", async () => {
    const store = newStore();
    const old = await store.registerBroker(broker(4), { sessionTimeoutMs: 8000 });
    const lost: SluiceError[] = [];
    old.on('lost', (error) => lost.push(error));
    const fresh = await store.registerBroker(broker(4), { sessionTimeoutMs: 8000, replaceLeaseId: old.leaseId, registrationWaitMs: 0 });
    expect((await store.liveBrokers()).map((b) => b.leaseId)).toEqual([fresh.leaseId]);
    await waitUntil(() => lost.length === 1, "the old session's loss");
    expect(lost[0]!.code).toBe('SESSION_EXPIRED');
    expect(old.isLive).toBe(false);
    await fresh.close();
  });

  it('loses the session (SESSION_EXPIRED) and the registration when its lease is revoked behind its back', async () => {
    const root = freshRoot();
    const store = newStore(root);
    const session = await store.registerBroker(broker(5), { sessionTimeoutMs: 8000 });
    const lost: SluiceError[] = [];
    session.on('lost', (error) => lost.push(error));
    const other = newStore(root);
    const watch = await other.watchBrokers();
    expect(watch.live.has(5)).toBe(true);
    await other.client.etcd.leaseClient.leaseRevoke({ ID: session.leaseId });
    await waitUntil(() => !watch.live.has(5), 'the leave seen by another client');
    await waitUntil(() => lost.length === 1, 'the lost event');
    expect(lost[0]!.code).toBe('SESSION_EXPIRED');
    await watch.close();
  });

  it("drops a broker whose process was SIGKILLed within its lease TTL (+1 s for etcd's expiry check)", async () => {
    const root = freshRoot();
    const store = newStore(root);
    const watch = await store.watchBrokers();
    const member = startMember(etcd, root, 7, 2000);
    await member.waitFor('registered');
    await waitUntil(() => watch.live.has(7), 'the registration');
    let goneAt = 0;
    const gone = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (!watch.live.has(7)) {
          goneAt = Date.now();
          clearInterval(poll);
          resolve();
        }
      }, 10);
    });
    const killedAt = Date.now();
    member.process.kill('SIGKILL');
    await gone;
    expect(goneAt - killedAt).toBeLessThanOrEqual(2000 + 1000);
    await watch.close();
  });

  it('refuses registrations that are not valid with INVALID_CONFIG', async () => {
    const store = newStore();
    for (const bad of [{ ...broker(1), brokerId: -1 }, { ...broker(1), port: 0 }, { ...broker(1), host: '' }, { ...broker(1), rack: '' }]) {
      const error = await store.registerBroker(bad).catch((e: unknown) => e);
      expect(isSluiceError(error, 'INVALID_CONFIG')).toBe(true);
    }
  });
});
