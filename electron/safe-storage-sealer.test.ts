import { describe, expect, it } from 'vitest';
import { safeStorageSealer, type SafeStorageLike } from './safe-storage-sealer.js';

function fakeSafeStorage(backend: ReturnType<SafeStorageLike['getSelectedStorageBackend']>, encryption = true): SafeStorageLike {
  return {
    isEncryptionAvailable: () => encryption,
    getSelectedStorageBackend: () => backend,
    encryptString: (plain) => Buffer.from(`sealed:${plain}`),
    decryptString: (sealed) => sealed.toString().replace(/^sealed:/, ''),
  };
}

describe('passwords sealed by Electron safeStorage', () => {
  it('counts Linux basic_text (a key built into Chromium) as no keychain at all', () => {
    expect(safeStorageSealer(fakeSafeStorage('basic_text'), 'linux').available()).toBe(false);
    expect(safeStorageSealer(fakeSafeStorage('unknown'), 'linux').available()).toBe(false);
    expect(safeStorageSealer(fakeSafeStorage('gnome_libsecret'), 'linux').available()).toBe(true);
    expect(safeStorageSealer(fakeSafeStorage('kwallet6'), 'linux').available()).toBe(true);
  });

  it('uses the platform keychain elsewhere, when Electron says encryption works', () => {
    expect(safeStorageSealer(fakeSafeStorage('unknown'), 'darwin').available()).toBe(true);
    expect(safeStorageSealer(fakeSafeStorage('unknown', false), 'win32').available()).toBe(false);
  });

  it('seals and opens through safeStorage', () => {
    const sealer = safeStorageSealer(fakeSafeStorage('gnome_libsecret'), 'linux');
    const sealed = sealer.seal('s3cret');
    expect(sealed.toString()).toBe('sealed:s3cret');
    expect(sealer.open(sealed)).toBe('s3cret');
  });
});
