import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { callEncryption, loggedCallEncryption } from '../../core/api/call-encryption.js';
import type { CallLogDetail, CallLogEntry } from '../../core/api/call-log-types.js';
import type { CallMediaSnapshot, CallSnapshot } from '../../core/api/phone-types.js';
import { callLockText } from '../calls/call-lock-text.js';
import { encryptionStrings } from '../i18n/encryption-strings.js';
import { translate } from '../i18n/strings.js';

beforeAll(() => {
  if (!('navigator' in globalThis)) Object.defineProperty(globalThis, 'navigator', { value: { language: 'en-US' }, configurable: true });
});

function seed<T extends object>(store: { setState(partial: Partial<T>): void; getInitialState(): T }, partial: Partial<T>): void {
  store.setState(partial);
  Object.assign(store.getInitialState(), partial);
}

const fingerprint = Array.from({ length: 32 }, (_, i) => (i * 7 + 16).toString(16).toUpperCase().padStart(2, '0').slice(-2)).join(':');
const tls = { transport: 'tls' as const, tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', peerFingerprint: fingerprint } };
const media = (encryption: CallMediaSnapshot['encryption']): CallMediaSnapshot => ({ localRtp: '127.0.0.1:16384', sending: true, receiving: true, packetsSent: 1, packetsReceived: 1, packetsLost: 0, lossPercent: 0, jitterMs: 0, dtmfReceived: '', encryption });
const srtp = media({ kind: 'srtp', suite: 'AES_CM_128_HMAC_SHA1_80' });
const en = (key: string): string => translate('en', key);
const ja = (key: string): string => translate('ja', key);

const snapshot = (change: Partial<CallSnapshot>): CallSnapshot => ({
  id: 'c1',
  accountId: 'alice',
  direction: 'outgoing',
  state: 'established',
  remote: { shown: 'bob', uri: 'sip:bob@lab', anonymous: false },
  sipCallId: 'x',
  startedAt: 1,
  answeredAt: 2,
  localHold: false,
  remoteHold: false,
  muted: false,
  ...change,
});
const entry = (change: Partial<CallLogEntry>): CallLogEntry => ({ id: 'call-1', accountId: 'alice', direction: 'outgoing', sipCallId: 'x', remoteShown: 'bob', remoteUri: 'sip:bob@lab', remoteUser: 'bob', remoteAnonymous: false, startedAt: 1000, result: 'answered', ...change });

describe('the encryption lock (issue 18)', () => {
  it('says TLS with its session and certificate fingerprint and the SRTP suite, or what went in the clear, in English and Japanese', () => {
    const closed = callLockText(callEncryption({ signaling: tls, media: srtp }), en, true)!;
    expect(closed).toEqual({
      state: 'encrypted',
      summary: 'Encrypted',
      signaling: 'TLS · TLSv1.3 TLS_AES_256_GCM_SHA384',
      fingerprint,
      media: 'SRTP · AES_CM_128_HMAC_SHA1_80',
      label: `Encryption: Encrypted. Signalling: TLS · TLSv1.3 TLS_AES_256_GCM_SHA384, Server certificate (SHA-256) ${fingerprint}. Voice: SRTP · AES_CM_128_HMAC_SHA1_80.`,
    });
    // ringing over TLS, no media yet: the lock is closed on the signalling, the voice "not set up yet"
    expect(callLockText(callEncryption({ signaling: tls }), en, true)).toMatchObject({ state: 'encrypted', media: 'not set up yet' });
    // TLS but the peer declined SRTP (media encryption "preferred"): partly encrypted, the voice said to be in the clear
    expect(callLockText(callEncryption({ signaling: tls, media: media({ kind: 'none' }) }), en)).toMatchObject({ state: 'partial', summary: 'Partly encrypted', media: 'not encrypted (RTP)' });
    const open = callLockText(callEncryption({ signaling: { transport: 'udp' }, media: media({ kind: 'none' }) }), en)!;
    expect(open).toMatchObject({ state: 'none', summary: 'Not encrypted', signaling: 'not encrypted (UDP)', media: 'not encrypted (RTP)' });
    expect(open.fingerprint).toBeUndefined();
    expect(callLockText(callEncryption({ signaling: { transport: 'udp' }, media: media({ kind: 'none' }) }), ja)).toMatchObject({ summary: '暗号化されていません', signaling: '暗号化なし（UDP）' });
    expect(callLockText(callEncryption({ signaling: tls, media: srtp }), ja)!.label).toBe(`暗号化: 暗号化されています. 呼制御: TLS · TLSv1.3 TLS_AES_256_GCM_SHA384, サーバー証明書 (SHA-256) ${fingerprint}. 音声: SRTP · AES_CM_128_HMAC_SHA1_80.`);
    // a call logged before the log recorded any of it: no lock rather than a wrong one
    expect(callLockText(loggedCallEncryption({}), en)).toBeUndefined();
    expect(Object.keys(encryptionStrings.ja).sort()).toEqual(Object.keys(encryptionStrings.en).sort());
  });

  it('the in-call view shows the closed lock with the suite and fingerprint, and the open lock for a call in the clear', async () => {
    const { ActiveCall } = await import('./ActiveCall.js');
    const html = renderToStaticMarkup(<ActiveCall call={snapshot({ signaling: tls, media: srtp })} />);
    expect(html).toMatch(/<section class="call-lock lock-encrypted" aria-label="Encryption: Encrypted\. [^"]*" data-lock="encrypted"><p class="lock-summary"><svg[^>]*class="icon-lock"/);
    expect(html).toContain(`<code class="lock-fingerprint">${fingerprint}</code>`);
    expect(html).toContain('<dd class="lock-media">SRTP · AES_CM_128_HMAC_SHA1_80</dd>');
    const clear = renderToStaticMarkup(<ActiveCall call={snapshot({ signaling: { transport: 'udp' }, media: media({ kind: 'none' }) })} />);
    expect(clear).toMatch(/class="call-lock lock-none"[^>]*><p class="lock-summary"><svg[^>]*class="icon-lock-open"[^>]*>.*<strong>Not encrypted<\/strong>/);
    expect(clear).not.toContain('lock-fingerprint');
  });

  it('each history row carries a compact lock whose accessible name says it all; the diagnostics pane shows it in full', async () => {
    const { History } = await import('./History.js');
    const { CallDiagnostics } = await import('./CallDiagnostics.js');
    const { useHistory } = await import('../store/history-store.js');
    const logged = { transport: 'tls', signalingTls: `TLSv1.3 TLS_AES_256_GCM_SHA384 ${fingerprint}`, mediaEncryption: 'srtp AES_CM_128_HMAC_SHA1_32' };
    seed(useHistory, { rows: [entry({ id: 'call-1', ...logged }), entry({ id: 'call-2', transport: 'udp', mediaEncryption: 'none' }), entry({ id: 'call-3' })], loading: false });
    const rows = renderToStaticMarkup(<History />).split('<li ').slice(1);
    expect(rows[0]).toMatch(new RegExp(`<span class="call-lock compact lock-encrypted" role="img" aria-label="Encryption: Encrypted\\. Signalling: TLS · TLSv1\\.3 TLS_AES_256_GCM_SHA384, Server certificate \\(SHA-256\\) ${fingerprint}\\. Voice: SRTP · AES_CM_128_HMAC_SHA1_32\\."`));
    expect(rows[1]).toContain('role="img" aria-label="Encryption: Not encrypted. Signalling: not encrypted (UDP). Voice: not encrypted (RTP)."');
    expect(rows[2]).not.toContain('call-lock');
    const detail: CallLogDetail = { ...entry({ id: 'call-1', ...logged }), messages: [] };
    seed(useHistory, { selectedId: 'call-1', detail });
    const pane = renderToStaticMarkup(<CallDiagnostics />);
    expect(pane).toMatch(/<section class="call-lock lock-encrypted"[^>]*>.*<dd class="lock-signaling">TLS · TLSv1\.3 TLS_AES_256_GCM_SHA384<\/dd>.*<code class="lock-fingerprint">[0-9A-F:]{95}<\/code>.*<dd class="lock-media">SRTP · AES_CM_128_HMAC_SHA1_32<\/dd>.*<dl class="call-facts">/);
  });
});
