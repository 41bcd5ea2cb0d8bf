// Failover with real clients (issue 8): a 3-broker cluster of `sluice broker` processes and a real
// etcd; topics with replication factor 3 and min.insync.replicas=2. While the leader of each
// partition in turn is SIGKILLed and restarted:
//   - kafkajs produces with acks=all (idempotent) and consumes in a group that commits each record
//     as soon as it has processed it;
//   - @platformatic/kafka produces with acks=all and kcat (librdkafka) consumes in a group;
//   - kcat produces with acks=all (idempotent) and @platformatic/kafka consumes in a group.
// The queue checker (Jepsen-style) then compares every acknowledged record with a final read by
// kcat: nothing lost, unseen, duplicated or reordered; each group read every record, and the
// committed offsets survived. When a group's coordinator moves with its __consumer_offsets
// partition, the new one takes the group over (generation, members, assignments) from the records
// there: kcat's group is assigned once and reads every record exactly once. kafkajs finds a new
// coordinator only by rejoining, so a commit that fails there is a record delivered again; no
// record whose commit was acknowledged is ever delivered again.
// @platformatic/kafka 1.35 (the last release for Node 20) consumes through two failures of its own,
// which it shows against Kafka too, since Kafka's Metadata names no dead broker:
//   - its fetch retries go to the leader it chose first, and fail with "Cannot find broker with
//     node id N" once N is dead: the stream errors, and the application consumes again (a new
//     stream, from the group's committed offsets), as an application of this client does;
//   - a group operation whose coordinator's broker is gone from Metadata throws a TypeError out of
//     its connection pool, which kills the process. Its test therefore never kills its group's
//     coordinator: the topic's replicas put that broker last, so it never leads.
// A broker SIGKILLed and restarted before its session expires (a bounce) leads again only at a new
// leader epoch. Before that was so, kcat's group sometimes rejoined and started over (runs saw 67
// to 404 records redelivered). In the run whose broker logs were kept, the killed broker was the
// controller and led the group's __consumer_offsets partition; restarted, it led everything again
// at its old epochs (no controller had seen it leave), so the next kill hit it again and kcat had
// no coordinator for longer than its 6 s session.
import { Consumer, MessagesStreamModes, Producer, stringDeserializers, stringSerializers, type MessagesStream } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BrokerConnection } from '../../src/client/connection.js';
import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { KafkajsLogTail, kafka, loggingKafka } from '../fixtures/kafkajs.js';
import { kcat } from '../fixtures/kcat.js';
import { kcatMember } from '../fixtures/kcat-group.js';
import { kcatProducer } from '../fixtures/kcat-producer.js';
import { QueueHistory, checkQueue, formatReport } from '../fixtures/queue-checker.js';
import { committedOffsets } from '../fixtures/groups.js';
import { sleep, waitUntil } from './helpers.js';

const TOPIC = 'failover';
/** The topic of the @platformatic/kafka producer and the kcat group. */
const OTHER_TOPIC = 'failover-other';
/** The topic of the kcat producers and the @platformatic/kafka group, created by its test. */
const THIRD_TOPIC = 'failover-third';
/** The topics whose ISRs a kill waits to see full again. */
const topics = [TOPIC, OTHER_TOPIC];
const PARTITIONS = 3;
/** Leader kills: each partition's leader is killed at least once. */
const KILLS = 3;

let cluster: LocalCluster;
let client: any;
let admin: any;

beforeAll(async () => {
  cluster = await startCluster({
    brokers: 3,
    config: {
      'broker.session.timeout.ms': 3000,
      'group.initial.rebalance.delay.ms': 0,
      'replica.lag.time.max.ms': 5000,
      'auto.leader.rebalance.enable': 'false',
    },
  });
  client = kafka(cluster.bootstrapServers.split(','), 'failover-test');
  admin = client.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [TOPIC, OTHER_TOPIC].map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] })),
    waitForLeaders: true,
  });
}, 120_000);

