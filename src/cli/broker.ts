// `sluice broker`: a broker in the foreground, configured with Kafka's names. Later sources win:
// the properties file, then --KEY=VALUE flags, then the flags of their own (--port, --data-dir,
// --broker-id, --etcd, --host, --advertised-host). SIGINT or SIGTERM stops it cleanly
// (connections closed, segments and checkpoints flushed) and exits 0; a second signal during that
// exits at once with 130.
//
// With --etcd the broker joins the cluster kept in that etcd (sluice.etcd.endpoints), and the
// "sluice broker listening on ..." line is printed once it is registered there: startCluster
// (src/cluster/start-cluster.ts) waits for that line.
import path from 'node:path';

import { Broker } from '../broker/broker.js';
import { BROKER_DEFAULTS, brokerListener, readPropertiesFile, type BrokerConfigValues } from '../broker/config.js';
import { advertisedListener, listenerUrl, parseListeners } from '../broker/listeners.js';
import { SluiceError } from '../errors.js';
import { LOG_LEVELS } from '../logger.js';
import type { CommandSpec, ParsedArgs } from './args.js';
import { CliError, type Command } from './command.js';

const spec: CommandSpec = {
  name: 'broker',
  summary: 'Run a broker speaking the Kafka protocol, in the foreground.',
  usage: '[--config server.properties] [--port N] [--data-dir DIR] [--broker-id N] [--etcd URL[,URL]] [--host H] [--advertised-host H] [--KEY=VALUE ...]',
  configPassthrough: true,
  flags: [
    { name: 'config', type: 'string', valueName: 'FILE', description: "A server.properties file (Kafka's broker config names)." },
    { name: 'port', type: 'integer', valueName: 'N', description: 'Port to listen on; 0 picks a free one (default 9092, from listeners).' },
    { name: 'data-dir', type: 'string', valueName: 'DIR', description: `Data directory, log.dirs (default ${BROKER_DEFAULTS['log.dirs']}); several, comma-separated, spread the partitions over them.` },
    { name: 'broker-id', type: 'integer', valueName: 'N', description: 'broker.id (= node.id): this broker\'s id in its cluster (default 1).' },
    {
      name: 'etcd',
      type: 'string',
      valueName: 'URL[,URL]',
      description: 'sluice.etcd.endpoints: join the cluster kept in this etcd (http URLs, comma-separated). Without it the broker is a cluster of one.',
    },
    { name: 'host', type: 'string', valueName: 'H', description: 'Address to bind (the host of listeners; default every interface).' },
    {
      name: 'advertised-host',
      type: 'string',
      valueName: 'H',
      description: 'Host given to clients in metadata (advertised.listeners); also the address to bind when --host is absent.',
    },
    { name: 'log-level', type: 'string', valueName: 'LEVEL', description: `log.level: ${LOG_LEVELS.join(', ')} (default info). Logs are JSON lines on stderr.` },
  ],
  notes: [
    'Any --KEY=VALUE sets a broker config by its Kafka name, e.g. --num.partitions=3 --log.segment.bytes=104857600.',
    'Precedence: defaults < --config file < --KEY=VALUE < the flags above. SIGINT/SIGTERM stop the broker cleanly.',
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
    const bindHost = applyClusterFlags(args, config, port);
    const dataDir = args.string('data-dir') ?? String(config['log.dirs'] ?? config['log.dir'] ?? BROKER_DEFAULTS['log.dirs']);

    let broker: Broker;
    try {
      // dataDir is always given: without it Broker.start would use a temporary directory.
      broker = await Broker.start({ port, dataDir, config });
    } catch (error) {
      throw startError(error, bindHost !== undefined && port !== undefined ? `${bindHost}:${port}` : (port ?? config['listeners']), dataDir);
    }
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
      // Every log directory offline (failed disks): Kafka's broker halts; this one stops, and exits with 1.
      broker.onFatal((error) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`Error: ${error.message}\n`);
        broker.stop().then(
          () => resolve(1),
          () => resolve(1),
        );
      });
      // Only now: whoever waits for this line (startCluster, a test) may signal at once, and a
      // signal before the handlers would kill the broker without its clean shutdown.
      const logDirs = broker.engine.logDirs.length > 1 ? ` (log dirs ${broker.engine.logDirs.join(',')})` : '';
      // A listener beside the broker's own (listeners.ts) is named by a line of its own, after.
      process.stdout.write(`sluice broker listening on ${broker.host}:${broker.port}, data dir ${path.resolve(broker.dataDir)}${logDirs}, cluster id ${broker.clusterId}\n`);
      for (const [name, port] of Object.entries(broker.listenerPorts).slice(1)) process.stdout.write(`sluice broker also listening on port ${port} for listener ${name}\n`);
    });
  },
};

