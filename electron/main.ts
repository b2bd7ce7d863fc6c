import { app, BrowserWindow, ipcMain, Menu, nativeImage, Notification, safeStorage, session, Tray } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AccountConfig, NetworkStatus } from '../core/api/phone-types.js';
import { settingsPath } from '../core/phone/account-store.js';
import { callLogPath, defaultDataDir, prepareDataDir } from '../core/phone/data-dir.js';
import { defaultMediaProvider } from '../core/phone/default-media.js';
import { Phone } from '../core/phone/phone.js';
import { PhoneError } from '../core/api/phone-error.js';
import { parseLeaseSource } from '../core/phone/lease-source.js';
import { provisionedAccount, provisionPhone } from '../core/phone/provision-phone.js';
import { DesktopHost } from './desktop-host.js';
import { loadDesktopSettings, saveDesktopSettings } from './desktop-settings.js';
import { safeStorageSealer } from './safe-storage-sealer.js';
import { notificationBody } from './notification-text.js';

/**
 * The desktop host's entry: real Electron parts handed to DesktopHost (everything it does is unit-tested with fakes).
 * Paths come from the launcher (`veilphone start`) through the environment.
 */
const rendererDir = process.env.VEILPHONE_RENDERER_DIR ?? path.join(import.meta.dirname, '../../renderer/dist');
const preloadPath = process.env.VEILPHONE_PRELOAD ?? path.join(import.meta.dirname, 'preload.cjs');
const iconPath = process.env.VEILPHONE_ICON ?? path.join(import.meta.dirname, '../../assets/icon.png');
const dataDir = process.env.VEILPHONE_DATA_DIR ?? defaultDataDir();
/** The account; its server may be left to provisioning (VEILPHONE_LEASE_SOURCE). */
const account = JSON.parse(process.env.VEILPHONE_ACCOUNT ?? 'null') as (Omit<AccountConfig, 'server'> & { server?: string }) | null;
const network = JSON.parse(process.env.VEILPHONE_NETWORK ?? 'null') as NetworkStatus | null;
const leaseSource = process.env.VEILPHONE_LEASE_SOURCE;
const desktopSettingsFile = path.join(dataDir, 'desktop.json');

new DesktopHost({
  electron: {
    app,
    ipcMain,
    session: {
      setPermissionRequestHandler: (handler) => session.defaultSession.setPermissionRequestHandler(handler),
      setPermissionCheckHandler: (handler) => session.defaultSession.setPermissionCheckHandler(handler),
      webRequest: { onHeadersReceived: (listener) => session.defaultSession.webRequest.onHeadersReceived(listener) },
    },
    createWindow: (options) => new BrowserWindow(options),
    setApplicationMenu: (template) => Menu.setApplicationMenu(Menu.buildFromTemplate(template)),
    createTray: (icon) => {
      const tray = new Tray(nativeImage.createFromPath(icon));
      return {
        setToolTip: (text) => tray.setToolTip(text),
        setContextMenu: (template) => tray.setContextMenu(Menu.buildFromTemplate(template)),
        onClick: (listener) => void tray.on('click', listener),
        destroy: () => tray.destroy(),
      };
    },
    notify: (title, body, onClick) => {
      if (!Notification.isSupported()) return;
      const notification = new Notification({ title, body: notificationBody(body, process.platform), silent: false });
      notification.on('click', onClick);
      notification.show();
    },
  },
  createPhone: async () => {
    prepareDataDir(dataDir); // 0700, and our files in it 0600 (issue 17)
    // Seed 003: lease first; the soft switches and dial plan of the boot file override the launcher's server.
    const provisioned = leaseSource !== undefined ? await provisionPhone({ ...parseLeaseSource(leaseSource), dataDir }) : undefined;
    const server = provisioned?.account.server ?? account?.server;
    if (account && server === undefined) throw new PhoneError('INVALID_ARGUMENT', 'the account has no SIP server, and no lease source names one');
    return new Phone({
      // the boot file's account for this user (its first, when the launcher was given no user) fills in its password,
      // display name and the operator's anonymity
      accounts: account ? [provisioned ? provisionedAccount(provisioned, { ...account, server: server! }, process.env.VEILPHONE_USER_GIVEN !== '0') : { ...account, server: server! }] : [],
      ...(provisioned ? { lease: provisioned.phoneLease } : {}),
      callLogPath: callLogPath(dataDir),
      dataDir,
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      audioPort: true,
      settingsFile: settingsPath(dataDir),
      secretSealer: safeStorageSealer(safeStorage), // createPhone runs once the app is ready, as safeStorage needs
      ...(network ? { network } : {}),
    });
  },
  rendererUrl: pathToFileURL(path.join(rendererDir, 'index.html')).href,
  preloadPath,
  iconPath,
  argv: process.argv,
  registerOnStart: account !== null,
  settings: { load: () => loadDesktopSettings(desktopSettingsFile), save: (settings) => saveDesktopSettings(desktopSettingsFile, settings) },
}).start();
