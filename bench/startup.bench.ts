// Broker start: startBroker({ port: 0 }) in process on a fresh temporary directory, and a broker
// process opening a data directory of 100 partitions (time to listening, and its RSS).
//
// Expected on the 2-core reference machine: well under 100 ms in process; 100 partitions open in
// tens of milliseconds (each is three mapped files and a tail check).
import { Engine } from '../src/engine/engine.js';
import { startBroker } from '../src/index.js';
import { startBrokerProcess } from './broker-harness.js';
import { benchDir, median, timed, type RunOptions, type SuiteResult } from './harness.js';

export async function run(options: RunOptions): Promise<SuiteResult> {
  const rounds = options.quick ? 5 : 15;
  const inProcessMs: number[] = [];
  for (let round = -1; round < rounds; round++) {
    let stop!: () => Promise<void>;
    const ms = await timed(async () => {
      const broker = await startBroker({ port: 0 });
      stop = () => broker.stop();
    });
    await stop();
    if (round >= 0) inProcessMs.push(ms);
  }

  const dataDir = benchDir('startup');
  const engine = await Engine.open({ dataDir });
  for (let topic = 0; topic < 10; topic++) {
    await engine.createTopic(`topic-${topic}`, { partitions: 10 });
    for (let partition = 0; partition < 10; partition++) {
      await engine.produce(`topic-${topic}`, Array.from({ length: 100 }, (_, i) => ({ value: `record-${i}` })), { partition });
    }
  }
  await engine.close();
  const startupMs: number[] = [];
  const rssBytes: number[] = [];
  for (let round = 0; round < Math.max(3, rounds / 3); round++) {
    const broker = await startBrokerProcess(dataDir);
    startupMs.push(broker.startupMs);
    rssBytes.push(broker.rssBytes);
    await broker.stop();
  }
  return {
    rows: [
      { suite: 'startup', workload: 'broker start', subject: 'startBroker, empty temp dir (in process)', medianNs: median(inProcessMs) * 1e6 },
      { suite: 'startup', workload: 'broker start', subject: 'broker process, 100 partitions', medianNs: median(startupMs) * 1e6 },
    ],
    ratios: [],
    notes: [
      `startBroker({ port: 0 }) median ${median(inProcessMs).toFixed(1)} ms (target well under 100 ms)`,
      `broker with 100 partitions: start ${median(startupMs).toFixed(1)} ms, RSS ${(median(rssBytes) / 2 ** 20).toFixed(0)} MiB`,
    ],
  };
}
