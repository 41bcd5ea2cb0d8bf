// Controller election through etcd: one controller at a time, a new one within the lease TTL of
// the old one's death with a higher epoch, and a deposed controller's writes refused.
import { beforeAll, describe, expect, it } from 'vitest';

import type { ControllerFence, ControllerInfo } from '../../src/cluster/controller-election.js';
import type { EtcdCluster } from '../../src/cluster/etcd-process.js';
import { MetadataStore } from '../../src/cluster/metadata-store.js';
import { isSluiceError } from '../../src/errors.js';
import type { Child } from '../fixtures/child.js';
import { clientFor, etcdForTests, freshRoot, startMember, waitUntil } from './helpers.js';

let etcd: EtcdCluster;

beforeAll(async () => {
  etcd = await etcdForTests();
});

const broker = (brokerId: number) => ({ brokerId, host: '127.0.0.1', port: 9000 + brokerId, rack: null });

/** Stores on separate clients (separate gRPC channels), as separate brokers would have. */
function stores(count: number): MetadataStore[] {
  const root = freshRoot();
  return Array.from({ length: count }, () => new MetadataStore(clientFor(etcd), { root }));
}

function topicSpec(name: string, fence: ControllerFence) {
  return { name, partitions: [[fence.brokerId]], states: [{ leader: fence.brokerId, leaderEpoch: 0, isr: [fence.brokerId], controllerEpoch: fence.epoch }] };
}

