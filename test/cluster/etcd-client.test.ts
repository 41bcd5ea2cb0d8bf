// The shared etcd client: endpoints as configured, typed errors, and a close that leaves nothing
// running (a process that closes its cluster objects ends by itself).
import { beforeAll, describe, expect, it } from 'vitest';

import { EtcdClient, parseEndpoints } from '../../src/cluster/etcd-client.js';
import type { EtcdCluster } from '../../src/cluster/etcd-process.js';
import { MetadataStore } from '../../src/cluster/metadata-store.js';
import { isSluiceError } from '../../src/errors.js';
import { clientFor, etcdForTests, freshRoot, startMember, waitUntil } from './helpers.js';

let etcd: EtcdCluster;

beforeAll(async () => {
  etcd = await etcdForTests();
});

describe('etcd client', () => {
  it('reads sluice.etcd.endpoints as a comma-separated list of client URLs', () => {
    expect(parseEndpoints('http://127.0.0.1:2379, http://127.0.0.2:2379')).toEqual(['http://127.0.0.1:2379', 'http://127.0.0.2:2379']);
    for (const bad of ['', '127.0.0.1:2379', 'http://host:2379/path', 'ftp://host:1']) {
      let error: unknown;
      try {
        parseEndpoints(bad);
      } catch (e) {
        error = e;
      }
      expect(isSluiceError(error, 'INVALID_CONFIG')).toBe(true);
    }
  });

  it('answers ENGINE_CLOSED for calls after close, and closes twice harmlessly', async () => {
    const client = new EtcdClient({ endpoints: etcd.endpoints });
    const store = new MetadataStore(client, { root: freshRoot() });
    expect(await store.liveBrokers()).toEqual([]);
    await client.close();
    await client.close();
    const error = await store.liveBrokers().catch((e: unknown) => e);
    expect(isSluiceError(error, 'ENGINE_CLOSED')).toBe(true);
  });

  it('answers ETCD_UNAVAILABLE once its retry window has passed with no etcd to answer', async () => {
    const client = new EtcdClient({ endpoints: 'http://127.0.0.1:1', retryForMs: 300, callTimeoutMs: 200 });
    try {
      const error = await new MetadataStore(client).liveBrokers().catch((e: unknown) => e);
      expect(isSluiceError(error, 'ETCD_UNAVAILABLE')).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('closes cleanly: a process that registered, watched and was controller ends by itself, and its registration goes at once', async () => {
    const root = freshRoot();
    const store = new MetadataStore(clientFor(etcd), { root });
    const watch = await store.watchBrokers();
    // A long session: if its lease were left to expire, the registration would linger 30 s.
    const member = startMember(etcd, root, 1, 30_000);
    await member.waitFor('controller 1');
    await waitUntil(() => watch.live.has(1), 'the registration');
    member.send('close');
    await member.waitFor('closed');
    expect(await member.exited).toBe(0);
    await waitUntil(() => !watch.live.has(1), 'the registration to go');
    expect(await store.readController()).toBeUndefined();
    await watch.close();
  });
});
