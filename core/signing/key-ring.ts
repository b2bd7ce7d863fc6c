import { randomBytes } from 'node:crypto';
import type { KeySource, KeyResolution } from './key-source.js';
import { keyIdPattern, macAlgorithm, type KeyClass } from './signature-param.js';
import { SigningError } from './signing-error.js';

/** How long a session key signs (`rotateMs`) and, after that, how long it still verifies (`keepMs`). */
export interface KeyWindow {
  rotateMs: number;
  keepMs: number;
}

const minute = 60_000;
const hour = 60 * minute;

/**
 * Seed 002 ¶[0060]: previous keys are kept "approximately 5 minutes to approximately 24 hours for the RECORD-ROUTE
 * and ROUTE SET keys and approximately 5 minutes to approximately 30 minutes for the VIA keys". A Record-Route
 * signature is checked in the response like a Via one, so its key may be short-lived too; a route set is used for
 * the whole dialog.
 */
export const keepLimits: Record<KeyClass, { minMs: number; maxMs: number }> = {
  via: { minMs: 5 * minute, maxMs: 30 * minute },
  'record-route': { minMs: 5 * minute, maxMs: 24 * hour },
  'route-set': { minMs: 5 * minute, maxMs: 24 * hour },
};

export const defaultKeyWindows: Record<KeyClass, KeyWindow> = {
  via: { rotateMs: 5 * minute, keepMs: 10 * minute },
  'record-route': { rotateMs: 5 * minute, keepMs: 10 * minute },
  'route-set': { rotateMs: 4 * hour, keepMs: 24 * hour }, // ¶[0060]: "refreshed every 4 hours"
};

/** One session key (Fig. 9: key identifier, session key, date/time of creation, expiration). */
export interface SessionKey {
  id: string;
  keyClass: KeyClass;
  secret: Buffer;
  createdAt: number;
  /** Signs until then. */
  activeUntil: number;
  /** Verifies until then. */
  notAfter: number;
}

/** The JSON a phone (or another tool) is given to verify a proxy's signatures: docs/signing.md "Key files". */
export interface VerificationKeyFile {
  format: 'veilphone-signing-keys';
  version: 1;
  keys: Array<{ id: string; class: KeyClass; algorithm: string; secret: string; createdAt: number; notAfter: number }>;
}

export interface KeyRingOptions {
  windows?: Partial<Record<KeyClass, KeyWindow>>;
  /** The clock (tests move it). */
  now?: () => number;
}

const keyClasses: KeyClass[] = ['via', 'record-route', 'route-set'];
const tombstoneLimit = 4096;

/**
 * A proxy's session keys per family (¶[0057]-[0060]): the current key signs, it is replaced every `rotateMs`, and
 * old keys keep verifying for `keepMs` so dialogs survive a rotation. Ids of keys that aged out are remembered
 * (bounded) so their signatures are reported `expired`, not `unknown-key`.
 */
export class KeyRing implements KeySource {
  private readonly windows: Record<KeyClass, KeyWindow>;
  private readonly keys = new Map<string, SessionKey>();
  private readonly current = new Map<KeyClass, SessionKey>();
  private readonly tombstones = new Map<string, KeyClass>();
  readonly now: () => number;

  constructor(options: KeyRingOptions = {}) {
    this.now = options.now ?? Date.now;
    this.windows = { ...defaultKeyWindows, ...options.windows };
    for (const keyClass of keyClasses) checkWindow(keyClass, this.windows[keyClass]);
  }

  window(keyClass: KeyClass): KeyWindow {
    return this.windows[keyClass];
  }

  /** The longest a key of this family is good for: a sealed key older than this is expired (¶[0068]). */
  lifetime(keyClass: KeyClass): number {
    return this.windows[keyClass].rotateMs + this.windows[keyClass].keepMs;
  }

  /** The key that signs now, rotated lazily. */
  signingKey(keyClass: KeyClass): SessionKey {
    const now = this.now();
    let key = this.current.get(keyClass);
    if (!key || now >= key.activeUntil) {
      this.purge(now);
      const window = this.windows[keyClass];
      key = { id: newKeyId(), keyClass, secret: randomBytes(32), createdAt: now, activeUntil: now + window.rotateMs, notAfter: now + window.rotateMs + window.keepMs };
      this.keys.set(key.id, key);
      this.current.set(keyClass, key);
    }
    return key;
  }

  /** Force a new signing key now (an operator's rotation, or a test). */
  rotate(keyClass: KeyClass): SessionKey {
    const key = this.current.get(keyClass);
    if (key) key.activeUntil = Math.min(key.activeUntil, this.now());
    return this.signingKey(keyClass);
  }

