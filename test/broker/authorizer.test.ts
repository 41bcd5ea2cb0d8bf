// The authorizer's decisions, as Kafka's StandardAuthorizer makes them: DENY over ALLOW, implied
// DESCRIBE, the wildcards, PREFIXED patterns, super users and allow.everyone.if.no.acl.found; the
// filters of DescribeAcls and DeleteAcls (ANY, MATCH); the checks CreateAcls makes; and ACLs kept
// across a restart in the broker's data directory.
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { AclOperation, AclPermission, PatternType, ResourceType, type AclBinding, type AclBindingFilter } from '../../src/protocol/acl-codes.js';
import { ACLS_FILE, Authorizer, type AuthorizerSettings } from '../../src/broker/authorizer/authorizer.js';
import { readEntitiesFile } from '../../src/broker/config-entities.js';
import { reportBrokerConfig, resolveBrokerSettings } from '../../src/broker/config.js';
import { SluiceError } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

const ALICE = 'User:alice';
const BOB = 'User:bob';
const HOST = '10.0.0.1';

function authorizer(settings: Partial<AuthorizerSettings> = {}, dataDir = tempDir()): Authorizer {
  return new Authorizer(
    { enabled: true, superUsers: [], allowEveryoneIfNoAclFound: false, ...settings },
    { dataDir, cluster: () => null, initial: readEntitiesFile(dataDir, ACLS_FILE) },
    () => {},
  );
}

function acl(fields: Partial<AclBinding>): AclBinding {
  return {
    resourceType: ResourceType.TOPIC,
    resourceName: 'orders',
    patternType: PatternType.LITERAL,
    principal: ALICE,
    host: '*',
    operation: AclOperation.READ,
    permissionType: AclPermission.ALLOW,
    ...fields,
  };
}

const ANY_FILTER: AclBindingFilter = {
  resourceType: ResourceType.ANY,
  resourceName: null,
  patternType: PatternType.ANY,
  principal: null,
  host: null,
  operation: AclOperation.ANY,
  permissionType: AclPermission.ANY,
};

async function added(auth: Authorizer, ...bindings: AclBinding[]): Promise<Authorizer> {
  expect(await auth.create(bindings)).toEqual(bindings.map(() => null));
  return auth;
}

const readsOrders = (auth: Authorizer, principal = ALICE, host = HOST) => auth.authorize(principal, host, AclOperation.READ, ResourceType.TOPIC, 'orders');

