import { isIPv6 } from 'node:net';
import { AddressError } from './address-error.js';

/** An IPv6 address as a 128-bit number, and back (RFC 5952 text: lower case, longest zero run compressed). */
export function ipv6ToBigInt(address: string): bigint {
  if (!isIPv6(address)) throw new AddressError('BAD_PREFIX', `"${address}" is not an IPv6 address`);
  let text = address.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) text = text.slice(0, v4.index) + `${((+v4[1]! << 8) | +v4[2]!).toString(16)}:${((+v4[3]! << 8) | +v4[4]!).toString(16)}`;
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function bigIntToIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt((7 - i) * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** A /64 prefix (SLAAC and RFC 8981 temporary addresses are /64): its upper 64 bits. */
export interface Ipv6Prefix {
  /** `2001:db8:1:2::` */
  network: string;
  length: 64;
}

export function parsePrefix(text: string): Ipv6Prefix {
  const match = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(text.trim());
  if (!match) throw new AddressError('BAD_PREFIX', `"${text}" is not an IPv6 prefix like 2001:db8:1:2::/64`);
  if (Number(match[2]) !== 64) throw new AddressError('BAD_PREFIX', `"${text}": temporary addresses need a /64 (RFC 8981 §3.3)`);
  const value = ipv6ToBigInt(match[1]!);
  const network = value & ~((1n << 64n) - 1n);
  return { network: bigIntToIpv6(network), length: 64 };
}

/** The address made of a /64 prefix and a 64-bit interface identifier. */
export function withInterfaceId(prefix: Ipv6Prefix, interfaceId: bigint): string {
  return bigIntToIpv6(ipv6ToBigInt(prefix.network) | (interfaceId & ((1n << 64n) - 1n)));
}

export function interfaceIdOf(address: string): bigint {
  return ipv6ToBigInt(address) & ((1n << 64n) - 1n);
}
