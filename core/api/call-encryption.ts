import type { CallLogEntry } from './call-log-types.js';
import type { CallMediaSnapshot, CallSignaling, CallSnapshot } from './phone-types.js';

/**
 * Whether a call's signalling and media were encrypted, as the in-call view, the history rows and the diagnostics
 * pane show it (issue 18), from a live call or from its call-log entry. The call log keeps it as two texts (schema
 * 6); they are written and read here, side by side.
 */
export interface CallEncryption {
  /** `encrypted`: TLS/WSS signalling and SRTP media; `partial`: one of them; `none`: neither; `unknown`: nothing recorded. */
  level: 'encrypted' | 'partial' | 'none' | 'unknown';
  signaling: { encrypted: true; transport?: string; version: string; cipher: string; fingerprint?: string } | { encrypted: false; transport?: string } | undefined;
  /** Undefined until media was negotiated (or when the call never had any). */
  media: { encrypted: true; suite: string } | { encrypted: false } | undefined;
}

/** The call log's words for TLS signalling: `TLSv1.3 TLS_AES_256_GCM_SHA384 AB:CD:…` (the fingerprint when known). */
export function signalingTlsText(signaling: CallSignaling | undefined): string | undefined {
  const tls = signaling?.tls;
  return tls ? [tls.version, tls.cipher, tls.peerFingerprint].filter((part) => part !== undefined).join(' ') : undefined;
}

/** The call log's words for the media: `srtp AES_CM_128_HMAC_SHA1_80`, or `none` for plain RTP. */
export function mediaEncryptionText(media: CallMediaSnapshot | undefined): string | undefined {
  if (!media) return undefined;
  return media.encryption.kind === 'srtp' ? `srtp ${media.encryption.suite}` : 'none';
}

/** A SHA-256 fingerprint as TLS tools print it: 32 hex bytes joined by colons. */
const fingerprintPattern = /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/i;

function level(signaling: CallEncryption['signaling'], media: CallEncryption['media']): CallEncryption['level'] {
  if (!signaling && !media) return 'unknown';
  const encrypted = [signaling, media].filter((part) => part?.encrypted === true).length;
  // media not negotiated yet: the signalling alone decides, so a ringing TLS call shows its lock already
  if (encrypted === 2 || (encrypted === 1 && media === undefined && signaling?.encrypted)) return 'encrypted';
  return encrypted === 0 ? 'none' : 'partial';
}

function parsed(transport: string | undefined, tlsText: string | undefined, mediaText: string | undefined): CallEncryption {
  let signaling: CallEncryption['signaling'];
  const tls = tlsText?.split(' ').filter((part) => part !== '');
  if (tls && tls.length >= 2) {
    const fingerprint = tls[2] !== undefined && fingerprintPattern.test(tls[2]) ? tls[2].toUpperCase() : undefined;
    signaling = { encrypted: true, version: tls[0]!, cipher: tls[1]!, ...(transport !== undefined ? { transport } : {}), ...(fingerprint !== undefined ? { fingerprint } : {}) };
  } else if (transport !== undefined) {
    signaling = { encrypted: false, transport };
  }
  let media: CallEncryption['media'];
  if (mediaText?.startsWith('srtp ')) media = { encrypted: true, suite: mediaText.slice(5).trim() };
  else if (mediaText !== undefined) media = { encrypted: false };
  return { level: level(signaling, media), signaling, media };
}

/** A call in progress (its snapshot). */
export function callEncryption(call: Pick<CallSnapshot, 'signaling' | 'media'>): CallEncryption {
  return parsed(call.signaling?.transport, signalingTlsText(call.signaling), mediaEncryptionText(call.media));
}

/** A logged call (its history row or diagnostics detail). */
export function loggedCallEncryption(call: Pick<CallLogEntry, 'transport' | 'signalingTls' | 'mediaEncryption'>): CallEncryption {
  return parsed(call.transport, call.signalingTls, call.mediaEncryption);
}
