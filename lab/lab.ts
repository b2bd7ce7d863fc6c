import type { TransportKind } from '../core/api/phone-types.js';
import { labCertificate, type LabCertificate } from './lab-certificate.js';
import { isIPv4 } from 'node:net';
import type { SipTap } from '../core/sip/transport/message-tap.js';
import type { SipSockets } from '../core/sip/transport/sip-sockets.js';
import type { SipTimerValues } from '../core/sip/transport/udp-retransmitter.js';
import { ServiceGateway, type ServiceGatewayOptions, type ServiceGatewaySnapshot } from './service-gateway/service-gateway.js';
import type { VerificationKeyFile } from '../core/signing/key-ring.js';
import type { HeaderSigningOptions } from './signing/header-signing.js';
import type { SignatureAlert } from './signing/failure-monitor.js';
import type { TamperKind } from './signing/tamperer.js';
import { HouseholdError } from '../core/household/household-error.js';
import { HouseholdNetwork, HouseholdPeering, type HouseholdNetworkSnapshot } from './household/household-network.js';
import { composeHooks } from './sip-server/sip-proxy.js';
import { TriangleRouter, type TriangleDecision } from './service-gateway/triangle-router.js';
import { SipLabServer, type SipLabServerOptions, type SipLabServerSnapshot } from './sip-server/sip-lab-server.js';

export interface LabOptions {
  address?: string;
  /** SIP ports; 0 (the default) picks free ones. */
  udp?: number;
  tcp?: number;
  ws?: number;
  /**
   * SIP over TLS and secure WebSocket (issue 18): ports (0 picks free ones) and the data dir where the lab keeps the
   * certificate it makes on first start (lab-certificate.ts), or the certificate to use.
   */
  tls?: { tls?: number; wss?: number } & ({ dataDir: string } | { credentials: LabCertificate });
  users?: Record<string, { password?: string }>;
  auth?: boolean;
  /** Host names this lab's proxy answers for, besides its address. */
  domains?: string[];
  /** Other labs by the domain they serve, for calls between domains. */
  peers?: SipLabServerOptions['peers'];
  timers?: SipTimerValues;
  tap?: SipTap;
  /** The message conversion server (seed 000): on by default at the caller's server; `false` turns it off. */
  conversion?: SipLabServerOptions['conversion'] | false;
  /**
   * The service gateway of seed 003 (DHCP port leases, TFTP, NAPPT model), off unless given. `mgc` defaults to this
   * lab's SIP UDP address.
   */
  serviceGateway?: Omit<ServiceGatewayOptions, 'mgc'> & { mgc?: ServiceGatewayOptions['mgc'] };
  /**
   * A secondary soft switch (seed 003: option 225's second address): another SIP proxy on UDP in front of the same
   * registrar, handed out as the backup MGC when the service gateway's `mgc` is not given.
   */
  secondaryMgc?: boolean;
  /** Signed routing headers (seed 002): `true` treats every link as untrusted (every phone's). */
  signing?: boolean | HeaderSigningOptions;
  /** Fault injection: forge routing headers on the phones' links (lab/signing/tamperer.ts). */
  tamper?: TamperKind;
  /** With `tamper`: forge only on these links (a third-party phone's); every phone's link when absent. */
  tamperLinks?: SipLabServerOptions['tamperLinks'];
  /**
   * Caps and timeouts of the TCP and WebSocket connections phones open: 2048 in all, 64 per source address, 20 s
   * to a first whole message and to the end of a begun one, 300 s idle unless a registration holds the flow.
   */
  connectionLimits?: SipLabServerOptions['connectionLimits'];
  /** Users (10,000), bindings (10,000) and contacts per user (100) the registrar holds. */
  registrarLimits?: SipLabServerOptions['registrarLimits'];
  /** Where the SIP sockets come from: the OS's by default, an in-memory network in unit tests (DHCP and TFTP stay real). */
  sockets?: SipSockets;
  /**
   * A building of household terminals (seed 001, docs/household.md): rooms and how many addresses each gets at first;
   * the management server keeps its database in `dataDir`. The lab's proxy is the outside network it peers with.
   */
  household?: { rooms: Record<string, number>; dataDir?: string; pool?: { first: string; last: string } };
}

