import { describe, expect, it } from 'vitest';
import type { CallLogDetail, TraceMessage } from './call-log-types.js';
import { callEndpoints } from './call-endpoints.js';
import { renderLadderText } from '../calllog/ladder-text.js';
import { buildLadder, layoutLadder } from './ladder.js';
import { describeSignature, traceSignatures } from './signature-view.js';
import { signedHeaderSpans, splitBySpans } from './signed-header-spans.js';

const phone = '127.0.0.1:40000';
const proxy = '127.0.0.1:5060';
const sdp = (address: string, port: number): string => `v=0\r\no=- 1 1 IN IP4 ${address}\r\ns=-\r\nc=IN IP4 ${address}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\n`;
function message(seq: number, dir: 'in' | 'out', raw: string, at = 1000 + seq * 10): TraceMessage {
  return { seq, dir, at, transport: 'udp', local: phone, remote: proxy, raw };
}
const invite = `INVITE sip:bob@lab SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK776asdhds;rport\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n\r\n${sdp('127.0.0.1', 16384)}`;
const ok = [
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK776asdhds;rport=40000;received=127.0.0.1',
  'Record-Route: <sip:127.0.0.1:5060;lr;rs-sig=AAECAwQFBgcICQoLDA0ODw>;rr-sig="k1.hmac256.5d41402abc4b2a76b9719d911017c592"',
  'Route: <sip:proxy.invalid;lr;x-opaque=Zm9vYmFyYmF6cXV4MTIzNDU2>',
  'Contact: <sip:bob@127.0.0.1:5070;transport=udp>;expires=3600',
  'CSeq: 1 INVITE',
  'Content-Type: application/sdp',
  '',
  sdp('127.0.0.1', 16500),
].join('\r\n');

describe('ladder', () => {
  it('lays out parties as columns and messages as arrows, flags retransmissions, and keeps time offsets', () => {
    const messages = [message(0, 'out', invite), message(1, 'out', invite), message(2, 'in', ok, 1250), message(3, 'out', 'ACK sip:bob@lab SIP/2.0\r\nCSeq: 1 ACK\r\n\r\n', 1260)];
    const ladder = buildLadder(messages);
    expect(ladder.columns).toEqual([phone, proxy]);
    expect(ladder.arrows.map((a) => [a.label, a.from, a.to, a.offsetMs, a.retransmission])).toEqual([
      ['INVITE', 0, 1, 0, false],
      ['INVITE', 0, 1, 10, true],
      ['200 OK (INVITE)', 1, 0, 250, false],
      ['ACK', 0, 1, 260, false],
    ]);
    const layout = layoutLadder(ladder, { columnWidth: 200, rowHeight: 30, gutter: 60, header: 40 });
    expect(layout.columns.map((c) => c.x)).toEqual([160, 360]);
    expect(layout.arrows[2]).toMatchObject({ x1: 360, x2: 160, labelX: 260, offsetLabel: '+0.250s' });
    expect(layout.arrows.map((a) => a.y)).toEqual([62.5, 92.5, 122.5, 152.5]);
    expect(layout).toMatchObject({ width: 460, height: 40 + 30 * 4.5 });
  });

  it('marks a message the phone threw away, and the answer it got, with why; in the terminal ladder too', () => {
    const forged = { ...message(1, 'in', 'BYE sip:alice@lab SIP/2.0\r\nCSeq: 7 BYE\r\n\r\n'), remote: '127.0.0.1:40111', refused: 'STRANGER_NO_DIALOG' };
    const answer = { ...message(2, 'out', 'SIP/2.0 481 Call/Transaction Does Not Exist\r\nCSeq: 7 BYE\r\n\r\n'), remote: '127.0.0.1:40111', refused: 'STRANGER_NO_DIALOG' };
    const messages = [message(0, 'out', invite), forged, answer];
    expect(buildLadder(messages).arrows.map((a) => a.refused)).toEqual([undefined, 'STRANGER_NO_DIALOG', 'STRANGER_NO_DIALOG']);
    const text = renderLadderText({ messages } as unknown as CallLogDetail);
    expect(text).toMatch(/BYE \(refused\)/);
    expect(text.split('\n').filter((line) => line.includes('refused by the phone: STRANGER_NO_DIALOG'))).toHaveLength(2);
    expect(text).not.toMatch(/INVITE \(refused\)/);
  });
});

describe('signed header spans', () => {
  it('finds signature-looking parameters of Via, Record-Route and Route (header and URI parameters), never branch or tags', () => {
    const spans = signedHeaderSpans(ok);
    expect(spans.map((s) => [s.header, s.name, s.value])).toEqual([
      ['Record-Route', 'rs-sig', 'AAECAwQFBgcICQoLDA0ODw'],
      ['Record-Route', 'rr-sig', 'k1.hmac256.5d41402abc4b2a76b9719d911017c592'],
      ['Route', 'x-opaque', 'Zm9vYmFyYmF6cXV4MTIzNDU2'],
    ]);
    for (const span of spans) expect(ok.slice(span.start, span.end)).toMatch(new RegExp(`^${span.name}=`));
    const pieces = splitBySpans(ok, spans);
    expect(pieces.map((p) => p.text).join('')).toBe(ok);
    expect(pieces.filter((p) => p.span)).toHaveLength(3);
  });

  it('reads compact and folded Via lines, and ignores the same words outside routing headers and in the body', () => {
    const raw = 'SIP/2.0 180 Ringing\r\nv: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKabcdefabcdef1234567890\r\n  ;vsig=AbCdEf0123456789xyz\r\nX-Note: ;sig=AbCdEf0123456789xyz\r\n\r\nVia: x;sig=AbCdEf0123456789xyz';
    expect(signedHeaderSpans(raw).map((s) => [s.header, s.name])).toEqual([['Via', 'vsig']]);
    expect(signedHeaderSpans('INVITE sip:a@b SIP/2.0\r\n\r\n')).toEqual([]);
  });
});

