// `sluice broker`: a broker in the foreground, configured with Kafka's names. Later sources win:
// the properties file, then --KEY=VALUE flags, then --port and --data-dir. SIGINT or SIGTERM
// stops it cleanly (connections closed, segments and checkpoints flushed) and exits 0; a second
// signal during that exits at once with 130.
import path from 'node:path';

import { Broker } from '../broker/broker.js';
import { BROKER_DEFAULTS, readPropertiesFile, type BrokerConfigValues } from '../broker/config.js';
import { SluiceError } from '../errors.js';
import { LOG_LEVELS } from '../logger.js';
import type { CommandSpec } from './args.js';
import { CliError, type Command } from './command.js';

const spec: CommandSpec = {
  name: 'broker',
  summary: 'Run a broker speaking the Kafka protocol, in the foreground.',
  usage: '[--config server.properties] [--port N] [--data-dir DIR] [--KEY=VALUE ...]',
  configPassthrough: true,
  flags: [
    { name: 'config', type: 'string', valueName: 'FILE', description: "A server.properties file (Kafka's broker config names)." },
    { name: 'port', type: 'integer', valueName: 'N', description: 'Port to listen on; 0 picks a free one (default 9092, from listeners).' },
    { name: 'data-dir', type: 'string', valueName: 'DIR', description: `Data directory, log.dirs (default ${BROKER_DEFAULTS['log.dirs']}).` },
    { name: 'log-level', type: 'string', valueName: 'LEVEL', description: `log.level: ${LOG_LEVELS.join(', ')} (default info). Logs are JSON lines on stderr.` },
  ],
  notes: [
    'Any --KEY=VALUE sets a broker config by its Kafka name, e.g. --num.partitions=3 --log.segment.bytes=104857600.',
    'Precedence: defaults < --config file < --KEY=VALUE < --port/--data-dir. SIGINT/SIGTERM stop the broker cleanly.',
  ],
};

export const brokerCommand: Command = {
  spec,
  async run(args) {
    const config: BrokerConfigValues = {};
    const file = args.string('config');
    if (file !== undefined) {
      try {
        Object.assign(config, readPropertiesFile(file));
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
        throw new CliError(`Cannot read the config file ${file}: ${reason}`);
      }
    }
    Object.assign(config, args.config);
    config['log.level'] = args.string('log-level') ?? config['log.level'] ?? 'info';
    const port = args.integer('port', { min: 0, max: 65535 });
    const dataDir = args.string('data-dir') ?? String(config['log.dirs'] ?? config['log.dir'] ?? BROKER_DEFAULTS['log.dirs']);

    let broker: Broker;
    try {
      // dataDir is always given: without it Broker.start would use a temporary directory.
      broker = await Broker.start({ port, dataDir, config });
    } catch (error) {
      throw startError(error, port ?? config['listeners'], dataDir);
    }
    process.stdout.write(`sluice broker listening on ${broker.host}:${broker.port}, data dir ${path.resolve(broker.dataDir)}, cluster id ${broker.clusterId}\n`);

    return new Promise<number>((resolve) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          process.stderr.write(`Received ${signal} again: exiting without a clean shutdown\n`);
          process.exit(130);
        }
        stopping = true;
        process.stderr.write(`Received ${signal}: shutting down\n`);
        broker.stop().then(
          () => {
            process.stderr.write('Broker stopped\n');
            resolve(0);
          },
          (error) => {
            process.stderr.write(`Error: the broker did not stop cleanly: ${(error as Error).message}\n`);
            resolve(1);
          },
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  },
};

function startError(error: unknown, listen: unknown, dataDir: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new CliError(`Cannot listen on ${listen ?? BROKER_DEFAULTS['listeners']}: the port is in use`);
  if (code === 'EACCES' && (error as NodeJS.ErrnoException).syscall === 'listen') return new CliError(`Cannot listen on ${listen}: permission denied`);
  if (error instanceof SluiceError && error.code === 'DATA_DIR_LOCKED') return new CliError(`${error.message} (is another broker using ${dataDir}?)`);
  if (error instanceof SluiceError) return new CliError(`Cannot start the broker: ${error.message}`);
  return error as Error;
}
