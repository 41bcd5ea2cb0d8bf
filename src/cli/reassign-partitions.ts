// `sluice reassign-partitions`: kafka-reassign-partitions' actions, files and output, over
// AlterPartitionReassignments and ListPartitionReassignments (sent to the controller).
//
//   --generate --topics-to-move-json-file F --broker-list 1,2,3
//       F: {"version":1,"topics":[{"topic":"t"}]}. Prints the current assignment of those topics
//       and a proposed one over the listed brokers (Kafka's assignment, rack-aware when brokers have
//       broker.rack unless --disable-rack-aware, each topic keeping its replication factor), both
//       in the reassignment file format:
//       {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2],"log_dirs":["any","any"]}]}
//   --execute --reassignment-json-file F [--throttle B] [--replica-alter-log-dirs-throttle B]
//             [--additional] [--timeout MS]
//                                          starts the moves; prints the current assignment first
//                                          (to save for a rollback), as Kafka's tool does; refused
//                                          while other moves are in flight, unless --additional. With
//                                          --throttle (bytes/s), the moves' replication is throttled
//                                          first, as Kafka's tool throttles it: each moving partition's
//                                          current replicas in leader.replication.throttled.replicas,
//                                          its new ones in follower.replication.throttled.replicas,
//                                          and leader/follower.replication.throttled.rate = B on every
//                                          broker of the old and new replica sets. A replica whose
//                                          log_dirs entry names a directory is then moved there on
//                                          its broker (AlterReplicaLogDirs), retried every 100 ms
//                                          until its broker holds it, for --timeout (10000 ms); with
//                                          --replica-alter-log-dirs-throttle (bytes/s) those brokers'
//                                          replica.alter.log.dirs.io.max.bytes.per.second is set first
//   --verify  --reassignment-json-file F [--preserve-throttles]
//                                          says of each partition whether its move is done, and of
//                                          each replica with a log_dirs entry whether it is in that
//                                          directory (DescribeLogDirs); once all are, clears the
//                                          throttles (the rates on every live broker and the file's,
//                                          the replica lists of the file's topics)
//   --cancel  --reassignment-json-file F   cancels the moves still in flight (back to the original replicas)
//   --list                                 the moves in flight, with the replicas being added and removed
// log_dirs: "any" or an absolute path for each replica, as Kafka's file has it.

import type { KafkaClient, OngoingReassignment } from '../client/client.js';
import { CONFIG_RESOURCE_TYPE } from '../protocol/apis/describe-configs.js';
import path from 'node:path';

import { REPLICA_ALTER_LOG_DIRS_IO_MAX_BYTES_PER_SECOND, REPLICATION_THROTTLED_RATE_NAMES } from '../broker/replication-quotas.js';
import { KafkaErrorCode, kafkaErrorName } from '../errors.js';
import { assignReplicas } from '../cluster/replica-assignment.js';
import type { CommandSpec } from './args.js';
import { BOOTSTRAP_FLAG, CliError, connectClient, parseBrokerList, partitionEntries, readJsonObject, type Command } from './command.js';
import { adminSettings, COMMAND_CONFIG_FLAG } from './client-configs.js';

const ACTIONS = ['generate', 'execute', 'verify', 'cancel', 'list'] as const;

interface PartitionMove {
  topic: string;
  partition: number;
  replicas: number[];
  /** log_dirs: for each replica, "any" or the directory its broker is to keep it in. */
  logDirs?: string[];
}

/** A replica to move to a log directory of its broker (a log_dirs entry other than "any"). */
interface LogDirMove {
  topic: string;
  partition: number;
  broker: number;
  logDir: string;
}

const ANY_LOG_DIR = 'any';
/** Kafka's tool retries a log dir move its broker cannot start yet every 100 ms, for --timeout (10 s). */
const LOG_DIR_MOVE_RETRY_MS = 100;
const LOG_DIR_MOVE_TIMEOUT_MS = 10_000;
/** Answers to a log dir move that its broker does not hold the replica yet (a reassignment adds it): retried. */
const NOT_HELD_YET: ReadonlySet<number> = new Set([KafkaErrorCode.NOT_LEADER_OR_FOLLOWER, KafkaErrorCode.REPLICA_NOT_AVAILABLE]);

