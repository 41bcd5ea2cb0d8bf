// Consumer groups of kafkajs and of @platformatic/kafka members, each in its own process (the kcat
// version is in groups-clients.test.ts): three members on a six-partition topic receive every
// record exactly once; one killed with SIGKILL loses its partitions to the others after its
// session timeout, with no record skipped; a restarted member resumes from the committed offsets.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startBrokerProcess, type BrokerProcess } from '../fixtures/broker.js';
import { runFixture, type Child } from '../fixtures/child.js';
import { kafka } from '../fixtures/kafkajs.js';
import { kcat } from '../fixtures/kcat.js';
import { waitUntil } from '../fixtures/kcat-group.js';
import { waitForStableGroup } from '../fixtures/groups.js';
import { tempDir } from '../helpers.js';

let broker: BrokerProcess;
const members: Child[] = [];

beforeAll(async () => {
  broker = await startBrokerProcess(tempDir(), { 'group.initial.rebalance.delay.ms': 0 });
});

afterEach(async () => {
  for (const member of members.splice(0)) {
    member.process.kill('SIGKILL');
    await member.exited;
  }
});

afterAll(async () => {
  await broker?.stop();
});

async function startMember(client: string, group: string, topic: string): Promise<Child> {
  const member = runFixture('group-consumer-process.ts', [client, broker.address, group, topic]);
  members.push(member);
  await member.waitFor('ready');
  return member;
}

const valuesOf = (member: Child) => member.lines.filter((line) => line.startsWith('record ')).map((line) => line.split(' ')[3]!);

async function produce(topic: string, prefix: string, count: number): Promise<string[]> {
  const values = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await kcat(['-b', broker.address, '-P', '-t', topic, '-K', ':'], values.map((v) => `k-${v}:${v}`).join('\n') + '\n');
  return values;
}

for (const client of ['kafkajs', 'platformatic']) {
  describe(`${client} consumer group`, () => {
    it('shares six partitions exactly once, survives a killed member, resumes after a restart', async () => {
      const topic = `members-${client}`;
      const group = `group-${client}`;
      const admin = kafka([broker.address]).admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
      await admin.disconnect();

      const group3 = [await startMember(client, group, topic), await startMember(client, group, topic), await startMember(client, group, topic)];
      // Records produced during the joins may be read twice (at least once across a rebalance);
      // exactly once is the promise of a stable group.
      await waitForStableGroup(broker.address, group, 3);
      const first = await produce(topic, 'a', 600);
      const all = () => group3.flatMap(valuesOf);
      await waitUntil(() => new Set(all()).size === 600, 'the first 600 records', 60_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(all().sort()).toEqual([...first].sort()); // exactly once in steady state

      group3[0]!.process.kill('SIGKILL');
      await group3[0]!.exited;
      const second = await produce(topic, 'b', 600);
      const survivors = group3.slice(1);
      await waitUntil(() => second.every((v) => survivors.some((m) => valuesOf(m).includes(v))), 'the next 600 records on the survivors', 60_000);

      for (const member of survivors) {
        member.process.kill('SIGTERM'); // a clean stop commits
        await member.exited;
      }
      const restarted = await startMember(client, group, topic);
      const third = await produce(topic, 'c', 60);
      await waitUntil(() => third.every((v) => valuesOf(restarted).includes(v)), 'the last 60 records', 60_000);
      expect(valuesOf(restarted).filter((v) => v.startsWith('a-'))).toEqual([]);
    }, 120_000);
  });
}
