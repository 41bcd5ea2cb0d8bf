// Loading the group coordinator's state: GroupCoordinator.open on a data directory whose
// __consumer_offsets holds 100,000 commits over 1,000 groups (100 each, standalone commits of one
// partition at a time, as an application committing after every batch writes them). The public
// path is the broker's start (the coordinator opens with it); this measures the coordinator alone.
// The load reads every record the topic holds, so it costs what compaction leaves behind.
//
// Expected on the 2-core reference machine: the goal is under 1 s for the 100,000 commits
// once compacted (1,000 groups x 10 partitions = 10,000 live records).
import { GroupCoordinator } from '../src/broker/group/coordinator.js';
import { Engine } from '../src/engine/engine.js';
import { benchDir, median, timed, type RunOptions, type SuiteResult } from './harness.js';

const GROUPS = 1000;
const PARTITIONS = 10;
const CONFIG = { 'offsets.topic.num.partitions': 50 };

async function loadMs(dataDir: string): Promise<number> {
  const engine = await Engine.open({ dataDir });
  try {
    let coordinator!: GroupCoordinator;
    const ms = await timed(async () => {
      coordinator = await GroupCoordinator.open(engine, CONFIG);
    });
    await coordinator.close();
    return ms;
  } finally {
    await engine.close();
  }
}

export async function run(options: RunOptions): Promise<SuiteResult> {
  const commits = options.quick ? 20_000 : 100_000;
  const rounds = options.quick ? 3 : 5;
  const dataDir = benchDir('groups');
  const engine = await Engine.open({ dataDir });
  await engine.createTopic('events', { partitions: PARTITIONS });
  const coordinator = await GroupCoordinator.open(engine, CONFIG);
  for (let i = 0; i < commits; i++) {
    const group = `group-${i % GROUPS}`;
    const partition = Math.floor(i / GROUPS) % PARTITIONS;
    await coordinator.commitOffsets({
      groupId: group,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 'events', partitions: [{ partitionIndex: partition, committedOffset: i, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
  }
  await coordinator.close();
  const recordsBefore = offsetsRecords(engine);
  await engine.close();

  const uncompactedMs: number[] = [];
  for (let round = 0; round < rounds; round++) uncompactedMs.push(await loadMs(dataDir));
  const label = `${commits.toLocaleString('en')} commits over ${GROUPS.toLocaleString('en')} groups`;
  return {
    rows: [{ suite: 'groups', workload: `group coordinator load, ${label}`, subject: 'GroupCoordinator.open, uncompacted (internal path)', medianNs: median(uncompactedMs) * 1e6 }],
    ratios: [],
    timings: [
      {
        name: 'groups_load_uncompacted',
        medianMs: median(uncompactedMs),
        maxMs: Math.max(...uncompactedMs),
        samplesMs: uncompactedMs,
        description: `GroupCoordinator.open over ${recordsBefore.toLocaleString('en')} __consumer_offsets records (${label}), not compacted`,
      },
    ],
    notes: [`group coordinator load, ${label}: ${median(uncompactedMs).toFixed(0)} ms uncompacted (${recordsBefore.toLocaleString('en')} records)`],
  };
}

/** Records in __consumer_offsets: what a load reads. */
function offsetsRecords(engine: Engine): number {
  let records = 0;
  for (const { partition } of engine.describeTopic('__consumer_offsets').partitions) {
    const log = engine.partitionLog('__consumer_offsets', partition);
    records += log.logEndOffset - log.logStartOffset;
  }
  return records;
}
