// `sluice consume --group` and `sluice groups` against a broker in this process: a group member
// commits what it printed and the next one resumes there; --describe prints kafka-consumer-groups'
// columns; --reset-offsets works on an inactive group only, and is a dry run without --execute.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { parseDurationMs } from '../../src/cli/groups.js';
import { committedOffsets, waitForStableGroup } from '../fixtures/groups.js';
import { runCli } from './run-cli.js';

let broker: Broker;
let bootstrap: string[];

beforeAll(async () => {
  broker = await startBroker({ port: 0, config: { 'group.initial.rebalance.delay.ms': 0, 'group.consumer.heartbeat.interval.ms': 500 } });
  bootstrap = ['--bootstrap-server', `localhost:${broker.port}`];
  await broker.engine.createTopic('orders', { partitions: 2 });
  await broker.engine.produce('orders', Array.from({ length: 30 }, (_, i) => ({ key: `customer-${i % 5}`, value: `order-${i}` })));
});

afterAll(async () => {
  await broker?.stop();
});

function describeRows(stdout: string): string[][] {
  const lines = stdout.split('\n').filter((line) => line.trim() !== '');
  const header = lines.findIndex((line) => line.startsWith('GROUP'));
  return lines.slice(header).map((line) => line.trim().split(/\s+/));
}