describe('authorizer decisions', () => {
  it('allows what an ALLOW names, and nothing else, once a resource has ACLs', async () => {
    const auth = await added(authorizer(), acl({}));
    expect(readsOrders(auth)).toBe(true);
    expect(readsOrders(auth, BOB)).toBe(false);
    expect(auth.authorize(ALICE, HOST, AclOperation.WRITE, ResourceType.TOPIC, 'orders')).toBe(false);
    // No ACL on the resource: denied unless allow.everyone.if.no.acl.found.
    expect(auth.authorize(ALICE, HOST, AclOperation.READ, ResourceType.TOPIC, 'payments')).toBe(false);
    const open = await added(authorizer({ allowEveryoneIfNoAclFound: true }), acl({}));
    expect(open.authorize(BOB, HOST, AclOperation.READ, ResourceType.TOPIC, 'payments')).toBe(true);
    // ... but a resource that has ACLs follows them.
    expect(readsOrders(open, BOB)).toBe(false);
  });

  it('lets a DENY win over any ALLOW, ALL included', async () => {
    const auth = await added(
      authorizer(),
      acl({ operation: AclOperation.ALL }),
      acl({ resourceName: '*', principal: 'User:*' }),
      acl({ permissionType: AclPermission.DENY, host: HOST }),
    );
    expect(readsOrders(auth)).toBe(false);
    expect(readsOrders(auth, ALICE, '10.0.0.2')).toBe(true);
    expect(auth.authorize(ALICE, HOST, AclOperation.WRITE, ResourceType.TOPIC, 'orders')).toBe(true);
    // A DENY of ALL denies every operation.
    await auth.create([acl({ permissionType: AclPermission.DENY, operation: AclOperation.ALL, principal: BOB })]);
    expect(auth.authorize(BOB, HOST, AclOperation.DESCRIBE, ResourceType.TOPIC, 'orders')).toBe(false);
  });

  it('implies DESCRIBE from READ, WRITE, DELETE and ALTER, and DESCRIBE_CONFIGS from ALTER_CONFIGS', async () => {
    for (const operation of [AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER]) {
      const auth = await added(authorizer(), acl({ operation }));
      expect(auth.authorize(ALICE, HOST, AclOperation.DESCRIBE, ResourceType.TOPIC, 'orders')).toBe(true);
    }
    const configs = await added(authorizer(), acl({ operation: AclOperation.ALTER_CONFIGS }));
    expect(configs.authorize(ALICE, HOST, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, 'orders')).toBe(true);
    expect(configs.authorize(ALICE, HOST, AclOperation.DESCRIBE, ResourceType.TOPIC, 'orders')).toBe(false);
    // Not the other way round, and a DENY of READ does not deny DESCRIBE.
    const describeOnly = await added(authorizer(), acl({ operation: AclOperation.DESCRIBE }), acl({ operation: AclOperation.READ, permissionType: AclPermission.DENY }));
    expect(readsOrders(describeOnly)).toBe(false);
    expect(describeOnly.authorize(ALICE, HOST, AclOperation.DESCRIBE, ResourceType.TOPIC, 'orders')).toBe(true);
  });

  it('matches the wildcard name, principal and host, PREFIXED names, and the resource type', async () => {
    const auth = await added(
      authorizer(),
      acl({ resourceName: '*', principal: 'User:*', operation: AclOperation.DESCRIBE }),
      acl({ resourceName: 'ord', patternType: PatternType.PREFIXED, principal: BOB }),
      acl({ resourceType: ResourceType.GROUP, resourceName: 'orders', principal: ALICE }),
    );
    expect(auth.authorize('User:carol', HOST, AclOperation.DESCRIBE, ResourceType.TOPIC, 'anything')).toBe(true);
    expect(auth.authorize(BOB, HOST, AclOperation.READ, ResourceType.TOPIC, 'orders-eu')).toBe(true);
    expect(auth.authorize(BOB, HOST, AclOperation.READ, ResourceType.TOPIC, 'or')).toBe(false);
    // ALICE's READ is on the group of that name, not the topic.
    expect(readsOrders(auth)).toBe(false);
    expect(auth.authorize(ALICE, HOST, AclOperation.READ, ResourceType.GROUP, 'orders')).toBe(true);
    // An IPv4 client on a dual-stack socket is ::ffff:a.b.c.d.
    const byHost = await added(authorizer(), acl({ host: HOST }));
    expect(readsOrders(byHost, ALICE, `::ffff:${HOST}`)).toBe(true);
  });

  it('allows super users everything, and everything when off', async () => {
    const auth = await added(authorizer({ superUsers: ['User:admin'] }), acl({ permissionType: AclPermission.DENY, principal: 'User:*', operation: AclOperation.ALL }));
    expect(readsOrders(auth, 'User:admin')).toBe(true);
    expect(readsOrders(auth)).toBe(false);
    expect(authorizer({ enabled: false }).authorize(ALICE, HOST, AclOperation.ALTER, ResourceType.CLUSTER, 'kafka-cluster')).toBe(true);
  });

  it('finds an ALLOW on some resource of a type, unless a DENY covers it (KIP-679)', async () => {
    const write = (auth: Authorizer) => auth.authorizeByResourceType(ALICE, HOST, AclOperation.WRITE, ResourceType.TOPIC);
    expect(write(authorizer())).toBe(false);
    expect(write(authorizer({ allowEveryoneIfNoAclFound: true }))).toBe(true);
    const auth = await added(authorizer(), acl({ operation: AclOperation.WRITE, resourceName: 'orders-eu' }));
    expect(write(auth)).toBe(true);
    await auth.create([acl({ operation: AclOperation.WRITE, patternType: PatternType.PREFIXED, resourceName: 'orders', permissionType: AclPermission.DENY })]);
    expect(write(auth)).toBe(false);
    await auth.create([acl({ operation: AclOperation.ALL, resourceName: 'payments' })]);
    expect(write(auth)).toBe(true);
  });
});

