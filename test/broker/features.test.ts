// Feature flags (KIP-584, broker/features.ts): ApiVersions v3 reports group.version, supported 0-1
// and finalized at 1; @platformatic/kafka's UpdateFeatures v1 and `sluice features` (kafka-features)
// change it under Kafka's rules; at level 0 the consumer group protocol's heartbeat
// (@platformatic/kafka's ConsumerGroupHeartbeat v0) is refused with UNSUPPORTED_VERSION, and served
// again after an upgrade; the level survives a restart. group.coordinator.rebalance.protocols
// without consumer turns the protocol off the same way; streams and share are reported, not served.
import { Connection, consumerGroupHeartbeatV0, updateFeaturesV1 } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { reportBrokerConfig } from '../../src/broker/config.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { KafkaErrorCode } from '../../src/errors.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import type { ApiVersionsResponseBody } from '../../src/protocol/index.js';
import { runCli } from '../cli/run-cli.js';
import { responseOf } from '../fixtures/platformatic.js';
import { tempDir } from '../helpers.js';

const UPGRADE = 1;
const SAFE_DOWNGRADE = 2;

let dataDir: string;
let broker: Broker;
let connection: Connection;

beforeAll(async () => {
  dataDir = tempDir();
  broker = await startBroker({ port: 0, dataDir });
  connection = new Connection('features-test');
  await connection.connect('127.0.0.1', broker.port);
});

afterAll(async () => {
  await connection?.close();
  await broker?.stop();
});

async function apiVersions(): Promise<ApiVersionsResponseBody> {
  const ours = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port });
  try {
    return await ours.request<ApiVersionsResponseBody>(ApiKey.ApiVersions, { clientSoftwareName: 'test', clientSoftwareVersion: '1' }, 3);
  } finally {
    ours.close();
  }
}

const heartbeat = () => responseOf(consumerGroupHeartbeatV0.api.async(connection, 'features-group', '', 0, null, null, 30_000, ['t'], null, null, []));
const update = (feature: string, level: number, upgradeType: number, validateOnly = false) =>
  responseOf(updateFeaturesV1.api.async(connection, 30_000, [{ feature, maxVersionLevel: level, upgradeType }], validateOnly));
const cli = (...args: string[]) => runCli(['features', '--bootstrap-server', `127.0.0.1:${broker.port}`, ...args]);