/** --broker-id, --etcd, --host and --advertised-host, written into `config` by their Kafka names;
 *  returns the address to bind when one of them names it. */
function applyClusterFlags(args: ParsedArgs, config: BrokerConfigValues, port: number | undefined): string | undefined {
  const brokerId = args.integer('broker-id', { min: 0, max: 2_147_483_647 });
  if (brokerId !== undefined) {
    // Both names: a node.id from the config file must not win over the flag.
    config['broker.id'] = brokerId;
    config['node.id'] = brokerId;
  }
  const etcd = args.string('etcd');
  if (etcd !== undefined) {
    const endpoints = etcd.split(',').map((endpoint) => endpoint.trim()).filter((endpoint) => endpoint !== '');
    if (endpoints.length === 0) throw args.usageError('--etcd is empty');
    for (const endpoint of endpoints) {
      if (!/^https?:\/\/[^/\s]+(:\d+)?\/?$/.test(endpoint)) throw args.usageError(`--etcd expects http://HOST:PORT URLs, got '${endpoint}'`);
    }
    config['sluice.etcd.endpoints'] = endpoints.join(',');
  }
  const host = args.string('host');
  const advertisedHost = args.string('advertised-host');
  const bindHost = host ?? advertisedHost;
  const served = cliListener(() => brokerListener(config).served);
  const listenPort = port ?? served.port;
  if (bindHost !== undefined) {
    // The broker's own listener moves; any other listeners stay as given.
    const listeners = cliListener(() => parseListeners(String(config['listeners'] ?? BROKER_DEFAULTS['listeners'])));
    config['listeners'] = listeners.map((listener) => listenerUrl(listener.name === served.name ? { name: served.name, host: bindHost, port: listenPort } : listener)).join(',');
  }
  if (advertisedHost !== undefined) {
    // Port 0 in advertised.listeners stands for the bound port (config.ts).
    const given = config['advertised.listeners'];
    const advertisedPort = given === undefined ? listenPort : cliListener(() => advertisedListener(String(given), served)).port;
    const own = { name: served.name, host: advertisedHost, port: advertisedPort };
    const others = given === undefined ? [] : cliListener(() => parseListeners(String(given), 'advertised.listeners')).filter(({ name }) => name !== served.name);
    config['advertised.listeners'] = [own, ...others].map(listenerUrl).join(',');
  }
  return bindHost;
}

/** A listener setting read for a flag: a bad one is the CLI's error. */
function cliListener<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new CliError(`Cannot start the broker: ${(error as Error).message}`);
  }
}

function startError(error: unknown, listen: unknown, dataDir: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new CliError(`Cannot listen on ${listen ?? BROKER_DEFAULTS['listeners']}: the port is in use`);
  if (code === 'EACCES' && (error as NodeJS.ErrnoException).syscall === 'listen') return new CliError(`Cannot listen on ${listen}: permission denied`);
  if (error instanceof SluiceError && error.code === 'DATA_DIR_LOCKED') return new CliError(`${error.message} (is another broker using ${dataDir}?)`);
  if (error instanceof SluiceError) return new CliError(`Cannot start the broker: ${error.message}`);
  return error as Error;
}
