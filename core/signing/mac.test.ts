import { describe, expect, it } from 'vitest';
import { macInput } from './mac.js';

describe('the MAC input', () => {
  const header = { kind: 'via' as const, keyId: 'k7Qx2fPa', algorithm: 'hs128' as const, flags: ['c' as const] };

  it('prefixes every value with its length in UTF-8 octets, not in characters', () => {
    const input = macInput(header, [
      { item: 'To-URI', value: 'sip:b\u00e9a@example.com' },
      { item: 'Call-ID', value: 'a\u20acb\u{1f600}' },
      { item: 'Via', value: 'SIP/2.0/UDP 127.0.0.1:5060' },
    ]);
    expect(input).toBe('vp-sig/1\nvia\nk7Qx2fPa\nhs128\nc\nTo-URI\n20:sip:b\u00e9a@example.com\nCall-ID\n9:a\u20acb\u{1f600}\nVia\n26:SIP/2.0/UDP 127.0.0.1:5060\n');
  });
});
