import { describe, expect, it } from 'vitest';
import { LinkTrust, parseTrustedLink } from './link-trust.js';

describe('trusted links (seed 002 ¶[0020], ¶[0029]-[0030])', () => {
  it('reads what an operator writes', () => {
    expect(parseTrustedLink('10.0.0.5')).toEqual({ address: '10.0.0.5' });
    expect(parseTrustedLink('10.0.0.5:5060')).toEqual({ address: '10.0.0.5', port: 5060 });
    expect(parseTrustedLink('tcp:[2001:DB8::5]:5061')).toEqual({ address: '2001:DB8::5', port: 5061, transport: 'tcp' });
    expect(parseTrustedLink('[::1]')).toEqual({ address: '::1' });
  });

  it.each(['proxy.example.net', '10.0.0', '10.0.0.5:70000', 'sctp:10.0.0.5', '2001:db8::5', '[10.0.0.5]x', ''])('refuses %j', (text) => {
    expect(() => parseTrustedLink(text)).toThrow(RangeError);
  });

  it('trusts exactly the links named: address, then port and transport when given', () => {
    const trust = new LinkTrust([parseTrustedLink('127.0.0.2'), parseTrustedLink('udp:[2001:DB8::5]:5060')]);
    expect(trust.isTrusted({ transport: 'udp', remote: { address: '127.0.0.2', port: 40000 } })).toBe(true);
    expect(trust.isTrusted({ transport: 'udp', remote: { address: '127.0.0.1', port: 40000 } })).toBe(false);
    expect(trust.isTrusted({ transport: 'udp', remote: { address: '2001:db8::5', port: 5060 } })).toBe(true);
    expect(trust.isTrusted({ transport: 'tcp', remote: { address: '2001:db8::5', port: 5060 } })).toBe(false);
    expect(trust.isTrusted({ transport: 'udp', remote: { address: '2001:db8::5', port: 5061 } })).toBe(false);
  });
});
