// `sluice acls` as kafka-acls, against a broker in this process with Kafka's authorizer
// (authorizer.class.name=StandardAuthorizer, super.users=User:admin) on a SASL/PLAIN listener:
// the CLI logs in with --command-config as admin to add, list and remove ACLs, and prints
// Kafka's lines; --producer and --consumer make Kafka's bindings; alice, no super user, is refused
// (CLUSTER_AUTHORIZATION_FAILED) until an ACL lets her describe the cluster; a broker without an
// authorizer is reported as having security disabled; bad flags are usage errors.
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startBroker, type Broker } from '../../src/index.js';
import { tempDir } from '../helpers.js';
import { runCli, STACK_LINE } from './run-cli.js';

const PLAIN_LOGIN = 'org.apache.kafka.common.security.plain.PlainLoginModule required';

let secured: Broker;
let open: Broker;
const commandConfigs: Record<string, string> = {};

beforeAll(async () => {
  [secured, open] = await Promise.all([
    startBroker({
      port: 0,
      config: {
        listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': `${PLAIN_LOGIN} user_admin="admin-secret" user_alice="alice-secret";`,
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'super.users': 'User:admin',
      },
    }),
    startBroker({ port: 0 }),
  ]);
  const dir = tempDir();
  for (const user of ['admin', 'alice']) {
    commandConfigs[user] = path.join(dir, `${user}.properties`);
    fs.writeFileSync(
      commandConfigs[user],
      `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=${PLAIN_LOGIN} username="${user}" password="${user}-secret";\n`,
    );
  }
});

afterAll(async () => {
  await Promise.all([secured?.stop(), open?.stop()]);
});

const as = (user: 'admin' | 'alice', ...args: string[]) => runCli(['acls', '--bootstrap-server', `127.0.0.1:${secured.port}`, '--command-config', commandConfigs[user]!, ...args]);
const admin = (...args: string[]) => as('admin', ...args);

/** kafka-acls' block of a resource pattern's ACLs. */
function current(pattern: string, ...entries: string[]): string {
  return `Current ACLs for resource \`ResourcePattern(${pattern})\`:\n${entries.map((entry) => `\t(${entry})`).join('\n')}\n\n`;
}

