import type { BrowserWindowConstructorOptions, MenuItemConstructorOptions, OnHeadersReceivedListenerDetails, PermissionCheckHandlerHandlerDetails, PermissionRequest, HeadersReceivedResponse } from 'electron';
import { parseDialLink } from '../core/api/dial-link.js';
import type { PhoneApi } from '../core/api/phone-api.js';
import type { PhoneEvent, RegistrationSnapshot } from '../core/api/phone-types.js';
import type { PhoneAudioPort } from '../core/api/audio-port.js';
import { appMenuTemplate } from './app-menu.js';
import { bridgeAudioIpc, type AudioIpcMainLike } from './audio-ipc.js';
import { bridgeDesktopIpc } from './desktop-ipc.js';
import type { DesktopSettings, DesktopSettingsError } from './desktop-settings.js';
import { bridgePhoneIpc, phoneIpc, type IpcMainLike } from './phone-ipc.js';
import { allowPermission, contentSecurityPolicy, isAppUrl, secureWindowOptions } from './window-security.js';

/** The window as the host uses it (a BrowserWindow; small enough to fake in a unit test). */
export interface WindowLike {
  loadURL(url: string): Promise<void>;
  isMinimized(): boolean;
  restore(): void;
  show(): void;
  hide(): void;
  focus(): void;
  isDestroyed(): boolean;
  /** The user (or the Close menu item) closes the window; preventDefault keeps it. */
  on(event: 'close', listener: (event: { preventDefault(): void }) => void): void;
  webContents: {
    on(event: 'will-navigate', listener: (event: { preventDefault(): void }, url: string) => void): void;
    setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
    /** A PhoneEvent on the event channel, or audio-wire bytes on the audio channel. */
    send(channel: string, payload: PhoneEvent | Uint8Array): void;
    isDestroyed(): boolean;
  };
}

export interface TrayLike {
  setToolTip(text: string): void;
  setContextMenu(template: MenuItemConstructorOptions[]): void;
  onClick(listener: () => void): void;
  destroy(): void;
}

/** The parts of Electron the desktop host touches, injected so the whole host runs against fakes in tests. */
export interface ElectronParts {
  app: {
    requestSingleInstanceLock(): boolean;
    quit(): void;
    whenReady(): Promise<void>;
    setAsDefaultProtocolClient(protocol: string): boolean;
    on(event: 'second-instance', listener: (event: unknown, argv: string[]) => void): void;
    on(event: 'open-url', listener: (event: { preventDefault(): void }, url: string) => void): void;
    on(event: 'window-all-closed', listener: () => void): void;
    on(event: 'before-quit', listener: (event: { preventDefault(): void }) => void): void;
  };
  ipcMain: IpcMainLike & AudioIpcMainLike;
  session: {
    setPermissionRequestHandler(handler: (contents: unknown, permission: string, callback: (granted: boolean) => void, details: PermissionRequest | { mediaTypes?: string[]; requestingUrl?: string }) => void): void;
    setPermissionCheckHandler(handler: (contents: unknown, permission: string, origin: string, details: PermissionCheckHandlerHandlerDetails | { mediaType?: string; requestingUrl?: string }) => boolean): void;
    webRequest: { onHeadersReceived(listener: (details: OnHeadersReceivedListenerDetails | { responseHeaders?: Record<string, string[]> }, callback: (response: HeadersReceivedResponse) => void) => void): void };
  };
  createWindow(options: BrowserWindowConstructorOptions): WindowLike;
  createTray(iconPath: string): TrayLike;
  setApplicationMenu(template: MenuItemConstructorOptions[]): void;
  /** A native notification; `onClick` when the user clicks it. */
  notify(title: string, body: string, onClick: () => void): void;
}

export type HostedPhone = PhoneApi & { shutdown(): Promise<void>; register(accountId?: string): Promise<RegistrationSnapshot>; audio?: PhoneAudioPort };

export interface DesktopHostOptions {
  electron: ElectronParts;
  /**
   * The Phone service, created once the app is ready; asynchronous when it must first be provisioned (a DHCP lease
   * and its boot file, seed 003). A failure is shown as a notification and the app quits: there is no phone to show.
   */
  createPhone: () => HostedPhone | Promise<HostedPhone>;
  rendererUrl: string;
  preloadPath: string;
  iconPath: string;
  /** The process's own arguments: a `sip:`/`tel:` link the app was started with. */
  argv: string[];
  registerOnStart: boolean;
  /** Where the host keeps its own settings (desktop.json in the data folder). */
  settings: { load(): { settings: DesktopSettings; problem?: DesktopSettingsError }; save(settings: DesktopSettings): void };
  platform?: NodeJS.Platform;
  /** Where a problem the user need not act on goes (a broken desktop.json: the defaults are used). */
  log?: (line: string) => void;
}

/** The link schemes the app registers for (and electron-builder.yml declares): RFC 3261 §19.1 sip/sips, RFC 3966 tel. */
export const dialProtocols = ['sip', 'sips', 'tel'] as const;

/**
 * The Electron main process, as one testable unit: single instance, a secured window (isolation, sandbox, CSP, no
 * navigation or new windows, only the microphone), PhoneApi over IPC, a tray showing registration, a notification for
 * each incoming call, and `sip:`/`tel:` links put into the dialer. It decides nothing about calls: that is core/.
 */
export class DesktopHost {
  private window?: WindowLike;
  private tray?: TrayLike;
  private phone?: HostedPhone;
  private pendingLink?: string;
  private readonly registrations = new Map<string, RegistrationSnapshot>();
  private settings: DesktopSettings;
  /** Set once the user quits (tray, menu, OS): closing the window then really closes it. */
  private quitting = false;
  private toldAboutTray = false;

