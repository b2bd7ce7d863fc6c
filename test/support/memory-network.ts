import { isIP } from 'node:net';
import { formatEndpoint, type Endpoint, type SipStreamTransport } from '../../core/sip/transport/endpoint.js';
import { newConnectionId, type SipConnection } from '../../core/sip/transport/sip-connection.js';
import type { SipDatagramSocket, SipSockets } from '../../core/sip/transport/sip-sockets.js';
import type { SipListener } from '../../core/sip/transport/stream-listeners.js';

/** An error like the one Node gives for that socket failure (`code` and the code in the message). */
function socketError(code: string, what: string): Error {
  return Object.assign(new Error(`${what} ${code}`), { code });
}

const wildcard = (address: string): string => (isIP(address) === 6 ? '::' : '0.0.0.0');

/**
 * SIP sockets in memory (sip.js's TransportFake idea, ARCHITECTURE.md "Tests"): phones (`new Phone({ sockets })`) and
 * the lab (`Lab.start({ sockets })`) given the same network reach each other as if over loopback — datagrams,
 * TCP and WebSocket connections, whole SIP messages each — but no socket of the operating system is opened. Delivery
 * is asynchronous (a turn of the event loop, like I/O); a datagram to an address nobody bound is lost; a connection to
 * one nobody listens on is refused; a port taken twice is EADDRINUSE, except that a listener may take the port of a
 * connection opened before it (as Linux allows with SO_REUSEADDR, which Node sets; a phone's TCP Contact does that).
 */
export class MemoryNetwork implements SipSockets {
  private readonly datagram = new Map<string, MemoryDatagramSocket>();
  private readonly listeners = new Map<string, { transport: 'tcp' | 'ws'; onConnection: (connection: SipConnection) => void }>();
  /** Stream ports taken by connections' local ends, by `address:port` (listeners are in `listeners`). */
  private readonly streamPorts = new Set<string>();
  private nextPort = 30000;
  /** Messages carried so far, datagrams and connection messages alike. */
  carried = 0;

  async bindUdp(local: Endpoint): Promise<SipDatagramSocket> {
    const port = local.port === 0 ? this.freePort(local.address, (key) => this.datagram.has(key)) : local.port;
    const key = formatEndpoint({ address: local.address, port });
    if (this.datagram.has(key)) throw socketError('EADDRINUSE', `bind ${key}`);
    const socket = new MemoryDatagramSocket({ address: local.address, port }, this, () => this.datagram.delete(key));
    this.datagram.set(key, socket);
    return socket;
  }

  async listen(transport: SipStreamTransport, local: Endpoint, onConnection: (connection: SipConnection) => void): Promise<SipListener> {
    if (transport !== 'tcp' && transport !== 'ws') throw noTls(transport);
    const port = local.port === 0 ? this.freePort(local.address, (key) => this.streamPorts.has(key) || this.listeners.has(key)) : local.port;
    const endpoint = { address: local.address, port };
    const key = formatEndpoint(endpoint);
    if (this.listeners.has(key)) throw socketError('EADDRINUSE', `listen ${key}`);
    this.listeners.set(key, { transport, onConnection });
    const open = new Set<SipConnection>();
    const listener = this.listeners.get(key)!;
    listener.onConnection = (connection) => {
      open.add(connection);
      onConnection(connection);
    };
    return {
      local: endpoint,
      close: async () => {
        this.listeners.delete(key);
        for (const connection of open) connection.close();
      },
    };
  }

