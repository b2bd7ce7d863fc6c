import { describe, expect, it } from 'vitest';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { TraceRouter } from './trace-router.js';

const entry = (raw: string): SipTapEntry => ({ dir: 'in', at: 0, transport: 'udp', local: '127.0.0.1:5060', remote: '127.0.0.1:5070', raw });
const request = (line: string, callId: string): SipTapEntry => entry(`${line}\r\nCall-ID: ${callId}\r\nContent-Length: 0\r\n\r\n`);

describe('TraceRouter', () => {
  it('replays what came before a call claimed its Call-ID (an INVITE refused 422, then the one that follows), and keeps routing to a later claim when the earlier one is released', () => {
    const router = new TraceRouter(32_000, 64);
    router.tap(request('INVITE sip:bob@lab SIP/2.0', 'c1'));
    router.tap(request('ACK sip:bob@lab SIP/2.0', 'c1'));
    const first: string[] = [];
    const firstSink = (e: SipTapEntry): void => void first.push(e.raw.split('\r\n')[0]!);
    router.claim('c1', firstSink);
    expect(first).toEqual(['INVITE sip:bob@lab SIP/2.0', 'ACK sip:bob@lab SIP/2.0']);
    // a second call with the same Call-ID claims it while the first lingers; the first's release leaves it routed
    const second: string[] = [];
    const secondSink = (e: SipTapEntry): void => void second.push(e.raw.split('\r\n')[0]!);
    router.claim('c1', secondSink);
    router.release('c1', firstSink, true);
    router.tap(request('BYE sip:bob@lab SIP/2.0', 'c1'));
    expect(second).toEqual(['BYE sip:bob@lab SIP/2.0']);
    router.release('c1', secondSink, true);
    router.tap(request('BYE sip:bob@lab SIP/2.0', 'c1'));
    expect(second).toHaveLength(1); // released: the next one waits for a claim
  });
});
