// `sluice topics` against a broker in this process: kafka-topics' actions and output shapes.
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { kafkaUuid, matches, partitionLine } from '../../src/cli/topics.js';
import { waitUntil } from '../helpers.js';
import { runCli, STACK_LINE } from './run-cli.js';

let broker: Broker;
let bootstrap: string[];

beforeAll(async () => {
  broker = await startBroker({ port: 0 });
  bootstrap = ['--bootstrap-server', `localhost:${broker.port}`];
});

afterAll(async () => {
  await broker?.stop();
});

describe('sluice topics', () => {
  it('creates, lists, describes and deletes a topic', async () => {
    let result = await runCli(['topics', ...bootstrap, '--create', '--topic', 'orders', '--partitions', '3', '--config', 'retention.ms=60000', '--config', 'segment.bytes=1048576']);
    expect(result).toMatchObject({ code: 0, stdout: 'Created topic orders.\n', stderr: '' });
    result = await runCli(['topics', ...bootstrap, '--create', '--topic', 'audit']);
    expect(result.code).toBe(0);

    result = await runCli(['topics', ...bootstrap, '--list']);
    expect(result).toMatchObject({ code: 0, stdout: 'audit\norders\n' });

    result = await runCli(['topics', ...bootstrap, '--describe', '--topic', 'orders']);
    expect(result.code).toBe(0);
    const id = kafkaUuid(broker.engine.describeTopic('orders').id);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Topic: orders\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: /);
    expect(lines[0]).toContain(`TopicId: ${id}\t`);
    const configs = lines[0]!.slice(lines[0]!.indexOf('Configs: ') + 'Configs: '.length).split(',').sort();
    expect(configs).toEqual(['retention.ms=60000', 'segment.bytes=1048576']);
    expect(lines.slice(1)).toEqual([0, 1, 2].map((p) => `\tTopic: orders\tPartition: ${p}\tLeader: 1\tReplicas: 1\tIsr: 1`));

    // Every topic, sorted, and no Configs for a topic without overrides.
    result = await runCli(['topics', ...bootstrap, '--describe']);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').filter((line) => line.startsWith('Topic: ')).map((line) => line.split('\t')[0])).toEqual(['Topic: audit', 'Topic: orders']);
    expect(result.stdout).toMatch(/^Topic: audit\t.*\tConfigs: $/m);

    result = await runCli(['topics', ...bootstrap, '--delete', '--topic', 'orders']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    result = await runCli(['topics', ...bootstrap, '--list']);
    expect(result.stdout).toBe('audit\n');
  });

  it('adds partitions with --alter --partitions N; a count that is not larger is INVALID_PARTITIONS', async () => {
    await runCli(['topics', ...bootstrap, '--create', '--topic', 'growing', '--partitions', '2']);
    let result = await runCli(['topics', ...bootstrap, '--alter', '--topic', 'growing', '--partitions', '5']);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(broker.engine.describeTopic('growing').partitions).toHaveLength(5);
    result = await runCli(['topics', ...bootstrap, '--describe', '--topic', 'growing']);
    expect(result.stdout).toMatch(/\tPartitionCount: 5\t/);
    expect(result.stdout).toContain('\tTopic: growing\tPartition: 4\tLeader: 1\tReplicas: 1\tIsr: 1');

    result = await runCli(['topics', ...bootstrap, '--alter', '--topic', 'growing', '--partitions', '3']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: .*INVALID_PARTITIONS.*has 5 partitions/);
    expect(broker.engine.describeTopic('growing').partitions).toHaveLength(5);
    result = await runCli(['topics', ...bootstrap, '--alter', '--topic', 'growing']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--alter needs --partitions');
    result = await runCli(['topics', ...bootstrap, '--alter', '--topic', 'absent', '--partitions', '2', '--if-exists']);
    expect(result).toMatchObject({ code: 0, stdout: '' });
  });

  it("creates a topic with --replica-assignment, kafka-topics' partition-to-broker list; refuses it beside --partitions or with a repeated broker", async () => {
    let result = await runCli(['topics', ...bootstrap, '--create', '--topic', 'placed', '--replica-assignment', '1,1,1']);
    expect(result).toMatchObject({ code: 0, stdout: 'Created topic placed.\n' });
    expect(broker.engine.describeTopic('placed').partitions).toHaveLength(3);
    result = await runCli(['topics', ...bootstrap, '--create', '--topic', 'elsewhere', '--replica-assignment', '2']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: .*INVALID_REPLICATION_FACTOR/);
    result = await runCli(['topics', ...bootstrap, '--create', '--topic', 'both', '--replica-assignment', '1', '--partitions', '2']);
    expect(result).toMatchObject({ code: 2 });
    expect(result.stderr).toContain('--replica-assignment cannot be used with --partitions');
    result = await runCli(['topics', ...bootstrap, '--create', '--topic', 'twice-on-one', '--replica-assignment', '1:1']);
    expect(result).toMatchObject({ code: 2 });
    expect(result.stderr).toContain('Partition replica lists may not contain duplicate entries: 1:1');
    expect(broker.engine.hasTopic('both') || broker.engine.hasTopic('twice-on-one') || broker.engine.hasTopic('elsewhere')).toBe(false);
  });

  it('--exclude-internal leaves out __consumer_offsets; --topics-with-overrides gives only the topic lines of topics with overrides', async () => {
    await broker.engine.createTopic('plain');
    await broker.engine.createTopic('tuned', { config: { 'retention.ms': '120000' } });
    // A group's first FindCoordinator creates __consumer_offsets.
    const grouped = await runCli(['consume', ...bootstrap, '--topic', 'plain', '--group', 'lister', '--timeout-ms', '200']);
    expect(grouped.code).toBe(0);
    const listed = (await runCli(['topics', ...bootstrap, '--list'])).stdout.split('\n');
    expect(listed).toContain('__consumer_offsets');
    const external = (await runCli(['topics', ...bootstrap, '--list', '--exclude-internal'])).stdout.split('\n');
    expect(external).toEqual(expect.arrayContaining(['plain', 'tuned']));
    expect(external).not.toContain('__consumer_offsets');
    const described = await runCli(['topics', ...bootstrap, '--describe', '--exclude-internal']);
    expect(described.stdout).not.toContain('__consumer_offsets');
    expect(described.stdout).toContain('Topic: plain\t');

    const overridden = await runCli(['topics', ...bootstrap, '--describe', '--topics-with-overrides']);
    expect(overridden.code).toBe(0);
    const lines = overridden.stdout.trimEnd().split('\n');
    expect(lines.every((line) => line.startsWith('Topic: '))).toBe(true); // no partition lines
    expect(lines.find((line) => line.startsWith('Topic: tuned\t'))).toMatch(/\tConfigs: retention\.ms=120000$/);
    expect(lines.some((line) => line.startsWith('Topic: plain\t'))).toBe(false);

    const refused = await runCli(['topics', ...bootstrap, '--list', '--topics-with-overrides']);
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining('--topics-with-overrides goes with --describe only') });
  });

  it('--topic is a regular expression for --describe, --alter and --delete, matching whole names, as in kafka-topics', async () => {
    for (const name of ['logs.app', 'logs.web', 'logsXapp', 'metrics']) await broker.engine.createTopic(name);
    const topicLines = (stdout: string) => stdout.split('\n').filter((line) => line.startsWith('Topic: ')).map((line) => line.split('\t')[0]);
    let result = await runCli(['topics', ...bootstrap, '--describe', '--topic', 'logs\\..*']);
    expect(topicLines(result.stdout)).toEqual(['Topic: logs.app', 'Topic: logs.web']);
    // A plain name is a pattern too: '.' matches any character, and the whole name must match.
    result = await runCli(['topics', ...bootstrap, '--describe', '--topic', 'logs.app']);
    expect(topicLines(result.stdout)).toEqual(['Topic: logs.app', 'Topic: logsXapp']);
    result = await runCli(['topics', ...bootstrap, '--alter', '--topic', 'logs\\..*', '--partitions', '2']);
    expect(result.code).toBe(0);
    expect([broker.engine.partitionCount('logs.app'), broker.engine.partitionCount('logs.web'), broker.engine.partitionCount('logsXapp')]).toEqual([2, 2, 1]);
    result = await runCli(['topics', ...bootstrap, '--delete', '--topic', 'logs.*']);
    expect(result.code).toBe(0);
    await waitUntil(() => !broker.engine.hasTopic('logs.app') && !broker.engine.hasTopic('logs.web') && !broker.engine.hasTopic('logsXapp'), 'the three topics to go');
    expect(broker.engine.hasTopic('metrics')).toBe(true);
    result = await runCli(['topics', ...bootstrap, '--describe', '--topic', 'logs.*']);
    expect(result).toMatchObject({ code: 1, stderr: "Error: UNKNOWN_TOPIC_OR_PARTITION: Topic 'logs.*' does not exist as expected\n" });
    expect(await runCli(['topics', ...bootstrap, '--delete', '--topic', 'logs.*', '--if-exists'])).toMatchObject({ code: 0, stdout: '' });
    result = await runCli(['topics', ...bootstrap, '--describe', '--topic', 'logs(']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--topic 'logs(' is not a regular expression");
  });

  it('reports Kafka error names and exits 1: an unknown topic, an existing one, a bad config', async () => {
    for (const args of [['--describe', '--topic', 'missing'], ['--delete', '--topic', 'missing'], ['--alter', '--topic', 'missing', '--partitions', '2']]) {
      const result = await runCli(['topics', ...bootstrap, ...args]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^Error: .*UNKNOWN_TOPIC_OR_PARTITION/);
      expect(result.stderr).not.toMatch(STACK_LINE);
    }
    await runCli(['topics', ...bootstrap, '--create', '--topic', 'twice']);
    let result = await runCli(['topics', ...bootstrap, '--create', '--topic', 'twice']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: .*TOPIC_ALREADY_EXISTS/);
    result = await runCli(['topics', ...bootstrap, '--create', '--topic', 'twice', '--if-not-exists']);
    expect(result).toMatchObject({ code: 0, stdout: '' });
    result = await runCli(['topics', ...bootstrap, '--create', '--topic', 'bad', '--config', 'retention.ms=soon']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: .*INVALID_CONFIG/);
  });
});

