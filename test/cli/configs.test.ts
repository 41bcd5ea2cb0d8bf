// `sluice configs` against a broker in this process: kafka-configs' describe and alter, its
// output lines, and its usage errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/broker/broker.js';
import { runCli, STACK_LINE } from './run-cli.js';
import { anonymousClient } from '../../src/broker/client-quotas.js';

let broker: Broker;
let bootstrap: string[];

beforeAll(async () => {
  broker = await startBroker({ port: 0, config: { 'log.retention.hours': 48 } });
  bootstrap = ['--bootstrap-server', `localhost:${broker.port}`];
  await broker.engine.createTopic('orders', { partitions: 1, config: { 'retention.ms': '60000' } });
  await broker.engine.createTopic('plain', { partitions: 1 });
});

afterAll(async () => {
  await broker?.stop();
});

describe('sluice configs --describe', () => {
  it("prints a topic's own configs with their synonyms, most specific first, as kafka-configs does", async () => {
    const result = await runCli(['configs', ...bootstrap, '--describe', '--topic', 'orders']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(
      'Dynamic configs for topic orders are:\n' +
        '  retention.ms=60000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=60000, STATIC_BROKER_CONFIG:log.retention.hours=48, DEFAULT_CONFIG:log.retention.hours=168}\n',
    );
  });

  it('with --all, every config by name; without a name, every topic', async () => {
    let result = await runCli(['configs', ...bootstrap, '--describe', '--all', '--entity-type', 'topics', '--entity-name', 'plain']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('All configs for topic plain are:');
    const names = lines.slice(1).map((line) => line.trim().split('=')[0]!);
    expect(names).toEqual([...names].sort());
    expect(lines).toContain('  retention.ms=172800000 sensitive=false synonyms={STATIC_BROKER_CONFIG:log.retention.hours=48, DEFAULT_CONFIG:log.retention.hours=168}');
    expect(lines).toContain('  segment.bytes=1073741824 sensitive=false synonyms={DEFAULT_CONFIG:log.segment.bytes=1073741824}');

    result = await runCli(['configs', ...bootstrap, '--describe', '--entity-type', 'topics']);
    expect(result.stdout.split('\n').filter((line) => line.endsWith(' are:'))).toEqual(['Dynamic configs for topic orders are:', 'Dynamic configs for topic plain are:']);
  });

  it("a broker started without dynamic configs has none; --all lists its static ones with their source", async () => {
    let result = await runCli(['configs', ...bootstrap, '--describe', '--entity-type', 'brokers']);
    expect(result).toMatchObject({ code: 0, stdout: 'Dynamic configs for broker 1 are:\n' });
    result = await runCli(['configs', ...bootstrap, '--describe', '--all', '--broker', '1']);
    expect(result.stdout).toContain('  log.retention.hours=48 sensitive=false synonyms={STATIC_BROKER_CONFIG:log.retention.hours=48, DEFAULT_CONFIG:log.retention.hours=168}\n');
    expect(result.stdout).toContain('  log.segment.bytes=1073741824 sensitive=false synonyms={DEFAULT_CONFIG:log.segment.bytes=1073741824}\n');
  });

  it('--entity-default names the cluster-wide default broker entity: empty until a dynamic default is set', async () => {
    const described = await runCli(['configs', ...bootstrap, '--describe', '--entity-type', 'brokers', '--entity-default']);
    expect(described).toMatchObject({ code: 0, stdout: 'Default configs for brokers in the cluster are:\n' });
  });
});

describe('sluice configs --alter of brokers (dynamic broker configs)', () => {
  it('sets a cluster-wide default, a broker overrides it, and topics without an override take the effective value', async () => {
    let result = await runCli(['configs', ...bootstrap, '--alter', '--entity-type', 'brokers', '--entity-default', '--add-config', 'log.retention.ms=3600000,log.cleanup.policy=[compact,delete]']);
    expect(result).toMatchObject({ code: 0, stdout: 'Completed updating default config for brokers in the cluster.\n', stderr: '' });
    result = await runCli(['configs', ...bootstrap, '--describe', '--entity-type', 'brokers', '--entity-default']);
    expect(result.stdout).toBe(
      'Default configs for brokers in the cluster are:\n' +
        '  log.cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.cleanup.policy=compact,delete}\n' +
        '  log.retention.ms=3600000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=3600000}\n',
    );
    expect(broker.engine.describeTopic('plain').config['retention.ms']).toBe('3600000');
    expect(broker.engine.describeTopic('plain').config['cleanup.policy']).toBe('compact,delete');

    result = await runCli(['configs', ...bootstrap, '--alter', '--broker', '1', '--add-config', 'log.retention.ms=7200000']);
    expect(result).toMatchObject({ code: 0, stdout: 'Completed updating config for broker 1.\n' });
    result = await runCli(['configs', ...bootstrap, '--describe', '--broker', '1']);
    expect(result.stdout).toBe(
      'Dynamic configs for broker 1 are:\n' +
        '  log.retention.ms=7200000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=7200000, DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=3600000}\n',
    );
    result = await runCli(['configs', ...bootstrap, '--describe', '--all', '--topic', 'plain']);
    expect(result.stdout).toContain(
      '  retention.ms=7200000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=7200000, DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=3600000, ' +
        'STATIC_BROKER_CONFIG:log.retention.hours=48, DEFAULT_CONFIG:log.retention.hours=168}\n',
    );
    expect(broker.engine.describeTopic('plain').config['retention.ms']).toBe('7200000');

    // Removed again: back to the static log.retention.hours=48.
    await runCli(['configs', ...bootstrap, '--alter', '--broker', '1', '--delete-config', 'log.retention.ms']);
    result = await runCli(['configs', ...bootstrap, '--alter', '--entity-type', 'brokers', '--entity-default', '--delete-config', 'log.retention.ms,log.cleanup.policy']);
    expect(result.code).toBe(0);
    expect(broker.engine.describeTopic('plain').config['retention.ms']).toBe('172800000');
    expect(broker.engine.describeTopic('plain').config['cleanup.policy']).toBe('delete');
  });
});

describe('sluice configs --alter', () => {
  it('sets with --add-config (a [list] value) and removes with --delete-config, in one IncrementalAlterConfigs', async () => {
    const result = await runCli(['configs', ...bootstrap, '--alter', '--topic', 'orders', '--add-config', 'cleanup.policy=[compact,delete],segment.bytes=1048576', '--delete-config', 'retention.ms']);
    expect(result).toMatchObject({ code: 0, stdout: 'Completed updating config for topic orders.\n', stderr: '' });
    expect(broker.engine.describeTopic('orders').overrides).toEqual({ 'cleanup.policy': 'compact,delete', 'segment.bytes': '1048576' });
    expect(broker.engine.describeTopic('orders').config['retention.ms']).toBe('172800000');
  });

  it.each([
    [['--alter', '--topic', 'nope', '--add-config', 'retention.ms=1'], 'UNKNOWN_TOPIC_OR_PARTITION'],
    [['--alter', '--topic', 'plain', '--add-config', 'retention.ms=abc'], 'INVALID_CONFIG'],
    [['--alter', '--broker', '1', '--add-config', 'log.retention.hours=1'], "INVALID_REQUEST (Invalid config value for resource ConfigResource(type=BROKER, name='1'): Cannot update these configs dynamically: Set(log.retention.hours))"],
    [['--alter', '--entity-type', 'brokers', '--entity-default', '--add-config', 'num.io.threads=2'], 'Set(num.io.threads); sluice takes them at start only'],
    [['--alter', '--broker', '1', '--add-config', 'log.segment.bytes=big'], 'Invalid value big for configuration log.segment.bytes'],
    [['--describe', '--topic', 'nope'], 'UNKNOWN_TOPIC_OR_PARTITION'],
    [['--describe', '--broker', '5'], 'BROKER_NOT_AVAILABLE: Broker 5 is not a live broker of the cluster (live: 1)'],
  ])('%j fails with one line naming the error, exit 1, and changes nothing', async (args, message) => {
    const before = broker.engine.describeTopic('plain').overrides;
    const dynamicBefore = new Map(broker.dynamicConfig.layers.all);
    const result = await runCli(['configs', ...bootstrap, ...args]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: .*\n$/);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(broker.engine.describeTopic('plain').overrides).toEqual(before);
    expect(broker.dynamicConfig.layers.all).toEqual(dynamicBefore);
  });
});

describe('sluice configs of broker loggers', () => {
  it("describes and sets a broker's log level, refusing what Kafka refuses", async () => {
    let result = await runCli(['configs', ...bootstrap, '--describe', '--entity-type', 'broker-loggers']);
    expect(result).toMatchObject({ code: 0, stdout: 'Dynamic configs for broker-logger 1 are:\n  root=WARN sensitive=false synonyms={DYNAMIC_BROKER_LOGGER_CONFIG:root=WARN}\n' });
    result = await runCli(['configs', ...bootstrap, '--alter', '--entity-type', 'broker-loggers', '--entity-name', '1', '--add-config', 'root=ERROR']);
    expect(result).toMatchObject({ code: 0, stdout: 'Completed updating config for broker-logger 1.\n' });
    expect(broker.logger.level).toBe('error');
    result = await runCli(['configs', ...bootstrap, '--alter', '--entity-type', 'broker-loggers', '--entity-name', '1', '--add-config', 'kafka.server=INFO']);
    expect(result).toMatchObject({ code: 1, stderr: 'Error: Alter configs of the loggers of broker 1: INVALID_CONFIG (Logger kafka.server does not exist!)\n' });
    await runCli(['configs', ...bootstrap, '--alter', '--entity-type', 'broker-loggers', '--entity-name', '1', '--add-config', 'root=WARN']);
    expect(broker.logger.level).toBe('warn');
  });
});

describe('sluice configs of client quotas', () => {
  it("sets, describes and removes quotas with kafka-configs' flags and lines", async () => {
    let result = await runCli(['configs', ...bootstrap, '--alter', '--entity-type', 'clients', '--entity-name', 'app', '--add-config', 'producer_byte_rate=1048576,consumer_byte_rate=2048']);
    expect(result).toMatchObject({ code: 0, stdout: 'Completed updating config for client app.\n', stderr: '' });
    result = await runCli(['configs', ...bootstrap, '--alter', '--entity-type', 'clients', '--entity-default', '--add-config', 'producer_byte_rate=10485760']);
    expect(result).toMatchObject({ code: 0, stdout: 'Completed updating default config for clients in the cluster.\n' });
    result = await runCli(['configs', ...bootstrap, '--alter', '--user', 'ANONYMOUS', '--client', 'app', '--add-config', 'consumer_byte_rate=4096']);
    expect(result).toMatchObject({ code: 0, stdout: 'Completed updating config for user ANONYMOUS.\n' });

    result = await runCli(['configs', ...bootstrap, '--describe', '--entity-type', 'clients']);
    expect(result).toMatchObject({
      code: 0,
      stdout:
        "Quota configs for client-id 'app' are consumer_byte_rate=2048.0, producer_byte_rate=1048576.0\n" +
        'Quota configs for the default client-id are producer_byte_rate=1.048576E7\n',
    });
    result = await runCli(['configs', ...bootstrap, '--describe', '--user', 'ANONYMOUS', '--client', 'app']);
    expect(result.stdout).toBe("Quota configs for user-principal 'ANONYMOUS', client-id 'app' are consumer_byte_rate=4096.0\n");
    expect(broker.clientQuotas.quotaOf('consumer_byte_rate', anonymousClient('app'))?.limitPerSecond).toBe(4096);

    result = await runCli(['configs', ...bootstrap, '--alter', '--client', 'app', '--delete-config', 'producer_byte_rate,consumer_byte_rate']);
    expect(result.code).toBe(0);
    result = await runCli(['configs', ...bootstrap, '--describe', '--client', 'app']);
    expect(result).toMatchObject({ code: 0, stdout: '' });
    await runCli(['configs', ...bootstrap, '--alter', '--client-defaults', '--delete-config', 'producer_byte_rate']);
    await runCli(['configs', ...bootstrap, '--alter', '--user', 'ANONYMOUS', '--client', 'app', '--delete-config', 'consumer_byte_rate']);
    expect(broker.clientQuotas.quotaOf('producer_byte_rate', anonymousClient('app'))).toBeUndefined();

    // An address's connection_creation_rate (KIP-612), by --entity-type ips.
    result = await runCli(['configs', ...bootstrap, '--alter', '--entity-type', 'ips', '--entity-name', '10.1.2.3', '--add-config', 'connection_creation_rate=5']);
    expect(result).toMatchObject({ code: 0, stdout: 'Completed updating config for ip 10.1.2.3.\n' });
    result = await runCli(['configs', ...bootstrap, '--alter', '--entity-type', 'ips', '--entity-default', '--add-config', 'connection_creation_rate=100']);
    expect(result).toMatchObject({ code: 0, stdout: 'Completed updating default config for ips in the cluster.\n' });
    result = await runCli(['configs', ...bootstrap, '--describe', '--entity-type', 'ips']);
    expect(result.stdout).toBe("Quota configs for ip '10.1.2.3' are connection_creation_rate=5.0\nQuota configs for the default ip are connection_creation_rate=100.0\n");
    expect([broker.clientQuotas.connectionRateOf('10.1.2.3'), broker.clientQuotas.connectionRateOf('10.9.9.9')]).toEqual([5, 100]);
    await runCli(['configs', ...bootstrap, '--alter', '--entity-type', 'ips', '--entity-name', '10.1.2.3', '--delete-config', 'connection_creation_rate']);
    await runCli(['configs', ...bootstrap, '--alter', '--entity-type', 'ips', '--entity-default', '--delete-config', 'connection_creation_rate']);
    expect(broker.clientQuotas.connectionRateOf('10.1.2.3')).toBeUndefined();
  });

  it.each([
    [['--alter', '--client', 'app', '--add-config', 'request_percentage=0'], "INVALID_REQUEST (Invalid value 0 for configuration request_percentage: must be a percentage of a thread's time above 0)"],
    [['--alter', '--entity-type', 'ips', '--entity-name', 'nope', '--add-config', 'connection_creation_rate=5'], 'INVALID_REQUEST (nope is not a valid IP address)'],
    [['--alter', '--client', 'app', '--add-config', 'producer_byte_rate=0'], 'INVALID_REQUEST (Invalid value 0 for configuration producer_byte_rate: must be a whole number of bytes a second above 0)'],
    [['--alter', '--client', 'app', '--add-config', 'consumer_bytes_rate=10'], 'INVALID_REQUEST (Invalid configuration key consumer_bytes_rate)'],
  ])('%j is refused with the broker\'s reason, exit 1', async (args, message) => {
    const result = await runCli(['configs', ...bootstrap, ...args]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`Error: Alter client quotas: ${message}\n`);
  });
});

describe('sluice configs usage errors', () => {
  it.each([
    [['--describe'], 'Give --topic, --broker or --entity-type'],
    [['--describe', '--alter', '--topic', 't'], 'Give only one of --describe, --alter'],
    [['--topic', 't'], 'Give one of --describe or --alter'],
    [['--describe', '--entity-type', 'groups'], "--entity-type must be topics, brokers, broker-loggers, clients or users, got 'groups'"],
    [['--alter', '--entity-type', 'clients', '--add-config', 'producer_byte_rate=1'], '--alter needs --entity-name (or --entity-default)'],
    [['--alter', '--client', 'a', '--add-config', 'producer_byte_rate=fast'], "Invalid value for producer_byte_rate: 'fast' is not a number"],
    [['--describe', '--client', 'a', '--topic', 't'], 'Give a quota entity by --entity-type clients|users|ips or by --client/--user, not with another entity'],
    [['--describe', '--topic', 't', '--broker', '1'], 'Give only one of --topic, --broker'],
    [['--alter', '--entity-type', 'topics', '--add-config', 'a=1'], '--alter needs --entity-name (or --topic, --broker, --entity-default)'],
    [['--describe', '--entity-type', 'topics', '--entity-default'], '--entity-default goes with --entity-type brokers'],
    [['--describe', '--entity-type', 'brokers', '--entity-name', '1', '--entity-default'], 'Give --entity-name or --entity-default, not both'],
    [['--alter', '--topic', 't'], '--alter needs --add-config or --delete-config'],
    [['--alter', '--topic', 't', '--add-config', 'retention.ms'], "--add-config expects KEY=VALUE entries, got 'retention.ms'"],
    [['--alter', '--topic', 't', '--add-config', 'a=1', '--delete-config', 'a'], 'a is in both --add-config and --delete-config'],
    [['--describe', '--topic', 't', '--add-config', 'a=1'], '--add-config goes with --alter only'],
    [['--describe', '--broker', 'one'], "A broker is named by its id, got 'one'"],
  ])('%j', async (args, message) => {
    const result = await runCli(['configs', ...bootstrap, ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`Error: ${message}\nSee 'sluice configs --help'\n`);
  });
});
