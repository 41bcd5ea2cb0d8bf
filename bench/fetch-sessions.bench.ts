// Incremental fetch sessions (KIP-227) against sessionless fetches of the same partitions, through
// the broker over TCP: a client of a 2,000-partition topic in which nothing new was written (the
// quiet partitions of a wide consumer or follower), fetching with max_wait 0, one request at a
// time. Sessionless, every Fetch names the 2,000 partitions and the answer carries the 2,000;
// in a session (opened by one full fetch at epoch 0), a Fetch names nothing and the answer carries
// nothing, while the broker still reads all 2,000 partitions' state, as Kafka's does. Each subject
// is a round trip through the public wire path: request encoding, the broker's handling and the
// client's decoding of the answer.
//
// Paired rounds, the order alternating; the ratio is the median over rounds of (sessionless time /
// session time), how many times faster a fetch of a session with no news is. Measured on the
// 2-core reference machine, two full runs (`npm run bench -- fetch-sessions`, 9 rounds of 300
// fetches a subject): 4.86 (4.84 ms a sessionless fetch against 0.97 ms in a session; rounds
// 3.82-6.73) and 2.63 (3.85 against 1.47 ms; rounds 2.28-3.10). What a session fetch still costs
// is mostly the broker's read of every partition's state: 0.5-0.7 us a partition, round trip
// included. Reported, not gated.
import { BrokerConnection } from '../src/client/connection.js';
import { startBroker } from '../src/index.js';
import { ApiKey } from '../src/protocol/index.js';
import { benchDir, median, type RunOptions, type SuiteResult } from './harness.js';

const PARTITIONS = 2000;
const FETCH_VERSION = 12;

function fetchRequest(sessionId: number, sessionEpoch: number, partitions: number[]) {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 50 << 20,
    isolationLevel: 0,
    sessionId,
    sessionEpoch,
    topics: partitions.length === 0 ? [] : [{ topic: 'wide', partitions: partitions.map((partition) => ({ partition, fetchOffset: 1, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1, lastFetchedEpoch: -1 })) }],
    forgottenTopicsData: [],
    rackId: '',
  };
}

export async function run(options: RunOptions): Promise<SuiteResult> {
  const rounds = options.quick ? 5 : 9;
  const fetchesPerRound = options.quick ? 100 : 300;
  const broker = await startBroker({ port: 0, dataDir: benchDir('fetch-sessions') });
  const connection = await BrokerConnection.connect({ host: '127.0.0.1', port: broker.port });
  try {
    await broker.engine.createTopic('wide', { partitions: PARTITIONS });
    // One record a partition, read before the rounds: every fetch from offset 1 finds nothing new.
    for (let partition = 0; partition < PARTITIONS; partition++) broker.engine.produce('wide', [{ value: 'x' }], { partition });
    const all = Array.from({ length: PARTITIONS }, (_, partition) => partition);
    const opened = await connection.request(ApiKey.Fetch, fetchRequest(0, 0, all), FETCH_VERSION);
    if (opened.sessionId === 0) throw new Error('the broker opened no fetch session');
    let epoch = 1;
    const subjects = {
      sessionless: () => connection.request(ApiKey.Fetch, fetchRequest(0, -1, all), FETCH_VERSION),
      session: () => connection.request(ApiKey.Fetch, fetchRequest(opened.sessionId, epoch++, []), FETCH_VERSION),
    };
    const timeOf = async (fetch: () => Promise<unknown>): Promise<number> => {
      const startMs = performance.now();
      for (let i = 0; i < fetchesPerRound; i++) await fetch();
      return (performance.now() - startMs) / fetchesPerRound;
    };
    // Warm-up: the JIT and the broker's paths for both.
    await timeOf(subjects.sessionless);
    await timeOf(subjects.session);
    const sessionlessMs: number[] = [];
    const sessionMs: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      let full: number;
      let incremental: number;
      if (round % 2 === 0) {
        full = await timeOf(subjects.sessionless);
        incremental = await timeOf(subjects.session);
      } else {
        incremental = await timeOf(subjects.session);
        full = await timeOf(subjects.sessionless);
      }
      sessionlessMs.push(full);
      sessionMs.push(incremental);
      ratios.push(full / incremental);
    }
    const workload = `Fetch of a ${PARTITIONS}-partition topic with nothing new (max_wait 0), one at a time`;
    return {
      rows: [
        { suite: 'fetch-sessions', workload, subject: 'sluice, sessionless Fetch', medianNs: median(sessionlessMs) * 1e6 },
        { suite: 'fetch-sessions', workload, subject: 'sluice, Fetch in a session (KIP-227)', medianNs: median(sessionMs) * 1e6 },
      ],
      ratios: [
        {
          name: 'fetch_session_vs_sessionless_2000_partitions',
          value: median(ratios),
          description: `a Fetch of ${PARTITIONS} quiet partitions: sessionless time / time in an incremental session, over TCP (median of ${rounds} paired rounds)`,
        },
      ],
      notes: [
        `fetch sessions: ${median(sessionlessMs).toFixed(2)} ms a sessionless fetch of ${PARTITIONS} quiet partitions, ${median(sessionMs).toFixed(2)} ms in a session; per round ${ratios.map((ratio) => ratio.toFixed(2)).join(' ')}`,
      ],
    };
  } finally {
    connection.close();
    await broker.stop();
  }
}