describe('sluice topics --describe report filters', () => {
  it('on one broker: no partition is under-replicated, unavailable or under min ISR; every one is at min ISR, printed without topic lines', async () => {
    expect((await runCli(['topics', ...bootstrap, '--create', '--topic', 'filtered', '--partitions', '2'])).code).toBe(0);
    for (const filter of ['--under-replicated-partitions', '--unavailable-partitions', '--under-min-isr-partitions']) {
      const result = await runCli(['topics', ...bootstrap, '--describe', '--topic', 'filtered', filter]);
      expect(result, filter).toMatchObject({ code: 0, stdout: '', stderr: '' });
    }
    const atMin = await runCli(['topics', ...bootstrap, '--describe', '--topic', 'filtered', '--at-min-isr-partitions']);
    expect(atMin).toMatchObject({ code: 0, stderr: '' });
    expect(atMin.stdout).toBe([0, 1].map((p) => `\tTopic: filtered\tPartition: ${p}\tLeader: 1\tReplicas: 1\tIsr: 1\n`).join(''));
  });

  it("print a partition as kafka-topics does, with Leader: none and the offline replicas", () => {
    expect(partitionLine('t', { partition: 0, leader: 2, replicas: [2, 3, 1], isr: [2, 3, 1], offline: [] })).toBe('\tTopic: t\tPartition: 0\tLeader: 2\tReplicas: 2,3,1\tIsr: 2,3,1');
    expect(partitionLine('t', { partition: 4, leader: -1, replicas: [2, 3], isr: [3], offline: [2] })).toBe('\tTopic: t\tPartition: 4\tLeader: none\tReplicas: 2,3\tIsr: 3\tOffline: 2');
  });

  it("select partitions by Kafka's rules", () => {
    const live = new Set([1, 2, 3]);
    const healthy = { partition: 0, leader: 2, replicas: [2, 3, 1], isr: [2, 3, 1], offline: [] };
    const shrunk = { ...healthy, isr: [2] };
    const leaderless = { ...healthy, leader: -1, isr: [] };
    const leaderGone = { ...healthy, leader: 4, replicas: [4, 2, 3], isr: [4, 2, 3] };
    expect([healthy, shrunk, leaderless, leaderGone].map((p) => matches('under-replicated-partitions', p, live, 2))).toEqual([false, true, true, false]);
    expect([healthy, shrunk, leaderless, leaderGone].map((p) => matches('unavailable-partitions', p, live, 2))).toEqual([false, false, true, true]);
    expect([healthy, shrunk, leaderless, leaderGone].map((p) => matches('under-min-isr-partitions', p, live, 2))).toEqual([false, true, true, false]);
    expect([healthy, { ...healthy, isr: [2, 3] }, shrunk].map((p) => matches('at-min-isr-partitions', p, live, 2))).toEqual([false, true, false]);
  });
});

