import { describe, expect, it } from 'vitest';
import type { BrowserWindowConstructorOptions, MenuItemConstructorOptions } from 'electron';
import type { PhoneApi } from '../core/api/phone-api.js';
import type { CallSnapshot, PhoneEvent, RegistrationSnapshot } from '../core/api/phone-types.js';
import { DesktopHost, type ElectronParts, type WindowLike } from './desktop-host.js';
import { decodeAudioFrame, encodeAudioFrame } from '../core/api/audio-wire.js';
import { audioIpc } from './audio-ipc.js';
import { appMenuTemplate } from './app-menu.js';
import { desktopIpc } from './desktop-ipc.js';
import { defaultDesktopSettings, DesktopSettingsError, type DesktopSettings } from './desktop-settings.js';
import { phoneIpc } from './phone-ipc.js';
import { allowPermission, contentSecurityPolicy, isAppUrl } from './window-security.js';

const appUrl = 'file:///opt/veilphone/renderer/dist/index.html';

/** A small fake of the Electron parts DesktopHost touches, recording what it was asked to do. */
function fakeElectron(options: { locked?: boolean } = {}) {
  const listeners = new Map<string, (...args: never[]) => void>();
  const sent: PhoneEvent[] = [];
  const audioSent: Uint8Array[] = [];
  const ipcListeners = new Map<string, (...args: never[]) => void>();
  const notifications: Array<{ title: string; body: string; click: () => void }> = [];
  const tooltips: string[] = [];
  const windowCalls: string[] = [];
  let windowOptions: BrowserWindowConstructorOptions | undefined;
  let permissionRequest: Parameters<ElectronParts['session']['setPermissionRequestHandler']>[0] | undefined;
  let permissionCheck: Parameters<ElectronParts['session']['setPermissionCheckHandler']>[0] | undefined;
  let headers: Parameters<ElectronParts['session']['webRequest']['onHeadersReceived']>[0] | undefined;
  let navigate: ((event: { preventDefault(): void }, url: string) => void) | undefined;
  let openHandler: ((details: { url: string }) => { action: 'deny' }) | undefined;
  let trayMenu: MenuItemConstructorOptions[] = [];
  let appMenu: MenuItemConstructorOptions[] = [];
  let closeListener: ((event: { preventDefault(): void }) => void) | undefined;
  const handlers = new Map<string, (...args: never[]) => unknown>();
  let ready!: () => void;
  const whenReady = new Promise<void>((resolve) => (ready = resolve));
  const state = { quit: 0, protocols: [] as string[], minimized: true };
  const window: WindowLike = {
    loadURL: async (url) => void windowCalls.push(`load ${url}`),
    isMinimized: () => state.minimized,
    restore: () => void windowCalls.push('restore'),
    show: () => void windowCalls.push('show'),
    hide: () => void windowCalls.push('hide'),
    focus: () => void windowCalls.push('focus'),
    isDestroyed: () => false,
    on: (_event, listener) => (closeListener = listener),
    webContents: {
      on: (_event, listener) => (navigate = listener),
      setWindowOpenHandler: (handler) => (openHandler = handler),
      send: (channel, payload) => void (channel === phoneIpc.event ? sent.push(payload as PhoneEvent) : payload instanceof Uint8Array && audioSent.push(payload)),
      isDestroyed: () => false,
    },
  };
  const electron: ElectronParts = {
    app: {
      requestSingleInstanceLock: () => options.locked !== true,
      quit: () => void state.quit++,
      whenReady: () => whenReady,
      setAsDefaultProtocolClient: (protocol) => (state.protocols.push(protocol), true),
      on: (event: string, listener: (...args: never[]) => void) => void listeners.set(event, listener),
    } as ElectronParts['app'],
    ipcMain: {
      handle: (channel, listener) => void handlers.set(channel, listener as never),
      removeHandler: (channel) => void handlers.delete(channel),
      on: (channel, listener) => void ipcListeners.set(channel, listener as never),
      removeListener: (channel) => void ipcListeners.delete(channel),
    },
    session: {
      setPermissionRequestHandler: (handler) => (permissionRequest = handler),
      setPermissionCheckHandler: (handler) => (permissionCheck = handler),
      webRequest: { onHeadersReceived: (listener) => (headers = listener) },
    },
    createWindow: (o) => ((windowOptions = o), window),
    setApplicationMenu: (template) => (appMenu = template),
    createTray: () => ({ setToolTip: (t) => void tooltips.push(t), setContextMenu: (m) => (trayMenu = m), onClick: () => undefined, destroy: () => undefined }),
    notify: (title, body, click) => void notifications.push({ title, body, click }),
  };
  return {
    electron,
    ready,
    emit: (event: string, ...args: unknown[]) => (listeners.get(event) as (...a: unknown[]) => void)(...args),
    get: () => ({ windowOptions, permissionRequest: permissionRequest!, permissionCheck: permissionCheck!, headers: headers!, navigate: navigate!, openHandler: openHandler!, trayMenu, appMenu, handlers, close: closeListener! }),
    sent,
    audioSent,
    ipcListeners,
    notifications,
    tooltips,
    windowCalls,
    state,
  };
}

