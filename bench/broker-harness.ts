// Broker processes and data sets for the broker benchmarks.
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
