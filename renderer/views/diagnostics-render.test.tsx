import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TraceMessage } from '../../core/api/call-log-types.js';

// The stores read the browser's language when they load; Node 20 has no navigator.
beforeAll(() => {
  if (!('navigator' in globalThis)) Object.defineProperty(globalThis, 'navigator', { value: { language: 'en-US' }, configurable: true });
});

const ringing = [
  'SIP/2.0 180 Ringing',
  'Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKabc;rport=40000',
  'Record-Route: <sip:127.0.0.1:5060;lr;vp-rs=1.rc.k9.hs128.0.AAECAwQFBgcICQoLDA0ODw>;vp-sig=1.rr.k1.hs128.0.XUFAKrxLKna5cZ2RkBfFkg',
  'Call-ID: x@y',
  'CSeq: 1 INVITE',
  '',
  '',
].join('\r\n');

describe('diagnostics views (server-rendered markup)', () => {
  it('shows decoded signatures with kind, key id, algorithm, coverage and verdict, and highlights signed parameters', async () => {
    const { MessageInspector } = await import('./MessageInspector.js');
    const message = {
      seq: 2,
      dir: 'in',
      at: 1010,
      transport: 'udp',
      local: '127.0.0.1:40000',
      remote: '127.0.0.1:5060',
      raw: ringing,
      signatures: [
        { kind: 'record-route', header: 'Record-Route', placement: 'header-param', index: 0, version: 1, keyId: 'k1', algorithm: 'hs128', mac: 'XUFAKrxLKna5cZ2RkBfFkg', covers: [{ item: 'Record-Route', value: 'sip:127.0.0.1:5060;lr' }], verdict: 'valid' },
        { kind: 'route-set-callee', header: 'Record-Route', placement: 'uri-param', index: 0, version: 1, keyId: 'k9', algorithm: 'hs128', mac: 'AAECAwQFBgcICQoLDA0ODw', covers: [{ item: 'Record-Route', value: 'sip:127.0.0.1:5060;lr' }, { item: 'Remote-Target', value: 'sip:bob@127.0.0.1:5070' }], verdict: 'unknown-key' },
      ],
    } as TraceMessage;
    const html = renderToStaticMarkup(<MessageInspector message={message} startedAt={1000} />);
    expect(html).toContain('#2 · received · UDP 127.0.0.1:5060 → 127.0.0.1:40000 · +0.010s');
    expect(html).toMatch(/<tr class="verdict-valid"><td>record-route \(Record-Route\[0\];vp-sig\)<\/td><td>k1<\/td><td>hs128<\/td><td>Record-Route sip:127\.0\.0\.1:5060;lr<\/td><td class="verdict">valid<\/td><\/tr>/);
    expect(html).toMatch(/<tr class="verdict-unknown-key"><td>route-set-callee \(Record-Route\[0\];vp-rs\)<\/td><td>k9<\/td>.*<td>Record-Route sip:127\.0\.0\.1:5060;lr, Remote-Target sip:bob@127\.0\.0\.1:5070<\/td><td class="verdict">unknown key<\/td>/);
    expect(html.match(/<mark class="signed-param"/g)).toHaveLength(2);
    expect(html).toContain('vp-rs=1.rc.k9.hs128.0.AAECAwQFBgcICQoLDA0ODw</mark>');

    const plain = renderToStaticMarkup(<MessageInspector message={{ ...message, signatures: undefined } as TraceMessage} startedAt={1000} />);
    expect(plain).toContain('No decoded signatures for this message.');
  });

  it('draws one arrow per message with its label, offset and a signature mark', async () => {
    const { LadderDiagram } = await import('./LadderDiagram.js');
    const base = { transport: 'udp', local: '127.0.0.1:40000', remote: '127.0.0.1:5060' };
    const messages: TraceMessage[] = [
      { ...base, seq: 0, dir: 'out', at: 1000, raw: 'INVITE sip:bob@lab SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n' },
      { ...base, seq: 1, dir: 'out', at: 1500, raw: 'INVITE sip:bob@lab SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n' },
      { ...base, seq: 2, dir: 'in', at: 1700, raw: ringing, signatures: [{ kind: 'via', header: 'Via', placement: 'header-param', index: 0, version: 1, keyId: 'k1', algorithm: 'hs128', mac: 'AAAA', covers: [], verdict: 'invalid' }] } as TraceMessage,
    ];
    const html = renderToStaticMarkup(<LadderDiagram messages={messages} localEndpoints={new Set(['127.0.0.1:40000'])} selected={2} onSelect={() => undefined} />);
    expect(html.match(/class="ladder-arrow /g)).toHaveLength(3);
    expect(html).toContain('aria-label="#1 INVITE +0.500s (retransmission)"');
    expect(html).toMatch(/class="ladder-arrow in selected"[^>]*aria-pressed="true"[^>]*aria-label="#2 180 Ringing \(INVITE\) \+0\.700s"/);
    expect(html).toContain('class="ladder-sig bad">✗ sig<');
    expect(html).toContain('>this phone<');
  });
});
