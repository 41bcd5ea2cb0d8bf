// `sluice broker` as a process: configuration precedence, the listening line, clean shutdown, and
// the flags of a cluster member (--broker-id, --host, --advertised-host, --etcd).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { KafkaClient } from '../../src/client/client.js';
import type { Child } from '../fixtures/child.js';
import { connectResult } from '../fixtures/probes.js';
import { tempDir } from '../helpers.js';
import { runCli, spawnCli } from './run-cli.js';

const LISTENING = /^sluice broker listening on (.+):(\d+), data dir (.+), cluster id ([A-Za-z0-9_-]+)$/;
const running: Child[] = [];

afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    await child.exited;
  }
});

/** `sluice broker ...` in a child, killed after the test; resolves with its listening line's parts. */
async function startBrokerCli(args: string[]): Promise<{ child: Child; host: string; port: number; dataDir: string }> {
  const child = spawnCli(['broker', ...args]);
  running.push(child);
  const line = await child.waitFor('sluice broker listening on ');
  const match = LISTENING.exec(line);
  expect(match, line).not.toBeNull();
  return { child, host: match![1]!, port: Number(match![2]), dataDir: match![3]! };
}

/** SIGTERM; the exit code once the broker is gone. */
async function stopBrokerCli(child: Child): Promise<number | null> {
  child.process.kill('SIGTERM');
  return child.exited;
}