describe('sluice consume --group', () => {
  it('commits what it printed, and the next member of the group resumes there', async () => {
    const first = await runCli(['consume', ...bootstrap, '--topic', 'orders', '--group', 'billing', '--from-beginning', '--max-messages', '12']);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('Processed a total of 12 messages\n');
    // --from-beginning applies only where the group has no commit yet (auto.offset.reset).
    const second = await runCli(['consume', ...bootstrap, '--topic', 'orders', '--group', 'billing', '--from-beginning', '--max-messages', '18']);
    expect(second.code).toBe(0);
    const all = [...first.stdout.trim().split('\n'), ...second.stdout.trim().split('\n')];
    expect(all.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `order-${i}`).sort());
  });

  it('shares a topic between two members of a cooperative group: each reads what it keeps and what it is given', async () => {
    // CooperativeStickyAssignor: when the second member joins, the first keeps two partitions and
    // gives up two, and the second gets nothing until a second round hands those over. A member
    // whose fetcher had no partition once spun without yielding, so it never rejoined and the
    // group stayed in PreparingRebalance; one that replaced its fetcher on a partial revoke
    // stopped reading the partitions it kept.
    await broker.engine.createTopic('shared', { partitions: 4 });
    const address = `localhost:${broker.port}`;
    const member = () => runCli(['consume', ...bootstrap, '--topic', 'shared', '--group', 'sharers', '--from-beginning', '--max-messages', '20', '--timeout-ms', '60000',
      '--consumer-property', 'partition.assignment.strategy=org.apache.kafka.clients.consumer.CooperativeStickyAssignor'], { timeoutMs: 90_000 });
    const first = member();
    await waitForStableGroup(address, 'sharers', 1);
    const second = member();
    const settled = await waitForStableGroup(address, 'sharers', 2);
    expect(settled.protocol).toBe('cooperative-sticky');
    expect(settled.owned.map(([, partitions]) => partitions.length)).toEqual([2, 2]);
    for (let partition = 0; partition < 4; partition++) {
      await broker.engine.produce('shared', Array.from({ length: 10 }, (_, i) => ({ value: `p${partition}-${i}` })), { partition });
    }
    const results = await Promise.all([first, second]);
    for (const result of results) expect(result).toMatchObject({ code: 0, stderr: 'Processed a total of 20 messages\n' });
    const lines = results.flatMap((result) => result.stdout.trimEnd().split('\n'));
    expect(lines.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `p${Math.floor(i / 10)}-${i % 10}`).sort());
  }, 120_000);

  it('group.protocol=consumer (KIP-848): two members split a topic the broker assigns, and commit under their member epochs', async () => {
    await broker.engine.createTopic('shared848', { partitions: 4 });
    const member = () => runCli(['consume', ...bootstrap, '--topic', 'shared848', '--group', 'sharers848', '--from-beginning', '--max-messages', '20', '--timeout-ms', '60000',
      '--consumer-property', 'group.protocol=consumer', '--consumer-property', 'group.remote.assignor=range'], { timeoutMs: 90_000 });
    const first = member();
    const second = member();
    // Produce once each member holds two partitions (the broker's range assignor), so that each reads its 20.
    const described = async () => {
      const result = await runCli(['groups', ...bootstrap, '--describe', '--group', 'sharers848', '--members']);
      return result.stdout.trim().split('\n').slice(1).map((row) => row.split(/\s+/));
    };
    for (let rows = await described(); rows.length !== 2 || rows.some((row) => row[4] !== '2'); rows = await described()) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect((await runCli(['groups', ...bootstrap, '--describe', '--group', 'sharers848', '--state'])).stdout).toMatch(/sharers848\s+\S+ \(\d+\)\s+range\s+Stable\s+2/);
    for (let partition = 0; partition < 4; partition++) {
      await broker.engine.produce('shared848', Array.from({ length: 10 }, (_, i) => ({ value: `q${partition}-${i}` })), { partition });
    }
    const results = await Promise.all([first, second]);
    for (const result of results) expect(result).toMatchObject({ code: 0, stderr: 'Processed a total of 20 messages\n' });
    const lines = results.flatMap((result) => result.stdout.trimEnd().split('\n'));
    expect(lines.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `q${Math.floor(i / 10)}-${i % 10}`).sort());
    // Both committed what they read, under their epochs, and left (heartbeat epoch -1).
    expect(await committedOffsets(`localhost:${broker.port}`, 'sharers848', 'shared848')).toEqual([10, 10, 10, 10]);
    const state = await runCli(['groups', ...bootstrap, '--describe', '--group', 'sharers848', '--state']);
    expect(state.stdout).toMatch(/sharers848\s+\S+ \(\d+\)\s+\S+\s+Empty\s+0/);
    // kafka-consumer-groups --list --type [TYPES] (with --state: GROUP TYPE STATE), beside a classic group of offsets only.
    expect((await runCli(['groups', ...bootstrap, '--reset-offsets', '--group', 'classic848', '--topic', 'shared848', '--to-earliest', '--execute'])).code).toBe(0);
    const typed = (await runCli(['groups', ...bootstrap, '--list', '--type'])).stdout.trimEnd().split('\n');
    expect(typed[0]).toMatch(/^GROUP\s+TYPE$/);
    expect(typed).toContainEqual(expect.stringMatching(/^sharers848\s+Consumer$/));
    expect(typed).toContainEqual(expect.stringMatching(/^classic848\s+Classic$/));
    const consumers = (await runCli(['groups', ...bootstrap, '--list', '--type', 'consumer', '--state'])).stdout.trimEnd().split('\n');
    expect(consumers.map((line) => line.split(/\s+/))).toEqual([['GROUP', 'TYPE', 'STATE'], ['sharers848', 'Consumer', 'Empty']]);
    const bad = await runCli(['groups', ...bootstrap, '--list', '--type', 'share']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Invalid types list 'share'. Valid types are: Classic, Consumer/);
    // An Empty consumer group's offsets are reset as a classic group's are, and the group deleted.
    expect((await runCli(['groups', ...bootstrap, '--reset-offsets', '--group', 'sharers848', '--to-earliest', '--execute'])).code).toBe(0);
    expect(await committedOffsets(`localhost:${broker.port}`, 'sharers848', 'shared848')).toEqual([0, 0, 0, 0]);
    expect((await runCli(['groups', ...bootstrap, '--delete', '--group', 'sharers848'])).stdout).toBe("Deletion of requested consumer groups ('sharers848') was successful.\n");
    expect((await runCli(['groups', ...bootstrap, '--list'])).stdout.split('\n')).not.toContain('sharers848');
  }, 120_000);

  it('goes on when its topic is deleted: failed commits are warnings, and it exits as usual', async () => {
    await broker.engine.createTopic('doomed', { partitions: 2 });
    await broker.engine.produce('doomed', Array.from({ length: 6 }, (_, i) => ({ value: `d${i}` })));
    const member = runCli(['consume', ...bootstrap, '--topic', 'doomed', '--group', 'doomed-readers', '--from-beginning', '--timeout-ms', '3000',
      '--consumer-property', 'auto.commit.interval.ms=200'], { timeoutMs: 60_000 });
    await waitForStableGroup(`localhost:${broker.port}`, 'doomed-readers', 1);
    // Every record printed and committed (the next offsets of the two partitions add up to 6).
    for (const deadline = Date.now() + 30_000; ; await new Promise((resolve) => setTimeout(resolve, 50))) {
      const offsets = await committedOffsets(`localhost:${broker.port}`, 'doomed-readers', 'doomed');
      if (offsets.reduce((sum, offset) => sum + Math.max(offset, 0), 0) === 6) break;
      if (Date.now() > deadline) throw new Error(`the records were not committed: ${offsets}`);
    }
    await broker.engine.deleteTopic('doomed');
    const result = await member;
    // Kafka's console consumer logs its failed auto-commits and keeps reading; it used to die on
    // the leader lookup of the deleted topic, or on the commit when it stopped.
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n').sort()).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5']);
    expect(result.stderr).toMatch(/^WARNING: offset commit of group doomed-readers failed: .*UNKNOWN_TOPIC_OR_PARTITION$/m);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe('Processed a total of 6 messages');
  }, 90_000);

  it('exits with FENCED_INSTANCE_ID when another member takes its group.instance.id', async () => {
    await broker.engine.createTopic('static', { partitions: 1 });
    const member = (timeoutMs: string) => runCli(['consume', ...bootstrap, '--topic', 'static', '--group', 'statics', '--timeout-ms', timeoutMs,
      '--consumer-property', 'group.instance.id=worker-1', '--consumer-property', 'heartbeat.interval.ms=200'], { timeoutMs: 90_000 });
    const first = member('60000');
    await waitForStableGroup(`localhost:${broker.port}`, 'statics', 1);
    const second = member('3000');
    // The first learns it is fenced at its next heartbeat and stops, as Kafka's console consumer
    // does on FencedInstanceIdException; it went on reading, unaware, until its timeout.
    expect(await first).toMatchObject({ code: 1, stderr: expect.stringContaining('FENCED_INSTANCE_ID: Group statics: another member took group.instance.id worker-1') });
    expect(await second).toMatchObject({ code: 0 });
  }, 90_000);

  it('perf consume --group joins the group, reads what it assigns from the committed offsets, and commits what it counted', async () => {
    await broker.engine.createTopic('perf-grouped', { partitions: 2 });
    await broker.engine.produce('perf-grouped', Array.from({ length: 40 }, (_, i) => ({ value: `p${i}` })), { partition: 0 });
    await broker.engine.produce('perf-grouped', Array.from({ length: 60 }, (_, i) => ({ value: `q${i}` })), { partition: 1 });
    const perf = (...extra: string[]) => runCli(['perf', 'consume', ...bootstrap, '--topic', 'perf-grouped', '--messages', '100', '--timeout', '2000', '--hide-header', ...extra]);
    const first = await perf('--group', 'perf-readers');
    expect(first.code).toBe(0);
    const fields = first.stdout.trim().split(', ');
    expect(fields[4]).toBe('100'); // data.consumed.in.nMsg
    expect(Number(fields[6])).toBeGreaterThanOrEqual(0); // rebalance.time.ms: the join
    expect(await committedOffsets(`localhost:${broker.port}`, 'perf-readers', 'perf-grouped')).toEqual([40, 60]);
    // The next run of the group starts where the first ended: nothing left, so it times out at 0.
    const second = await perf('--consumer-property', 'group.id=perf-readers');
    expect(second.stdout.trim().split(', ')[4]).toBe('0');
    expect(second.stderr).toContain('WARNING: Exiting before consuming the expected number of messages');
  }, 60_000);

  it("--list --state prints kafka-consumer-groups' GROUP and STATE columns, only the states asked for when given", async () => {
    await broker.engine.createTopic('listed', { partitions: 1 });
    expect((await runCli(['groups', ...bootstrap, '--reset-offsets', '--group', 'an-empty-one', '--topic', 'listed', '--to-earliest', '--execute'])).code).toBe(0);
    const all = await runCli(['groups', ...bootstrap, '--list', '--state']);
    expect(all.code).toBe(0);
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${'GROUP'.padEnd(15)} STATE`);
    expect(lines).toContain(`${'an-empty-one'.padEnd(15)} Empty`);
    const stable = await runCli(['groups', ...bootstrap, '--list', '--state', 'stable,preparingrebalance']); // any case, as Kafka takes them
    expect(stable).toMatchObject({ code: 0 });
    expect(stable.stdout).not.toContain('an-empty-one');
    const bad = await runCli(['groups', ...bootstrap, '--list', '--state', 'Sleeping']);
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining("Invalid state list 'Sleeping'. Valid states are: PreparingRebalance, CompletingRebalance, Stable, Dead, Empty") });
  });

  it('refuses --group with --partition', async () => {
    const result = await runCli(['consume', ...bootstrap, '--topic', 'orders', '--group', 'g', '--partition', '0']);
    expect(result.code).toBe(2);
  });
});

describe('sluice groups', () => {
  it('lists groups and describes one with kafka-consumer-groups\' columns', async () => {
    const list = await runCli(['groups', ...bootstrap, '--list']);
    expect(list.stdout.split('\n')).toContain('billing');
    const described = await runCli(['groups', ...bootstrap, '--describe', '--group', 'billing']);
    expect(described.code).toBe(0);
    expect(described.stdout).toContain("Consumer group 'billing' has no active members.");
    const rows = describeRows(described.stdout);
    expect(rows[0]).toEqual(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID']);
    const data = rows.slice(1);
    expect(data.map((row) => row.slice(0, 3))).toEqual([['billing', 'orders', '0'], ['billing', 'orders', '1']]);
    for (const row of data) {
      expect(Number(row[3])).toBe(Number(row[4])); // everything consumed: current = log end
      expect(row[5]).toBe('0');
      expect(row.slice(6)).toEqual(['-', '-', '-']);
    }
  });

  it('resets an inactive group: a dry run by default, applied with --execute', async () => {
    const dryRun = await runCli(['groups', ...bootstrap, '--reset-offsets', '--group', 'billing', '--to-earliest']);
    expect(dryRun.code).toBe(0);
    expect(describeRows(dryRun.stdout).slice(1).map((row) => row[3])).toEqual(['0', '0']);
    let described = describeRows((await runCli(['groups', ...bootstrap, '--describe', '--group', 'billing'])).stdout);
    expect(described.slice(1).every((row) => row[5] === '0')).toBe(true); // unchanged

    expect((await runCli(['groups', ...bootstrap, '--reset-offsets', '--group', 'billing', '--to-earliest', '--execute'])).code).toBe(0);
    described = describeRows((await runCli(['groups', ...bootstrap, '--describe', '--group', 'billing'])).stdout);
    expect(described.slice(1).map((row) => row[3])).toEqual(['0', '0']);
    const again = await runCli(['consume', ...bootstrap, '--topic', 'orders', '--group', 'billing', '--max-messages', '30']);
    expect(again.stdout.trim().split('\n')).toHaveLength(30);

    expect((await runCli(['groups', ...bootstrap, '--reset-offsets', '--group', 'billing', '--to-datetime', '2000-01-01T00:00:00.000', '--execute'])).code).toBe(0);
    expect((await runCli(['groups', ...bootstrap, '--reset-offsets', '--group', 'billing', '--to-latest', '--execute'])).code).toBe(0);
    described = describeRows((await runCli(['groups', ...bootstrap, '--describe', '--group', 'billing'])).stdout);
    expect(described.slice(1).every((row) => row[3] === row[4])).toBe(true);
  });

  it('resets --to-offset and --shift-by within each log, and --by-duration; refuses to shift what was never committed', async () => {
    const reset = async (...args: string[]) => runCli(['groups', ...bootstrap, '--reset-offsets', '--group', 'billing', ...args]);
    const newOffsets = (stdout: string) => describeRows(stdout).slice(1).map((row) => Number(row[3]));
    const ends = describeRows((await runCli(['groups', ...bootstrap, '--describe', '--group', 'billing'])).stdout).slice(1).map((row) => Number(row[4]));
    expect(ends.every((end) => end >= 5)).toBe(true);

    expect((await reset('--to-latest', '--execute')).code).toBe(0);
    let result = await reset('--shift-by', '-5', '--execute');
    expect(result.code).toBe(0);
    expect(newOffsets(result.stdout)).toEqual(ends.map((end) => end - 5));
    expect(describeRows((await runCli(['groups', ...bootstrap, '--describe', '--group', 'billing'])).stdout).slice(1).map((row) => Number(row[3]))).toEqual(ends.map((end) => end - 5));
    // Kept within the log: no further back than the earliest offset, no further on than the end.
    expect(newOffsets((await reset('--shift-by', '-100000')).stdout)).toEqual(ends.map(() => 0));
    expect(newOffsets((await reset('--to-offset', '999999')).stdout)).toEqual(ends);
    expect(newOffsets((await reset('--to-offset', '2')).stdout)).toEqual(ends.map(() => 2));
    // Every record is younger than a day: a day ago is the earliest offset.
    expect(newOffsets((await reset('--by-duration', 'P1D')).stdout)).toEqual(ends.map(() => 0));

    result = await runCli(['groups', ...bootstrap, '--reset-offsets', '--group', 'never-committed', '--topic', 'orders', '--shift-by', '1']);
    expect(result).toMatchObject({ code: 1, stderr: "Error: Cannot shift offset for partition orders-0 since there is no current committed offset (group 'never-committed')\n" });
    result = await reset('--by-duration', '1h');
    expect(result).toMatchObject({ code: 2, stderr: "Error: --by-duration expects an ISO-8601 duration such as PT1H or P1DT12H, got '1h'\nSee 'sluice groups --help'\n" });
  });

  it("takes kafka-consumer-groups' --all-topics and --to-current", async () => {
    const groups = (...argv: string[]) => runCli(['groups', ...bootstrap, '--group', 'current-group', ...argv]);
    expect((await groups('--reset-offsets', '--topic', 'orders', '--to-offset', '3', '--execute')).code).toBe(0);
    const current = await groups('--reset-offsets', '--all-topics', '--to-current');
    expect(current.code).toBe(0);
    expect(describeRows(current.stdout).slice(1).map((row) => row.slice(1))).toEqual([['orders', '0', '3'], ['orders', '1', '3']]);
    expect((await groups('--reset-offsets', '--all-topics', '--shift-by', '-1', '--execute')).code).toBe(0);
    expect(describeRows((await groups('--describe')).stdout).slice(1).map((row) => row[3])).toEqual(['2', '2']);
    expect(await groups('--reset-offsets', '--all-topics', '--topic', 'orders', '--to-current')).toMatchObject({ code: 2, stderr: expect.stringContaining('Give --topic or --all-topics, not both') });
  });

  it('refuses to reset an active group, and names a missing one', async () => {
    const member = runCli(['consume', ...bootstrap, '--topic', 'orders', '--group', 'busy', '--timeout-ms', '8000']);
    let refused: Awaited<ReturnType<typeof runCli>> | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      refused = await runCli(['groups', ...bootstrap, '--reset-offsets', '--group', 'busy', '--to-earliest', '--topic', 'orders', '--execute']);
      if (refused.code !== 0 && /inactive/.test(refused.stderr)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(refused!.code).toBe(1);
    expect(refused!.stderr).toMatch(/can only be reset if the group 'busy' is inactive, but the current state is (Stable|CompletingRebalance|PreparingRebalance)/);
    await member;
    const missing = await runCli(['groups', ...bootstrap, '--describe', '--group', 'nobody']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Consumer group 'nobody' does not exist/);
  });
});

describe('sluice groups --describe --members, --state, --all-groups', () => {
  it("prints an active group's members and state, and every group with --all-groups", async () => {
    const member = runCli(['consume', ...bootstrap, '--topic', 'orders', '--group', 'live', '--timeout-ms', '60000', '--max-messages', '1'], { timeoutMs: 90_000 });
    const deadline = Date.now() + 60_000;
    while (broker.groups.describeGroup('live').groupState !== 'Stable') {
      if (Date.now() > deadline) throw new Error('the consumer never joined');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    try {
      const state = await runCli(['groups', ...bootstrap, '--describe', '--group', 'live', '--state']);
      expect(state.code).toBe(0);
      const stateLines = state.stdout.split('\n').filter((line) => line.trim() !== '');
      expect(stateLines[0]).toMatch(/^GROUP +COORDINATOR \(ID\) +ASSIGNMENT-STRATEGY +STATE +#MEMBERS$/);
      const cells = stateLines[1]!.trim().split(/\s+/);
      expect(cells[1]).toMatch(new RegExp(`:${broker.port}$`));
      expect([cells[0], ...cells.slice(2)]).toEqual(['live', `(${broker.settings.nodeId})`, 'range', 'Stable', '1']);

      const members = await runCli(['groups', ...bootstrap, '--describe', '--group', 'live', '--members', '--verbose']);
      expect(members.code).toBe(0);
      const rows = describeRows(members.stdout);
      expect(rows[0]).toEqual(['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'ASSIGNMENT']);
      expect(rows).toHaveLength(2);
      expect(rows[1]![0]).toBe('live');
      expect(rows[1]!.slice(3)).toEqual(['sluice-cli', '2', 'orders(0,1)']);
      expect(describeRows((await runCli(['groups', ...bootstrap, '--describe', '--group', 'live', '--members'])).stdout)[1]!.slice(3)).toEqual(['sluice-cli', '2']);

      const all = await runCli(['groups', ...bootstrap, '--describe', '--all-groups', '--state']);
      expect(all.code).toBe(0);
      const states = new Map(all.stdout.split('\n').filter((line) => /^\S/.test(line) && !line.startsWith('GROUP')).map((line) => {
        const cells = line.trim().split(/\s+/);
        return [cells[0], cells[4]] as const;
      }));
      expect(states.get('live')).toBe('Stable');
      expect(states.get('billing')).toBe('Empty');
    } finally {
      await broker.engine.produce('orders', [{ value: 'wake up', partition: 0 }]);
      await member;
    }
    const idle = await runCli(['groups', ...bootstrap, '--describe', '--group', 'billing', '--members']);
    expect(idle.stdout).toBe("\nConsumer group 'billing' has no active members.\n");
  });

  it.each([
    [['--describe', '--group', 'g', '--verbose'], '--verbose goes with --describe --members'],
    [['--describe', '--group', 'g', '--members', '--state'], 'Give one of --offsets, --members or --state'],
    [['--list', '--members'], '--members goes with --describe'],
    [['--delete', '--all-groups'], '--all-groups goes with --describe'],
    [['--describe', '--group', 'g', '--all-groups'], 'Give --group or --all-groups, not both'],
  ])('%j is a usage error', async (argv, message) => {
    const result = await runCli(['groups', ...bootstrap, ...argv]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});

describe("sluice consume's group configs (--consumer-property)", () => {
  it('takes group.id, auto.offset.reset, partition.assignment.strategy and enable.auto.commit', async () => {
    await broker.engine.createTopic('configured', { partitions: 2 });
    await broker.engine.produce('configured', Array.from({ length: 10 }, (_, i) => ({ value: `c${i}`, partition: i % 2 })));
    const member = runCli(['consume', ...bootstrap, '--topic', 'configured', '--max-messages', '11', '--timeout-ms', '60000',
      '--consumer-property', 'group.id=configured-group', '--consumer-property', 'auto.offset.reset=earliest',
      '--consumer-property', 'partition.assignment.strategy=org.apache.kafka.clients.consumer.RoundRobinAssignor',
      '--consumer-property', 'enable.auto.commit=false'], { timeoutMs: 90_000 });
    const deadline = Date.now() + 60_000;
    while (broker.groups.describeGroup('configured-group').groupState !== 'Stable') {
      if (Date.now() > deadline) throw new Error('the consumer never joined');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const state = await runCli(['groups', ...bootstrap, '--describe', '--group', 'configured-group', '--state']);
    expect(state.stdout.split('\n').find((line) => line.startsWith('configured-group'))!.trim().split(/\s+/).slice(3)).toEqual(['roundrobin', 'Stable', '1']);
    await broker.engine.produce('configured', [{ value: 'c10', partition: 0 }]);
    const result = await member;
    expect(result.code).toBe(0);
    // auto.offset.reset=earliest: from the beginning, without --from-beginning.
    expect(result.stdout.trimEnd().split('\n').sort()).toEqual(Array.from({ length: 11 }, (_, i) => `c${i}`).sort());
    // enable.auto.commit=false: nothing committed.
    const offsets = broker.groups.fetchOffsets('configured-group', [{ name: 'configured', partitionIndexes: [0, 1] }]);
    expect(offsets.topics[0]!.partitions.map((p) => p.committedOffset)).toEqual([-1, -1]);
  });

  it.each([
    [['consume', '--topic', 'orders', '--consumer-property', 'session.timeout.ms=10000'], '--consumer-property session.timeout.ms acts only in a group: give --group'],
    [['consume', '--topic', 'orders', '--from-beginning', '--consumer-property', 'auto.offset.reset=latest'], '--from-beginning and auto.offset.reset=latest cannot be given together'],
    [['consume', '--topic', 'orders', '--group', 'g', '--consumer-property', 'partition.assignment.strategy=org.apache.kafka.clients.consumer.StickyAssignor'], 'is not an assignor sluice has'],
    [['perf', 'consume', '--topic', 'orders', '--messages', '1', '--consumer-property', 'session.timeout.ms=10000'], 'perf consume reads without a group unless --group is given'],
    [['perf', 'consume', '--topic', 'orders', '--messages', '1', '--group', 'g', '--consumer-property', 'auto.offset.reset=latest'], 'perf consume starts from the beginning, or the end with --from-latest'],
    [['consume', '--topic', 'orders', '--group', 'g1', '--consumer-property', 'group.id=g2'], "The group ids given in different places (--group and group.id) do not match: 'g1', 'g2'"],
    // Kafka 4.2's names (KIP-1147), each refused beside the old name it replaces, as in Kafka.
    [['consume', '--topic', 'orders', '--consumer-property', 'fetch.min.bytes=1', '--command-property', 'fetch.min.bytes=2'], '--consumer-property and --command-property cannot be given together'],
    [['consume', '--topic', 'orders', '--consumer.config', 'a.properties', '--command-config', 'b.properties'], '--consumer.config and --command-config cannot be given together'],
    [['consume', '--topic', 'orders', '--property', 'print.key=true', '--formatter-property', 'print.key=false'], '--property and --formatter-property cannot be given together'],
    [['consume', '--topic', 'orders', '--command-property', 'session.timeout.ms=10000'], 'session.timeout.ms acts only in a group: give --group'],
  ])('%j is a usage error', async (argv, message) => {
    const result = await runCli([...argv, ...bootstrap]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});

describe('sluice groups --delete-offsets', () => {
  const deleteOffsets = (group: string, ...topics: string[]) => runCli(['groups', ...bootstrap, '--delete-offsets', '--group', group, ...topics.flatMap((t) => ['--topic', t])]);

  it("deletes the partitions named, in kafka-consumer-groups' format", async () => {
    await broker.engine.createTopic('ledger', { partitions: 3 });
    await broker.engine.produce('ledger', Array.from({ length: 9 }, (_, i) => ({ value: `entry-${i}`, partition: i % 3 })));
    expect((await runCli(['groups', ...bootstrap, '--reset-offsets', '--group', 'archive', '--topic', 'ledger', '--to-latest', '--execute'])).code).toBe(0);

    const deleted = await deleteOffsets('archive', 'ledger:0,2');
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe(
      'Request succeeded for deleting offsets from group archive.\n' +
        '\n' +
        'TOPIC           PARTITION  STATUS         \n' +
        'ledger          0          Successful     \n' +
        'ledger          2          Successful     \n',
    );
    const rows = describeRows((await runCli(['groups', ...bootstrap, '--describe', '--group', 'archive'])).stdout);
    expect(rows.slice(1).map((row) => [row[1], row[2], row[3]])).toEqual([['ledger', '1', '3']]);

    // A partition or topic that does not exist: a row with Kafka's message each, and exit 1.
    const missing = await deleteOffsets('archive', 'ledger:1,7', 'nowhere');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe(
      '\nError: Encountered some partition-level error, see the follow-up details.\n' +
        '\n' +
        'TOPIC           PARTITION  STATUS         \n' +
        'ledger          1          Successful     \n' +
        'ledger          7          Error: This server does not host this topic-partition.\n' +
        'nowhere         -          Error: This server does not host this topic-partition.\n',
    );
    expect(missing.stderr).toMatch(/^Error: deleting offsets of group archive: 2 of 3 partition\(s\) failed \(UNKNOWN_TOPIC_OR_PARTITION\)\n$/);

    // No offsets left: the group is gone, as in Kafka.
    const gone = await deleteOffsets('archive', 'ledger');
    expect(gone.code).toBe(1);
    expect(gone.stdout).toContain('\nError: The group id does not exist.\n');
    expect(gone.stdout).toContain('ledger          0          Error: The group id does not exist.');
  });

  it('refuses the topics an active group consumes, until it stops', async () => {
    await broker.engine.createTopic('feed', { partitions: 2 });
    await broker.engine.createTopic('legacy');
    expect((await runCli(['groups', ...bootstrap, '--reset-offsets', '--group', 'watchers', '--topic', 'feed', '--topic', 'legacy', '--to-earliest', '--execute'])).code).toBe(0);
    const member = runCli(['consume', ...bootstrap, '--topic', 'feed', '--group', 'watchers', '--timeout-ms', '60000', '--max-messages', '1'], { timeoutMs: 90_000 });
    const deadline = Date.now() + 60_000;
    while (broker.groups.describeGroup('watchers').groupState !== 'Stable') {
      if (Date.now() > deadline) throw new Error('the consumer never joined');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const refused = await deleteOffsets('watchers', 'feed', 'legacy');
    expect(refused.code).toBe(1);
    expect(refused.stdout.split('\n').slice(4)).toEqual([
      'feed            0          Error: Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.',
      'feed            1          Error: Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.',
      'legacy          0          Successful     ',
      '',
    ]);
    expect(refused.stderr).toMatch(/GROUP_SUBSCRIBED_TO_TOPIC/);

    await broker.engine.produce('feed', [{ value: 'wake up', partition: 0 }]);
    expect((await member).code).toBe(0);
    expect((await deleteOffsets('watchers', 'feed')).code).toBe(0);
  });

  it('needs --topic, and partitions as numbers', async () => {
    expect((await runCli(['groups', ...bootstrap, '--delete-offsets', '--group', 'g'])).code).toBe(2);
    const bad = await deleteOffsets('g', 'ledger:x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--topic expects T or T:P\[,P\.\.\.\]/);
  });
});

describe('parseDurationMs (--by-duration)', () => {
  it("reads java.time.Duration's PnDTnHnMn.nS and nothing else", () => {
    expect(parseDurationMs('PT1H')).toBe(3_600_000);
    expect(parseDurationMs('P1DT12H')).toBe(129_600_000);
    expect(parseDurationMs('PT1M30.5S')).toBe(90_500);
    expect(parseDurationMs('P2D')).toBe(172_800_000);
    for (const bad of ['P', 'PT', '1h', 'PT-1H', 'P1W', '']) expect(parseDurationMs(bad)).toBeNull();
  });
});
