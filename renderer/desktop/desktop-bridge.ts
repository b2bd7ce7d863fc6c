/**
 * What the Electron preload offers besides PhoneApi (`window.veilphoneDesktop`, electron/preload.ts): the desktop
 * host's own settings. The shape is electron/desktop-settings.ts's, which the renderer may not import; main checks
 * every change key by key.
 */
export interface DesktopSettings {
  /** Closing the window hides it to the tray, where the phone keeps running and ringing. */
  closeToTray: boolean;
}

export interface DesktopBridge {
  settings(): Promise<DesktopSettings>;
  updateSettings(change: Partial<DesktopSettings>): Promise<DesktopSettings>;
}

declare global {
  interface Window {
    /** Set by the Electron preload only. */
    veilphoneDesktop?: DesktopBridge;
  }
}
