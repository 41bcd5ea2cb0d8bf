// Runs the real `sluice` command as a child process (node dist/cli/main.js ..., the package's bin,
// built from the current sources by test/global-setup.ts) from the repository root. Asynchronous on purpose: the broker under test runs in this process and
// must keep answering while the command runs.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { runScript, type Child } from '../fixtures/child.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The `sluice` command: package.json's bin, from REPO_ROOT. */
export const SLUICE_BIN = 'dist/cli/main.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Written to stdin, which is then closed (default: closed at once). */
  input?: string;
  /** Kill the command after this long (default 30 s): a hung command fails its test, not the run. */
  timeoutMs?: number;
  /** The command's environment (default this process's). */
  env?: NodeJS.ProcessEnv;
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SLUICE_BIN, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: options.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // a command that exits before reading all of its input
    child.stdin.end(options.input ?? '');
  });
}

/** A stack trace line: what an expected failure must never print. */
export const STACK_LINE = /^\s+at .+\(.+:\d+:\d+\)$/m;

/** A long-running `sluice` command (broker, cluster) as a child: its stdout lines, its stderr kept. */
export function spawnCli(args: readonly string[]): Child {
  return runScript(SLUICE_BIN, args, { captureStderr: true });
}
