import type { MenuItemConstructorOptions } from 'electron';

/**
 * The application menu with the usual roles (Electron's own items, translated and wired by the OS): the app menu on
 * macOS; File with Close (which hides to the tray when that setting is on) and Quit; Edit for the text fields
 * (undo, cut, copy, paste, select all); View with zoom and full screen; Window; Help with About.
 */
export function appMenuTemplate(platform: NodeJS.Platform, actions: { showWindow(): void }): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  return [
    ...(mac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [{ label: 'Show Veilphone', accelerator: 'CmdOrCtrl+Shift+V', click: () => actions.showWindow() }, { type: 'separator' }, { role: 'close' }, ...(mac ? [] : [{ role: 'quit' as const }])],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [{ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }, { type: 'separator' }, { role: 'toggleDevTools' }],
    },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ role: 'about' }] },
  ];
}
