import { sourceAddressFor } from '../local-address.js';
import type { Endpoint, SipStreamTransport } from './endpoint.js';
import type { SipConnection } from './sip-connection.js';
import { listenTcp, listenTls, listenWs, listenWss, type SipListener, type StreamListenerOptions } from './stream-listeners.js';
import { TcpSipConnection } from './tcp-connection.js';
import { TlsError } from './tls-error.js';
import type { TlsClientSettings } from './tls-trust.js';
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
  /**
   * Open a TCP, TLS, WebSocket or secure WebSocket connection to `remote`, optionally from a fixed local address and
   * port; TLS and WSS check the server with `tls` (required for them) and fail with a TlsError.
   */
  connect(transport: SipStreamTransport, remote: Endpoint, local?: Partial<Endpoint>, tls?: TlsClientSettings): Promise<SipConnection>;
  /**
   * Listen for connections; `options` admit and time them (the OS's listeners; a test's may ignore them) and give TLS
   * and WSS listeners their certificate.
   */
  listen(transport: SipStreamTransport, local: Endpoint, onConnection: (connection: SipConnection) => void, options?: StreamListenerOptions): Promise<SipListener>;
  /** The local address this host would use to reach `remote`. */
  sourceAddressFor(remote: string, port?: number): Promise<string>;
}

/** The operating system's sockets. */
export const osSockets: SipSockets = {
  bindUdp: (local) => UdpSipSocket.bind(local),
  connect: (transport, remote, local, tls) => {
    if (transport === 'tcp') return TcpSipConnection.connect(remote, local);
    if (transport === 'ws') return WsSipConnection.connect(remote, local);
    // never a secure transport without its checks (and never cleartext instead)
    if (!tls) return Promise.reject(new TlsError('HANDSHAKE_FAILED', `a ${transport} connection needs TLS settings (the server name and how to trust it)`));
    return transport === 'tls' ? TcpSipConnection.connectTls(remote, local, tls) : WsSipConnection.connectSecure(remote, local, tls);
  },
  listen: (transport, local, onConnection, options = {}) => {
    if (transport === 'tcp') return listenTcp(local, onConnection, options);
    if (transport === 'ws') return listenWs(local, onConnection, options);
    return transport === 'tls' ? listenTls(local, onConnection, options) : listenWss(local, onConnection, options);
  },
  sourceAddressFor: (remote, port) => sourceAddressFor(remote, port),
};
