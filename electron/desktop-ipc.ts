import type { IpcMainLike } from './phone-ipc.js';
import { DesktopSettingsError, parseDesktopSettingsChange, type DesktopSettings } from './desktop-settings.js';

/** IPC channels of the desktop host's own settings (`window.veilphoneDesktop`), shared by main and preload. */
export const desktopIpc = { settings: 'veilphone:desktop-settings', update: 'veilphone:desktop-settings-update' } as const;

export type DesktopIpcResult = { ok: true; value: DesktopSettings } | { ok: false; error: { code: string; message: string } };

/**
 * The desktop settings over IPC, for the app's own page only; a change is checked key by key before it is kept.
 * `get` and `set` are the host's (it acts on a change at once: closing the window reads it).
 */
export function bridgeDesktopIpc(ipc: IpcMainLike, store: { get(): DesktopSettings; set(change: Partial<DesktopSettings>): DesktopSettings }, isAppUrl: (url: string) => boolean): void {
  const fromApp = (event: { senderFrame: { url: string } | null }): boolean => event.senderFrame !== null && isAppUrl(event.senderFrame.url);
  ipc.handle(desktopIpc.settings, async (event): Promise<DesktopIpcResult> => (fromApp(event) ? { ok: true, value: store.get() } : refused()));
  ipc.handle(desktopIpc.update, async (event, change): Promise<DesktopIpcResult> => {
    if (!fromApp(event)) return refused();
    try {
      return { ok: true, value: store.set(parseDesktopSettingsChange(change)) };
    } catch (error) {
      const code = error instanceof DesktopSettingsError ? error.code : 'STORAGE_FAILED';
      return { ok: false, error: { code, message: (error as Error).message } };
    }
  });
}

function refused(): DesktopIpcResult {
  return { ok: false, error: { code: 'INVALID_ARGUMENT', message: 'not the Veilphone window' } };
}
