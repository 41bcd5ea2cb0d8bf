#!/usr/bin/env node
// `sluice <command> [options]`: a broker and the Kafka console tools over it. Each command lives
// in its own module, loaded only when asked for (dump-log needs no client, topics no engine).
import fs from 'node:fs';

import { helpText, parseArgs, wantsHelp } from './args.js';
import { drainStdio, reportError, type Command } from './command.js';

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  broker: { summary: 'Run a broker (Kafka protocol) on a data directory.', load: async () => (await import('./broker.js')).brokerCommand },
  cluster: {
    summary: 'Run a local cluster: N brokers and an etcd on this machine, in the foreground.',
    load: async () => (await import('./cluster.js')).clusterCommand,
  },
  topics: { summary: 'Create, list, describe and delete topics (kafka-topics).', load: async () => (await import('./topics.js')).topicsCommand },
  configs: { summary: 'Describe and alter topic and broker configs (kafka-configs).', load: async () => (await import('./configs.js')).configsCommand },
  acls: { summary: 'Add, remove and list ACLs (kafka-acls).', load: async () => (await import('./acls.js')).aclsCommand },
  produce: { summary: 'Send lines from stdin as records (kafka-console-producer).', load: async () => (await import('./produce.js')).produceCommand },
  consume: { summary: 'Print records of a topic (kafka-console-consumer).', load: async () => (await import('./consume.js')).consumeCommand },
  groups: { summary: 'List, describe, reset and delete consumer groups (kafka-consumer-groups).', load: async () => (await import('./groups.js')).groupsCommand },
  'get-offsets': { summary: 'Print the offsets of topic partitions at a time (kafka-get-offsets).', load: async () => (await import('./get-offsets.js')).getOffsetsCommand },
  'delete-records': {
    summary: "Delete partitions' records before an offset (kafka-delete-records).",
    load: async () => (await import('./delete-records.js')).deleteRecordsCommand,
  },
  'log-dirs': {
    summary: "Print the brokers' log directories and each replica's size (kafka-log-dirs).",
    load: async () => (await import('./log-dirs.js')).logDirsCommand,
  },
  'reassign-partitions': {
    summary: 'Move partitions between brokers (kafka-reassign-partitions).',
    load: async () => (await import('./reassign-partitions.js')).reassignPartitionsCommand,
  },
  'leader-election': {
    summary: 'Move leadership to preferred replicas, or elect leaders where none is (kafka-leader-election).',
    load: async () => (await import('./leader-election.js')).leaderElectionCommand,
  },
  features: {
    summary: "Describe the cluster's feature levels and upgrade, downgrade or disable them (kafka-features).",
    load: async () => (await import('./features.js')).featuresCommand,
  },
  'delegation-tokens': {
    summary: 'Create, renew, expire and describe delegation tokens (kafka-delegation-tokens).',
    load: async () => (await import('./delegation-tokens.js')).delegationTokensCommand,
  },
  'broker-api-versions': {
    summary: 'Print the API versions each broker serves (kafka-broker-api-versions).',
    load: async () => (await import('./broker-api-versions.js')).brokerApiVersionsCommand,
  },
  transactions: {
    summary: 'List, describe and abort transactions, and find hanging ones (kafka-transactions).',
    load: async () => (await import('./transactions.js')).transactionsCommand,
  },
  'dump-log': { summary: 'Print the batches and records of a segment file (kafka-dump-log).', load: async () => (await import('./dump-log.js')).dumpLogCommand },
  'perf produce': {
    summary: 'Measure producer throughput and latency (kafka-producer-perf-test).',
    load: async () => (await import('./perf-produce.js')).perfProduceCommand,
  },
  'perf consume': {
    summary: 'Measure consumer throughput (kafka-consumer-perf-test).',
    load: async () => (await import('./perf-consume.js')).perfConsumeCommand,
  },
  'e2e-latency': {
    summary: 'Measure the time from producing a record to reading it back (kafka-e2e-latency).',
    load: async () => (await import('./e2e-latency.js')).e2eLatencyCommand,
  },
};

function version(): string {
  try {
    // ../../package.json from both src/cli/main.ts and dist/cli/main.js.
    return JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 4;
  const lines = ['sluice: a Kafka-compatible log engine and broker', '', 'Usage: sluice <command> [options]', '', 'Commands:'];
  for (const [name, { summary }] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(width)}${summary}`);
  lines.push('', "Run 'sluice <command> --help' for a command's options.");
  return lines.join('\n') + '\n';
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(mainHelp());
    return 2;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(mainHelp());
    return 0;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(`sluice ${version()}\n`);
    return 0;
  }
  let name = first;
  let commandArgs = rest;
  if (first === 'perf') {
    const sub = rest[0];
    if (sub === undefined || sub.startsWith('-')) {
      if (wantsHelp(rest)) {
        process.stdout.write('Usage: sluice perf produce|consume [options]\n\n' + "Run 'sluice perf produce --help' or 'sluice perf consume --help' for their options.\n");
        return 0;
      }
      process.stderr.write("Error: Missing the perf test to run: produce or consume\nSee 'sluice perf --help'\n");
      return 2;
    }
    name = `perf ${sub}`;
    commandArgs = rest.slice(1);
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`Error: Unknown command '${name}'\nSee 'sluice --help'\n`);
    return 2;
  }
  const command = await entry.load();
  try {
    if (wantsHelp(commandArgs)) {
      process.stdout.write(helpText(command.spec));
      return 0;
    }
    return (await command.run(parseArgs(command.spec, commandArgs))) ?? 0;
  } catch (error) {
    return reportError(error, name);
  }
}

// A reader that goes away (`sluice consume ... | head`) ends the command quietly, as with cat.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main(process.argv.slice(2)).then(
  async (code) => {
    await drainStdio();
    process.exit(code);
  },
  async (error) => {
    const code = reportError(error, undefined);
    await drainStdio();
    process.exit(code);
  },
);
