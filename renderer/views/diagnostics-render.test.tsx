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

  it('shows a message as it came, with every invisible character written out by its code point', async () => {
    const { MessageInspector } = await import('./MessageInspector.js');
    const raw = 'INVITE sip:bob@127.0.0.1 SIP/2.0\r\nFrom: "\u202Egpj.exe Ba\u200Bnk" <sip:eve@127.0.0.1>;tag=1\r\n\r\n';
    const html = renderToStaticMarkup(<MessageInspector message={{ seq: 0, dir: 'in', at: 1000, transport: 'udp', local: '127.0.0.1:40000', remote: '127.0.0.1:5060', raw } as TraceMessage} startedAt={1000} />);
    expect(html).toContain('From: &quot;<span class="invisible-char" title="U+202E">⟨U+202E⟩</span>gpj.exe Ba<span class="invisible-char" title="U+200B">⟨U+200B⟩</span>nk&quot;');
    expect(html).not.toMatch(/[\u202E\u200B]/);
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

  it('marks a message the phone threw away in the ladder and in the inspector, with why', async () => {
    const { LadderDiagram } = await import('./LadderDiagram.js');
    const { MessageInspector } = await import('./MessageInspector.js');
    const forged: TraceMessage = { seq: 0, dir: 'in', at: 1000, transport: 'udp', local: '127.0.0.1:40000', remote: '127.0.0.1:40111', raw: 'BYE sip:bob@lab SIP/2.0\r\nCSeq: 7 BYE\r\n\r\n', refused: 'STRANGER_NO_DIALOG' };
    const ladder = renderToStaticMarkup(<LadderDiagram messages={[forged]} localEndpoints={new Set(['127.0.0.1:40000'])} onSelect={() => undefined} />);
    expect(ladder).toMatch(/class="ladder-arrow in refused"[^>]*aria-label="#0 BYE \+0\.000s \(refused by this phone: STRANGER_NO_DIALOG\)"/);
    const inspector = renderToStaticMarkup(<MessageInspector message={forged} startedAt={1000} />);
    expect(inspector).toMatch(/<p class="message-refused" role="note">This phone threw this message away[^<]*<code>STRANGER_NO_DIALOG<\/code><\/p>/);
  });

  it('shows the signing proxy\'s failure counters: total, by signature and verdict, the rate against the threshold, the alerts', async () => {
    const { SigningProxyCounters } = await import('./SigningProxyCounters.js');
    // React may separate adjacent text with comments; what is read is the text
    const text = (element: Parameters<typeof renderToStaticMarkup>[0]): string => renderToStaticMarkup(element).replace(/<!-- -->/g, '');
    const counters = {
      total: 14,
      byFamily: { via: 2, 'record-route': 0, 'route-set': 12 },
      byVerdict: { invalid: 2, missing: 12 },
      perSecond: 11,
      peakPerSecond: 12,
      threshold: 10,
      alerting: true,
      alerts: [{ at: 5000, perSecond: 11, threshold: 10, last: { family: 'route-set', verdict: 'missing' as const, message: 'BYE sip:bob@127.0.0.1:9 SIP/2.0 (forged-10)' } }],
    };
    const html = text(<SigningProxyCounters reading={{ counters, readAt: 6000, from: 'http://127.0.0.1:4000/snapshot' }} />);
    expect(html).toContain('<section class="proxy-failures alerting" aria-label="Signing proxy: messages dropped">');
    expect(html).toContain('http://127.0.0.1:4000/snapshot, read');
    expect(html).toMatch(/role="alert">Alert: failures above the threshold now</);
    expect(html).toMatch(/data-proxy="total"><dt>Dropped in all<\/dt><dd>14<\/dd>/);
    expect(html).toMatch(/data-proxy="byFamily"><dt>By signature<\/dt><dd>via 2, route-set 12<\/dd>/);
    expect(html).toMatch(/data-proxy="byVerdict"><dt>By verdict<\/dt><dd>invalid 2, missing 12<\/dd>/);
    expect(html).toMatch(/data-proxy="rate"><dt>Last second \/ alert threshold<\/dt><dd>11 \/ 10<\/dd>/);
    expect(html).toMatch(/<li>[^<]*11 \/ 10 — route-set missing: BYE sip:bob@127\.0\.0\.1:9 SIP\/2\.0 \(forged-10\)<\/li>/);

    const calm = text(<SigningProxyCounters reading={{ counters: { ...counters, total: 0, byFamily: {}, byVerdict: {}, perSecond: 0, peakPerSecond: 0, alerting: false, alerts: [] }, readAt: 6000, from: 'the embedded lab' }} />);
    expect(calm).toContain('<section class="proxy-failures" ');
    expect(calm).not.toContain('role="alert"');
    expect(calm).toContain('No alert raised.');
    expect(calm).toMatch(/<dt>By signature<\/dt><dd>—<\/dd>/);

    const unreadable = text(<SigningProxyCounters reading={{ problem: 'the admin view answered 401', from: 'http://127.0.0.1:4000/snapshot' }} />);
    expect(unreadable).toMatch(/The signing proxy&#x27;s counters could not be read \(http:\/\/127\.0\.0\.1:4000\/snapshot\): the admin view answered 401/);
  });
});
