import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { WebSocketServer } from 'ws';
import { ConnectionGate, type ConnectionWatch } from './connection-gate.js';
import { normalizeAddress, type Endpoint } from './endpoint.js';
import type { SipConnection } from './sip-connection.js';
import { TcpSipConnection } from './tcp-connection.js';
import { minTlsVersion, sessionInfo } from './tls-trust.js';
import { maxWsMessageBytes, sipSubprotocol, WsSipConnection } from './ws-connection.js';
import { WsFrameTracker } from './ws-frame-tracker.js';

/** A listening socket that hands over each accepted connection. */
export interface SipListener {
  readonly local: Endpoint;
  close(): Promise<void>;
}

/** A TLS server's certificate chain and private key, PEM (RFC 3261 §26.2: the server is authenticated, not the phone). */
export interface TlsServerCredentials {
  cert: string;
  key: string;
}

export interface StreamListenerOptions {
  /** TLS and WSS listeners: the certificate and key they present. */
  tls?: TlsServerCredentials;
  /** Caps and timeouts, shared with the server's other listeners; a gate of its own with the defaults otherwise. */
  gate?: ConnectionGate;
  /** What went wrong outside any one SIP connection (accept failures, HTTP requests that are no upgrade), by code. */
  onError?: (code: string) => void;
}

export function listenTcp(local: Endpoint, onConnection: (c: SipConnection) => void, options: StreamListenerOptions = {}): Promise<SipListener> {
  return listenStream(local, onConnection, options, undefined);
}

/**
 * SIP over TLS (RFC 3261 §26.2): a TCP listener whose connections are TLS from the first byte. Admission and the
 * first-message timeout apply to the TCP socket, so a peer that connects and never finishes the handshake is closed
 * by the gate like one that never sends a request; a failed handshake is counted (TLS_HANDSHAKE_FAILED) and closed.
 */
export function listenTls(local: Endpoint, onConnection: (c: SipConnection) => void, options: StreamListenerOptions): Promise<SipListener> {
  if (!options.tls) return Promise.reject(new Error('a TLS listener needs a certificate and key'));
  const context = tls.createSecureContext({ cert: options.tls.cert, key: options.tls.key, minVersion: minTlsVersion });
  return listenStream(local, onConnection, options, context);
}

async function listenStream(local: Endpoint, onConnection: (c: SipConnection) => void, options: StreamListenerOptions, context: tls.SecureContext | undefined): Promise<SipListener> {
  const gate = options.gate ?? new ConnectionGate();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const watch = gate.admit(socket);
    if (!watch) return;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const adopt = (connection: TcpSipConnection, stream: net.Socket): void => {
      watch.connectionId = connection.id;
      // after the connection's own 'data' listener: the framer has taken the chunk
      stream.on('data', () => watch.progress(connection));
      onConnection(connection);
    };
    if (!context) {
      adopt(new TcpSipConnection(socket), socket);
      return;
    }
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context });
    const refuse = (): void => {
      options.onError?.('TLS_HANDSHAKE_FAILED');
      if (!socket.destroyed) socket.destroy();
    };
    secure.once('error', refuse);
    secure.once('secure', () => {
      secure.off('error', refuse);
      adopt(new TcpSipConnection(secure, 'tls', sessionInfo(secure), socket), secure);
    });
  });
  await listen(server, local);
  // After listen() an accept failure (EMFILE...) is emitted here; unheard, it would end the process.
  server.on('error', (error) => options.onError?.(errorCode(error, 'ACCEPT_FAILED')));
  const address = server.address() as net.AddressInfo;
  return {
    local: { address: normalizeAddress(address.address), port: address.port },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return closeServer(server);
    },
  };
}

/** RFC 7118 WebSocket listener; a client that does not offer the "sip" subprotocol is refused. */
export function listenWs(local: Endpoint, onConnection: (c: SipConnection) => void, options: StreamListenerOptions = {}): Promise<SipListener> {
  return listenWebSocket(local, onConnection, options, false);
}

