import type { PhoneApi } from '../core/api/phone-api.js';
import { toPhoneErrorShape, type PhoneErrorShape } from '../core/api/phone-error.js';
import type { PhoneEvent } from '../core/api/phone-types.js';
import { dispatchPhoneCommand } from '../core/phone/phone-api-dispatcher.js';

/** IPC channel names shared by main and preload. */
export const phoneIpc = { invoke: 'veilphone:invoke', event: 'veilphone:event' } as const;

export type PhoneIpcResult = { ok: true; value: unknown } | { ok: false; error: PhoneErrorShape };

/** The parts of Electron's ipcMain / WebContents this bridge touches (small enough to fake in a unit test). */
export interface IpcMainLike {
  handle(channel: string, listener: (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}
export interface EventSinkLike {
  send(channel: string, event: PhoneEvent): void;
  isDestroyed(): boolean;
}

/**
 * PhoneApi over Electron IPC: every command is argument-checked by the same dispatcher the WebSocket host uses, and
 * only frames loaded from the app's own files may call it (a navigated or injected frame may not drive the phone).
 */
export function bridgePhoneIpc(ipc: IpcMainLike, api: PhoneApi, sink: () => EventSinkLike | undefined, isAppUrl: (url: string) => boolean): () => void {
  ipc.handle(phoneIpc.invoke, async (event, command, args): Promise<PhoneIpcResult> => {
    if (!event.senderFrame || !isAppUrl(event.senderFrame.url)) return { ok: false, error: { code: 'INVALID_ARGUMENT', message: 'not the Veilphone window' } };
    if (typeof command !== 'string' || !Array.isArray(args)) return { ok: false, error: { code: 'INVALID_ARGUMENT', message: 'malformed request' } };
    try {
      return { ok: true, value: (await dispatchPhoneCommand(api, command, args)) ?? null };
    } catch (error) {
      return { ok: false, error: toPhoneErrorShape(error) };
    }
  });
  const unsubscribe = api.subscribe((event) => {
    const target = sink();
    if (target && !target.isDestroyed()) target.send(phoneIpc.event, event);
  });
  return () => {
    unsubscribe();
    ipc.removeHandler(phoneIpc.invoke);
  };
}
