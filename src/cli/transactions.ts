// `sluice transactions <command>`: kafka-transactions. Its commands and tables (columns padded to
// their widest value, each followed by a tab, as Kafka prints them):
//   list                       TransactionalId Coordinator ProducerId TransactionState, from every broker (ListTransactions)
//   describe --transactional-id ID
//                              CoordinatorId TransactionalId ProducerId ProducerEpoch TransactionState
//                              TransactionTimeoutMs CurrentTransactionStartTimeMs TransactionDurationMs TopicPartitions
//   describe-producers --topic T --partition P [--broker-id B]
//                              ProducerId ProducerEpoch LatestCoordinatorEpoch LastSequence LastTimestamp
//                              CurrentTransactionStartOffset, from the leader or broker B (DescribeProducers)
//   abort --topic T --partition P (--start-offset O | --producer-id I --producer-epoch E --coordinator-epoch C)
//                              writes an ABORT marker to the partition's leader (WriteTxnMarkers), as an
//                              operator does for a hanging transaction; --start-offset finds the producer
//                              whose open transaction began there
//   find-hanging (--topic T [--partition P] | --broker-id B) [--max-transaction-timeout MIN]
//                              open transactions older than the timeout that their coordinator does not
//                              know of (Kafka's rule), in Topic Partition ProducerId ProducerEpoch
//                              CoordinatorEpoch StartOffset LastTimestamp Duration(min)
import type { KafkaClient } from '../client/client.js';
import { KafkaErrorCode, SluiceError, kafkaErrorName } from '../errors.js';
import { ApiKey } from '../protocol/api-keys.js';
import type { CommandSpec, ParsedArgs } from './args.js';
import { BOOTSTRAP_FLAG, CliError, connectClient, type Command } from './command.js';
import { adminSettings, COMMAND_CONFIG_FLAG } from './client-configs.js';

const COMMANDS = ['list', 'describe', 'describe-producers', 'abort', 'find-hanging'] as const;
type TransactionsCommand = (typeof COMMANDS)[number];
const COORDINATOR_TYPE_TRANSACTION = 1;

const spec: CommandSpec = {
  name: 'transactions',
  summary: 'List, describe and abort transactions, and find hanging ones, as kafka-transactions does.',
  usage: `${COMMANDS.join('|')} [options]`,
  positionals: ['command'],
  flags: [
    BOOTSTRAP_FLAG,
    COMMAND_CONFIG_FLAG,
    { name: 'transactional-id', type: 'string', valueName: 'ID', description: 'describe: the transactional id.' },
    { name: 'topic', type: 'string', valueName: 'T', description: 'describe-producers, abort, find-hanging: the topic.' },
    { name: 'partition', type: 'integer', valueName: 'P', description: 'describe-producers, abort, find-hanging: the partition.' },
    { name: 'broker-id', type: 'integer', valueName: 'B', description: 'describe-producers: ask this broker (default the leader); find-hanging: search its partitions.' },
    { name: 'start-offset', type: 'integer', valueName: 'O', description: 'abort: the first offset of the transaction to abort.' },
    { name: 'producer-id', type: 'integer', valueName: 'I', description: 'abort: the producer of the transaction.' },
    { name: 'producer-epoch', type: 'integer', valueName: 'E', description: 'abort: its epoch.' },
    { name: 'coordinator-epoch', type: 'integer', valueName: 'C', description: 'abort: its coordinator epoch.' },
    { name: 'max-transaction-timeout', type: 'integer', valueName: 'MIN', description: 'find-hanging: transactions open longer than this many minutes (default 15).' },
  ],
};

/** Kafka's prettyPrintTable: each column padded to its widest value, and a tab after each. */
function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: readonly string[]) => row.map((value, i) => value.padEnd(widths[i]!) + '\t').join('') + '\n';
  return line(headers) + rows.map(line).join('');
}

function check(errorCode: number, what: string, message?: string | null): void {
  if (errorCode !== KafkaErrorCode.NONE) throw new SluiceError(kafkaErrorName(errorCode), `${what}: ${kafkaErrorName(errorCode)}${message ? `: ${message}` : ''}`);
}

interface ActiveProducer {
  producerId: number;
  producerEpoch: number;
  lastSequence: number;
  lastTimestamp: number;
  coordinatorEpoch: number;
  currentTxnStartOffset: number;
}

