import dgram from 'node:dgram';
import { LeaseError } from './lease-error.js';

export interface LeaseEndpoint {
  address: string;
  port: number;
}

/**
 * How DHCP messages leave and reach the client (ARCHITECTURE.md "Interfaces at the seams"). The real transport
 * broadcasts from port 68 to port 67 on the link; the lab transport sends the same bytes to one server on loopback.
 */
export interface LeaseTransport {
  /** RFC 2131 §4.1: DISCOVER, REQUEST while selecting, rebooting or rebinding go to every server. */
  broadcast(packet: Buffer): Promise<void>;
  /** RFC 2131 §4.4.5 / §4.4.6: renewal and release go to the leasing server only. */
  unicast(packet: Buffer, serverAddress: string): Promise<void>;
  onPacket(handler: (packet: Buffer, from: LeaseEndpoint) => void): void;
  close(): Promise<void>;
  /**
   * Every message goes to one server on this host's loopback (the embedded lab): the addresses it leases are loopback
   * ones (127.x, which any process may bind), where a server on a network link must never lease one.
   */
  readonly toLoopbackServer?: boolean;
}

export interface UdpLeaseTransportOptions {
  /** Local address (default 0.0.0.0: a client without an address yet). */
  bindAddress?: string;
  /** Local port (default 68, RFC 2131 §4.1); 0 picks a free one (the lab). */
  port?: number;
  /** Server port (default 67). */
  serverPort?: number;
  /** Where broadcasts go (default 255.255.255.255). */
  broadcastAddress?: string;
  /**
   * The lab: every message, broadcast or not, goes to this one server (loopback, any ports), so no root and no
   * broadcast route are needed.
   */
  server?: LeaseEndpoint;
}

/** DHCP over a UDP socket: on a real link (root or a namespace) or on loopback against the lab. */
export class UdpLeaseTransport implements LeaseTransport {
  private handler: ((packet: Buffer, from: LeaseEndpoint) => void) | undefined;
  private closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly options: UdpLeaseTransportOptions,
  ) {
    socket.on('message', (packet, rinfo) => this.handler?.(packet, { address: rinfo.address, port: rinfo.port }));
    // An error after bind (e.g. ICMP unreachable surfaced on Linux) must not crash the phone; sends report their own.
    socket.on('error', () => undefined);
  }

  static async open(options: UdpLeaseTransportOptions = {}): Promise<UdpLeaseTransport> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(new LeaseError('TRANSPORT_FAILED', `cannot bind DHCP client port: ${error.message}`));
      socket.once('error', onError);
      socket.bind(options.port ?? 68, options.bindAddress ?? '0.0.0.0', () => {
        socket.off('error', onError);
        resolve();
      });
    });
    if (options.server === undefined) socket.setBroadcast(true);
    return new UdpLeaseTransport(socket, options);
  }

  /** The lab's form: loopback, a free local port, one server. */
  static loopback(server: LeaseEndpoint, bindAddress = '127.0.0.1'): Promise<UdpLeaseTransport> {
    return UdpLeaseTransport.open({ bindAddress, port: 0, server });
  }

  get toLoopbackServer(): boolean {
    const server = this.options.server;
    return server !== undefined && /^127\./.test(server.address);
  }

  get local(): LeaseEndpoint {
    const { address, port } = this.socket.address();
    return { address, port };
  }

  broadcast(packet: Buffer): Promise<void> {
    const to = this.options.server ?? { address: this.options.broadcastAddress ?? '255.255.255.255', port: this.options.serverPort ?? 67 };
    return this.send(packet, to);
  }

  unicast(packet: Buffer, serverAddress: string): Promise<void> {
    return this.send(packet, this.options.server ?? { address: serverAddress, port: this.options.serverPort ?? 67 });
  }

  onPacket(handler: (packet: Buffer, from: LeaseEndpoint) => void): void {
    this.handler = handler;
  }

  private send(packet: Buffer, to: LeaseEndpoint): Promise<void> {
    if (this.closed) return Promise.reject(new LeaseError('STOPPED', 'the DHCP transport is closed'));
    // Node drops dgram send errors silently without a callback (ENVIRONMENT.md): always pass one.
    return new Promise((resolve, reject) => {
      this.socket.send(packet, to.port, to.address, (error) => {
        if (error) reject(new LeaseError('TRANSPORT_FAILED', `cannot send to ${to.address}:${to.port}: ${error.message}`));
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
