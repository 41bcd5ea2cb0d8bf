// The command line itself: help, usage errors (exit 2), an unreachable broker (exit 1), and the
// argument parser as a unit.
import net from 'node:net';
import { describe, expect, it } from 'vitest';

import { helpText, parseArgs, UsageError, type CommandSpec } from '../../src/cli/args.js';
import { runCli, STACK_LINE } from './run-cli.js';

const COMMANDS = ['broker', 'cluster', 'topics', 'configs', 'acls', 'delete-records', 'get-offsets', 'leader-election', 'log-dirs', 'broker-api-versions', 'produce', 'consume', 'dump-log', 'perf produce', 'e2e-latency', 'perf consume'];

describe('sluice --help', () => {
  it('lists every command', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const command of COMMANDS) expect(stdout).toContain(command);
  });

  it.each(COMMANDS)('sluice %s --help prints its usage and flags', async (command) => {
    const { code, stdout, stderr } = await runCli([...command.split(' '), '--help']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: sluice ${command} `);
    expect(stdout).toContain('--help');
  });
});

describe('usage errors exit 2 with one line and a pointer to --help', () => {
  it.each([
    [['topics', '--list', '--frobnicate'], "Unknown option '--frobnicate'", 'topics'],
    [['produce'], 'Missing required option --topic', 'produce'],
    [['consume', '--topic', 't', '--max-messages', 'ten'], "--max-messages expects an integer, got 'ten'", 'consume'],
    [['topics', '--create'], '--create needs --topic', 'topics'],
    [['topics', '--list', '--describe'], 'Give only one of --list, --describe', 'topics'],
    [['perf', 'produce', '--topic', 't', '--num-records', '10'], 'Missing required option --record-size', 'perf produce'],
    [['dump-log'], 'Missing <file>', 'dump-log'],
    [['consume', '--topic', 't', '--group', 'g', '--partition', '0'], '--group takes the partitions the group assigns', 'consume'],
    [['groups', '--describe'], '--describe needs --group', 'groups'],
    [['produce', '--topic', 't', '--acks', '2'], "--acks expects 0, 1 or all, got '2'", 'produce'],
    [['cluster', '--brokers', '0'], '--brokers must be at least 1, got 0', 'cluster'],
    [['topics', '--list', '--under-replicated-partitions'], '--under-replicated-partitions goes with --describe only', 'topics'],
  ])('%j', async (args, message, command) => {
    const { code, stdout, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    const lines = stderr.split('\n');
    expect(lines).toHaveLength(3); // two lines and the final newline
    expect(lines[0]).toMatch(/^Error: /);
    expect(lines[0]).toContain(message);
    expect(lines[1]).toBe(`See 'sluice ${command} --help'`);
  });

  it('an unknown command', async () => {
    const { code, stderr } = await runCli(['frob']);
    expect(code).toBe(2);
    expect(stderr).toBe("Error: Unknown command 'frob'\nSee 'sluice --help'\n");
  });
});

describe('an unreachable broker', () => {
  it('prints "Cannot connect to the broker at HOST:PORT (...)" and exits 1, without a stack', async () => {
    const port = await closedPort();
    for (const args of [['topics', '--list'], ['consume', '--topic', 't'], ['produce', '--topic', 't'], ['perf', 'consume', '--topic', 't', '--messages', '1']]) {
      const { code, stderr } = await runCli([...args, '--bootstrap-server', `127.0.0.1:${port}`], { input: 'x\n' });
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`^Error: Cannot connect to the broker at 127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\)$`, 'm'));
      expect(stderr).not.toMatch(STACK_LINE);
    }
  });
});

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('parseArgs', () => {
  const spec: CommandSpec = {
    name: 'test',
    summary: 'A test command.',
    usage: '<file> [options]',
    positionals: ['file'],
    flags: [
      { name: 'count', type: 'integer', description: 'A count.' },
      { name: 'name', type: 'string', description: 'A name.', required: true },
      { name: 'verbose', type: 'boolean', description: 'Talk.' },
      { name: 'config', type: 'list', description: 'Repeatable.' },
    ],
  };

  it('reads --flag value, --flag=value, booleans, repeated lists and positionals', () => {
    const args = parseArgs(spec, ['f.log', '--count', '3', '--name=a=b', '--verbose', '--config', 'x=1', '--config=y=2']);
    expect(args.positionals).toEqual(['f.log']);
    expect(args.integer('count')).toBe(3);
    expect(args.string('name')).toBe('a=b');
    expect(args.boolean('verbose')).toBe(true);
    expect(args.list('config')).toEqual(['x=1', 'y=2']);
  });

  it('takes a value that starts with a dash, and everything after -- as positionals', () => {
    const args = parseArgs(spec, ['--name', '-', '--count', '-1', '--', '--not-a-flag']);
    expect(args.string('name')).toBe('-');
    expect(args.integer('count')).toBe(-1);
    expect(args.positionals).toEqual(['--not-a-flag']);
  });

  it.each([
    [['f', '--name', 'n', '--nope'], "Unknown option '--nope'"],
    [['f', '--name', 'n', '-x'], "Unknown option '-x'"],
    [['f'], 'Missing required option --name'],
    [['f', '--name'], '--name needs a value'],
    [['f', '--name', 'a', '--name', 'b'], '--name was given twice'],
    [['f', '--name', 'n', '--verbose=yes'], '--verbose takes no value'],
    [['f', '--name', 'n', '--count', '1.5'], "--count expects an integer, got '1.5'"],
    [['--name', 'n'], 'Missing <file>'],
    [['f', 'g', '--name', 'n'], "Unexpected argument 'g'"],
  ])('%j is a usage error: %s', (argv, message) => {
    expect(() => parseArgs(spec, argv)).toThrow(UsageError);
    expect(() => parseArgs(spec, argv)).toThrow(message);
  });

  it('a greedy list takes the plain arguments after it, up to the next flag (nargs +)', () => {
    const greedy: CommandSpec = { ...spec, positionals: [], flags: [...spec.flags, { name: 'props', type: 'list', greedy: true, description: 'KEY=VALUE ...' }] };
    const args = parseArgs(greedy, ['--props', 'a=1', 'b=2', '--name', 'n', '--props', 'c=3', '--verbose']);
    expect(args.list('props')).toEqual(['a=1', 'b=2', 'c=3']);
    expect(args.string('name')).toBe('n');
    expect(() => parseArgs(greedy, ['--name', 'n', 'stray'])).toThrow("Unexpected argument 'stray'");
    expect(() => parseArgs(greedy, ['--name', 'n', '--props', 'a=1', '--', 'stray'])).toThrow("Unexpected argument 'stray'");
  });

  it('a flag with an optional value takes the plain argument right after it, or stands alone', () => {
    const flags = [...spec.flags.map((flag) => ({ ...flag, required: false })), { name: 'state', type: 'boolean' as const, optionalValue: true, description: 'STATES' }];
    const optional: CommandSpec = { ...spec, positionals: [], flags };
    let args = parseArgs(optional, ['--state', '--verbose']);
    expect([args.boolean('state'), args.optionalValue('state'), args.boolean('verbose')]).toEqual([true, undefined, true]);
    args = parseArgs(optional, ['--state', 'Stable,Empty', '--verbose']);
    expect([args.boolean('state'), args.optionalValue('state')]).toEqual([true, 'Stable,Empty']);
    expect(parseArgs(optional, ['--state=Dead']).optionalValue('state')).toBe('Dead');
    expect(parseArgs(optional, []).boolean('state')).toBe(false);
    expect(() => parseArgs(optional, ['--state', 'a', 'b'])).toThrow("Unexpected argument 'b'");
    expect(() => parseArgs(optional, ['--verbose=yes'])).toThrow('--verbose takes no value');
  });

  it('passes unknown --KEY=VALUE through as config when the command allows it, and only in that form', () => {
    const broker: CommandSpec = { ...spec, positionals: [], flags: [], configPassthrough: true };
    expect(parseArgs(broker, ['--num.partitions=3', '--log.dirs=/x', '--num.partitions=4']).config).toEqual({ 'num.partitions': '4', 'log.dirs': '/x' });
    expect(() => parseArgs(broker, ['--num.partitions', '3'])).toThrow("Unknown option '--num.partitions'");
  });

  it('checks integer bounds', () => {
    const args = parseArgs(spec, ['f', '--name', 'n', '--count', '0']);
    expect(() => args.integer('count', { min: 1 })).toThrow('--count must be at least 1, got 0');
    expect(args.integer('count', { min: 0, fallback: 7 })).toBe(0);
  });

  it('derives the help text from the flags', () => {
    const text = helpText(spec);
    expect(text).toContain('Usage: sluice test <file> [options]');
    expect(text).toMatch(/--count VALUE +A count\./);
    expect(text).toMatch(/--name VALUE +\(required\) A name\./);
  });
});
