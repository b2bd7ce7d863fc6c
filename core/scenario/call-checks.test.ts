import { describe, expect, it } from 'vitest';
import type { CallSnapshot } from '../api/phone-types.js';
import type { TraceSignature } from '../api/signature-types.js';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { callFailure, signatureMismatch } from './call-checks.js';

const sig = (kind: TraceSignature['kind'], verdict?: TraceSignature['verdict']): { signature: TraceSignature; where: string } => ({
  signature: { kind, header: kind === 'via' ? 'Via' : 'Record-Route', placement: 'header-param', index: 0, version: 1, keyId: 'abcdefgh', algorithm: 'hs128', mac: 'x', covers: [], ...(verdict ? { verdict } : {}) },
  where: `received INVITE (${kind})`,
});

describe('signatureMismatch', () => {
  it('valid needs at least one checked signature and no other verdict; unchecked ones count for nothing', () => {
    expect(signatureMismatch([sig('via', 'valid'), sig('route-set-callee')], { via: 'valid' })).toBeUndefined();
    expect(signatureMismatch([sig('via')], { via: 'valid' })).toBe('via: 1 unchecked');
    expect(signatureMismatch([sig('via', 'valid'), sig('via', 'invalid')], { via: 'valid' })).toMatch(/^via: 1 valid, 1 invalid \(invalid in received INVITE \(via\)\)$/);
    expect(signatureMismatch([], { record_route: 'valid' })).toBe('record_route: none found');
  });

  it('missing means none at all; another verdict means at least one has it; route_set is either kind', () => {
    expect(signatureMismatch([sig('record-route', 'valid')], { via: 'missing' })).toBeUndefined();
    expect(signatureMismatch([sig('via')], { via: 'missing' })).toBe('via: expected none, 1 unchecked');
    expect(signatureMismatch([sig('route-set-caller', 'expired'), sig('route-set-callee', 'valid')], { route_set: 'expired' })).toBeUndefined();
    expect(signatureMismatch([sig('route-set-caller', 'valid')], { route_set: 'unknown-key' })).toBe('route_set: none unknown-key, 1 valid');
  });
});