const spec: CommandSpec = {
  name: 'reassign-partitions',
  summary: 'Move partitions between brokers, as kafka-reassign-partitions does.',
  usage: '--generate|--execute|--verify|--cancel|--list [options]',
  flags: [
    BOOTSTRAP_FLAG,
    COMMAND_CONFIG_FLAG,
    { name: 'generate', type: 'boolean', description: 'Propose an assignment of --topics-to-move-json-file over --broker-list.' },
    { name: 'execute', type: 'boolean', description: 'Start the moves of --reassignment-json-file.' },
    { name: 'verify', type: 'boolean', description: 'Say whether the moves of --reassignment-json-file are done.' },
    { name: 'cancel', type: 'boolean', description: 'Cancel the moves of --reassignment-json-file still in flight.' },
    { name: 'list', type: 'boolean', description: 'List the moves in flight.' },
    { name: 'reassignment-json-file', type: 'string', valueName: 'F', description: 'The moves: {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2]}]}.' },
    { name: 'topics-to-move-json-file', type: 'string', valueName: 'F', description: 'With --generate: {"version":1,"topics":[{"topic":"t"}]}.' },
    { name: 'broker-list', type: 'string', valueName: '1,2,3', description: 'With --generate: the brokers to place the replicas on.' },
    { name: 'disable-rack-aware', type: 'boolean', description: "With --generate: place replicas without regard to the brokers' broker.rack." },
    { name: 'additional', type: 'boolean', description: 'With --execute: start these moves although others are in flight (or resubmit them to change --throttle).' },
    { name: 'throttle', type: 'integer', valueName: 'B', description: 'With --execute: throttle the moves\' replication to B bytes/s (run --verify until done to remove it).' },
    {
      name: 'replica-alter-log-dirs-throttle',
      type: 'integer',
      valueName: 'B',
      description: "With --execute: limit the moves between log directories to B bytes/s on each broker moving a replica (run --verify until done to remove it).",
    },
    { name: 'timeout', type: 'integer', valueName: 'MS', description: `With --execute: how long to retry a log directory move its broker cannot start yet (default ${LOG_DIR_MOVE_TIMEOUT_MS}).` },
    { name: 'preserve-throttles', type: 'boolean', description: 'With --verify: keep the throttles when the moves are done.' },
  ],
};

export const reassignPartitionsCommand: Command = {
  spec,
  async run(args) {
    const actions = ACTIONS.filter((action) => args.boolean(action));
    if (actions.length !== 1) throw args.usageError(`Give exactly one of ${ACTIONS.map((a) => `--${a}`).join(', ')}`);
    const action = actions[0]!;
    const needsMoves = action === 'execute' || action === 'verify' || action === 'cancel';
    if (needsMoves && !args.has('reassignment-json-file')) throw args.usageError(`--${action} needs --reassignment-json-file`);
    if (!needsMoves && args.has('reassignment-json-file')) throw args.usageError('--reassignment-json-file goes with --execute, --verify or --cancel');
    if (action === 'generate' && (!args.has('topics-to-move-json-file') || !args.has('broker-list'))) throw args.usageError('--generate needs --topics-to-move-json-file and --broker-list');
    if (action !== 'generate' && (args.has('topics-to-move-json-file') || args.has('broker-list'))) throw args.usageError('--topics-to-move-json-file and --broker-list go with --generate');
    if (action !== 'execute' && ['throttle', 'additional', 'replica-alter-log-dirs-throttle', 'timeout'].some((flag) => args.has(flag))) {
      throw args.usageError('--throttle, --replica-alter-log-dirs-throttle, --additional and --timeout go with --execute');
    }
    if (action !== 'verify' && args.has('preserve-throttles')) throw args.usageError('--preserve-throttles goes with --verify');
    // Kafka's default, -1: no throttle.
    const throttle = args.integer('throttle', { min: -1 }) ?? -1;
    const logDirThrottle = args.integer('replica-alter-log-dirs-throttle', { min: -1 }) ?? -1;
    const timeoutMs = args.integer('timeout', { min: 0 }) ?? LOG_DIR_MOVE_TIMEOUT_MS;
    const moves = needsMoves ? readMoves(args.string('reassignment-json-file')!) : [];
    const client = await connectClient(args, adminSettings(args));
    try {
      switch (action) {
        case 'generate':
          return await generate(client, readTopicsToMove(args.string('topics-to-move-json-file')!), parseBrokerList(args), !args.boolean('disable-rack-aware'));
        case 'execute':
          return await execute(client, moves, { throttle, logDirThrottle, additional: args.boolean('additional'), timeoutMs });
        case 'verify':
          return await verify(client, moves, !args.boolean('preserve-throttles'));
        case 'cancel':
          return await cancel(client, moves);
        case 'list':
          return await list(client);
      }
    } finally {
      client.close();
    }
  },
};

