import { app, BrowserWindow, ipcMain, session } from 'electron';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AccountConfig } from '../core/api/phone-types.js';
import { callLogPath, defaultDataDir } from '../core/phone/data-dir.js';
import { defaultMediaProvider } from '../core/phone/default-media.js';
import { Phone } from '../core/phone/phone.js';
import { bridgePhoneIpc } from './phone-ipc.js';
import { isAppUrl, secureWindowOptions } from './window-security.js';

/**
 * The desktop host: one window, the Phone service in this process, PhoneApi over IPC. Everything a host does not
 * have to decide lives in core/. Paths come from the launcher (`veilphone start`) through the environment.
 */
const rendererDir = process.env.VEILPHONE_RENDERER_DIR ?? path.join(import.meta.dirname, '../../renderer/dist');
const preloadPath = process.env.VEILPHONE_PRELOAD ?? path.join(import.meta.dirname, 'preload.cjs');
const dataDir = process.env.VEILPHONE_DATA_DIR ?? defaultDataDir();
const rendererUrl = pathToFileURL(path.join(rendererDir, 'index.html')).href;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let window: BrowserWindow | undefined;
  let phone: Phone | undefined;

  app.on('second-instance', () => {
    if (window?.isMinimized()) window.restore();
    window?.focus();
  });

  app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_contents, permission, grant) => grant(permission === 'media'));
    fs.mkdirSync(dataDir, { recursive: true });
    const account = JSON.parse(process.env.VEILPHONE_ACCOUNT ?? 'null') as AccountConfig | null;
    phone = new Phone({ accounts: account ? [account] : [], callLogPath: callLogPath(dataDir), createSessionDescriptionHandlerFactory: defaultMediaProvider });
    bridgePhoneIpc(ipcMain, phone, () => window?.webContents, (url) => isAppUrl(url, rendererUrl));
    window = new BrowserWindow(secureWindowOptions(preloadPath));
    window.webContents.on('will-navigate', (event) => event.preventDefault());
    window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
    void window.loadURL(rendererUrl);
    if (account) void phone.register().catch(() => undefined);
  });

  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', (event) => {
    if (!phone) return;
    event.preventDefault();
    const stopping = phone;
    phone = undefined;
    void stopping.shutdown().finally(() => app.quit());
  });
}
