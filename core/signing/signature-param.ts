import type { SignatureKind } from '../api/signature-types.js';
import { SigningError } from './signing-error.js';

/**
 * The wire form of one signature (docs/signing.md, version 1): one parameter value of six dot-separated fields,
 * `1.<kind>.<key id>.<algorithm>.<covers>.<mac>`, e.g. `1.via.k7Qx2fPa.hs128.cfprst.Jx2…` — all token characters
 * (RFC 3261 §25.1), so it is valid both as a header parameter and as a URI parameter.
 */
export const signatureVersion = 1;

/** Header parameter of the signer's Via (¶[0024]) and of its Record-Route (¶[0053], claim 22). */
export const headerSignatureParam = 'vp-sig';
/** URI parameter of the signer's Record-Route, so it comes back in Route headers (¶[0035], claims 12 and 16). */
export const routeSetSignatureParam = 'vp-rs';
/** URI parameter beside it carrying a pool member's sealed session key (¶[0063], Fig. 14 step 1020). */
export const sealedKeyParam = 'vp-key';

/** HMAC-SHA256 truncated to its first 128 bits (¶[0022]: "a predetermined number of significant bits"; ¶[0056]: 16 bytes). */
export type MacAlgorithm = 'hs128';
export const macAlgorithm: MacAlgorithm = 'hs128';

/** The key families of ¶[0057]-[0060]: each signature kind is made with a key of its family. */
export type KeyClass = 'via' | 'record-route' | 'route-set';

/**
 * What a signature covers besides the header set it sits on (claim 9 for Via; the dialog binding for route sets):
 * c Call-ID · f From tag · g the caller's tag (the dialog's) · p peer (next hop) · r the request was record-routed
 * and Record-Route-signed by this signer · s CSeq · t To URI.
 */
export type CoverFlag = 'c' | 'f' | 'g' | 'p' | 'r' | 's' | 't';

export const allowedFlags: Record<SignatureKind, ReadonlySet<CoverFlag>> = {
  via: new Set<CoverFlag>(['c', 'f', 'p', 'r', 's', 't']),
  'record-route': new Set<CoverFlag>(['c']),
  'route-set-callee': new Set<CoverFlag>(['c', 'g']),
  'route-set-caller': new Set<CoverFlag>(['c', 'g']),
};

const kindCodes: Record<SignatureKind, string> = { via: 'via', 'record-route': 'rr', 'route-set-callee': 'rse', 'route-set-caller': 'rsr' };
const kindsByCode = new Map(Object.entries(kindCodes).map(([kind, code]) => [code, kind as SignatureKind]));

export interface SignatureParam {
  version: number;
  kind: SignatureKind;
  keyId: string;
  algorithm: MacAlgorithm;
  /** Cover flags, sorted, no repeats. */
  flags: CoverFlag[];
  /** base64url of the 16-byte MAC. */
  mac: string;
}

export const keyIdPattern = /^[A-Za-z0-9_-]{4,32}$/;

export function keyClassOf(kind: SignatureKind): KeyClass {
  return kind === 'via' ? 'via' : kind === 'record-route' ? 'record-route' : 'route-set';
}

export function kindCode(kind: SignatureKind): string {
  return kindCodes[kind];
}

/** Cover flags in their canonical order: sorted, no repeats (the array itself when it already is). */
export function sortedFlags(flags: readonly CoverFlag[]): readonly CoverFlag[] {
  for (let i = 1; i < flags.length; i++) if (flags[i - 1]! >= flags[i]!) return [...new Set(flags)].sort();
  return flags;
}

/** The flags field: sorted letters, or `-` for none. */
export function formatFlags(flags: readonly CoverFlag[]): string {
  return flags.length === 0 ? '-' : sortedFlags(flags).join('');
}

export function encodeSignature(signature: Omit<SignatureParam, 'version' | 'flags'> & { flags: readonly CoverFlag[] }): string {
  return `${signatureVersion}.${kindCodes[signature.kind]}.${signature.keyId}.${signature.algorithm}.${formatFlags(signature.flags)}.${signature.mac}`;
}

/** Parse a parameter value; anything not exactly in the documented form is a SigningError (verdict `invalid`). */
export function decodeSignature(value: string): SignatureParam {
  const parts = value.split('.');
  if (parts[0] !== String(signatureVersion)) {
    if (/^\d{1,3}$/.test(parts[0] ?? '')) throw new SigningError('UNSUPPORTED_VERSION', `signature version ${parts[0]} is not supported (only ${signatureVersion})`);
    throw new SigningError('BAD_SIGNATURE_ENCODING', 'a signature starts with its version');
  }
  if (parts.length !== 6) throw new SigningError('BAD_SIGNATURE_ENCODING', `a version-1 signature has 6 fields, this one ${parts.length}`);
  const [, code, keyId, algorithm, flagText, mac] = parts as [string, string, string, string, string, string];
  const kind = kindsByCode.get(code);
  if (kind === undefined) throw new SigningError('BAD_SIGNATURE_ENCODING', `unknown signature kind "${code.slice(0, 8)}"`);
  if (!keyIdPattern.test(keyId)) throw new SigningError('BAD_SIGNATURE_ENCODING', 'bad key id');
  if (algorithm !== macAlgorithm) throw new SigningError('BAD_SIGNATURE_ENCODING', `unknown algorithm "${algorithm.slice(0, 12)}"`);
  if (!/^[A-Za-z0-9_-]{22}$/.test(mac)) throw new SigningError('BAD_SIGNATURE_ENCODING', 'the MAC is not 16 bytes of base64url');
  const flags: CoverFlag[] = [];
  if (flagText !== '-') {
    if (flagText.length === 0) throw new SigningError('BAD_SIGNATURE_ENCODING', 'empty cover flags (write "-" for none)');
    for (let i = 0; i < flagText.length; i++) {
      const flag = flagText[i] as CoverFlag;
      if (i > 0 && flagText[i - 1]! >= flag) throw new SigningError('BAD_SIGNATURE_ENCODING', 'cover flags must be sorted, without repeats');
      if (!allowedFlags[kind].has(flag)) throw new SigningError('BAD_SIGNATURE_ENCODING', `flag "${flag}" does not apply to a ${kind} signature`);
      flags.push(flag);
    }
  }
  return { version: signatureVersion, kind, keyId, algorithm, flags, mac };
}