afterAll(async () => {
  await admin?.disconnect().catch(() => {});
  await cluster?.stop();
}, 120_000);

async function leaderOf(partition: number, topic = TOPIC): Promise<number> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0].partitions.find((p: { partitionId: number }) => p.partitionId === partition).leader;
}

async function fullIsr(): Promise<boolean> {
  const metadata = await admin.fetchTopicMetadata({ topics });
  return metadata.topics.every((topic: any) => topic.partitions.every((p: { isr: number[]; leader: number }) => p.isr.length === 3 && p.leader >= 0));
}

/**
 * SIGKILLs the leader of each partition of `topic` in turn, restarting it and waiting for a full
 * ISR each time. `spared`: a broker that must not be killed (the test fails if it leads).
 */
async function killLeaders(topic: string, spared?: number): Promise<void> {
  for (let kill = 0; kill < KILLS; kill++) {
    await sleep(1000);
    const victim = await leaderOf(kill % PARTITIONS, topic);
    if (victim === spared) throw new Error(`broker ${spared} leads ${topic}-${kill % PARTITIONS}; it was to be spared`);
    await cluster.killBroker(victim);
    await sleep(1500);
    await cluster.restartBroker(victim);
    await waitUntil(fullIsr, `every partition back to a full ISR after killing broker ${victim}`, 60_000);
  }
  await sleep(1000);
}

