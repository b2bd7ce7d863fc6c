import type { PhoneAudioPort } from '../core/api/audio-port.js';
import { countProblem, decodeAudioFrame, encodeAudioFrame } from '../core/api/audio-wire.js';

/** IPC channels of the audio bridge, shared by main and preload. */
export const audioIpc = {
  /** renderer → main: a microphone frame (audio-wire bytes). */
  capture: 'veilphone:audio-capture',
  /** renderer → main: `true` to receive far-end frames, `false` to stop. */
  control: 'veilphone:audio-control',
  /** main → renderer: a far-end frame (audio-wire bytes). */
  playback: 'veilphone:audio-playback',
} as const;

type SenderEvent = { senderFrame: { url: string } | null };

/** The parts of ipcMain this bridge touches (small enough to fake in a unit test). */
export interface AudioIpcMainLike {
  on(channel: string, listener: (event: SenderEvent, ...args: unknown[]) => void): void;
  removeListener(channel: string, listener: (event: SenderEvent, ...args: unknown[]) => void): void;
}

export interface AudioSinkLike {
  send(channel: string, frame: Uint8Array): void;
  isDestroyed(): boolean;
}

export interface AudioIpcStats {
  captureFrames: number;
  playbackFrames: number;
  refused: Record<string, number>;
}

/**
 * The audio bridge over Electron IPC: the same frames as the WebSocket host (core/api/audio-wire.ts), decoded and
 * checked here, accepted only from the app's own page; far-end frames go to the window only while it asked for them.
 */
export function bridgeAudioIpc(ipc: AudioIpcMainLike, port: PhoneAudioPort, sink: () => AudioSinkLike | undefined, isAppUrl: (url: string) => boolean): { stats(): AudioIpcStats; dispose(): void } {
  const stats: AudioIpcStats = { captureFrames: 0, playbackFrames: 0, refused: {} };
  const refuse = (problem: string): void => {
    countProblem(stats.refused, problem);
    port.refuse?.(problem);
  };
  let sequence = 0;
  let stopPlayback: (() => void) | undefined;
  const fromApp = (event: SenderEvent): boolean => event.senderFrame !== null && isAppUrl(event.senderFrame.url);

  const onCapture = (event: SenderEvent, data: unknown): void => {
    if (!fromApp(event)) return refuse('NOT_APP_FRAME');
    const decoded = decodeAudioFrame(data);
    if (!decoded.ok) return refuse(decoded.problem);
    if (decoded.frame.kind !== 'capture') return refuse('BAD_KIND');
    stats.captureFrames++;
    port.capture(decoded.frame.callId, decoded.frame.samples);
  };
  const onControl = (event: SenderEvent, on: unknown): void => {
    if (!fromApp(event)) return refuse('NOT_APP_FRAME');
    if (typeof on !== 'boolean') return refuse('BAD_CONTROL');
    stopPlayback?.();
    stopPlayback = undefined;
    if (!on) return;
    stopPlayback = port.onPlayback((callId, samples) => {
      const target = sink();
      if (!target || target.isDestroyed()) return;
      stats.playbackFrames++;
      target.send(audioIpc.playback, encodeAudioFrame({ kind: 'playback', sequence: sequence++, callId, samples }));
    });
  };
  ipc.on(audioIpc.capture, onCapture);
  ipc.on(audioIpc.control, onControl);
  return {
    stats: () => ({ ...stats, refused: { ...stats.refused } }),
    dispose: () => {
      stopPlayback?.();
      ipc.removeListener(audioIpc.capture, onCapture);
      ipc.removeListener(audioIpc.control, onControl);
    },
  };
}