// ---- files ---------------------------------------------------------------------------------------

const isBrokerId = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;

/** A reassignment file: Kafka's {"version":1,"partitions":[{"topic","partition","replicas","log_dirs"?}]}. */
export function parseMoves(json: Record<string, unknown>, file: string): PartitionMove[] {
  return partitionEntries(json, file).map(({ topic, partition, entry, where }) => {
    const replicas = entry['replicas'];
    if (!Array.isArray(replicas) || replicas.length === 0 || !replicas.every(isBrokerId)) throw new CliError(`${where}: "replicas" must be a non-empty list of broker ids`);
    if (new Set(replicas).size !== replicas.length) throw new CliError(`${where}: "replicas" names a broker twice`);
    const logDirs = entry['log_dirs'];
    if (logDirs === undefined) return { topic, partition, replicas: [...replicas] };
    const valid = (dir: unknown) => dir === ANY_LOG_DIR || (typeof dir === 'string' && path.isAbsolute(dir));
    if (!Array.isArray(logDirs) || logDirs.length !== replicas.length || !logDirs.every(valid)) {
      throw new CliError(`${where}: "log_dirs" must give "any" or an absolute path for each replica, as many as "replicas"`);
    }
    return { topic, partition, replicas: [...replicas], logDirs: [...logDirs] };
  });
}

function readMoves(file: string): PartitionMove[] {
  return parseMoves(readJsonObject(file, 'reassignment file'), file);
}

function readTopicsToMove(file: string): string[] {
  const topics = readJsonObject(file, 'topics-to-move file')['topics'];
  if (!Array.isArray(topics) || topics.length === 0 || !topics.every((t: any) => typeof t?.topic === 'string' && t.topic !== '')) {
    throw new CliError(`${file}: "topics" must be a non-empty list of {"topic": name}`);
  }
  return [...new Set(topics.map((t: any) => t.topic as string))];
}

/** Kafka's reassignment file text of `moves` (log_dirs "any" for each replica, as its tool writes). */
export function formatMoves(moves: readonly PartitionMove[]): string {
  const partitions = moves.map(({ topic, partition, replicas }) => ({ topic, partition, replicas, log_dirs: replicas.map(() => 'any') }));
  return JSON.stringify({ version: 1, partitions });
}

const name = ({ topic, partition }: { topic: string; partition: number }) => `${topic}-${partition}`;
/** Kafka's TopicPartitionReplica: `<topic>-<partition>-<broker>`. */
const replicaName = (move: LogDirMove) => `${move.topic}-${move.partition}-${move.broker}`;

/** Log dir moves by broker, in order. */
function byBroker(moves: readonly LogDirMove[]): Map<number, LogDirMove[]> {
  const grouped = new Map<number, LogDirMove[]>();
  for (const move of moves) grouped.set(move.broker, [...(grouped.get(move.broker) ?? []), move]);
  return grouped;
}