/** The final read: every partition of `topic` from offset 0 to its end, by kcat (librdkafka). */
async function finalRead(topic: string, history: QueueHistory): Promise<Map<number, number>> {
  const read = await kcat(['-b', cluster.bootstrapServers, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p|%o|%s\\n'], '', 60_000);
  const ends = new Map<number, number>();
  for (const line of read.stdout.split('\n').filter((l) => l !== '')) {
    const [partition, offset, value] = line.split('|');
    history.finalRead(Number(partition), Number(offset), value!);
    ends.set(Number(partition), Math.max(ends.get(Number(partition)) ?? 0, Number(offset) + 1));
  }
  return ends;
}

/** Waits until `ready()` says the group read everything; on timeout, fails with the queue report. */
async function waitForGroup(ready: () => boolean | Promise<boolean>, history: QueueHistory, what: string, explain: () => string = () => ''): Promise<void> {
  try {
    await waitUntil(ready, what, 60_000);
  } catch (error) {
    throw new Error(`${(error as Error).message} ${explain()}\n${formatReport(checkQueue(history, { consumedToEnd: true }), 10)}`);
  }
}

/** The lines of kcat's stderr that match `pattern`: the first `limit` when `limit` > 0, else the last -`limit`. */
function kcatLines(stderr: string, pattern: RegExp, limit: number): string {
  const lines = stderr.split('\n').filter((line) => pattern.test(line));
  return (limit > 0 ? lines.slice(0, limit) : lines.slice(limit)).join('\n');
}

/** Where a partition's position came from: assignments, committed offsets fetched, resets. */
const KCAT_POSITION_LINES = /rebalanced|OffsetFetchResponse:|offset reset|OFFSET_OUT_OF_RANGE|Offset out of range/i;
/** Why kcat's group was assigned again: rebalances, session timeouts, heartbeat and coordinator errors. */
const KCAT_SESSION_LINES = /rebalanced|session timed out|HEARTBEAT.*(fail|error)|rejoin|coordinator.*(dead|lost|changed)|CGRPCOORD/i;

const ANOMALIES = ['lost', 'unseen', 'duplicated', 'inconsistentOffsets', 'reorderedPolls', 'reorderedSends', 'skippedPolls', 'unexpected', 'unpolled'] as const;

describe('SIGKILL of partition leaders under acks=all load', () => {
  it('loses, duplicates and reorders nothing acknowledged; the group reads everything and keeps its offsets', async () => {
    const history = new QueueHistory();
    const newProducer = () => client.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 2000 } });
    let producer = newProducer();
    await producer.connect();
    // The consumer logs at debug level into a tail that a failure prints.
    const consumerLog = new KafkajsLogTail();
    const consumer = loggingKafka(cluster.bootstrapServers.split(','), 'failover-consumer', consumerLog).consumer({ groupId: 'failover-group', sessionTimeout: 10_000, heartbeatInterval: 500, retry: { retries: 30 } });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    let joins = 0;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joins++;
      history.rebalanced('kafkajs');
    });
    const crashes: string[] = [];
    consumer.on(consumer.events.CRASH, (event: any) => crashes.push(String(event.payload.error)));
    // The highest offset whose commit was acknowledged, per partition (kafkajs's COMMIT_OFFSETS
    // event comes after the coordinator's answer), and the records delivered below it again.
    const acknowledged = new Map<number, number>();
    const redeliveredAfterCommit: string[] = [];
    consumer.on(consumer.events.COMMIT_OFFSETS, (event: any) => {
      for (const { partition, offset } of event.payload.topics.flatMap((t: any) => t.partitions)) {
        acknowledged.set(Number(partition), Math.max(acknowledged.get(Number(partition)) ?? 0, Number(offset)));
      }
    });
    // Each record is committed as soon as it is processed (autoCommitThreshold 1), on kafkajs's own
    // commit path: a commit that meets NOT_COORDINATOR makes it rejoin at once and so find the
    // group's new coordinator (it looks for one only by rejoining). The one record whose commit
    // failed comes again after the rejoin; consumer.commitOffsets() instead retries against the
    // old coordinator (retries x 1 s) before giving up.
    await consumer.run({
      autoCommit: true,
      autoCommitThreshold: 1,
      eachMessage: async ({ partition, message }: any) => {
        const offset = Number(message.offset);
        if (offset < (acknowledged.get(partition) ?? 0)) redeliveredAfterCommit.push(`${partition}@${offset}`);
        history.polled('kafkajs', partition, offset, message.value.toString());
      },
    });

    let producing = true;
    let sent = 0;
    let acked = 0;
    const producerLoop = (async () => {
      while (producing) {
        const value = `v${sent++}`;
        history.sendStarted(value);
        try {
          const [ack] = await producer.send({ topic: TOPIC, acks: -1, messages: [{ key: value, value }] });
          history.acked(value, ack.partition, Number(ack.baseOffset));
          acked++;
        } catch (error) {
          history.indeterminate(value, String(error));
          // kafkajs 2.2.4 takes back a failed send's sequence numbers even when the leader had
          // appended the batch; its next send would reuse them, and the broker (as Kafka's)
          // would answer it as that duplicate, dropping its records (see the README). A new
          // producer (a new producer id) is what an application does after a failed send.
          await producer.disconnect().catch(() => {});
          producer = newProducer();
          await producer.connect().catch(() => {});
          await sleep(100);
        }
      }
    })();

    await killLeaders(TOPIC);
    // On a busy machine the kills can take most of the sends; the check wants enough acknowledged ones.
    await waitUntil(() => acked > 50, 'more than 50 acknowledged sends', 60_000);
    producing = false;
    await producerLoop;
    await producer.disconnect();

    const ends = await finalRead(TOPIC, history);
    await waitForGroup(
      () => checkQueue(history, { consumedToEnd: true }).counts.unpolled === 0,
      history,
      'the group has read every record',
      () => `(consumer crashes: ${crashes.join('; ') || 'none'}; joins ${joins})\nthe consumer's last log lines:\n${consumerLog.text()}`,
    );
    // kafkajs commits a record after eachMessage returns, so the last commits may still be in
    // flight (or failed, the record to come again after a rejoin) when the last record is polled.
    // A CI run under load read a commit two records short when the consumer was stopped at once.
    // A commit can also take effect unacknowledged, as on Kafka: the coordinator replicates it and
    // is SIGKILLed before it answers. The new coordinator has it, so kafkajs finds nothing to
    // redeliver or commit again (a run saw partition 2 committed at its end, 154, while 153 was
    // the last commit kafkajs saw acknowledged). The wait therefore also asks the group, at most
    // every 500 ms.
    const atEnd = (offsets: (partition: number) => number) => [...Array(PARTITIONS).keys()].every((partition) => offsets(partition) >= (ends.get(partition) ?? 0));
    let askedAtMs = 0;
    let lastCommitted: number[] = [];
    await waitForGroup(
      async () => {
        if (atEnd((partition) => acknowledged.get(partition) ?? 0)) return true;
        if (Date.now() - askedAtMs < 500) return false;
        askedAtMs = Date.now();
        lastCommitted = await committedOffsets(cluster.bootstrapServers.split(',')[0]!, 'failover-group', TOPIC).catch(() => []);
        return atEnd((partition) => lastCommitted[partition] ?? 0);
      },
      history,
      'the group has committed every record it read',
      () => `(acknowledged commits ${JSON.stringify([...acknowledged])}, committed ${JSON.stringify(lastCommitted)}, ends ${JSON.stringify([...ends])})\nthe consumer's last log lines:\n${consumerLog.text()}`,
    );
    await consumer.stop();
    const committed = await committedOffsets(cluster.bootstrapServers.split(',')[0]!, 'failover-group', TOPIC);
    await consumer.disconnect();

    const report = checkQueue(history, { consumedToEnd: true });
    const text = formatReport(report);
    console.log(`failover queue check (kafkajs): ${text.split('\n')[0]}; group joins ${joins}`);
    expect(report.stats.acked, text).toBeGreaterThan(50);
    for (const kind of ANOMALIES) expect(report.counts[kind], `${kind}: ${text}`).toBe(0);
    // Exactly once, but for a record whose commit failed: kafkajs delivers it again after the
    // rejoin that finds the group's new coordinator. A record whose commit was acknowledged never
    // comes again (a CI run once redelivered 51 of 102: a coordinator that came to lead while
    // joining its cluster had not loaded its offsets). kcat's group below is held to exactly once.
    console.log(`failover (kafkajs): ${report.counts.redelivered} redelivered, group joins ${joins}`);
    expect(redeliveredAfterCommit, `records delivered again after their commit was acknowledged; ${text}`).toEqual([]);
    // The committed offsets survived the kills: each partition's commit is at its end.
    for (let partition = 0; partition < PARTITIONS; partition++) expect(committed[partition]).toBe(ends.get(partition) ?? 0);
  }, 300_000);
});

