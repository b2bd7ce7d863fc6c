import { describe, expect, it } from 'vitest';
import { rng } from '../../../test/support/signing-fixtures.js';
import { isValidHost } from './sip-uri.js';

/** RFC 3261 §25.1's host rule written as the regular expressions the one-pass check replaced: the oracle. */
function hostByGrammar(host: string): boolean {
  if (host.startsWith('[')) return isValidHost(host); // IPv6 references: unchanged code, not compared here
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(host)) return host.split('.').every((part) => Number(part) <= 255);
  const labels = (host.endsWith('.') ? host.slice(0, -1) : host).split('.');
  return labels.every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(label)) && /^[A-Za-z]/.test(labels.at(-1)!);
}

describe('isValidHost (RFC 3261 §25.1 host)', () => {
  it('takes addresses and names, and refuses what is neither', () => {
    for (const host of ['127.0.0.1', '0.0.0.0', '255.255.255.255', 'example.com', 'example.com.', 'a', 'x-1.b2.invalid', '[2001:db8::1]', '[::ffff:192.0.2.1]']) {
      expect(isValidHost(host), host).toBe(true);
    }
    for (const host of ['', '.', '256.0.0.1', '127..0.1', '1270.0.0.1', '1.2.3', '1.2.3.4.', 'a..b', '-a.com', 'a-.com', 'example.1com', 'exa_mple.com', 'a b', '١٢٧.0.0.1', '[2001:db8::1', '[1.2.3.4]']) {
      expect(isValidHost(host), host).toBe(false);
    }
  });

  it('agrees with the grammar on 20,000 random hosts', () => {
    const random = rng(7);
    const next = (n: number): number => Math.floor(random() * n);
    const pick = (alphabet: string, length: number): string => Array.from({ length }, () => alphabet[next(alphabet.length)]).join('');
    const label = (): string => (next(2) === 0 ? pick('0123456789', next(5)) : pick('aZ0-9_b', next(6)));
    const seen = { quads: 0, valid: 0 };
    for (let i = 0; i < 20_000; i++) {
      const labels = next(4) === 0 ? Array.from({ length: 4 }, () => pick('0123456789', 1 + next(4))) : Array.from({ length: 1 + next(5) }, label);
      const host = labels.join('.') + (next(8) === 0 ? '.' : '');
      const expected = hostByGrammar(host);
      expect(isValidHost(host), JSON.stringify(host)).toBe(expected);
      if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(host)) seen.quads++;
      if (expected) seen.valid++;
    }
    // the draw reaches both kinds of host, valid and not
    expect(seen.quads).toBeGreaterThan(100);
    expect(seen.valid).toBeGreaterThan(1000);
    expect(seen.valid).toBeLessThan(19_000);
  });
});
