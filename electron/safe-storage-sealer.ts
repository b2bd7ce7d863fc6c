import type { SafeStorage } from 'electron';
import type { SecretSealer } from '../core/phone/secret-sealer.js';

/** The parts of Electron's safeStorage the sealer uses (a fake in tests). */
export type SafeStorageLike = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString' | 'getSelectedStorageBackend'>;

/**
 * Passwords in settings.json sealed by the OS keychain through Electron's safeStorage. On Linux, the `basic_text`
 * backend (no keyring found) encrypts with a key built into Chromium, which protects nothing: it counts as no
 * keychain, and the password stays in the user-only file as before. Call only after the app is ready.
 */
export function safeStorageSealer(safeStorage: SafeStorageLike, platform: NodeJS.Platform = process.platform): SecretSealer {
  return {
    scheme: 'safeStorage',
    available: () => safeStorage.isEncryptionAvailable() && (platform !== 'linux' || !['basic_text', 'unknown'].includes(safeStorage.getSelectedStorageBackend())),
    seal: (plain) => safeStorage.encryptString(plain),
    open: (sealed) => safeStorage.decryptString(sealed),
  };
}