  constructor(private readonly options: DesktopHostOptions) {
    const loaded = options.settings.load();
    this.settings = loaded.settings;
    if (loaded.problem) (options.log ?? console.error)(`desktop settings: ${loaded.problem.message} (using the defaults)`);
  }

  /** Returns false when another instance already runs (this one then quits, handing over its arguments). */
  start(): boolean {
    const { app } = this.options.electron;
    if (!app.requestSingleInstanceLock()) {
      app.quit();
      return false;
    }
    for (const protocol of dialProtocols) app.setAsDefaultProtocolClient(protocol);
    this.pendingLink = linkIn(this.options.argv);
    app.on('second-instance', (_event, argv) => {
      this.showWindow();
      const link = linkIn(argv);
      if (link) this.openLink(link);
    });
    app.on('open-url', (event, url) => {
      event.preventDefault(); // macOS delivers links here
      this.openLink(url);
    });
    app.on('window-all-closed', () => app.quit());
    app.on('before-quit', (event) => {
      this.quitting = true;
      const phone = this.phone;
      if (!phone) return;
      event.preventDefault();
      this.phone = undefined;
      this.tray?.destroy();
      void phone.shutdown().finally(() => app.quit());
    });
    void app.whenReady().then(() => this.ready());
    return true;
  }

  private async ready(): Promise<void> {
    const { electron, rendererUrl } = this.options;
    const isApp = (url: string): boolean => isAppUrl(url, rendererUrl);
    electron.session.setPermissionRequestHandler((_contents, permission, callback, details) => callback(allowPermission(permission, details, isApp)));
    electron.session.setPermissionCheckHandler((_contents, permission, _origin, details) => allowPermission(permission, details, isApp));
    electron.session.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...(details.responseHeaders ?? {}), 'Content-Security-Policy': [contentSecurityPolicy] } });
    });
    let phone: HostedPhone;
    try {
      phone = await this.options.createPhone();
    } catch (error) {
      electron.notify('Veilphone could not start', (error as Error).message, () => undefined);
      electron.app.quit();
      return;
    }
    this.phone = phone;
    bridgePhoneIpc(electron.ipcMain, phone, () => this.window?.webContents, isApp);
    bridgeDesktopIpc(electron.ipcMain, { get: () => ({ ...this.settings }), set: (change) => this.updateSettings(change) }, isApp);
    // the renderer's audio bridge: microphone frames in, far-end frames out, checked like every other message
    if (phone.audio) bridgeAudioIpc(electron.ipcMain, phone.audio, () => this.window?.webContents, isApp);
    phone.subscribe((event) => this.onPhoneEvent(event));

    const window = electron.createWindow(secureWindowOptions(this.options.preloadPath));
    this.window = window;
    window.webContents.on('will-navigate', (event) => event.preventDefault());
    window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
    window.on('close', (event) => this.onWindowClose(event));
    electron.setApplicationMenu(appMenuTemplate(this.options.platform ?? process.platform, { showWindow: () => this.showWindow() }));
    void window.loadURL(rendererUrl).then(() => {
      if (this.pendingLink) this.openLink(this.pendingLink);
      this.pendingLink = undefined;
    });

    const tray = electron.createTray(this.options.iconPath);
    this.tray = tray;
    tray.setContextMenu([
      { label: 'Show Veilphone', click: () => this.showWindow() },
      { type: 'separator' },
      { label: 'Quit', role: 'quit' },
    ]);
    tray.onClick(() => this.showWindow());
    this.updateTray();
    if (this.options.registerOnStart) void phone.register().catch(() => undefined);
  }

  /** Close hides the window while the phone keeps running (and ringing) in the tray, unless quitting or turned off. */
  private onWindowClose(event: { preventDefault(): void }): void {
    if (this.quitting || !this.settings.closeToTray || !this.tray) return;
    event.preventDefault();
    this.window?.hide();
    if (this.toldAboutTray) return;
    this.toldAboutTray = true;
    this.options.electron.notify('Veilphone is still running', 'Calls still ring here. To quit, choose Quit in the tray icon\'s menu or the File menu.', () => this.showWindow());
  }

  private updateSettings(change: Partial<DesktopSettings>): DesktopSettings {
    const next = { ...this.settings, ...change };
    this.options.settings.save(next);
    this.settings = next;
    return { ...next };
  }

  private onPhoneEvent(event: PhoneEvent): void {
    if (event.type === 'registration') {
      this.registrations.set(event.registration.accountId, event.registration);
      this.updateTray();
    } else if (event.type === 'incoming') {
      // SPEC A: an anonymous caller is "Anonymous" here too, never the URI behind it.
      const caller = event.call.remote.anonymous ? 'Anonymous' : event.call.remote.shown;
      this.options.electron.notify('Incoming call', caller, () => this.showWindow());
    }
  }

  private updateTray(): void {
    const lines = [...this.registrations.values()].map((r) => `${r.accountId}: ${r.state}`);
    this.tray?.setToolTip(['Veilphone', ...(lines.length > 0 ? lines : ['no account registered'])].join('\n'));
  }

  /** A link fills the dialer and brings the window forward; the user decides whether to call. */
  private openLink(link: string): void {
    const target = parseDialLink(link);
    if (!target) return;
    const contents = this.window?.webContents;
    if (!contents || contents.isDestroyed()) {
      this.pendingLink = link;
      return;
    }
    contents.send(phoneIpc.event, { type: 'dial-request', target });
    this.showWindow();
  }

  private showWindow(): void {
    const window = this.window;
    if (!window || window.isDestroyed()) return;
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  }
}

/** The first `sip:`/`sips:`/`tel:` argument (how Linux and Windows hand a clicked link to the app). */
function linkIn(argv: string[]): string | undefined {
  return argv.find((arg) => /^(sips?|tel):/i.test(arg));
}
