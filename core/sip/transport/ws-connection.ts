import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';
import { formatEndpoint, normalizeAddress, type Endpoint } from './endpoint.js';
import { closeGraceMs, newConnectionId, type SipConnection } from './sip-connection.js';
import { TlsError, tlsErrorFrom } from './tls-error.js';
import { checkPeer, tlsClientOptions, type TlsClientSettings, type TlsSessionInfo } from './tls-trust.js';

/** RFC 7118 §4.1: the WebSocket subprotocol for SIP. */
export const sipSubprotocol = 'sip';
export const maxWsMessageBytes = 65_536;

/** SIP over one WebSocket (RFC 7118): one SIP message per WebSocket message; over TLS for WSS (RFC 7118 §5). */
export class WsSipConnection implements SipConnection {
  readonly id: string;
  closed = false;
  rejectCode?: string;
  onMessage: (data: Buffer) => void = () => undefined;
  onClose: (error?: Error) => void = () => undefined;

  constructor(
    private readonly socket: WebSocket,
    readonly local: Endpoint,
    readonly remote: Endpoint,
    readonly transport: 'ws' | 'wss' = 'ws',
    /** The TLS session, on a secure WebSocket. */
    readonly tls?: TlsSessionInfo,
    /** Under TLS, the TCP socket itself (the one a reset goes to: a TLS socket cannot be reset). */
    private readonly raw?: Socket,
  ) {
    this.id = newConnectionId(transport);
    socket.on('message', (data: WebSocket.RawData) => {
      this.onMessage(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer));
    });
    // A frame ws refuses (invalid UTF-8, over maxPayload, bad opcode...): ws answers with the RFC 6455 §7.4.1 close
    // code and closes; the reason is counted under ws's error code.
    socket.on('error', (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      this.rejectCode = typeof code === 'string' && /^WS_ERR_[A-Z0-9_]{1,40}$/.test(code) ? code : 'WS_ERROR';
      this.finish(error);
    });
    socket.on('close', () => this.finish());
  }

  /** Connect to `ws://host:port/`, optionally from a fixed local address and port. */
  static connect(remote: Endpoint, local?: Partial<Endpoint>, timeoutMs = 5000): Promise<WsSipConnection> {
    const host = remote.address.includes(':') ? `[${remote.address}]` : remote.address;
    return new Promise((resolve, reject) => {
      const options: WebSocket.ClientOptions = { handshakeTimeout: timeoutMs, maxPayload: maxWsMessageBytes };
      if (local?.address) options.localAddress = local.address;
      if (local?.port) (options as { localPort?: number }).localPort = local.port;
      const socket = new WebSocket(`ws://${host}:${remote.port}/`, sipSubprotocol, options);
      socket.once('open', () => {
        const raw = (socket as unknown as { _socket: Socket })._socket;
        const localEnd = { address: normalizeAddress(raw.localAddress ?? ''), port: raw.localPort ?? 0 };
        if (socket.protocol !== sipSubprotocol) {
          socket.close(1002, 'sip subprotocol required');
          reject(new Error(`server at ${host}:${remote.port} did not accept the "sip" subprotocol`));
          return;
        }
        resolve(new WsSipConnection(socket, localEnd, remote));
      });
      socket.once('error', reject);
    });
  }

  /**
   * Connect to `wss://host:port/` (RFC 7118 §5) and check the server as the settings say before a SIP message is sent;
   * a failure is a TlsError, never a WebSocket in the clear. `timeoutMs` bounds the TCP, TLS and HTTP handshakes.
   */
  static connectSecure(remote: Endpoint, local: Partial<Endpoint> | undefined, settings: TlsClientSettings, timeoutMs = 5000): Promise<WsSipConnection> {
    const host = remote.address.includes(':') ? `[${remote.address}]` : remote.address;
    const server = `${settings.serverName} (${formatEndpoint(remote)})`;
    let tlsOptions: tls.ConnectionOptions;
    try {
      tlsOptions = tlsClientOptions(settings);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      let raw: Socket | undefined;
      let secured: tls.TLSSocket | undefined;
      let settled = false;
      const limitMs = settings.handshakeTimeoutMs ?? timeoutMs;
      const options: WebSocket.ClientOptions = {
        maxPayload: maxWsMessageBytes,
        ...(tlsOptions as WebSocket.ClientOptions),
        // Our own TCP socket under TLS, from the leased address and port, so a close can reset it.
        createConnection: ((connectOptions: tls.ConnectionOptions) => {
          raw = net.connect({ host: remote.address, port: remote.port, ...(local?.address ? { localAddress: local.address } : {}), ...(local?.port ? { localPort: local.port } : {}) });
          const socket = tls.connect({ ...connectOptions, ...tlsOptions, socket: raw });
          socket.once('secureConnect', () => (secured = socket));
          return socket;
        }) as unknown as WebSocket.ClientOptions['createConnection'],
      };
      const socket = new WebSocket(`wss://${host}:${remote.port}/`, sipSubprotocol, options);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        socket.removeAllListeners('open');
        if (raw && !raw.destroyed) raw.resetAndDestroy();
        socket.terminate();
        reject(error);
      };
      // One bound on TCP, TLS and the HTTP upgrade together: a server that accepts and stalls cannot hold the phone.
      const timer = setTimeout(() => {
        if (raw === undefined || raw.connecting) fail(new Error(`TCP connect to ${formatEndpoint(remote)} timed out`));
        else if (!secured) fail(new TlsError('HANDSHAKE_TIMEOUT', `${server} accepted the connection but did not finish the TLS handshake within ${limitMs} ms`));
        else fail(new Error(`${server} did not answer the WebSocket upgrade within ${limitMs} ms`));
      }, limitMs);
      socket.once('open', () => {
        const tlsSocket = (socket as unknown as { _socket: tls.TLSSocket })._socket;
        let session: TlsSessionInfo;
        try {
          session = checkPeer(tlsSocket, settings, server);
        } catch (error) {
          fail(error as Error);
          return;
        }
        if (socket.protocol !== sipSubprotocol) {
          fail(new Error(`server at ${host}:${remote.port} did not accept the "sip" subprotocol`));
          return;
        }
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        socket.off('error', onError);
        const localEnd = { address: normalizeAddress(raw?.localAddress ?? ''), port: raw?.localPort ?? 0 };
        resolve(new WsSipConnection(socket, localEnd, remote, 'wss', session, raw));
      });
      const onError = (error: Error): void => {
        if (raw === undefined || raw.connecting) return fail(error); // no TCP connection: not a TLS failure
        fail(secured ? error : tlsErrorFrom(error, server));
      };
      socket.on('error', onError);
    });
  }

  send(message: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`connection ${this.id} is closed`));
    return new Promise((resolve, reject) => this.socket.send(message, (error) => (error ? reject(error) : resolve())));
  }

  async close(graceMs = closeGraceMs): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const gone = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.close(1000); // RFC 6455 §7.1.2: the closing handshake, then the server closes the TCP connection
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    const outcome = await Promise.race([gone, late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      (this.raw ?? (this.socket as unknown as { _socket?: Socket })._socket)?.resetAndDestroy();
      this.socket.terminate();
      await gone;
    }
  }

  private finish(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(error);
  }
}
