import type { SipTap } from '../core/sip/transport/message-tap.js';
import type { SipSockets } from '../core/sip/transport/sip-sockets.js';
import type { SipTimerValues } from '../core/sip/transport/udp-retransmitter.js';
import type { ConversionPlacement, ConversionServer } from './conversion/conversion-server.js';
import type { ConversionRecord } from './conversion/conversion-table.js';
import { Lab, type LabOptions, type LabSnapshot } from './lab.js';

/** Where the network converts anonymous calls (seed 000 Embodiments 2-5), or `off`: nobody converts. */
export type NetworkPlacement = ConversionPlacement | 'off';

export interface LabNetworkOptions {
  /** Each domain and its users: one registrar/proxy per domain. */
  domains: Record<string, { users?: Record<string, { password?: string }> }>;
  placement: NetworkPlacement;
  /** Embodiment 5: the carrier's top-level domain, served by a third proxy that every inter-domain call crosses. */
  carrierDomain?: string;
  /**
   * What a caller's server writes as the From and Call-ID domain (Embodiment 2): its own name would tell the callee
   * the caller's domain, so by default the RFC 3323 §4.1.1.3 anonymous host.
   */
  anonymousDomain?: string;
  address?: string;
  auth?: boolean;
  timers?: SipTimerValues;
  tap?: SipTap;
  conversion?: { poolSize?: number; lingerMs?: number; historySize?: number };
  /** Where the proxies' SIP sockets come from: the OS's by default, an in-memory network in unit tests. */
  sockets?: SipSockets;
}

export interface LabNetworkSnapshot {
  placement: NetworkPlacement;
  domains: Record<string, LabSnapshot>;
  carrier?: { domain: string } & LabSnapshot;
}

/** Who was behind an anonymous call, and which conversion servers' tables said so (callee's side first). */
export interface CallerIdentification {
  realUser: string;
  chain: Array<{ server: string; record: ConversionRecord }>;
}

const defaultCarrierDomain = 'carrier.lab';

/**
 * Several lab proxies in one process, one per domain and peered, plus for Embodiment 5 a carrier proxy that the
 * domains route through: the networks of seed 000 Figs. 8, 15, 20 and 25, on loopback.
 */
export class LabNetwork {
  private constructor(
    readonly placement: NetworkPlacement,
    readonly labs: Map<string, Lab>,
    readonly carrier: { domain: string; lab: Lab } | undefined,
  ) {}

  static async start(options: LabNetworkOptions): Promise<LabNetwork> {
    const names = Object.keys(options.domains);
    if (names.length === 0) throw new Error('a lab network needs at least one domain');
    const carrierDomain = options.carrierDomain ?? defaultCarrierDomain;
    if (names.includes(carrierDomain)) throw new Error(`the carrier's domain ${carrierDomain} is also a users' domain`);
    const common = {
      ...(options.address !== undefined ? { address: options.address } : {}),
      ...(options.timers ? { timers: options.timers } : {}),
      ...(options.tap ? { tap: options.tap } : {}),
      ...(options.sockets ? { sockets: options.sockets } : {}),
    };
    const tuning = options.conversion ?? {};
    const conversionFor = (domain: string): LabOptions['conversion'] => {
      switch (options.placement) {
        case 'off':
        case 'carrier':
          return false;
        case 'caller-server':
          return { ...tuning, placement: 'caller-server', domain: options.anonymousDomain ?? 'anonymous.invalid' };
        case 'callee-server':
        case 'both':
          return { ...tuning, placement: options.placement, domain };
      }
    };
    const labs = new Map<string, Lab>();
    const started: Lab[] = [];
    try {
      await Promise.all(
        names.map(async (domain) => {
          const users = options.domains[domain]!.users;
          const lab = await Lab.start({ ...common, domains: [domain], ...(users ? { users } : {}), ...(options.auth ? { auth: true } : {}), conversion: conversionFor(domain) });
          started.push(lab);
          labs.set(domain, lab);
        }),
      );
      let carrier: { domain: string; lab: Lab } | undefined;
      if (options.placement === 'carrier') {
        // The carrier knows no users: it only relays between domains, converting on the way (Fig. 25).
        const lab = await Lab.start({ ...common, domains: [carrierDomain], users: {}, conversion: { ...tuning, placement: 'carrier', domain: carrierDomain } });
        started.push(lab);
        carrier = { domain: carrierDomain, lab };
      }
      for (const [domain, lab] of labs) {
        for (const [other, otherLab] of labs) {
          if (other === domain) continue;
          const via = carrier?.lab ?? otherLab;
          lab.sip.proxy.addPeer(other, { address: via.sip.address, port: via.sip.ports.udp!, transport: 'udp' });
        }
        carrier?.lab.sip.proxy.addPeer(domain, { address: lab.sip.address, port: lab.sip.ports.udp!, transport: 'udp' });
      }
      return new LabNetwork(options.placement, labs, carrier);
    } catch (error) {
      await Promise.allSettled(started.map((lab) => lab.stop()));
      throw error;
    }
  }

  /** The SIP server URIs of a domain's proxy. */
  servers(domain: string): Lab['servers'] {
    const lab = this.labs.get(domain);
    if (!lab) throw new Error(`no lab for domain ${domain}`);
    return lab.servers;
  }

  /** Every conversion server in the network, by the domain of its proxy. */
  conversionServers(): Array<{ server: string; conversion: ConversionServer }> {
    const all = [...this.labs].map(([server, lab]) => ({ server, conversion: lab.sip.conversion }));
    if (this.carrier) all.push({ server: this.carrier.domain, conversion: this.carrier.lab.sip.conversion });
    return all.filter((s): s is { server: string; conversion: ConversionServer } => s.conversion !== undefined);
  }

  /**
   * The operator's lookup (seed 000: "the callers can be managed by … a communications carrier"): an anonymous Call-ID
   * or AnonymousN, as the callee saw it, to the real caller. A callee's server of Embodiment 4 only knows the caller
   * server's AnonymousN (Fig. 24); the lookup follows that to the server that knows the real user.
   */
  identify(key: string): CallerIdentification | undefined {
    const servers = this.conversionServers();
    const chain: CallerIdentification['chain'] = [];
    const seen = new Set<ConversionRecord>();
    let keys = [key];
    for (let depth = 0; depth < 4 && keys.length > 0; depth++) {
      const found = servers.flatMap(({ server, conversion }) => keys.map((k) => ({ server, record: conversion.identify(k) }))).filter((f): f is { server: string; record: ConversionRecord } => f.record !== undefined && !seen.has(f.record));
      if (found.length === 0) break;
      for (const f of found) seen.add(f.record);
      const real = found.find((f) => !isPoolUser(f.record.realUser));
      if (real) return { realUser: real.record.realUser, chain: [...chain, ...found.filter((f) => f !== real), real] };
      chain.push(...found);
      keys = found.map((f) => f.record.realCallId);
    }
    return undefined;
  }

  snapshot(): LabNetworkSnapshot {
    return {
      placement: this.placement,
      domains: Object.fromEntries([...this.labs].map(([domain, lab]) => [domain, lab.snapshot()])),
      ...(this.carrier ? { carrier: { domain: this.carrier.domain, ...this.carrier.lab.snapshot() } } : {}),
    };
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.labs.values(), ...(this.carrier ? [this.carrier.lab] : [])].map((lab) => lab.stop()));
  }
}

/** An AnonymousN a conversion server further up lent (Fig. 13 table 180), not a real user. */
function isPoolUser(user: string): boolean {
  return /^anonymous\d*@/i.test(user);
}