async function describeProducers(client: KafkaClient, topic: string, partition: number, brokerId?: number): Promise<ActiveProducer[]> {
  const connection = brokerId === undefined ? await client.leaderConnection(topic, partition) : await client.connectionTo(brokerId);
  const response = await connection.request(ApiKey.DescribeProducers, { topics: [{ name: topic, partitionIndexes: [partition] }] });
  const answer = response.topics[0].partitions[0];
  check(answer.errorCode, `Describe the producers of ${topic}-${partition}`, answer.errorMessage);
  return answer.activeProducers.map((p: ActiveProducer) => ({ ...p, producerId: Number(p.producerId), lastTimestamp: Number(p.lastTimestamp), currentTxnStartOffset: Number(p.currentTxnStartOffset) }));
}

async function describeTransaction(client: KafkaClient, transactionalId: string) {
  const coordinator = await client.findCoordinator(transactionalId, COORDINATOR_TYPE_TRANSACTION);
  const response = await (await client.connectionTo(coordinator.nodeId)).request(ApiKey.DescribeTransactions, { transactionalIds: [transactionalId] });
  return { coordinator: coordinator.nodeId, state: response.transactionStates[0] };
}

/** Every broker's transactions, or those of `producerIds` (ListTransactions to each). */
async function listTransactions(client: KafkaClient, producerIds: number[] = []) {
  const out: Array<{ coordinator: number; transactionalId: string; producerId: number; state: string }> = [];
  for (const broker of (await client.metadata([])).brokers) {
    const response = await (await client.connectionTo(broker.nodeId)).request(ApiKey.ListTransactions, { stateFilters: [], producerIdFilters: producerIds, durationFilter: -1 }, 0);
    check(response.errorCode, `List the transactions of broker ${broker.nodeId}`);
    for (const txn of response.transactionStates) out.push({ coordinator: broker.nodeId, transactionalId: txn.transactionalId, producerId: Number(txn.producerId), state: txn.transactionState });
  }
  return out;
}

async function run(client: KafkaClient, command: TransactionsCommand, args: ParsedArgs): Promise<string> {
  const topicPartition = (): [string, number] => {
    const topic = args.string('topic');
    const partition = args.integer('partition', { min: 0 });
    if (topic === undefined || partition === undefined) throw args.usageError(`${command} needs --topic and --partition`);
    return [topic, partition];
  };
  switch (command) {
    case 'list': {
      const listed = await listTransactions(client);
      return table(
        ['TransactionalId', 'Coordinator', 'ProducerId', 'TransactionState'],
        listed.map((t) => [t.transactionalId, String(t.coordinator), String(t.producerId), t.state]),
      );
    }
    case 'describe': {
      const transactionalId = args.string('transactional-id');
      if (transactionalId === undefined) throw args.usageError('describe needs --transactional-id');
      const { coordinator, state } = await describeTransaction(client, transactionalId);
      check(state.errorCode, `Failed to describe transaction state of transactional-id \`${transactionalId}\``);
      const startMs = Number(state.transactionStartTimeMs);
      const partitions = state.topics.flatMap((t: { topic: string; partitions: number[] }) => t.partitions.map((p) => `${t.topic}-${p}`));
      return table(
        ['CoordinatorId', 'TransactionalId', 'ProducerId', 'ProducerEpoch', 'TransactionState', 'TransactionTimeoutMs', 'CurrentTransactionStartTimeMs', 'TransactionDurationMs', 'TopicPartitions'],
        [
          [
            String(coordinator),
            transactionalId,
            String(state.producerId),
            String(state.producerEpoch),
            state.transactionState,
            String(state.transactionTimeoutMs),
            startMs >= 0 ? String(startMs) : 'None',
            startMs >= 0 ? String(Date.now() - startMs) : 'None',
            partitions.join(','),
          ],
        ],
      );
    }
    case 'describe-producers': {
      const [topic, partition] = topicPartition();
      const producers = await describeProducers(client, topic, partition, args.integer('broker-id', { min: 0 }));
      return table(
        ['ProducerId', 'ProducerEpoch', 'LatestCoordinatorEpoch', 'LastSequence', 'LastTimestamp', 'CurrentTransactionStartOffset'],
        producers.map((p) => [String(p.producerId), String(p.producerEpoch), String(p.coordinatorEpoch), String(p.lastSequence), String(p.lastTimestamp), p.currentTxnStartOffset >= 0 ? String(p.currentTxnStartOffset) : 'None']),
      );
    }
    case 'abort': {
      const [topic, partition] = topicPartition();
      let marker: { producerId: number; producerEpoch: number; coordinatorEpoch: number };
      const startOffset = args.integer('start-offset', { min: 0 });
      if (startOffset !== undefined) {
        const open = (await describeProducers(client, topic, partition)).find((p) => p.currentTxnStartOffset === startOffset);
        if (open === undefined) throw new CliError(`Could not find any open transactions starting at offset ${startOffset} on partition ${topic}-${partition}`);
        marker = { producerId: open.producerId, producerEpoch: open.producerEpoch, coordinatorEpoch: Math.max(open.coordinatorEpoch, 0) };
      } else {
        const producerId = args.integer('producer-id', { min: 0 });
        const producerEpoch = args.integer('producer-epoch', { min: 0, max: 32767 });
        const coordinatorEpoch = args.integer('coordinator-epoch', { min: 0 });
        if (producerId === undefined || producerEpoch === undefined || coordinatorEpoch === undefined) {
          throw args.usageError('abort needs --start-offset, or --producer-id, --producer-epoch and --coordinator-epoch');
        }
        marker = { producerId, producerEpoch, coordinatorEpoch };
      }
      const connection = await client.leaderConnection(topic, partition);
      const response = await connection.request(ApiKey.WriteTxnMarkers, {
        markers: [{ ...marker, transactionResult: false, topics: [{ name: topic, partitionIndexes: [partition] }] }],
      });
      check(response.markers[0].topics[0].partitions[0].errorCode, `Failed to abort the transaction of producer ${marker.producerId} on ${topic}-${partition}`);
      return '';
    }
    case 'find-hanging':
      return findHanging(client, args);
  }
}

