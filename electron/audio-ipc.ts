import type { PhoneAudioPort } from '../core/api/audio-port.js';
import { AudioFrameRelay, type AudioRelayStats } from '../core/phone/audio-frame-relay.js';

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

/**
 * The audio bridge over Electron IPC: the frames core/phone's AudioFrameRelay decodes and checks, accepted only from
 * the app's own page; far-end frames go to the window only while it asked for them.
 */
export function bridgeAudioIpc(ipc: AudioIpcMainLike, port: PhoneAudioPort, sink: () => AudioSinkLike | undefined, isAppUrl: (url: string) => boolean): { stats(): AudioRelayStats; dispose(): void } {
  const relay = new AudioFrameRelay(port);
  let stopPlayback: (() => void) | undefined;
  const fromApp = (event: SenderEvent): boolean => event.senderFrame !== null && isAppUrl(event.senderFrame.url);

  const onCapture = (event: SenderEvent, data: unknown): void => {
    if (!fromApp(event)) return relay.refuse('NOT_APP_FRAME');
    relay.receive(data);
  };
  const onControl = (event: SenderEvent, on: unknown): void => {
    if (!fromApp(event)) return relay.refuse('NOT_APP_FRAME');
    if (typeof on !== 'boolean') return relay.refuse('BAD_CONTROL');
    stopPlayback?.();
    stopPlayback = undefined;
    if (!on) return;
    stopPlayback = relay.startPlayback((frame) => {
      const target = sink();
      if (!target || target.isDestroyed()) return false;
      target.send(audioIpc.playback, frame);
    });
  };
  ipc.on(audioIpc.capture, onCapture);
  ipc.on(audioIpc.control, onControl);
  return {
    stats: () => relay.snapshot(),
    dispose: () => {
      stopPlayback?.();
      ipc.removeListener(audioIpc.capture, onCapture);
      ipc.removeListener(audioIpc.control, onControl);
    },
  };
}
