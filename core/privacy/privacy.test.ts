import { describe, expect, it } from 'vitest';
import { presentByDefault, type AnonymityDefault } from './anonymity.js';
import { planCallPrivacy } from './call-privacy.js';
import { matchDialRules } from './dial-plan.js';
import { findIdentityLeaks } from './identity-leaks.js';
import { detectIncomingAnonymity } from './incoming-anonymity.js';

const identity = { user: 'alice', domain: 'example.net' };
const anonymousDefault: AnonymityDefault = { anonymous: true, mode: 'header', level: 'id' };

describe('dial rules', () => {
  it('match 184 and 186 before numbers, users and SIP URI user parts, with keypad punctuation', () => {
    expect(matchDialRules('184 03-1234-5678')).toMatchObject({ rest: '0312345678', rule: { action: 'withhold' } });
    expect(matchDialRules('186bob')).toMatchObject({ rest: 'bob', rule: { action: 'present' } });
    expect(matchDialRules('sip:184bob@example.net;transport=tcp')).toMatchObject({ rest: 'sip:bob@example.net;transport=tcp', rule: { prefix: '184' } });
    expect(matchDialRules('184')).toEqual({ rest: '184' }); // nothing after the prefix: a number, not a code
    expect(matchDialRules('0312345678')).toEqual({ rest: '0312345678' });
  });

  it('are data: an account may bring its own', () => {
    expect(matchDialRules('*67 5551234', [{ prefix: '*67', action: 'withhold', label: 'NANP withhold' }])).toMatchObject({ rest: '5551234', rule: { label: 'NANP withhold' } });
  });
});

describe('planCallPrivacy', () => {
  it('presents the caller by default and strips 186', () => {
    expect(planCallPrivacy({ dialString: 'bob', account: presentByDefault, identity })).toMatchObject({ target: 'bob', mode: 'none', extraHeaders: [] });
    expect(planCallPrivacy({ dialString: '186bob', account: anonymousDefault, identity })).toMatchObject({ target: 'bob', mode: 'none', summary: 'none: 186: present caller ID' });
  });

  it('keeps 184 in the Request-URI in prefix mode, adding it when the user chose anonymity by switch', () => {
    expect(planCallPrivacy({ dialString: '184bob', account: presentByDefault, identity })).toMatchObject({ target: '184bob', mode: 'prefix' });
    expect(planCallPrivacy({ dialString: 'bob', anonymity: 'prefix', account: presentByDefault, identity })).toMatchObject({ target: '184bob', mode: 'prefix' });
    expect(planCallPrivacy({ dialString: 'sip:bob@example.org', anonymity: 'prefix', account: presentByDefault, identity }).target).toBe('sip:184bob@example.org');
  });

  it('sends the RFC 3323/3325 headers itself in header mode, with 184 stripped', () => {
    const plan = planCallPrivacy({ dialString: '184 bob', anonymity: 'header', account: presentByDefault, identity });
    expect(plan).toMatchObject({ target: 'bob', mode: 'header', level: 'id', from: { display: 'Anonymous', uri: 'sip:anonymous@anonymous.invalid' } });
    expect(plan.extraHeaders).toEqual(['Privacy: id', 'P-Preferred-Identity: <sip:alice@example.net>']);
    expect(planCallPrivacy({ dialString: 'bob', anonymity: 'header', level: 'full', account: presentByDefault, identity }).extraHeaders[0]).toBe('Privacy: header;user;id');
  });

  it('writes an IPv6 domain in P-Preferred-Identity as RFC 3261 §25.1 asks: in brackets, bracketed or not when given', () => {
    for (const domain of ['2001:db8:a::1', '[2001:db8:a::1]']) {
      const plan = planCallPrivacy({ dialString: 'bob', anonymity: 'header', account: presentByDefault, identity: { user: 'alice', domain } });
      expect(plan.extraHeaders[1]).toBe('P-Preferred-Identity: <sip:alice@[2001:db8:a::1]>');
    }
    expect(planCallPrivacy({ dialString: 'bob', anonymity: 'header', account: presentByDefault, identity: { user: 'alice', domain: '[2001:db8:a::1]:5070' } }).extraHeaders[1]).toBe('P-Preferred-Identity: <sip:alice@[2001:db8:a::1]:5070>');
    expect(() => planCallPrivacy({ dialString: 'bob', anonymity: 'header', account: presentByDefault, identity: { user: 'alice', domain: 'bad host' } })).toThrow(/bad host/);
  });

  it('follows an anonymous account default, in the account\'s mode', () => {
    expect(planCallPrivacy({ dialString: 'bob', account: anonymousDefault, identity })).toMatchObject({ mode: 'header', target: 'bob' });
    expect(planCallPrivacy({ dialString: 'bob', account: { ...anonymousDefault, mode: 'prefix' }, identity })).toMatchObject({ mode: 'prefix', target: '184bob' });
    expect(planCallPrivacy({ dialString: 'bob', anonymity: 'none', account: anonymousDefault, identity }).mode).toBe('none');
  });
});

