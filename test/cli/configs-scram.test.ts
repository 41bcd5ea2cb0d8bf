// `sluice configs` of users' SCRAM credentials (KIP-554), as kafka-configs manages them: --alter
// --add-config 'SCRAM-SHA-256=[iterations=N,password=P]' and --delete-config SCRAM-SHA-256 against
// a broker in this process, Kafka's describe lines and refusals, and the proof that a credential
// made this way logs in: kafkajs authenticates with SCRAM on a SASL_PLAINTEXT listener, the CLI
// itself logging in as an admin with PLAIN (--command-config).
import fs from 'node:fs';
import path from 'node:path';

import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readEntitiesFile } from '../../src/broker/config-entities.js';
import { SCRAM_CREDENTIALS_FILE } from '../../src/broker/sasl/scram-credentials.js';
import { startBroker, type Broker } from '../../src/index.js';
import { parseCredential, scramCredential, type ScramCredential, type ScramMechanism } from '../../src/protocol/scram.js';
import { tempDir } from '../helpers.js';
import { runCli, STACK_LINE } from './run-cli.js';

let broker: Broker;
let bootstrap: string[];

beforeAll(async () => {
  broker = await startBroker({ port: 0 });
  bootstrap = ['--bootstrap-server', `localhost:${broker.port}`];
});

afterAll(async () => {
  await broker?.stop();
});

/** The credential the broker keeps for `user` (its file in the data directory), or undefined. */
function storedCredential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
  const text = readEntitiesFile(broker.dataDir, SCRAM_CREDENTIALS_FILE).get(user)?.[mechanism];
  return text === undefined ? undefined : parseCredential(text);
}

const configs = (...args: string[]) => runCli(['configs', ...bootstrap, ...args]);
const alterAlice = (...args: string[]) => configs('--alter', '--entity-type', 'users', '--entity-name', 'alice', ...args);
const describeAlice = () => configs('--describe', '--entity-type', 'users', '--entity-name', 'alice');

