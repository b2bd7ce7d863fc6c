/**
 * Seals secrets the settings file keeps (digest passwords) with the operating system's keychain, where a host has
 * one: Electron's `safeStorage` (Keychain on macOS, DPAPI on Windows, libsecret or kwallet on Linux). Without one, a
 * secret stays in the file, readable by the user only (mode 0600).
 */
export interface SecretSealer {
  /** What seals: a short name written beside each sealed value (`safeStorage`). */
  readonly scheme: string;
  /** Whether sealing works now (a Linux session without a keyring has none). */
  available(): boolean;
  seal(plain: string): Buffer;
  /** Throws when the value cannot be opened (another user, another machine, a reset keyring). */
  open(sealed: Buffer): string;
}
