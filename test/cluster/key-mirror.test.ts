// A watched copy of an etcd prefix: every change once and in order, across a broken watch stream,
// and the net difference when the history it needed was compacted away.
import { describe, expect, it } from 'vitest';

import { EtcdClient } from '../../src/cluster/etcd-client.js';
import { KeyMirror, type KeyChange } from '../../src/cluster/key-mirror.js';
import { readPrefix } from '../../src/cluster/kv.js';
import { clientFor, etcdForTests, waitUntil } from './helpers.js';

const describeChange = (change: KeyChange) => (change.type === 'put' ? `put ${change.record.key}=${change.record.value.toString()}` : `delete ${change.key}`);

async function contents(client: EtcdClient, prefix: string): Promise<Record<string, string>> {
  const { records } = await readPrefix(client, prefix);
  return Object.fromEntries(records.map((r) => [r.key, r.value.toString()]));
}

function mirrorContents(mirror: KeyMirror): Record<string, string> {
  return Object.fromEntries([...mirror.records.values()].map((r) => [r.key, r.value.toString()]));
}

describe('KeyMirror', () => {
  it('starts from a snapshot and then delivers each change once, in order, leaving other prefixes out', async () => {
    const etcd = await etcdForTests();
    const client = clientFor(etcd);
    await client.etcd.put('/m/a').value('0');
    await client.etcd.put('/m/b').value('0');
    const changes: string[] = [];
    let snapshot: string[] = [];
    const mirror = await KeyMirror.start(client, { prefix: '/m/' }, {
      snapshot: (records) => (snapshot = [...records.keys()]),
      change: (change) => changes.push(describeChange(change)),
    });
    expect(snapshot).toEqual(['/m/a', '/m/b']);
    // The changes etcd makes: deleting an absent key writes nothing, so it has no event.
    const present = new Set(['/m/a', '/m/b']);
    const expected: string[] = [];
    for (let i = 1; i <= 100; i++) {
      const key = `/m/${'abc'[i % 3]}`;
      if (i % 7 === 0) {
        await client.etcd.delete().key(key);
        if (present.delete(key)) expected.push(`delete ${key}`);
      } else {
        await client.etcd.put(key).value(String(i));
        present.add(key);
        expected.push(`put ${key}=${i}`);
      }
      await client.etcd.put(`/other/${i}`).value('x');
    }
    await waitUntil(() => changes.length >= expected.length, 'every change');
    expect(changes).toEqual(expected);
    expect(mirrorContents(mirror)).toEqual(await contents(client, '/m/'));
    await mirror.close();
  });

  it('resumes after its etcd member was down, missing nothing and repeating nothing', async () => {
    const etcd = await etcdForTests({ members: 3 });
    const writer = clientFor(etcd);
    const leader = await etcd.leaderName();
    const watched = etcd.members.find((m) => m.name !== leader)!;
    const reader = clientFor(etcd, { endpoints: [watched.clientUrl] });
    const changes: string[] = [];
    const mirror = await KeyMirror.start(reader, { prefix: '/r/' }, { change: (change) => changes.push(describeChange(change)) });
    await writer.etcd.put('/r/before').value('1');
    await waitUntil(() => changes.length === 1, 'the first change');

    await etcd.killMember(watched.name);
    const expected = ['put /r/before=1'];
    for (let i = 0; i < 20; i++) {
      await writer.etcd.put(`/r/k${i % 4}`).value(String(i));
      expected.push(`put /r/k${i % 4}=${i}`);
    }
    await writer.etcd.delete().key('/r/before');
    expected.push('delete /r/before');
    await etcd.restartMember(watched.name);
    await waitUntil(() => changes.length >= expected.length, 'the changes made while it was down');
    expect(changes).toEqual(expected);
    expect(mirrorContents(mirror)).toEqual(await contents(writer, '/r/'));
    await mirror.close();
  });

  it('reads again and delivers the difference when the revisions it needs were compacted', async () => {
    const etcd = await etcdForTests({ members: 3 });
    const writer = clientFor(etcd);
    const leader = await etcd.leaderName();
    const watched = etcd.members.find((m) => m.name !== leader)!;
    const reader = clientFor(etcd, { endpoints: [watched.clientUrl] });
    await writer.etcd.put('/c/gone').value('1');
    await writer.etcd.put('/c/kept').value('1');
    const changes: string[] = [];
    const mirror = await KeyMirror.start(reader, { prefix: '/c/' }, { change: (change) => changes.push(describeChange(change)) });

    await etcd.killMember(watched.name);
    await writer.etcd.delete().key('/c/gone');
    await writer.etcd.put('/c/kept').value('2');
    await writer.etcd.put('/c/kept').value('3');
    await writer.etcd.put('/c/new').value('1');
    const { header } = await writer.etcd.kv.range({ key: Buffer.from('/c/') });
    await writer.etcd.kv.compact({ revision: header.revision, physical: true });
    await etcd.restartMember(watched.name);

    await waitUntil(() => changes.length >= 3, 'the difference');
    expect(changes.sort()).toEqual(['delete /c/gone', 'put /c/kept=3', 'put /c/new=1']);
    expect(mirrorContents(mirror)).toEqual(await contents(writer, '/c/'));
    // And it watches again afterwards.
    await writer.etcd.put('/c/after').value('1');
    await waitUntil(() => changes.includes('put /c/after=1'), 'a change after the resync');
    await mirror.close();
  });
});
