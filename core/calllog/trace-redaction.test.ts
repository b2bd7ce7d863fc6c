import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSipMessage } from '../sip/message/parse-sip-message.js';
import { redactTrace, redactTraceEntry } from './trace-redaction.js';

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
/** RFC 2617 §3.2.2.1 with qop=auth: what a real client puts in `response`. */
const digestResponse = (password: string): string =>
  md5(`${md5(`alice:lab.invalid:${password}`)}:4f1a9c:00000001:0a4f113b:auth:${md5('REGISTER:sip:lab.invalid')}`);
const secret = digestResponse('hunter2');

function register(authorization: string, eol = '\r\n'): string {
  return [
    'REGISTER sip:lab.invalid SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1;rport',
    'From: <sip:alice@lab.invalid>;tag=a1',
    'To: <sip:alice@lab.invalid>',
    'Call-ID: reg-1@127.0.0.1',
    'CSeq: 2 REGISTER',
    authorization,
    'Content-Length: 0',
    '',
    '',
  ].join(eol);
}

const sdesKey = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoHAI';
function invite(sdpLines: string[]): string {
  const body = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 16384 RTP/SAVP 0', ...sdpLines, ''].join('\r\n');
  return [
    'INVITE sip:bob@lab.invalid SIP/2.0',
    'Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-2',
    'Call-ID: call-1@127.0.0.1',
    'CSeq: 1 INVITE',
    'Content-Type: application/sdp',
    `l: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

describe('trace redaction', () => {
  it('masks the Digest response of a REGISTER and keeps every other byte', () => {
    const header = `Authorization: Digest username="alice", realm="lab.invalid", nonce="4f1a9c", uri="sip:lab.invalid", response="${secret}", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001`;
    const raw = register(header);
    const redacted = redactTrace(raw);
    expect(redacted).not.toContain(secret);
    expect(redacted).toBe(raw.replace(`response="${secret}"`, 'response="<redacted>"'));
    // Still a SIP message with the same credentials, but the response.
    const parsed = parseSipMessage(redacted);
    expect(parsed.kind).toBe('request');
  });

  it('finds the header and the parameter whatever their case, with space before the colon, unquoted values too', () => {
    for (const header of [
      `authorization: digest username="alice", RESPONSE="${secret}", realm="lab.invalid"`,
      `PROXY-AUTHORIZATION  : Digest Response=${secret},realm="lab.invalid"`,
      `Proxy-Authorization:Digest username="alice",response = "${secret}" , nonce="4f1a9c"`,
    ]) {
      const redacted = redactTrace(register(header));
      expect(redacted, header).not.toContain(secret);
      expect(redacted, header).toMatch(/response ?= ?"<redacted>"/i);
      expect(redacted).toMatch(/realm="lab\.invalid"|nonce="4f1a9c"/);
    }
  });

  it('masks every credential: several in one header, several headers, folded lines, LF-only messages', () => {
    const other = digestResponse('correct horse');
    const combined = `Authorization: Digest username="alice", response="${secret}", realm="a", Digest username="bob", realm="b", response="${other}"`;
    const twice = `Authorization: Digest username="alice", response="${secret}"\r\nProxy-Authorization: Digest username="alice", response="${other}"`;
    const folded = `Authorization: Digest username="alice",\r\n realm="lab.invalid",\r\n\tresponse=\r\n  "${secret}",\r\n nonce="4f1a9c"`;
    for (const raw of [register(combined), register(twice), register(folded), register(folded.replace(/\r\n/g, '\n'), '\n')]) {
      const redacted = redactTrace(raw);
      expect(redacted).not.toContain(secret);
      expect(redacted).not.toContain(other);
      expect(redacted).toContain('username="alice"');
    }
    expect(redactTrace(register(folded))).toContain('\tresponse=\r\n  "<redacted>",\r\n nonce="4f1a9c"');
  });

  it('does not take a quoted value that mentions response= for the parameter, nor leave the real one', () => {
    const raw = register(`Authorization: Digest nonce="x, response=\\"not-it\\"", uri="sip:a;response=1", response="${secret}", opaque="o"`);
    const redacted = redactTrace(raw);
    expect(redacted).toContain('nonce="x, response=\\"not-it\\""');
    expect(redacted).toContain('uri="sip:a;response=1"');
    expect(redacted).toContain('response="<redacted>", opaque="o"');
  });

  it('masks rspauth in Authentication-Info, and the whole credential of Basic and Bearer', () => {
    const rspauth = md5('rsp');
    const redacted = redactTrace(
      register(`Authentication-Info: nextnonce="n2", qop=auth, rspauth="${rspauth}", cnonce="0a4f113b", nc=00000001\r\nAuthorization: Basic YWxpY2U6aHVudGVyMg==\r\nProxy-Authorization: Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl`),
    );
    expect(redacted).not.toContain(rspauth);
    expect(redacted).toContain('nextnonce="n2"');
    expect(redacted).toContain('Authorization: Basic <redacted>\r\n');
    expect(redacted).toContain('Proxy-Authorization: Bearer <redacted>\r\n');
    expect(redacted).not.toMatch(/YWxpY2U|eyJhbG/);
  });

  it('leaves challenges and look-alike headers alone: nothing secret in them', () => {
    const raw = register('WWW-Authenticate: Digest realm="lab.invalid", nonce="4f1a9c", qop="auth"\r\nX-Authorization-Note: response="kept"');
    expect(redactTrace(raw)).toBe(raw);
  });

  it('masks SDES inline keys (and k= keys) to their own length, so Content-Length still holds', () => {
    const fecKey = 'QUJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0';
    const raw = invite([
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${sdesKey}|2^20|1:32`,
      `a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${sdesKey}==;inline:${fecKey}|2^20 FEC_KEY=inline:${fecKey}`,
      'k=base64:c2VjcmV0IGtleQ==',
      'a=rtpmap:0 PCMU/8000',
    ]);
    const redacted = redactTrace(raw);
    expect(redacted).not.toContain(sdesKey);
    expect(redacted).not.toContain(fecKey);
    expect(redacted).not.toContain('c2VjcmV0IGtleQ==');
    expect(redacted.length).toBe(raw.length);
    expect(redacted).toContain(`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${'REDACTED'.repeat(6).slice(0, sdesKey.length)}|2^20|1:32\r\n`);
    expect(redacted).toContain(`inline:${'REDACTED'.repeat(6).slice(0, sdesKey.length)}==;inline:`); // padding kept: still base64
    expect(redacted).toContain('k=base64:REDACTEDREDACT==\r\n');
    expect(redacted).toContain('a=rtpmap:0 PCMU/8000');
    const body = redacted.slice(redacted.indexOf('\r\n\r\n') + 4);
    expect(Number(/^l: (\d+)/m.exec(redacted)![1])).toBe(Buffer.byteLength(body));
  });

  it('returns the very same string or entry when there is nothing to hide, and changes nothing the second time', () => {
    const plain = register('Expires: 3600');
    expect(redactTrace(plain)).toBe(plain);
    const entry = { dir: 'out' as const, raw: plain };
    expect(redactTraceEntry(entry)).toBe(entry);
    const withSecret = { ...entry, raw: register(`Authorization: Digest response="${secret}"`) };
    const once = redactTraceEntry(withSecret);
    expect(once).not.toBe(withSecret);
    expect(once.raw).not.toContain(secret);
    expect(redactTraceEntry(once)).toBe(once);
    const sdp = redactTrace(invite([`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${sdesKey}`, 'k=clear:short']));
    expect(redactTrace(sdp)).toBe(sdp);
    expect(sdp).toContain('k=clear:REDAC');
  });

  it('never throws on damaged input, and stays idempotent on it', () => {
    const base = register(`Authorization: Digest username="alice", response="${secret}", nonce="4f1a9c"`) + invite([`a=crypto:1 X inline:${sdesKey}`]);
    let seed = 17;
    const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const pieces = ['"', '\\', ',', '=', '\r\n', '\n', ' ', '\t', 'Digest ', 'response=', 'a=crypto:', 'inline:', '\u0000', 'é'];
    for (let round = 0; round < 2000; round++) {
      let text = base;
      for (let edits = next() % 6; edits >= 0; edits--) {
        const at = next() % (text.length + 1);
        const cut = next() % 4;
        text = text.slice(0, at) + pieces[next() % pieces.length]! + text.slice(at + cut);
      }
      const once = redactTrace(text);
      expect(redactTrace(once)).toBe(once);
    }
  });
});
