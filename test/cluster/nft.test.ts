// Network partitions with nft (test/fixtures/nft.ts) between loopback addresses: a client bound to
// 127.0.42.2 reaches a server on 127.0.42.3 until isolate(), 127.0.0.1 still reaches it during the
// cut, and heal() restores it; 'drop' makes connects hang and holds back an established
// connection's data until heal, 'reject' refuses and resets at once; close(), the exit handler and
// the next create()'s sweep of dead processes' tables leave no table behind.
// Addresses 127.0.42.x: the rules hold for the whole machine, so no other test may use them.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { runFixture, type Child } from '../fixtures/child.js';
import { NetworkPartition, nftRefused } from '../fixtures/nft.js';
import { waitUntil } from './helpers.js';

const A = '127.0.42.2';
const B = '127.0.42.3';
const C = '127.0.42.4';
/** How long a connect that must not succeed is given to (wrongly) succeed. */
const NO_CONNECT_WINDOW_MS = 1000;

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
const partitions: NetworkPartition[] = [];
const children: Child[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(partitions.splice(0).map((partition) => partition.close()));
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

afterAll(async () => {
  for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  await Promise.all(children.map((child) => child.exited));
});

/** A server on `host` that keeps what each connection sends. */
async function listen(host: string): Promise<{ port: number; received: string[] }> {
  const received: string[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('data', (chunk) => received.push(chunk.toString()));
    socket.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { port: (server.address() as net.AddressInfo).port, received };
}

type Attempt = { outcome: 'connected'; socket: net.Socket } | { outcome: 'error'; code: string } | { outcome: 'no answer' };

/** Connects from `localAddress` and reports what happened within NO_CONNECT_WINDOW_MS. */
function connect(localAddress: string, host: string, port: number): Promise<Attempt> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, localAddress });
    sockets.push(socket);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ outcome: 'no answer' });
    }, NO_CONNECT_WINDOW_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({ outcome: 'connected', socket });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ outcome: 'error', code: error.code ?? error.message });
    });
  });
}

function tables(): string {
  return execFileSync('nft', ['list', 'tables'], { stdio: 'pipe' }).toString();
}

async function partition(mode?: 'drop' | 'reject'): Promise<NetworkPartition> {
  const created = await NetworkPartition.create({ mode });
  partitions.push(created);
  return created;
}

const refused = nftRefused();

describe.skipIf(refused !== undefined)(`nft partitions between loopback addresses${refused ? ` (skipped: ${refused})` : ''}`, () => {
  it('drop: isolate cuts A from B both ways (connects get no answer), 127.0.0.1 still gets through, heal restores it', async () => {
    const b = await listen(B);
    const a = await listen(A);
    const cut = await partition('drop');
    expect((await connect(A, B, b.port)).outcome).toBe('connected');

    await cut.isolate(A, [B, C]);
    expect(await connect(A, B, b.port)).toEqual({ outcome: 'no answer' });
    expect(await connect(B, A, a.port)).toEqual({ outcome: 'no answer' });
    expect((await connect('127.0.0.1', B, b.port)).outcome).toBe('connected');
    expect((await connect(C, B, b.port)).outcome).toBe('connected'); // the others still reach each other

    await cut.heal();
    expect((await connect(A, B, b.port)).outcome).toBe('connected');
    expect((await connect(B, A, a.port)).outcome).toBe('connected');
  });

  it('drop: data on an established connection is held back during the cut and arrives after heal', async () => {
    const b = await listen(B);
    const cut = await partition();
    const attempt = await connect(A, B, b.port);
    if (attempt.outcome !== 'connected') throw new Error(`expected a connection, got ${JSON.stringify(attempt)}`);
    attempt.socket.write('before;');
    await waitUntil(() => b.received.join('') === 'before;', 'the data sent before the cut');

    await cut.isolate(A, [B]);
    attempt.socket.write('during;');
    // A connect attempt in the same direction takes the no-answer window; the data has not come by then.
    expect(await connect(A, B, b.port)).toEqual({ outcome: 'no answer' });
    expect(b.received.join('')).toBe('before;');

    await cut.heal();
    await waitUntil(() => b.received.join('') === 'before;during;', 'the retransmitted data after heal');
  });

  it('reject: connects are refused both ways and an established connection is reset', async () => {
    const b = await listen(B);
    const a = await listen(A);
    const cut = await partition('reject');
    const established = await connect(A, B, b.port);
    if (established.outcome !== 'connected') throw new Error(`expected a connection, got ${JSON.stringify(established)}`);
    const reset = new Promise<string>((resolve) => established.socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? '')));

    await cut.isolate(A, [B]);
    expect(await connect(A, B, b.port)).toEqual({ outcome: 'error', code: 'ECONNREFUSED' });
    expect(await connect(B, A, a.port)).toEqual({ outcome: 'error', code: 'ECONNREFUSED' });
    established.socket.write('after the cut');
    expect(await reset).toBe('ECONNRESET');
    expect((await connect('127.0.0.1', B, b.port)).outcome).toBe('connected');
    expect(await cut.listRules()).toContain('reject with tcp reset');

    await cut.heal();
    expect((await connect(A, B, b.port)).outcome).toBe('connected');
  });

  it('isolate refuses what is not a loopback IPv4 address, and an address cut from itself', async () => {
    const cut = await partition();
    await expect(cut.isolate('10.0.0.1', [B])).rejects.toThrow(/not an IPv4 loopback address/);
    await expect(cut.isolate(A, ['127.0.42.3; flush ruleset'])).rejects.toThrow(/not an IPv4 loopback address/);
    await expect(cut.isolate(A, [A])).rejects.toThrow(/from itself/);
    await expect(cut.isolate(A, [])).rejects.toThrow(/no addresses/);
  });

  it('close deletes the table (twice is harmless); a closed partition refuses to cut', async () => {
    const cut = await NetworkPartition.create();
    await cut.isolate(A, [B]);
    expect(tables()).toContain(cut.table);
    await cut.close();
    await cut.close();
    expect(tables()).not.toContain(cut.table);
    await expect(cut.isolate(A, [B])).rejects.toThrow(/closed/);
  });

  it('a process that exits without close() deletes its table on exit', async () => {
    const child = runFixture('nft-owner.ts', ['exit']);
    children.push(child);
    const table = (await child.waitFor('table ')).slice('table '.length);
    expect(await child.exited).toBe(0);
    expect(tables()).not.toContain(table);
  });

  it("a SIGKILLed process's table is swept by the next create()", async () => {
    const child = runFixture('nft-owner.ts', ['hold']);
    children.push(child);
    const table = (await child.waitFor('table ')).slice('table '.length);
    expect(tables()).toContain(table);
    child.process.kill('SIGKILL');
    await child.exited;
    expect(tables()).toContain(table);
    await partition();
    expect(tables()).not.toContain(table);
  });
});