describe('SIGKILL of partition leaders, @platformatic/kafka producing and a kcat group consuming', () => {
  it('loses, duplicates and reorders nothing acknowledged; the kcat group reads every record', async () => {
    const history = new QueueHistory();
    const newProducer = () =>
      new Producer({
        clientId: 'failover-platformatic',
        bootstrapBrokers: cluster.bootstrapServers.split(','),
        serializers: stringSerializers,
        idempotent: true,
        retries: 30,
        retryDelay: 200,
      });
    let producer = newProducer();
    // librdkafka's group and fetch debug lines go to kcat's stderr, whose tail a failure prints.
    // Session 30 s (Kafka's default is 45 s): librdkafka leaves and rejoins the group by its own
    // clock when no heartbeat succeeds within its session, and a coordinator's failover takes the
    // 3 s broker session, an election and a load. With the fixture's 6 s, a CI run on a busy
    // machine once saw a second assignment (nothing redelivered, nothing lost).
    const member = kcatMember(cluster.bootstrapServers, 'failover-kcat', [OTHER_TOPIC], { 'session.timeout.ms': '30000' }, 'cgrp,fetch,topic');
    let producing = true;
    let sent = 0;
    let acked = 0;
    const producerLoop = (async () => {
      while (producing) {
        const value = `p${sent++}`;
        history.sendStarted(value);
        try {
          // acks goes with each send: @platformatic/kafka reads it from the send's options only.
          const result = await producer.send({ messages: [{ topic: OTHER_TOPIC, key: value, value }], acks: -1 });
          const ack = result.offsets?.[0];
          if (ack === undefined) history.indeterminate(value, 'no offset in the answer');
          else {
            history.acked(value, ack.partition, Number(ack.offset));
            acked++;
          }
        } catch (error) {
          history.indeterminate(value, String(error));
          // @platformatic/kafka 1.35 advances an idempotent producer's sequence numbers only when
          // a send succeeds: its next send to that partition would reuse the failed one's. When
          // the failed batch was written after all, the broker, as Kafka's does, answers the next
          // one as a duplicate of it, with its offset, and drops it. A new producer (a new
          // producer id) is what an application does after an indeterminate send with this client.
          await producer.close().catch(() => {});
          producer = newProducer();
          // An application's retry backoff: a cluster mid-failover fails each send at once.
          await sleep(100);
        }
      }
    })();
    try {
      await killLeaders(OTHER_TOPIC);
      // On a busy machine the kills can take most of the sends; the check wants enough acknowledged ones.
      await waitUntil(() => acked > 50, 'more than 50 acknowledged sends', 60_000);
      producing = false;
      await producerLoop;
      await finalRead(OTHER_TOPIC, history);
      const polled = () => {
        for (const line of member.lines.splice(0)) {
          const [, partition, offset, value] = line.split(' ');
          history.polled('kcat', Number(partition), Number(offset), value!);
        }
        return checkQueue(history, { consumedToEnd: true }).counts.unpolled === 0;
      };
      await waitForGroup(polled, history, 'the kcat group has read every record', () => `\nkcat's last lines:\n${member.stderr().split('\n').slice(-300).join('\n')}`);
    } finally {
      producing = false;
      await producer.close().catch(() => {});
      await member.stop();
    }
    const assignments = member.assignments();
    const report = checkQueue(history, { consumedToEnd: true });
    const text = formatReport(report);
    console.log(`failover queue check (platformatic + kcat): ${text.split('\n')[0]}`);
    expect(report.stats.acked, text).toBeGreaterThan(50);
    // Exactly once per group: the group was assigned once, and kept its generation while its
    // coordinator moved, so librdkafka never went back to a commit.
    console.log(`failover (kcat): ${report.counts.redelivered} redelivered, ${assignments} assignments`);
    // librdkafka's own account of where each partition's position came from, for a failure.
    const positions = `\nkcat's rebalances, offset fetches and resets:\n${kcatLines(member.stderr(), KCAT_POSITION_LINES, -60)}`;
    for (const kind of ANOMALIES) expect(report.counts[kind], `${kind}: ${text}${positions}`).toBe(0);
    expect(report.counts.redelivered, `${text}${positions}`).toBe(0);
    expect(assignments, `kcat's assignments and session events:\n${kcatLines(member.stderr(), KCAT_SESSION_LINES, 40)}`).toBe(1);
  }, 300_000);
});