/** The replicas the file sends to a directory, ordered as Kafka's tool orders them (broker, topic, partition). */
function logDirMoves(moves: readonly PartitionMove[]): LogDirMove[] {
  const found = moves.flatMap(({ topic, partition, replicas, logDirs }) =>
    (logDirs ?? []).flatMap((logDir, i) => (logDir === ANY_LOG_DIR ? [] : [{ topic, partition, broker: replicas[i]!, logDir }])),
  );
  return found.sort((a, b) => a.broker - b.broker || (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

// ---- actions ---------------------------------------------------------------------------------------

/** The current replicas of the partitions of `topics` (each must exist). */
async function currentAssignment(client: KafkaClient, topics: readonly string[]): Promise<PartitionMove[]> {
  const metadata = await client.metadata([...topics]);
  return topics.flatMap((topic) => {
    const partitions = metadata.topics.find((t) => t.name === topic)?.partitions;
    if (partitions === undefined || partitions.length === 0) throw new CliError(`Topic ${topic} does not exist (UNKNOWN_TOPIC_OR_PARTITION)`);
    return partitions.map(({ partition, replicas }) => ({ topic, partition, replicas: [...replicas] }));
  });
}

async function generate(client: KafkaClient, topics: readonly string[], brokers: readonly number[], rackAware: boolean): Promise<number> {
  const current = await currentAssignment(client, topics);
  const rackOf = new Map((await client.metadata([])).brokers.map((b) => [b.nodeId, rackAware ? b.rack : null]));
  const unknown = brokers.filter((id) => !rackOf.has(id));
  if (unknown.length > 0) throw new CliError(`--broker-list names brokers that are not alive: ${unknown.join(',')}`);
  const candidates = brokers.map((brokerId) => ({ brokerId, rack: rackOf.get(brokerId)! }));
  const proposed: PartitionMove[] = [];
  for (const topic of topics) {
    const partitions = current.filter((move) => move.topic === topic);
    const replicationFactor = partitions[0]!.replicas.length;
    if (replicationFactor > brokers.length) throw new CliError(`Topic ${topic} has ${replicationFactor} replicas a partition, more than the ${brokers.length} brokers of --broker-list`);
    assignReplicas(candidates, partitions.length, replicationFactor).forEach((replicas, partition) => proposed.push({ topic, partition, replicas }));
  }
  process.stdout.write(`Current partition replica assignment\n${formatMoves(current)}\n\nProposed partition reassignment configuration\n${formatMoves(proposed)}\n`);
  return 0;
}

/**
 * Kafka's throttle of a reassignment: per topic, the moving partitions' current replicas throttled
 * as leaders (they send), their new replicas as followers (they catch up); the rate on every broker
 * either set names.
 */
async function throttleMoves(client: KafkaClient, moves: readonly PartitionMove[], current: readonly PartitionMove[], ongoing: readonly OngoingReassignment[], bytesPerSecond: number): Promise<void> {
  const brokers = new Set<number>();
  for (const topic of new Set(moves.map((move) => move.topic))) {
    const leaders = new Set<string>();
    const followers = new Set<string>();
    for (const move of moves.filter((m) => m.topic === topic)) {
      // A partition already moving (--additional) copies from its original replicas, not the ones being added.
      const inFlight = ongoing.find((o) => o.topic === topic && o.partition === move.partition);
      const replicas = current.find((c) => c.topic === topic && c.partition === move.partition)!.replicas;
      const sources = inFlight === undefined ? replicas : replicas.filter((id) => !inFlight.adding.includes(id));
      for (const source of sources) leaders.add(`${move.partition}:${source}`);
      for (const destination of move.replicas) if (!sources.includes(destination)) followers.add(`${move.partition}:${destination}`);
      for (const broker of [...sources, ...move.replicas]) brokers.add(broker);
    }
    await client.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.TOPIC, topic, [
      { name: 'leader.replication.throttled.replicas', value: [...leaders].sort().join(',') },
      { name: 'follower.replication.throttled.replicas', value: [...followers].sort().join(',') },
    ]);
  }
  // A broker's config goes to the broker itself, as Kafka's admin client sends it: one that is not
  // alive is named rather than failing the moves (Kafka's tool would time out on it).
  const live = new Set((await client.metadata([])).brokers.map((broker) => broker.nodeId));
  for (const broker of [...brokers].sort((a, b) => a - b)) {
    if (!live.has(broker)) {
      process.stdout.write(`Broker ${broker} is not alive: its throttle rate is not set\n`);
      continue;
    }
    await client.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, String(broker), REPLICATION_THROTTLED_RATE_NAMES.map((rate) => ({ name: rate, value: String(bytesPerSecond) })));
  }
}

/** The broker-level rates Kafka's tool sets and clears: the inter-broker ones and the log dir moves'. */
const BROKER_THROTTLE_NAMES = [...REPLICATION_THROTTLED_RATE_NAMES, REPLICA_ALTER_LOG_DIRS_IO_MAX_BYTES_PER_SECOND];

/** Kafka's clearAllThrottles, once every move of the file is done: the rates of the live brokers and the file's, the lists of its topics. */
async function clearThrottles(client: KafkaClient, moves: readonly PartitionMove[]): Promise<void> {
  // Kafka's tool clears the live brokers and the file's; a broker of the file that is not alive is
  // left out here (Kafka's would time out on it), which leaves the live ones.
  const brokers = (await client.metadata([])).brokers.map((broker) => broker.nodeId).sort((a, b) => a - b);
  process.stdout.write(`Clearing broker-level throttles on broker${brokers.length === 1 ? '' : 's'} ${brokers.join(',')}\n`);
  for (const broker of brokers) {
    await client.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, String(broker), BROKER_THROTTLE_NAMES.map((rate) => ({ name: rate, value: null })));
  }
  const topics = [...new Set(moves.map((move) => move.topic))];
  process.stdout.write(`Clearing topic-level throttles on topic${topics.length === 1 ? '' : 's'} ${topics.join(',')}\n`);
  for (const topic of topics) {
    await client.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.TOPIC, topic, [
      { name: 'leader.replication.throttled.replicas', value: null },
      { name: 'follower.replication.throttled.replicas', value: null },
    ]);
  }
}

