import fs from 'node:fs';
import path from 'node:path';

/** What the desktop host itself keeps (not the phone's settings, which core stores). */
export interface DesktopSettings {
  /** Closing the window hides it and the phone keeps running (and ringing) in the tray; quit from the tray or menu. */
  closeToTray: boolean;
}

export const defaultDesktopSettings: DesktopSettings = { closeToTray: true };

/** Reading or checking the desktop settings failed; the app runs on the defaults and says why. */
export class DesktopSettingsError extends Error {
  override readonly name = 'DesktopSettingsError';
  constructor(
    readonly code: 'UNREADABLE' | 'INVALID',
    message: string,
  ) {
    super(message);
  }
}

/** A change sent by the renderer: only known keys with the right type; anything else is refused with a code. */
export function parseDesktopSettingsChange(value: unknown): Partial<DesktopSettings> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DesktopSettingsError('INVALID', 'desktop settings must be an object');
  const change: Partial<DesktopSettings> = {};
  for (const [key, field] of Object.entries(value)) {
    if (key !== 'closeToTray') throw new DesktopSettingsError('INVALID', `unknown desktop setting "${key.slice(0, 40)}"`);
    if (typeof field !== 'boolean') throw new DesktopSettingsError('INVALID', 'closeToTray must be true or false');
    change.closeToTray = field;
  }
  return change;
}

/**
 * The desktop settings in `file` (desktop.json in the data folder): the defaults when it is missing; the defaults and a
 * problem (for the log) when it is unreadable or invalid — a broken file never stops the phone from starting.
 */
export function loadDesktopSettings(file: string): { settings: DesktopSettings; problem?: DesktopSettingsError } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { settings: { ...defaultDesktopSettings } };
    return { settings: { ...defaultDesktopSettings }, problem: new DesktopSettingsError('UNREADABLE', `${file}: ${(error as Error).message}`) };
  }
  try {
    return { settings: { ...defaultDesktopSettings, ...parseDesktopSettingsChange(JSON.parse(text)) } };
  } catch (error) {
    return { settings: { ...defaultDesktopSettings }, problem: new DesktopSettingsError('INVALID', `${file}: ${(error as Error).message}`) };
  }
}

/** Write the settings atomically (a crash mid-write leaves the old file, never half a new one). */
export function saveDesktopSettings(file: string, settings: DesktopSettings): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temporary, file);
}