function fakePhone() {
  const listeners = new Set<(event: PhoneEvent) => void>();
  const playback = new Set<(callId: string, samples: Int16Array) => void>();
  const phone = {
    captured: [] as string[],
    audio: {
      capture: (callId: string) => void phone.captured.push(callId),
      onPlayback: (listener: (callId: string, samples: Int16Array) => void) => (playback.add(listener), () => playback.delete(listener)),
    },
    play: (callId: string) => playback.forEach((l) => l(callId, new Int16Array(160))),
    shutdownCalls: 0,
    registerCalls: 0,
    subscribe: (listener: (event: PhoneEvent) => void) => (listeners.add(listener), () => listeners.delete(listener)),
    shutdown: async () => void phone.shutdownCalls++,
    register: async () => (phone.registerCalls++, { accountId: 'alice', state: 'registered' } as RegistrationSnapshot),
    emit: (event: PhoneEvent) => listeners.forEach((l) => l(event)),
  };
  return phone as typeof phone & PhoneApi;
}

/** The desktop settings kept in memory, with every save recorded. */
function memorySettings(initial: DesktopSettings = { ...defaultDesktopSettings }, problem?: DesktopSettingsError) {
  const saved: DesktopSettings[] = [];
  return { saved, load: () => ({ settings: { ...initial }, ...(problem ? { problem } : {}) }), save: (settings: DesktopSettings) => void saved.push(settings) };
}

async function started(argv: string[] = [], locked = false, store = memorySettings()) {
  const fake = fakeElectron({ locked });
  const phone = fakePhone();
  const host = new DesktopHost({ electron: fake.electron, createPhone: () => phone, rendererUrl: appUrl, preloadPath: '/opt/veilphone/preload.cjs', iconPath: '/opt/veilphone/icon.png', argv, registerOnStart: true, settings: store });
  const ok = host.start();
  fake.ready();
  await new Promise((resolve) => setTimeout(resolve, 0));
  return { fake, phone, ok, store };
}

