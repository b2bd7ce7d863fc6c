import { ContactFlow } from './contact-flow.js';
import type { Endpoint, SipTransportKind } from './endpoint.js';
import type { SipConnection } from './sip-connection.js';
import { osSockets, type SipDatagramSocket, type SipSockets } from './sip-sockets.js';
import { TcpSipConnection } from './tcp-connection.js';
import type { TlsClientSettings, TlsSessionInfo } from './tls-trust.js';

/**
 * What one phone identity talks through: a bound UDP socket, or one TCP/WebSocket connection to its server
 * opened from the identity's own address and port (RFC 5626-style persistent flow, so the server reaches the
 * phone over the same connection). Over TCP the identity also listens on that address and port, its Contact's
 * (contact-flow.ts); a WebSocket client cannot (RFC 7118 §6).
 */
export interface SipFlow {
  readonly transport: SipTransportKind;
  readonly local: Endpoint;
  /** For UDP the datagram goes to `remote`; a connection flow always sends on its connection. */
  send(raw: string, remote: Endpoint): Promise<void>;
  onData: (data: Buffer, remote: Endpoint) => void;
  /** RFC 5626 §4.4.1 CRLF keep-alives on the connection to the server (a ContactFlow's). */
  keepAlive?(intervalMs: () => number, pongTimeoutMs: number): void;
  /** Whether `remote` is a peer that connected to our Contact (a ContactFlow's), not our server. */
  acceptedFrom?(remote: Endpoint): boolean;
  /** A connection flow closed (never called for UDP). */
  onClose: (error?: Error) => void;
  close(): Promise<void>;
  readonly connected: boolean;
  /** The TLS session of a TLS or WSS flow (version, cipher, the server's fingerprint). */
  readonly tls?: TlsSessionInfo;
}

export interface FlowOptions {
  /** TCP: how long part of a message may wait for the rest (TcpSipConnection.incompleteMessageMs). */
  incompleteMessageMs?: number;
  /** TCP: a connection to the Contact's listener refused or timed out, by code. */
  onRefused?: (code: string) => void;
  /** TCP: the addresses of the identity's servers, besides the one it connects to (the Contact keeps room for them). */
  serverAddresses?: readonly string[];
  /** TLS and WSS: how the server is checked (required for them). */
  tls?: TlsClientSettings;
}

export async function openFlow(transport: SipTransportKind, local: Endpoint, server: Endpoint, sockets: SipSockets = osSockets, options: FlowOptions = {}): Promise<SipFlow> {
  if (transport === 'udp') return new UdpFlow(await sockets.bindUdp(local));
  if (transport === 'tcp') {
    const flow = await ContactFlow.open(sockets, server, local, {
      ...(options.onRefused ? { onRefused: options.onRefused } : {}),
      ...(options.serverAddresses ? { serverAddresses: options.serverAddresses } : {}),
    });
    if (flow.serverConnection instanceof TcpSipConnection && options.incompleteMessageMs !== undefined) flow.serverConnection.incompleteMessageMs = options.incompleteMessageMs;
    return flow;
  }
  const connection = await sockets.connect(transport, server, local, options.tls);
  if (connection instanceof TcpSipConnection && options.incompleteMessageMs !== undefined) connection.incompleteMessageMs = options.incompleteMessageMs;
  return new ConnectionFlow(connection);
}

class UdpFlow implements SipFlow {
  readonly transport = 'udp' as const;
  onData: (data: Buffer, remote: Endpoint) => void = () => undefined;
  onClose: (error?: Error) => void = () => undefined;
  connected = true;

  constructor(private readonly socket: SipDatagramSocket) {
    socket.onMessage = (data, remote) => this.onData(data, remote);
  }

  get local(): Endpoint {
    return this.socket.local;
  }

  send(raw: string, remote: Endpoint): Promise<void> {
    return this.socket.send(raw, remote);
  }

  async close(): Promise<void> {
    this.connected = false;
    await this.socket.close();
  }
}

class ConnectionFlow implements SipFlow {
  onData: (data: Buffer, remote: Endpoint) => void = () => undefined;
  onClose: (error?: Error) => void = () => undefined;

  constructor(private readonly connection: SipConnection) {
    connection.onMessage = (data) => this.onData(data, connection.remote);
    connection.onClose = (error) => this.onClose(error);
  }

  get transport(): SipTransportKind {
    return this.connection.transport;
  }

  get local(): Endpoint {
    return this.connection.local;
  }

  get tls(): TlsSessionInfo | undefined {
    return this.connection.tls;
  }

  get connected(): boolean {
    return !this.connection.closed;
  }

  send(raw: string): Promise<void> {
    return this.connection.send(raw);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
