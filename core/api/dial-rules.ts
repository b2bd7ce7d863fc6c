import type { DialRule } from './phone-types.js';

/**
 * A dial plan is data: prefixes that change what a call presents. 184 and 186 are the Japanese carriers' caller-ID
 * withholding and presentation codes (seed 000 Fig. 31: "a numeric 184 attached directly before the telephone
 * number"). Accounts may carry their own rules. Pure, so the dialer can hint what a dial string will do.
 */
export const defaultDialRules: readonly DialRule[] = [
  { prefix: '184', action: 'withhold', label: '184: withhold caller ID' },
  { prefix: '186', action: 'present', label: '186: present caller ID' },
];

/** What a dial string asks for once the rules are applied. */
export interface DialMatch {
  /** The dial string without the matched prefix. */
  rest: string;
  rule?: DialRule;
}

/**
 * Match a dial string (a number, a user, or a SIP URI whose user part starts with the prefix) against the rules; the
 * longest prefix wins. A prefix only counts when something follows it.
 */
export function matchDialRules(dialString: string, rules: readonly DialRule[] = defaultDialRules): DialMatch {
  const text = dialString.trim();
  const uri = /^(sips?:)([^@;?]+)(@.*)$/i.exec(text);
  const user = uri ? uri[2]! : text;
  const compact = /^[+\d\s().*#-]+$/.test(user) ? user.replace(/[\s().-]/g, '') : user;
  const rule = [...rules].sort((a, b) => b.prefix.length - a.prefix.length).find((r) => compact.startsWith(r.prefix) && compact.length > r.prefix.length);
  if (!rule) return { rest: text };
  const restUser = compact.slice(rule.prefix.length).trim();
  return { rest: uri ? `${uri[1]}${restUser}${uri[3]}` : restUser, rule };
}
