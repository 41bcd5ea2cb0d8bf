// The producer settings `produce` and `perf produce` share, with Kafka's names and values.
import { COMPRESSION_NAMES, type CompressionName } from '../record/batch-format.js';
import type { FlagSpec, ParsedArgs } from './args.js';

export const ACKS_FLAG: FlagSpec = {
  name: 'acks',
  type: 'string',
  valueName: '0|1|all',
  description: 'acks: 0 no response, 1 the leader appended, all (or -1) every in-sync replica has it.',
};

export const COMPRESSION_FLAG: FlagSpec = {
  name: 'compression',
  type: 'string',
  valueName: COMPRESSION_NAMES.join('|'),
  description: 'compression.type of the batches (default none).',
};

export function parseAcks(args: ParsedArgs, fallback: 0 | 1 | -1 = -1): 0 | 1 | -1 {
  const raw = args.string('acks');
  if (raw === undefined) return fallback;
  if (raw === '0') return 0;
  if (raw === '1') return 1;
  if (raw === 'all' || raw === '-1') return -1;
  throw args.usageError(`--acks expects 0, 1 or all, got '${raw}'`);
}

export function parseCompression(args: ParsedArgs): CompressionName {
  const raw = args.string('compression', 'none');
  if (!(COMPRESSION_NAMES as readonly string[]).includes(raw)) throw args.usageError(`--compression expects one of ${COMPRESSION_NAMES.join(', ')}, got '${raw}'`);
  return raw as CompressionName;
}
