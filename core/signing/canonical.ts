import type { SipParam, SipUri, Via } from '../sip/message/index.js';

/**
 * Canonical forms of what a signature covers. They erase exactly what a proxy may legally change on the way —
 * spacing, header-name case and compact forms (the codec already hides those), parameter order, the case of
 * parameter names, of hosts and of the values RFC 3261 §19.1.4 compares case-insensitively, and %-escapes of
 * unreserved characters — and keep everything else byte for byte (seed 002 ¶[0056]: "in any particular order, as
 * long as that order remains consistent between the signature generation and validation").
 */

/** The URI parameters a signer adds and swaps on its way (route-set signature and sealed key), never covered. */
export const signatureUriParams = new Set(['vp-rs', 'vp-key']);

/** RFC 3261 §19.1.4: these URI parameter values compare case-insensitively. */
const caseInsensitiveUriParams = new Set(['transport', 'user', 'method', 'maddr', 'ttl', 'lr']);

/** RFC 3261 §20.42 and §18.2.1: Via parameters holding hosts or numbers. */
const caseInsensitiveViaParams = new Set(['received', 'maddr', 'ttl', 'rport']);

const unreserved = /[A-Za-z0-9\-_.!~*'()]/;

/** `%41` → `A`, `%2f` → `%2F`: an escaped unreserved character equals the character itself (RFC 3261 §19.1.4). */
export function normalizeEscapes(text: string): string {
  if (!text.includes('%')) return text;
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_match, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return unreserved.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}

function canonicalParams(params: readonly SipParam[], lowerValues: Set<string>, skip?: Set<string>): string {
  const parts: string[] = [];
  for (const param of params) {
    const name = normalizeEscapes(param.name).toLowerCase();
    if (skip?.has(name)) continue;
    if (param.value === undefined) {
      parts.push(`;${name}`);
      continue;
    }
    const value = normalizeEscapes(param.value);
    parts.push(`;${name}=${lowerValues.has(name) ? value.toLowerCase() : value}`);
  }
  return parts.sort().join('');
}

/** `sip:user@host:port;params?headers` with hosts lower-cased, parameters sorted, signature parameters left out. */
export function canonicalUri(uri: SipUri): string {
  const params = canonicalParams(uri.params, caseInsensitiveUriParams, signatureUriParams);
  if (uri.scheme === 'tel') return `tel:${normalizeEscapes(uri.user ?? '')}${params}`;
  let out = `${uri.scheme}:`;
  if (uri.user !== undefined) {
    out += normalizeEscapes(uri.user);
    if (uri.password !== undefined) out += `:${normalizeEscapes(uri.password)}`;
    out += '@';
  }
  out += uri.host.toLowerCase();
  if (uri.port !== undefined) out += `:${uri.port}`;
  out += params;
  if (uri.headers !== undefined) {
    out += `?${uri.headers
      .split('&')
      .map((h) => normalizeEscapes(h))
      .sort()
      .join('&')}`;
  }
  return out;
}

/** `SIP/2.0/UDP host:port;params` with the sent-by host lower-cased and the parameters sorted. */
export function canonicalVia(via: Via): string {
  const port = via.port !== undefined ? `:${via.port}` : '';
  return `SIP/2.0/${via.transport.toUpperCase()} ${via.host.toLowerCase()}${port}${canonicalParams(via.params, caseInsensitiveViaParams)}`;
}

/**
 * The next hop of seed 002 claim 9 ("a connection identifier of the connection over which the message will be
 * sent"): `udp:127.0.0.1:5060`, `ws:[2001:db8::1]:40123`. Transport and address are lower-cased.
 */
export function viaPeer(transport: string, address: string, port: number): string {
  const host = address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
  return `${transport.toLowerCase()}:${host.toLowerCase()}:${port}`;
}

/** A peer as a trace or a report writes it (`udp` and `127.0.0.1:5060`), in the form of `viaPeer`. */
export function peerOf(transport: string, endpoint: string): string {
  return `${transport.toLowerCase()}:${endpoint.toLowerCase()}`;
}
