import { ConnectionGate, type ConnectionRefusal } from './connection-gate.js';
import { formatEndpoint, normalizeAddress, type Endpoint } from './endpoint.js';
import type { SipConnection } from './sip-connection.js';
import type { SipFlow } from './sip-flow.js';
import type { SipSockets } from './sip-sockets.js';
import type { SipListener } from './stream-listeners.js';

/**
 * How many connections peers may hold open to one phone identity's Contact at once (a phone is no server): four
 * stranger addresses fill the 32, and the identity's own servers still find 8 more.
 */
const contactLimits = { maxConnections: 32, maxPerSource: 8, reservedConnections: 8 };

export interface ContactFlowOptions {
  /** A connection refused or timed out at the Contact's listener, or an accept failure: counted by code. */
  onRefused?: (code: ConnectionRefusal | string) => void;
  /** The identity's servers' addresses: the connections reserved for them are theirs alone. */
  serverAddresses?: readonly string[];
}

/**
 * A TCP identity's flow: its own connection to the server, opened from the identity's address and port (a server
 * reaches it over that connection, RFC 5626 §5.3), and a listener on that same address and port, which the Contact
 * names (RFC 3261 §18.2.1: be ready to receive where the URI we hand out points). A peer that connects to the Contact
 * (calling it directly, or a server that opens a connection of its own) is accepted; its responses go back over its
 * connection (§18.2.2), requests of ours still go to the server.
 */
export class ContactFlow implements SipFlow {
  readonly transport = 'tcp' as const;
  onData: (data: Buffer, remote: Endpoint) => void = () => undefined;
  onClose: (error?: Error) => void = () => undefined;
  /** Connections peers opened to the Contact, by their `address:port`. */
  private readonly accepted = new Map<string, SipConnection>();
  private listener: SipListener | undefined;
  private closing: Promise<void> | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  /** Why the flow was given up (a keep-alive unanswered): sip.js reconnects only after a drop with an error. */
  private failed: Error | undefined;

  private constructor(private readonly connection: SipConnection) {
    connection.onMessage = (data) => this.onData(data, connection.remote);
    connection.onClose = (error) => {
      clearTimeout(this.keepAliveTimer);
      void this.shut().then(() => this.onClose(error ?? this.failed));
    };
  }

  /**
   * Connect to the server first, then listen: Linux lets a listener bind the port of an existing connection (both
   * with SO_REUSEADDR) but refuses to bind a new connection to a port a listener holds.
   */
  static async open(sockets: SipSockets, server: Endpoint, local: Endpoint, options: ContactFlowOptions = {}): Promise<ContactFlow> {
    const connection = await sockets.connect('tcp', server, local);
    const flow = new ContactFlow(connection);
    const servers = new Set([server.address, ...(options.serverAddresses ?? [])].map(normalizeAddress));
    const gate = new ConnectionGate({ limits: contactLimits, reserved: (source) => servers.has(source), ...(options.onRefused ? { onRefused: options.onRefused } : {}) });
    try {
      flow.listener = await sockets.listen('tcp', connection.local, (accepted) => flow.accept(accepted), { gate, ...(options.onRefused ? { onError: options.onRefused } : {}) });
      if (flow.closing) await flow.listener.close(); // the server's connection dropped meanwhile
    } catch (error) {
      await connection.close();
      throw error;
    }
    return flow;
  }

  get local(): Endpoint {
    return this.connection.local;
  }

  get connected(): boolean {
    return !this.connection.closed;
  }

  /** The connection to the server, for keep-alives (RFC 5626 §4.4.1). */
  get serverConnection(): SipConnection {
    return this.connection;
  }

  /** Whether `remote` is a peer that connected to the Contact (not the server over our own connection). */
  acceptedFrom(remote: Endpoint): boolean {
    return this.accepted.has(formatEndpoint(remote));
  }

  /** A response to a peer's request goes back over the connection it came on (RFC 3261 §18.2.2); the rest to the server. */
  send(raw: string, remote: Endpoint): Promise<void> {
    const peer = this.accepted.get(formatEndpoint(remote));
    return (peer && !peer.closed ? peer : this.connection).send(raw);
  }

  async close(): Promise<void> {
    clearTimeout(this.keepAliveTimer);
    await Promise.all([this.shut(), this.connection.close()]);
  }

  /**
   * RFC 5626 §4.4.1: a CRLF CRLF ping on the connection to the server every `intervalMs()` (drawn anew each time); a
   * pong (CRLF) must come within `pongTimeoutMs`, or the flow has failed: it is closed with an error, so the identity
   * opens it again and registers anew. Replaces an earlier schedule; a connection that cannot hear pongs is left alone.
   */
  keepAlive(intervalMs: () => number, pongTimeoutMs: number): void {
    clearTimeout(this.keepAliveTimer);
    const connection = this.connection;
    if (connection.onPong === undefined || connection.closed) return;
    const ping = (): void => {
      if (connection.closed) return;
      let answered = false;
      connection.onPong = () => (answered = true);
      connection.send('\r\n\r\n').catch(() => undefined); // a failed write closes the connection itself
      this.keepAliveTimer = setTimeout(() => {
        if (connection.closed) return;
        if (!answered) {
          this.failed = new Error(`no pong within ${pongTimeoutMs} ms of a keep-alive (RFC 5626 §4.4.1)`);
          void connection.close(0);
          return;
        }
        this.keepAliveTimer = setTimeout(ping, Math.max(0, intervalMs() - pongTimeoutMs));
      }, pongTimeoutMs);
      this.keepAliveTimer.unref?.();
    };
    this.keepAliveTimer = setTimeout(ping, intervalMs());
    this.keepAliveTimer.unref?.();
  }

  private accept(connection: SipConnection): void {
    const key = formatEndpoint(connection.remote);
    this.accepted.set(key, connection);
    connection.onMessage = (data) => this.onData(data, connection.remote);
    connection.onClose = () => {
      if (this.accepted.get(key) === connection) this.accepted.delete(key);
    };
  }

  /** Stop listening and close the peers' connections (the port is free for the connection opened again after a drop). */
  private shut(): Promise<void> {
    this.closing ??= (async () => {
      const listener = this.listener;
      this.listener = undefined;
      await Promise.all([listener?.close(), ...[...this.accepted.values()].map((c) => c.close())]);
      this.accepted.clear();
    })();
    return this.closing;
  }
}
