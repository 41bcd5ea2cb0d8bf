// A local cluster: a real etcd and N brokers, each a `sluice broker` child process, for tests,
// benchmarks and `sluice cluster`. In production an operator runs the same `sluice broker
// --broker-id i --etcd ...` on each machine; this starts them on one.
//
//   const cluster = await startCluster({ brokers: 3 });
//   cluster.bootstrapServers           // '127.0.0.2:P1,127.0.0.3:P2,127.0.0.4:P3'
//   await cluster.killBroker(2)        // SIGKILL, as a crash
//   await cluster.restartBroker(2)     // same id, address, port and data dir; waits until listening
//   await cluster.stop()               // every broker and etcd gone, the temp dir removed
//
// Broker i runs `sluice broker --broker-id i --etcd <endpoints> --host 127.0.0.(i+1) --port P
// --data-dir <dataDir>/broker-i --KEY=VALUE...` from dist/cli/main.js, or from src/cli/main.ts
// under tsx when this package runs from its sources. Each broker binds its own loopback address,
// so that a test can cut traffic between two brokers with nft; its port is picked once (a free
// one on its address) and kept across restarts, because clients cache broker addresses.
//
// A broker is up when it prints "sluice broker listening on ..." on stdout; with etcd that line
// comes only after it registered in the cluster. Its stderr (JSON log lines) goes to
// <dataDir>/broker-i.log, whose tail is the message of a failed start. etcd's data and logs are
// in <dataDir>/etcd, started fresh each time (etcd-process.ts starts a new etcd cluster).
//
// Brokers are SIGKILLed if this process exits without stop(), so that none is left holding its
// port and data dir. With `detached` they and etcd run in their own process groups, so that a
// Ctrl-C at the terminal of `sluice cluster` reaches only that command, which stops the brokers
// (cleanly, SIGTERM) and then etcd; without it a Ctrl-C reaches every process at once.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

import { entryPoint, tsxLoader } from '../entry-point.js';
import { SluiceError } from '../errors.js';
import { LOCAL_CLUSTER_BROKERS_MAX, LOCAL_CLUSTER_LOG_DIRS_MAX } from '../limits.js';
import { freePort, logTail } from './child-processes.js';
import { startEtcd, type EtcdCluster } from './etcd-process.js';

