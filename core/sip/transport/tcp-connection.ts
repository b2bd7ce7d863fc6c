import net from 'node:net';
import { SipParseError } from '../message/index.js';
import { normalizeAddress, type Endpoint } from './endpoint.js';
import { closeGraceMs, newConnectionId, type SipConnection } from './sip-connection.js';
import { StreamFramer } from './stream-framer.js';

/** SIP over one TCP connection (RFC 3261 §18), framed by Content-Length. */
export class TcpSipConnection implements SipConnection {
  readonly id = newConnectionId('tcp');
  readonly transport = 'tcp' as const;
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

  constructor(private readonly socket: net.Socket) {
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
  static connect(remote: Endpoint, local?: Partial<Endpoint>, timeoutMs = 5000): Promise<TcpSipConnection> {
    return new Promise((resolve, reject) => {
      const options: net.NetConnectOpts = { host: remote.address, port: remote.port };
      if (local?.address) options.localAddress = local.address;
      if (local?.port) options.localPort = local.port;
      const socket = net.connect(options);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`TCP connect to ${remote.address}:${remote.port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new TcpSipConnection(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
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
      this.socket.resetAndDestroy(); // RST: nothing is retransmitted from this address afterwards
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
