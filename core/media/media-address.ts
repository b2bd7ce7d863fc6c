import { isIP } from 'node:net';

/**
 * An SDP connection address (RFC 4566 §5.7) in one canonical form, for the checks below: an IPv4 literal as written, an
 * IPv6 one as the URL standard writes it (`0:0:0:0:0:0:0:0` → `::`, an embedded IPv4 in hex). Undefined for anything
 * that is not an address literal — a name, or an IPv6 zone id, which would name one of our own interfaces. A literal
 * of the other family than its line's address type is taken as what it is: Kamailio's fix_nated_sdp writes the IPv4
 * source of a message into an `IN IP6` line.
 */
export function canonicalAddress(address: string): string | undefined {
  const family = isIP(address);
  if (family === 4) return address;
  if (family !== 6 || address.includes('%')) return undefined;
  return new URL(`http://[${address}]`).hostname.slice(1, -1);
}

/** RFC 3264 §8.4 (RFC 2543's hold): the unspecified address, to which nothing is sent. */
export function isUnspecified(canonical: string): boolean {
  return canonical === '0.0.0.0' || canonical === '::';
}

/** The IPv4 address itself, or the one an IPv4-mapped IPv6 address carries. */
function ipv4Part(canonical: string): number[] | undefined {
  if (!canonical.includes(':')) return canonical.split('.').map(Number);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!mapped) return undefined;
  const [high, low] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  return [high >> 8, high & 0xff, low >> 8, low & 0xff];
}

/** A group rather than one host: IPv4 multicast, reserved and broadcast (224.0.0.0 and up), IPv6 multicast (ff00::/8). */
export function isGroup(canonical: string): boolean {
  const v4 = ipv4Part(canonical);
  return v4 !== undefined ? v4[0]! >= 224 : canonical.startsWith('ff');
}

/** This host's loopback (127.0.0.0/8, ::1, or IPv4-mapped): nothing another host could receive on. */
export function isLoopback(canonical: string): boolean {
  const v4 = ipv4Part(canonical);
  return v4 !== undefined ? v4[0] === 127 : canonical === '::1';
}
