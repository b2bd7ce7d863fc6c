import { parseDialLink } from '../../core/api/dial-link.js';

/**
 * What a pasted text becomes in the dialer: a `sip:`/`tel:` link is cleaned the way a clicked one is (no headers, no
 * maddr; a tel: number keeps its digits), a number loses its separators, anything else is trimmed to its first line.
 */
export function pastedDialString(text: string): string {
  const trimmed = (text.trim().split(/\r?\n/)[0] ?? '').trim();
  if (/^(sips?|tel):/i.test(trimmed)) return parseDialLink(trimmed) ?? '';
  if (/^[+\d\s().*#-]+$/.test(trimmed)) return trimmed.replace(/[\s().-]/g, '');
  return trimmed.slice(0, 256);
}
