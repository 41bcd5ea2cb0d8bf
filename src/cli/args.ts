// The command line of one `sluice <command>`: a declarative list of flags, read into typed values,
// and the --help text derived from the same list. Node's util.parseArgs splits the arguments into
// tokens; the rules on top (config passthrough, integers, required flags, one line per mistake)
// are sluice's.
//
//   --name value | --name=value     a valued flag ('string', 'integer', 'list' repeats)
//   --name                          a boolean flag
//   --KEY=VALUE                     with `configPassthrough`: any other name with `=` (broker configs)
//   -- rest                         positionals only
//
// Every mistake is a UsageError: the command prints it on one line with a pointer to --help and
// exits 2, as the Kafka tools and most Unix tools do for bad usage.

import { parseArgs as parseTokens, type ParseArgsConfig } from 'node:util';

export type FlagType = 'boolean' | 'string' | 'integer' | 'list';

export interface FlagSpec {
  name: string;
  type: FlagType;
  /** Placeholder in the help text, e.g. HOST:PORT. */
  valueName?: string;
  description: string;
  required?: boolean;
  /**
   * A 'list' flag that also takes the plain arguments after it, up to the next flag (argparse's
   * nargs '+'): kafka-producer-perf-test's `--producer-props acks=1 batch.size=16384`.
   */
  greedy?: boolean;
  /**
   * A 'boolean' flag that may take one value after it (joptsimple's optional argument):
   * kafka-consumer-groups' `--list --state` and `--list --state Stable,Empty`. Read it with
   * ParsedArgs.optionalValue.
   */
  optionalValue?: boolean;
}

export interface CommandSpec {
  /** As typed after `sluice`, e.g. 'topics' or 'perf produce'. */
  name: string;
  summary: string;
  /** The usage line after `sluice <name> `. */
  usage: string;
  flags: FlagSpec[];
  /** Names of positional arguments, all required. */
  positionals?: string[];
  /** Accept unknown `--KEY=VALUE` flags as configuration (the broker's server.properties names). */
  configPassthrough?: boolean;
  /** Paragraphs after the flag list. */
  notes?: string[];
}

export class UsageError extends Error {
  constructor(message: string, readonly command: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export class ParsedArgs {
  constructor(
    private readonly spec: CommandSpec,
    private readonly values: Map<string, string | string[] | true>,
    readonly positionals: string[],
    /** `--KEY=VALUE` configuration flags, in the order given (later wins). */
    readonly config: Record<string, string>,
  ) {}

  /** The command's name, as typed after `sluice`. */
  get command(): string {
    return this.spec.name;
  }

  has(name: string): boolean {
    this.flag(name);
    return this.values.has(name);
  }

  boolean(name: string): boolean {
    const value = this.values.get(this.flag(name, 'boolean').name);
    return value === true || typeof value === 'string';
  }

  /** The value given after a flag with `optionalValue`: undefined when none was (or the flag is absent). */
  optionalValue(name: string): string | undefined {
    const value = this.values.get(this.flag(name, 'boolean').name);
    return typeof value === 'string' ? value : undefined;
  }

  string(name: string): string | undefined;
  string(name: string, fallback: string): string;
  string(name: string, fallback?: string): string | undefined {
    const value = this.values.get(this.flag(name, 'string').name);
    return typeof value === 'string' ? value : fallback;
  }

  integer(name: string, options?: { min?: number; max?: number }): number | undefined;
  integer(name: string, options: { min?: number; max?: number; fallback: number }): number;
  integer(name: string, options: { min?: number; max?: number; fallback?: number } = {}): number | undefined {
    const raw = this.values.get(this.flag(name, 'integer').name);
    if (typeof raw !== 'string') return options.fallback;
    return parseInteger(raw, `--${name}`, this.spec.name, options.min, options.max);
  }

  list(name: string): string[] {
    const value = this.values.get(this.flag(name, 'list').name);
    return Array.isArray(value) ? value : [];
  }

  /** Each KEY=VALUE of a list flag, split at its first '=' (a value may hold more), or a usage error. */
  keyValues(name: string): Array<[key: string, value: string]> {
    return this.list(name).map((entry) => {
      const equals = entry.indexOf('=');
      if (equals <= 0) throw this.usageError(`--${name} expects KEY=VALUE, got '${entry}'`);
      return [entry.slice(0, equals), entry.slice(equals + 1)];
    });
  }

  /** A usage error for this command (exit 2 with a pointer to --help). */
  usageError(message: string): UsageError {
    return new UsageError(message, this.spec.name);
  }

  private flag(name: string, type?: FlagType): FlagSpec {
    const flag = this.spec.flags.find((f) => f.name === name);
    if (!flag || (type !== undefined && flag.type !== type)) throw new Error(`bug: ${this.spec.name} reads --${name} as ${type}`);
    return flag;
  }
}

/** An integer in [min, max], or a UsageError naming the flag. */
export function parseInteger(raw: string, what: string, command: string, min = -Infinity, max = Infinity): number {
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value)) throw new UsageError(`${what} expects an integer, got '${raw}'`, command);
  if (value < min) throw new UsageError(`${what} must be at least ${min}, got ${value}`, command);
  if (value > max) throw new UsageError(`${what} must be at most ${max}, got ${value}`, command);
  return value;
}