describe('ACL administration', () => {
  it('describes by ANY and MATCH filters, and deletes what a filter matches', async () => {
    const auth = await added(
      authorizer(),
      acl({}),
      acl({ resourceName: '*', principal: 'User:*', operation: AclOperation.DESCRIBE }),
      acl({ resourceName: 'ord', patternType: PatternType.PREFIXED }),
      acl({ resourceName: 'payments' }),
      acl({ resourceType: ResourceType.GROUP, resourceName: 'orders' }),
    );
    expect(auth.describe(ANY_FILTER)).toHaveLength(5);
    const match = auth.describe({ ...ANY_FILTER, resourceType: ResourceType.TOPIC, resourceName: 'orders', patternType: PatternType.MATCH });
    expect(match.map(({ resourceName }) => resourceName).sort()).toEqual(['*', 'ord', 'orders']);
    const literal = auth.describe({ ...ANY_FILTER, resourceType: ResourceType.TOPIC, resourceName: 'orders', patternType: PatternType.LITERAL });
    expect(literal).toEqual([acl({})]);
    // Adding the same ACL twice keeps one.
    expect(await auth.create([acl({})])).toEqual([null]);
    expect(auth.describe(ANY_FILTER)).toHaveLength(5);

    const [deletion] = await auth.delete([{ ...ANY_FILTER, resourceType: ResourceType.TOPIC, principal: ALICE }]);
    expect(deletion!.error).toBeNull();
    expect(deletion!.deleted.map(({ resourceName }) => resourceName).sort()).toEqual(['ord', 'orders', 'payments']);
    expect(auth.describe(ANY_FILTER).map(({ resourceType, resourceName }) => [resourceType, resourceName])).toEqual(
      expect.arrayContaining([
        [ResourceType.TOPIC, '*'],
        [ResourceType.GROUP, 'orders'],
      ]),
    );
    expect(auth.describe(ANY_FILTER)).toHaveLength(2);
  });

  it('refuses bindings Kafka refuses, as INVALID_REQUEST, and takes the valid ones of the same request', async () => {
    const auth = authorizer();
    const results = await auth.create([
      acl({ patternType: PatternType.MATCH }),
      acl({ principal: 'alice' }),
      acl({ operation: AclOperation.ANY }),
      acl({ resourceType: ResourceType.CLUSTER, resourceName: 'my-cluster' }),
      acl({ resourceName: '' }),
      acl({ resourceName: 'group/with/slashes', resourceType: ResourceType.GROUP }),
    ]);
    expect(results.slice(0, 5).map((error) => (error as SluiceError).code)).toEqual(['INVALID_REQUEST', 'INVALID_REQUEST', 'INVALID_REQUEST', 'INVALID_REQUEST', 'INVALID_REQUEST']);
    expect(results[5]).toBeNull();
    expect(auth.describe(ANY_FILTER)).toEqual([acl({ resourceName: 'group/with/slashes', resourceType: ResourceType.GROUP })]);
    const [bad] = await auth.delete([{ ...ANY_FILTER, operation: 99 }]);
    expect(bad!.error?.code).toBe('INVALID_REQUEST');
  });

  it('answers SECURITY_DISABLED when off', async () => {
    const auth = authorizer({ enabled: false });
    expect(() => auth.describe(ANY_FILTER)).toThrow(expect.objectContaining({ code: 'SECURITY_DISABLED' }));
    await expect(auth.create([acl({})])).rejects.toMatchObject({ code: 'SECURITY_DISABLED' });
  });

  it('keeps ACLs in the data directory across a restart', async () => {
    const dataDir = tempDir();
    await added(authorizer({}, dataDir), acl({}), acl({ resourceType: ResourceType.GROUP, resourceName: 'a:b/c', principal: 'User:x:y' }));
    expect(fs.existsSync(path.join(dataDir, ACLS_FILE))).toBe(true);
    const reopened = authorizer({}, dataDir);
    expect(readsOrders(reopened)).toBe(true);
    expect(reopened.authorize('User:x:y', HOST, AclOperation.READ, ResourceType.GROUP, 'a:b/c')).toBe(true);
    expect(reopened.describe(ANY_FILTER)).toHaveLength(2);
  });
});

describe('authorizer settings', () => {
  it("takes Kafka's authorizer class names, super.users and allow.everyone.if.no.acl.found, and refuses another class", () => {
    const settings = (config: Record<string, string>) => resolveBrokerSettings({}, config).authorizer;
    expect(settings({})).toEqual({ enabled: false, superUsers: [], allowEveryoneIfNoAclFound: false });
    expect(settings({ 'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer', 'super.users': 'User:admin; User:broker', 'allow.everyone.if.no.acl.found': 'true' })).toEqual({
      enabled: true,
      superUsers: ['User:admin', 'User:broker'],
      allowEveryoneIfNoAclFound: true,
    });
    expect(() => settings({ 'authorizer.class.name': 'com.example.MyAuthorizer' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    // They take effect, so none is reported as accepted but not supported.
    const report = reportBrokerConfig({ 'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'super.users': 'User:admin', 'allow.everyone.if.no.acl.found': 'false' });
    expect(report.unsupported).toEqual([]);
    expect(report.unknown).toEqual([]);
  });
});
