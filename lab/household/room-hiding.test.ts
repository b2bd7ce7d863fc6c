import { describe, expect, it } from 'vitest';
import { parseSipMessage, type SipRequest, type SipResponse } from '../../core/sip/message/index.js';
import { RoomHiding } from './room-hiding.js';

const gk = { address: '203.0.113.1', port: 5060 };
const hiding = (): RoomHiding => new RoomHiding(() => gk, (host, port) => host === gk.address && (port ?? 5060) === gk.port);
const sdp = 'v=0\r\no=- 1 1 IN IP4 10.77.1.2\r\ns=-\r\nc=IN IP4 10.77.1.2\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
const message = (lines: string[], body = ''): string => `${lines.join('\r\n')}\r\n${body ? 'Content-Type: application/sdp\r\n' : ''}Content-Length: ${body.length}\r\n\r\n${body}`;

/** The terminal's INVITE as the gatekeeper forwards it out: its Via and Record-Route on top of the room's. */
const outgoingInvite = (): SipRequest =>
  parseSipMessage(
    message(
      [
        'INVITE sip:ext@outside.lab SIP/2.0',
        'Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKgk;rport',
        'Via: SIP/2.0/UDP 10.77.1.1:5070;branch=z9hG4bKroom;received=10.77.1.1;rport=5070',
        'Via: SIP/2.0/UDP 10.77.1.2:40010;branch=z9hG4bKt1;received=10.77.1.2;rport=40010',
        'Record-Route: <sip:203.0.113.1:5060;transport=udp;lr>',
        'Record-Route: <sip:10.77.1.1:5070;transport=udp;lr>',
        'From: <sip:100-1101-1201-1@household.lab>;tag=a',
        'To: <sip:ext@outside.lab>',
        'Call-ID: c1',
        'CSeq: 1 INVITE',
        'Contact: <sip:100-1101-1201-1@10.77.1.2:40010;transport=udp>',
        'Max-Forwards: 68',
      ],
      sdp,
    ),
  ) as SipRequest;

