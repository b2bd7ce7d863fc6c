import { describe, expect, it } from 'vitest';
import { parseDialLink } from './dial-link.js';

describe('parseDialLink (sip:/tel: links into the dialer)', () => {
  it('keeps the number of a tel: link without separators or parameters (RFC 3966)', () => {
    expect(parseDialLink('tel:+81-3-1234-5678')).toBe('+81312345678');
    expect(parseDialLink('tel:184%200312345678;phone-context=example.com')).toBe('1840312345678');
    expect(parseDialLink('TEL:*21#')).toBe('*21#');
  });

  it('keeps user@host[:port] of a SIP URI and drops headers and parameters that would steer the request', () => {
    expect(parseDialLink('sip:bob@example.com')).toBe('sip:bob@example.com');
    expect(parseDialLink('sip:bob@example.com:5070;transport=tcp;maddr=203.0.113.9')).toBe('sip:bob@example.com:5070');
    expect(parseDialLink('sip:bob@example.com?Subject=x&Route=%3Csip:evil.example%3E')).toBe('sip:bob@example.com');
    expect(parseDialLink('sips:alice@[2001:db8::1]:5061')).toBe('sips:alice@[2001:db8::1]:5061');
  });

  it('refuses everything else', () => {
    for (const bad of ['http://example.com', 'javascript:alert(1)', 'sip:', 'sip:bob@exa mple.com', 'tel:call-me-maybe', 'sip:bob@host:99999', 'x'.repeat(600), 'sip:bob@host\r\nVia: x']) {
      expect(parseDialLink(bad), bad).toBeUndefined();
    }
  });
});
