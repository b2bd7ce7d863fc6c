import type http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { PhoneApi } from '../core/api/phone-api.js';
import { countProblem, decodeAudioFrame, encodeAudioFrame } from '../core/api/audio-wire.js';
import { toPhoneErrorShape } from '../core/api/phone-error.js';
import { parseWireAudioControl, parseWireRequest, type PhoneWireMessage } from '../core/api/phone-wire.js';
import { dispatchPhoneCommand } from '../core/phone/phone-api-dispatcher.js';

export interface PhoneWsBridgeOptions {
  server: http.Server;
  api: PhoneApi;
  /** The per-run secret the page URL carries; connections without it are refused. */
  token: string;
  /** Origins allowed to open the socket (the page's own). */
  origins: () => string[];
}

/** What the bridge saw of the audio frames (all connections together). */
export interface WsAudioStats {
  captureFrames: number;
  playbackFrames: number;
  /** Far-end frames not sent because the client fell behind (its socket buffer was full). */
  playbackDropped: number;
  refused: Record<string, number>;
}

export interface PhoneWsBridge {
  wss: WebSocketServer;
  audioStats(): WsAudioStats;
}

/** A client more than this far behind gets no more far-end frames until it catches up (about 0.3 s of audio). */
const maxBufferedPlayback = 16 * 1024;

/**
 * PhoneApi over a WebSocket at /api for the served renderer. Refuses other origins (a web page elsewhere in the
 * user's browser must not drive their phone) and connections without the run's token. Text messages carry the JSON
 * wire protocol; binary messages carry audio-port frames (core/api/audio-wire.ts): microphone frames in, and far-end
 * frames out to the clients that asked for them. Malformed frames are refused and counted, never passed on.
 */
export function attachPhoneWsBridge(options: PhoneWsBridgeOptions): PhoneWsBridge {
  const stats: WsAudioStats = { captureFrames: 0, playbackFrames: 0, playbackDropped: 0, refused: {} };
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
  wss.on('connection', (socket) => bridge(socket, options.api, stats));
  return { wss, audioStats: () => ({ ...stats, refused: { ...stats.refused } }) };
}

function bridge(socket: WebSocket, api: PhoneApi, stats: WsAudioStats): void {
  const send = (message: PhoneWireMessage): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };
  const audio = api.audio;
  send({ type: 'hello', version: 1, host: 'serve', ...(audio ? { audio: true } : {}) });
  const unsubscribe = api.subscribe((event) => send({ type: 'event', event }));
  let stopPlayback: (() => void) | undefined;
  let sequence = 0;
  socket.on('close', () => {
    unsubscribe();
    stopPlayback?.();
  });
  socket.on('message', async (data, isBinary) => {
    if (isBinary) {
      const refuse = (problem: string): void => {
        countProblem(stats.refused, problem);
        audio?.refuse?.(problem);
      };
      if (!audio) return refuse('NO_AUDIO_PORT');
      const decoded = decodeAudioFrame(Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data);
      if (!decoded.ok) return refuse(decoded.problem);
      if (decoded.frame.kind !== 'capture') return refuse('BAD_KIND');
      stats.captureFrames++;
      audio.capture(decoded.frame.callId, decoded.frame.samples);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(data));
    } catch {
      return;
    }
    const control = parseWireAudioControl(parsed);
    if (control) {
      stopPlayback?.();
      stopPlayback = undefined;
      if (control.on && audio) {
        stopPlayback = audio.onPlayback((callId, samples) => {
          if (socket.readyState !== socket.OPEN) return;
          if (socket.bufferedAmount > maxBufferedPlayback) {
            stats.playbackDropped++;
            return;
          }
          stats.playbackFrames++;
          socket.send(encodeAudioFrame({ kind: 'playback', sequence: sequence++, callId, samples }));
        });
      }
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