describe('the Electron host (electron/desktop-host.ts) against fakes of the Electron APIs', () => {
  it('opens one window with isolation, sandbox, no Node and our preload only', async () => {
    const { fake } = await started();
    const prefs = fake.get().windowOptions!.webPreferences!;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false, webSecurity: true, allowRunningInsecureContent: false, webviewTag: false, preload: '/opt/veilphone/preload.cjs' });
    expect(fake.windowCalls).toContain(`load ${appUrl}`);
  });

  it('is a single instance: a second one quits; the first comes forward', async () => {
    const second = await started([], true);
    expect(second.ok).toBe(false);
    expect(second.fake.state.quit).toBe(1);
    const first = await started();
    first.fake.emit('second-instance', {}, ['veilphone']);
    expect(first.fake.windowCalls).toEqual(expect.arrayContaining(['restore', 'show', 'focus']));
  });

  it('blocks navigation and new windows, and sends a strict Content-Security-Policy', async () => {
    const { fake } = await started();
    let prevented = false;
    fake.get().navigate({ preventDefault: () => (prevented = true) }, 'https://evil.example/');
    expect(prevented).toBe(true);
    expect(fake.get().openHandler({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    let response: { responseHeaders?: Record<string, string | string[]> } = {};
    fake.get().headers({ responseHeaders: { 'X-Other': ['1'] } }, (r) => (response = r));
    expect(response.responseHeaders!['Content-Security-Policy']).toEqual([contentSecurityPolicy]);
    expect(contentSecurityPolicy).toMatch(/default-src 'none'/);
    expect(contentSecurityPolicy).toMatch(/connect-src 'none'/);
    expect(contentSecurityPolicy).not.toMatch(/unsafe-(inline|eval)/);
  });

  it('grants the microphone to its own page and nothing else', async () => {
    const { fake } = await started();
    const ask = (permission: string, details: object): boolean => {
      let granted: boolean | undefined;
      fake.get().permissionRequest({}, permission, (g) => (granted = g), details);
      return granted!;
    };
    expect(ask('media', { mediaTypes: ['audio'], requestingUrl: appUrl })).toBe(true);
    expect(ask('media', { mediaTypes: ['audio', 'video'], requestingUrl: appUrl })).toBe(false);
    expect(ask('media', { mediaTypes: ['audio'], requestingUrl: 'https://evil.example/' })).toBe(false);
    for (const other of ['notifications', 'geolocation', 'clipboard-read', 'display-capture', 'openExternal']) expect(ask(other, { requestingUrl: appUrl })).toBe(false);
    expect(fake.get().permissionCheck({}, 'media', 'file://', { mediaType: 'audio', requestingUrl: appUrl })).toBe(true);
    expect(fake.get().permissionCheck({}, 'media', 'file://', { mediaType: 'video', requestingUrl: appUrl })).toBe(false);
    expect(allowPermission('media', {}, () => true)).toBe(false);
    expect(isAppUrl('file:///opt/veilphone/renderer/dist/other.html', appUrl)).toBe(false);
  });

  it('shows registration in the tray, notifies incoming calls (anonymous ones as Anonymous), and registers on start', async () => {
    const { fake, phone } = await started();
    expect(phone.registerCalls).toBe(1);
    expect(fake.tooltips.at(-1)).toBe('Veilphone\nno account registered');
    phone.emit({ type: 'registration', registration: { accountId: 'alice', state: 'registered' } });
    expect(fake.tooltips.at(-1)).toBe('Veilphone\nalice: registered');
    expect(fake.get().trayMenu.map((i) => i.label ?? i.type)).toEqual(['Show Veilphone', 'separator', 'Quit']);
    const call = (anonymous: boolean): CallSnapshot => ({ id: 'c', accountId: 'alice', direction: 'incoming', state: 'incoming', remote: { shown: anonymous ? 'Anonymous' : 'Bob', uri: anonymous ? 'sip:Anonymous1@lab' : 'sip:bob@lab', anonymous }, sipCallId: 'x', startedAt: 0, localHold: false, remoteHold: false, muted: false });
    phone.emit({ type: 'incoming', call: call(false) });
    phone.emit({ type: 'incoming', call: call(true) });
    expect(fake.notifications.map((n) => `${n.title}: ${n.body}`)).toEqual(['Incoming call: Bob', 'Incoming call: Anonymous']);
    fake.notifications[0]!.click();
    expect(fake.windowCalls).toContain('focus');
  });

  it('puts sip:/tel: links into the dialer (never dials), from the command line, a second instance or open-url', async () => {
    const { fake } = await started(['/usr/bin/veilphone', 'tel:+81-3-1234-5678']);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(fake.state.protocols).toEqual(['sip', 'sips', 'tel']);
    fake.emit('second-instance', {}, ['/usr/bin/veilphone', 'sip:bob@example.com?Route=%3Csip:evil%3E']);
    fake.emit('open-url', { preventDefault: () => undefined }, 'javascript:alert(1)');
    fake.emit('open-url', { preventDefault: () => undefined }, 'sip:184carol@example.com');
    expect(fake.sent).toEqual([
      { type: 'dial-request', target: '+81312345678' },
      { type: 'dial-request', target: 'sip:bob@example.com' },
      { type: 'dial-request', target: 'sip:184carol@example.com' },
    ]);
  });

  it('shuts the phone down before quitting (unregister, hang up, close the call log)', async () => {
    const { fake, phone } = await started();
    let prevented = false;
    fake.emit('before-quit', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(phone.shutdownCalls).toBe(1);
    expect(fake.state.quit).toBe(1);
    fake.emit('before-quit', { preventDefault: () => undefined }); // the second time it lets the app go
    expect(phone.shutdownCalls).toBe(1);
  });

  it('bridges the audio port over IPC: frames from its own page in, far-end frames to the window once asked for', async () => {
    const { fake, phone } = await started();
    const capture = fake.ipcListeners.get(audioIpc.capture) as unknown as (event: { senderFrame: { url: string } | null }, data: unknown) => void;
    const control = fake.ipcListeners.get(audioIpc.control) as unknown as (event: { senderFrame: { url: string } | null }, on: unknown) => void;
    const frame = encodeAudioFrame({ kind: 'capture', sequence: 0, callId: 'call-1', samples: new Int16Array(160) });
    capture({ senderFrame: { url: 'https://evil.example/' } }, frame);
    capture({ senderFrame: { url: appUrl } }, frame);
    expect(phone.captured).toEqual(['call-1']);
    phone.play('call-1');
    expect(fake.audioSent).toHaveLength(0);
    control({ senderFrame: { url: appUrl } }, true);
    phone.play('call-1');
    expect(fake.audioSent.map((bytes) => decodeAudioFrame(bytes))).toEqual([{ ok: true, frame: expect.objectContaining({ kind: 'playback', callId: 'call-1' }) }]);
  });

  it('bridges PhoneApi over IPC only for its own page', async () => {
    const { fake } = await started();
    const invoke = fake.get().handlers.get(phoneIpc.invoke) as unknown as (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => Promise<{ ok: boolean }>;
    expect(await invoke({ senderFrame: { url: 'https://evil.example/' } }, 'snapshot', [])).toMatchObject({ ok: false });
    expect(await invoke({ senderFrame: null }, 'snapshot', [])).toMatchObject({ ok: false });
  });

  it('waits for a phone that must be provisioned first, then opens the window; a failed provisioning is shown and quits', async () => {
    const fake = fakeElectron();
    const phone = fakePhone();
    let provisioned!: (value: typeof phone) => void;
    const host = new DesktopHost({ electron: fake.electron, createPhone: () => new Promise((resolve) => (provisioned = resolve)), rendererUrl: appUrl, preloadPath: '/opt/veilphone/preload.cjs', iconPath: '/opt/veilphone/icon.png', argv: [], registerOnStart: true, settings: memorySettings() });
    host.start();
    fake.ready();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(fake.get().windowOptions).toBeUndefined(); // still leasing
    expect(fake.get().headers).toBeDefined(); // the session is locked down before anything else
    provisioned(phone);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(fake.windowCalls).toContain(`load ${appUrl}`);
    expect(phone.registerCalls).toBe(1);

    const failing = fakeElectron();
    new DesktopHost({ electron: failing.electron, createPhone: async () => Promise.reject(new Error('provisioning failed: no usable DHCP offer after 8 rounds')), rendererUrl: appUrl, preloadPath: '/opt/veilphone/preload.cjs', iconPath: '/opt/veilphone/icon.png', argv: [], registerOnStart: true, settings: memorySettings() }).start();
    failing.ready();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(failing.notifications.map((n) => [n.title, n.body])).toEqual([['Veilphone could not start', 'provisioning failed: no usable DHCP offer after 8 rounds']]);
    expect(failing.state.quit).toBe(1);
    expect(failing.get().windowOptions).toBeUndefined();
  });

  it('keeps running in the tray when the window is closed, says so once, and really closes once the user quits', async () => {
    const { fake } = await started();
    const close = (): boolean => {
      let prevented = false;
      fake.get().close({ preventDefault: () => (prevented = true) });
      return prevented;
    };
    expect(close()).toBe(true);
    expect(fake.windowCalls).toContain('hide');
    expect(close()).toBe(true);
    expect(fake.notifications.map((n) => n.title)).toEqual(['Veilphone is still running']); // told once, not at every close
    expect(fake.notifications[0]!.body).toMatch(/Quit in the tray icon's menu or the File menu/);
    expect(fake.get().trayMenu.find((i) => i.label === 'Quit')?.role).toBe('quit');
    fake.emit('before-quit', { preventDefault: () => undefined });
    expect(close()).toBe(false); // quitting: the window goes
  });

  it('closes the window (and quits) when the tray setting is off; the renderer turns it on and off over IPC, its own page only', async () => {
    const { fake, store } = await started([], false, memorySettings({ closeToTray: false }));
    const closeNow = (): boolean => {
      let prevented = false;
      fake.get().close({ preventDefault: () => (prevented = true) });
      return prevented;
    };
    expect(closeNow()).toBe(false);
    const get = fake.get().handlers.get(desktopIpc.settings) as unknown as (event: { senderFrame: { url: string } | null }) => Promise<unknown>;
    const update = fake.get().handlers.get(desktopIpc.update) as unknown as (event: { senderFrame: { url: string } | null }, change: unknown) => Promise<unknown>;
    const app = { senderFrame: { url: appUrl } };
    expect(await get(app)).toEqual({ ok: true, value: { closeToTray: false } });
    expect(await get({ senderFrame: { url: 'https://evil.example/' } })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(await update({ senderFrame: { url: 'https://evil.example/' } }, { closeToTray: true })).toMatchObject({ ok: false });
    expect(await update(app, { closeToTray: 'yes' })).toMatchObject({ ok: false, error: { code: 'INVALID' } });
    expect(await update(app, { closeToTray: true, evil: 1 })).toMatchObject({ ok: false, error: { code: 'INVALID', message: 'unknown desktop setting "evil"' } });
    expect(store.saved).toEqual([]);
    expect(await update(app, { closeToTray: true })).toEqual({ ok: true, value: { closeToTray: true } });
    expect(store.saved).toEqual([{ closeToTray: true }]);
    expect(closeNow()).toBe(true); // at once, no restart
  });

  it('starts on the defaults when desktop.json is broken, and logs why', async () => {
    const lines: string[] = [];
    const fake = fakeElectron();
    new DesktopHost({ electron: fake.electron, createPhone: () => fakePhone(), rendererUrl: appUrl, preloadPath: '/p.cjs', iconPath: '/i.png', argv: [], registerOnStart: false, settings: memorySettings({ closeToTray: true }, new DesktopSettingsError('INVALID', 'desktop.json: Unexpected token')), log: (line) => lines.push(line) }).start();
    expect(lines).toEqual(['desktop settings: desktop.json: Unexpected token (using the defaults)']);
  });

  it('sets an application menu with the usual roles: edit, view, window, about, and quit in File (the app menu on macOS)', async () => {
    const { fake } = await started();
    const menu = fake.get().appMenu;
    const roles = (items: MenuItemConstructorOptions[]): string[] => items.flatMap((i) => [...(i.role ? [i.role] : []), ...(Array.isArray(i.submenu) ? roles(i.submenu) : [])]);
    expect(menu.map((i) => i.label ?? i.role)).toEqual(['File', 'editMenu', 'View', 'windowMenu', 'help']);
    expect(roles(menu)).toEqual(expect.arrayContaining(['close', 'quit', 'editMenu', 'zoomIn', 'zoomOut', 'resetZoom', 'togglefullscreen', 'windowMenu', 'about']));
    const file = menu[0]!.submenu as MenuItemConstructorOptions[];
    file.find((i) => i.label === 'Show Veilphone')!.click!(undefined as never, undefined, undefined as never);
    expect(fake.windowCalls).toContain('show');
    const mac = appMenuTemplate('darwin', { showWindow: () => undefined });
    expect(mac[0]).toEqual({ role: 'appMenu' });
    expect(roles(mac).filter((r) => r === 'quit')).toEqual([]); // macOS quits from the app menu
  });
});
