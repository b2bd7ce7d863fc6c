import type { CoveredItem } from '../api/signature-types.js';
import { formatFlags, kindCode, type CoverFlag, type MacAlgorithm } from './signature-param.js';
import type { SignatureKind } from '../api/signature-types.js';
import { hmacKey } from './hmac-sha256.js';

export interface MacHeader {
  kind: SignatureKind;
  keyId: string;
  algorithm: MacAlgorithm;
  flags: readonly CoverFlag[];
}

/** Bytes of the MAC kept (¶[0056]: 128 bits). */
const macBytes = 16;

/**
 * The MAC input: the signature's own header fields (none can hold a newline), then every covered item as
 * `item\n<octets>:value\n` — item names are fixed words and values are length-prefixed, so no two different covered
 * sets give the same input — and the kind, key id and flags are bound too: a signature cannot be moved to another
 * header or re-labelled. Built as one string and hashed in one call.
 */
export function macInput(header: MacHeader, items: readonly CoveredItem[]): string {
  let input = `vp-sig/1\n${kindCode(header.kind)}\n${header.keyId}\n${header.algorithm}\n${formatFlags(header.flags)}\n`;
  for (const { item, value } of items) input += `${item}\n${Buffer.byteLength(value)}:${value}\n`;
  return input;
}

function truncatedMac(secret: Uint8Array, header: MacHeader, items: readonly CoveredItem[]): Buffer {
  return hmacKey(secret).mac(macInput(header, items), macBytes);
}

/** HMAC-SHA256 over `macInput`, truncated to 128 bits (¶[0056]), base64url. */
export function computeMac(secret: Uint8Array, header: MacHeader, items: readonly CoveredItem[]): string {
  return truncatedMac(secret, header, items).toString('base64url');
}

/**
 * Whether `mac` (base64url, as decoded from a signature) is the MAC of this covered set. The comparison takes the
 * same time wherever the two differ (every character is looked at), like timingSafeEqual on the bytes.
 */
export function macMatches(secret: Uint8Array, header: MacHeader, items: readonly CoveredItem[], mac: string): boolean {
  const expected = computeMac(secret, header, items);
  if (mac.length !== expected.length) return false;
  let difference = 0;
  for (let i = 0; i < expected.length; i++) difference |= expected.charCodeAt(i) ^ mac.charCodeAt(i);
  return difference === 0;
}