/** RFC 7118 §5 secure WebSocket (WSS): the same listener behind TLS with the given certificate. */
export function listenWss(local: Endpoint, onConnection: (c: SipConnection) => void, options: StreamListenerOptions): Promise<SipListener> {
  if (!options.tls) return Promise.reject(new Error('a WSS listener needs a certificate and key'));
  return listenWebSocket(local, onConnection, options, true);
}

async function listenWebSocket(local: Endpoint, onConnection: (c: SipConnection) => void, options: StreamListenerOptions, secure: boolean): Promise<SipListener> {
  const gate = options.gate ?? new ConnectionGate();
  const report = (code: string): void => options.onError?.(code);
  const refuseHttp = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    report('NOT_AN_UPGRADE');
    res.writeHead(426, { 'Content-Type': 'text/plain' }).end('SIP over WebSocket only\n');
  };
  const server = secure ? https.createServer({ cert: options.tls!.cert, key: options.tls!.key, minVersion: minTlsVersion }, refuseHttp) : http.createServer(refuseHttp);
  const watches = new WeakMap<net.Socket, ConnectionWatch>();
  // Admission at accept, before any TLS or HTTP: a stalled handshake or a half-sent upgrade request holds a slot and is
  // timed out like any other.
  server.on('connection', (socket: net.Socket) => {
    const watch = gate.admit(socket);
    if (watch) watches.set(socket, watch);
  });
  // A handshake that fails (no TLS, no common cipher) is counted; https closes the socket itself.
  if (secure) server.on('tlsClientError', () => report('TLS_HANDSHAKE_FAILED'));
  server.on('clientError', (error, socket) => {
    report(errorCode(error, 'BAD_HTTP_REQUEST'));
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });
  const wss = new WebSocketServer({
    server,
    maxPayload: maxWsMessageBytes,
    handleProtocols: (protocols) => (protocols.has(sipSubprotocol) ? sipSubprotocol : false),
  });
  // ws re-emits the HTTP server's errors here, and reports upgrade requests it refuses.
  wss.on('error', (error) => report(errorCode(error, 'ACCEPT_FAILED')));
  wss.on('wsClientError', (error, socket) => {
    report(errorCode(error, 'BAD_UPGRADE'));
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });
  wss.on('connection', (socket, request) => {
    if (socket.protocol !== sipSubprotocol) {
      report('NO_SIP_SUBPROTOCOL');
      // a frame ws refuses before the close completes would otherwise be thrown out of the process
      socket.on('error', (error) => report(errorCode(error, 'WS_ERROR')));
      socket.close(1002, 'sip subprotocol required');
      return;
    }
    // Under WSS, request.socket is the TLS socket; the gate watches the TCP socket beneath it (its `_parent`).
    const stream = request.socket;
    const raw = secure ? ((stream as unknown as { _parent?: net.Socket })._parent ?? stream) : stream;
    const localEnd = { address: normalizeAddress(stream.localAddress ?? ''), port: stream.localPort ?? 0 };
    const remoteEnd = { address: normalizeAddress(stream.remoteAddress ?? ''), port: stream.remotePort ?? 0 };
    const connection = secure ? new WsSipConnection(socket, localEnd, remoteEnd, 'wss', sessionInfo(stream as tls.TLSSocket), raw) : new WsSipConnection(socket, localEnd, remoteEnd);
    const watch = watches.get(raw);
    if (watch) {
      watch.connectionId = connection.id;
      const frames = new WsFrameTracker();
      stream.on('data', (chunk: Buffer) => {
        frames.push(chunk);
        watch.progress(frames);
      });
    }
    onConnection(connection);
  });
  await listen(server, local);
  const address = server.address() as net.AddressInfo;
  return {
    local: { address: normalizeAddress(address.address), port: address.port },
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await closeServer(server);
    },
  };
}

function errorCode(error: Error, fallback: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : fallback;
}

function listen(server: net.Server, local: Endpoint): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(local.port, local.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as http.Server).closeAllConnections?.();
  });
}
