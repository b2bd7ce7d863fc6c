import { describe, expect, it } from 'vitest';
import type { CapturedSip } from '../test/support/capture-scan.js';
import { wireRate, wireTimes } from './wire-timing.js';

const sip = (at: number, srcPort: number, dstPort: number, raw: string): CapturedSip => ({
  at,
  src: '127.0.0.1',
  srcPort,
  dst: '127.0.0.1',
  dstPort,
  raw,
  callId: /^Call-ID:\s*(\S+)/im.exec(raw)?.[1],
});
const invite = (callId: string) => `INVITE sip:bob@127.0.0.1 SIP/2.0\r\nCall-ID: ${callId}\r\nCSeq: 1 INVITE\r\n\r\n`;
const response = (status: string, callId: string, method = 'INVITE') => `SIP/2.0 ${status}\r\nCall-ID: ${callId}\r\nCSeq: 1 ${method}\r\n\r\n`;

describe('request → final response on the wire', () => {
  it('times the first INVITE to the 200 on the caller–server leg only', () => {
    const times = wireTimes(
      [
        sip(1000, 6000, 5060, invite('a')),
        sip(1001, 5060, 7000, invite('a')), // forwarded to the callee: another leg
        sip(1001.5, 5060, 6000, response('100 Trying', 'a')),
        sip(1002, 7000, 5060, response('200 OK', 'a')),
        sip(1500, 6000, 5060, invite('a')), // a retransmission does not restart the clock
        sip(1003.25, 5060, 6000, response('200 OK', 'a')),
        sip(2000, 6000, 5060, invite('b')),
        sip(2004, 5060, 6000, response('200 OK', 'b', 'BYE')), // another transaction's 200
        sip(2007, 5060, 6000, response('200 OK', 'b')),
      ].sort((x, y) => x.at - y.at),
      { serverPort: 5060, method: 'INVITE', status: 200 },
    );
    expect(times).toEqual([3.25, 7]);
  });

  it('times the callee: the INVITE the server forwarded to it → its 180, on that leg only', () => {
    const times = wireTimes(
      [
        sip(1000, 6000, 5060, invite('a')),
        sip(1001, 5060, 7000, invite('a')),
        sip(1001.4, 7000, 5060, response('100 Trying', 'a')),
        sip(1001.75, 7000, 5060, response('180 Ringing', 'a')),
        sip(1002, 5060, 6000, response('180 Ringing', 'a')), // relayed to the caller: the caller's leg
        sip(2000, 6000, 5060, invite('b')),
        sip(2003, 5060, 6000, response('180 Ringing', 'b')), // never forwarded: no callee time
      ],
      { serverPort: 5060, method: 'INVITE', status: 180, side: 'callee' },
    );
    expect(times).toEqual([0.75]);
  });

  it('rates the INVITEs started on the wire: first copies to the server, (n - 1) over first to last', () => {
    const rate = wireRate(
      [
        sip(1000, 6000, 5060, invite('a')),
        sip(1001, 5060, 7000, invite('a')), // the forwarded copy: not a start
        sip(1010, 6000, 5060, invite('b')),
        sip(1500, 6000, 5060, invite('a')), // a retransmission: not a start
        sip(1020, 6000, 5060, invite('c')),
      ].sort((x, y) => x.at - y.at),
      { serverPort: 5060, method: 'INVITE' },
    );
    expect(rate).toBe(100); // 3 INVITEs 10 ms apart
  });
});
