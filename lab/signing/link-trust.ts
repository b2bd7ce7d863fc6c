import { isIP } from 'node:net';
import type { SipTransportKind } from '../../core/sip/transport/endpoint.js';
import type { Hop } from '../sip-server/server-transports.js';

/** A link the proxy trusts: a peer server, by address (and optionally port and transport). */
export interface TrustedLink {
  address: string;
  port?: number;
  transport?: SipTransportKind;
}

/**
 * Which links are trusted (seed 002 ¶[0020], ¶[0029]-[0030]): a list of trusted server links; everything else —
 * every client (phone) connection in particular — is untrusted. Only what comes back over an untrusted link is
 * signed, and only what arrives over one is validated (¶[0031], claims 7, 18 and 24).
 */
export class LinkTrust {
  private readonly trusted: TrustedLink[];

  constructor(trusted: readonly TrustedLink[] = []) {
    this.trusted = trusted.map((t) => ({ ...t, address: t.address.toLowerCase() }));
  }

  isTrusted(hop: Hop): boolean {
    return this.trusted.some((t) => onLink(t, hop));
  }

  get links(): readonly TrustedLink[] {
    return this.trusted;
  }
}

/** Whether a message came over `link`: its address (any case), and its port and transport when the link names them. */
export function onLink(link: TrustedLink, hop: Hop): boolean {
  return link.address.toLowerCase() === hop.remote.address.toLowerCase() && (link.port === undefined || link.port === hop.remote.port) && (link.transport === undefined || link.transport === hop.transport);
}

/**
 * A trusted link as an operator writes it (`veilphone lab --trusted`): `10.0.0.5`, `10.0.0.5:5060`, `[2001:db8::5]`
 * or `[2001:db8::5]:5060`, optionally after `udp:`, `tcp:` or `ws:`. Only IP literals: a name would need a lookup,
 * and trust must not follow DNS. Throws a RangeError saying what is wrong.
 */
export function parseTrustedLink(text: string): TrustedLink {
  const match = /^(?:(udp|tcp|ws):)?(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(text.trim());
  const address = match?.[2] ?? match?.[3];
  if (!match || address === undefined || isIP(address) === 0) throw new RangeError(`"${text}" is not a trusted link: write ADDRESS, ADDRESS:PORT or [IPv6]:PORT, optionally after udp:, tcp: or ws:`);
  const port = match[4] !== undefined ? Number(match[4]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) throw new RangeError(`"${text}": port ${port} is out of range`);
  return { address, ...(port !== undefined ? { port } : {}), ...(match[1] !== undefined ? { transport: match[1] as SipTransportKind } : {}) };
}