describe('sluice broker', () => {
  it('starts with file < --KEY=VALUE < --port/--data-dir, prints where it listens, and stops cleanly on SIGTERM', async () => {
    const dir = tempDir();
    const dataDir = path.join(dir, 'data');
    const properties = path.join(dir, 'server.properties');
    fs.writeFileSync(properties, ['# a Kafka server.properties', 'num.partitions=2', 'log.dirs=/nonexistent/ignored', 'listeners=PLAINTEXT://:9', ''].join('\n'));
    const broker = await startBrokerCli(['--config', properties, '--num.partitions=3', '--port', '0', '--data-dir', dataDir]);
    expect(broker.host).toBe('localhost');
    expect(broker.dataDir).toBe(dataDir);
    const bootstrap = ['--bootstrap-server', `localhost:${broker.port}`];

    expect((await runCli(['produce', ...bootstrap, '--topic', 'auto'], { input: 'one\n' })).code).toBe(0);
    const described = await runCli(['topics', ...bootstrap, '--describe', '--topic', 'auto']);
    expect(described.stdout).toMatch(/^Topic: auto\t.*\tPartitionCount: 3\t/);
    expect(fs.existsSync(path.join(dataDir, 'auto-0'))).toBe(true);

    expect(await stopBrokerCli(broker.child)).toBe(0);
    expect(broker.child.stderr).toContain('Broker stopped');
  });

  it('takes log.dirs from a server.properties with two directories, spreads a topic over them and says so', async () => {
    const dir = tempDir();
    const logDirs = [path.join(dir, 'disk1'), path.join(dir, 'disk2')];
    const properties = path.join(dir, 'server.properties');
    fs.writeFileSync(properties, `log.dirs=${logDirs.join(',')}\nnum.partitions=4\n`);
    const broker = await startBrokerCli(['--config', properties, '--port', '0']);
    expect(broker.dataDir).toBe(`${logDirs[0]} (log dirs ${logDirs.join(',')})`);
    const bootstrap = ['--bootstrap-server', `localhost:${broker.port}`];
    expect((await runCli(['produce', ...bootstrap, '--topic', 'spread'], { input: 'one\n' })).code).toBe(0);
    expect(logDirs.map((logDir) => fs.readdirSync(logDir).filter((name) => name.startsWith('spread-')).sort())).toEqual([
      ['spread-0', 'spread-2'],
      ['spread-1', 'spread-3'],
    ]);
    expect(await stopBrokerCli(broker.child)).toBe(0);
    for (const logDir of logDirs) expect(fs.existsSync(path.join(logDir, '.sluice_cleanshutdown'))).toBe(true);
  });

  it('--broker-id sets node.id over the config file, --host binds that address only, and broker.rack is in Metadata', async () => {
    const dir = tempDir();
    const properties = path.join(dir, 'server.properties');
    fs.writeFileSync(properties, 'node.id=3\nbroker.rack=zone-1\n');
    const broker = await startBrokerCli(['--config', properties, '--broker-id', '7', '--host', '127.0.0.5', '--port', '0', '--data-dir', path.join(dir, 'data')]);
    expect(broker.host).toBe('127.0.0.5');
    // broker.rack takes effect (Metadata's rack), so the start-up lines do not list it as unsupported.
    expect(broker.child.stderr).not.toContain('broker.rack');
    const client = await KafkaClient.connect({ brokers: [`127.0.0.5:${broker.port}`] });
    try {
      expect((await client.metadata([])).brokers).toEqual([{ nodeId: 7, host: '127.0.0.5', port: broker.port, rack: 'zone-1' }]);
    } finally {
      client.close();
    }
    expect(await connectResult('127.0.0.1', broker.port)).toBe('ECONNREFUSED');
    expect(await stopBrokerCli(broker.child)).toBe(0);
  });

  it('--advertised-host is what Metadata gives clients (with the bound port for --port 0) and, without --host, the address bound', async () => {
    const broker = await startBrokerCli(['--advertised-host', '127.0.0.6', '--port', '0', '--data-dir', path.join(tempDir(), 'data')]);
    expect(broker.host).toBe('127.0.0.6');
    const client = await KafkaClient.connect({ brokers: [`127.0.0.6:${broker.port}`] });
    try {
      expect((await client.metadata([])).brokers).toEqual([{ nodeId: 1, host: '127.0.0.6', port: broker.port, rack: null }]);
    } finally {
      client.close();
    }
    expect(await connectResult('127.0.0.1', broker.port)).toBe('ECONNREFUSED');
    expect(await stopBrokerCli(broker.child)).toBe(0);

    // Both: bind one address, advertise another.
    const both = await startBrokerCli(['--host', '127.0.0.7', '--advertised-host', 'localhost', '--port', '0', '--data-dir', path.join(tempDir(), 'data')]);
    expect(both.host).toBe('localhost');
    const viaBound = await KafkaClient.connect({ brokers: [`127.0.0.7:${both.port}`] });
    try {
      expect((await viaBound.metadata([])).brokers).toEqual([{ nodeId: 1, host: 'localhost', port: both.port, rack: null }]);
    } finally {
      viaBound.close();
    }
    expect(await stopBrokerCli(both.child)).toBe(0);
  });

  it('--etcd takes http URLs, comma-separated', async () => {
    for (const value of ['localhost:2379', 'http://127.0.0.1:2379,etcd:2379', ',']) {
      const result = await runCli(['broker', '--etcd', value, '--data-dir', path.join(tempDir(), 'data')]);
      expect(result.code, value).toBe(2);
      expect(result.stderr).toMatch(/^Error: --etcd (expects http:\/\/HOST:PORT URLs|is empty)/);
    }
  });

  it('fails with exit 1 and one line when the config file is missing or the port is taken', async () => {
    let result = await runCli(['broker', '--config', path.join(tempDir(), 'missing.properties')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: Cannot read the config file .*missing\.properties: no such file\n$/);

    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      result = await runCli(['broker', '--port', String(port), '--data-dir', path.join(tempDir(), 'data')]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`Error: Cannot listen on ${port}: the port is in use\n`);
    } finally {
      server.close();
    }
  });

  it('refuses a TLS listener without a key store, with exit 1 and one line', async () => {
    const result = await runCli(['broker', '--listeners=SSL://:0', '--data-dir', path.join(tempDir(), 'data')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: Cannot start the broker: Listener SSL is SSL and has no key store: set ssl\.keystore\.location \(PKCS12 or PEM\), or ssl\.keystore\.type=PEM with ssl\.keystore\.key and ssl\.keystore\.certificate\.chain\n$/);
  });
});
