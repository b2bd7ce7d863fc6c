import { describe, expect, it } from 'vitest';
import { natAddresses, natContactParams } from '../../core/lease/nat-contact.js';
import { parseNameAddr, parseSipMessage, type SipRequest, type SipResponse } from '../../core/sip/message/index.js';
import type { Binding, Registrar } from '../sip-server/registrar.js';
import type { Hop } from '../sip-server/server-transports.js';
import { TriangleRouter } from './triangle-router.js';

const NAT = '198.51.100.7';
const udp = (address: string, port: number): Hop => ({ transport: 'udp', remote: { address, port } });

interface Phone {
  user: string;
  /** Where its messages come from (after the NAT). */
  hop: Hop;
  /** Its own address and SIP port (the Contact). */
  own: { address: string; port: number };
  /** What its REGISTER declared, when it is behind a service gateway. */
  declared?: { private: string; public: string; port: number };
}

const alice: Phone = { user: 'alice', hop: udp(NAT, 20019), own: { address: '10.77.0.21', port: 20019 }, declared: { private: '10.77.0.21', public: NAT, port: 20019 } };
const bob: Phone = { user: 'bob', hop: udp(NAT, 20039), own: { address: '10.77.0.22', port: 20039 }, declared: { private: '10.77.0.22', public: NAT, port: 20039 } };
const carol: Phone = { user: 'carol', hop: udp('203.0.113.9', 5062), own: { address: '203.0.113.9', port: 5062 } };

function binding(phone: Phone): Binding {
  const params = phone.declared ? `;${natContactParams(natAddresses(phone.declared.private, phone.declared.port, phone.declared.public)).join(';')}` : '';
  const contact = parseNameAddr(`<sip:${phone.user}@${phone.own.address}:${phone.own.port}>${params}`);
  return { user: phone.user, contact, key: `${phone.user}`, callId: 'r', cseq: 1, expiresAt: Date.now() + 60_000, registeredAt: Date.now(), hop: phone.hop };
}

function router(...phones: Phone[]): TriangleRouter {
  const triangle = new TriangleRouter();
  const at = (hop: Hop): Binding | undefined => phones.map(binding).find((b) => b.hop.transport === hop.transport && b.hop.remote.address === hop.remote.address && b.hop.remote.port === hop.remote.port);
  triangle.registrar = { bindingAt: at } as unknown as Registrar;
  return triangle;
}

/** An SDP body as the phone wrote it, its c= already pointed at the NAT's address when the NAT helper fixed it. */
function sdp(phone: Phone, connection = phone.own.address): string {
  return ['v=0', `o=- 1 1 IN IP4 ${phone.own.address}`, 's=-', `c=IN IP4 ${connection}`, 't=0 0', 'm=audio 20002 RTP/AVP 0', ''].join('\r\n');
}

function invite(from: Phone, to: Phone, body: string, toTag = ''): SipRequest {
  return parseSipMessage(
    [
      `INVITE sip:${to.user}@${to.own.address}:${to.own.port} SIP/2.0`,
      `Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKproxy`,
      `From: <sip:${from.user}@lab>;tag=f1`,
      `To: <sip:${to.user}@lab>${toTag}`,
      'Call-ID: call-1',
      'CSeq: 1 INVITE',
      `Contact: <sip:${from.user}@${from.own.address}:${from.own.port}>`,
      'Content-Type: application/sdp',
      `Content-Length: ${body.length}`,
      '',
      body,
    ].join('\r\n'),
  ) as SipRequest;
}

function ok(from: Phone, body: string): SipResponse {
  return parseSipMessage(
    ['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx', 'From: <sip:a@lab>;tag=f1', 'To: <sip:b@lab>;tag=t1', 'Call-ID: call-1', 'CSeq: 1 INVITE', `Contact: <sip:${from.user}@${from.own.address}:${from.own.port}>`, 'Content-Type: application/sdp', `Content-Length: ${body.length}`, '', body].join('\r\n'),
  ) as SipResponse;
}

const addresses = (message: SipRequest | SipResponse): { contact: string; o: string; c: string } => ({
  contact: /@([^:>]+):/.exec(message.get('contact')!)![1]!,
  o: /^o=.* IN IP4 (\S+)$/m.exec(message.body)![1]!,
  c: /^c=IN IP4 (\S+)$/m.exec(message.body)![1]!,
});

