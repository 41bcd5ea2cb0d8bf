// `sluice leader-election`: kafka-leader-election. One ElectLeaders request to the controller for
// --all-topic-partitions, one --topic/--partition, or the partitions of a --path-to-json-file
// ({"partitions": [{"topic": "t", "partition": 0}, ...]}), then Kafka's lines:
//   Successfully completed leader election (PREFERRED) for partitions t-0, t-2
//   Valid replica already elected for partitions t-1
//   Error completing leader election (PREFERRED) for partition: t-3: UNKNOWN_TOPIC_OR_PARTITION: ...
// Any partition that could not be elected makes it exit 1 ("N replica(s) could not be elected"),
// as Kafka's tool does. A preferred election moves a partition to the first replica of its
// assignment when that replica is alive and in the ISR; an unclean one elects a leader for a
// partition that has none, from outside the ISR if it must.
import type { ElectionResult, ElectionType } from '../client/client.js';
import type { CommandSpec, ParsedArgs } from './args.js';
import { BOOTSTRAP_FLAG, CliError, connectClient, errorText, OutputBuffer, partitionEntries, readJsonObject, type Command } from './command.js';
import { adminSettings, COMMAND_CONFIG_FLAG } from './client-configs.js';

const ELECTION_TYPES: readonly ElectionType[] = ['preferred', 'unclean'];
const SCOPES = ['topic', 'all-topic-partitions', 'path-to-json-file'] as const;

const spec: CommandSpec = {
  name: 'leader-election',
  summary: 'Move partition leadership to the preferred replica, or elect a leader where there is none, as kafka-leader-election does.',
  usage: '--election-type preferred|unclean (--all-topic-partitions | --topic T --partition P | --path-to-json-file F)',
  flags: [
    BOOTSTRAP_FLAG,
    COMMAND_CONFIG_FLAG,
    { name: 'election-type', type: 'string', valueName: 'TYPE', description: 'preferred, or unclean (a partition without a leader may take one from outside the ISR).', required: true },
    { name: 'all-topic-partitions', type: 'boolean', description: 'Every partition of every topic.' },
    { name: 'topic', type: 'string', valueName: 'T', description: 'One partition of this topic: --partition gives which.' },
    { name: 'partition', type: 'integer', valueName: 'P', description: 'With --topic: the partition.' },
    { name: 'path-to-json-file', type: 'string', valueName: 'F', description: 'The partitions in a JSON file: {"partitions": [{"topic": "t", "partition": 0}, ...]}.' },
  ],
};

export const leaderElectionCommand: Command = {
  spec,
  async run(args) {
    const type = args.string('election-type')!.toLowerCase() as ElectionType;
    if (!ELECTION_TYPES.includes(type)) throw args.usageError(`--election-type expects preferred or unclean, got '${args.string('election-type')}'`);
    const scopes = SCOPES.filter((scope) => args.has(scope));
    if (scopes.length !== 1) throw args.usageError(`Give one and only one of ${SCOPES.map((s) => `--${s}`).join(', ')}`);
    if (args.has('topic') && !args.has('partition')) throw args.usageError('--topic needs --partition');
    if (!args.has('topic') && args.has('partition')) throw args.usageError('--partition goes with --topic only');
    const partitions = scopes[0] === 'all-topic-partitions' ? null : scopes[0] === 'topic' ? [{ topic: args.string('topic')!, partition: args.integer('partition', { min: 0 })! }] : readElectionFile(args);

    const client = await connectClient(args, adminSettings(args));
    try {
      const results = await client.electLeaders(type, partitions);
      return await report(type, results);
    } finally {
      client.close();
    }
  },
};

/** Kafka's election file: {"partitions": [{"topic": name, "partition": index}, ...]}, no partition twice. */
function readElectionFile(args: ParsedArgs): Array<{ topic: string; partition: number }> {
  const file = args.string('path-to-json-file')!;
  return partitionEntries(readJsonObject(file, 'election file'), file).map(({ topic, partition }) => ({ topic, partition }));
}

async function report(type: ElectionType, results: readonly ElectionResult[]): Promise<number> {
  const sorted = [...results].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  const name = ({ topic, partition }: ElectionResult) => `${topic}-${partition}`;
  const elected = sorted.filter((r) => r.error === null);
  const notNeeded = sorted.filter((r) => r.error?.code === 'ELECTION_NOT_NEEDED');
  const failed = sorted.filter((r) => r.error !== null && r.error.code !== 'ELECTION_NOT_NEEDED');
  const label = type.toUpperCase();
  const out = new OutputBuffer();
  if (elected.length > 0) await out.line(`Successfully completed leader election (${label}) for partitions ${elected.map(name).join(', ')}`);
  if (notNeeded.length > 0) await out.line(`Valid replica already elected for partitions ${notNeeded.map(name).join(', ')}`);
  for (const result of failed) await out.line(`Error completing leader election (${label}) for partition: ${name(result)}: ${errorText(result.error!)}`);
  await out.flush();
  if (failed.length > 0) throw new CliError(`${failed.length} replica(s) could not be elected`);
  return 0;
}
