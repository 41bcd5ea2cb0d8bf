// Kafka's ssl.principal.mapping.rules (KIP-371, SslPrincipalMapper): a client certificate's
// distinguished name to the name of its principal. Rules are tried in order, the first whose
// pattern matches the whole name gives the principal; DEFAULT gives the name as it is.
//   RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=.*$/$1@$2/L,DEFAULT
// A name no rule matches cannot authenticate, as in Kafka.
import { SluiceError } from '../errors.js';

export type PrincipalRule = { kind: 'default' } | { kind: 'rule'; pattern: RegExp; replacement: string; caseChange: '' | 'L' | 'U' };

/**
 * One rule and its separator, as Kafka's RULE_PARSER reads them: DEFAULT, or RULE:pattern/
 * replacement/ and an optional L or U, where `\` escapes a `/` inside either part.
 */
const RULE = /^\s*(?:(DEFAULT)|RULE:((?:\\.|[^\\/])*)\/((?:\\.|[^\\/])*)\/([LU]?))\s*(?:,|\n|$)/;

export function parsePrincipalRules(text: string, configName: string): PrincipalRule[] {
  const rules: PrincipalRule[] = [];
  let rest = text.trim();
  while (rest !== '') {
    const match = RULE.exec(rest);
    if (match === null) throw new SluiceError('INVALID_CONFIG', `Invalid rule in ${configName}: '${rest}' (expected DEFAULT or RULE:pattern/replacement/[LU])`);
    if (match[1] !== undefined) rules.push({ kind: 'default' });
    else {
      let pattern: RegExp;
      try {
        pattern = new RegExp(`^(?:${match[2]!.replace(/\\\//g, '/')})$`);
      } catch (error) {
        throw new SluiceError('INVALID_CONFIG', `Invalid pattern in ${configName}: ${(error as Error).message}`);
      }
      rules.push({ kind: 'rule', pattern, replacement: match[3]!.replace(/\\\//g, '/'), caseChange: match[4] as '' | 'L' | 'U' });
    }
    rest = rest.slice(match[0].length).trim();
  }
  return rules.length === 0 ? [{ kind: 'default' }] : rules;
}

/** The principal's name for `dn` by the first rule that matches it. */
export function principalFromDn(dn: string, rules: readonly PrincipalRule[]): string {
  for (const rule of rules) {
    if (rule.kind === 'default') return dn;
    if (!rule.pattern.test(dn)) continue;
    const name = dn.replace(rule.pattern, rule.replacement);
    return rule.caseChange === 'L' ? name.toLowerCase() : rule.caseChange === 'U' ? name.toUpperCase() : name;
  }
  throw new SluiceError('SSL_AUTHENTICATION_FAILED', `No rule of ssl.principal.mapping.rules applies to the distinguished name ${dn}`);
}