describe('kafkaUuid', () => {
  it("gives Kafka's text form of a Uuid", () => {
    // Kafka's Uuid(0x0123456789abcdefL, 0xfedcba9876543210L).toString()
    expect(kafkaUuid('01234567-89ab-cdef-fedc-ba9876543210')).toBe('ASNFZ4mrze_-3LqYdlQyEA');
  });
});

describe('sluice topics --describe on a compacted topic', () => {
  it("gives each partition's dirty ratio and last cleaning, from the leader's log (DescribeLogDirs)", async () => {
    // The background cleaner is off so that the first describe sees the log before any cleaning.
    const compacting = await startBroker({ port: 0, config: { 'log.cleaner.enable': false } });
    try {
      const server = ['--bootstrap-server', `localhost:${compacting.port}`];
      expect((await runCli(['topics', ...server, '--create', '--topic', 'table', '--partitions', '2', '--config', 'cleanup.policy=compact'])).code).toBe(0);
      expect((await runCli(['topics', ...server, '--create', '--topic', 'plain'])).code).toBe(0);
      // 20 updates of 2 keys in partition 0, then a roll: everything below the active segment is dirty.
      for (let i = 0; i < 20; i++) await compacting.engine.produce('table', [{ key: `k${i % 2}`, value: `${i}` }], { partition: 0 });
      compacting.engine.partitionLog('table', 0).roll();

      let result = await runCli(['topics', ...server, '--describe', '--topic', 'table']);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      let lines = result.stdout.trimEnd().split('\n');
      expect(lines.slice(1)).toEqual([
        '\tTopic: table\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tDirtyRatio: 1.00\tLastCleaned: never',
        '\tTopic: table\tPartition: 1\tLeader: 1\tReplicas: 1\tIsr: 1\tDirtyRatio: 0.00\tLastCleaned: never',
      ]);

      const before = Date.now();
      await compacting.engine.compactNow('table', 0);
      result = await runCli(['topics', ...server, '--describe', '--topic', 'table']);
      lines = result.stdout.trimEnd().split('\n');
      const cleaned = /^\tTopic: table\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tDirtyRatio: 0\.00\tLastCleaned: (\S+)$/.exec(lines[1]!);
      expect(cleaned, lines[1]).not.toBeNull();
      expect(Date.parse(cleaned![1]!)).toBeGreaterThanOrEqual(before - 1000);

      // A Kafka client reads the same sizes (it negotiates v3 and does not ask for sluice's tagged fields).
      const admin = new Admin({ clientId: 'log-dirs', bootstrapBrokers: [`localhost:${compacting.port}`] });
      try {
        const [described] = await admin.describeLogDirs({ topics: [{ name: 'table', partitions: [0, 1] }] });
        expect(described!.results).toHaveLength(1);
        expect(described!.results[0]!.logDir).toBe(compacting.engine.dataDir);
        const sizes = Object.fromEntries(described!.results[0]!.topics[0]!.partitions.map((p) => [p.partitionIndex, Number(p.partitionSize)]));
        expect(sizes).toEqual({ 0: compacting.engine.partitionLog('table', 0).sizeBytes(), 1: 0 });
      } finally {
        await admin.close();
      }

      // A topic that is not compacted keeps kafka-topics' line exactly.
      result = await runCli(['topics', ...server, '--describe', '--topic', 'plain']);
      expect(result.stdout.trimEnd().split('\n').slice(1)).toEqual(['\tTopic: plain\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1']);
    } finally {
      await compacting.stop();
    }
  });
});
