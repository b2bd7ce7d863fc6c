import type { CallEncryption } from '../../core/api/call-encryption.js';

/** What the lock says, line by line, in the current language (`t` is the view's translate function). */
export interface CallLockText {
  /** `encrypted`, `partial`, `none`: the lock's state (closed, half, open). */
  state: 'encrypted' | 'partial' | 'none';
  summary: string;
  signaling: string;
  /** The server certificate's SHA-256 fingerprint, when the signalling was TLS or WSS. */
  fingerprint?: string;
  media: string;
  /** Everything above in one sentence: the accessible name of the compact lock in a history row. */
  label: string;
}

/**
 * The lock's words for a call (issue 18): the TLS version and cipher with the server certificate's fingerprint, the
 * SRTP suite, or "not encrypted" for what went in the clear. Undefined when nothing was recorded (a call logged before
 * schema 6): no lock rather than a wrong one. `live`: a call in progress, whose media may still be coming.
 */
export function callLockText(encryption: CallEncryption, t: (key: string) => string, live = false): CallLockText | undefined {
  if (encryption.level === 'unknown') return undefined;
  const state = encryption.level;
  const summary = t(`lock_${state}`);
  const { signaling: sig, media } = encryption;
  const transport = sig?.transport?.toUpperCase();
  const signaling = !sig
    ? t('lockUnknownTransport')
    : sig.encrypted
      ? `${transport ? `${transport} · ` : ''}${sig.version} ${sig.cipher}`
      : t('lockClear').replace('{what}', transport ?? '?');
  const mediaText = !media ? t(live ? 'lockMediaPending' : 'lockNoMedia') : media.encrypted ? `SRTP · ${media.suite}` : t('lockClear').replace('{what}', 'RTP');
  const fingerprint = sig?.encrypted ? sig.fingerprint : undefined;
  const label = `${t('lockTitle')}: ${summary}. ${t('lockSignaling')}: ${signaling}${fingerprint ? `, ${t('lockFingerprint')} ${fingerprint}` : ''}. ${t('lockMedia')}: ${mediaText}.`;
  return { state, summary, signaling, ...(fingerprint !== undefined ? { fingerprint } : {}), media: mediaText, label };
}