export interface LabSnapshot {
  sip: SipLabServerSnapshot;
  /** Seed 003 Fig. 11: for each call between phones behind the service gateway, private or public addresses. */
  triangle?: TriangleDecision[];
  secondary?: SipLabServerSnapshot;
  serviceGateway?: ServiceGatewaySnapshot;
  household?: HouseholdNetworkSnapshot;
}

/**
 * The embedded lab network (SPEC.md "The lab"): everything a user needs to try Veilphone on one machine,
 * in-process and on loopback.
 */
export class Lab {
  /** The certificate the TLS and WSS listeners present, when the lab serves them (phones pin its fingerprint). */
  certificate?: LabCertificate;

  private constructor(
    readonly sip: SipLabServer,
    readonly serviceGateway?: ServiceGateway,
    readonly secondary?: SipLabServer,
    private readonly triangle?: TriangleRouter,
    readonly household?: HouseholdNetwork,
  ) {}

  private readonly stopped = new Set<SipLabServer>();

  static async start(options: LabOptions = {}): Promise<Lab> {
    // Seed 003 Fig. 11: the registrar also decides how its phones reach each other (applied only behind a real NAT).
    const triangle = new TriangleRouter();
    const address = options.address ?? '127.0.0.1';
    const tls = options.tls;
    const certificate = tls ? ('credentials' in tls ? tls.credentials : await labCertificate(tls.dataDir, address)) : undefined;
    // Seed 001: calls for the building's numbers go to its gatekeeper
    const peering = options.household ? new HouseholdPeering() : undefined;
    const hooks = peering ? composeHooks(peering, triangle) : triangle;
    const sip = await SipLabServer.start({
      ...(tls && certificate ? { tls: tls.tls ?? 0, wss: tls.wss ?? 0, credentials: certificate } : {}),
      hooks,
      address,
      udp: options.udp ?? 0,
      tcp: options.tcp ?? 0,
      ws: options.ws ?? 0,
      ...(options.users ? { users: options.users } : {}),
      ...(options.auth ? { auth: true } : {}),
      ...(options.domains ? { domains: options.domains } : {}),
      ...(options.peers ? { peers: options.peers } : {}),
      ...(options.timers ? { timers: options.timers } : {}),
      ...(options.tap ? { tap: options.tap } : {}),
      ...(options.conversion !== false ? { conversion: options.conversion ?? { placement: 'caller-server' } } : {}),
      ...(options.signing ? { signing: options.signing === true ? {} : options.signing } : {}),
      ...(options.tamper ? { tamper: options.tamper } : {}),
      ...(options.tamperLinks ? { tamperLinks: options.tamperLinks } : {}),
      ...(options.connectionLimits ? { connectionLimits: options.connectionLimits } : {}),
      ...(options.registrarLimits ? { registrarLimits: options.registrarLimits } : {}),
      ...(options.sockets ? { sockets: options.sockets } : {}),
    });
    triangle.registrar = sip.registrar;
    let secondary: SipLabServer | undefined;
    let household: HouseholdNetwork | undefined;
    try {
      if (options.household) {
        if (sip.ports.udp === undefined || !isIPv4(sip.address)) throw new HouseholdError('BAD_MESSAGE', 'a household building needs the lab on UDP over IPv4 (its outside network)');
        household = await HouseholdNetwork.start({
          rooms: options.household.rooms,
          ...(options.household.dataDir !== undefined ? { dataDir: options.household.dataDir } : {}),
          ...(options.household.pool ? { pool: options.household.pool } : {}),
          outside: { domain: sip.address, address: sip.address, port: sip.ports.udp },
          ...(options.timers ? { timers: options.timers } : {}),
        });
        peering!.network = household;
      }
      if (options.secondaryMgc) {
        secondary = await SipLabServer.start({
          hooks: triangle,
          address: sip.address,
          udp: 0,
          registrar: sip.registrar,
          ...(options.domains ? { domains: options.domains } : {}),
          ...(options.timers ? { timers: options.timers } : {}),
          ...(options.tap ? { tap: options.tap } : {}),
          ...(options.conversion !== false ? { conversion: options.conversion ?? { placement: 'caller-server' } } : {}),
          ...(options.sockets ? { sockets: options.sockets } : {}),
        });
      }
      if (!options.serviceGateway) return Lab.made(new Lab(sip, undefined, secondary, triangle, household), certificate);
      const { mgc, ...gateway } = options.serviceGateway;
      // DHCP is IPv4: the gateway and the default MGC need the lab on an IPv4 address
      const v4 = isIPv4(sip.address);
      const defaultMgc = [sip, secondary].flatMap((server) => (server?.ports.udp !== undefined && v4 ? [{ address: server.address, port: server.ports.udp }] : []));
      return Lab.made(new Lab(sip, await ServiceGateway.start({ address: v4 ? sip.address : '127.0.0.1', ...gateway, mgc: mgc ?? defaultMgc }), secondary, triangle, household), certificate);
    } catch (error) {
      await Promise.all([sip.stop(), secondary?.stop(), household?.stop()]);
      throw error;
    }
  }

