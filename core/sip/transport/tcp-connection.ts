import net from 'node:net';
import tls from 'node:tls';
import { SipParseError } from '../message/index.js';
import { formatEndpoint, normalizeAddress, type Endpoint } from './endpoint.js';
import { closeGraceMs, newConnectionId, type SipConnection } from './sip-connection.js';
import { StreamFramer } from './stream-framer.js';
import { TlsError, tlsErrorFrom } from './tls-error.js';
import { checkPeer, tlsClientOptions, type TlsClientSettings, type TlsSessionInfo } from './tls-trust.js';

/**
 * SIP over one TCP connection (RFC 3261 §18), framed by Content-Length; or over TLS on TCP (RFC 3261 §26.2), the
 * same framing, CRLF keep-alives and reuse inside the encryption.
 */
export class TcpSipConnection implements SipConnection {
  readonly id: string;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  closed = false;
  rejectCode?: string;
  /** Whole messages received. */
  messages = 0;
  onMessage: (data: Buffer) => void = () => undefined;
  onClose: (error?: Error) => void = () => undefined;
  /** A CRLF pong arrived, the answer to a CRLF CRLF ping we sent (RFC 5626 §4.4.1). */
  onPong: () => void = () => undefined;
  private readonly framer: StreamFramer;
  private readonly gone: Promise<void>;
  /**
   * How long part of a message may wait for the rest before the connection is closed: a Content-Length larger than
   * what follows leaves nothing else to do (RFC 4475 §3.1.2.2). Default 64·T1, a transaction's whole life.
   */
  incompleteMessageMs = 32_000;
  private incompleteTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: net.Socket,
    readonly transport: 'tcp' | 'tls' = 'tcp',
    /** The TLS session, on a TLS connection. */
    readonly tls?: TlsSessionInfo,
    /** Under TLS, the TCP socket itself (the one a reset goes to). */
    private readonly raw?: net.Socket,
  ) {
    this.id = newConnectionId(transport);
    this.gone = new Promise((resolve) => socket.once('close', () => resolve()));
    this.local = { address: normalizeAddress(socket.localAddress ?? ''), port: socket.localPort ?? 0 };
    this.remote = { address: normalizeAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    socket.setNoDelay(true);
    this.framer = new StreamFramer(
      (message) => {
        this.messages++;
        this.onMessage(message);
      },
      () => socket.write('\r\n'), // RFC 5626 §3.5.1 pong
      () => this.onPong(),
    );
    socket.on('data', (chunk: Buffer) => {
      try {
        this.framer.push(chunk);
      } catch (error) {
        this.rejectCode = error instanceof SipParseError ? error.code : 'FRAMING';
        this.finish(error as Error);
        socket.destroy();
        return;
      }
      this.watchIncomplete();
    });
    socket.on('error', (error) => this.finish(error));
    socket.on('close', () => this.finish());
  }

  /** A message has begun arriving and not ended. */
  get midMessage(): boolean {
    return this.framer.midMessage;
  }

  /** Open a connection to `remote`, optionally from a fixed local address and port (a leased port). */
  static async connect(remote: Endpoint, local?: Partial<Endpoint>, timeoutMs = 5000): Promise<TcpSipConnection> {
    return new TcpSipConnection(await connectSocket(remote, local, timeoutMs));
  }

  /**
   * Open a TLS connection to `remote` (optionally from a fixed local address and port) and check the server as the
   * settings say; a failure is a TlsError, never a connection in the clear. The whole handshake must finish within
   * `handshakeTimeoutMs`, so a server that accepts and then stalls cannot hold the phone.
   */
  static connectTls(remote: Endpoint, local: Partial<Endpoint> | undefined, settings: TlsClientSettings, connectTimeoutMs = 5000): Promise<TcpSipConnection> {
    const server = `${settings.serverName} (${formatEndpoint(remote)})`;
    let options: tls.ConnectionOptions;
    try {
      options = tlsClientOptions(settings);
    } catch (error) {
      return Promise.reject(error);
    }
    return connectSocket(remote, local, connectTimeoutMs).then(
      (raw) =>
        new Promise<TcpSipConnection>((resolve, reject) => {
          // The TCP socket is ours (not tls.connect's own), so a close can reset it: no FIN is resent from an address
          // the phone has discarded (TLSSocket itself cannot be reset).
          const socket = tls.connect({ ...options, socket: raw });
          const handshakeMs = settings.handshakeTimeoutMs ?? connectTimeoutMs;
          let settled = false;
          const fail = (error: Error): void => {
            clearTimeout(timer);
            if (settled) return;
            settled = true;
            if (!raw.destroyed) raw.resetAndDestroy();
            reject(error);
          };
          const onError = (error: Error): void => fail(tlsErrorFrom(error, server));
          const timer = setTimeout(() => fail(new TlsError('HANDSHAKE_TIMEOUT', `${server} accepted the connection but did not finish the TLS handshake within ${handshakeMs} ms`)), handshakeMs);
          socket.once('secureConnect', () => {
            let session: TlsSessionInfo;
            try {
              session = checkPeer(socket, settings, server);
            } catch (error) {
              fail(error as Error);
              return;
            }
            clearTimeout(timer);
            if (settled) return;
            settled = true;
            socket.off('error', onError);
            resolve(new TcpSipConnection(socket, 'tls', session, raw));
          });
          socket.on('error', onError);
        }),
    );
  }

  send(message: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`connection ${this.id} is closed`));
    return new Promise((resolve, reject) => this.socket.write(message, (error) => (error ? reject(error) : resolve())));
  }

  async close(graceMs = closeGraceMs): Promise<void> {
    if (this.socket.destroyed) return;
    this.socket.end(); // our FIN; Node closes the socket once the peer's FIN arrives (allowHalfOpen is off)
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    const outcome = await Promise.race([this.gone, late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      (this.raw ?? this.socket).resetAndDestroy(); // RST: nothing is retransmitted from this address afterwards
      await this.gone;
    }
  }

  /** Start the clock when a message is left incomplete, stop it when none is. */
  private watchIncomplete(): void {
    if (!this.framer.midMessage) {
      clearTimeout(this.incompleteTimer);
      this.incompleteTimer = undefined;
      return;
    }
    this.incompleteTimer ??= setTimeout(() => {
      if (this.closed) return;
      this.rejectCode = 'INCOMPLETE_MESSAGE';
      this.finish(new SipParseError('TRUNCATED_BODY', `no complete message within ${this.incompleteMessageMs} ms`));
      this.socket.destroy();
    }, this.incompleteMessageMs);
  }

  private finish(error?: Error): void {
    clearTimeout(this.incompleteTimer);
    if (this.closed) return;
    this.closed = true;
    this.onClose(error);
  }
}

/** A TCP connection to `remote`, optionally from a fixed local address and port. */
function connectSocket(remote: Endpoint, local: Partial<Endpoint> | undefined, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const options: net.NetConnectOpts = { host: remote.address, port: remote.port };
    if (local?.address) options.localAddress = local.address;
    if (local?.port) options.localPort = local.port;
    const socket = net.connect(options);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TCP connect to ${formatEndpoint(remote)} timed out`));
    }, timeoutMs);
    const onError = (error: Error): void => {
      clearTimeout(timer);
      reject(error);
    };
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
    socket.once('error', onError);
  });
}