describe('detectIncomingAnonymity', () => {
  it.each([
    [{ fromUser: 'anonymous', fromHost: 'anonymous.invalid', fromDisplay: 'Anonymous' }, true],
    [{ fromUser: 'Anonymous17', fromHost: 'carrier.example' }, true],
    [{ fromUser: 'alice', fromHost: 'example.net', privacy: 'id' }, true],
    [{ fromUser: 'alice', fromHost: 'example.net', privacy: 'header; user' }, true],
    [{ fromUser: 'alice', fromHost: 'example.net', privacy: 'none' }, false],
    [{ fromUser: 'alice', fromHost: 'example.net', fromDisplay: 'Alice' }, false],
    [{ fromUser: 'anonymously-named-user', fromHost: 'example.net' }, false],
  ])('%o → anonymous %s', (headers, anonymous) => {
    expect(detectIncomingAnonymity(headers).anonymous).toBe(anonymous);
  });
});

describe('findIdentityLeaks', () => {
  const invite = (from: string, extra = '', sdpUser = '-'): string =>
    [
      'INVITE sip:bob@example.org SIP/2.0',
      'Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK7',
      `From: ${from};tag=8c1`,
      'To: <sip:bob@example.org>',
      'Call-ID: 4fa2c1',
      'CSeq: 1 INVITE',
      'Contact: <sip:x7k2@192.0.2.10:5062>',
      'User-Agent: Veilphone',
      extra,
      'Content-Type: application/sdp',
      '',
      `v=0\r\no=${sdpUser} 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n`,
    ]
      .filter((line) => line !== '')
      .join('\r\n')
      .replace('Content-Type: application/sdp\r\n', 'Content-Type: application/sdp\r\n\r\n');
  const who = { user: 'alice', displayName: 'Alice Liddell', domain: 'example.net', hostNames: ['alice-laptop'] };

  it('finds nothing in a clean anonymous INVITE', () => {
    expect(findIdentityLeaks(invite('"Anonymous" <sip:anonymous@anonymous.invalid>'), who)).toEqual([]);
  });

  it('names each header and SDP line that gives the caller away', () => {
    const leaky = invite('"Alice Liddell" <sip:alice@example.net>', 'P-Preferred-Identity: <sip:alice@example.net>\r\nWarning: 399 alice-laptop "hi"', 'alice');
    expect(findIdentityLeaks(leaky, who)).toEqual([
      { where: 'From', found: 'user "alice"' },
      { where: 'From', found: 'display name "Alice Liddell"' },
      { where: 'From', found: 'domain "example.net"' },
      { where: 'P-Preferred-Identity', found: 'user "alice"' },
      { where: 'P-Preferred-Identity', found: 'domain "example.net"' },
      { where: 'Warning', found: 'user "alice"' }, // "alice-laptop" names her too
      { where: 'Warning', found: 'host name "alice-laptop"' },
      { where: 'SDP o=', found: 'user "alice"' },
    ]);
    expect(findIdentityLeaks(leaky, who, ['From', 'P-Preferred-Identity', 'Warning']).map((l) => l.where)).toEqual(['SDP o=']);
  });

  it('matches whole words only', () => {
    expect(findIdentityLeaks(invite('<sip:malice@example.org>'), { user: 'alice' })).toEqual([]);
  });
});
