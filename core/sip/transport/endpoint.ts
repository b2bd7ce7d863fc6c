import { isIP } from 'node:net';

/** The SIP transports Veilphone speaks. */
export type SipTransportKind = 'udp' | 'tcp' | 'ws';

/** An address and port, as a socket sees them (IPv6 without brackets). */
export interface Endpoint {
  address: string;
  port: number;
}

/** `127.0.0.1:5060` or `[2001:db8::1]:5060`, the form traces and reports use. */
export function formatEndpoint(endpoint: Endpoint): string {
  return isIP(endpoint.address) === 6 ? `[${endpoint.address}]:${endpoint.port}` : `${endpoint.address}:${endpoint.port}`;
}

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && a.address === b.address;
}

/** The Via transport token of a transport (RFC 3261 §20.42, RFC 7118 §5.2). */
export function viaTransportToken(kind: SipTransportKind): 'UDP' | 'TCP' | 'WS' {
  return kind === 'udp' ? 'UDP' : kind === 'tcp' ? 'TCP' : 'WS';
}

/** IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) as plain IPv4, so one peer has one name. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
