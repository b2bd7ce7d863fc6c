import type { ConnectionGateSnapshot, ConnectionLimits } from '../../core/sip/transport/connection-gate.js';
import type { SipTap } from '../../core/sip/transport/message-tap.js';
import type { SipSockets } from '../../core/sip/transport/sip-sockets.js';
import type { TlsServerCredentials } from '../../core/sip/transport/stream-listeners.js';
import { defaultSipTimers, type SipTimerValues } from '../../core/sip/transport/udp-retransmitter.js';
import { DigestAuthenticator } from './digest-auth.js';
import { Registrar, type Binding, type RegistrarLimits, type RegistrarRefusal } from './registrar.js';
import { ConversionServer, type ConversionServerOptions } from '../conversion/conversion-server.js';
import type { ConversionCounters } from '../conversion/conversion-server.js';
import type { ConversionRecord } from '../conversion/conversion-table.js';
import { composeHooks, SipProxy, type ProxyCounters, type ProxyHooks, type SipProxyOptions } from './sip-proxy.js';
import { ServerTransports, type ServerPorts } from './server-transports.js';
import { NatHelper, type NatHelperCounters } from './nat-helper.js';
import type { PoolKeys } from '../../core/signing/sealed-key.js';
import { HeaderSigning, type HeaderSigningOptions, type HeaderSigningSnapshot } from '../signing/header-signing.js';
import { Tamperer, type TamperKind } from '../signing/tamperer.js';
import type { TrustedLink } from '../signing/link-trust.js';

export interface SipLabServerOptions {
  /** Listen address; loopback by default. */
  address?: string;
  /** Ports; 0 picks a free one, undefined leaves that transport off. Defaults: all three on free ports. */
  udp?: number;
  tcp?: number;
  ws?: number;
  /** SIP over TLS and secure WebSocket listeners (off unless given); both need `credentials`. */
  tls?: number;
  wss?: number;
  /** The certificate and key the TLS and WSS listeners present (lab/tls-certificate.ts makes the lab's own). */
  credentials?: TlsServerCredentials;
  /** Extra host names that mean "this server" in Request-URIs. */
  domains?: string[];
  /** Other lab servers by the domain they serve (see SipProxyOptions.peers). */
  peers?: SipProxyOptions['peers'];
  /** Known users and their passwords; undefined accepts any user (no 404). */
  users?: Record<string, { password?: string }>;
  /** Require digest authentication for REGISTER and for INVITEs from our users. */
  auth?: boolean;
  realm?: string;
  timers?: SipTimerValues;
  tap?: SipTap;
  hooks?: ProxyHooks;
  /**
   * The message conversion server (seed 000) on this proxy; off when absent. `domain` defaults to this server's
   * address, `localDomains` to the names that mean this server.
   */
  conversion?: Omit<ConversionServerOptions, 'domain' | 'localDomains'> & Partial<Pick<ConversionServerOptions, 'domain' | 'localDomains'>>;
  /** Signed routing headers (seed 002): sign toward untrusted links, validate what comes back over them. */
  signing?: HeaderSigningOptions;
  /** Membership of a pool of proxies (seed 002 ¶[0061]): Record-Routes name the pool, route-set keys travel sealed. */
  pool?: { name: string; keys: PoolKeys };
  /** Share another server's registrar (a pool's members, or a secondary soft switch, serve the same users). */
  registrar?: Registrar;
  /** Fault injection: an element on the phones' links that forges routing headers (lab/signing/tamperer.ts). */
  tamper?: TamperKind;
  /** With `tamper`: forge only what arrives over these links (lab/signing/link-trust.ts); every link when absent. */
  tamperLinks?: readonly TrustedLink[];
  /** Transactions held at once before new requests get 503 (SipProxyOptions.maxTransactions). */
  maxTransactions?: number;
  /** Caps and timeouts of the TCP and WebSocket connections phones open (core/sip/transport/connection-gate.ts). */
  connectionLimits?: Partial<ConnectionLimits>;
  /** Users, bindings and contacts per user the registrar holds (not used with a shared `registrar`). */
  registrarLimits?: Partial<RegistrarLimits>;
  /** Where the sockets come from: the OS's by default, an in-memory network in unit tests. */
  sockets?: SipSockets;
}

export interface SipLabServerSnapshot {
  address: string;
  ports: ServerPorts;
  bindings: Array<{ user: string; contact: string; transport: string; source: string; expiresInS: number }>;
  counters: ProxyCounters;
  /** What the sockets threw away or refused, by code: parse errors, and connections over a cap or timed out. */
  rejected: Record<string, number>;
  /** TCP and WebSocket connections held now, and their caps and timeouts. */
  connections: ConnectionGateSnapshot;
  /** Users and bindings held, the registrar's limits, and the REGISTERs refused (503) for each. */
  registrar: { users: number; bindings: number; limits: RegistrarLimits; refused: Partial<Record<RegistrarRefusal, number>> };
  transactions: { server: number; client: number };
  /** The conversion tables as the operator sees them, and what the conversion server did. */
  conversion?: { placement: string; records: ConversionRecord[]; counters: ConversionCounters; poolInUse: number; recent: ConversionRecord[] };
  /** Signatures made and checked, the failure counter and its alerts (seed 002 ¶[0026]). */
  signing?: HeaderSigningSnapshot;
  tamper?: { kind: TamperKind; altered: number; links?: readonly TrustedLink[] };
  /** Phones found writing addresses they cannot be reached at, and the SDP addresses fixed for them (nat-helper.ts). */
  nat: NatHelperCounters;
}