/** The broker that coordinates `groupId` (FindCoordinator; creates __consumer_offsets when it is missing). */
async function groupCoordinator(groupId: string): Promise<number> {
  const [host, port] = cluster.bootstrapServers.split(',')[0]!.split(':');
  const connection = await BrokerConnection.connect({ host: host!, port: Number(port) });
  try {
    let nodeId = -1;
    await waitUntil(async () => {
      const response = await connection.request(ApiKey.FindCoordinator, { key: groupId, keyType: 0, coordinatorKeys: [groupId] });
      const answer = response.coordinators?.[0] ?? response;
      nodeId = answer.errorCode === 0 ? answer.nodeId : -1;
      return nodeId >= 0;
    }, `a coordinator for group ${groupId}`, 30_000);
    return nodeId;
  } finally {
    connection.close();
  }
}

describe('SIGKILL of partition leaders, kcat producing and a @platformatic/kafka group consuming', () => {
  it('loses, duplicates and reorders nothing acknowledged; the group reads everything and keeps its offsets', async () => {
    const groupId = 'failover-platformatic-group';
    // The group's coordinator is spared (see the file's opening comment): it is each partition's
    // last replica, after the two brokers the kills take turns on.
    const coordinator = await groupCoordinator(groupId);
    const [first, second] = [1, 2, 3].filter((id) => id !== coordinator) as [number, number];
    await admin.createTopics({
      topics: [{
        topic: THIRD_TOPIC,
        replicaAssignment: [...Array(PARTITIONS).keys()].map((partition) => ({ partition, replicas: partition % 2 === 0 ? [first, second, coordinator] : [second, first, coordinator] })),
        configEntries: [{ name: 'min.insync.replicas', value: '2' }],
      }],
      waitForLeaders: true,
    });
    topics.push(THIRD_TOPIC);
    const history = new QueueHistory();
    const producers = [...Array(PARTITIONS).keys()].map((partition) =>
      kcatProducer(cluster.bootstrapServers, THIRD_TOPIC, partition, {
        delivered: (value, at, offset) => history.acked(value, at, offset),
        failed: (value, reason) => history.indeterminate(value, reason),
      }),
    );
    const acked = () => producers.reduce((sum, producer) => sum + producer.reports, 0);
    let producing = true;
    let sent = 0;
    const producerLoop = (async () => {
      while (producing) {
        for (const producer of producers) {
          const value = `k${sent}`;
          if (!producer.send(value)) continue;
          history.sendStarted(value);
          sent++;
        }
        await sleep(10);
      }
    })();

    const consumer = new Consumer({
      groupId,
      clientId: 'failover-platformatic-consumer',
      bootstrapBrokers: cluster.bootstrapServers.split(','),
      deserializers: stringDeserializers,
      maxWaitTime: 200,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      retries: 30,
      retryDelay: 200,
    });
    consumer.on('consumer:group:join', () => history.rebalanced('platformatic'));
    // The highest offset whose commit was acknowledged, per partition ('autocommit' comes with the
    // offsets once the coordinator has answered), and the records delivered below it again.
    const acknowledged = new Map<number, number>();
    const redeliveredAfterCommit: string[] = [];
    const streamErrors: string[] = [];
    let consuming = true;
    let stream: MessagesStream<string, string, string, string> | undefined;
    const consumerLoop = (async () => {
      while (consuming) {
        try {
          stream = await consumer.consume({ topics: [THIRD_TOPIC], mode: MessagesStreamModes.COMMITTED, fallbackMode: 'earliest', autocommit: 200 });
          stream.on('autocommit', (error: unknown, offsets?: Array<{ partition: number; offset: bigint }>) => {
            if (error) return;
            for (const { partition, offset } of offsets ?? []) acknowledged.set(partition, Math.max(acknowledged.get(partition) ?? 0, Number(offset)));
          });
          // A new stream starts at the group's committed offsets: a position may go back.
          history.rebalanced('platformatic');
          for await (const message of stream) {
            const offset = Number(message.offset);
            if (offset < (acknowledged.get(message.partition) ?? 0)) redeliveredAfterCommit.push(`${message.partition}@${offset}`);
            history.polled('platformatic', message.partition, offset, message.value);
            if (!consuming) break;
          }
        } catch (error) {
          // The stream failed (its fetches' retries ran out on a dead leader): consume again.
          streamErrors.push(String(error));
          await stream?.close().catch(() => {});
          await sleep(200);
        }
      }
    })();

    let ends = new Map<number, number>();
    try {
      await killLeaders(THIRD_TOPIC, coordinator);
      // On a busy machine the kills can take most of the sends; the check wants enough acknowledged ones.
      await waitUntil(() => acked() > 50, 'more than 50 acknowledged sends', 60_000);
      producing = false;
      await producerLoop;
      await Promise.all(producers.map((producer) => producer.close()));
      for (const producer of producers) expect(producer.unexpectedExit).toBeNull();
      expect(acked()).toBe(sent);
      ends = await finalRead(THIRD_TOPIC, history);
      await waitForGroup(() => checkQueue(history, { consumedToEnd: true }).counts.unpolled === 0, history, 'the group has read every record', () => `(streams failed: ${streamErrors.join('; ') || 'none'})`);
      await waitForGroup(
        () => [...Array(PARTITIONS).keys()].every((partition) => (acknowledged.get(partition) ?? 0) >= (ends.get(partition) ?? 0)),
        history,
        'the group has committed every record it read',
        () => `(acknowledged commits ${JSON.stringify([...acknowledged])}, ends ${JSON.stringify([...ends])})`,
      );
    } finally {
      producing = false;
      consuming = false;
      for (const producer of producers) if (producer.process.exitCode === null) producer.process.kill('SIGKILL');
      await stream?.close().catch(() => {});
      await consumerLoop;
    }
    const committed = await committedOffsets(cluster.bootstrapServers.split(',')[0]!, groupId, THIRD_TOPIC);
    await consumer.close();

    const report = checkQueue(history, { consumedToEnd: true });
    const text = formatReport(report);
    console.log(`failover queue check (kcat + platformatic): ${text.split('\n')[0]}; streams failed ${streamErrors.length}`);
    expect(report.stats.acked, text).toBeGreaterThan(50);
    for (const kind of ANOMALIES) expect(report.counts[kind], `${kind}: ${text}`).toBe(0);
    // At least once: a new stream starts at the last commit, so records read after it come again;
    // a record whose commit was acknowledged never does.
    expect(redeliveredAfterCommit, `records delivered again after their commit was acknowledged; ${text}`).toEqual([]);
    for (let partition = 0; partition < PARTITIONS; partition++) expect(committed[partition]).toBe(ends.get(partition) ?? 0);
  }, 300_000);
});

