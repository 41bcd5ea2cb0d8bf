// Broker processes and the `sluice perf produce` runs for the broker benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface BrokerProcess {
  port: number;
  address: string;
  /** Time from process start of the broker script to listening, measured inside the process. */
  startupMs: number;
  rssBytes: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startBrokerProcess(dataDir: string, config: Record<string, string | number> = {}): Promise<BrokerProcess> {
  // SLUICE_BENCH_BROKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the broker side.
  const nodeArgs = (process.env.SLUICE_BENCH_BROKER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(root, 'bench', 'fixtures', 'broker-process.ts'), dataDir, ...Object.entries(config).map(([k, v]) => `${k}=${v}`)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  const [, port, startupMs, rssBytes] = line.split(' ');
  return {
    port: Number(port),
    address: `localhost:${port}`,
    startupMs: Number(startupMs),
    rssBytes: Number(rssBytes),
    child,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

export interface PerfProduceResult {
  recordsPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** p99 over every record, warm-up included (equal to p99Ms without --warmup-records). */
  wholeRunP99Ms: number;
  /** The process's wall time from spawn to exit (start-up, connect, metadata, delivery, close), timed here. */
  spawnToExitMs: number;
}

/**
 * Runs `sluice perf produce` (our own producer, src/client/producer.ts, over TCP) in its own
 * process and parses its final kafka-producer-perf-test line. `bootstrap` is one address or a
 * comma-separated list; `extra` adds flags such as --batch-size.
 */
export async function perfProduce(bootstrap: string, topic: string, records: number, recordBytes: number, acks: 1 | -1, extra: string[] = []): Promise<PerfProduceResult> {
  const spawnedMs = performance.now();
  const output = await new Promise<string>((resolve, reject) => {
    // SLUICE_BENCH_PERF_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the producer side.
    const nodeArgs = (process.env.SLUICE_BENCH_PERF_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
    const args = [...nodeArgs, '--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts'), 'perf', 'produce', '--bootstrap-server', bootstrap, '--topic', topic];
    args.push('--num-records', String(records), '--record-size', String(recordBytes), '--acks', acks === -1 ? 'all' : '1', ...extra);
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`perf produce exited ${code}`))));
  });
  const spawnToExitMs = performance.now() - spawnedMs;
  // The summary is the last line; with --warmup-records the steady-state one, after the whole run's.
  const summaries = output.trim().split('\n').filter((line) => line.includes(' ms 99th'));
  const parse = (line: string | undefined) => {
    const match = line === undefined ? null : /([\d.]+) records\/sec \(([\d.]+) MB\/sec\).*?([\d.]+) ms 50th, ([\d.]+) ms 95th, ([\d.]+) ms 99th/.exec(line);
    if (!match) throw new Error(`cannot read perf produce's summary: ${output.trim().split('\n').at(-1)}`);
    return match;
  };
  const match = parse(summaries.at(-1));
  const wholeRunP99Ms = Number(parse(summaries[0])[5]);
  return { recordsPerSec: Number(match[1]), mbPerSec: Number(match[2]), p50Ms: Number(match[3]), p99Ms: Number(match[5]), wholeRunP99Ms, spawnToExitMs };
}
