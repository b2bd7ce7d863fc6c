import { describe, expect, it } from 'vitest';
import { headerView } from '../../core/signing/header-view.js';
import { parseSipMessage, type SipRequest } from '../../core/sip/message/index.js';
import { OwnSignatures, recordRouteTexts, signedRouteSetTexts, usedRouteSetTexts, viaTexts } from './own-signatures.js';

const request = parseSipMessage(
  [
    'INVITE sip:bob@127.0.0.1:5062 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKproxy;vp-sig=SIG',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKalice;rport',
    'Record-Route: <sip:127.0.0.1:5060;lr;vp-rs=RS>;vp-sig=RR',
    'From: <sip:alice@127.0.0.1>;tag=a1',
    'To: <sip:bob@127.0.0.1>',
    'Call-ID: c1',
    'CSeq: 1 INVITE',
    'Contact: <sip:alice@127.0.0.1:5070>',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
);

/** The 200 to `request` as a user agent answers it, with `edit` applied to its header lines. */
function answer(edit: (lines: string[]) => string[] = (lines) => lines) {
  const lines = request
    .toString()
    .split('\r\n')
    .filter((line) => /^(Via|Record-Route|From|To|Call-ID|CSeq):/.test(line))
    .map((line) => (line.startsWith('To:') ? `${line};tag=b1` : line));
  return parseSipMessage(['SIP/2.0 200 OK', ...edit(lines), 'Content-Length: 0', '', ''].join('\r\n'));
}

const peer = 'udp:127.0.0.1:5062';

/** An in-dialog request as its sender's dialog writes it, with `headers` under its request line. */
function inDialog(requestLine: string, headers: string[]): SipRequest {
  return parseSipMessage([requestLine, 'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKindialog', ...headers, 'CSeq: 2 BYE', 'Content-Length: 0', '', ''].join('\r\n')) as SipRequest;
}

describe('OwnSignatures: the signatures a proxy made, recognised when they come back untouched', () => {
  function signed(now = () => 0): OwnSignatures {
    const own = new OwnSignatures(now, 1000, 3);
    own.remember('SIG', 'via', 'k1', viaTexts(headerView(request), 0, peer));
    own.remember('RR', 'record-route', 'k2', recordRouteTexts(headerView(request), 0));
    return own;
  }

  it('recognises a response over the same texts, the callee\'s To tag added', () => {
    const own = signed();
    const ok = headerView(answer());
    expect(own.recognise('SIG', 'via', viaTexts(ok, 0, peer))).toBe('k1');
    expect(own.recognise('RR', 'record-route', recordRouteTexts(ok, 0))).toBe('k2');
  });

  it('does not recognise a changed text, another peer, another family or a signature it did not make', () => {
    const own = signed();
    const changed = (from: RegExp, to: string) => headerView(answer((lines) => lines.map((line) => line.replace(from, to))));
    expect(own.recognise('SIG', 'via', viaTexts(changed(/branch=z9hG4bKalice/, 'branch=z9hG4bKmallory'), 0, peer))).toBeUndefined();
    expect(own.recognise('SIG', 'via', viaTexts(changed(/^CSeq: 1/, 'CSeq: 2'), 0, peer))).toBeUndefined();
    expect(own.recognise('SIG', 'via', viaTexts(changed(/^From: <sip:alice/, 'From: <sip:eve'), 0, peer))).toBeUndefined();
    expect(own.recognise('SIG', 'via', viaTexts(changed(/^To: <sip:bob/, 'To: <sip:eve'), 0, peer))).toBeUndefined();
    expect(own.recognise('SIG', 'via', viaTexts(changed(/;tag=b1$/, ';tag=b1;x=1'), 0, peer))).toBeUndefined();
    expect(own.recognise('RR', 'record-route', recordRouteTexts(changed(/;lr;/, ';lr;maddr=192.0.2.9;'), 0))).toBeUndefined();
    expect(own.recognise('SIG', 'via', viaTexts(headerView(answer()), 0, 'udp:127.0.0.1:9'))).toBeUndefined();
    expect(own.recognise('SIG', 'record-route', viaTexts(headerView(answer()), 0, peer))).toBeUndefined();
    expect(own.recognise('OTHER', 'via', viaTexts(headerView(answer()), 0, peer))).toBeUndefined();
  });

  it('takes a tag added to a To written without angle brackets for a change (it is not cut out unparsed: the full check judges it)', () => {
    const own = new OwnSignatures(() => 0);
    own.remember('SIG', 'via', 'k1', { text: 'x', to: 'sip:bob@127.0.0.1' });
    expect(own.recognise('SIG', 'via', { text: 'x', to: 'sip:bob@127.0.0.1;tag=b1' })).toBeUndefined();
    expect(own.recognise('SIG', 'via', { text: 'x', to: 'sip:bob@127.0.0.1' })).toBe('k1');
  });

  it('forgets what it signed two generations ago, by age and by count', () => {
    let now = 0;
    const own = signed(() => now);
    now = 1000;
    own.remember('A', 'via', 'k1', { text: 'a' }); // a new generation: the first two are old now
    expect(own.recognise('SIG', 'via', viaTexts(headerView(answer()), 0, peer))).toBe('k1');
    now = 2000;
    own.remember('B', 'via', 'k1', { text: 'b' });
    expect(own.recognise('SIG', 'via', viaTexts(headerView(answer()), 0, peer))).toBeUndefined();
    for (const value of ['C', 'D', 'E', 'F', 'G', 'H']) own.remember(value, 'via', 'k1', { text: value }); // 3 a generation: B's is dropped
    expect(own.recognise('B', 'via', { text: 'b' })).toBeUndefined();
    expect(own.size).toBeLessThanOrEqual(6);
  });

  it('recognises a route set the callee uses as signed in the INVITE: its Record-Route entries as Route, the Contact as Request-URI', () => {
    const signedTexts = signedRouteSetTexts(headerView(request), 'route-set-callee', 0)!;
    const bye = (uri: string, route: string, to: string) =>
      inDialog(`BYE ${uri} SIP/2.0`, [`Route: ${route}`, 'From: <sip:bob@127.0.0.1>;tag=b1', `To: ${to}`, 'Call-ID: c1']);
    const used = (message: SipRequest) => usedRouteSetTexts(headerView(message), 'route-set-callee', 0, message.uri);
    const route = '<sip:127.0.0.1:5060;lr;vp-rs=RS>;vp-sig=RR';
    expect(used(bye('sip:alice@127.0.0.1:5070', route, '"Alice" <sip:alice@127.0.0.1>;tag=a1'))).toEqual(signedTexts);
    expect(used(bye('sip:alice@127.0.0.1:9', route, '<sip:alice@127.0.0.1>;tag=a1'))).not.toEqual(signedTexts); // another target
    expect(used(bye('sip:alice@127.0.0.1:5070', `${route}, <sip:192.0.2.9;lr>`, '<sip:alice@127.0.0.1>;tag=a1'))).not.toEqual(signedTexts); // a detour
    expect(used(bye('sip:alice@127.0.0.1:5070', route, '<sip:alice@127.0.0.1>;tag=a2'))).not.toEqual(signedTexts); // another dialog
  });

  it('recognises a caller\'s route set bottom-up to the signer\'s entry, and none behind a Contact with a display name', () => {
    const ok = parseSipMessage(
      ['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKalice', 'Record-Route: <sip:192.0.2.7;lr>, <sip:127.0.0.1:5060;lr;vp-rs=RC>', 'From: <sip:alice@127.0.0.1>;tag=a1', 'To: <sip:bob@127.0.0.1>;tag=b1', 'Call-ID: c1', 'CSeq: 1 INVITE', 'Contact: <sip:bob@127.0.0.1:5062>', 'Content-Length: 0', '', ''].join('\r\n'),
    );
    const ack = inDialog('ACK sip:bob@127.0.0.1:5062 SIP/2.0', ['Route: <sip:127.0.0.1:5060;lr;vp-rs=RC>, <sip:192.0.2.7;lr>', 'From: <sip:alice@127.0.0.1>;tag=a1', 'To: <sip:bob@127.0.0.1>;tag=b1', 'Call-ID: c1']);
    expect(usedRouteSetTexts(headerView(ack), 'route-set-caller', 0, ack.uri)).toEqual(signedRouteSetTexts(headerView(ok), 'route-set-caller', 1));
    ok.set('contact', '"Bob" <sip:bob@127.0.0.1:5062>');
    expect(signedRouteSetTexts(headerView(ok), 'route-set-caller', 1)).toBeUndefined();
  });

  it('keeps no long texts, and turns a generation over by the characters it holds', () => {
    const own = new OwnSignatures(() => 0, 60_000, 1000, 3000, 1000);
    own.remember('LONG', 'via', 'k1', { text: 'x'.repeat(1000) });
    expect(own.recognise('LONG', 'via', { text: 'x'.repeat(1000) })).toBeUndefined();
    expect(own.size).toBe(0);
    const text = (i: number): string => String(i).padStart(600, '.');
    for (let i = 0; i < 12; i++) own.remember(`S${i}`, 'via', 'k1', { text: text(i) }); // four to a generation of 3000 characters
    expect(own.recognise('S0', 'via', { text: text(0) })).toBeUndefined(); // two generations ago
    expect(own.recognise('S11', 'via', { text: text(11) })).toBe('k1');
    expect(own.size).toBeLessThanOrEqual(10);
  });
});