/**
 * Kafka's find-hanging: open transactions (DescribeProducers) older than the timeout whose
 * producer no coordinator lists, or whose coordinator does not count the partition in them.
 */
async function findHanging(client: KafkaClient, args: ParsedArgs): Promise<string> {
  const topic = args.string('topic');
  const partition = args.integer('partition', { min: 0 });
  const brokerId = args.integer('broker-id', { min: 0 });
  if (topic === undefined && brokerId === undefined) throw new CliError('The `find-hanging` command requires either --topic or --broker-id to limit the scope of the search');
  if (partition !== undefined && topic === undefined) throw new CliError('The --partition argument requires --topic to be provided');
  const maxTimeoutMs = args.integer('max-transaction-timeout', { min: 0, fallback: 15 }) * 60_000;
  const metadata = await client.metadata(topic === undefined ? undefined : [topic]);
  const partitions = metadata.topics.flatMap((t) =>
    t.partitions
      .filter((p) => (partition === undefined || p.partition === partition) && (brokerId === undefined || p.replicas.includes(brokerId)))
      .map((p) => ({ topic: t.name, partition: p.partition, leader: p.leader })),
  );
  const now = Date.now();
  const open: Array<{ topic: string; partition: number; producer: ActiveProducer }> = [];
  for (const p of partitions) {
    for (const producer of await describeProducers(client, p.topic, p.partition, brokerId)) {
      if (producer.currentTxnStartOffset >= 0 && now - producer.lastTimestamp > maxTimeoutMs) open.push({ topic: p.topic, partition: p.partition, producer });
    }
  }
  const hanging = [];
  if (open.length > 0) {
    const listed = await listTransactions(client, [...new Set(open.map((o) => o.producer.producerId))]);
    for (const candidate of open) {
      const owner = listed.find((t) => t.producerId === candidate.producer.producerId);
      if (owner === undefined) {
        hanging.push(candidate);
        continue;
      }
      const { state } = await describeTransaction(client, owner.transactionalId);
      const inTransaction = state.errorCode === 0 && state.topics.some((t: { topic: string; partitions: number[] }) => t.topic === candidate.topic && t.partitions.includes(candidate.partition));
      if (!inTransaction) hanging.push(candidate);
    }
  }
  return table(
    ['Topic', 'Partition', 'ProducerId', 'ProducerEpoch', 'CoordinatorEpoch', 'StartOffset', 'LastTimestamp', 'Duration(min)'],
    hanging.map(({ topic: t, partition: p, producer }) => [
      t,
      String(p),
      String(producer.producerId),
      String(producer.producerEpoch),
      String(producer.coordinatorEpoch),
      String(producer.currentTxnStartOffset),
      String(producer.lastTimestamp),
      String(Math.floor((now - producer.lastTimestamp) / 60_000)),
    ]),
  );
}

export const transactionsCommand: Command = {
  spec,
  async run(args) {
    const command = args.positionals[0] as TransactionsCommand;
    if (!COMMANDS.includes(command)) throw args.usageError(`Unknown transactions command '${args.positionals[0]}': expected one of ${COMMANDS.join(', ')}`);
    const client = await connectClient(args, adminSettings(args));
    try {
      process.stdout.write(await run(client, command, args));
      return 0;
    } finally {
      client.close();
    }
  },
};
