import { describe, expect, it } from 'vitest';
import { fingerprintCaller, userAgentIds, type CallerMessage } from './caller-fingerprint.js';
import { findIdentityLeaks } from './identity-leaks.js';
import { findIpLiterals, normalizeIp } from './ip-literals.js';

describe('IP literals', () => {
  it('compare IPv6 by value, whatever the spelling, and IPv4 without leading zeros', () => {
    const one = normalizeIp('2001:db8::1');
    expect(normalizeIp('[2001:DB8:0:0::1]')).toBe(one);
    expect(normalizeIp('2001:db8:0:0:0:0:0:1')).toBe(one);
    expect(normalizeIp('2001:db8::0.0.0.1')).toBe(one);
    expect(normalizeIp('fe80::1%eth0')).toBe(normalizeIp('fe80::1'));
    expect(normalizeIp('127.000.0.1')).toBe('127.0.0.1');
    for (const bad of ['2001:db8::1::2', '1:2:3:4:5:6:7', '256.1.1.1', '12:30:45', 'example.net']) expect(normalizeIp(bad)).toBeUndefined();
  });

  it('are found raw, bracketed, with ports, and not inside longer numbers', () => {
    const via = 'SIP/2.0/UDP [2001:db8::5]:5060;received=192.0.2.1;rport=5062;branch=z9hG4bK1';
    expect(findIpLiterals(via).sort()).toEqual([normalizeIp('2001:db8::5'), '192.0.2.1'].sort());
    expect(findIpLiterals('c=IN IP4 127.0.0.10')).toEqual(['127.0.0.10']);
    expect(findIpLiterals('sip:a@2001:db8::1:5060')).toContain(normalizeIp('2001:db8::1'));
    expect(findIpLiterals('Date: Mon, 12:30:45 GMT; version 1.2.3')).toEqual([]);
  });
});

const sdp = (address: string): string => `v=0\r\no=- 1 1 IN IP4 ${address}\r\ns=-\r\nc=IN IP4 ${address}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n`;