  private static made(lab: Lab, certificate: LabCertificate | undefined): Lab {
    if (certificate) lab.certificate = certificate;
    return lab;
  }

  /** The SIP server URI for each transport (TLS and WSS when the lab serves them). */
  get servers(): Partial<Record<TransportKind, string>> {
    const host = this.sip.address.includes(':') ? `[${this.sip.address}]` : this.sip.address;
    const out: Partial<Record<TransportKind, string>> = {};
    for (const [transport, port] of Object.entries(this.sip.ports) as Array<[TransportKind, number]>) {
      out[transport] = `sip:${host}:${port};transport=${transport}`;
    }
    return out;
  }

  /** The SIP domain of the lab's users: its address (any of its ports). */
  get domain(): string {
    return this.sip.address.includes(':') ? `[${this.sip.address}]` : this.sip.address;
  }

  /** The keys that verify the lab proxy's signatures (what phones in the lab are given), or none when it does not sign. */
  verificationKeys(): VerificationKeyFile[] {
    return this.sip.signing ? [this.sip.signing.exportKeys()] : [];
  }

  /** Signature failures crossing the per-second threshold (seed 002 ¶[0026]). */
  onSigningAlert(listener: (alert: SignatureAlert) => void): () => void {
    return this.sip.signing?.onAlert(listener) ?? (() => undefined);
  }

  snapshot(): LabSnapshot {
    return {
      sip: this.sip.snapshot(),
      ...(this.secondary ? { secondary: this.secondary.snapshot() } : {}),
      ...(this.serviceGateway ? { serviceGateway: this.serviceGateway.snapshot() } : {}),
      // with a service gateway always, otherwise once a call between two registered phones was decided
      ...(this.triangle && (this.serviceGateway || this.triangle.snapshot().length > 0) ? { triangle: this.triangle.snapshot() } : {}),
      ...(this.household ? { household: this.household.snapshot() } : {}),
    };
  }

  /** Fault injection: the primary (or secondary) soft switch stops answering, as if its host died. */
  async stopMgc(which: 'primary' | 'secondary'): Promise<void> {
    const server = which === 'primary' ? this.sip : this.secondary;
    if (!server || this.stopped.has(server)) return;
    this.stopped.add(server);
    await server.stop();
  }

  async stop(): Promise<void> {
    const servers = [this.sip, this.secondary].filter((s): s is SipLabServer => s !== undefined && !this.stopped.has(s));
    servers.forEach((s) => this.stopped.add(s));
    await Promise.all([...servers.map((s) => s.stop()), this.serviceGateway?.stop(), this.household?.stop()]);
  }
}