describe('the triangle rule applied by the lab proxy (seed 003 Fig. 11)', () => {
  it('two phones behind the same public address are handed each other\'s private address in Contact and SDP, both ways and in later offers', () => {
    const triangle = router(alice, bob);
    const request = invite(alice, bob, sdp(alice, NAT));
    triangle.onForwardRequest(request, { inbound: alice.hop, outbound: bob.hop, original: request.clone() });
    expect(addresses(request)).toEqual({ contact: '10.77.0.21', o: '10.77.0.21', c: '10.77.0.21' });
    expect(request.body).toContain('m=audio 20002 '); // ports untouched
    const answer = ok(bob, sdp(bob, NAT));
    triangle.onForwardResponse(answer, { inbound: alice.hop, outbound: bob.hop, original: request });
    expect(addresses(answer)).toEqual({ contact: '10.77.0.22', o: '10.77.0.22', c: '10.77.0.22' });
    // a re-INVITE from the callee in the same dialog
    const reinvite = invite(bob, alice, sdp(bob, NAT), ';tag=f1');
    triangle.onForwardRequest(reinvite, { inbound: bob.hop, outbound: alice.hop, original: reinvite.clone() });
    expect(addresses(reinvite).c).toBe('10.77.0.22');
    expect(triangle.snapshot()).toEqual([expect.objectContaining({ caller: 'alice', callee: 'bob', path: 'private', applied: true })]);
  });

  it('a phone behind the gateway and one outside are handed public addresses: the inside phone\'s private one never goes out', () => {
    const triangle = router(alice, carol);
    const request = invite(alice, carol, sdp(alice, NAT));
    triangle.onForwardRequest(request, { inbound: alice.hop, outbound: carol.hop, original: request.clone() });
    expect(addresses(request)).toEqual({ contact: NAT, o: NAT, c: NAT });
    expect(request.get('contact')).toBe('<sip:alice@198.51.100.7:20019>'); // the port is kept: NAPPT keeps ports
    expect(request.toString()).not.toContain('10.77.0.21');
    const answer = ok(carol, sdp(carol));
    triangle.onForwardResponse(answer, { inbound: alice.hop, outbound: carol.hop, original: request });
    expect(addresses(answer)).toEqual({ contact: '203.0.113.9', o: '203.0.113.9', c: '203.0.113.9' });
    // the other way round: carol calls alice, alice's answer goes out with the public address
    const back = router(alice, carol);
    const toAlice = invite(carol, alice, sdp(carol));
    back.onForwardRequest(toAlice, { inbound: carol.hop, outbound: alice.hop, original: toAlice.clone() });
    const fromAlice = ok(alice, sdp(alice, NAT));
    back.onForwardResponse(fromAlice, { inbound: carol.hop, outbound: alice.hop, original: toAlice });
    expect(addresses(fromAlice)).toEqual({ contact: NAT, o: NAT, c: NAT });
    expect(back.snapshot()).toEqual([expect.objectContaining({ caller: 'carol', callee: 'alice', path: 'public', applied: true })]);
  });

  it('declarations not backed by the packets (no NAT in the path, or a public address the phone is not at) are recorded, not applied', () => {
    // the embedded lab: the gateway's addresses are a model, the phones really come from loopback
    const loopAlice: Phone = { ...alice, hop: udp('127.0.0.1', 20019) };
    const loopBob: Phone = { ...bob, hop: udp('127.0.0.1', 20039) };
    const triangle = router(loopAlice, loopBob);
    const request = invite(loopAlice, loopBob, sdp(loopAlice, '127.0.0.1'));
    const before = request.toString();
    triangle.onForwardRequest(request, { inbound: loopAlice.hop, outbound: loopBob.hop, original: request.clone() });
    expect(request.toString()).toBe(before);
    expect(triangle.snapshot()).toEqual([expect.objectContaining({ path: 'private', applied: false })]);
    // mallory behind the same NAT declares a public port that is not the one her packets come from
    const mallory: Phone = { user: 'mallory', hop: udp(NAT, 20059), own: { address: '10.77.0.23', port: 20059 }, declared: { private: '10.77.0.66', public: NAT, port: 20099 } };
    const lied = router(mallory, bob);
    const fromMallory = invite(mallory, bob, sdp(mallory, NAT));
    lied.onForwardRequest(fromMallory, { inbound: mallory.hop, outbound: bob.hop, original: fromMallory.clone() });
    expect(addresses(fromMallory).c).toBe(NAT);
    expect(fromMallory.toString()).not.toContain('10.77.0.66');
  });

  it('a call between two phones that declared nothing (no service gateway) is left alone and not recorded', () => {
    const dave: Phone = { user: 'dave', hop: udp('203.0.113.10', 5060), own: { address: '203.0.113.10', port: 5060 } };
    const triangle = router(carol, dave);
    const request = invite(carol, dave, sdp(carol));
    const before = request.toString();
    triangle.onForwardRequest(request, { inbound: carol.hop, outbound: dave.hop, original: request.clone() });
    expect(request.toString()).toBe(before);
    expect(triangle.snapshot()).toEqual([]);
  });
});
