import http from 'node:http';
import net from 'node:net';
import { WebSocketServer } from 'ws';
import { ConnectionGate, type ConnectionWatch } from './connection-gate.js';
import { normalizeAddress, type Endpoint } from './endpoint.js';
import type { SipConnection } from './sip-connection.js';
import { TcpSipConnection } from './tcp-connection.js';
import { maxWsMessageBytes, sipSubprotocol, WsSipConnection } from './ws-connection.js';
import { WsFrameTracker } from './ws-frame-tracker.js';

/** A listening socket that hands over each accepted connection. */
export interface SipListener {
  readonly local: Endpoint;
  close(): Promise<void>;
}

export interface StreamListenerOptions {
  /** Caps and timeouts, shared with the server's other listeners; a gate of its own with the defaults otherwise. */
  gate?: ConnectionGate;
  /** What went wrong outside any one SIP connection (accept failures, HTTP requests that are no upgrade), by code. */
  onError?: (code: string) => void;
}

export async function listenTcp(local: Endpoint, onConnection: (c: SipConnection) => void, options: StreamListenerOptions = {}): Promise<SipListener> {
  const gate = options.gate ?? new ConnectionGate();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const watch = gate.admit(socket);
    if (!watch) return;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const connection = new TcpSipConnection(socket);
    watch.connectionId = connection.id;
    // after the connection's own 'data' listener: the framer has taken the chunk
    socket.on('data', () => watch.progress(connection));
    onConnection(connection);
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
export async function listenWs(local: Endpoint, onConnection: (c: SipConnection) => void, options: StreamListenerOptions = {}): Promise<SipListener> {
  const gate = options.gate ?? new ConnectionGate();
  const report = (code: string): void => options.onError?.(code);
  const server = http.createServer((_req, res) => {
    report('NOT_AN_UPGRADE');
    res.writeHead(426, { 'Content-Type': 'text/plain' }).end('SIP over WebSocket only\n');
  });
  const watches = new WeakMap<net.Socket, ConnectionWatch>();
  // Admission at accept, before any HTTP: a half-sent upgrade request holds a slot and is timed out like any other.
  server.on('connection', (socket: net.Socket) => {
    const watch = gate.admit(socket);
    if (watch) watches.set(socket, watch);
  });
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
    const raw = request.socket;
    const localEnd = { address: normalizeAddress(raw.localAddress ?? ''), port: raw.localPort ?? 0 };
    const remoteEnd = { address: normalizeAddress(raw.remoteAddress ?? ''), port: raw.remotePort ?? 0 };
    const connection = new WsSipConnection(socket, localEnd, remoteEnd);
    const watch = watches.get(raw);
    if (watch) {
      watch.connectionId = connection.id;
      const frames = new WsFrameTracker();
      raw.on('data', (chunk: Buffer) => {
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