describe('sluice configs of SCRAM credentials', () => {
  it('sets credentials salted and hashed by the client, describes them with Kafka\'s line, and deletes them', async () => {
    let result = await alterAlice('--add-config', 'SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=alice-secret]');
    expect(result).toMatchObject({ code: 0, stdout: 'Completed updating config for user alice.\n', stderr: '' });

    // The broker keeps what checks a proof of the password (never the password): keys of the
    // client's salted password, with its fresh salt.
    expect(fs.readFileSync(path.join(broker.dataDir, SCRAM_CREDENTIALS_FILE), 'utf8')).not.toContain('alice-secret');
    const stored = storedCredential('alice', 'SCRAM-SHA-256')!;
    expect(stored.iterations).toBe(8192);
    expect(stored.salt.length).toBe(32);
    expect(scramCredential('SCRAM-SHA-256', 'alice-secret', stored.salt, 8192)).toEqual(stored);
    const stored512 = storedCredential('alice', 'SCRAM-SHA-512')!;
    expect(stored512.iterations).toBe(4096);
    expect(scramCredential('SCRAM-SHA-512', 'alice-secret', stored512.salt, 4096)).toEqual(stored512);
    expect(stored512.salt.equals(stored.salt)).toBe(false);

    result = await describeAlice();
    expect(result).toMatchObject({ code: 0, stdout: "SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096\n", stderr: '' });
    // --user U is the same entity.
    result = await configs('--describe', '--user', 'alice');
    expect(result.stdout).toBe("SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096\n");

    result = await alterAlice('--delete-config', 'SCRAM-SHA-512');
    expect(result).toMatchObject({ code: 0, stdout: 'Completed updating config for user alice.\n', stderr: '' });
    result = await describeAlice();
    expect(result.stdout).toBe("SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192\n");

    result = await alterAlice('--delete-config', 'SCRAM-SHA-256');
    expect(result.code).toBe(0);
    expect(storedCredential('alice', 'SCRAM-SHA-256')).toBeUndefined();
    // A named user without a credential: Kafka's tool prints the broker's RESOURCE_NOT_FOUND on its line, and succeeds.
    result = await describeAlice();
    expect(result).toMatchObject({
      code: 0,
      stdout: "Error retrieving SCRAM credential configs for user-principal 'alice': RESOURCE_NOT_FOUND: Attempt to describe a user credential that does not exist\n",
      stderr: '',
    });
  });

  it('--describe of every user prints the quota lines, then a SCRAM line for each user with a credential', async () => {
    let result = await configs('--alter', '--user', 'bob', '--add-config', 'SCRAM-SHA-512=[iterations=-1,password=bob-secret]');
    expect(result.code).toBe(0);
    result = await configs('--alter', '--user', 'carol', '--add-config', 'SCRAM-SHA-256=[password=carol-secret]');
    expect(result.code).toBe(0);
    result = await configs('--alter', '--user', 'bob', '--add-config', 'producer_byte_rate=1024');
    expect(result.code).toBe(0);

    result = await configs('--describe', '--entity-type', 'users');
    expect(result).toMatchObject({
      code: 0,
      stdout:
        "Quota configs for user-principal 'bob' are producer_byte_rate=1024.0\n" +
        "SCRAM credential configs for user-principal 'bob' are SCRAM-SHA-512=iterations=4096\n" +
        "SCRAM credential configs for user-principal 'carol' are SCRAM-SHA-256=iterations=4096\n",
    });
    // With a client, or of the default user, kafka-configs prints no SCRAM line.
    result = await configs('--describe', '--user', 'bob', '--client', 'app');
    expect(result).toMatchObject({ code: 0, stdout: '' });
    result = await configs('--describe', '--user-defaults');
    expect(result).toMatchObject({ code: 0, stdout: '' });

    await configs('--alter', '--user', 'bob', '--delete-config', 'producer_byte_rate');
    await configs('--alter', '--user', 'bob', '--delete-config', 'SCRAM-SHA-512');
    await configs('--alter', '--user', 'carol', '--delete-config', 'SCRAM-SHA-256');
    result = await configs('--describe', '--entity-type', 'users');
    expect(result).toMatchObject({ code: 0, stdout: '' });
  });

  it.each([
    // Kafka's tool refuses too few iterations itself, before asking the broker.
    [['--add-config', 'SCRAM-SHA-256=[iterations=100,password=alice-secret]'], 'Iterations 100 is less than the minimum 4096 required for SCRAM-SHA-256'],
    // The broker refuses too many, and an empty password is refused by the client as Kafka's admin client does.
    [['--add-config', 'SCRAM-SHA-256=[iterations=20000,password=alice-secret]'], 'Alter SCRAM credentials of user alice: UNACCEPTABLE_CREDENTIAL (Too many iterations: 20000 is above the maximum 16384)'],
    [['--add-config', 'SCRAM-SHA-512=[password=]'], 'Alter SCRAM credentials of user alice: UNACCEPTABLE_CREDENTIAL (Password must not be empty)'],
    [['--delete-config', 'SCRAM-SHA-512'], 'Alter SCRAM credentials of user alice: RESOURCE_NOT_FOUND (Attempt to delete a user credential that does not exist)'],
  ])('%j fails with exit 1 and one Error line', async (args, message) => {
    const result = await alterAlice(...args);
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: `Error: ${message}\n` });
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(storedCredential('alice', 'SCRAM-SHA-256')).toBeUndefined();
  });

  it.each([
    [['--entity-type', 'users', '--entity-name', 'alice', '--add-config', 'SCRAM-SHA-256=[password=p],producer_byte_rate=1024'], "Cannot alter both quota and SCRAM credential configs simultaneously for 'users' using --bootstrap-server."],
    [['--user', 'alice', '--add-config', 'SCRAM-SHA-256=[password=p]', '--delete-config', 'consumer_byte_rate'], "Cannot alter both quota and SCRAM credential configs simultaneously for 'users' using --bootstrap-server."],
    [['--entity-type', 'users', '--entity-default', '--add-config', 'SCRAM-SHA-256=[password=p]'], 'The use of --entity-default or --user-defaults is not allowed with User SCRAM Credentials using --bootstrap-server.'],
    [['--user', 'alice', '--client', 'app', '--add-config', 'SCRAM-SHA-256=[password=p]'], "Only quota configs can be added for 'clients' using --bootstrap-server. Unexpected config names: SCRAM-SHA-256"],
    [['--client', 'app', '--delete-config', 'SCRAM-SHA-512'], "Only quota configs can be deleted for 'clients' using --bootstrap-server. Unexpected config names: SCRAM-SHA-512"],
    [['--user', 'alice', '--add-config', 'SCRAM-SHA-256=[iterations=,password=p]'], 'Invalid credential property SCRAM-SHA-256=iterations=,password=p'],
    [['--user', 'alice', '--add-config', 'SCRAM-SHA-256=p'], 'Invalid credential property SCRAM-SHA-256=p'],
  ])('%j is a usage error', async (args, message) => {
    const result = await configs('--alter', ...args);
    expect(result).toMatchObject({ code: 2, stderr: `Error: ${message}\nSee 'sluice configs --help'\n` });
  });
});

