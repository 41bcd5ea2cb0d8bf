// `sluice broker-api-versions` (kafka-broker-api-versions): each broker's ApiVersions in Kafka's
// NodeApiVersions form, against a broker in this process; and the form itself for ranges that do
// not meet the client's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { formatNodeApiVersions } from '../../src/cli/broker-api-versions.js';
import { ApiKey, registry } from '../../src/protocol/index.js';
import { runCli } from './run-cli.js';

let broker: Broker;

beforeAll(async () => {
  broker = await startBroker({ port: 0 });
});

afterAll(async () => {
  await broker?.stop();
});

describe('sluice broker-api-versions', () => {
  it("prints the broker's node line and every API it serves with the version both sides speak", async () => {
    const result = await runCli(['broker-api-versions', '--bootstrap-server', `localhost:${broker.port}`]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^[^ ]+:${broker.port} \\(id: 1 rack: null\\) -> \\($`));
    expect(lines.at(-1)).toBe(')');
    const body = lines.slice(1, -1);
    // One line per API the broker serves or the client knows, in key order, comma-separated.
    expect(body.slice(0, 4)).toEqual([
      `\tProduce(0): 0 to ${registry.get(ApiKey.Produce)!.validVersions[1]} [usable: ${registry.get(ApiKey.Produce)!.validVersions[1]}],`,
      `\tFetch(1): 4 to ${registry.get(ApiKey.Fetch)!.validVersions[1]} [usable: ${registry.get(ApiKey.Fetch)!.validVersions[1]}],`,
      `\tListOffsets(2): 0 to 9 [usable: 9],`,
      `\tMetadata(3): 0 to 12 [usable: 12],`,
    ]);
    expect(body).toContain('\tDescribeCluster(60): 0 to 1 [usable: 1],');
    expect(body).toContain('\tConsumerGroupHeartbeat(68): 0 to 1 [usable: 1],');
    expect(body).toContain('\tConsumerGroupDescribe(69): 0 to 1 [usable: 1],');
    expect(body.at(-1)).toBe('\tDescribeTopicPartitions(75): 0 [usable: 0]');
    expect(body.every((line, i) => line.endsWith(',') === (i < body.length - 1))).toBe(true);
    const keys = body.map((line) => Number(/\((\d+)\):/.exec(line)![1]));
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
  });

  it('cannot reach the broker: exit 1 with the reason', async () => {
    const result = await runCli(['broker-api-versions', '--bootstrap-server', 'localhost:1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: Cannot connect to the broker at localhost:1 /);
  });
});

describe('formatNodeApiVersions', () => {
  it("marks each range as Kafka's tool does: usable, too old, too new, unknown to the client, or UNSUPPORTED", () => {
    const produceMax = registry.get(ApiKey.Produce)!.validVersions[1];
    const fetchMin = registry.get(ApiKey.Fetch)!.validVersions[0];
    const text = formatNodeApiVersions([
      { apiKey: ApiKey.Produce, minVersion: 3, maxVersion: produceMax + 5 },
      { apiKey: ApiKey.Fetch, minVersion: 0, maxVersion: fetchMin - 1 },
      { apiKey: ApiKey.Metadata, minVersion: 99, maxVersion: 100 },
      { apiKey: ApiKey.Heartbeat, minVersion: 2, maxVersion: 2 },
      { apiKey: ApiKey.DescribeQuorum, minVersion: 0, maxVersion: 2 },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('(');
    expect(lines.at(-1)).toBe(')');
    expect(lines).toContain(`\tProduce(0): 3 to ${produceMax + 5} [usable: ${produceMax}],`);
    expect(lines).toContain(`\tFetch(1): 0 to ${fetchMin - 1} [unusable: node too old],`);
    expect(lines).toContain('\tMetadata(3): 99 to 100 [unusable: node too new],');
    expect(lines).toContain('\tHeartbeat(12): 2 [usable: 2],');
    expect(lines).toContain('\tDescribeQuorum(55): 0 to 2,');
    // The client knows ListOffsets; this broker did not advertise it.
    expect(lines).toContain('\tListOffsets(2): UNSUPPORTED,');
  });
});
