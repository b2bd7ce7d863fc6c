import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDesktopSettings, parseDesktopSettingsChange, saveDesktopSettings } from './desktop-settings.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-desktop-settings-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('the desktop host\'s own settings (electron/desktop-settings.ts)', () => {
  it('keeps running in the tray by default, stores a change, and reads it back at the next start', () => {
    const file = path.join(scratch, 'data/desktop.json');
    expect(loadDesktopSettings(file)).toEqual({ settings: { closeToTray: true } });
    saveDesktopSettings(file, { closeToTray: false });
    expect(loadDesktopSettings(file)).toEqual({ settings: { closeToTray: false } });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['desktop.json']); // no temporary file left
  });

  it('starts on the defaults with a reason when the file is broken, and refuses a bad change with a code', () => {
    const file = path.join(scratch, 'broken.json');
    fs.writeFileSync(file, '{"closeToTray": ');
    expect(loadDesktopSettings(file)).toMatchObject({ settings: { closeToTray: true }, problem: { code: 'INVALID' } });
    fs.writeFileSync(file, '{"closeToTray": "no"}');
    expect(loadDesktopSettings(file)).toMatchObject({ settings: { closeToTray: true }, problem: { code: 'INVALID', message: expect.stringMatching(/closeToTray must be true or false/) } });
    expect(loadDesktopSettings(scratch)).toMatchObject({ problem: { code: 'UNREADABLE' } }); // a directory
    for (const bad of [null, [], 'x', { other: true }, { closeToTray: 1 }]) expect(() => parseDesktopSettingsChange(bad)).toThrow(expect.objectContaining({ code: 'INVALID' }));
    expect(parseDesktopSettingsChange({})).toEqual({});
  });
});
