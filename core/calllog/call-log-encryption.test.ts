import { describe, expect, it } from 'vitest';
import { callEncryption, loggedCallEncryption, mediaEncryptionText, signalingTlsText } from '../api/call-encryption.js';
import type { CallMediaSnapshot, CallSignaling } from '../api/phone-types.js';
import { callFacts } from './call-facts.js';
import { CallLogStore } from './call-log-store.js';
import { callLogToJson } from './json-export.js';

const fingerprint = Array.from({ length: 32 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0')).join(':');
const media = (encryption: CallMediaSnapshot['encryption']): CallMediaSnapshot => ({ localRtp: '127.0.0.1:16384', sending: true, receiving: true, packetsSent: 1, packetsReceived: 1, packetsLost: 0, lossPercent: 0, jitterMs: 0, dtmfReceived: '', encryption });

/** A call as CallControl logs it: the signalling's words when it starts, the media's once negotiated. */
function logCall(store: CallLogStore, id: string, signaling: CallSignaling, callMedia: CallMediaSnapshot | undefined): void {
  const tls = signalingTlsText(signaling);
  store.startCall({ id, accountId: 'alice', direction: 'outgoing', sipCallId: `cid-${id}`, remoteShown: 'bob', remoteUri: 'sip:bob@lab', remoteAnonymous: false, startedAt: 1000, transport: signaling.transport, ...(tls !== undefined ? { signalingTls: tls } : {}) });
  const text = mediaEncryptionText(callMedia);
  store.updateCall(id, { result: 'answered', answeredAt: 1100, endedAt: 2100, ...(text !== undefined ? { mediaEncryption: text } : {}) });
}

describe('the call log records whether signalling and media were encrypted (issue 18)', () => {
  const cases: Array<[string, CallSignaling, CallMediaSnapshot | undefined, string]> = [
    ['tls-srtp', { transport: 'tls', tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', peerFingerprint: fingerprint } }, media({ kind: 'srtp', suite: 'AES_CM_128_HMAC_SHA1_80' }), 'encrypted'],
    ['wss-rtp', { transport: 'wss', tls: { version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256', peerFingerprint: fingerprint } }, media({ kind: 'none' }), 'partial'],
    ['udp-rtp', { transport: 'udp' }, media({ kind: 'none' }), 'none'],
    ['tls-failed', { transport: 'tls', tls: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' } }, undefined, 'encrypted'],
  ];

  it('a history row and the call detail read back what the live call showed: transport, TLS session, fingerprint, SRTP suite', () => {
    const store = CallLogStore.open(':memory:');
    for (const [id, signaling, callMedia] of cases) logCall(store, id, signaling, callMedia);
    const rows = new Map(store.listCalls({}).calls.map((row) => [row.id, row]));
    for (const [id, signaling, callMedia, level] of cases) {
      const live = callEncryption({ signaling, ...(callMedia ? { media: callMedia } : {}) });
      expect(live.level, id).toBe(level);
      expect(loggedCallEncryption(rows.get(id)!), id).toEqual(live);
      expect(loggedCallEncryption(store.getCall(id)!), id).toEqual(live);
    }
    expect(loggedCallEncryption(rows.get('tls-srtp')!)).toEqual({
      level: 'encrypted',
      signaling: { encrypted: true, transport: 'tls', version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', fingerprint },
      media: { encrypted: true, suite: 'AES_CM_128_HMAC_SHA1_80' },
    });
    expect(rows.get('tls-failed')!.mediaEncryption).toBeUndefined();
    store.close();
  });

  it('the facts and the JSON export carry both, and a clear call says none', () => {
    const store = CallLogStore.open(':memory:');
    for (const [id, signaling, callMedia] of cases) logCall(store, id, signaling, callMedia);
    const facts = new Map(callFacts(store.getCall('tls-srtp')!));
    expect(facts.get('signalling encryption')).toBe(`TLSv1.3 TLS_AES_256_GCM_SHA384 ${fingerprint}`);
    expect(facts.get('media encryption')).toBe('srtp AES_CM_128_HMAC_SHA1_80');
    expect(new Map(callFacts(store.getCall('udp-rtp')!)).get('signalling encryption')).toBe('none');
    const exported = callLogToJson([store.getCall('tls-srtp')!]);
    expect(JSON.stringify(exported)).toContain(fingerprint);
    expect(JSON.stringify(exported)).toContain('srtp AES_CM_128_HMAC_SHA1_80');
    store.close();
  });
});
