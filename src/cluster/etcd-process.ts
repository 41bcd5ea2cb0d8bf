// A real etcd as child processes: one member or three, on free loopback ports, in a temp dir.
// `startCluster` (the cluster's brokers beside their etcd) and the cluster tests use it; in
// production an operator runs etcd and gives brokers its endpoints instead.
//
//   const etcd = await startEtcd({ members: 3 });
//   etcd.endpoints            // ['http://127.0.0.1:P1', ...] for EtcdClient / `sluice.etcd.endpoints`
//   await etcd.leaderName()   // 'm2': the member that is the Raft leader now
//   await etcd.killMember('m2')            // SIGKILL, as a crash
//   await etcd.restartMember('m2')         // same name, ports and data dir; waits until healthy
//   await etcd.stop()                      // every member gone, the temp dir removed
//
// Each member runs (REPLICATION-FACTS.md, "etcd here"):
//   etcd --name mN --data-dir DIR/mN --listen-client-urls http://127.0.0.1:P --advertise-client-urls
//     http://127.0.0.1:P --listen-peer-urls http://127.0.0.1:Q --initial-advertise-peer-urls
//     http://127.0.0.1:Q --initial-cluster m1=...,m2=...,m3=... --heartbeat-interval 100
//     --election-timeout 1000
// Heartbeat 100 ms and election 1000 ms are etcd's defaults for a LAN; a lease TTL below 1.5 x the
// election timeout is raised by etcd (TTL 1 s becomes 2 s), which bounds how fast a broker session
// can be set to expire. Output goes to DIR/mN.log, read back into the error when a member fails.
//
// "Answers" means GET /health says {"health":"true"}: the member serves and the cluster has a
// leader. A missing binary is SluiceError ETCD_NOT_INSTALLED saying how to install it; a member
// that exits or stays unhealthy is ETCD_START_FAILED with the tail of its log. Ports are picked by
// binding port 0 and closing it, so another process can take one before etcd binds it: a start
// that fails on "address already in use" is retried with fresh ports.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

import { SluiceError } from '../errors.js';
import { freePort, logTail as tail } from './child-processes.js';

export interface EtcdProcessOptions {
  /** 1 or 3 members (an odd count; 3 survives the loss of one). Default 1. */
  members?: 1 | 3;
  /** Where member data dirs and logs go; a fresh temp dir (removed by stop()) when omitted. */
  dataDir?: string;
  /** The `etcd` executable: a name looked up on PATH, or a path. Default 'etcd'. */
  binary?: string;
  /** etcd's --heartbeat-interval. Default 100. */
  heartbeatIntervalMs?: number;
  /** etcd's --election-timeout. Default 1000. */
  electionTimeoutMs?: number;
  /**
   * The loopback address members listen on, or one per member. Default 127.0.0.1; a test cutting
   * brokers off from etcd with nft gives members addresses of their own (127.0.0.101, ...), apart
   * from its clients'.
   */
  host?: string | readonly string[];
  /** How long a start or restart may take before ETCD_START_FAILED. Default 30000. */
  startTimeoutMs?: number;
  /**
   * Run each member in its own process group, out of reach of a Ctrl-C at this process's terminal:
   * for a caller that handles the signal and stops etcd itself, after what still uses it (`sluice
   * cluster` stops its brokers first). Default false: a Ctrl-C ends the members with this process.
   */
  detached?: boolean;
}

export interface EtcdMember {
  /** m1, m2, m3. */
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  readonly logFile: string;
  /** The running process's pid, or undefined while the member is stopped. */
  readonly pid: number | undefined;
}

const HOST_DEFAULT = '127.0.0.1';
const HEALTH_POLL_MS = 50;
const HEALTH_REQUEST_TIMEOUT_MS = 1000;
/** A member asked to stop with SIGTERM gets this long before SIGKILL: the last member of a
 *  cluster without quorum takes ~9 s to exit on SIGTERM here (REPLICATION-FACTS.md). */
const STOP_GRACE_MS = 3000;
const PORT_RETRIES = 3;

