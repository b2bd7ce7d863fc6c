import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inspectInbound } from './inspect-inbound.js';
import { formatNameAddr, parseNameAddr } from './name-addr.js';
import { parseSipMessage, validateSipMessage } from './parse-sip-message.js';
import { SipParseError } from './sip-parse-error.js';
import type { SipRequest } from './sip-message.js';
import { formatSipUri, parseSipUri } from './sip-uri.js';
import { parseVia } from './via.js';

const invite = [
  'INVITE sip:bob@127.0.0.1:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds;rport',
  'v: SIP/2.0/TCP [2001:db8::1]:5080;branch=z9hG4bKaaa , SIP/2.0/WS x.invalid;branch=z9hG4bKbbb',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@127.0.0.1>',
  'f: "Alice \\"A\\" Liddell" <sip:alice@127.0.0.1;transport=udp>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@127.0.0.1:5070;transport=udp>',
  'Subject: folded',
  '  continuation',
  'Content-Type: application/sdp',
  'Content-Length: 10',
  '',
  'v=0\r\nabcde',
].join('\r\n');

describe('parseSipMessage', () => {
  it('parses a request with compact forms, folded lines, lists and an exact body', () => {
    const msg = parseSipMessage(invite) as SipRequest;
    expect(msg.kind).toBe('request');
    expect(msg.method).toBe('INVITE');
    expect(msg.uri).toBe('sip:bob@127.0.0.1:5060');
    expect(msg.body).toBe('v=0\r\nabcde');
    expect(msg.get('subject')).toBe('folded continuation');
    expect(msg.vias.map((v) => [v.transport, v.host, v.port])).toEqual([
      ['UDP', '127.0.0.1', 5070],
      ['TCP', '[2001:db8::1]', 5080],
      ['WS', 'x.invalid', undefined],
    ]);
    expect(msg.from.display).toBe('Alice "A" Liddell');
    expect(msg.from.uri.params).toEqual([{ name: 'transport', value: 'udp' }]);
    expect(msg.from.params).toEqual([{ name: 'tag', value: '1928301774' }]);
    expect(msg.cseq).toEqual({ seq: 314159, method: 'INVITE' });
    expect(() => validateSipMessage(msg)).not.toThrow();
  });

  it('round-trips through toString with a recomputed Content-Length', () => {
    const msg = parseSipMessage(invite);
    msg.body = 'ü';
    const again = parseSipMessage(msg.toString());
    expect(again.body).toBe('ü');
    expect(again.get('content-length')).toBe('2');
  });

  it('shifts the top element of a list header and keeps the rest', () => {
    const msg = parseSipMessage(invite);
    expect(msg.shift('via')).toContain('5070');
    expect(msg.shift('via')).toContain('2001:db8::1');
    expect(msg.getAll('via')).toHaveLength(1);
  });

  it('parses a response', () => {
    const msg = parseSipMessage('SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\nContent-Length: 0\r\n\r\n');
    expect(msg.kind === 'response' && msg.status).toBe(486);
    expect(msg.kind === 'response' && msg.reason).toBe('Busy Here');
  });

  it.each([
    ['', 'EMPTY'],
    ['\r\n\r\n', 'EMPTY'],
    ['INVITE sip:a@b SIP/2.0\r\nVia: x', 'BAD_HEADER'],
    ['HELLO\r\n\r\n', 'BAD_START_LINE'],
    ['INVITE sip:a@b SIP/3.0\r\n\r\n', 'BAD_VERSION'],
    ['SIP/2.0 99 Odd\r\n\r\n', 'BAD_START_LINE'],
    ['INVITE sip:a@b SIP/2.0\r\nNoColon\r\n\r\n', 'BAD_HEADER'],
    ['INVITE sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n', 'BAD_CONTENT_LENGTH'],
    ['INVITE sip:a@b SIP/2.0\r\nContent-Length: 100\r\n\r\nshort', 'TRUNCATED_BODY'],
  ])('rejects %j with %s', (text, code) => {
    expect(() => parseSipMessage(text)).toThrowError(expect.objectContaining({ code }));
  });

  it('keeps each header name as written, in whatever case and form, past the names it shares between messages', () => {
    // the first 1,024 spellings are shared between messages (header-names.ts); names beyond them are kept as they come
    const junk = Array.from({ length: 1500 }, (_, i) => `X-Junk-${i}`);
    for (let start = 0; start < junk.length; start += 100) {
      const names = junk.slice(start, start + 100);
      const text = `OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nv: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\nFROM: <sip:b@127.0.0.1>;tag=1\r\nt: <sip:a@127.0.0.1>\r\ni: j@x\r\nCSeq: 1 OPTIONS\r\n${names.map((n, i) => `${i % 2 ? n.toUpperCase() : n}: ${i}`).join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
      const message = parseSipMessage(text);
      expect(message.headers.slice(0, 5).map((h) => h.name)).toEqual(['v', 'FROM', 't', 'i', 'CSeq']);
      expect(message.get('via')).toBe('SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1');
      expect(message.get('from')).toBe('<sip:b@127.0.0.1>;tag=1');
      names.forEach((name, i) => {
        expect(message.headers[5 + i]!.name).toBe(i % 2 ? name.toUpperCase() : name);
        expect(message.get(name.toLowerCase())).toBe(String(i));
      });
      expect(message.toString()).toContain(`\r\n${names[1]!.toUpperCase()}: 1\r\n`);
    }
  });

  it('rejects oversized messages and header floods', () => {
    const big = `INVITE sip:a@b SIP/2.0\r\nX: ${'a'.repeat(70_000)}\r\n\r\n`;
    expect(() => parseSipMessage(big)).toThrowError(expect.objectContaining({ code: 'TOO_LARGE' }));
    const flood = `INVITE sip:a@b SIP/2.0\r\n${'X: 1\r\n'.repeat(300)}\r\n`;
    expect(() => parseSipMessage(flood)).toThrowError(expect.objectContaining({ code: 'TOO_MANY_HEADERS' }));
  });

  it('validation names the missing or inconsistent part', () => {
    const noCallId = parseSipMessage(invite.replace(/Call-ID:.*\r\n/, ''));
    expect(() => validateSipMessage(noCallId)).toThrowError(expect.objectContaining({ code: 'MISSING_HEADER' }));
    const wrongCSeq = parseSipMessage(invite.replace('314159 INVITE', '314159 BYE'));
    expect(() => validateSipMessage(wrongCSeq)).toThrowError(expect.objectContaining({ code: 'BAD_CSEQ' }));
    const badVia = parseSipMessage(invite.replace('SIP/2.0/UDP 127.0.0.1:5070', 'garbage'));
    expect(() => validateSipMessage(badVia)).toThrowError(expect.objectContaining({ code: 'BAD_VIA' }));
  });

  it('never throws anything but SipParseError on random or truncated input', () => {
    const valid = new TextEncoder().encode(invite);
    for (let i = 0; i < 3000; i++) {
      const input = i % 2 === 0 ? randomBytes(i % 600) : valid.subarray(0, i % valid.length);
      try {
        validateSipMessage(parseSipMessage(input));
      } catch (error) {
        expect(error).toBeInstanceOf(SipParseError);
      }
    }
  });
});

describe('URIs, addresses and Via', () => {
  it('parses and formats SIP URIs including IPv6 and parameters', () => {
    const uri = parseSipUri('sip:alice:pw@[2001:db8::1]:5070;transport=tcp;lr?subject=x');
    expect(uri).toMatchObject({ user: 'alice', password: 'pw', host: '[2001:db8::1]', port: 5070, headers: 'subject=x' });
    expect(formatSipUri(uri)).toBe('sip:alice:pw@[2001:db8::1]:5070;transport=tcp;lr?subject=x');
    expect(parseSipUri('tel:+81-3-1234;phone-context=x').user).toBe('+81-3-1234');
  });

  it.each(['http://x', 'sip:@host', 'sip:a@host:99999', 'sip:a@ho st', 'sip:a@2001:db8::1'])('rejects URI %s', (text) => {
    expect(() => parseSipUri(text)).toThrowError(SipParseError);
  });

  // RFC 3261 §25.1 host: hostname / IPv4address / IPv6reference.
  it.each(['127.0.0.1', 'home.lab', 'home.lab.', 'a-b.example', 'localhost', '[::1]', '[2001:db8::1]', '[::ffff:192.0.2.1]', '[1:2:3:4:5:6:7:8]'])('accepts host %s', (host) => {
    expect(parseSipUri(`sip:bob@${host}:5060`).host).toBe(host);
  });

  it.each(['127..0.1', '1270.0.0.1', '256.0.0.1', '-a.example', 'a-.example', 'example.123', 'a_b.example', '.example', '[::1', '[1::2::3]', '[1:2:3:4:5:6:7:8:9]', '[12345::1]'])('refuses host %s with BAD_URI', (host) => {
    expect(() => parseSipUri(`sip:bob@${host}`)).toThrowError(expect.objectContaining({ code: 'BAD_URI' }));
    expect(() => parseVia(`SIP/2.0/UDP ${host}:5060;branch=z9hG4bK1`)).toThrowError(SipParseError);
  });

  it('treats parameters after a bare addr-spec as header parameters', () => {
    const addr = parseNameAddr('sip:bob@example.com;tag=abc');
    expect(addr.uri.params).toEqual([]);
    expect(addr.params).toEqual([{ name: 'tag', value: 'abc' }]);
    expect(formatNameAddr(addr)).toBe('<sip:bob@example.com>;tag=abc');
    expect(parseNameAddr('Bob Smith <sip:bob@x>').display).toBe('Bob Smith');
  });

  it('parses Via with spaces in the sent-protocol', () => {
    const via = parseVia('SIP / 2.0 / udp 10.0.0.1:5060 ;branch=z9hG4bK1;received=1.2.3.4');
    expect(via).toMatchObject({ transport: 'UDP', host: '10.0.0.1', port: 5060 });
  });
});

describe('RFC 4475 §3 at the codec', () => {
  const fixtures = new URL('../../../test/fixtures/rfc4475/', import.meta.url);
  /** What parsing and validation alone make of each message: accepted, answered with a status, or dropped. */
  const verdicts: Record<string, 'ok' | 'drop' | number> = {
    wsinv: 'ok', intmeth: 'ok', esc01: 'ok', escnull: 'ok', esc02: 'ok', lwsdisp: 'ok', longreq: 'ok', dblreq: 'ok',
    semiuri: 'ok', transports: 'ok', mpart01: 'ok', unreason: 'ok', noreason: 'ok',
    badinv01: 400, clerr: 400, ncl: 400, scalar02: 400, scalarlg: 'drop', quotbal: 400, ltgtruri: 400, lwsruri: 400,
    lwsstart: 400, trws: 400, escruri: 400, baddate: 'ok', regbadct: 400, badaspec: 400, baddn: 400, badvers: 505,
    mismatch01: 400, mismatch02: 501, bigcode: 'drop', badbranch: 'ok', insuf: 400, unkscm: 416, novelsc: 416,
    unksm2: 'ok', bext01: 'ok', invut: 'ok', regaut01: 'ok', multi01: 400, mcl01: 400, bcast: 'ok', zeromf: 'ok',
    cparam01: 'ok', cparam02: 'ok', regescrt: 'ok', sdp01: 'ok', inv2543: 'ok',
  };

  it.each(Object.entries(verdicts))('%s: %s', (name, verdict) => {
    const result = inspectInbound(fs.readFileSync(new URL(`${name}.sip`, fixtures)));
    if (verdict === 'ok') {
      expect(result.ok ? 'ok' : result.error.message).toBe('ok');
    } else {
      expect(result.ok).toBe(false);
      expect(result.ok ? undefined : result.reply?.status).toBe(verdict === 'drop' ? undefined : verdict);
    }
  });

  it('reads what RFC 4475 says the valid ones mean', () => {
    const read = (name: string) => parseSipMessage(fs.readFileSync(new URL(`${name}.sip`, fixtures)));
    const wsinv = read('wsinv') as SipRequest;
    expect(wsinv.get('max-forwards')).toBe('0068');
    expect(wsinv.cseq).toEqual({ seq: 9, method: 'INVITE' });
    expect(wsinv.vias).toHaveLength(3);
    expect(read('intmeth').cseq.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    expect(parseSipUri((read('intmeth') as SipRequest).uri)).toMatchObject({ user: "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", password: "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)", host: 'example.com' });
    expect((read('esc02') as SipRequest).method).toBe('RE%47IST%45R'); // not REGISTER (§3.1.1.5)
    expect(read('esc02').getAll('contact')).toHaveLength(2); // C%6Fntact is another header field
    expect(parseSipUri((read('semiuri') as SipRequest).uri).user).toBe('user;par=u%40example.net');
    expect(read('dblreq').body).toBe(''); // the INVITE after Content-Length: 0 is noise (§3.1.1.8)
    expect(read('mpart01').body.length).toBeGreaterThan(0);
    expect((read('noreason') as { status: number }).status).toBe(100);
  });

  it('answers a broken request without letting its bytes into the status line', () => {
    const result = inspectInbound('INVITE sip:a@b.example SIP/2.0\r\nVia: SIP/2.0/UDP h.example;branch=z9hG4bK1\r\nCSeq: 1 INVITE\r\nContent-Length: x\u0000\u0007y\r\n\r\n');
    expect(result.ok).toBe(false);
    const reply = result.ok ? undefined : result.reply!;
    expect(reply?.status).toBe(400);
    expect(reply?.reason).not.toMatch(/[\x00-\x1f]/); // eslint-disable-line no-control-regex
  });
});
