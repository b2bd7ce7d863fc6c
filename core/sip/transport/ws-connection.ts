import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { normalizeAddress, type Endpoint } from './endpoint.js';
import { closeGraceMs, newConnectionId, type SipConnection } from './sip-connection.js';

/** RFC 7118 §4.1: the WebSocket subprotocol for SIP. */
export const sipSubprotocol = 'sip';
export const maxWsMessageBytes = 65_536;

/** SIP over one WebSocket (RFC 7118): one SIP message per WebSocket message. */
export class WsSipConnection implements SipConnection {
  readonly id = newConnectionId('ws');
  readonly transport = 'ws' as const;
  closed = false;
  rejectCode?: string;
  onMessage: (data: Buffer) => void = () => undefined;
  onClose: (error?: Error) => void = () => undefined;

  constructor(
    private readonly socket: WebSocket,
    readonly local: Endpoint,
    readonly remote: Endpoint,
  ) {
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
      (this.socket as unknown as { _socket?: Socket })._socket?.resetAndDestroy();
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
