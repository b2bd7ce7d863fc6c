/**
 * Strings of the encryption lock (in-call view, history rows, diagnostics pane; issue 18), in English and Japanese.
 * Kept beside strings.ts so that the lock owns its table; `translate` reads it too.
 */
const en = {
  lockTitle: 'Encryption',
  lock_encrypted: 'Encrypted',
  lock_partial: 'Partly encrypted',
  lock_none: 'Not encrypted',
  lockSignaling: 'Signalling',
  lockMedia: 'Voice',
  lockFingerprint: 'Server certificate (SHA-256)',
  lockClear: 'not encrypted ({what})',
  lockMediaPending: 'not set up yet',
  lockNoMedia: 'no voice was set up',
  lockUnknownTransport: 'transport not recorded',
};

export type EncryptionStringKey = keyof typeof en;

const ja: Record<EncryptionStringKey, string> = {
  lockTitle: '暗号化',
  lock_encrypted: '暗号化されています',
  lock_partial: '一部のみ暗号化されています',
  lock_none: '暗号化されていません',
  lockSignaling: '呼制御',
  lockMedia: '音声',
  lockFingerprint: 'サーバー証明書 (SHA-256)',
  lockClear: '暗号化なし（{what}）',
  lockMediaPending: 'まだ確立していません',
  lockNoMedia: '音声は確立されませんでした',
  lockUnknownTransport: 'トランスポートの記録なし',
};

export const encryptionStrings: Record<'en' | 'ja', Record<EncryptionStringKey, string>> = { en, ja };
