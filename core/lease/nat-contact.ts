import { isIpv4 } from './ipv4.js';

/**
 * How a REGISTER tells the registrar the phone's private address and the NAT public address (seed 003 Fig. 4B 466
 * and Fig. 11 1114: "registering ... may also include sending a private IP address"): two Contact header field
 * parameters (RFC 3261 §20.10 contact-extension, quoted because host:port is not a token), e.g.
 *
 *   Contact: <sip:1001@10.77.0.23:20000>;expires=600;veil-private="10.77.0.23:20000";veil-public="198.51.100.7:20000"
 *
 * The port is the same in both: the service gateway's NAPPT keeps ports unchanged. docs/provisioning.md documents it.
 */
export const PRIVATE_PARAM = 'veil-private';
export const PUBLIC_PARAM = 'veil-public';

export interface NatAddresses {
  /** host:port the phone binds (its leased address). */
  private: { address: string; port: number };
  /** host:port the registrar should use from outside the gateway; the same as private without NAT. */
  public: { address: string; port: number };
}

/** The addresses for a lease: public = the NAT address (option 226) with the port unchanged, or the private one. */
export function natAddresses(privateAddress: string, port: number, natAddress?: string): NatAddresses {
  return { private: { address: privateAddress, port }, public: { address: natAddress ?? privateAddress, port } };
}

/** The Contact header parameters (for sip.js `Registerer` option `extraContactHeaderParams`). */
export function natContactParams(addresses: NatAddresses): string[] {
  return [`${PRIVATE_PARAM}="${hostPort(addresses.private)}"`, `${PUBLIC_PARAM}="${hostPort(addresses.public)}"`];
}

/** Reads the two parameters back from a Contact header value; undefined when absent or malformed. */
export function parseNatContactParams(contact: string): NatAddresses | undefined {
  // header parameters follow the closing '>' of the name-addr (RFC 3261 §20.10)
  const params = contact.includes('>') ? contact.slice(contact.lastIndexOf('>') + 1) : contact;
  const read = (name: string): { address: string; port: number } | undefined => {
    const match = new RegExp(`;\\s*${name}\\s*=\\s*"([^"]*)"`, 'i').exec(params);
    if (!match) return undefined;
    const hp = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(match[1]!);
    if (!hp) return undefined;
    const address = hp[1] ?? hp[2]!;
    const port = Number(hp[3]);
    if (!(port > 0 && port < 65536) || (hp[2] !== undefined && !isIpv4(address))) return undefined;
    return { address, port };
  };
  const priv = read(PRIVATE_PARAM);
  const pub = read(PUBLIC_PARAM);
  return priv && pub ? { private: priv, public: pub } : undefined;
}

function hostPort(endpoint: { address: string; port: number }): string {
  return `${endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address}:${endpoint.port}`;
}
