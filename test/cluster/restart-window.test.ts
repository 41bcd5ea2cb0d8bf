// A broker restarted within its session, with min.insync.replicas=1 (Kafka's default): the
// restarted process listens before it has joined its cluster, and requests that reach it then
// wait for the join. Answered at once, they found no cluster yet and took the single broker's
// path: it acknowledged acks=all writes into its own log, which the newly elected leader's
// epoch then truncated away (3 of 6 bounces under a kafkajs producer lost acknowledged records).
// Here a client hammers the restarted broker's address with acks=all Produce requests from the
// moment it was killed until well after it is back; whatever it acknowledges must be in the final
// log (queue checker).
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BrokerConnection } from '../../src/client/connection.js';
import { startCluster, type LocalCluster } from '../../src/cluster/start-cluster.js';
import { ApiKey } from '../../src/protocol/api-keys.js';
import { encodeBatch } from '../../src/record/batch.js';
import { kafka } from '../fixtures/kafkajs.js';
import { kcat } from '../fixtures/kcat.js';
import { QueueHistory, checkQueue, formatReport } from '../fixtures/queue-checker.js';
import { sleep, waitUntil } from './helpers.js';

const TOPIC = 'window';

// The restart must land within the killed broker's session, which is this test's premise: the
// restarted broker then finds itself named leader by a state older than its registration. A
// restart (a process spawn and the broker's start) took 1.3 s on a quiet machine, 2.3 s from the
// kill with the pause below; on a loaded CI machine a 3 s session expired first, the controller
// elected broker 1 before broker 2 was back, and broker 2's log lacked the line checked below.
// Nothing here waits for the session to expire: a new registration has the controller elect again.
const SESSION_TIMEOUT_MS = 15_000;

let cluster: LocalCluster;
let admin: any;

beforeAll(async () => {
  cluster = await startCluster({ brokers: 2, config: { 'broker.session.timeout.ms': SESSION_TIMEOUT_MS, 'auto.leader.rebalance.enable': 'false' } });
  admin = kafka(cluster.bootstrapServers.split(','), 'restart-window').admin();
  await admin.connect();
}, 120_000);

afterAll(async () => {
  await admin?.disconnect().catch(() => {});
  await cluster?.stop();
}, 120_000);

async function metadata(): Promise<{ leader: number; isr: number[] }> {
  const answer = await admin.fetchTopicMetadata({ topics: [TOPIC] });
  return answer.topics[0].partitions[0];
}

describe('a leader SIGKILLed and restarted within its session', () => {
  it('acknowledges no write before it has rejoined the cluster: nothing acknowledged is lost', async () => {
    await admin.createTopics({ topics: [{ topic: TOPIC, replicaAssignment: [{ partition: 0, replicas: [2, 1] }], configEntries: [{ name: 'min.insync.replicas', value: '1' }] }], waitForLeaders: true });
    const history = new QueueHistory();
    const broker = cluster.broker(2);
    let sent = 0;
    let answered = 0;
    let hammering = true;
    // One record a request, straight to broker 2, reconnecting at once when it is down.
    const hammer = (async () => {
      while (hammering) {
        let connection: BrokerConnection;
        try {
          connection = await BrokerConnection.connect({ host: broker.host, port: broker.port, requestTimeoutMs: 10_000 });
        } catch {
          await sleep(2);
          continue;
        }
        try {
          while (hammering) {
            const value = `h${sent++}`;
            history.sendStarted(value);
            try {
              const response = await connection.request(ApiKey.Produce, {
                transactionalId: null,
                acks: -1,
                timeoutMs: 5000,
                topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: encodeBatch([{ value: Buffer.from(value) }]) }] }],
              });
              const { errorCode, baseOffset } = response.responses[0].partitionResponses[0];
              answered++;
              if (errorCode === 0) history.acked(value, 0, Number(baseOffset));
              else history.failed(value, `error ${errorCode}`);
            } catch (error) {
              history.indeterminate(value, String(error));
              break;
            }
          }
        } finally {
          connection.close();
        }
      }
    })();
    await waitUntil(() => answered >= 200, '200 answers from the leader before the kill');
    await cluster.killBroker(2);
    const killedAtMs = Date.now();
    await sleep(1000);
    await cluster.restartBroker(2);
    const restartedAfterMs = Date.now() - killedAtMs;
    // Broker 1 leads now (broker 2 came back as a new incarnation); broker 2 follows it.
    await waitUntil(async () => {
      const now = await metadata();
      return now.leader === 1 && now.isr.length === 2;
    }, 'broker 1 leading with broker 2 back in the ISR', 60_000);
    const after = answered;
    await waitUntil(() => answered >= after + 50, '50 more answers from the restarted broker');
    hammering = false;
    await hammer;

    const read = await kcat(['-b', cluster.bootstrapServers, '-C', '-t', TOPIC, '-o', 'beginning', '-e', '-q', '-f', '%p|%o|%s\\n'], '', 60_000);
    for (const line of read.stdout.split('\n').filter((l) => l !== '')) {
      const [partition, offset, value] = line.split('|');
      history.finalRead(Number(partition), Number(offset), value!);
    }
    const report = checkQueue(history, {});
    const text = formatReport(report, 5);
    console.log(`restart window queue check: ${text.split('\n')[0]}`);
    expect(report.stats.acked, text).toBeGreaterThanOrEqual(200);
    for (const kind of ['lost', 'unseen', 'duplicated', 'inconsistentOffsets', 'unexpected'] as const) expect(report.counts[kind], `${kind}: ${text}`).toBe(0);
    // Named leader by a state older than its registration, the restarted broker waited for the
    // controller: it never started a replica fetcher towards itself.
    const log = fs.readFileSync(path.join(cluster.dataDir, 'broker-2.log'), 'utf8');
    expect(restartedAfterMs, 'the restart landed within the session (the premise)').toBeLessThan(SESSION_TIMEOUT_MS);
    expect(log).toContain('named leader by a state older than this registration');
    expect(log).not.toContain('"cause":"replica-fetcher:2:');
  }, 180_000);
});
