import { contextBridge, ipcRenderer } from 'electron';
import { decodeAudioFrame, encodeAudioFrame } from '../core/api/audio-wire.js';
import { phoneCommands } from '../core/api/phone-api.js';
import type { PhoneEvent } from '../core/api/phone-types.js';
import { audioIpc } from './audio-ipc.js';
import { desktopIpc, type DesktopIpcResult } from './desktop-ipc.js';
import { phoneIpc, type PhoneIpcResult } from './phone-ipc.js';

/**
 * `window.veilphone`: PhoneApi for the sandboxed renderer. Each command crosses IPC as (name, plain arguments); the
 * main process checks every argument before the phone sees it. Failures reject with a plain PhoneErrorShape
 * ({ code, message, status? }), because an Error loses its code when it crosses the context bridge.
 */
const api: Record<string, unknown> = {};
for (const command of phoneCommands) {
  api[command] = async (...args: unknown[]): Promise<unknown> => {
    if (args.length > 4) throw { code: 'INVALID_ARGUMENT', message: 'too many arguments' };
    const result = (await ipcRenderer.invoke(phoneIpc.invoke, command, args)) as PhoneIpcResult;
    if (!result.ok) throw result.error;
    return result.value ?? undefined;
  };
}
api.subscribe = (listener: (event: PhoneEvent) => void): (() => void) => {
  if (typeof listener !== 'function') throw { code: 'INVALID_ARGUMENT', message: 'subscribe needs a function' };
  const handler = (_event: unknown, event: PhoneEvent): void => listener(event);
  ipcRenderer.on(phoneIpc.event, handler);
  return () => ipcRenderer.removeListener(phoneIpc.event, handler);
};

/** The audio port (PhoneAudioPort): frames cross IPC as audio-wire bytes, checked again in the main process. */
const playbackListeners = new Set<(callId: string, samples: Int16Array) => void>();
let captureSequence = 0;
ipcRenderer.on(audioIpc.playback, (_event, bytes: unknown) => {
  const decoded = decodeAudioFrame(bytes);
  if (!decoded.ok || decoded.frame.kind !== 'playback') return;
  for (const listener of playbackListeners) listener(decoded.frame.callId, decoded.frame.samples);
});
api.audio = {
  capture: (callId: unknown, samples: unknown): void => {
    if (typeof callId !== 'string' || !(samples instanceof Int16Array)) return;
    try {
      ipcRenderer.send(audioIpc.capture, encodeAudioFrame({ kind: 'capture', sequence: captureSequence++, callId, samples }));
    } catch {
      // an unframeable call id or frame size: nothing is sent (the main process would refuse it anyway)
    }
  },
  onPlayback: (listener: (callId: string, samples: Int16Array) => void): (() => void) => {
    if (typeof listener !== 'function') throw { code: 'INVALID_ARGUMENT', message: 'onPlayback needs a function' };
    playbackListeners.add(listener);
    if (playbackListeners.size === 1) ipcRenderer.send(audioIpc.control, true);
    return () => {
      playbackListeners.delete(listener);
      if (playbackListeners.size === 0) ipcRenderer.send(audioIpc.control, false);
    };
  },
};

contextBridge.exposeInMainWorld('veilphone', api);

/** `window.veilphoneDesktop`: the desktop host's own settings (keep running in the tray), checked again in main. */
const desktopResult = async (channel: string, ...args: unknown[]): Promise<unknown> => {
  const result = (await ipcRenderer.invoke(channel, ...args)) as DesktopIpcResult;
  if (!result.ok) throw result.error;
  return result.value;
};
contextBridge.exposeInMainWorld('veilphoneDesktop', {
  settings: () => desktopResult(desktopIpc.settings),
  updateSettings: (change: unknown) => desktopResult(desktopIpc.update, change),
});
