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
    const address = hop.remote.address.toLowerCase();
    return this.trusted.some((t) => t.address === address && (t.port === undefined || t.port === hop.remote.port) && (t.transport === undefined || t.transport === hop.transport));
  }

  get links(): readonly TrustedLink[] {
    return this.trusted;
  }
}
