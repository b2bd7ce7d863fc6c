import type { SipTap } from '../../core/sip/transport/message-tap.js';
import { defaultSipTimers, type SipTimerValues } from '../../core/sip/transport/udp-retransmitter.js';
import { DigestAuthenticator } from './digest-auth.js';
import { Registrar, type Binding } from './registrar.js';
import { SipProxy, type ProxyCounters, type ProxyHooks } from './sip-proxy.js';
import { ServerTransports } from './server-transports.js';

export interface SipLabServerOptions {
  /** Listen address; loopback by default. */
  address?: string;
  /** Ports; 0 picks a free one, undefined leaves that transport off. Defaults: all three on free ports. */
  udp?: number;
  tcp?: number;
  ws?: number;
  /** Extra host names that mean "this server" in Request-URIs. */
  domains?: string[];
  /** Known users and their passwords; undefined accepts any user (no 404). */
  users?: Record<string, { password?: string }>;
  /** Require digest authentication for REGISTER and for INVITEs from our users. */
  auth?: boolean;
  realm?: string;
  timers?: SipTimerValues;
  tap?: SipTap;
  hooks?: ProxyHooks;
}

export interface SipLabServerSnapshot {
  address: string;
  ports: { udp?: number; tcp?: number; ws?: number };
  bindings: Array<{ user: string; contact: string; transport: string; source: string; expiresInS: number }>;
  counters: ProxyCounters;
  rejected: Record<string, number>;
  transactions: { server: number; client: number };
}

/** The embedded registrar and stateful proxy over UDP, TCP and WebSocket at once. */
export class SipLabServer {
  private constructor(
    readonly address: string,
    readonly transports: ServerTransports,
    readonly registrar: Registrar,
    readonly proxy: SipProxy,
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
      ...(options.tap ? { tap: options.tap } : {}),
    });
    const users = options.users ? new Map(Object.entries(options.users)) : undefined;
    const registrar = new Registrar(users ? { users } : {});
    transports.onConnectionClosed = (id) => registrar.dropFlow(id);
    const password = (user: string): string | undefined => users?.get(user)?.password;
    const proxy = new SipProxy({
      domains: [address, 'localhost', ...(options.domains ?? [])],
      registrar,
      transports,
      timers: options.timers ?? defaultSipTimers,
      ...(options.auth ? { auth: { authenticator: new DigestAuthenticator(options.realm ?? 'veilphone.lab'), password, invites: true } } : {}),
      ...(options.hooks ? { hooks: options.hooks } : {}),
    });
    return new SipLabServer(address, transports, registrar, proxy);
  }

  get ports(): { udp?: number; tcp?: number; ws?: number } {
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
      transactions: this.proxy.activeTransactions,
    };
  }

  async stop(): Promise<void> {
    await this.transports.close();
  }
}
