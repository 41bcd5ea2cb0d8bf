// A real etcd as child processes: started on free loopback ports, healthy, stopped; a clear error
// when the binary is missing.
import fs from 'node:fs';

import { describe, expect, it } from 'vitest';

import { EtcdClient } from '../../src/cluster/etcd-client.js';
import { findExecutable, startEtcd } from '../../src/cluster/etcd-process.js';
import { isSluiceError } from '../../src/errors.js';
import { clientFor, etcdForTests } from './helpers.js';

describe('etcd process', () => {
  it('fails with ETCD_NOT_INSTALLED saying how to install etcd when the binary is missing', async () => {
    const error = await startEtcd({ binary: 'etcd-not-installed-here' }).catch((e: unknown) => e);
    expect(isSluiceError(error, 'ETCD_NOT_INSTALLED')).toBe(true);
    expect((error as Error).message).toContain('apt-get install etcd-server');
    const savedPath = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      expect(findExecutable('etcd')).toBeUndefined();
      const onEmptyPath = await startEtcd().catch((e: unknown) => e);
      expect(isSluiceError(onEmptyPath, 'ETCD_NOT_INSTALLED')).toBe(true);
    } finally {
      process.env['PATH'] = savedPath;
    }
  });

  it('starts one member that answers, in a temp dir that stop() removes', async () => {
    const etcd = await etcdForTests();
    expect(etcd.endpoints).toHaveLength(1);
    expect(etcd.endpoints[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = clientFor(etcd);
    await client.etcd.put('hello').value('world');
    expect(await client.etcd.get('hello').string()).toBe('world');
    expect(await etcd.leaderName()).toBe('m1');
    await client.close();
    const dir = etcd.dataDir;
    expect(fs.existsSync(dir)).toBe(true);
    await etcd.stop();
    expect(fs.existsSync(dir)).toBe(false);
    expect(etcd.members[0]!.pid).toBeDefined();
  });

  it('starts three members with one leader, and restarts a killed member with its data', async () => {
    const etcd = await etcdForTests({ members: 3 });
    expect(etcd.endpoints).toHaveLength(3);
    expect(new Set(etcd.endpoints).size).toBe(3);
    const client = clientFor(etcd);
    await client.etcd.put('kept').value('yes');
    const leader = await etcd.leaderName();
    const victim = etcd.members.find((member) => member.name !== leader)!.name;
    await etcd.killMember(victim);
    await etcd.restartMember(victim);
    // Read from the restarted member alone: it rejoined with its data.
    const only = new EtcdClient({ endpoints: [etcd.member(victim).clientUrl] });
    try {
      expect(await only.etcd.get('kept').string()).toBe('yes');
    } finally {
      await only.close();
    }
  });
});
