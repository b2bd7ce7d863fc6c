import http from 'node:http';
import net from 'node:net';
import { WebSocketServer } from 'ws';
import { normalizeAddress, type Endpoint } from './endpoint.js';
import type { SipConnection } from './sip-connection.js';
import { TcpSipConnection } from './tcp-connection.js';
import { maxWsMessageBytes, sipSubprotocol, WsSipConnection } from './ws-connection.js';

/** A listening socket that hands over each accepted connection. */
export interface SipListener {
  readonly local: Endpoint;
  close(): Promise<void>;
}

export async function listenTcp(local: Endpoint, onConnection: (c: SipConnection) => void): Promise<SipListener> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    onConnection(new TcpSipConnection(socket));
  });
  await listen(server, local);
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
export async function listenWs(local: Endpoint, onConnection: (c: SipConnection) => void): Promise<SipListener> {
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain' }).end('SIP over WebSocket only\n');
  });
  const wss = new WebSocketServer({
    server,
    maxPayload: maxWsMessageBytes,
    handleProtocols: (protocols) => (protocols.has(sipSubprotocol) ? sipSubprotocol : false),
  });
  wss.on('connection', (socket, request) => {
    if (socket.protocol !== sipSubprotocol) {
      socket.close(1002, 'sip subprotocol required');
      return;
    }
    const raw = request.socket;
    const localEnd = { address: normalizeAddress(raw.localAddress ?? ''), port: raw.localPort ?? 0 };
    const remoteEnd = { address: normalizeAddress(raw.remoteAddress ?? ''), port: raw.remotePort ?? 0 };
    onConnection(new WsSipConnection(socket, localEnd, remoteEnd));
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
