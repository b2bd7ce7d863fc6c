import { sourceAddressFor } from '../local-address.js';
import type { Endpoint } from './endpoint.js';
import type { SipConnection } from './sip-connection.js';
import { listenTcp, listenWs, type SipListener, type StreamListenerOptions } from './stream-listeners.js';
import { TcpSipConnection } from './tcp-connection.js';
import { UdpSipSocket } from './udp-socket.js';
import { WsSipConnection } from './ws-connection.js';

/** A bound datagram socket carrying one SIP message per datagram (UdpSipSocket, or a test's in-memory one). */
export interface SipDatagramSocket {
  readonly local: Endpoint;
  onMessage: (data: Buffer, remote: Endpoint) => void;
  send(message: string | Buffer, remote: Endpoint): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where SIP sockets come from: the operating system's, or an in-memory network a unit test links its phones and lab
 * with (sip.js's TransportFake idea, ARCHITECTURE.md "Tests"). Everything above the socket — framing aside, sip.js,
 * our transport, retransmissions, the lab's proxy — is the same either way.
 */
export interface SipSockets {
  bindUdp(local: Endpoint): Promise<SipDatagramSocket>;
  /** Open a TCP or WebSocket connection to `remote`, optionally from a fixed local address and port. */
  connect(transport: 'tcp' | 'ws', remote: Endpoint, local?: Partial<Endpoint>): Promise<SipConnection>;
  /** Listen for TCP or WebSocket connections; `options` admit and time them (the OS's listeners; a test's may ignore them). */
  listen(transport: 'tcp' | 'ws', local: Endpoint, onConnection: (connection: SipConnection) => void, options?: StreamListenerOptions): Promise<SipListener>;
  /** The local address this host would use to reach `remote`. */
  sourceAddressFor(remote: string, port?: number): Promise<string>;
}

/** The operating system's sockets. */
export const osSockets: SipSockets = {
  bindUdp: (local) => UdpSipSocket.bind(local),
  connect: (transport, remote, local) => (transport === 'tcp' ? TcpSipConnection.connect(remote, local) : WsSipConnection.connect(remote, local)),
  listen: (transport, local, onConnection, options) => (transport === 'tcp' ? listenTcp(local, onConnection, options) : listenWs(local, onConnection, options)),
  sourceAddressFor: (remote, port) => sourceAddressFor(remote, port),
};