/** The embedded registrar and stateful proxy over UDP, TCP and WebSocket at once. */
export class SipLabServer {
  private constructor(
    readonly address: string,
    readonly transports: ServerTransports,
    readonly registrar: Registrar,
    readonly proxy: SipProxy,
    readonly conversion: ConversionServer | undefined,
    readonly signing: HeaderSigning | undefined,
    readonly tamperer: Tamperer | undefined,
    readonly nat: NatHelper,
  ) {}

  static async start(options: SipLabServerOptions = {}): Promise<SipLabServer> {
    const address = options.address ?? '127.0.0.1';
    const all = options.udp === undefined && options.tcp === undefined && options.ws === undefined;
    const transports = await ServerTransports.start({
      address,
      ...(all ? { udp: 0, tcp: 0, ws: 0 } : {}),
      ...(options.udp !== undefined ? { udp: options.udp } : {}),
      ...(options.tcp !== undefined ? { tcp: options.tcp } : {}),
      ...(options.ws !== undefined ? { ws: options.ws } : {}),
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
      ...(options.wss !== undefined ? { wss: options.wss } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.tap ? { tap: options.tap } : {}),
      ...(options.connectionLimits ? { connectionLimits: options.connectionLimits } : {}),
      incompleteMessageMs: 64 * (options.timers ?? defaultSipTimers).t1,
      ...(options.sockets ? { sockets: options.sockets } : {}),
    });
    const users = options.users ? new Map(Object.entries(options.users)) : undefined;
    const registrar = options.registrar ?? new Registrar({ ...(users ? { users } : {}), ...options.registrarLimits });
    transports.onConnectionClosed = (id) => registrar.dropFlow(id);
    transports.flowHeldUntil = (id) => registrar.flowExpiry(id);
    const password = (user: string): string | undefined => users?.get(user)?.password;
    const domains = [address, 'localhost', ...(options.domains ?? []), ...(options.pool ? [options.pool.name] : [])];
    const hostname = address.includes(':') ? `[${address}]` : address;
    const conversion = options.conversion
      ? new ConversionServer({ domain: hostname, localDomains: domains, ...options.conversion })
      : undefined;
    // Kamailio's nathelper: a phone that writes addresses it cannot be reached at is answered where it is (nat-helper.ts)
    const nat = new NatHelper((hop) => registrar.bindingAt(hop) !== undefined);
    // responses run the hooks last to first: the NAT helper fixes a phone's SDP before the lab's hooks (the triangle
    // rule, seed 003 Fig. 11) decide which of its addresses the other side is handed
    const hooks = composeHooks(conversion, options.hooks, nat);
    const signing = options.signing || options.pool ? new HeaderSigning({ ...options.signing, ...(options.pool ? { pool: options.pool.keys } : {}) }) : undefined;
    const proxy = new SipProxy({
      domains,
      ...(options.peers ? { peers: options.peers } : {}),
      registrar,
      transports,
      timers: options.timers ?? defaultSipTimers,
      ...(options.auth ? { auth: { authenticator: new DigestAuthenticator(options.realm ?? 'veilphone.lab'), password, invites: true } } : {}),
      hooks,
      ...(signing ? { wire: signing } : {}),
      ...(options.pool ? { recordRouteHost: options.pool.name } : {}),
      ...(options.maxTransactions !== undefined ? { maxTransactions: options.maxTransactions } : {}),
    });
    signing?.attach(proxy);
    const tamperer = options.tamper ? new Tamperer(options.tamper, (uri) => proxy.isOurs(uri), options.tamperLinks) : undefined;
    if (tamperer) {
      const deliver = transports.onMessage;
      transports.onMessage = (inbound) => {
        tamperer.apply(inbound);
        deliver(inbound);
      };
    }
    return new SipLabServer(address, transports, registrar, proxy, conversion, signing, tamperer, nat);
  }

  get ports(): ServerPorts {
    return this.transports.ports;
  }

  bindings(): Binding[] {
    return this.registrar.all();
  }

  snapshot(): SipLabServerSnapshot {
    const now = Date.now();
    return {
      address: this.address,
      ports: this.ports,
      bindings: this.registrar.all().map((b) => ({
        user: b.user,
        contact: `${b.contact.uri.scheme}:${b.contact.uri.user ?? ''}@${b.contact.uri.host}:${b.contact.uri.port ?? ''}`,
        transport: b.hop.transport,
        source: `${b.hop.remote.address}:${b.hop.remote.port}`,
        expiresInS: Math.round((b.expiresAt - now) / 1000),
      })),
      counters: this.proxy.counters,
      rejected: this.transports.rejects.snapshot(),
      connections: this.transports.connectionStats(),
      registrar: { users: this.registrar.users, bindings: this.registrar.size, limits: this.registrar.limits, refused: { ...this.registrar.refused } },
      transactions: this.proxy.activeTransactions,
      ...(this.conversion
        ? {
            conversion: {
              placement: this.conversion.placement,
              records: this.conversion.records(),
              counters: this.conversion.counters,
              poolInUse: this.conversion.table.pool.used,
              recent: this.conversion.history(),
            },
          }
        : {}),
      ...(this.signing ? { signing: this.signing.snapshot() } : {}),
      ...(this.tamperer ? { tamper: { kind: this.tamperer.kind, altered: this.tamperer.altered, ...(this.tamperer.links ? { links: this.tamperer.links } : {}) } } : {}),
      nat: { ...this.nat.counters },
    };
  }

  async stop(): Promise<void> {
    this.conversion?.close();
    await this.transports.close();
  }
}