describe('controller election', () => {
  it('elects exactly one of brokers campaigning at once, and bumps the epoch in the same transaction', async () => {
    const [a, b, c] = stores(3);
    const sessions = await Promise.all([a!, b!, c!].map((store, i) => store.registerBroker(broker(i + 1), { sessionTimeoutMs: 4000 })));
    expect(await a!.readControllerEpoch()).toBe(0);
    const fences = await Promise.all([a!, b!, c!].map((store, i) => store.campaign(sessions[i]!)));
    const winners = fences.filter((fence): fence is ControllerFence => fence !== undefined);
    expect(winners).toHaveLength(1);
    const winner = winners[0]!;
    expect(winner.epoch).toBe(1);
    expect(await a!.readControllerEpoch()).toBe(1);
    expect(await b!.readController()).toEqual({ brokerId: winner.brokerId, epoch: 1, leaseId: sessions[winner.brokerId - 1]!.leaseId, createRevision: winner.controllerCreateRevision });
    // Campaigning again as the holder returns the same reign.
    expect(await [a!, b!, c!][winner.brokerId - 1]!.campaign(sessions[winner.brokerId - 1]!)).toEqual(winner);
    await Promise.all(sessions.map((session) => session.close()));
  });

  it("refuses a deposed controller's writes with NOT_CONTROLLER, from the moment its key is gone and after a successor is elected", async () => {
    const [a, b] = stores(2);
    const sessionA = await a!.registerBroker(broker(1), { sessionTimeoutMs: 4000 });
    const sessionB = await b!.registerBroker(broker(2), { sessionTimeoutMs: 4000 });
    const fenceA = (await a!.campaign(sessionA))!;
    expect(fenceA).toBeDefined();
    expect(await b!.campaign(sessionB)).toBeUndefined();
    await a!.createTopic(fenceA, topicSpec('by-a', fenceA));

    await sessionA.close(); // its lease, and so its controller key, are gone
    const orphan = await a!.createTopic(fenceA, topicSpec('orphan', fenceA)).catch((e: unknown) => e);
    expect(isSluiceError(orphan, 'NOT_CONTROLLER')).toBe(true);

    const fenceB = (await b!.campaign(sessionB))!;
    expect(fenceB.epoch).toBe(fenceA.epoch + 1);
    const zombie = await a!.createTopic(fenceA, topicSpec('zombie', fenceA)).catch((e: unknown) => e);
    expect(isSluiceError(zombie, 'NOT_CONTROLLER')).toBe(true);
    expect((zombie as Error).message).toContain(`broker 2 is controller with epoch ${fenceB.epoch}`);
    await b!.createTopic(fenceB, topicSpec('by-b', fenceB));
    expect([...(await b!.listTopics()).keys()].sort()).toEqual(['by-a', 'by-b']);
    await sessionB.close();
  });

  it('hands over on resign: the watching broker campaigns and wins with the next epoch', async () => {
    const [a, b] = stores(2);
    const sessionA = await a!.registerBroker(broker(1), { sessionTimeoutMs: 4000 });
    const sessionB = await b!.registerBroker(broker(2), { sessionTimeoutMs: 4000 });
    const elected: ControllerFence[] = [];
    const deposed: ControllerFence[] = [];
    const seenByB: (ControllerInfo | undefined)[] = [];
    const electionA = await a!.startElection(sessionA, { elected: (f) => elected.push(f), deposed: (f) => deposed.push(f) });
    await waitUntil(() => electionA.isController, 'broker 1 to win the empty seat');
    const electionB = await b!.startElection(sessionB, { elected: (f) => elected.push(f), changed: (c) => seenByB.push(c) });
    expect(electionB.controller?.brokerId).toBe(1);
    expect(electionB.isController).toBe(false);

    await electionA.resign();
    await waitUntil(() => electionB.isController, 'broker 2 to take over');
    expect(elected.map((f) => [f.brokerId, f.epoch])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(deposed.map((f) => f.brokerId)).toEqual([1]);
    expect(seenByB.some((c) => c === undefined)).toBe(true);
    expect(electionB.controller).toMatchObject({ brokerId: 2, epoch: 2 });
    await electionB.stop();
    await Promise.all([sessionA.close(), sessionB.close()]);
  });

  describe('brokers in their own processes', () => {
    const sessionTimeoutMs = 2000;

    async function startThree(root: string): Promise<Map<number, Child>> {
      const members = new Map([1, 2, 3].map((id) => [id, startMember(etcd, root, id, sessionTimeoutMs)]));
      await Promise.all([...members.values()].map((member) => member.waitFor('registered')));
      return members;
    }

    it('elects another controller within the lease TTL + 1 s after the holder is SIGKILLed, with a higher epoch', async () => {
      const root = freshRoot();
      const store = new MetadataStore(clientFor(etcd), { root });
      let controller: ControllerInfo | undefined;
      const changes: { at: number; controller: ControllerInfo | undefined }[] = [];
      const watch = await store.watchController((c) => {
        controller = c;
        changes.push({ at: Date.now(), controller: c });
      });
      const members = await startThree(root);
      await waitUntil(() => controller !== undefined, 'a first controller');
      const first = controller!;
      await members.get(first.brokerId)!.waitFor('controller ');

      const killedAt = Date.now();
      members.get(first.brokerId)!.process.kill('SIGKILL');
      await waitUntil(() => controller !== undefined && controller.brokerId !== first.brokerId, 'a new controller');
      const next = changes.find((change) => change.controller !== undefined && change.controller.brokerId !== first.brokerId)!;
      expect(next.at - killedAt).toBeLessThanOrEqual(sessionTimeoutMs + 1000);
      expect(next.controller!.epoch).toBeGreaterThan(first.epoch);
      expect(await store.readControllerEpoch()).toBe(next.controller!.epoch);
      expect(await members.get(next.controller!.brokerId)!.waitFor(`controller ${next.controller!.epoch}`)).toBeDefined();
      await watch.close();
    });

    it('refuses the writes of a controller that hung past its lease (SIGSTOP) once it runs again', async () => {
      const root = freshRoot();
      const store = new MetadataStore(clientFor(etcd), { root });
      const members = await startThree(root);
      await waitUntil(async () => (await store.readController()) !== undefined, 'a first controller');
      const first = (await store.readController())!;
      const zombie = members.get(first.brokerId)!;
      await zombie.waitFor('controller ');
      expect(await zombie.ask('write before-hang', 'write ')).toBe('write ok');

      zombie.process.kill('SIGSTOP');
      await waitUntil(async () => ((await store.readController())?.brokerId ?? first.brokerId) !== first.brokerId, 'a successor');
      const successor = (await store.readController())!;
      zombie.process.kill('SIGCONT');
      expect(await zombie.ask('write after-hang', 'write ')).toBe('write error NOT_CONTROLLER');
      const heir = members.get(successor.brokerId)!;
      await heir.waitFor(`controller ${successor.epoch}`);
      expect(await heir.ask('write by-successor', 'write ')).toBe('write ok');
      expect([...(await store.listTopics()).keys()].sort()).toEqual(['before-hang', 'by-successor']);
      await zombie.waitFor('lost SESSION_EXPIRED');
    });
  });
});
