import type { BrowserWindowConstructorOptions } from 'electron';

/** The renderer runs isolated and sandboxed, with no Node, and only our preload (Electron security checklist). */
export function secureWindowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    width: 420,
    height: 720,
    minWidth: 360,
    minHeight: 560,
    title: 'Veilphone',
    show: true,
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  };
}

/**
 * The desktop window's Content-Security-Policy (sent as a header on top of the page's own meta policy): our own
 * scripts and styles only, audio worklets and blobs for the audio bridge, and no network at all — the phone is
 * reached over IPC, never from the page.
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "media-src 'self' blob:",
  "worker-src 'self' blob:",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Only the app's own page (the built renderer's index.html) may use the phone. */
export function isAppUrl(url: string, appUrl: string): boolean {
  try {
    const a = new URL(url);
    const b = new URL(appUrl);
    return a.protocol === 'file:' && a.pathname === b.pathname;
  } catch {
    return false;
  }
}

/**
 * The one permission the window gets: the microphone, for the app's own page (camera, screen, notifications from the
 * page, geolocation, … are refused). Electron's request details carry `mediaTypes`, its check details `mediaType`.
 */
export function allowPermission(permission: string, details: { mediaTypes?: string[]; mediaType?: string; requestingUrl?: string } | object, isApp: (url: string) => boolean): boolean {
  if (permission !== 'media') return false;
  const d = details as { mediaTypes?: string[]; mediaType?: string; requestingUrl?: string };
  if (d.requestingUrl !== undefined && !isApp(d.requestingUrl)) return false;
  const kinds = d.mediaTypes ?? (d.mediaType !== undefined ? [d.mediaType] : []);
  return kinds.length > 0 && kinds.every((kind) => kind === 'audio');
}