  async connect(transport: SipStreamTransport, remote: Endpoint, local?: Partial<Endpoint>): Promise<SipConnection> {
    if (transport !== 'tcp' && transport !== 'ws') throw noTls(transport);
    const listener = this.listeners.get(formatEndpoint(remote)) ?? this.listeners.get(formatEndpoint({ address: wildcard(remote.address), port: remote.port }));
    if (!listener || listener.transport !== transport) throw socketError('ECONNREFUSED', `connect ${formatEndpoint(remote)}`);
    const address = local?.address ?? (await this.sourceAddressFor(remote.address));
    const port = local?.port ? local.port : this.freePort(address, (key) => this.streamPorts.has(key) || this.listeners.has(key));
    const key = formatEndpoint({ address, port });
    if (this.streamPorts.has(key) || this.listeners.has(key)) throw socketError('EADDRINUSE', `connect from ${key}`);
    this.streamPorts.add(key);
    const client = new MemoryConnection(transport, { address, port }, remote, this, () => this.streamPorts.delete(key));
    const server = new MemoryConnection(transport, remote, { address, port }, this, () => undefined);
    client.link(server);
    server.link(client);
    listener.onConnection(server);
    return client;
  }

  async sourceAddressFor(remote: string): Promise<string> {
    return isIP(remote) === 6 ? '::1' : '127.0.0.1';
  }

  /** Hand a datagram to whoever is bound at `to` (lost when nobody is), a turn of the event loop later. */
  deliverDatagram(data: Buffer, from: Endpoint, to: Endpoint): void {
    const target = this.datagram.get(formatEndpoint(to)) ?? this.datagram.get(formatEndpoint({ address: wildcard(to.address), port: to.port }));
    this.carried++;
    setImmediate(() => target?.receive(Buffer.from(data), { ...from }));
  }

  private freePort(address: string, taken: (key: string) => boolean): number {
    for (let i = 0; i < 30000; i++) {
      const port = this.nextPort;
      this.nextPort = this.nextPort >= 59999 ? 30000 : this.nextPort + 1;
      if (!taken(formatEndpoint({ address, port }))) return port;
    }
    throw socketError('EADDRINUSE', `no free port on ${address}`);
  }
}

// Private (#) fields: sip.js logs its options with JSON.stringify, which must not meet the network's cycles.
class MemoryDatagramSocket implements SipDatagramSocket {
  onMessage: (data: Buffer, remote: Endpoint) => void = () => undefined;
  private closed = false;
  readonly #network: MemoryNetwork;
  readonly #unbind: () => void;

  constructor(
    readonly local: Endpoint,
    network: MemoryNetwork,
    unbind: () => void,
  ) {
    this.#network = network;
    this.#unbind = unbind;
  }

  async send(message: string | Buffer, remote: Endpoint): Promise<void> {
    if (this.closed) throw socketError('ERR_SOCKET_DGRAM_NOT_RUNNING', 'send');
    this.#network.deliverDatagram(Buffer.isBuffer(message) ? message : Buffer.from(message), this.local, remote);
  }

  receive(data: Buffer, remote: Endpoint): void {
    if (!this.closed) this.onMessage(data, remote);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.#unbind();
  }
}

class MemoryConnection implements SipConnection {
  readonly id: string;
  closed = false;
  #peer?: MemoryConnection;
  onMessage: (data: Buffer) => void = () => undefined;
  onClose: (error?: Error) => void = () => undefined;
  readonly #network: MemoryNetwork;
  readonly #release: () => void;

  constructor(
    readonly transport: 'tcp' | 'ws',
    readonly local: Endpoint,
    readonly remote: Endpoint,
    network: MemoryNetwork,
    release: () => void,
  ) {
    this.id = newConnectionId(transport);
    this.#network = network;
    this.#release = release;
  }

  /** The other end. */
  link(peer: MemoryConnection): void {
    this.#peer = peer;
  }

  async send(message: string): Promise<void> {
    if (this.closed) throw new Error(`connection ${this.id} is closed`);
    const peer = this.#peer!;
    const data = Buffer.from(message);
    this.#network.carried++;
    setImmediate(() => {
      if (!peer.closed) peer.onMessage(data);
    });
  }

  async close(): Promise<void> {
    this.finish();
    this.#peer?.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.#release();
    setImmediate(() => this.onClose());
  }
}

/** TLS is not imitated in memory: a test of TLS or WSS uses real sockets on loopback (and real certificates). */
function noTls(transport: string): Error {
  return new Error(`the in-memory network carries no ${transport}: test TLS and WSS on real sockets`);
}
