import {
  constants,
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import type { KeyResolution, KeySource, SealedKeyInfo } from './key-source.js';
import { keyIdPattern, type KeyClass } from './signature-param.js';
import { SigningError } from './signing-error.js';

/**
 * The key pair a pool of proxies shares (seed 002 ¶[0061]-[0068], Fig. 14) so that a member can check signatures
 * another member made: the signer seals its session key — encrypts it, with its creation time, to the pool's public
 * key and signs the result with the pool's private key — and carries it beside the signature; any member verifies
 * the pool signature, checks the creation time against the key's lifetime, decrypts, and verifies.
 *
 * Two suites, node:crypto only:
 * - `x25519-ed25519` (default; ¶[0064]'s "first and second public/private key pair"): ECIES over X25519 with
 *   HKDF-SHA256 and AES-256-GCM, signed with Ed25519 — 184 bytes for an 8-character key id;
 * - `rsa-oaep-pss` (¶[0063]'s single pair): RSA-OAEP-SHA256 to the public key, RSA-PSS-SHA256 with the private
 *   key — about 530 bytes with 2048-bit keys, too big for comfort in a UDP datagram.
 */
export type PoolSuite = 'x25519-ed25519' | 'rsa-oaep-pss';

export type PoolKeys =
  | { suite: 'x25519-ed25519'; encryption: { publicKey: KeyObject; privateKey: KeyObject }; signing: { publicKey: KeyObject; privateKey: KeyObject } }
  | { suite: 'rsa-oaep-pss'; publicKey: KeyObject; privateKey: KeyObject };

/** The pool keys as a file each member installs (Fig. 14 steps 996-998): PEM-encoded PKCS#8 private keys. */
export interface PoolKeyFile {
  format: 'veilphone-pool-keys';
  version: 1;
  suite: PoolSuite;
  keys: Record<string, string>;
}

const suiteCodes: Record<PoolSuite, number> = { 'x25519-ed25519': 1, 'rsa-oaep-pss': 2 };
const classCodes: Record<KeyClass, number> = { via: 0, 'record-route': 1, 'route-set': 2 };
const classesByCode: KeyClass[] = ['via', 'record-route', 'route-set'];
const blobVersion = 1;
const hkdfInfo = Buffer.from('vp-sealed-key/1');
/** A creation time this far ahead of the verifier's clock is accepted (clock skew between pool members). */
const maxSkewMs = 60_000;

export function generatePoolKeys(suite: PoolSuite = 'x25519-ed25519'): PoolKeys {
  if (suite === 'rsa-oaep-pss') return { suite, ...generateKeyPairSync('rsa', { modulusLength: 2048 }) };
  return { suite, encryption: generateKeyPairSync('x25519'), signing: generateKeyPairSync('ed25519') };
}

export function exportPoolKeys(pool: PoolKeys): PoolKeyFile {
  const pem = (key: KeyObject): string => key.export({ format: 'pem', type: 'pkcs8' }) as string;
  const keys: Record<string, string> = pool.suite === 'rsa-oaep-pss' ? { private: pem(pool.privateKey) } : { encryption: pem(pool.encryption.privateKey), signing: pem(pool.signing.privateKey) };
  return { format: 'veilphone-pool-keys', version: 1, suite: pool.suite, keys };
}

export function importPoolKeys(file: PoolKeyFile): PoolKeys {
  try {
    if (file.format !== 'veilphone-pool-keys' || file.version !== 1) throw new Error('not a veilphone-pool-keys version 1 file');
    const pair = (pem: string | undefined, type: string): { publicKey: KeyObject; privateKey: KeyObject } => {
      const privateKey = createPrivateKey(pem ?? '');
      if (privateKey.asymmetricKeyType !== type) throw new Error(`expected a ${type} key, got ${privateKey.asymmetricKeyType}`);
      return { privateKey, publicKey: createPublicKey(privateKey) };
    };
    if (file.suite === 'rsa-oaep-pss') return { suite: file.suite, ...pair(file.keys.private, 'rsa') };
    if (file.suite === 'x25519-ed25519') return { suite: file.suite, encryption: pair(file.keys.encryption, 'x25519'), signing: pair(file.keys.signing, 'ed25519') };
    throw new Error(`unknown suite "${String(file.suite)}"`);
  } catch (error) {
    throw new SigningError('BAD_KEY_FILE', `pool keys: ${(error as Error).message}`);
  }
}

function clearHeader(suite: PoolSuite, key: { id: string; keyClass: KeyClass; createdAt: number }): Buffer {
  const id = Buffer.from(key.id, 'ascii');
  const header = Buffer.alloc(12 + id.length);
  header[0] = blobVersion;
  header[1] = suiteCodes[suite];
  header[2] = classCodes[key.keyClass];
  header.writeBigUInt64BE(BigInt(key.createdAt), 3);
  header[11] = id.length;
  id.copy(header, 12);
  return header;
}

function rawX25519(publicKey: KeyObject): Buffer {
  return Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
}

function x25519Key(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
}

function wrappingKey(shared: Buffer, ephemeral: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeral, recipient]), hkdfInfo, 32));
}

