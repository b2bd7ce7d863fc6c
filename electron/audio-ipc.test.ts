import { describe, expect, it } from 'vitest';
import type { PhoneAudioPort } from '../core/api/audio-port.js';
import { decodeAudioFrame, encodeAudioFrame } from '../core/api/audio-wire.js';
import { audioIpc, bridgeAudioIpc, type AudioIpcMainLike } from './audio-ipc.js';

const app = { senderFrame: { url: 'file:///opt/veilphone/renderer/dist/index.html' } };

function setup() {
  const listeners = new Map<string, (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => void>();
  const ipc: AudioIpcMainLike = { on: (channel, listener) => void listeners.set(channel, listener), removeListener: (channel) => void listeners.delete(channel) };
  const captured: Array<[string, number]> = [];
  const refusedAtPort: string[] = [];
  const playback = new Set<(callId: string, samples: Int16Array) => void>();
  const port: PhoneAudioPort = {
    capture: (callId, samples) => void captured.push([callId, samples[0]!]),
    onPlayback: (listener) => (playback.add(listener), () => playback.delete(listener)),
    refuse: (problem) => void refusedAtPort.push(problem),
  };
  const sent: Uint8Array[] = [];
  let destroyed = false;
  const bridge = bridgeAudioIpc(ipc, port, () => ({ send: (channel, frame) => void (channel === audioIpc.playback && sent.push(frame)), isDestroyed: () => destroyed }), (url) => url === app.senderFrame.url);
  return {
    bridge,
    captured,
    refusedAtPort,
    sent,
    playback,
    destroy: () => (destroyed = true),
    capture: (event: { senderFrame: { url: string } | null }, data: unknown) => listeners.get(audioIpc.capture)!(event, data),
    control: (event: { senderFrame: { url: string } | null }, on: unknown) => listeners.get(audioIpc.control)!(event, on),
    listeners,
  };
}

const samples = (first: number): Int16Array => Int16Array.from({ length: 160 }, (_, i) => (i === 0 ? first : 0));

describe('the audio bridge over Electron IPC (electron/audio-ipc.ts)', () => {
  it('passes well-formed microphone frames from the app page to the port and refuses everything else, counting why', () => {
    const t = setup();
    t.capture(app, encodeAudioFrame({ kind: 'capture', sequence: 1, callId: 'c1', samples: samples(42) }));
    t.capture({ senderFrame: { url: 'https://evil.example/' } }, encodeAudioFrame({ kind: 'capture', sequence: 2, callId: 'c1', samples: samples(1) }));
    t.capture({ senderFrame: null }, encodeAudioFrame({ kind: 'capture', sequence: 2, callId: 'c1', samples: samples(1) }));
    t.capture(app, encodeAudioFrame({ kind: 'playback', sequence: 3, callId: 'c1', samples: samples(1) }));
    t.capture(app, 'not bytes');
    t.capture(app, new Uint8Array(10));
    t.control(app, 'yes');
    expect(t.captured).toEqual([['c1', 42]]);
    expect(t.bridge.stats()).toEqual({ captureFrames: 1, playbackFrames: 0, playbackDropped: 0, refused: { NOT_APP_FRAME: 2, BAD_KIND: 1, NOT_BINARY: 1, TOO_SHORT: 1, BAD_CONTROL: 1 } });
    expect(t.refusedAtPort.sort()).toEqual(['BAD_CONTROL', 'BAD_KIND', 'NOT_APP_FRAME', 'NOT_APP_FRAME', 'NOT_BINARY', 'TOO_SHORT']);
  });

  it('sends far-end frames only while the page asked for them, never to a destroyed window, and lets go on dispose', () => {
    const t = setup();
    t.control({ senderFrame: { url: 'https://evil.example/' } }, true);
    expect(t.playback.size).toBe(0);
    t.control(app, true);
    t.control(app, true); // asking twice does not double the frames
    expect(t.playback.size).toBe(1);
    for (const listener of t.playback) listener('c9', samples(7));
    expect(t.sent.map((bytes) => decodeAudioFrame(bytes))).toEqual([{ ok: true, frame: { kind: 'playback', sequence: 0, callId: 'c9', samples: samples(7) } }]);
    t.destroy();
    for (const listener of t.playback) listener('c9', samples(8));
    expect(t.sent).toHaveLength(1);
    t.control(app, false);
    expect(t.playback.size).toBe(0);
    t.control(app, true);
    t.bridge.dispose();
    expect(t.playback.size).toBe(0);
    expect(t.listeners.size).toBe(0);
  });
});