describe('a leader SIGKILLed and restarted before its session expires (a bounce)', () => {
  it('leads again only at a new leader epoch, even when it was the controller and no controller saw it leave', async () => {
    // The controller leads the topic's one partition, so that killing it leaves no controller to
    // see the old registration go before the restarted broker registers again.
    const controllerId: number = (await admin.describeCluster()).controller;
    const others = [1, 2, 3].filter((id) => id !== controllerId);
    await admin.createTopics({ topics: [{ topic: 'bounce', replicaAssignment: [{ partition: 0, replicas: [controllerId, ...others] }] }], waitForLeaders: true });
    // kafkajs asks Metadata v6, which has no leader epoch (v7+ has): ask v9 of a broker not killed.
    const [host, port] = cluster.bootstrapServers.split(',')[others[0]! - 1]!.split(':');
    const epochOf = async () => {
      const connection = await BrokerConnection.connect({ host: host!, port: Number(port) });
      try {
        const metadata = await connection.request(ApiKey.Metadata, { topics: [{ name: 'bounce', topicId: '00000000-0000-0000-0000-000000000000' }], allowAutoTopicCreation: false }, 9);
        const partition = metadata.topics[0].partitions[0];
        return { leader: partition.leaderId as number, leaderEpoch: partition.leaderEpoch as number, isr: partition.isrNodes as number[] };
      } finally {
        connection.close();
      }
    };
    const before = await epochOf();
    expect(before.leader).toBe(controllerId);
    await cluster.killBroker(controllerId);
    await cluster.restartBroker(controllerId);
    // A write acknowledged by the ISR: the partition is led again, by whichever broker.
    const producer = client.producer({ retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });
    await producer.connect();
    try {
      await producer.send({ topic: 'bounce', acks: -1, messages: [{ value: 'after the bounce' }] });
    } finally {
      await producer.disconnect();
    }
    // Its leadership was its previous incarnation's, which took its high watermark and its
    // followers' positions with it: Kafka's controller handles such a broker as failed and then
    // started, so the partition is led at a new epoch.
    expect((await epochOf()).leaderEpoch).toBeGreaterThan(before.leaderEpoch);
  }, 120_000);
});
