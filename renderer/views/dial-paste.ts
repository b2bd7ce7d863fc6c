import { parseDialLink } from '../../core/api/dial-link.js';

/**
 * What a pasted text becomes in the dialer: a `sip:`/`tel:` link is cleaned the way a clicked one is (no headers, no
 * maddr; a tel: number keeps its digits), a number loses its separators, anything else is trimmed to its first line.
 */
export function pastedDialString(text: string): string {
  const line = (text.trim().split(/\r?\n/)[0] ?? '').trim();
  // a name-addr copied from a message or a mail header ("Bob" <sip:bob@host>): its URI (RFC 3261 §20.10)
  const trimmed = /^(?:"[^"]*"\s*|[^<>"]*)<([^<>]+)>$/.exec(line)?.[1]?.trim() ?? line;
  if (/^(sips?|tel):/i.test(trimmed)) return parseDialLink(trimmed) ?? '';
  if (/^[+\d\s().*#-]+$/.test(trimmed)) return trimmed.replace(/[\s().-]/g, '');
  return trimmed.slice(0, 256);
}
