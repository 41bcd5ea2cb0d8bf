// `sluice delegation-tokens`: kafka-delegation-tokens. One of:
//   --create [--max-life-time-period MS] [--renewer-principal User:bob ...] [--owner-principal User:carol]
//   --renew --hmac H [--renew-time-period MS]
//   --expire --hmac H [--expiry-time-period MS]
//   --describe [--owner-principal User:alice ...]
// over a connection authenticated by --command-config (SASL or a client certificate: brokers
// refuse token requests on a PLAINTEXT one). Output is Kafka's tool's: the "Calling ..." line,
// the result, and a token table (TOKENID HMAC OWNER REQUESTER RENEWERS ISSUEDATE EXPIRYDATE
// MAXDATE, dates as yyyy-MM-ddTHH:mm in local time). A token logs in with SCRAM:
//   sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="<TOKENID>" password="<HMAC>" tokenauth="true";
import type { DelegationTokenDescription } from '../client/client.js';
import type { CommandSpec, ParsedArgs } from './args.js';
import { BOOTSTRAP_FLAG, connectClient, OutputBuffer, type Command } from './command.js';
import { adminSettings, COMMAND_CONFIG_FLAG } from './client-configs.js';

const ACTIONS = ['create', 'renew', 'expire', 'describe'] as const;
type Action = (typeof ACTIONS)[number];

const spec: CommandSpec = {
  name: 'delegation-tokens',
  summary: 'Create, renew, expire and describe delegation tokens, as kafka-delegation-tokens does.',
  usage: '--create|--renew|--expire|--describe [options]',
  flags: [
    BOOTSTRAP_FLAG,
    COMMAND_CONFIG_FLAG,
    { name: 'create', type: 'boolean', description: 'Create a token.' },
    { name: 'renew', type: 'boolean', description: 'Renew the token of --hmac.' },
    { name: 'expire', type: 'boolean', description: 'Expire the token of --hmac.' },
    { name: 'describe', type: 'boolean', description: 'Describe tokens (those of --owner-principal, else every one you may see).' },
    { name: 'max-life-time-period', type: 'integer', valueName: 'MS', description: "With --create: the token's longest life; -1 (default) takes the broker's delegation.token.max.lifetime.ms." },
    { name: 'renewer-principal', type: 'list', valueName: 'User:NAME', description: 'With --create: a principal that may renew the token (repeatable).' },
    { name: 'owner-principal', type: 'list', valueName: 'User:NAME', description: 'With --create: whose token it is (default: yours; another needs CREATE_TOKENS on that user). With --describe: whose tokens to list (repeatable).' },
    { name: 'hmac', type: 'string', valueName: 'H', description: "With --renew or --expire: the token's HMAC, in base64." },
    { name: 'renew-time-period', type: 'integer', valueName: 'MS', description: "With --renew: how long from now; -1 (default) takes the broker's delegation.token.expiry.time.ms." },
    { name: 'expiry-time-period', type: 'integer', valueName: 'MS', description: 'With --expire: how long from now; -1 (default) expires it at once.' },
  ],
};

export const delegationTokensCommand: Command = {
  spec,
  async run(args) {
    const actions = ACTIONS.filter((action) => args.boolean(action));
    if (actions.length !== 1) throw args.usageError('Command must include exactly one action: --create, --renew, --expire or --describe');
    const action = actions[0]!;
    checkOptions(args, action);
    const client = await connectClient(args, adminSettings(args));
    const out = new OutputBuffer();
    try {
      if (action === 'create') {
        const renewers = args.list('renewer-principal');
        const maxLifetimeMs = args.integer('max-life-time-period', { fallback: -1 });
        const owner = args.list('owner-principal')[0];
        await out.line(`Calling create token operation with renewers :[${renewers.join(', ')}] , max-life-time-period :${maxLifetimeMs}${owner === undefined ? '' : ` , owner-principal :${owner}`}`);
        const token = await client.createDelegationToken({ owner, renewers, maxLifetimeMs });
        await out.line(`Created delegation token with tokenId : ${token.tokenId}`);
        await printTokens(out, [token]);
      } else if (action === 'renew' || action === 'expire') {
        const hmac = hmacOf(args);
        const periodFlag = action === 'renew' ? 'renew-time-period' : 'expiry-time-period';
        const periodMs = args.integer(periodFlag, { fallback: -1 });
        await out.line(`Calling ${action} token operation with hmac :${args.string('hmac')} , ${action === 'renew' ? 'renew' : 'expire'}-time-period :${periodMs}`);
        const expiryMs = action === 'renew' ? await client.renewDelegationToken(hmac, periodMs) : await client.expireDelegationToken(hmac, periodMs);
        await out.line(`Completed ${action} operation. New expiry date : ${formatDate(expiryMs)}`);
      } else {
        const owners = args.list('owner-principal');
        await out.line(`Calling describe token operation for owners :[${owners.join(', ')}]`);
        const tokens = await client.describeDelegationTokens(owners.length === 0 ? null : owners);
        await out.line(`Total number of tokens : ${tokens.length}`);
        await printTokens(out, tokens);
      }
      await out.flush();
      return 0;
    } finally {
      client.close();
    }
  },
};

/** Kafka's checks: each option goes with its action, and --renew and --expire need --hmac. */
function checkOptions(args: ParsedArgs, action: Action): void {
  const allowed: Record<Action, string[]> = {
    create: ['max-life-time-period', 'renewer-principal', 'owner-principal'],
    renew: ['hmac', 'renew-time-period'],
    expire: ['hmac', 'expiry-time-period'],
    describe: ['owner-principal'],
  };
  for (const flag of ['max-life-time-period', 'renewer-principal', 'owner-principal', 'hmac', 'renew-time-period', 'expiry-time-period']) {
    if (args.has(flag) && !allowed[action].includes(flag)) throw args.usageError(`Option "--${flag}" can't be used with option "--${action}"`);
  }
  if ((action === 'renew' || action === 'expire') && !args.has('hmac')) throw args.usageError(`--${action} needs --hmac`);
  if (action === 'create' && args.list('owner-principal').length > 1) throw args.usageError('--create takes one --owner-principal');
}

function hmacOf(args: ParsedArgs): Buffer {
  const text = args.string('hmac')!;
  const hmac = Buffer.from(text, 'base64');
  if (hmac.length === 0 || hmac.toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, '')) throw args.usageError(`--hmac '${text}' is not base64`);
  return hmac;
}

/** Kafka's SimpleDateFormat("yyyy-MM-dd'T'HH:mm"), in local time. */
function formatDate(ms: number): string {
  const date = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}T${two(date.getHours())}:${two(date.getMinutes())}`;
}

async function printTokens(out: OutputBuffer, tokens: readonly DelegationTokenDescription[]): Promise<void> {
  const row = (cells: string[]) => {
    const widths = [15, 30, 15, 15, 25, 15, 15, 15];
    return cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' ').trimEnd();
  };
  await out.line('');
  await out.line(row(['TOKENID', 'HMAC', 'OWNER', 'REQUESTER', 'RENEWERS', 'ISSUEDATE', 'EXPIRYDATE', 'MAXDATE']));
  for (const token of tokens) {
    await out.line(
      row([
        token.tokenId,
        token.hmac.toString('base64'),
        token.owner,
        token.requester,
        `[${token.renewers.join(', ')}]`,
        formatDate(token.issueTimestampMs),
        formatDate(token.expiryTimestampMs),
        formatDate(token.maxTimestampMs),
      ]),
    );
  }
}
