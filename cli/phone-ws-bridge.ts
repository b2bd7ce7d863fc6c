import type http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { PhoneApi } from '../core/api/phone-api.js';
import { toPhoneErrorShape } from '../core/api/phone-error.js';
import { parseWireRequest, type PhoneWireMessage } from '../core/api/phone-wire.js';
import { dispatchPhoneCommand } from '../core/phone/phone-api-dispatcher.js';

export interface PhoneWsBridgeOptions {
  server: http.Server;
  api: PhoneApi;
  /** The per-run secret the page URL carries; connections without it are refused. */
  token: string;
  /** Origins allowed to open the socket (the page's own). */
  origins: () => string[];
}

/**
 * PhoneApi over a WebSocket at /api for the served renderer. Refuses other origins (a web page elsewhere in the
 * user's browser must not drive their phone) and connections without the run's token.
 */
export function attachPhoneWsBridge(options: PhoneWsBridgeOptions): WebSocketServer {
  const wss = new WebSocketServer({
    server: options.server,
    path: '/api',
    maxPayload: 64 * 1024,
    verifyClient: ({ origin, req }, done) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.searchParams.get('token') !== options.token) return done(false, 401, 'token required');
      if (!options.origins().includes(origin)) return done(false, 403, 'origin not allowed');
      done(true);
    },
  });
  wss.on('connection', (socket) => bridge(socket, options.api));
  return wss;
}

function bridge(socket: WebSocket, api: PhoneApi): void {
  const send = (message: PhoneWireMessage): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };
  send({ type: 'hello', version: 1, host: 'serve' });
  const unsubscribe = api.subscribe((event) => send({ type: 'event', event }));
  socket.on('close', unsubscribe);
  socket.on('message', async (data) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(data));
    } catch {
      return;
    }
    const request = parseWireRequest(parsed);
    if (!request) return;
    try {
      const value = await dispatchPhoneCommand(api, request.command, request.args);
      send({ type: 'result', id: request.id, ok: true, value: value ?? null });
    } catch (error) {
      send({ type: 'result', id: request.id, ok: false, error: toPhoneErrorShape(error) });
    }
  });
}
