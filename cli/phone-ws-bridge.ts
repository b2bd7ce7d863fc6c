import type http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { PhoneApi } from '../core/api/phone-api.js';
import { toPhoneErrorShape } from '../core/api/phone-error.js';
import { parseWireAudioControl, parseWireRequest, type PhoneWireMessage } from '../core/api/phone-wire.js';
import { AudioOwnership } from './audio-ownership.js';
import { AudioFrameRelay, type AudioRelayStats } from '../core/phone/audio-frame-relay.js';
import { vcardImportLimits } from '../core/calllog/vcard-import-rules.js';
import { dispatchPhoneCommand } from '../core/phone/phone-api-dispatcher.js';
import { RejectCounter } from '../core/sip/transport/message-tap.js';

export interface PhoneWsBridgeOptions {
  server: http.Server;
  api: PhoneApi;
  /** The per-run secret the page URL carries; connections without it are refused. */
  token: string;
  /** Origins allowed to open the socket (the page's own). */
  origins: () => string[];
}

export interface PhoneWsBridge {
  wss: WebSocketServer;
  /** What the bridge saw of the audio frames (all connections together). */
  audioStats(): AudioRelayStats;
  /** Connections closed for a bad frame and text messages refused, by code (ws's error code, BAD_JSON, BAD_REQUEST). */
  rejected(): Record<string, number>;
}

/** A client more than this far behind gets no more far-end frames until it catches up (about 0.3 s of audio). */
const maxBufferedPlayback = 16 * 1024;

/**
 * PhoneApi over a WebSocket at /api for the served renderer. Refuses other origins (a web page elsewhere in the
 * user's browser must not drive their phone) and connections without the run's token. Text messages carry the JSON
 * wire protocol; binary messages carry audio-port frames (core/api/audio-wire.ts): microphone frames in, and far-end
 * frames out to the clients that asked for them. Malformed frames are refused and counted, never passed on. A frame
 * the WebSocket layer refuses (invalid UTF-8 in a text frame, more than maxPayload) closes that connection only,
 * with its RFC 6455 §7.4.1 status code; without an 'error' listener it would have been thrown out of the process.
 */
export function attachPhoneWsBridge(options: PhoneWsBridgeOptions): PhoneWsBridge {
  const relay = new AudioFrameRelay(options.api.audio);
  const wss = new WebSocketServer({
    server: options.server,
    path: '/api',
    // a vCard import (importContacts) is the largest message: its limit, with room for JSON's escapes of CR LF
    maxPayload: 2 * vcardImportLimits.maxBytes + 64 * 1024,
    verifyClient: ({ origin, req }, done) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.searchParams.get('token') !== options.token) return done(false, 401, 'token required');
      if (!options.origins().includes(origin)) return done(false, 403, 'origin not allowed');
      done(true);
    },
  });
  const rejects = new RejectCounter();
  // ws re-emits the HTTP server's errors here; one unheard would end the process (and every call with it).
  wss.on('error', (error) => rejects.count(errorCode(error, 'SERVER_ERROR')));
  const ownership = new AudioOwnership<AudioClient>(
    (client) => (client.stopPlayback = relay.startPlayback(client.send)),
    (client) => {
      client.stopPlayback?.();
      client.stopPlayback = undefined;
    },
  );
  wss.on('connection', (socket) => bridge(socket, options.api, relay, ownership, rejects));
  return { wss, audioStats: () => relay.snapshot(), rejected: () => rejects.snapshot() };
}

function errorCode(error: Error, fallback: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : fallback;
}

/** One connection as the audio ownership sees it: how to send it far-end frames, and how to stop. */
interface AudioClient {
  send: (frame: Uint8Array) => boolean | void;
  stopPlayback?: () => void;
}

function bridge(socket: WebSocket, api: PhoneApi, relay: AudioFrameRelay, ownership: AudioOwnership<AudioClient>, rejects: RejectCounter): void {
  const send = (message: PhoneWireMessage): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };
  send({ type: 'hello', version: 1, host: 'serve', ...(api.audio ? { audio: true } : {}) });
  const unsubscribe = api.subscribe((event) => send({ type: 'event', event }));
  const audio: AudioClient = {
    send: (frame) => {
      if (socket.readyState !== socket.OPEN || socket.bufferedAmount > maxBufferedPlayback) return false;
      socket.send(frame);
    },
  };
  socket.on('close', () => {
    unsubscribe();
    ownership.release(audio);
  });
  // ws has already answered with a close frame (1007, 1009, 1002...) and closes this socket; count why.
  socket.on('error', (error) => rejects.count(errorCode(error, 'WS_ERROR')));
  socket.on('message', async (data, isBinary) => {
    if (isBinary) {
      if (!ownership.mayCapture(audio)) return relay.refuse('AUDIO_ELSEWHERE'); // another tab has the call's audio
      return relay.receive(Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(data));
    } catch {
      rejects.count('BAD_JSON');
      return;
    }
    const control = parseWireAudioControl(parsed);
    if (control) {
      if (control.on) ownership.want(audio);
      else ownership.release(audio);
      return;
    }
    const request = parseWireRequest(parsed);
    if (!request) {
      rejects.count('BAD_REQUEST');
      return;
    }
    try {
      const value = await dispatchPhoneCommand(api, request.command, request.args);
      send({ type: 'result', id: request.id, ok: true, value: value ?? null });
    } catch (error) {
      send({ type: 'result', id: request.id, ok: false, error: toPhoneErrorShape(error) });
    }
  });
}
