import { inspectInbound, type SipMessage } from '../../core/sip/message/index.js';
import { formatEndpoint, sameEndpoint, type Endpoint, type SipStreamTransport, type SipTransportKind } from '../../core/sip/transport/endpoint.js';
import { redactTrace } from '../../core/calllog/trace-redaction.js';
import { RejectCounter, type SipTap } from '../../core/sip/transport/message-tap.js';
import { ConnectionGate, type ConnectionGateSnapshot, type ConnectionLimits } from '../../core/sip/transport/connection-gate.js';
import type { SipConnection } from '../../core/sip/transport/sip-connection.js';
import { TcpSipConnection } from '../../core/sip/transport/tcp-connection.js';
import { osSockets, type SipDatagramSocket, type SipSockets } from '../../core/sip/transport/sip-sockets.js';
import type { SipListener, TlsServerCredentials } from '../../core/sip/transport/stream-listeners.js';

/** The ports a server listens on, by transport. */
export type ServerPorts = Partial<Record<SipTransportKind, number>>;

/** Where a message arrived from, or where one must go. */
export interface Hop {
  transport: SipTransportKind;
  remote: Endpoint;
  /** The connection of a TCP/WebSocket flow; absent for UDP. */
  connectionId?: string;
}

export interface Inbound {
  message: SipMessage;
  hop: Hop;
  /** Our listening endpoint it arrived on. */
  local: Endpoint;
}

export interface ServerTransportsOptions {
  address: string;
  udp?: number;
  tcp?: number;
  ws?: number;
  /** SIP over TLS (RFC 3261 §26.2) and secure WebSocket (RFC 7118 §5); both need `credentials`. */
  tls?: number;
  wss?: number;
  /** The certificate and key the TLS and WSS listeners present. */
  credentials?: TlsServerCredentials;
  tap?: SipTap;
  /** Caps and timeouts of the TCP and WebSocket connections peers open (defaultConnectionLimits otherwise). */
  connectionLimits?: Partial<ConnectionLimits>;
  /** TCP: how long part of a message may wait for the rest before the connection is closed (RFC 4475 §3.1.2.2). */
  incompleteMessageMs?: number;
  /** Where the sockets come from: the OS's by default, an in-memory network in unit tests. */
  sockets?: SipSockets;
}

/**
 * The lab server's sockets: one UDP socket, one TCP and one WebSocket listener on the same address, and every
 * accepted or opened connection, indexed by id and by remote endpoint so a response or a request to a registered
 * contact goes back over the flow the peer opened (RFC 5626 §5.3 style connection reuse).
 */
export class ServerTransports {
  readonly rejects = new RejectCounter();
  onMessage: (inbound: Inbound) => void = () => undefined;
  onConnectionClosed: (connectionId: string) => void = () => undefined;
  /** Until when a silent flow must stay open (the expiry of the registrations it carries), or undefined. */
  flowHeldUntil: (connectionId: string) => number | undefined = () => undefined;
  /** Admission and timeouts of accepted connections, TCP and WebSocket together; refusals count in `rejects`. */
  readonly gate: ConnectionGate;
  private udp?: SipDatagramSocket;
  private readonly listeners: Partial<Record<SipStreamTransport, SipListener>> = {};
  private readonly connections = new Map<string, SipConnection>();

  private constructor(private readonly options: ServerTransportsOptions) {
    this.gate = new ConnectionGate({
      ...(options.connectionLimits ? { limits: options.connectionLimits } : {}),
      onRefused: (code) => this.rejects.count(code),
      heldUntil: (id) => this.flowHeldUntil(id),
    });
  }

  static async start(options: ServerTransportsOptions): Promise<ServerTransports> {
    const transports = new ServerTransports(options);
    const sockets = options.sockets ?? osSockets;
    try {
      if (options.udp !== undefined) {
        transports.udp = await sockets.bindUdp({ address: options.address, port: options.udp });
        transports.udp.onMessage = (data, remote) => transports.receive(data, { transport: 'udp', remote }, transports.udp!.local);
      }
      const listenerOptions = { gate: transports.gate, onError: (code: string) => transports.rejects.count(code), ...(options.credentials ? { tls: options.credentials } : {}) };
      for (const transport of ['tcp', 'ws', 'tls', 'wss'] as const) {
        const port = options[transport];
        if (port === undefined) continue;
        transports.listeners[transport] = await sockets.listen(transport, { address: options.address, port }, (c) => transports.adopt(c), listenerOptions);
      }
    } catch (error) {
      await transports.close();
      throw error;
    }
    return transports;
  }

