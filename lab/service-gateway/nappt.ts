import type { PortRange } from '../../core/lease/dhcp-options.js';

export interface NapptEndpoint {
  address: string;
  port: number;
}

/** The addresses of one packet, as the model sees it (transport and payload do not matter to NAPPT). */
export interface NapptPacket {
  src: NapptEndpoint;
  dst: NapptEndpoint;
}

/** A phone behind the gateway: its leased private address and port range. */
export interface NapptBinding {
  privateAddress: string;
  ports: PortRange;
}

export type NapptResult = { packet: NapptPacket } | { dropped: string };

export interface NapptCounters {
  outbound: number;
  inbound: number;
  dropped: Record<string, number>;
}

export interface NapptOptions {
  /** The gateway's public NAT address (seed 003 "SG Addressing"; DHCP option 226). */
  publicAddress: string;
  /** The phones behind the gateway, read on every packet (the DHCP server's bound leases). */
  bindings: () => NapptBinding[];
}

/**
 * Network Address Persistent Port Translation (seed 003 "NAT/NAPT/NAPPT", Figs. 6A 638/676, 7A 738/774): outbound,
 * the private source address becomes the public one and the source port stays UNCHANGED — after checking it lies
 * in that phone's leased range; inbound, the destination port alone identifies the phone, whose private address
 * replaces the public one, port again unchanged. A model: it rewrites packet descriptions, not live traffic.
 */
export class Nappt {
  readonly counters: NapptCounters = { outbound: 0, inbound: 0, dropped: {} };

  constructor(private readonly options: NapptOptions) {}

  get publicAddress(): string {
    return this.options.publicAddress;
  }

  outbound(packet: NapptPacket): NapptResult {
    const binding = this.options.bindings().find((b) => b.privateAddress === packet.src.address);
    if (!binding) return this.drop(`no lease for private source ${packet.src.address}`);
    // "it may validate it to ensure the correct internal host is using its assigned port range"
    if (packet.src.port < binding.ports.min || packet.src.port > binding.ports.max) {
      return this.drop(`source port ${packet.src.port} is outside ${packet.src.address}'s range ${binding.ports.min}-${binding.ports.max}`);
    }
    this.counters.outbound++;
    return { packet: { src: { address: this.options.publicAddress, port: packet.src.port }, dst: { ...packet.dst } } };
  }

  inbound(packet: NapptPacket): NapptResult {
    if (packet.dst.address !== this.options.publicAddress) return this.drop(`destination ${packet.dst.address} is not the public address`);
    const binding = this.options.bindings().find((b) => packet.dst.port >= b.ports.min && packet.dst.port <= b.ports.max);
    if (!binding) return this.drop(`no phone holds port ${packet.dst.port}`);
    this.counters.inbound++;
    return { packet: { src: { ...packet.src }, dst: { address: binding.privateAddress, port: packet.dst.port } } };
  }

  private drop(reason: string): NapptResult {
    const key = reason.replace(/[\d.]+(:\d+)?/g, 'N').replace(/N(-N)?/g, 'N');
    this.counters.dropped[key] = (this.counters.dropped[key] ?? 0) + 1;
    return { dropped: reason };
  }
}
