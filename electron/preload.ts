import { contextBridge, ipcRenderer } from 'electron';
import { phoneCommands } from '../core/api/phone-api.js';
import type { PhoneEvent } from '../core/api/phone-types.js';
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

contextBridge.exposeInMainWorld('veilphone', api);