  /** The endpoint we listen on for a transport. */
  local(transport: SipTransportKind): Endpoint | undefined {
    return transport === 'udp' ? this.udp?.local : this.listeners[transport]?.local;
  }

  get ports(): ServerPorts {
    const out: ServerPorts = {};
    if (this.udp) out.udp = this.udp.local.port;
    for (const transport of ['tcp', 'ws', 'tls', 'wss'] as const) {
      const listener = this.listeners[transport];
      if (listener) out[transport] = listener.local.port;
    }
    return out;
  }

  /** Whether `port` is one we listen on, whatever the transport. */
  isOurPort(port: number): boolean {
    return Object.values(this.ports).includes(port);
  }

  /** Accepted connections held, and the limits they are held to. */
  connectionStats(): ConnectionGateSnapshot {
    return this.gate.snapshot();
  }

  hasConnection(id: string): boolean {
    return this.connections.get(id)?.closed === false;
  }

  /** An open connection of `transport` to `remote`, if the peer has one with us. */
  findConnection(transport: SipTransportKind, remote: Endpoint): SipConnection | undefined {
    for (const connection of this.connections.values()) {
      if (connection.transport === transport && !connection.closed && sameEndpoint(connection.remote, remote)) return connection;
    }
    return undefined;
  }

  /**
   * Send over the given hop; TCP opens a connection when none exists. WebSocket cannot (the client must), and neither
   * do TLS and WSS: the lab reaches a TLS peer only over the flow it opened (it has no name to check a peer by).
   */
  async send(raw: string, hop: Hop): Promise<void> {
    if (hop.transport === 'udp') {
      if (!this.udp) throw new Error('no UDP listener');
      this.record('out', 'udp', this.udp.local, hop.remote, raw);
      await this.udp.send(raw, hop.remote);
      return;
    }
    let connection = hop.connectionId !== undefined ? this.connections.get(hop.connectionId) : undefined;
    if (!connection || connection.closed) connection = this.findConnection(hop.transport, hop.remote);
    if (!connection && hop.transport === 'tcp') {
      connection = await (this.options.sockets ?? osSockets).connect('tcp', hop.remote, { address: this.options.address });
      this.adopt(connection);
    }
    if (!connection) throw new Error(`no ${hop.transport} connection to ${formatEndpoint(hop.remote)}`);
    this.record('out', connection.transport, connection.local, connection.remote, raw);
    await connection.send(raw);
  }

  async close(): Promise<void> {
    const closing = [...this.connections.values()].map((connection) => connection.close());
    this.connections.clear();
    await Promise.all(closing);
    await Promise.all([this.udp?.close(), ...Object.values(this.listeners).map((listener) => listener.close())]);
  }

  private adopt(connection: SipConnection): void {
    if (connection instanceof TcpSipConnection && this.options.incompleteMessageMs !== undefined) connection.incompleteMessageMs = this.options.incompleteMessageMs;
    this.connections.set(connection.id, connection);
    connection.onMessage = (data) => this.receive(data, { transport: connection.transport, remote: connection.remote, connectionId: connection.id }, connection.local);
    connection.onClose = () => {
      if (connection.rejectCode) this.rejects.count(connection.rejectCode);
      this.connections.delete(connection.id);
      this.onConnectionClosed(connection.id);
    };
  }

  private receive(data: Buffer, hop: Hop, local: Endpoint): void {
    const verdict = inspectInbound(data);
    if (verdict.message) this.record('in', hop.transport, local, hop.remote, data.toString('utf8'));
    if (!verdict.ok) {
      this.rejects.count(verdict.error.code);
      // RFC 3261 §16.3: a request that fails validation is answered when it can be answered at all.
      if (verdict.reply) void this.send(verdict.reply.toString(), hop).catch(() => this.rejects.count('REPLY_FAILED'));
      return;
    }
    this.onMessage({ message: verdict.message, hop, local });
  }

  private record(dir: 'in' | 'out', transport: SipTransportKind, local: Endpoint, remote: Endpoint, raw: string): void {
    // Issue 17: the lab's trace (`veilphone lab --trace`) keeps no digest response or SDES key either.
    this.options.tap?.({ dir, at: Date.now(), transport, local: formatEndpoint(local), remote: formatEndpoint(remote), raw: redactTrace(raw) });
  }
}