describe('sluice acls', () => {
  it('adds an ACL, lists it in Kafka\'s lines, and removes it', async () => {
    const topic = 'resourceType=TOPIC, name=orders, patternType=LITERAL';
    const read = 'principal=User:alice, host=*, operation=READ, permissionType=ALLOW';
    const describeEntry = 'principal=User:alice, host=*, operation=DESCRIBE, permissionType=ALLOW';
    let result = await admin('--add', '--allow-principal', 'User:alice', '--operation', 'Read', '--operation', 'DESCRIBE', '--topic', 'orders');
    expect(result).toMatchObject({
      code: 0,
      stderr: '',
      stdout: `Adding ACLs for resource \`ResourcePattern(${topic})\`: \n \t(${read})\n\t(${describeEntry})\n\n` + current(topic, read, describeEntry),
    });

    result = await admin('--list', '--topic', 'orders');
    expect(result).toMatchObject({ code: 0, stderr: '', stdout: current(topic, read, describeEntry) });
    result = await admin('--list', '--principal', 'User:alice');
    expect(result).toMatchObject({ code: 0, stdout: 'ACLs for principal `User:alice`\n' + current(topic, read, describeEntry) });
    result = await admin('--list', '--principal', 'User:bob');
    expect(result).toMatchObject({ code: 0, stdout: 'ACLs for principal `User:bob`\n' });

    // Removing names the ACL exactly; what is left is listed.
    result = await admin('--remove', '--allow-principal', 'User:alice', '--operation', 'Read', '--topic', 'orders', '--force');
    expect(result).toMatchObject({ code: 0, stderr: '', stdout: current(topic, describeEntry) });
    // Without a principal, every ACL of the resource goes.
    result = await admin('--remove', '--topic', 'orders', '--force');
    expect(result).toMatchObject({ code: 0, stderr: '', stdout: '' });
    result = await admin('--list', '--topic', 'orders');
    expect(result).toMatchObject({ code: 0, stdout: '' });
  });

  it('--user-principal and --delegation-token: the token ACLs (CreateTokens, DescribeTokens on a user; Describe on a token)', async () => {
    const user = 'resourceType=USER, name=User:alice, patternType=LITERAL';
    const token = 'resourceType=DELEGATION_TOKEN, name=token-1, patternType=LITERAL';
    const tokens = 'principal=User:carol, host=*, operation=CREATE_TOKENS, permissionType=ALLOW';
    const describeTokens = 'principal=User:carol, host=*, operation=DESCRIBE_TOKENS, permissionType=ALLOW';
    const describeEntry = 'principal=User:carol, host=*, operation=DESCRIBE, permissionType=ALLOW';
    let result = await admin('--add', '--allow-principal', 'User:carol', '--operation', 'CreateTokens', '--operation', 'DescribeTokens', '--user-principal', 'User:alice');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    result = await admin('--add', '--allow-principal', 'User:carol', '--operation', 'Describe', '--delegation-token', 'token-1');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    result = await admin('--list', '--user-principal', 'User:alice', '--delegation-token', 'token-1');
    expect(result).toMatchObject({ code: 0, stdout: current(token, describeEntry) + current(user, tokens, describeTokens) });
    result = await admin('--remove', '--user-principal', 'User:alice', '--delegation-token', 'token-1', '--force');
    expect(result).toMatchObject({ code: 0, stderr: '', stdout: '' });
  });

  it('lists a prefixed pattern under --list with any (literal by default, as Kafka), and under match for a name it covers', async () => {
    const prefixed = 'resourceType=TOPIC, name=logs-, patternType=PREFIXED';
    const deny = 'principal=User:alice, host=10.0.0.1, operation=WRITE, permissionType=DENY';
    let result = await admin('--add', '--deny-principal', 'User:alice', '--deny-host', '10.0.0.1', '--operation', 'Write', '--topic', 'logs-', '--resource-pattern-type', 'prefixed');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain(current(prefixed, deny));

    result = await admin('--list', '--topic', 'logs-', '--resource-pattern-type', 'any');
    expect(result).toMatchObject({ code: 0, stdout: current(prefixed, deny) });
    result = await admin('--list', '--topic', 'logs-');
    expect(result).toMatchObject({ code: 0, stdout: '' });
    result = await admin('--list', '--topic', 'logs-app', '--resource-pattern-type', 'match');
    expect(result).toMatchObject({ code: 0, stdout: current(prefixed, deny) });

    result = await admin('--remove', '--topic', 'logs-', '--resource-pattern-type', 'prefixed', '--force');
    expect(result).toMatchObject({ code: 0, stdout: '' });
  });

  it('--producer and --consumer make the bindings of Kafka\'s shortcuts', async () => {
    const entry = (operation: string) => `principal=User:bob, host=*, operation=${operation}, permissionType=ALLOW`;
    let result = await admin('--add', '--producer', '--idempotent', '--allow-principal', 'User:bob', '--topic', 'payments', '--transactional-id', 'payments-tx');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    result = await admin('--add', '--consumer', '--allow-principal', 'User:bob', '--topic', 'payments', '--group', 'billing');
    expect(result).toMatchObject({ code: 0, stderr: '' });

    result = await admin('--list', '--principal', 'User:bob');
    expect(result).toMatchObject({
      code: 0,
      stdout:
        'ACLs for principal `User:bob`\n' +
        current('resourceType=TOPIC, name=payments, patternType=LITERAL', entry('READ'), entry('WRITE'), entry('CREATE'), entry('DESCRIBE')) +
        current('resourceType=GROUP, name=billing, patternType=LITERAL', entry('READ')) +
        current('resourceType=CLUSTER, name=kafka-cluster, patternType=LITERAL', entry('IDEMPOTENT_WRITE')) +
        current('resourceType=TRANSACTIONAL_ID, name=payments-tx, patternType=LITERAL', entry('WRITE'), entry('DESCRIBE')),
    });

    // --remove with the same shortcut deletes the same bindings: DESCRIBE on the topic too, which --producer also made.
    result = await admin('--remove', '--consumer', '--allow-principal', 'User:bob', '--topic', 'payments', '--group', 'billing', '--force');
    expect(result).toMatchObject({ code: 0, stdout: current('resourceType=TOPIC, name=payments, patternType=LITERAL', entry('WRITE'), entry('CREATE')) });
    for (const flags of [['--topic', 'payments'], ['--transactional-id', 'payments-tx'], ['--cluster']]) expect((await admin('--remove', ...flags, '--force')).code).toBe(0);
    result = await admin('--list');
    expect(result).toMatchObject({ code: 0, stdout: '' });
  });

  it('refuses alice, no super user, with CLUSTER_AUTHORIZATION_FAILED until an ACL lets her describe the cluster', async () => {
    const hint = "Listing ACLs takes DESCRIBE on the cluster and changing them ALTER, unless the principal is one of the broker's super.users.";
    let result = await as('alice', '--list');
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: `Error: Describe ACLs: CLUSTER_AUTHORIZATION_FAILED (Cluster authorization failed.). ${hint}\n` });
    expect(result.stderr).not.toMatch(STACK_LINE);

    const entry = '(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)';
    result = await as('alice', '--add', '--allow-principal', 'User:alice', '--operation', 'Read', '--topic', 'secrets');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Error: Create ACL ${entry} on \`ResourcePattern(resourceType=TOPIC, name=secrets, patternType=LITERAL)\`: CLUSTER_AUTHORIZATION_FAILED (Cluster authorization failed.). ${hint}\n`,
    );

    result = await admin('--add', '--allow-principal', 'User:alice', '--operation', 'Describe', '--cluster');
    expect(result.code).toBe(0);
    const cluster = current('resourceType=CLUSTER, name=kafka-cluster, patternType=LITERAL', 'principal=User:alice, host=*, operation=DESCRIBE, permissionType=ALLOW');
    result = await as('alice', '--list');
    expect(result).toMatchObject({ code: 0, stderr: '', stdout: cluster });
    // DESCRIBE is not ALTER: she still may not remove it.
    result = await as('alice', '--remove', '--cluster', '--force');
    expect(result).toMatchObject({ code: 1, stderr: expect.stringContaining('CLUSTER_AUTHORIZATION_FAILED') });

    result = await admin('--remove', '--cluster', '--force');
    expect(result).toMatchObject({ code: 0, stdout: '' });
  });

  it('says security is disabled on a broker without an authorizer', async () => {
    const hint = 'Security is disabled on the broker: ACLs need an authorizer, authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer in its config.';
    const openAcls = (...args: string[]) => runCli(['acls', '--bootstrap-server', `127.0.0.1:${open.port}`, ...args]);
    let result = await openAcls('--list');
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: `Error: Describe ACLs: SECURITY_DISABLED (No Authorizer is configured on the broker). ${hint}\n` });
    result = await openAcls('--remove', '--topic', 'orders', '--force');
    expect(result).toMatchObject({
      code: 1,
      stderr: `Error: Remove ACLs of \`ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)\`: SECURITY_DISABLED (No Authorizer is configured on the broker). ${hint}\n`,
    });
    result = await openAcls('--add', '--allow-principal', 'User:alice', '--topic', 'orders');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`SECURITY_DISABLED (No Authorizer is configured on the broker). ${hint}\n`);
  });

  it.each([
    [['--topic', 'orders'], 'Command must include exactly one action: --list, --add, --remove.'],
    [['--add', '--list'], 'Command must include exactly one action: --list, --add, --remove.'],
    [['--add', '--topic', 'orders'], 'You must specify one of: --allow-principal, --deny-principal when trying to add ACLs.'],
    [['--add', '--allow-principal', 'User:alice'], 'You must provide at least one resource: --topic <topic> or --cluster or --group <group> or --transactional-id <transactional-id>'],
    [['--add', '--allow-principal', 'alice', '--topic', 'orders'], "--allow-principal expects a principal as principalType:principalName (User:alice), got 'alice'"],
    [['--add', '--allow-principal', 'User:alice', '--operation', 'Fly', '--topic', 'orders'], 'Unknown operation name Fly'],
    [['--add', '--allow-principal', 'User:alice', '--operation', 'Read', '--transactional-id', 'tx'], 'ResourceType TRANSACTIONAL_ID only supports operations DESCRIBE, WRITE, ALL'],
    [['--add', '--allow-principal', 'User:alice', '--operation', 'Read', '--user-principal', 'User:bob'], 'ResourceType USER only supports operations CREATE_TOKENS, DESCRIBE_TOKENS, ALL'],
    [['--add', '--allow-principal', 'User:alice', '--topic', 'orders', '--resource-pattern-type', 'match'], "A '--resource-pattern-type' value of 'MATCH' is not valid when adding acls."],
    [['--list', '--resource-pattern-type', 'regex'], 'Unknown resource-pattern-type: regex (literal, prefixed, any or match)'],
    [['--add', '--consumer', '--allow-principal', 'User:alice', '--topic', 'orders'], 'With --consumer you must specify a --topic and a --group'],
    [['--add', '--producer', '--allow-principal', 'User:alice', '--group', 'g'], 'With --producer you must specify a --topic'],
    [['--add', '--producer', '--operation', 'Read', '--allow-principal', 'User:alice', '--topic', 'orders'], '--operation cannot be used with --producer'],
    [['--add', '--idempotent', '--allow-principal', 'User:alice', '--topic', 'orders'], 'The --idempotent option is only available if --producer is set'],
    [['--list', '--allow-principal', 'User:alice'], '--allow-principal cannot be used with --list'],
    [['--remove', '--principal', 'User:alice', '--topic', 'orders'], 'The --principal option is only available if --list is set'],
    [['--add', '--allow-host', '10.0.0.1', '--deny-principal', 'User:alice', '--topic', 'orders'], '--allow-host goes with --allow-principal'],
    [['--add', '--allow-principal', 'User:alice', '--cluster', '--resource-pattern-type', 'prefixed'], '--cluster is the literal resource kafka-cluster'],
  ])('%j is a usage error', async (args, message) => {
    const result = await admin(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`Error: ${message}`);
    expect(result.stderr).toMatch(/\nSee 'sluice acls --help'\n$/);
  });
});
