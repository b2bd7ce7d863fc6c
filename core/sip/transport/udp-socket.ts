import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { datagramLookup } from '../../media/datagram-lookup.js';
import { normalizeAddress, type Endpoint } from './endpoint.js';

/** A UDP socket bound to one address and port, carrying one SIP message per datagram (RFC 3261 §18.1.1). */
export class UdpSipSocket {
  onMessage: (data: Buffer, remote: Endpoint) => void = () => undefined;
  private constructor(
    private readonly socket: dgram.Socket,
    readonly local: Endpoint,
  ) {
    socket.on('message', (data, rinfo) => this.onMessage(data, { address: normalizeAddress(rinfo.address), port: rinfo.port }));
    // Errors on a datagram socket (ICMP unreachable and the like) concern one peer, never the socket.
    socket.on('error', () => undefined);
  }

  static bind(local: Endpoint): Promise<UdpSipSocket> {
    const type = isIP(local.address) === 6 ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, ipv6Only: type === 'udp6', lookup: datagramLookup });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(local.port, local.address, () => {
        socket.off('error', reject);
        const bound = socket.address();
        resolve(new UdpSipSocket(socket, { address: normalizeAddress(bound.address), port: bound.port }));
      });
    });
  }

  /** Node drops send errors silently without a callback, so this always passes one. */
  send(message: string | Buffer, remote: Endpoint): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(message, remote.port, remote.address, (error) => (error ? reject(error) : resolve()));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
