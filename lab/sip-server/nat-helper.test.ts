import { describe, expect, it } from 'vitest';
import { parseSipMessage, parseSipUri, type SipRequest, type SipResponse } from '../../core/sip/message/index.js';
import { NatHelper } from './nat-helper.js';
import { bindingHop } from './registrar.js';
import type { Hop } from './server-transports.js';

const sdp = (address: string, family = 'IP6'): string => ['v=0', `o=- 1 1 IN ${family} ${address}`, 's=-', `c=IN ${family} ${address}`, 't=0 0', 'm=audio 20000 RTP/AVP 0', `c=IN ${family} ${address}`, ''].join('\r\n');

function invite(contactHost: string, body: string): SipRequest {
  const raw = [
    'INVITE sip:bob@127.0.0.1:5060 SIP/2.0',
    `Via: SIP/2.0/UDP ${contactHost}:40000;branch=z9hG4bKx;rport`,
    'From: <sip:alice@127.0.0.1>;tag=a',
    'To: <sip:bob@127.0.0.1>',
    'Call-ID: nat-1',
    'CSeq: 1 INVITE',
    `Contact: <sip:alice@${contactHost}:40000>`,
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
  return parseSipMessage(raw) as SipRequest;
}

const from = (address: string, port = 40000): Hop => ({ transport: 'udp', remote: { address, port } });

describe('the lab\'s NAT helper (Kamailio nathelper: nat_uac_test, fix_nated_register, fix_nated_sdp)', () => {
  it('rewrites the SDP connection addresses of a phone whose Contact names an address it did not send from', () => {
    const nat = new NatHelper(() => true);
    const request = invite('[2001:db8:5::7]', sdp('2001:db8:5::7'));
    expect(nat.onRequest(request, from('127.0.0.1'))).toBeUndefined();
    expect(request.body.match(/^c=.*$/gm)).toEqual(['c=IN IP4 127.0.0.1', 'c=IN IP4 127.0.0.1']);
    expect(request.body).toMatch(/^o=- 1 1 IN IP6 2001:db8:5::7$/m); // the origin names the session, not where media goes
    expect(request.toString()).toContain(`Content-Length: ${Buffer.byteLength(request.body)}`);
    expect(nat.counters).toEqual({ detected: 1, sdpRewritten: 2 });
  });

  it('leaves a phone that sends from the address it writes alone, and a response from one that does not is fixed too', () => {
    const nat = new NatHelper(() => true);
    const honest = invite('127.0.0.1', sdp('127.0.0.1', 'IP4'));
    const before = honest.body;
    nat.onRequest(honest, from('127.0.0.1'));
    expect(honest.body).toBe(before);
    expect(nat.counters.detected).toBe(0);

    const body = sdp('10.0.0.9', 'IP4');
    const ok = parseSipMessage(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKx', 'From: <sip:alice@127.0.0.1>;tag=a', 'To: <sip:bob@127.0.0.1>;tag=b', 'Call-ID: nat-1', 'CSeq: 1 INVITE', 'Contact: <sip:bob@10.0.0.9:41000>', 'Content-Type: application/sdp', `Content-Length: ${body.length}`, '', body].join('\r\n')) as SipResponse;
    nat.onForwardResponse(ok, { inbound: from('127.0.0.1'), outbound: from('192.0.2.44', 41000), original: invite('127.0.0.1', '') });
    expect(ok.body.match(/^c=.*$/gm)).toEqual(['c=IN IP4 192.0.2.44', 'c=IN IP4 192.0.2.44']);
  });

  it('leaves what another proxy forwarded alone: a request with more than one Via, a response from a hop that is no registered phone', () => {
    const nat = new NatHelper(() => false);
    const forwarded = invite('[2001:db8:5::7]', sdp('2001:db8:5::7'));
    forwarded.prepend('via', 'SIP/2.0/UDP [2001:db8:5::1]:5060;branch=z9hG4bKproxy');
    const before = forwarded.body;
    nat.onRequest(forwarded, from('2001:db8:5::1', 5060));
    expect(forwarded.body).toBe(before);
    const body = sdp('10.0.0.9', 'IP4');
    const ok = parseSipMessage(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKx', 'From: <sip:alice@127.0.0.1>;tag=a', 'To: <sip:bob@127.0.0.1>;tag=b', 'Call-ID: nat-1', 'CSeq: 1 INVITE', 'Contact: <sip:bob@10.0.0.9:41000>', 'Content-Type: application/sdp', `Content-Length: ${body.length}`, '', body].join('\r\n')) as SipResponse;
    nat.onForwardResponse(ok, { inbound: from('127.0.0.1'), outbound: from('127.0.0.1', 5070), original: invite('127.0.0.1', '') });
    expect(ok.body).toBe(body);
    expect(nat.counters).toEqual({ detected: 0, sdpRewritten: 0 });
  });

  it('the registrar reaches a contact registered from the same port on another address over that flow (RFC 3581), and a third party\'s contact where it names', () => {
    const flow = from('127.0.0.1', 40000);
    expect(bindingHop(parseSipUri('sip:alice@[2001:db8:5::7]:40000'), flow)).toBe(flow);
    expect(bindingHop(parseSipUri('sip:alice@127.0.0.1:40000'), flow)).toEqual(flow);
    expect(bindingHop(parseSipUri('sip:alice@127.0.0.9:5062'), flow)).toEqual({ transport: 'udp', remote: { address: '127.0.0.9', port: 5062 } });
  });
});