/** True when `binary` (a name on PATH, or a path) is an executable file. */
export function findExecutable(binary: string): string | undefined {
  const candidates = binary.includes('/')
    ? [binary]
    : (process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, binary));
  for (const candidate of candidates) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function etcdNotInstalled(binary: string): SluiceError {
  return new SluiceError(
    'ETCD_NOT_INSTALLED',
    `etcd not found (looked for '${binary}' on PATH): a sluice cluster keeps its metadata in etcd. ` +
      'Install it with `apt-get install etcd-server` (Debian/Ubuntu; it provides /usr/bin/etcd and starts nothing), ' +
      'or put an etcd 3.4+ binary on PATH.',
  );
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class Member implements EtcdMember {
  process: ChildProcess | undefined;
  exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly dataDir: string,
    readonly logFile: string,
    readonly host: string,
  ) {}

  get clientUrl(): string {
    return `http://${this.host}:${this.clientPort}`;
  }

  get peerUrl(): string {
    return `http://${this.host}:${this.peerPort}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get running(): boolean {
    return this.process !== undefined && this.process.exitCode === null && this.process.signalCode === null;
  }
}

export class EtcdCluster {
  private stopped = false;
  /** Members are separate processes: if this one exits without stop() (an uncaught error, a
   *  process.exit), they would run on as orphans holding ports, so they are killed with it. */
  private readonly killOnExit = () => {
    for (const member of this.memberList) if (member.running) member.process!.kill('SIGKILL');
    try {
      if (this.ownsDataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
    } catch {
      // best effort: a member may still be closing its files
    }
  };

  private constructor(
    private readonly memberList: Member[],
    private readonly options: Required<Omit<EtcdProcessOptions, 'dataDir'>> & { executable: string },
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
  ) {
    process.on('exit', this.killOnExit);
  }

  /** Starts the members and resolves once every one answers healthy. */
  static async start(options: EtcdProcessOptions = {}): Promise<EtcdCluster> {
    const binary = options.binary ?? 'etcd';
    const executable = findExecutable(binary);
    if (executable === undefined) throw etcdNotInstalled(binary);
    const count = options.members ?? 1;
    if (count !== 1 && count !== 3) throw new SluiceError('INVALID_CONFIG', `etcd members must be 1 or 3, not ${count}`);
    const ownsDataDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-etcd-'));
    fs.mkdirSync(dataDir, { recursive: true });
    const resolved = {
      members: count,
      binary,
      executable,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 100,
      electionTimeoutMs: options.electionTimeoutMs ?? 1000,
      startTimeoutMs: options.startTimeoutMs ?? 30_000,
      detached: options.detached ?? false,
      host: options.host ?? HOST_DEFAULT,
    } as const;
    const hostOf = (member: number): string => (typeof resolved.host === 'string' ? resolved.host : (resolved.host[member - 1] ?? HOST_DEFAULT));

    let lastError: unknown;
    for (let attempt = 0; attempt < PORT_RETRIES; attempt++) {
      const members: Member[] = [];
      // The kernel may hand the same free port out twice in a row (bound and closed at once): one
      // run gave m1's peer port to m2 too, and etcd refused the cluster ("has duplicate url").
      const taken = new Set<string>();
      const distinctFreePort = async (host: string): Promise<number> => {
        for (;;) {
          const port = await freePort(host);
          if (!taken.has(`${host}:${port}`)) {
            taken.add(`${host}:${port}`);
            return port;
          }
        }
      };
      for (let i = 1; i <= count; i++) {
        const name = `m${i}`;
        // A retry starts from empty member dirs: a half-formed cluster's data names the old ports.
        fs.rmSync(path.join(dataDir, name), { recursive: true, force: true });
        const host = hostOf(i);
        members.push(new Member(name, await distinctFreePort(host), await distinctFreePort(host), path.join(dataDir, name), path.join(dataDir, `${name}.log`), host));
      }
      const cluster = new EtcdCluster(members, resolved, dataDir, ownsDataDir);
      try {
        const token = `sluice-${randomBytes(6).toString('hex')}`;
        for (const member of members) cluster.spawnMember(member, token);
        await Promise.all(members.map((member) => cluster.waitHealthy(member)));
        return cluster;
      } catch (error) {
        lastError = error;
        await cluster.killAll();
        process.off('exit', cluster.killOnExit);
        const addressInUse = members.some((member) => /address already in use/.test(tail(member.logFile)));
        if (!addressInUse) break;
      }
    }
    if (ownsDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    throw lastError;
  }

  get members(): readonly EtcdMember[] {
    return this.memberList;
  }

  /** Client URLs of every member, for EtcdClient (a client fails over between them). */
  get endpoints(): string[] {
    return this.memberList.map((member) => member.clientUrl);
  }

  member(name: string): EtcdMember {
    return this.find(name);
  }

  /** The name of the member that is the Raft leader now, asked of the running members. */
  async leaderName(): Promise<string> {
    for (const member of this.memberList) {
      if (!member.running) continue;
      try {
        const status = (await this.post(member, '/v3/maintenance/status')) as { header?: { member_id?: string }; leader?: string };
        const leaderId = status.leader;
        if (leaderId === undefined || leaderId === '0') continue;
        for (const candidate of this.memberList) {
          if (!candidate.running) continue;
          const other = (await this.post(candidate, '/v3/maintenance/status')) as { header?: { member_id?: string } };
          if (other.header?.member_id === leaderId) return candidate.name;
        }
      } catch {
        // try the next member
      }
    }
    throw new SluiceError('ETCD_UNAVAILABLE', 'no running etcd member reports a leader');
  }

  /** Waits until every running member answers healthy (the cluster has a leader). */
  async waitHealthy(member?: EtcdMember): Promise<void> {
    if (member === undefined) {
      await Promise.all(this.memberList.filter((m) => m.running).map((m) => this.waitHealthy(m)));
      return;
    }
    const target = this.find(member.name);
    const deadline = Date.now() + this.options.startTimeoutMs;
    while (Date.now() < deadline) {
      if (!target.running) {
        throw new SluiceError('ETCD_START_FAILED', `etcd member ${target.name} exited (code ${target.process?.exitCode ?? 'none'}, signal ${target.process?.signalCode ?? 'none'}):\n${tail(target.logFile)}`);
      }
      if (await this.healthy(target)) return;
      await sleep(HEALTH_POLL_MS);
    }
    throw new SluiceError('ETCD_START_FAILED', `etcd member ${target.name} not healthy within ${this.options.startTimeoutMs} ms:\n${tail(target.logFile)}`);
  }

  /** SIGKILL, as a crash; resolves once the process is gone. */
  async killMember(name: string): Promise<void> {
    const member = this.find(name);
    if (member.running) member.process!.kill('SIGKILL');
    await member.exited;
  }

  /** SIGTERM, then SIGKILL after a grace period (a member without quorum is slow to exit). */
  async stopMember(name: string): Promise<void> {
    const member = this.find(name);
    if (member.running) {
      member.process!.kill('SIGTERM');
      const timer = setTimeout(() => member.running && member.process!.kill('SIGKILL'), STOP_GRACE_MS);
      await member.exited;
      clearTimeout(timer);
    }
    await member.exited;
  }

  /** Starts a stopped member again with its name, ports and data; resolves once it is healthy. */
  async restartMember(name: string): Promise<void> {
    const member = this.find(name);
    if (member.running) throw new SluiceError('INVALID_REQUEST', `etcd member ${name} is running`);
    this.spawnMember(member, undefined);
    await this.waitHealthy(member);
  }

  /** Stops every member (SIGKILL: the data is throwaway) and removes the temp dir it created. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.killAll();
    process.off('exit', this.killOnExit);
    if (this.ownsDataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async killAll(): Promise<void> {
    for (const member of this.memberList) if (member.running) member.process!.kill('SIGKILL');
    await Promise.all(this.memberList.map((member) => member.exited));
  }

  private find(name: string): Member {
    const member = this.memberList.find((m) => m.name === name);
    if (member === undefined) throw new SluiceError('INVALID_REQUEST', `no etcd member named ${name}`);
    return member;
  }

  /** `token` set: first start of a new cluster; undefined: a restart from the member's data dir. */
  private spawnMember(member: Member, token: string | undefined): void {
    const initialCluster = this.memberList.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    const args = [
      '--name', member.name,
      '--data-dir', member.dataDir,
      '--listen-client-urls', member.clientUrl,
      '--advertise-client-urls', member.clientUrl,
      '--listen-peer-urls', member.peerUrl,
      '--initial-advertise-peer-urls', member.peerUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', token === undefined ? 'existing' : 'new',
      '--heartbeat-interval', String(this.options.heartbeatIntervalMs),
      '--election-timeout', String(this.options.electionTimeoutMs),
    ];
    if (token !== undefined) args.push('--initial-cluster-token', token);
    const log = fs.openSync(member.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.options.executable, args, { stdio: ['ignore', log, log], detached: this.options.detached });
    } finally {
      fs.closeSync(log);
    }
    member.process = child;
    member.exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      // ENOENT between the PATH check and the spawn: the exit event does not follow an error.
      child.once('error', () => resolve());
    });
  }

  private async healthy(member: Member): Promise<boolean> {
    try {
      const response = await fetch(`${member.clientUrl}/health`, { signal: AbortSignal.timeout(HEALTH_REQUEST_TIMEOUT_MS) });
      const body = (await response.json()) as { health?: string };
      return body.health === 'true';
    } catch {
      return false;
    }
  }

  /** etcd's JSON gateway (grpc-gateway): the same calls as gRPC, without a client library. */
  private async post(member: Member, route: string): Promise<unknown> {
    const response = await fetch(`${member.clientUrl}${route}`, {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(HEALTH_REQUEST_TIMEOUT_MS),
    });
    return response.json();
  }
}

/** Starts a real etcd (see EtcdCluster.start). */
export function startEtcd(options: EtcdProcessOptions = {}): Promise<EtcdCluster> {
  return EtcdCluster.start(options);
}