export interface StartClusterOptions {
  /** How many brokers, with ids 1..brokers (at most 254: one loopback address each). */
  brokers: number;
  /** Where broker-i/, broker-i.log and etcd/ go; kept. Default a temp dir that stop() removes. */
  dataDir?: string;
  /** Broker configs by their Kafka names, given to every broker as --KEY=VALUE. */
  config?: Record<string, string | number | boolean>;
  /**
   * Log directories per broker (log.dirs, JBOD), default 1: broker i's are broker-i/ (which also
   * holds its own files) and, from the second, broker-i-dir-2/, ... beside it.
   */
  logDirs?: number;
  /** Configs of broker i alone (broker.rack, say), given after `config` and winning over it. */
  brokerConfig?: (brokerId: number) => Record<string, string | number | boolean>;
  /** Use this etcd (client URLs) instead of starting one. */
  etcdEndpoints?: string[];
  /**
   * The etcd endpoints broker i talks to (default: every one). A test pins each broker to an etcd
   * member of its own, so that a network partition can cut a broker off from etcd's majority.
   */
  etcdEndpointsOf?: (brokerId: number) => string[];
  /** How long one broker may take to print its listening line. Default 60000. */
  startTimeoutMs?: number;
  /** How long a broker may take to exit on SIGTERM before SIGKILL. Default 15000. */
  stopTimeoutMs?: number;
  /** Brokers and etcd in their own process groups (see above); for a caller that stops the
   *  cluster on SIGINT itself, as `sluice cluster` does. Default false. */
  detached?: boolean;
  /** Called when a broker exits that was not asked to (stopBroker, killBroker, stop). */
  onBrokerExit?: (id: number, code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface ClusterBroker {
  /** broker.id, 1..N. */
  readonly id: number;
  /** Its own loopback address, 127.0.0.(id+1). */
  readonly host: string;
  /** Picked at the first start and kept across restarts. */
  readonly port: number;
  /** The running process's pid; undefined while the broker is stopped. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** The broker's data dir: the first of its log dirs. */
  readonly dataDir: string;
  /** Its log dirs (log.dirs), dataDir first. */
  readonly logDirs: readonly string[];
  /** Its stderr: JSON log lines. */
  readonly logFile: string;
}

/** The line `sluice broker` prints once it listens (and, with etcd, is registered). */
const LISTENING_PREFIX = 'sluice broker listening on ';
/** What `sluice broker` prints when its port was taken: a first start retries with another port. */
const PORT_IN_USE = 'the port is in use';
const PORT_RETRIES = 3;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
/** Set by startCluster itself; a config that names one of these is refused. */
const MANAGED_CONFIGS = ['broker.id', 'node.id', 'listeners', 'advertised.listeners', 'log.dirs', 'log.dir', 'sluice.etcd.endpoints'];

class BrokerProcess implements ClusterBroker {
  process: ChildProcess | undefined;
  exited: Promise<void> = Promise.resolve();
  /** Set before a signal this launcher sends, so the exit is not reported as unexpected. */
  expectingExit = false;
  /** Size of the log file when the current process started: its own lines come after. */
  logStartByte = 0;

  constructor(
    readonly id: number,
    readonly host: string,
    public port: number,
    readonly logDirs: readonly string[],
    readonly logFile: string,
  ) {}

  get dataDir(): string {
    return this.logDirs[0]!;
  }

  get pid(): number | undefined {
    return this.running ? this.process!.pid : undefined;
  }

  get running(): boolean {
    return this.process !== undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }
}

export class LocalCluster {
  private stopping: Promise<void> | undefined;
  /** Brokers are separate processes: if this one exits without stop() they would run on as
   *  orphans holding their ports, so they are killed with it. */
  private readonly killOnExit = () => {
    for (const broker of this.brokerList) if (broker.running) broker.process!.kill('SIGKILL');
    if (this.ownsDataDir) {
      try {
        fs.rmSync(this.dataDir, { recursive: true, force: true });
      } catch {
        // best effort: a broker may still be closing its files
      }
    }
  };

  private constructor(
    private readonly brokerList: BrokerProcess[],
    private readonly etcdProcess: EtcdCluster | undefined,
    private readonly etcdEndpoints: string[],
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
    private readonly command: { executable: string; args: string[] },
    private readonly config: Record<string, string | number | boolean>,
    private readonly options: {
      startTimeoutMs: number;
      stopTimeoutMs: number;
      detached: boolean;
      onBrokerExit: StartClusterOptions['onBrokerExit'];
      etcdEndpointsOf: StartClusterOptions['etcdEndpointsOf'];
      brokerConfig: StartClusterOptions['brokerConfig'];
    },
  ) {
    process.on('exit', this.killOnExit);
  }

  /** Starts etcd (unless given), then every broker; resolves once each one listens. */
  static async start(options: StartClusterOptions): Promise<LocalCluster> {
    const count = options.brokers;
    if (!Number.isInteger(count) || count < 1 || count > LOCAL_CLUSTER_BROKERS_MAX) {
      throw new SluiceError('INVALID_CONFIG', `a local cluster has 1 to ${LOCAL_CLUSTER_BROKERS_MAX} brokers, not ${count}`);
    }
    const config = { ...options.config };
    const perBroker = Array.from({ length: count }, (_, i) => options.brokerConfig?.(i + 1) ?? {});
    const managed = MANAGED_CONFIGS.filter((name) => name in config || perBroker.some((own) => name in own));
    if (managed.length > 0) throw new SluiceError('INVALID_CONFIG', `startCluster sets ${managed.join(', ')} for each broker itself`);
    if (options.etcdEndpoints !== undefined && options.etcdEndpoints.length === 0) throw new SluiceError('INVALID_CONFIG', 'etcdEndpoints is empty');
    const logDirCount = options.logDirs ?? 1;
    if (!Number.isInteger(logDirCount) || logDirCount < 1 || logDirCount > LOCAL_CLUSTER_LOG_DIRS_MAX) {
      throw new SluiceError('INVALID_CONFIG', `a local cluster's brokers have 1 to ${LOCAL_CLUSTER_LOG_DIRS_MAX} log dirs each, not ${options.logDirs}`);
    }

    const entry = entryPoint(new URL('../cli/main.js', import.meta.url));
    const command = { executable: process.execPath, args: [...(entry.typescript ? ['--import', tsxLoader('A local cluster')] : []), entry.file] };
    const ownsDataDir = options.dataDir === undefined;
    const dataDir = ownsDataDir ? fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cluster-')) : path.resolve(options.dataDir!);
    fs.mkdirSync(dataDir, { recursive: true });

    let etcd: EtcdCluster | undefined;
    let cluster: LocalCluster | undefined;
    try {
      if (options.etcdEndpoints === undefined) etcd = await startEtcd({ dataDir: path.join(dataDir, 'etcd'), detached: options.detached });
      const brokers: BrokerProcess[] = [];
      for (let id = 1; id <= count; id++) {
        const host = `127.0.0.${id + 1}`;
        const first = path.join(dataDir, `broker-${id}`);
        const logDirs = Array.from({ length: logDirCount }, (_, i) => (i === 0 ? first : `${first}-dir-${i + 1}`));
        brokers.push(new BrokerProcess(id, host, await freePort(host), logDirs, path.join(dataDir, `broker-${id}.log`)));
      }
      cluster = new LocalCluster(brokers, etcd, options.etcdEndpoints ?? etcd!.endpoints, dataDir, ownsDataDir, command, config, {
        startTimeoutMs: options.startTimeoutMs ?? START_TIMEOUT_MS,
        stopTimeoutMs: options.stopTimeoutMs ?? STOP_TIMEOUT_MS,
        detached: options.detached ?? false,
        onBrokerExit: options.onBrokerExit,
        etcdEndpointsOf: options.etcdEndpointsOf,
        brokerConfig: options.brokerConfig,
      });
      const starts = await Promise.allSettled(brokers.map((broker) => cluster!.firstStart(broker)));
      const failed = starts.find((start): start is PromiseRejectedResult => start.status === 'rejected');
      if (failed) throw failed.reason;
      return cluster;
    } catch (error) {
      if (cluster) await cluster.stop();
      else {
        await etcd?.stop();
        if (ownsDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      }
      throw error;
    }
  }

  /** `host:port` of every broker, comma-separated: a client's bootstrap.servers. */
  get bootstrapServers(): string {
    return this.brokerList.map((broker) => broker.address).join(',');
  }

  get brokers(): readonly ClusterBroker[] {
    return this.brokerList;
  }

  get etcd(): { readonly endpoints: string[] } {
    return { endpoints: [...this.etcdEndpoints] };
  }

  broker(id: number): ClusterBroker {
    return this.find(id);
  }

  /** SIGTERM (a clean shutdown); resolves once the process is gone. A broker that does not exit
   *  0 within stopTimeoutMs is SIGKILLed and the call fails with BROKER_STOP_FAILED. */
  async stopBroker(id: number): Promise<void> {
    const broker = this.find(id);
    const clean = await this.terminate(broker);
    if (!clean) {
      const exit = broker.process!;
      throw new SluiceError(
        'BROKER_STOP_FAILED',
        `broker ${id} did not stop cleanly on SIGTERM within ${this.options.stopTimeoutMs} ms (code ${exit.exitCode ?? 'none'}, signal ${exit.signalCode ?? 'none'}):\n${logTail(broker.logFile, broker.logStartByte)}`,
      );
    }
  }

  /** SIGKILL, as a crash; resolves once the process is gone. */
  async killBroker(id: number): Promise<void> {
    const broker = this.find(id);
    if (broker.running) {
      broker.expectingExit = true;
      broker.process!.kill('SIGKILL');
    }
    await broker.exited;
  }

  /** Starts a stopped broker again with its id, address, port and data dir; resolves once it listens. */
  async restartBroker(id: number): Promise<void> {
    const broker = this.find(id);
    if (this.stopping) throw new SluiceError('INVALID_REQUEST', 'the cluster is stopping');
    if (broker.running) throw new SluiceError('INVALID_REQUEST', `broker ${id} is running`);
    await this.startProcess(broker);
  }

  /**
   * Stops every broker (SIGTERM, SIGKILL after stopTimeoutMs), then etcd, and removes the temp
   * dir it made. Resolves once every process is gone, whether or not each broker exited cleanly.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.brokerList.map((broker) => this.terminate(broker)));
      await this.etcdProcess?.stop();
      process.off('exit', this.killOnExit);
      if (this.ownsDataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  private find(id: number): BrokerProcess {
    const broker = this.brokerList.find((b) => b.id === id);
    if (broker === undefined) throw new SluiceError('INVALID_REQUEST', `no broker ${id} in this cluster (ids 1 to ${this.brokerList.length})`);
    return broker;
  }

  /** The first start: a port taken since it was picked is replaced by another free one. */
  private async firstStart(broker: BrokerProcess): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startProcess(broker);
        return;
      } catch (error) {
        if (attempt >= PORT_RETRIES || !(error as Error).message.includes(PORT_IN_USE)) throw error;
        broker.port = await freePort(broker.host);
      }
    }
  }