interface ExecuteOptions {
  /** --throttle: bytes/s, or -1 for none. */
  throttle: number;
  /** --replica-alter-log-dirs-throttle: bytes/s, or -1 for none. */
  logDirThrottle: number;
  additional: boolean;
  timeoutMs: number;
}

async function execute(client: KafkaClient, moves: readonly PartitionMove[], { throttle: throttleBytesPerSecond, logDirThrottle, additional, timeoutMs }: ExecuteOptions): Promise<number> {
  const ongoing = await client.listPartitionReassignments(null);
  if (!additional && ongoing.length > 0) {
    throw new CliError(
      'Cannot execute because there is an existing partition assignment.  Use --additional to override this and create a new partition assignment in addition to the existing one. ' +
        'The --additional flag can also be used to change the throttle by resubmitting the current reassignment.',
    );
  }
  const topics = [...new Set(moves.map((move) => move.topic))];
  const current = (await currentAssignment(client, topics)).filter((c) => moves.some((m) => m.topic === c.topic && m.partition === c.partition));
  const missing = moves.filter((m) => !current.some((c) => c.topic === m.topic && c.partition === m.partition));
  if (missing.length > 0) throw new CliError(`Unknown partitions (UNKNOWN_TOPIC_OR_PARTITION): ${missing.map(name).join(',')}`);
  process.stdout.write(`Current partition replica assignment\n\n${formatMoves(current)}\n\nSave this to use as the --reassignment-json-file option during rollback\n`);
  const replicaMoves = logDirMoves(moves);
  if (throttleBytesPerSecond >= 0 || logDirThrottle >= 0) {
    process.stdout.write('Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.\n');
  }
  if (throttleBytesPerSecond >= 0) {
    await throttleMoves(client, moves, current, ongoing, throttleBytesPerSecond);
    process.stdout.write(`The inter-broker throttle limit was set to ${throttleBytesPerSecond} B/s\n`);
  }
  if (logDirThrottle >= 0) {
    for (const broker of byBroker(replicaMoves).keys()) {
      await client.incrementalAlterConfigs(CONFIG_RESOURCE_TYPE.BROKER, String(broker), [{ name: REPLICA_ALTER_LOG_DIRS_IO_MAX_BYTES_PER_SECOND, value: String(logDirThrottle) }]);
    }
    process.stdout.write(`The replica-alter-dir throttle limit was set to ${logDirThrottle} B/s\n`);
  }
  const results = await client.alterPartitionReassignments(moves);
  const failed = results.filter((r) => r.error !== null);
  if (failed.length > 0) throw new CliError(`Error reassigning partition(s):\n${failed.map((r) => `${name(r)}: ${r.error!.code}: ${r.error!.message}`).join('\n')}`);
  process.stdout.write(`Successfully started partition reassignment${moves.length === 1 ? '' : 's'} for ${moves.map(name).join(',')}\n`);
  if (replicaMoves.length > 0) await startLogDirMoves(client, replicaMoves, timeoutMs);
  return 0;
}

