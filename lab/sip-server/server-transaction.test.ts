import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../../test/support/collect-garbage.js';
import { createResponse, parseSipMessage, type SipRequest } from '../../core/sip/message/index.js';
import type { Hop } from './server-transports.js';
import { ServerTransaction } from './server-transaction.js';

const hop = { transport: 'udp', local: { address: '127.0.0.1', port: 5060 }, remote: { address: '127.0.0.1', port: 5070 } } as unknown as Hop;
const timers = { t1: 500, t2: 4000, t4: 5000 };

function invite(bodyBytes = 0): SipRequest {
  const body = 'x'.repeat(bodyBytes);
  return parseSipMessage(
    [
      'INVITE sip:bob@127.0.0.1 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKst1',
      'From: <sip:alice@127.0.0.1>;tag=a1',
      'To: <sip:bob@127.0.0.1>',
      'Call-ID: st1',
      'CSeq: 1 INVITE',
      'Content-Type: text/plain',
      `Content-Length: ${bodyBytes}`,
      '',
      body,
    ].join('\r\n'),
  ) as SipRequest;
}

describe('ServerTransaction', () => {
  it('lets its request go at the final response: an accepted INVITE lingers 32 s with its method alone (RFC 6026 §7.1)', () => {
    const sent: string[] = [];
    const request = invite();
    const tx = new ServerTransaction('k', request, hop, (raw) => sent.push(raw), timers, () => {});
    expect(tx.request).toBe(request);
    tx.respond(createResponse(request, 180));
    expect(tx.request).toBe(request); // still proceeding: a CANCEL would need it for the 487
    tx.respond(createResponse(request, 200, undefined, 'b1'));
    expect(tx.state).toBe('accepted');
    expect(tx.method).toBe('INVITE');
    expect(() => tx.request).toThrow(/no longer kept/);
    tx.onRetransmission(); // absorbed, nothing resent
    expect(sent).toHaveLength(2);
    tx.terminate();
  });

  it('holds no answered request in memory', () => {
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    const held: ServerTransaction[] = [];
    for (let i = 0; i < 200; i++) {
      const request = invite(60_000); // 60 KB each
      const tx = new ServerTransaction(`k${i}`, request, hop, () => {}, timers, () => {});
      tx.respond(createResponse(request, 200, undefined, 'b1'));
      held.push(tx);
    }
    collectGarbage();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(4 * 1024 * 1024); // 12 MB of INVITEs are gone
    for (const tx of held) tx.terminate();
  });
});