function message(lines: string[], body = ''): string {
  return `${lines.join('\r\n')}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

/** Alice's trace: a receiving identity on 127.9.9.9 and the call's one-time sending identity on 127.1.2.3. */
const aliceTrace: CallerMessage[] = [
  {
    dir: 'out',
    local: '127.9.9.9:5000',
    remote: '127.0.0.1:5060',
    raw: message([
      'REGISTER sip:a.lab SIP/2.0',
      'Via: SIP/2.0/UDP 127.9.9.9:5000;branch=z9hG4bK1',
      'From: <sip:alice@a.lab>;tag=1',
      'To: <sip:alice@a.lab>',
      'Call-ID: reg1',
      'CSeq: 1 REGISTER',
      'Contact: <sip:recvuser1@127.9.9.9:5000;transport=udp>;+sip.instance="<urn:uuid:0b4a2c1e-5d6f-4a7b-8c9d-0e1f2a3b4c5d>";reg-id=1',
      'User-Agent: Veilphone 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a',
    ]),
  },
  {
    dir: 'in',
    local: '127.9.9.9:5000',
    remote: '127.0.0.1:5060',
    raw: message([
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP 127.9.9.9:5000;branch=z9hG4bK1;received=127.9.9.9',
      'From: <sip:alice@a.lab>;tag=1',
      'To: <sip:alice@a.lab>;tag=2',
      'Call-ID: reg1',
      'CSeq: 1 REGISTER',
      'Contact: <sip:recvuser1@127.9.9.9:5000>;expires=600;pub-gruu="sip:alice@a.lab;gr=urn:uuid:0b4a2c1e-5d6f-4a7b-8c9d-0e1f2a3b4c5d";temp-gruu="sip:tgruu.7hs3kd9q@a.lab;gr"',
    ]),
  },
  {
    dir: 'out',
    local: '127.1.2.3:6000',
    remote: '127.0.0.1:5060',
    raw: message(
      [
        'INVITE sip:184bob@b.lab SIP/2.0',
        'Via: SIP/2.0/UDP 127.1.2.3:6000;branch=z9hG4bK2',
        'From: "Alice" <sip:alice@a.lab>;tag=3',
        'To: <sip:184bob@b.lab>',
        'Call-ID: call7@rabbit-hole',
        'CSeq: 1 INVITE',
        'Contact: <sip:senduser@127.1.2.3:6000;transport=udp>',
        'User-Agent: Veilphone 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a',
        'Content-Type: application/sdp',
      ],
      sdp('127.1.2.3'),
    ),
  },
];

describe('fingerprintCaller', () => {
  const fingerprint = fingerprintCaller({ user: 'alice', displayName: 'Alice', domain: 'a.lab', messages: aliceTrace, callId: 'call7@rabbit-hole', oneTimeAddress: '127.1.2.3' });

  it('takes the addresses of the other identities, never the call\'s one-time address or the server\'s', () => {
    expect(fingerprint.addresses).toEqual(['127.9.9.9']);
  });

  it('takes the instance ids of the other identities, GRUUs, User-Agent ids and Call-ID host names', () => {
    expect(fingerprint.instanceIds).toEqual(
      expect.arrayContaining(['0b4a2c1e-5d6f-4a7b-8c9d-0e1f2a3b4c5d', 'recvuser1', '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a', 'sip:alice@a.lab;gr=urn:uuid:0b4a2c1e-5d6f-4a7b-8c9d-0e1f2a3b4c5d', 'sip:tgruu.7hs3kd9q@a.lab;gr']),
    );
    expect(fingerprint.instanceIds).not.toContain('senduser'); // the one-time identity's own Contact may be seen
    expect(fingerprint.hostNames).toEqual(['rabbit-hole']);
  });

  it('treats a fixed address as lasting: nothing is one-time', () => {
    const fixed = fingerprintCaller({ user: 'alice', messages: aliceTrace, callId: 'call7@rabbit-hole' });
    expect(fixed.addresses?.sort()).toEqual(['127.1.2.3', '127.9.9.9']);
  });

  it('lets findIdentityLeaks name each of them in what the callee received', () => {
    const received = message(
      [
        'INVITE sip:bob@127.0.0.1:7000 SIP/2.0',
        'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK9',
        'Via: SIP/2.0/UDP [::ffff:127.9.9.9]:5000;branch=z9hG4bK1',
        'From: "Anonymous" <sip:Anonymous1@anonymous.invalid>;tag=3',
        'To: <sip:bob@b.lab>',
        'Call-ID: call7@b.lab',
        'CSeq: 1 INVITE',
        'Contact: <sip:senduser@127.1.2.3:6000>',
        'Record-Route: <sip:127.0.0.1:5060;lr>',
        'Warning: 399 rabbit-hole "recvuser1 says hi"',
        'User-Agent: Veilphone 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a',
        'Content-Type: application/sdp',
      ],
      sdp('127.1.2.3'),
    );
    expect(findIdentityLeaks(received, fingerprint)).toEqual([
      { where: 'Via', found: 'address "127.9.9.9"' },
      { where: 'Warning', found: 'host name "rabbit-hole"' },
      { where: 'Warning', found: 'instance id "recvuser1"' },
      { where: 'User-Agent', found: 'instance id "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"' },
    ]);
  });
});

describe('userAgentIds', () => {
  it('finds UUIDs and long letter-digit runs, not product names and versions', () => {
    expect(userAgentIds('Veilphone/0.1.0 (linux)')).toEqual([]);
    expect(userAgentIds('Zoiper rv2.10.18.3-mod id=4f3a9c2b71e0d5aa')).toEqual(['4f3a9c2b71e0d5aa']);
    expect(userAgentIds(undefined)).toEqual([]);
  });
});