  /** Spawns the broker and resolves once it prints its listening line. */
  private startProcess(broker: BrokerProcess): Promise<void> {
    const args = [
      ...this.command.args,
      'broker',
      '--broker-id', String(broker.id),
      '--etcd', (this.options.etcdEndpointsOf?.(broker.id) ?? this.etcdEndpoints).join(','),
      '--host', broker.host,
      '--port', String(broker.port),
      '--data-dir', broker.logDirs.join(','),
      ...Object.entries({ ...this.config, ...this.options.brokerConfig?.(broker.id) }).map(([name, value]) => `--${name}=${value}`),
    ];
    const log = fs.openSync(broker.logFile, 'a');
    broker.logStartByte = fs.fstatSync(log).size;
    let child: ChildProcess;
    try {
      child = spawn(this.command.executable, args, { stdio: ['ignore', 'pipe', log], detached: this.options.detached });
    } finally {
      fs.closeSync(log);
    }
    broker.process = child;
    broker.expectingExit = false;
    broker.exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });

    return new Promise<void>((resolve, reject) => {
      let ready = false;
      let timedOut = false;
      const failed = (why: string) =>
        new SluiceError('BROKER_START_FAILED', `broker ${broker.id} (${broker.address}, data dir ${broker.dataDir}) ${why}; the end of ${broker.logFile}:\n${logTail(broker.logFile, broker.logStartByte)}`);
      const timer = setTimeout(() => {
        timedOut = true;
        broker.expectingExit = true;
        child.kill('SIGKILL');
      }, this.options.startTimeoutMs);
      // The listening line, then everything else the broker prints on stdout, read and dropped.
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        if (ready || !line.startsWith(LISTENING_PREFIX)) return;
        ready = true;
        clearTimeout(timer);
        resolve();
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(failed(`could not be started: ${error.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (!ready) {
          reject(failed(timedOut ? `did not report listening within ${this.options.startTimeoutMs} ms` : `exited while starting (code ${code ?? 'none'}, signal ${signal ?? 'none'})`));
        } else if (!broker.expectingExit && this.stopping === undefined) {
          this.options.onBrokerExit?.(broker.id, code, signal);
        }
      });
    });
  }

  /** SIGTERM, SIGKILL after stopTimeoutMs; true when the broker exited 0 on the SIGTERM. */
  private async terminate(broker: BrokerProcess): Promise<boolean> {
    if (!broker.running) {
      await broker.exited;
      return true;
    }
    const child = broker.process!;
    broker.expectingExit = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => broker.running && child.kill('SIGKILL'), this.options.stopTimeoutMs);
    await broker.exited;
    clearTimeout(timer);
    return child.exitCode === 0;
  }
}

/** Starts a local cluster (see LocalCluster.start). */
export function startCluster(options: StartClusterOptions): Promise<LocalCluster> {
  return LocalCluster.start(options);
}
