// `sluice broker` as a process: configuration precedence, the listening line, clean shutdown.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { tempDir } from '../helpers.js';
import { REPO_ROOT, runCli } from './run-cli.js';

describe('sluice broker', () => {
  it('starts with file < --KEY=VALUE < --port/--data-dir, prints where it listens, and stops cleanly on SIGTERM', async () => {
    const dir = tempDir();
    const dataDir = path.join(dir, 'data');
    const properties = path.join(dir, 'server.properties');
    fs.writeFileSync(properties, ['# a Kafka server.properties', 'num.partitions=2', 'log.dirs=/nonexistent/ignored', 'listeners=PLAINTEXT://:9', ''].join('\n'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'broker', '--config', properties, '--num.partitions=3', '--port', '0', '--data-dir', dataDir], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
        });
        void exited.then((code) => reject(new Error(`broker exited with ${code}: ${stderr}`)));
      });
      const match = /^sluice broker listening on localhost:(\d+), data dir (.+), cluster id ([A-Za-z0-9_-]+)$/.exec(line);
      expect(match, line).not.toBeNull();
      expect(match![2]).toBe(dataDir);
      const bootstrap = ['--bootstrap-server', `localhost:${match![1]}`];

      expect((await runCli(['produce', ...bootstrap, '--topic', 'auto'], { input: 'one\n' })).code).toBe(0);
      const described = await runCli(['topics', ...bootstrap, '--describe', '--topic', 'auto']);
      expect(described.stdout).toMatch(/^Topic: auto\t.*\tPartitionCount: 3\t/);
      expect(fs.existsSync(path.join(dataDir, 'auto-0'))).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toContain('Broker stopped');
  });

  it('fails with exit 1 and one line when the config file is missing or the port is taken', async () => {
    let result = await runCli(['broker', '--config', path.join(tempDir(), 'missing.properties')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: Cannot read the config file .*missing\.properties: no such file\n$/);

    const net = await import('node:net');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, resolve));
    try {
      const { port } = server.address() as import('node:net').AddressInfo;
      result = await runCli(['broker', '--port', String(port), '--data-dir', path.join(tempDir(), 'data')]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`Error: Cannot listen on ${port}: the port is in use\n`);
    } finally {
      server.close();
    }
  });
});
