import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CoveredItem } from '../api/signature-types.js';
import { formatFlags, kindCode, type CoverFlag, type MacAlgorithm } from './signature-param.js';
import type { SignatureKind } from '../api/signature-types.js';

export interface MacHeader {
  kind: SignatureKind;
  keyId: string;
  algorithm: MacAlgorithm;
  flags: readonly CoverFlag[];
}

/**
 * HMAC-SHA256 over the signature's own header fields and the covered items, truncated to 128 bits (¶[0056]),
 * base64url. Every field is length-prefixed, so no two different covered sets produce the same MAC input, and the
 * kind, key id and flags are bound too: a signature cannot be moved to another header or re-labelled.
 */
export function computeMac(secret: Uint8Array, header: MacHeader, items: readonly CoveredItem[]): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`vp-sig/1\n${kindCode(header.kind)}\n${header.keyId}\n${header.algorithm}\n${formatFlags(header.flags)}\n`);
  for (const { item, value } of items) hmac.update(`${item}\n${Buffer.byteLength(value)}:${value}\n`);
  return hmac.digest().subarray(0, 16).toString('base64url');
}

/** Constant-time comparison of two base64url MACs. */
export function macEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, 'base64url');
  const y = Buffer.from(b, 'base64url');
  return x.length === 16 && y.length === 16 && timingSafeEqual(x, y);
}
