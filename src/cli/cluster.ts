// `sluice cluster`: a local cluster in the foreground, N brokers and an etcd on this machine
// (startCluster, src/cluster/start-cluster.ts), for trying replication and for tests of it. It
// prints where the brokers listen, then waits; SIGINT or SIGTERM stops the brokers (SIGTERM, so
// each shuts down cleanly) and then etcd, and exits 0. A second signal exits at once with 130,
// SIGKILLing what still runs. Output:
//
//   bootstrap servers: 127.0.0.2:41001,127.0.0.3:41002,127.0.0.4:41003
//   broker 1: 127.0.0.2:41001 pid 4242 data dir /tmp/sluice-cluster-x/broker-1 log /tmp/sluice-cluster-x/broker-1.log
//   ...
//   etcd: http://127.0.0.1:2379
// --racks a,a,b gives broker i the i-th broker.rack (rack-aware assignment, follower fetching);
// each broker line then says `rack a` after the address.
import { startCluster, type LocalCluster } from '../cluster/start-cluster.js';
import { LOCAL_CLUSTER_BROKERS_MAX, LOCAL_CLUSTER_LOG_DIRS_MAX } from '../limits.js';
import type { CommandSpec } from './args.js';
import type { Command } from './command.js';

const spec: CommandSpec = {
  name: 'cluster',
  summary: 'Run a local cluster (brokers on 127.0.0.2, 127.0.0.3, ... and an etcd) in the foreground.',
  usage: '[--brokers N] [--racks R1,R2,...] [--log-dirs N] [--data-dir DIR] [--etcd URL[,URL]] [--KEY=VALUE ...]',
  configPassthrough: true,
  flags: [
    { name: 'brokers', type: 'integer', valueName: 'N', description: `Broker count, ids 1..N, broker i on 127.0.0.(i+1) (default 3, at most ${LOCAL_CLUSTER_BROKERS_MAX}).` },
    { name: 'racks', type: 'string', valueName: 'R1,R2,...', description: "Each broker's broker.rack, in id order: one a broker." },
    { name: 'log-dirs', type: 'integer', valueName: 'N', description: `Log directories per broker (log.dirs): broker-i/, broker-i-dir-2/, ... (default 1, at most ${LOCAL_CLUSTER_LOG_DIRS_MAX}).` },
    { name: 'data-dir', type: 'string', valueName: 'DIR', description: 'Where broker-i/, broker-i.log and etcd/ go, kept (default a temp dir, removed on exit).' },
    { name: 'etcd', type: 'string', valueName: 'URL[,URL]', description: 'Use this etcd (client URLs) instead of starting one, which needs `etcd` on PATH (apt-get install etcd-server).' },
  ],
  notes: [
    'Any --KEY=VALUE is a broker config given to every broker, e.g. --default.replication.factor=3 --min.insync.replicas=2.',
    "Broker logs go to broker-i.log in the data dir. SIGINT/SIGTERM stop the cluster; a second one exits at once.",
  ],
};

export const clusterCommand: Command = {
  spec,
  async run(args) {
    const brokers = args.integer('brokers', { min: 1, max: LOCAL_CLUSTER_BROKERS_MAX, fallback: 3 });
    const etcd = args.string('etcd');
    const etcdEndpoints = etcd?.split(',').map((url) => url.trim()).filter((url) => url !== '');
    if (etcdEndpoints !== undefined && etcdEndpoints.length === 0) throw args.usageError('--etcd is empty');
    const racks = args.has('racks') ? args.string('racks')!.split(',').map((rack) => rack.trim()) : undefined;
    if (racks !== undefined && (racks.length !== brokers || racks.some((rack) => rack === ''))) {
      throw args.usageError(`--racks names ${racks.length} racks for ${brokers} brokers: give one rack a broker, e.g. --racks ${['a', 'a', 'b', 'b', 'c'].slice(0, brokers).join(',')}`);
    }

    // Signals are taken from the start: one during startup stops the cluster as soon as it is up,
    // rather than killing this process and leaving the brokers it spawned behind.
    let signalled: (signal: NodeJS.Signals) => void = () => {};
    let received: NodeJS.Signals | undefined;
    const signal = new Promise<NodeJS.Signals>((resolve) => (signalled = resolve));
    const onSignal = (name: NodeJS.Signals) => {
      if (received !== undefined) {
        process.stderr.write(`Received ${name} again: exiting without a clean shutdown\n`);
        process.exit(130);
      }
      received = name;
      signalled(name);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    let cluster: LocalCluster;
    try {
      cluster = await startCluster({
        brokers,
        logDirs: args.integer('log-dirs', { min: 1, max: LOCAL_CLUSTER_LOG_DIRS_MAX, fallback: 1 }),
        dataDir: args.string('data-dir'),
        config: args.config,
        brokerConfig: racks === undefined ? undefined : (id) => ({ 'broker.rack': racks[id - 1]! }),
        etcdEndpoints,
        // A Ctrl-C reaches this command alone, which stops the brokers cleanly, then etcd.
        detached: true,
        onBrokerExit: (id, code, exitSignal) => {
          process.stderr.write(`broker ${id} exited (code ${code ?? 'none'}, signal ${exitSignal ?? 'none'}); see ${cluster.broker(id).logFile}\n`);
        },
      });
    } catch (error) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      throw error;
    }
    const lines = [`bootstrap servers: ${cluster.bootstrapServers}`];
    for (const broker of cluster.brokers) {
      const rack = racks === undefined ? '' : ` rack ${racks[broker.id - 1]}`;
      const logDirs = broker.logDirs.length > 1 ? ` (log dirs ${broker.logDirs.join(',')})` : '';
      lines.push(`broker ${broker.id}: ${broker.host}:${broker.port}${rack} pid ${broker.pid} data dir ${broker.dataDir}${logDirs} log ${broker.logFile}`);
    }
    lines.push(`etcd: ${cluster.etcd.endpoints.join(',')}`);
    process.stdout.write(lines.join('\n') + '\n');

    const name = await signal;
    process.stderr.write(`Received ${name}: stopping the cluster\n`);
    await cluster.stop();
    process.stderr.write('Cluster stopped\n');
    return 0;
  },
};
