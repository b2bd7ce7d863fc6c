import { PhoneError } from '../api/phone-error.js';
import { formatSipUri, parseSipUri, type SipParseError } from '../sip/message/index.js';

/**
 * Turn what a user typed into a Request-URI: a full `sip:`/`sips:`/`tel:` URI is used as is (validated); a user
 * name or number becomes `sip:<it>@<domain>`. Spaces, dashes, dots and parentheses in numbers are dropped the way
 * a phone keypad would ("03-1234 5678" → "0312345678").
 */
export function dialTargetToUri(target: string, domain: string): string {
  const text = target.trim();
  if (text.length === 0) throw new PhoneError('INVALID_TARGET', 'nothing to dial');
  if (/^(sips?|tel):/i.test(text)) {
    try {
      return formatSipUri(parseSipUri(text));
    } catch (error) {
      throw new PhoneError('INVALID_TARGET', `not a valid URI: ${(error as SipParseError).message}`);
    }
  }
  const compact = /^[+\d\s().*#-]+$/.test(text) ? text.replace(/[\s().-]/g, '') : text;
  if (!/^[A-Za-z0-9+*#_.!~'-]+$/.test(compact)) {
    throw new PhoneError('INVALID_TARGET', `"${text}" is neither a number, a user name nor a SIP URI`);
  }
  return `sip:${compact}@${domain}`;
}