/**
 * Kafka's executeMoves: AlterReplicaLogDirs to each replica's broker, again every 100 ms for the
 * replicas their broker does not hold yet (a reassignment is adding them), until `timeoutMs`.
 */
async function startLogDirMoves(client: KafkaClient, replicaMoves: readonly LogDirMove[], timeoutMs: number): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  let pending = [...replicaMoves];
  for (;;) {
    const started: LogDirMove[] = [];
    const failed: string[] = [];
    for (const [broker, ofBroker] of byBroker(pending)) {
      const answers = await client.alterReplicaLogDirs(broker, ofBroker);
      for (const move of ofBroker) {
        const errorCode = answers.find((a) => a.topic === move.topic && a.partition === move.partition)?.errorCode ?? KafkaErrorCode.UNKNOWN_SERVER_ERROR;
        if (errorCode === KafkaErrorCode.NONE) started.push(move);
        else if (!NOT_HELD_YET.has(errorCode)) failed.push(`${replicaName(move)}: ${kafkaErrorName(errorCode)} (log dir ${move.logDir})`);
      }
    }
    if (failed.length > 0) throw new CliError(`Error moving replica(s) between log directories:\n${failed.join('\n')}`);
    if (started.length > 0) process.stdout.write(`Successfully started log directory move${started.length === 1 ? '' : 's'} for: ${started.map(replicaName).join(',')}\n`);
    pending = pending.filter((move) => !started.includes(move));
    if (pending.length === 0) return;
    if (Date.now() >= deadlineMs) throw new CliError(`Timed out before log directory move${pending.length === 1 ? '' : 's'} could be started for: ${pending.map(replicaName).join(',')}`);
    await new Promise((resolve) => setTimeout(resolve, LOG_DIR_MOVE_RETRY_MS));
  }
}