  resolve(keyId: string, keyClass: KeyClass, _sealed: string | undefined, now: number): KeyResolution {
    const key = this.keys.get(keyId);
    if (key && key.keyClass === keyClass) {
      if (now < key.notAfter) return { status: 'found', secret: key.secret };
      return { status: 'expired', note: `key ${keyId} stopped verifying at ${new Date(key.notAfter).toISOString()}` };
    }
    if (this.tombstones.get(keyId) === keyClass) return { status: 'expired', note: `key ${keyId} has aged out of the ring` };
    return { status: 'unknown' };
  }

  /** Every key that still verifies, as a key file for phones (they verify; they never sign). */
  export(): VerificationKeyFile {
    const now = this.now();
    this.purge(now);
    return {
      format: 'veilphone-signing-keys',
      version: 1,
      keys: [...this.keys.values()].map((k) => ({ id: k.id, class: k.keyClass, algorithm: macAlgorithm, secret: k.secret.toString('base64url'), createdAt: k.createdAt, notAfter: k.notAfter })),
    };
  }

  get size(): number {
    return this.keys.size;
  }

  /** Drop keys past their window (¶[0083] step 1044), remembering their ids. */
  purge(now = this.now()): void {
    for (const [id, key] of this.keys) {
      if (now < key.notAfter) continue;
      this.keys.delete(id);
      if (this.current.get(key.keyClass) === key) this.current.delete(key.keyClass);
      this.tombstones.set(id, key.keyClass);
      if (this.tombstones.size > tombstoneLimit) this.tombstones.delete(this.tombstones.keys().next().value!);
    }
  }
}

function checkWindow(keyClass: KeyClass, window: KeyWindow): void {
  const limits = keepLimits[keyClass];
  if (!(window.rotateMs > 0) || !Number.isFinite(window.rotateMs)) throw new SigningError('BAD_KEY_WINDOW', `${keyClass} keys: rotation period must be positive`);
  if (!(window.keepMs >= limits.minMs && window.keepMs <= limits.maxMs)) {
    throw new SigningError('BAD_KEY_WINDOW', `${keyClass} keys: keep window ${window.keepMs} ms is outside ${limits.minMs}-${limits.maxMs} ms (seed 002 ¶[0060])`);
  }
}

function newKeyId(): string {
  return randomBytes(6).toString('base64url');
}

/** Verification keys a phone holds (one or more key files), as a key source. */
export class VerificationKeys implements KeySource {
  private readonly keys = new Map<string, { keyClass: KeyClass; secret: Buffer; notAfter: number }>();

  constructor(files: readonly VerificationKeyFile[]) {
    for (const file of files) {
      for (const key of file.keys) this.keys.set(key.id, { keyClass: key.class, secret: Buffer.from(key.secret, 'base64url'), notAfter: key.notAfter });
    }
  }

  get size(): number {
    return this.keys.size;
  }

  resolve(keyId: string, keyClass: KeyClass, _sealed: string | undefined, now: number): KeyResolution {
    const key = this.keys.get(keyId);
    if (!key || key.keyClass !== keyClass) return { status: 'unknown' };
    if (now >= key.notAfter) return { status: 'expired', note: `key ${keyId} stopped verifying at ${new Date(key.notAfter).toISOString()}` };
    return { status: 'found', secret: key.secret };
  }
}

/** Read a key file (JSON text or an already parsed value); anything else is a SigningError BAD_KEY_FILE. */
export function parseVerificationKeyFile(input: unknown): VerificationKeyFile {
  let data = input;
  if (typeof input === 'string') {
    try {
      data = JSON.parse(input);
    } catch (error) {
      throw new SigningError('BAD_KEY_FILE', `not JSON: ${(error as Error).message}`);
    }
  }
  const file = data as Partial<VerificationKeyFile> | null;
  if (!file || file.format !== 'veilphone-signing-keys' || file.version !== 1 || !Array.isArray(file.keys)) {
    throw new SigningError('BAD_KEY_FILE', 'not a veilphone-signing-keys version 1 file');
  }
  for (const [i, key] of file.keys.entries()) {
    const ok =
      key !== null &&
      typeof key === 'object' &&
      typeof key.id === 'string' &&
      keyIdPattern.test(key.id) &&
      keyClasses.includes(key.class) &&
      key.algorithm === macAlgorithm &&
      typeof key.secret === 'string' &&
      Buffer.from(key.secret, 'base64url').length === 32 &&
      Number.isFinite(key.createdAt) &&
      Number.isFinite(key.notAfter);
    if (!ok) throw new SigningError('BAD_KEY_FILE', `keys[${i}] is not a key (id, class, algorithm hs128, 32-byte secret, createdAt, notAfter)`);
  }
  return file as VerificationKeyFile;
}
