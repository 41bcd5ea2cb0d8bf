// Replication quotas (src/broker/replication-quotas.ts): which replicas a topic's throttled lists
// name on a broker, the rates' configs, and when a side is over its limit (Kafka's Rate over the
// replication.quota.window.* windows). The brokers' use of them is tested on a real cluster in
// test/cluster/reassignment.test.ts and for a follower's fetcher in replica-fetcher.test.ts.
import { describe, expect, it } from 'vitest';

import { BrokerConfigLayers } from '../../src/broker/dynamic-config.js';
import { ReplicationQuota, createReplicationQuotas, listsReplica, replicationThrottledRates } from '../../src/broker/replication-quotas.js';
import { BROKER_DEFAULTS, reportBrokerConfig } from '../../src/broker/config.js';

describe('throttled replica lists', () => {
  it("name a partition's replica on a broker by partition:broker, or every replica with '*'", () => {
    expect(listsReplica(['0:1', '1:2'], 0, 1)).toBe(true);
    expect(listsReplica(['0:1', '1:2'], 1, 2)).toBe(true);
    expect(listsReplica(['0:1', '1:2'], 0, 2)).toBe(false);
    expect(listsReplica(['0:1', '1:2'], 1, 1)).toBe(false);
    expect(listsReplica(['*'], 7, 3)).toBe(true);
    expect(listsReplica([], 0, 1)).toBe(false);
  });
});

describe('throttled rates', () => {
  it("are bytes a second, Kafka's Long.MAX_VALUE (the default) is no limit, anything else is INVALID_CONFIG", () => {
    expect(replicationThrottledRates({})).toEqual({ leader: Infinity, follower: Infinity, alterLogDirs: Infinity });
    expect(
      replicationThrottledRates({ 'leader.replication.throttled.rate': '1000', 'follower.replication.throttled.rate': '9223372036854775807', 'replica.alter.log.dirs.io.max.bytes.per.second': '5000' }),
    ).toEqual({ leader: 1000, follower: Infinity, alterLogDirs: 5000 });
    expect(replicationThrottledRates({ 'follower.replication.throttled.rate': '0' }).follower).toBe(0);
    expect(() => replicationThrottledRates({ 'leader.replication.throttled.rate': '-1' })).toThrow(/leader.replication.throttled.rate/);
    expect(() => replicationThrottledRates({ 'follower.replication.throttled.rate': '1MB' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });

  it('change on a running broker, per broker or cluster-wide, and a bad value is refused with INVALID_REQUEST', () => {
    const layers = new BrokerConfigLayers({ ...BROKER_DEFAULTS }, 1);
    expect(() => layers.check('1', new Map([['1', { 'leader.replication.throttled.rate': '1048576' }]]))).not.toThrow();
    expect(() => layers.check('', new Map([['', { 'follower.replication.throttled.rate': '1048576' }]]))).not.toThrow();
    expect(() => layers.check('1', new Map([['1', { 'leader.replication.throttled.rate': 'fast' }]]))).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });

  it('take their windows from replication.quota.window.num and .size.seconds, which a broker reports as taking effect', () => {
    const report = reportBrokerConfig({ 'replication.quota.window.num': '2', 'replication.quota.window.size.seconds': '3' });
    expect(report.unsupported.map((u) => u.name)).toEqual([]);
    expect(report.unknown).toEqual([]);
  });
});

describe('a replication quota', () => {
  it('is over its limit once the bytes over the windows (at least all but one of them) pass it, and back under as they age out', () => {
    // Kafka's defaults: 11 windows of 1 s, so the rate is taken over at least 10 s.
    const quota = new ReplicationQuota({ windowCount: 11, windowMs: 1000 });
    quota.setLimit(1000);
    let nowMs = 1_000_000;
    quota.record(9_000, nowMs);
    expect(quota.exceeded(nowMs)).toBe(false); // 9,000 B over 10 s: 900 B/s
    quota.record(2_000, nowMs + 500);
    expect(quota.exceeded(nowMs + 500)).toBe(true); // 11,000 B over 10 s
    nowMs += 11_000; // the first window (and its 11,000 B) ages out
    expect(quota.exceeded(nowMs + 600)).toBe(false);
    expect(quota.stats.throttledBytes).toBe(11_000);
  });

  it('without a limit is never over it, but still counts what it is told', () => {
    const quotas = createReplicationQuotas({ windowCount: 11, windowMs: 1000 }, { 'leader.replication.throttled.rate': '500' });
    expect(quotas.leader.limit).toBe(500);
    expect(quotas.follower.limit).toBe(Infinity);
    quotas.follower.record(1e9, 0);
    expect(quotas.follower.exceeded(0)).toBe(false);
    expect(quotas.follower.stats.throttledBytes).toBe(1e9);
  });
});