describe('a SCRAM credential made by sluice configs logs in', () => {
  let sasl: Broker;
  let commandConfig: string;

  beforeAll(async () => {
    sasl = await startBroker({
      port: 0,
      config: {
        listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
        'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret";',
      },
    });
    await sasl.engine.createTopic('orders', { partitions: 1 });
    commandConfig = path.join(tempDir(), 'admin.properties');
    fs.writeFileSync(
      commandConfig,
      'security.protocol=SASL_PLAINTEXT\n' +
        'sasl.mechanism=PLAIN\n' +
        'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret";\n',
    );
  });

  afterAll(async () => {
    await sasl?.stop();
  });

  const admin = (...args: string[]) => runCli(['configs', '--bootstrap-server', `127.0.0.1:${sasl.port}`, '--command-config', commandConfig, ...args]);
  const kafkajs = (mechanism: 'scram-sha-256' | 'scram-sha-512', password: string) =>
    new Kafka({ clientId: 'scram-kafkajs', brokers: [`127.0.0.1:${sasl.port}`], sasl: { mechanism, username: 'alice', password } as SASLOptions, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();

  it('kafkajs logs in with SCRAM-SHA-256 and SCRAM-SHA-512 as alice and lists topics; a wrong password is refused', async () => {
    let result = await admin('--alter', '--entity-type', 'users', '--entity-name', 'alice', '--add-config', 'SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=alice-secret]');
    expect(result).toMatchObject({ code: 0, stdout: 'Completed updating config for user alice.\n', stderr: '' });
    result = await admin('--describe', '--entity-type', 'users');
    expect(result).toMatchObject({ code: 0, stdout: "SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096\n" });

    for (const mechanism of ['scram-sha-256', 'scram-sha-512'] as const) {
      const client = kafkajs(mechanism, 'alice-secret');
      await client.connect();
      try {
        expect(await client.listTopics()).toContain('orders');
      } finally {
        await client.disconnect();
      }
      const wrong = kafkajs(mechanism, 'not-alice-secret');
      await expect(wrong.connect()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
      await wrong.disconnect();
    }

    // Deleted, the credential no longer logs in.
    result = await admin('--alter', '--user', 'alice', '--delete-config', 'SCRAM-SHA-256');
    expect(result.code).toBe(0);
    const deleted = kafkajs('scram-sha-256', 'alice-secret');
    await expect(deleted.connect()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
    await deleted.disconnect();
  });
});
