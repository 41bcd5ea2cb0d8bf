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
/**
 * 16 KiB segments (Kafka's are 100 MiB): the 100,000 commits (~10 MB) spread over 50 partitions
 * fill ~12 of them each, so compaction has closed segments to clean; the active segment (at most
 * ~150 records a partition) is never cleaned, as in Kafka.
 */
const CONFIG = { 'offsets.topic.num.partitions': 50, 'offsets.topic.segment.bytes': 16 * 1024 };

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
  const recordsBefore = await offsetsRecords(engine);
  await engine.close();

  const uncompactedMs: number[] = [];
  for (let round = 0; round < rounds; round++) uncompactedMs.push(await loadMs(dataDir));

  const compacting = await Engine.open({ dataDir });
  await compacting.compactNow('__consumer_offsets');
  const recordsAfter = await offsetsRecords(compacting);
  await compacting.close();
  const compactedMs: number[] = [];
  for (let round = 0; round < rounds; round++) compactedMs.push(await loadMs(dataDir));

  const label = `${commits.toLocaleString('en')} commits over ${GROUPS.toLocaleString('en')} groups`;
  const timing = (name: string, samplesMs: number[], records: number, state: string, targetMs?: number) => ({
    name,
    medianMs: median(samplesMs),
    maxMs: Math.max(...samplesMs),
    samplesMs,
    targetMs,
    description: `GroupCoordinator.open over ${records.toLocaleString('en')} __consumer_offsets records (${label}), ${state}`,
  });
  return {
    rows: [
      { suite: 'groups', workload: `group coordinator load, ${label}`, subject: 'GroupCoordinator.open, compacted (internal path)', medianNs: median(compactedMs) * 1e6 },
      { suite: 'groups', workload: `group coordinator load, ${label}`, subject: 'GroupCoordinator.open, uncompacted (internal path)', medianNs: median(uncompactedMs) * 1e6 },
    ],
    ratios: [],
    timings: [timing('groups_load_compacted', compactedMs, recordsAfter, 'after compaction', 1000), timing('groups_load_uncompacted', uncompactedMs, recordsBefore, 'not compacted')],
    notes: [
      `group coordinator load, ${label}: ${median(compactedMs).toFixed(0)} ms after compaction (${recordsAfter.toLocaleString('en')} records left; target < 1000 ms), ` +
        `${median(uncompactedMs).toFixed(0)} ms before (${recordsBefore.toLocaleString('en')} records)`,
    ],
  };
}

/** Records in __consumer_offsets (compaction leaves gaps between offsets): what a load reads. */
async function offsetsRecords(engine: Engine): Promise<number> {
  let records = 0;
  for (const { partition } of engine.describeTopic('__consumer_offsets').partitions) {
    const log = engine.partitionLog('__consumer_offsets', partition);
    for (let offset = log.logStartOffset; offset < log.logEndOffset; ) {
      const fetched = await engine.fetch('__consumer_offsets', partition, { offset, maxBytes: 8 * 1024 * 1024 });
      records += fetched.records.length;
      if (fetched.nextOffset <= offset) break;
      offset = fetched.nextOffset;
    }
  }
  return records;
}
