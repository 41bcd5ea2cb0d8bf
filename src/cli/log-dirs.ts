// `sluice log-dirs --describe`: kafka-log-dirs. Asks each broker (--broker-list, default every live
// one) for its log directories (DescribeLogDirs) and prints Kafka's two lines and its JSON:
//   Querying brokers for log directories information
//   Received log directory information from brokers 1,2
//   {"brokers":[{"broker":1,"logDirs":[{"partitions":[{"partition":"t-0","size":1234,"offsetLag":0,"isFuture":false}],"error":null,"logDir":"/data"}]}],"version":1}
// size is the replica's bytes on disk, offsetLag its distance from the log end (a follower's lag
// behind its leader's high watermark). --topic-list keeps only those topics' replicas. A replica
// being moved to another of the broker's directories (AlterReplicaLogDirs: `sluice
// reassign-partitions` with log_dirs) is listed there too, with isFuture true, until it is done.
import type { CommandSpec } from './args.js';
import { BOOTSTRAP_FLAG, CliError, connectClient, parseBrokerList, type Command } from './command.js';
import { adminSettings, COMMAND_CONFIG_FLAG } from './client-configs.js';

const spec: CommandSpec = {
  name: 'log-dirs',
  summary: "Print the brokers' log directories and the size of each replica, as kafka-log-dirs does.",
  usage: '--describe [--broker-list 1,2] [--topic-list t1,t2] [options]',
  flags: [
    BOOTSTRAP_FLAG,
    COMMAND_CONFIG_FLAG,
    { name: 'describe', type: 'boolean', description: 'Describe the log directories of the brokers.', required: true },
    { name: 'broker-list', type: 'string', valueName: 'IDS', description: 'Brokers to ask, separated by commas (default every live broker).' },
    { name: 'topic-list', type: 'string', valueName: 'TOPICS', description: 'Topics whose replicas to list, separated by commas (default every topic).' },
  ],
};

export const logDirsCommand: Command = {
  spec,
  async run(args) {
    const asked = parseBrokerList(args);
    const topics = new Set((args.string('topic-list') ?? '').split(',').map((t) => t.trim()).filter((t) => t !== ''));
    const client = await connectClient(args, adminSettings(args));
    try {
      const live = (await client.metadata([])).brokers.map((b) => b.nodeId).sort((a, b) => a - b);
      const missing = asked.filter((id) => !live.includes(id));
      if (missing.length > 0) throw new CliError(`The given brokers do not exist from --broker-list: ${missing.join(',')}. Current existent brokers: ${live.join(',')}`);
      const brokers = asked.length > 0 ? asked : live;
      process.stdout.write('Querying brokers for log directories information\n');
      const described = [];
      for (const broker of brokers) {
        const dirs = await client.logDirs(broker, null);
        described.push({
          broker,
          logDirs: dirs.map((dir) => ({
            partitions: dir.partitions
              .filter((p) => topics.size === 0 || topics.has(p.topic))
              .map((p) => ({ partition: `${p.topic}-${p.partition}`, size: p.sizeBytes, offsetLag: p.offsetLag, isFuture: p.isFuture })),
            error: dir.error === null ? null : dir.error.code,
            logDir: dir.logDir,
          })),
        });
      }
      process.stdout.write(`Received log directory information from brokers ${brokers.join(',')}\n`);
      process.stdout.write(`${JSON.stringify({ brokers: described, version: 1 })}\n`);
      return 0;
    } finally {
      client.close();
    }
  },
};