describe('callFailure', () => {
  const snapshot = (over: Partial<CallSnapshot>): CallSnapshot => ({ id: 'l1', sipCallId: 'cid', state: 'established', answeredAt: 1, ...over }) as CallSnapshot;
  const entry = (dir: 'in' | 'out', raw: string): SipTapEntry => ({ dir, at: 0, transport: 'udp', local: '127.0.0.1:1', remote: '127.0.0.1:2', raw });
  const request = (method: string, seq: number, toTag = ';tag=b', callId = 'cid'): string =>
    `${method} sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK${method}${seq}\r\nFrom: <sip:a@h>;tag=a\r\nTo: <sip:b@h>${toTag}\r\nCall-ID: ${callId}\r\nCSeq: ${seq} ${method}\r\nContent-Length: 0\r\n\r\n`;
  const ok = (seq: number, method = 'INVITE'): string => `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\nFrom: <sip:a@h>;tag=a\r\nTo: <sip:b@h>;tag=b\r\nCall-ID: cid\r\nCSeq: ${seq} ${method}\r\nContent-Length: 0\r\n\r\n`;

  it('an unanswered or never established leg failed', () => {
    expect(callFailure(undefined, undefined)).toBe('that leg never appeared');
    expect(callFailure({ name: 'alice', snapshot: snapshot({ state: 'terminated', answeredAt: undefined, status: 486, reason: 'Busy Here' }), trace: [] }, undefined)).toBe('it ended unanswered with 486 Busy Here');
    expect(callFailure({ name: 'alice', snapshot: snapshot({ state: 'calling', answeredAt: undefined }), trace: [] }, undefined)).toBe('it was never established (it is calling)');
  });

  it('an answered call failed when an in-dialog request (a 2xx\'s ACK too) never reached the other side', () => {
    const alice = { name: 'alice', snapshot: snapshot({}), trace: [entry('out', request('INVITE', 1, '')), entry('in', ok(1)), entry('out', request('ACK', 1)), entry('out', request('BYE', 2))] };
    const bobGotAll = { name: 'bob', snapshot: snapshot({}), trace: [entry('in', request('INVITE', 1, '')), entry('in', request('ACK', 1)), entry('in', request('BYE', 2))] };
    expect(callFailure(alice, bobGotAll)).toBeUndefined();
    const bobMissedAck = { ...bobGotAll, trace: [entry('in', request('INVITE', 1, '')), entry('in', request('BYE', 2))] };
    expect(callFailure(alice, bobMissedAck)).toBe('ACK (CSeq 1) from alice never reached bob');
    // The ACK of a refused re-INVITE stays with the first proxy: not looked for.
    const refused = { ...alice, trace: [...alice.trace, entry('out', request('INVITE', 3)), entry('out', request('ACK', 3))] };
    expect(callFailure(refused, { ...bobGotAll, trace: [...bobGotAll.trace, entry('in', request('INVITE', 3))] })).toBeUndefined();
    // and from the other side: Bob's BYE lost on its way to Alice
    const bobBye = { ...bobGotAll, trace: [...bobGotAll.trace, entry('out', request('BYE', 1, ';tag=a', 'cid'))] };
    expect(callFailure(alice, bobBye)).toBe('BYE (CSeq 1) from bob never reached alice');
  });

  it('an answered call failed when its BYE was refused or went unanswered past a retransmission, even with no other leg to look at (SIPp as the peer)', () => {
    const answered = [entry('out', request('INVITE', 1, '')), entry('in', ok(1)), entry('out', request('ACK', 1))];
    const leg = (...rest: SipTapEntry[]) => ({ name: 'alice', snapshot: snapshot({ state: 'terminated' }), trace: [...answered, ...rest] });
    const refused = `SIP/2.0 481 Call/Transaction Does Not Exist\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKBYE2\r\nFrom: <sip:a@h>;tag=a\r\nTo: <sip:b@h>;tag=b\r\nCall-ID: cid\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n`;
    expect(callFailure(leg(entry('out', request('BYE', 2)), entry('in', refused)), undefined)).toBe('its BYE (CSeq 2) was refused: 481 Call/Transaction Does Not Exist');
    expect(callFailure(leg(entry('out', request('BYE', 2)), entry('out', request('BYE', 2))), undefined)).toBe('its BYE (CSeq 2) got no answer (sent 2 times)');
    expect(callFailure(leg(entry('out', request('BYE', 2)), entry('out', request('BYE', 2)), entry('in', ok(2, 'BYE'))), undefined)).toBeUndefined();
    expect(callFailure(leg(entry('out', request('BYE', 2))), undefined)).toBeUndefined(); // just sent: its answer may be on the way
    // a proxy that challenges in-dialog requests: the BYE goes again with credentials (CSeq 3), and that one counts
    const challenged = refused.replace('481 Call/Transaction Does Not Exist', '407 Proxy Authentication Required');
    expect(callFailure(leg(entry('out', request('BYE', 2)), entry('in', challenged), entry('out', request('BYE', 3)), entry('in', ok(3, 'BYE'))), undefined)).toBeUndefined();
    expect(callFailure(leg(entry('out', request('BYE', 2)), entry('in', challenged)), undefined)).toBe('its BYE (CSeq 2) was refused: 407 Proxy Authentication Required');
    // a 481 to another call's BYE, or to an INVITE's CSeq, is not this BYE's
    expect(callFailure(leg(entry('out', request('BYE', 2)), entry('in', refused.replace('Call-ID: cid', 'Call-ID: other')), entry('in', ok(2, 'BYE'))), undefined)).toBeUndefined();
  });
});