/** Seed 001 Fig. 4 / ¶[42]: the outside sees the building's public address only; what comes back finds its way in. */
describe('the gatekeeper hiding its rooms (room-hiding.ts)', () => {
  it('a request leaving: only its own Via, its own Record-Route with a token, the Contact and SDP at the public address', () => {
    const h = hiding();
    const original = outgoingInvite();
    const out = original.clone();
    h.outwardRequest(out, 1);
    const text = out.toString();
    expect(text).not.toMatch(/10\.77\./);
    expect(out.getAll('via')).toEqual(['SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKgk;rport']);
    expect(out.getAll('record-route')).toEqual([expect.stringMatching(/^<sip:203\.0\.113\.1:5060;transport=udp;lr;vp-rooms=\w+>$/)]);
    expect(out.get('contact')).toMatch(/^<sip:100-1101-1201-1@203\.0\.113\.1:5060;transport=udp;vp-contact=\w+>$/);
    expect(out.body).toContain('c=IN IP4 203.0.113.1\r\n');
    expect(out.body).toContain('o=- 1 1 IN IP4 203.0.113.1\r\n');
    expect(out.body).toContain('m=audio 40000 RTP/AVP 0'); // the port is the kernel NAT's to keep
    expect(h.counters).toMatchObject({ vias: 2, recordRoutes: 1, contacts: 1, sdp: 1 });

    // the 200 coming back in: the Vias of the request as it arrived, and the room's Record-Route entry after ours
    const ourEntry = out.getAll('record-route')[0]!;
    const answer = parseSipMessage(message(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKgk;rport', 'Record-Route: <sip:203.0.113.2:5060;lr>', `Record-Route: ${ourEntry}`, 'From: <sip:100-1101-1201-1@household.lab>;tag=a', 'To: <sip:ext@outside.lab>;tag=b', 'Call-ID: c1', 'CSeq: 1 INVITE', 'Contact: <sip:ext@203.0.113.2:5062>'])) as SipResponse;
    answer.shift('via'); // the proxy takes its own off before the hook
    h.inwardResponse(answer, original);
    expect(answer.getAll('via')).toEqual(original.getAll('via'));
    expect(answer.getAll('record-route')).toEqual(['<sip:203.0.113.2:5060;lr>', ourEntry, '<sip:10.77.1.1:5070;transport=udp;lr>']);

    // the callee's BYE from outside: Route [ours] and the Contact token as Request-URI; the room's route comes back
    const bye = parseSipMessage(message([`BYE ${/<(.*)>/.exec(out.get('contact')!)![1]} SIP/2.0`, 'Via: SIP/2.0/UDP 203.0.113.2:5060;branch=z9hG4bKo', `Route: ${ourEntry}`, 'From: <sip:ext@outside.lab>;tag=b', 'To: <sip:100-1101-1201-1@household.lab>;tag=a', 'Call-ID: c1', 'CSeq: 1 BYE', 'Max-Forwards: 69'])) as SipRequest;
    h.inboundRequest(bye);
    expect(bye.uri).toBe('sip:100-1101-1201-1@10.77.1.2:40010;transport=udp');
    expect(bye.getAll('route')).toEqual([ourEntry, '<sip:10.77.1.1:5070;transport=udp;lr>']);
  });

  it('a response leaving: the rooms\' Record-Route entries above its own come off; the caller outside routes back through it', () => {
    const h = hiding();
    // the terminal's 200 to a call from outside: Record-Route [room, ours, outside] as the terminal got them
    const answer = parseSipMessage(
      message(
        ['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 203.0.113.2:5060;branch=z9hG4bKo', 'Record-Route: <sip:10.77.1.1:5070;transport=udp;lr>', 'Record-Route: <sip:203.0.113.1:5060;transport=udp;lr>', 'Record-Route: <sip:203.0.113.2:5060;lr>', 'From: <sip:ext@outside.lab>;tag=b', 'To: <sip:100-1101-1201-1@household.lab>;tag=a', 'Call-ID: c2', 'CSeq: 1 INVITE', 'Contact: <sip:100-1101-1201-1@10.77.1.2:40010;transport=udp>'],
        sdp,
      ),
    ) as SipResponse;
    h.outwardResponse(answer);
    expect(answer.toString()).not.toMatch(/10\.77\./);
    const entries = answer.getAll('record-route');
    expect(entries).toHaveLength(2);
    expect(entries[1]).toBe('<sip:203.0.113.2:5060;lr>');
    // the caller's route set is the Record-Route reversed: [outside, ours]; ours brings the room's entry back after it
    const ack = parseSipMessage(message([`ACK ${/<(.*)>/.exec(answer.get('contact')!)![1]} SIP/2.0`, 'Via: SIP/2.0/UDP 203.0.113.2:5060;branch=z9hG4bKa', `Route: ${entries[0]}`, 'From: <sip:ext@outside.lab>;tag=b', 'To: <sip:100-1101-1201-1@household.lab>;tag=a', 'Call-ID: c2', 'CSeq: 1 ACK', 'Max-Forwards: 69'])) as SipRequest;
    h.inboundRequest(ack);
    expect(ack.getAll('route')).toEqual([entries[0], '<sip:10.77.1.1:5070;transport=udp;lr>']);
    expect(ack.uri).toBe('sip:100-1101-1201-1@10.77.1.2:40010;transport=udp');
  });

  it('a token it never gave is counted and changes nothing; a request from outside without tokens is left alone', () => {
    const h = hiding();
    const forged = parseSipMessage(message(['BYE sip:x@203.0.113.1:5060;vp-contact=nothing SIP/2.0', 'Via: SIP/2.0/UDP 203.0.113.2:5060;branch=z9hG4bKf', 'Route: <sip:203.0.113.1:5060;lr;vp-rooms=nothing>', 'From: <sip:ext@outside.lab>;tag=b', 'To: <sip:x@household.lab>;tag=a', 'Call-ID: c3', 'CSeq: 1 BYE', 'Max-Forwards: 69'])) as SipRequest;
    h.inboundRequest(forged);
    expect(forged.uri).toBe('sip:x@203.0.113.1:5060;vp-contact=nothing');
    expect(forged.getAll('route')).toEqual(['<sip:203.0.113.1:5060;lr;vp-rooms=nothing>']);
    expect(h.counters.unknownTokens).toBe(2);
    const plain = parseSipMessage(message(['INVITE sip:100-1101-1201-1@household.lab SIP/2.0', 'Via: SIP/2.0/UDP 203.0.113.2:5060;branch=z9hG4bKp', 'From: <sip:ext@outside.lab>;tag=b', 'To: <sip:100-1101-1201-1@household.lab>', 'Call-ID: c4', 'CSeq: 1 INVITE', 'Max-Forwards: 69'])) as SipRequest;
    const before = plain.toString();
    h.inboundRequest(plain);
    expect(plain.toString()).toBe(before);
  });
});
