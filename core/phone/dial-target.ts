import { PhoneError } from '../api/phone-error.js';
import { isHouseholdNumber } from '../household/household-number.js';
import { formatSipUri, parseSipUri, type SipParseError } from '../sip/message/index.js';

/**
 * Turn what a user typed into a Request-URI: a full `sip:`/`sips:`/`tel:` URI is used as is (validated); a user
 * name or number becomes `sip:<it>@<domain>`. Spaces, dashes, dots and parentheses in numbers are dropped the way
 * a phone keypad would ("03-1234 5678" → "0312345678"), except in a household number, whose dashes are its
 * hierarchy (seed 001 ¶[55]: `100-1101-1201-1` is area, building, room, terminal; squashed it would name nobody).
 * Any 3-4 dash-separated digit groups count as one, so "030-1234-5678" now keeps its dashes too (issue 20).
 * As in Linphone and MicroSIP, `user@host[:port]` is a SIP address at that host, and a pasted name-addr
 * (`"Bob" <sip:bob@host>`, `<sip:bob@host>`, RFC 3261 §20.10) is its URI.
 */
export function dialTargetToUri(target: string, domain: string): string {
  const trimmed = target.trim();
  if (trimmed.length === 0) throw new PhoneError('INVALID_TARGET', 'nothing to dial');
  const bracketed = /^(?:"[^"]*"\s*|[^<>"]*)<([^<>]+)>$/.exec(trimmed)?.[1]?.trim();
  const text = bracketed ?? (/^[^\s@<>":;]+@[^\s@<>"]+$/.test(trimmed) ? `sip:${trimmed}` : trimmed);
  if (/^(sips?|tel):/i.test(text)) {
    let uri;
    try {
      uri = parseSipUri(text);
    } catch (error) {
      throw new PhoneError('INVALID_TARGET', `not a valid URI: ${(error as SipParseError).message}`);
    }
    // RFC 3261 §19.1.1: no headers in a Request-URI; ones a typed or pasted address carries (a Replaces, a Route)
    // would be the address's author's say over the call, not the user's
    if (uri.headers !== undefined) throw new PhoneError('INVALID_TARGET', `"${text.slice(0, 80)}" carries headers (?…): dial its address without them`);
    return formatSipUri(uri);
  }
  const compact = isHouseholdNumber(text) ? text : /^[+\d\s().*#-]+$/.test(text) ? text.replace(/[\s().-]/g, '') : text;
  if (!/^[A-Za-z0-9+*#_.!~'-]+$/.test(compact)) {
    throw new PhoneError('INVALID_TARGET', `"${text}" is neither a number, a user name nor a SIP URI`);
  }
  return `sip:${compact}@${domain}`;
}