/** Kafka's findLogDirMoveStates and replicaMoveStatesToString: one line a replica, and whether any move is under way. */
async function logDirMoveStates(client: KafkaClient, replicaMoves: readonly LogDirMove[]): Promise<{ lines: string[]; ongoing: boolean }> {
  const lines: string[] = [];
  let ongoing = false;
  for (const [broker, ofBroker] of byBroker(replicaMoves)) {
    const topics = [...new Set(ofBroker.map((move) => move.topic))].map((topic) => ({ topic, partitions: ofBroker.filter((m) => m.topic === topic).map((m) => m.partition) }));
    const replicas = (await client.logDirs(broker, topics)).flatMap((dir) => (dir.error === null ? dir.partitions : []));
    for (const move of ofBroker) {
      const held = replicas.filter((r) => r.topic === move.topic && r.partition === move.partition);
      const current = held.find((r) => !r.isFuture)?.logDir;
      const future = held.find((r) => r.isFuture)?.logDir;
      const partition = name(move);
      if (held.length === 0) lines.push(`Partition ${partition} cannot be found in any live log directory on broker ${broker}.`);
      else if (current === undefined) lines.push(`Partition ${partition} is not found in any live log dir on broker ${broker}. There is likely an offline log directory on the broker.`);
      else if (future === move.logDir) {
        ongoing = true;
        lines.push(`Reassignment of replica ${replicaName(move)} is still in progress.`);
      } else if (future !== undefined) {
        ongoing = true;
        lines.push(`Partition ${partition} on broker ${broker} is being moved to log dir ${future} instead of ${move.logDir}.`);
      } else if (current === move.logDir) lines.push(`Reassignment of replica ${replicaName(move)} completed successfully.`);
      else lines.push(`Partition ${partition} on broker ${broker} is not being moved from log dir ${current} to ${move.logDir}.`);
    }
  }
  return { lines, ongoing };
}


async function verify(client: KafkaClient, moves: readonly PartitionMove[], clearWhenDone: boolean): Promise<number> {
  const ongoing = new Set((await client.listPartitionReassignments(moves)).map(name));
  const current = await currentAssignment(client, [...new Set(moves.map((move) => move.topic))]);
  const lines = ['Status of partition reassignment:'];
  let inProgress = false;
  for (const move of moves) {
    const now = current.find((c) => c.topic === move.topic && c.partition === move.partition)?.replicas;
    if (ongoing.has(name(move))) {
      inProgress = true;
      lines.push(`Reassignment of partition ${name(move)} is still in progress.`);
    } else if (now !== undefined && now.join(',') === move.replicas.join(',')) {
      lines.push(`Reassignment of partition ${name(move)} is completed.`);
    } else {
      lines.push(`There is no active reassignment of partition ${name(move)}, but replica set is ${now?.join(',') ?? 'unknown'} rather than ${move.replicas.join(',')}.`);
    }
  }
  const replicaMoves = logDirMoves(moves);
  if (replicaMoves.length > 0) {
    const states = await logDirMoveStates(client, replicaMoves);
    lines.push(...states.lines);
    inProgress ||= states.ongoing;
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (!inProgress && clearWhenDone) await clearThrottles(client, moves);
  return 0; // as Kafka's tool: the lines say which moves are done
}

async function cancel(client: KafkaClient, moves: readonly PartitionMove[]): Promise<number> {
  const ongoing = await client.listPartitionReassignments(moves);
  const active = moves.filter((move) => ongoing.some((o) => name(o) === name(move)));
  if (active.length === 0) {
    process.stdout.write('None of the specified partition reassignments are active.\n');
    return 0;
  }
  const results = await client.alterPartitionReassignments(active.map(({ topic, partition }) => ({ topic, partition, replicas: null })));
  // One that completed between the list and the cancel has nothing left to cancel.
  const failed = results.filter((r) => r.error !== null && r.error.code !== 'NO_REASSIGNMENT_IN_PROGRESS');
  if (failed.length > 0) throw new CliError(`Error cancelling partition reassignment(s):\n${failed.map((r) => `${name(r)}: ${r.error!.code}: ${r.error!.message}`).join('\n')}`);
  const cancelled = results.filter((r) => r.error === null);
  process.stdout.write(`Successfully cancelled partition reassignment${cancelled.length === 1 ? '' : 's'} for: ${cancelled.map(name).join(',')}\n`);
  return 0;
}

async function list(client: KafkaClient): Promise<number> {
  const ongoing = await client.listPartitionReassignments(null);
  if (ongoing.length === 0) {
    process.stdout.write('No partition reassignments found.\n');
    return 0;
  }
  const lines = ongoing.map((o) => `${name(o)}: replicas: ${o.replicas.join(',')}. adding: ${o.adding.join(',')}. removing: ${o.removing.join(',')}.`);
  process.stdout.write(`Current partition reassignments:\n${lines.join('\n')}\n`);
  return 0;
}