/** Fig. 14 steps 1006-1010: append the creation time, encrypt to the pool's public key, sign with its private key. */
export function sealSessionKey(pool: PoolKeys, key: { id: string; keyClass: KeyClass; secret: Uint8Array; createdAt: number }): string {
  const header = clearHeader(pool.suite, key);
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(BigInt(key.createdAt));
  const plaintext = Buffer.concat([key.secret, time]);
  if (pool.suite === 'rsa-oaep-pss') {
    const ciphertext = publicEncrypt({ key: pool.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plaintext);
    const signed = Buffer.concat([header, ciphertext]);
    const signature = sign('sha256', signed, { key: pool.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    return Buffer.concat([signed, signature]).toString('base64url');
  }
  const ephemeral = generateKeyPairSync('x25519');
  const ephemeralRaw = rawX25519(ephemeral.publicKey);
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: pool.encryption.publicKey });
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', wrappingKey(shared, ephemeralRaw, rawX25519(pool.encryption.publicKey)), nonce);
  cipher.setAAD(header);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  const signed = Buffer.concat([header, ephemeralRaw, nonce, ciphertext]);
  return Buffer.concat([signed, sign(null, signed, pool.signing.privateKey)]).toString('base64url');
}

interface ParsedBlob {
  info: SealedKeyInfo;
  header: Buffer;
  body: Buffer;
}

function parseBlob(blob: string): ParsedBlob {
  const bad = (why: string): SigningError => new SigningError('BAD_SEALED_KEY', `sealed key: ${why}`);
  if (!/^[A-Za-z0-9_-]{16,1400}$/.test(blob)) throw bad('not base64url of a plausible size');
  const bytes = Buffer.from(blob, 'base64url');
  if (bytes.length < 13 || bytes[0] !== blobVersion) throw bad(`version ${bytes[0] ?? '?'} is not ${blobVersion}`);
  const suite = (Object.keys(suiteCodes) as PoolSuite[]).find((s) => suiteCodes[s] === bytes[1]);
  if (!suite) throw bad(`unknown suite ${bytes[1]}`);
  const keyClass = classesByCode[bytes[2]!];
  if (!keyClass) throw bad(`unknown key class ${bytes[2]}`);
  const createdAt = Number(bytes.readBigUInt64BE(3));
  const idLength = bytes[11]!;
  if (bytes.length < 12 + idLength) throw bad('truncated');
  const keyId = bytes.subarray(12, 12 + idLength).toString('ascii');
  if (!keyIdPattern.test(keyId)) throw bad('bad key id');
  return { info: { suite, keyId, keyClass, createdAt }, header: bytes.subarray(0, 12 + idLength), body: bytes.subarray(12 + idLength) };
}

/** The clear part of a sealed key — suite, key id, family, creation time — without any key (diagnostics). */
export function inspectSealedKey(blob: string): SealedKeyInfo {
  return parseBlob(blob).info;
}

/**
 * Fig. 14 steps 1028-1038: verify the pool's signature, check the creation time against `lifetimeMs` before
 * decrypting anything (¶[0083]: "to minimize server resources if the key is no longer active"), decrypt, and check
 * the encrypted creation time matches the signed one.
 */
export function openSealedKey(pool: PoolKeys, blob: string, lifetimeMs: number, now: number): { info: SealedKeyInfo; secret: Buffer } {
  const { info, header, body } = parseBlob(blob);
  const bad = (why: string): SigningError => new SigningError('BAD_SEALED_KEY', `sealed key ${info.keyId}: ${why}`);
  if (info.suite !== pool.suite) throw bad(`sealed with ${info.suite}, this pool uses ${pool.suite}`);
  let plaintext: Buffer;
  if (pool.suite === 'rsa-oaep-pss') {
    const size = (pool.publicKey.asymmetricKeyDetails?.modulusLength ?? 2048) / 8;
    if (body.length !== 2 * size) throw bad('wrong length');
    const signed = Buffer.concat([header, body.subarray(0, size)]);
    const ok = verify('sha256', signed, { key: pool.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, body.subarray(size));
    if (!ok) throw bad('the pool signature does not verify');
    checkAge(info, lifetimeMs, now);
    try {
      plaintext = privateDecrypt({ key: pool.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, body.subarray(0, size));
    } catch {
      throw bad('does not decrypt');
    }
  } else {
    if (body.length !== 32 + 12 + 40 + 16 + 64) throw bad('wrong length');
    const signed = Buffer.concat([header, body.subarray(0, body.length - 64)]);
    if (!verify(null, signed, pool.signing.publicKey, body.subarray(body.length - 64))) throw bad('the pool signature does not verify');
    checkAge(info, lifetimeMs, now);
    const ephemeralRaw = body.subarray(0, 32);
    const nonce = body.subarray(32, 44);
    const ciphertext = body.subarray(44, 84);
    const tag = body.subarray(84, 100);
    try {
      const shared = diffieHellman({ privateKey: pool.encryption.privateKey, publicKey: x25519Key(ephemeralRaw) });
      const decipher = createDecipheriv('aes-256-gcm', wrappingKey(shared, ephemeralRaw, rawX25519(pool.encryption.publicKey)), nonce);
      decipher.setAAD(header);
      decipher.setAuthTag(tag);
      plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      throw bad('does not decrypt');
    }
  }
  if (plaintext.length !== 40 || Number(plaintext.readBigUInt64BE(32)) !== info.createdAt) throw bad('the encrypted creation time differs from the signed one');
  return { info, secret: plaintext.subarray(0, 32) };
}

function checkAge(info: SealedKeyInfo, lifetimeMs: number, now: number): void {
  if (info.createdAt > now + maxSkewMs) throw new SigningError('BAD_SEALED_KEY', `sealed key ${info.keyId}: created in the future`);
  if (now >= info.createdAt + lifetimeMs) {
    throw new SigningError('SEALED_KEY_EXPIRED', `sealed key ${info.keyId} created ${new Date(info.createdAt).toISOString()} is past its ${Math.round(lifetimeMs / 60_000)}-minute lifetime`);
  }
}

export interface SealedKeyOpenerOptions {
  /** The lifetime of a key of each family (a key ring's `lifetime`). */
  lifetime: (keyClass: KeyClass) => number;
  /** Opened keys remembered (Fig. 9's key database); default 1024. */
  cacheLimit?: number;
}

/**
 * A pool member's view of the sealed keys other members carry (¶[0083]): opened keys are remembered by their
 * sealed form (step 1026) until their lifetime ends (step 1044), so each is opened once.
 */
export class SealedKeyOpener implements KeySource {
  private readonly cache = new Map<string, { info: SealedKeyInfo; secret: Buffer; notAfter: number }>();
  /** The dialogs whose route sets named each opened key, and the keys each dialog used (step 1044's bookkeeping). */
  private readonly users = new Map<string, Set<string>>();
  private readonly dialogs = new Map<string, Set<string>>();
  opened = 0;
  /** Opened keys purged because the last dialog that used them ended (step 1044). */
  purged = 0;

  constructor(
    private readonly pool: PoolKeys,
    private readonly options: SealedKeyOpenerOptions,
  ) {}

  resolve(keyId: string, keyClass: KeyClass, sealed: string | undefined, now: number): KeyResolution {
    if (sealed === undefined) return { status: 'unknown' };
    let entry = this.cache.get(sealed);
    if (entry && now >= entry.notAfter) {
      this.cache.delete(sealed);
      return { status: 'expired', note: `sealed key ${entry.info.keyId} is past its lifetime` };
    }
    if (!entry) {
      try {
        const lifetime = this.options.lifetime(keyClass);
        const opened = openSealedKey(this.pool, sealed, lifetime, now);
        this.opened++;
        entry = { ...opened, notAfter: opened.info.createdAt + lifetime };
      } catch (error) {
        if (error instanceof SigningError && error.code === 'SEALED_KEY_EXPIRED') return { status: 'expired', note: error.message };
        return { status: 'invalid', note: (error as Error).message };
      }
      this.cache.set(sealed, entry);
      if (this.cache.size > (this.options.cacheLimit ?? 1024)) this.cache.delete(this.cache.keys().next().value!);
    }
    if (entry.info.keyId !== keyId || entry.info.keyClass !== keyClass) {
      return { status: 'invalid', note: `the sealed key is ${entry.info.keyClass} key ${entry.info.keyId}, the signature names ${keyClass} key ${keyId}` };
    }
    return { status: 'found', secret: entry.secret, sealed: entry.info };
  }

  /** Opened keys held now (Fig. 9's key database). */
  get held(): number {
    return this.cache.size;
  }

  /** A dialog's in-dialog request verified with this opened key: it is kept while the dialog lasts. */
  useInDialog(sealed: string, dialog: string): void {
    if (!this.cache.has(sealed)) return;
    let keys = this.dialogs.get(dialog);
    if (!keys) {
      keys = new Set();
      this.dialogs.set(dialog, keys);
      // bounded like the cache: the oldest dialog's bookkeeping goes first (its keys then age out by lifetime)
      if (this.dialogs.size > (this.options.cacheLimit ?? 1024) * 8) this.forget(this.dialogs.keys().next().value!);
    }
    keys.add(sealed);
    let users = this.users.get(sealed);
    if (!users) this.users.set(sealed, (users = new Set()));
    users.add(dialog);
  }

  /**
   * ¶[0083] step 1044: the dialog is complete, so no more headers using its session keys are expected from it; every
   * opened key no other live dialog uses is purged (a later request naming it is opened and checked afresh).
   */
  dialogEnded(dialog: string): void {
    const keys = this.forget(dialog);
    for (const sealed of keys) {
      if ((this.users.get(sealed)?.size ?? 0) > 0) continue;
      this.users.delete(sealed);
      if (this.cache.delete(sealed)) this.purged++;
    }
  }

  private forget(dialog: string): Set<string> {
    const keys = this.dialogs.get(dialog) ?? new Set<string>();
    this.dialogs.delete(dialog);
    for (const sealed of keys) this.users.get(sealed)?.delete(dialog);
    return keys;
  }
}