describe('feature flags', () => {
  it('ApiVersions reports group.version supported 0-1 and finalized at 1; `sluice features describe` prints it', async () => {
    const versions = await apiVersions();
    expect(versions.supportedFeatures).toEqual([{ name: 'group.version', minVersion: 0, maxVersion: 1 }]);
    expect(versions.finalizedFeatures).toEqual([{ name: 'group.version', maxVersionLevel: 1, minVersionLevel: 1 }]);
    expect(versions.finalizedFeaturesEpoch).toBe(0);
    const described = await cli('describe');
    expect(described).toMatchObject({ code: 0, stdout: 'Feature: group.version\tSupportedMinVersion: 0\tSupportedMaxVersion: 1\tFinalizedVersionLevel: 1\tEpoch: 0\n' });
  });

  it('UpdateFeatures applies Kafka\'s rules; group.version 0 refuses ConsumerGroupHeartbeat, and 1 serves it again', async () => {
    expect((await heartbeat()).errorCode).toBe(KafkaErrorCode.NONE);
    const refused = await update('group.version', 0, UPGRADE);
    expect(refused.results).toEqual([{ feature: 'group.version', errorCode: KafkaErrorCode.INVALID_UPDATE_VERSION, errorMessage: expect.stringMatching(/Can't downgrade the version of this feature without setting the upgrade type/) }]);
    expect((await update('group.version', 2, UPGRADE)).results[0]).toMatchObject({ errorCode: KafkaErrorCode.INVALID_UPDATE_VERSION, errorMessage: expect.stringMatching(/only supports versions 0-1/) });
    expect((await update('metadata.version', 25, UPGRADE)).results[0]).toMatchObject({ errorCode: KafkaErrorCode.INVALID_UPDATE_VERSION });
    // validateOnly checks without changing.
    expect((await update('group.version', 0, SAFE_DOWNGRADE, true)).results[0]!.errorCode).toBe(0);
    expect((await apiVersions()).finalizedFeatures).toHaveLength(1);

    expect((await update('group.version', 0, SAFE_DOWNGRADE)).results[0]!.errorCode).toBe(0);
    const versions = await apiVersions();
    expect(versions.finalizedFeatures).toEqual([]);
    expect(versions.finalizedFeaturesEpoch).toBe(1);
    const disabled = await heartbeat();
    expect(disabled.errorCode).toBe(KafkaErrorCode.UNSUPPORTED_VERSION);

    const upgraded = await cli('upgrade', '--feature', 'group.version=1');
    expect(upgraded).toMatchObject({ code: 0, stdout: 'group.version was upgraded to 1.\n' });
    expect((await heartbeat()).errorCode).toBe(KafkaErrorCode.NONE);
  });

  it('`sluice features` prints Kafka\'s lines for a dry run, a disable and a refusal', async () => {
    expect(await cli('disable', '--feature', 'group.version', '--dry-run')).toMatchObject({ code: 0, stdout: 'group.version can be disabled.\n' });
    expect((await apiVersions()).finalizedFeatures).toHaveLength(1);
    const refused = await cli('upgrade', '--feature', 'share.version=1');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^Could not upgrade share\.version to 1\. Invalid update version 1 for feature share\.version\. The broker does not support the given feature\.\n$/);
    expect(refused.stderr).toContain('1 out of 1 operation(s) failed.');
    expect(await cli('downgrade', '--feature', 'group.version=0')).toMatchObject({ code: 0, stdout: 'group.version was downgraded to 0.\n' });
    const usage = await cli('upgrade', '--feature', 'group.version');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--feature expects NAME=LEVEL (a whole number), e.g. group.version=1, got 'group.version'");
  });

  it('the finalized level survives a restart', async () => {
    await connection.close();
    await broker.stop();
    broker = await startBroker({ port: 0, dataDir });
    connection = new Connection('features-test');
    await connection.connect('127.0.0.1', broker.port);
    expect((await apiVersions()).finalizedFeatures).toEqual([]);
    expect((await heartbeat()).errorCode).toBe(KafkaErrorCode.UNSUPPORTED_VERSION);
  });
});

describe('group.coordinator.rebalance.protocols', () => {
  it('without consumer, ConsumerGroupHeartbeat is UNSUPPORTED_VERSION; classic must be named; streams and share are reported', async () => {
    const classicOnly = await startBroker({ port: 0, config: { 'group.coordinator.rebalance.protocols': 'classic' } });
    const classicConnection = new Connection('protocols-test');
    try {
      await classicConnection.connect('127.0.0.1', classicOnly.port);
      const answered = await responseOf(consumerGroupHeartbeatV0.api.async(classicConnection, 'g', '', 0, null, null, 30_000, ['t'], null, null, []));
      expect(answered.errorCode).toBe(KafkaErrorCode.UNSUPPORTED_VERSION);
    } finally {
      await classicConnection.close();
      await classicOnly.stop();
    }
    await expect(startBroker({ port: 0, config: { 'group.coordinator.rebalance.protocols': 'consumer' } })).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(/must contain classic/) });
    await expect(startBroker({ port: 0, config: { 'group.coordinator.rebalance.protocols': 'classic,bogus' } })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    expect(reportBrokerConfig({ 'group.coordinator.rebalance.protocols': 'classic,consumer,streams' }).unsupported).toEqual([
      { name: 'group.coordinator.rebalance.protocols', reason: 'streams groups are not served: sluice serves classic and consumer groups' },
    ]);
    expect(reportBrokerConfig({ 'group.coordinator.rebalance.protocols': 'classic,consumer' })).toMatchObject({ unsupported: [], unknown: [] });
  });
});
