import { BlockList, isIP } from 'node:net';

/** The SIP transports Veilphone speaks: TLS is RFC 3261 §26.2 over TCP, WSS is RFC 7118 over TLS. */
export type SipTransportKind = 'udp' | 'tcp' | 'ws' | 'tls' | 'wss';

/** A connection-oriented transport: one SIP connection carries the flow. */
export type SipStreamTransport = Exclude<SipTransportKind, 'udp'>;

/** Whether a transport encrypts the hop to the next SIP element (TLS, WSS). */
export function isSecureTransport(kind: string): kind is 'tls' | 'wss' {
  return kind === 'tls' || kind === 'wss';
}

/** The port a URI without one means (RFC 3261 §19.1.2: 5060, 5061 for TLS; RFC 7118 §5: 80 and 443 for WebSocket). */
export function defaultPort(kind: SipTransportKind): number {
  return kind === 'tls' ? 5061 : kind === 'ws' ? 80 : kind === 'wss' ? 443 : 5060;
}

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
export function viaTransportToken(kind: SipTransportKind): 'UDP' | 'TCP' | 'WS' | 'TLS' | 'WSS' {
  return kind.toUpperCase() as 'UDP' | 'TCP' | 'WS' | 'TLS' | 'WSS';
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** An address of this host's loopback however written: 127.0.0.0/8, ::1, or either IPv4-mapped. */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && loopback.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) as plain IPv4, so one peer has one name. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