/** true or false, in any case (as Kafka's configs take them), or a UsageError naming the setting. */
export function parseBoolean(raw: string, what: string, command: string): boolean {
  if (!/^(true|false)$/i.test(raw)) throw new UsageError(`${what} expects true or false, got '${raw}'`, command);
  return raw.toLowerCase() === 'true';
}

/** The flags as util.parseArgs declares them: every valued flag takes the next argument. */
function tokenizerOptions(spec: CommandSpec): ParseArgsConfig['options'] {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const flag of spec.flags) options[flag.name] = flag.type === 'boolean' ? { type: 'boolean' } : { type: 'string', multiple: flag.type === 'list' };
  return options;
}

/** True when `argv` asks for help (anywhere, as Kafka's tools accept it). */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const fail = (message: string) => new UsageError(message, spec.name);
  const values = new Map<string, string | string[] | true>();
  const positionals: string[] = [];
  const config: Record<string, string> = {};
  // Node tokenizes; the rules are ours. Not strict, so that a value may start with a dash
  // (`--offset -2`, `--output -`) and unknown `--KEY=VALUE` names reach the config passthrough.
  const { tokens } = parseTokens({ args: [...argv], options: tokenizerOptions(spec), strict: false, allowPositionals: true, tokens: true });
  /** The greedy list flag the plain arguments go to, while no other flag has come. */
  let greedyList: string[] | undefined;
  /** A flag with an optional value, just given: the plain argument right after it is its value. */
  let optionalFlag: string | undefined;
  for (const token of tokens) {
    if (token.kind === 'positional') {
      if (optionalFlag !== undefined) values.set(optionalFlag, token.value);
      else if (greedyList) greedyList.push(token.value);
      else positionals.push(token.value);
      optionalFlag = undefined;
      continue;
    }
    greedyList = undefined;
    optionalFlag = undefined;
    if (token.kind === 'option-terminator') continue;
    const { name, rawName, value } = token;
    const flag = rawName.startsWith('--') ? spec.flags.find((f) => f.name === name) : undefined;
    if (!flag) {
      if (spec.configPassthrough && token.inlineValue && name !== '') {
        config[name] = value!;
        continue;
      }
      throw fail(`Unknown option '${rawName}'`);
    }
    if (flag.type === 'boolean') {
      if (value !== undefined && !flag.optionalValue) throw fail(`--${name} takes no value`);
      values.set(name, value ?? true);
      if (value === undefined && flag.optionalValue) optionalFlag = name;
      continue;
    }
    if (value === undefined) throw fail(`--${name} needs a value (${flag.valueName ?? 'VALUE'})`);
    if (flag.type === 'list') {
      let list = values.get(name);
      if (!Array.isArray(list)) values.set(name, (list = []));
      list.push(value);
      if (flag.greedy) greedyList = list;
    } else {
      if (values.has(name)) throw fail(`--${name} was given twice`);
      values.set(name, value);
    }
  }
  for (const flag of spec.flags) if (flag.required && !values.has(flag.name)) throw fail(`Missing required option --${flag.name}`);
  const expected = spec.positionals ?? [];
  if (positionals.length < expected.length) throw fail(`Missing ${expected.slice(positionals.length).map((p) => `<${p}>`).join(' ')}`);
  if (positionals.length > expected.length) throw fail(`Unexpected argument '${positionals[expected.length]}'`);
  const parsed = new ParsedArgs(spec, values, positionals, config);
  // Integers are checked up front so a typo fails before any connection is made.
  for (const flag of spec.flags) if (flag.type === 'integer' && values.has(flag.name)) parsed.integer(flag.name);
  return parsed;
}

export function helpText(spec: CommandSpec): string {
  const lines = [`sluice ${spec.name}: ${spec.summary}`, '', `Usage: sluice ${spec.name} ${spec.usage}`, '', 'Options:'];
  const rows = spec.flags.map((flag) => {
    const value = flag.type !== 'boolean' ? ` ${flag.valueName ?? 'VALUE'}` : flag.optionalValue ? ` [${flag.valueName ?? 'VALUE'}]` : '';
    return [`  --${flag.name}${value}`, `${flag.required ? '(required) ' : ''}${flag.description}`] as const;
  });
  rows.push(['  --help', 'Print this help and exit.']);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  for (const [left, right] of rows) lines.push(left.padEnd(width) + right);
  for (const note of spec.notes ?? []) lines.push('', note);
  return lines.join('\n') + '\n';
}