describe('signature view', () => {
  it('shows the decoded signatures a message carries: kind, key id, algorithm, what is covered, the verdict', () => {
    const withSignatures: TraceMessage = {
      ...message(0, 'in', ok),
      signatures: [
        { kind: 'record-route', header: 'Record-Route', placement: 'header-param', index: 0, version: 1, keyId: 'k1', algorithm: 'hs128', mac: 'AAAA', covers: [{ item: 'Record-Route', value: 'sip:127.0.0.1:5060;lr' }], verdict: 'valid' },
        { kind: 'route-set-callee', header: 'Record-Route', placement: 'uri-param', index: 0, version: 1, keyId: '7', algorithm: 'hs128', mac: 'BBBB', covers: [{ item: 'Remote-Target', value: 'sip:bob@127.0.0.1:5070' }] },
      ],
    };
    const views = traceSignatures(withSignatures);
    expect(views).toEqual([
      { kind: 'record-route', keyId: 'k1', algorithm: 'hs128', covered: ['Record-Route sip:127.0.0.1:5060;lr'], verdict: 'valid', header: 'Record-Route[0]', param: 'vp-sig' },
      { kind: 'route-set-callee', keyId: '7', algorithm: 'hs128', covered: ['Remote-Target sip:bob@127.0.0.1:5070'], header: 'Record-Route[0]', param: 'vp-rs' },
    ]);
    expect(views.map(describeSignature)[0]).toMatch(/^record-route key k1 hs128 over Record-Route sip:127\.0\.0\.1:5060;lr.*: valid$/);
    expect(traceSignatures(message(0, 'in', ok))).toEqual([]);
  });
});

describe('call endpoints', () => {
  it('lists the SIP sockets from the trace and the RTP addresses from SDP and the negotiated session, local side first', () => {
    const call = { id: 'c', messages: [message(0, 'out', invite), message(1, 'in', ok)], localRtp: '127.0.0.1:16384', remoteRtp: '127.0.0.1:16500' } as unknown as CallLogDetail;
    expect(callEndpoints(call).map((e) => [e.side, e.kind, e.endpoint, e.transport, e.note])).toEqual([
      ['local', 'sip', phone, 'udp', '2 messages'],
      ['local', 'rtp', '127.0.0.1:16384', 'RTP/AVP', 'session'],
      ['remote', 'sip', proxy, 'udp', '2 messages'],
      ['remote', 'rtp', '127.0.0.1:16500', 'RTP/AVP', 'session'],
    ]);
    const offerOnly = { id: 'c', messages: [message(0, 'out', invite.replace('16384', '20000'))] } as unknown as CallLogDetail;
    expect(callEndpoints(offerOnly).find((e) => e.kind === 'rtp')).toMatchObject({ side: 'local', endpoint: '127.0.0.1:20000', note: 'SDP' });
  });
});

describe('virtual window', () => {
  it('renders only the rows in view plus a margin, and asks for the next page near the end of what is loaded', async () => {
    const { virtualWindow } = await import('./virtual-window.js');
    expect(virtualWindow({ scrollTop: 0, viewportHeight: 400, rowHeight: 40, rowCount: 100_000 })).toEqual({ start: 0, end: 19, offsetTop: 0, totalHeight: 4_000_000, wantsMore: false });
    expect(virtualWindow({ scrollTop: 40 * 50_000 + 15, viewportHeight: 400, rowHeight: 40, rowCount: 100_000 })).toMatchObject({ start: 49_992, end: 50_019, offsetTop: 49_992 * 40 });
    expect(virtualWindow({ scrollTop: 40 * 150, viewportHeight: 400, rowHeight: 40, rowCount: 200 }).wantsMore).toBe(true);
    expect(virtualWindow({ scrollTop: 0, viewportHeight: 400, rowHeight: 40, rowCount: 0 })).toMatchObject({ start: 0, end: 0, wantsMore: true });
  });
});

describe('history query', () => {
  it('reads the same fields the CLI reads into a CallLogFilter, and refuses what it cannot read with a code', async () => {
    const { historyFilter } = await import('./history-query.js');
    const now = Date.parse('2026-11-24T12:00:00Z');
    expect(historyFilter({ since: '2h', until: 'now', number: ' 0312 ', result: 'busy,failed', status: '486', direction: 'outgoing', anonymous: true, callId: 'abc@x' }, now)).toEqual({
      since: now - 7_200_000,
      until: now,
      number: '0312',
      result: ['busy', 'failed'],
      status: 486,
      direction: 'outgoing',
      anonymous: true,
      sipCallId: 'abc@x',
    });
    expect(historyFilter({ since: '', number: '   ', result: [] }, now)).toEqual({});
    expect(historyFilter({ result: ['missed'] }, now)).toEqual({ result: 'missed' });
    for (const bad of [{ since: 'soon' }, { since: '1h', until: '2h' }, { result: 'exploded' }, { status: '99' }, { direction: 'sideways' }, { number: 'x'.repeat(129) }]) {
      expect(() => historyFilter(bad, now), JSON.stringify(bad)).toThrowError(expect.objectContaining({ code: expect.stringMatching(/^INVALID_(TIME|ARGUMENT)$/) }));
    }
  });
});
