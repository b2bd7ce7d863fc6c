import { LeaseError, type LeaseErrorCode } from './lease-error.js';

/** Dotted-quad text of four bytes at `offset`. */
export function readIpv4(bytes: Buffer, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** The four bytes of a dotted quad; a malformed address is a typed error, not a silently zeroed field. */
export function ipv4Bytes(address: string, code: LeaseErrorCode = 'DHCP_BAD_OPTION_VALUE'): Buffer {
  const parts = address.split('.');
  const bytes = parts.map((part) => (/^\d{1,3}$/.test(part) ? Number(part) : Number.NaN));
  if (bytes.length !== 4 || bytes.some((b) => !(b >= 0 && b <= 255))) throw new LeaseError(code, `not an IPv4 address: "${address}"`);
  return Buffer.from(bytes);
}

export function isIpv4(address: string): boolean {
  try {
    ipv4Bytes(address);
    return true;
  } catch {
    return false;
  }
}

export function ipv4ToNumber(address: string): number {
  return ipv4Bytes(address).readUInt32BE(0);
}

export function numberToIpv4(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0, 0);
  return readIpv4(bytes);
}

/** Prefix length of a netmask like 255.255.255.0 (24); undefined when the mask is not contiguous. */
export function maskPrefixLength(mask: string): number | undefined {
  const value = ipv4ToNumber(mask);
  const length = 32 - Math.log2(((~value >>> 0) + 1) >>> 0 || 2 ** 32);
  return Number.isInteger(length) && length >= 0 && length <= 32 ? length : undefined;
}

/**
 * Why a leased address cannot be this host's (RFC 1122 §3.2.1.3: 0/8 is "this network", 127/8 loopback, 224/4
 * multicast, 240/4 reserved and 255.255.255.255 broadcast are never a host's address; with a subnet mask, its
 * network and broadcast addresses are not either), or undefined when it can be. A server on loopback itself (the
 * embedded lab) may lease loopback addresses.
 */
export function hostAddressProblem(address: string, subnetMask?: string, options: { loopbackServer?: boolean } = {}): string | undefined {
  if (!isIpv4(address)) return `"${address}" is not an IPv4 address`;
  const first = ipv4Bytes(address)[0]!;
  if (first === 0) return `${address} is in 0.0.0.0/8 ("this network")`;
  // the embedded lab's servers on loopback lease loopback addresses (any process may bind 127.x); no other may
  if (first === 127 && !options.loopbackServer) return `${address} is a loopback address`;
  if (first >= 224) return `${address} is a multicast, reserved or broadcast address`;
  const length = subnetMask !== undefined && isIpv4(subnetMask) ? maskPrefixLength(subnetMask) : undefined;
  if (length !== undefined && length <= 30) {
    const host = ipv4ToNumber(address) & (~ipv4ToNumber(subnetMask!) >>> 0);
    if (host === 0) return `${address} is the network address of its subnet ${subnetMask}`;
    if (host === (~ipv4ToNumber(subnetMask!) >>> 0)) return `${address} is the broadcast address of its subnet ${subnetMask}`;
  }
  return undefined;
}
