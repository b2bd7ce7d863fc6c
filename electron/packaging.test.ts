import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { decodePng } from '../e2e/support/png.js';
import { dialProtocols } from './desktop-host.js';

const root = path.resolve(import.meta.dirname, '..');
const read = (file: string): string => fs.readFileSync(path.join(root, file), 'utf8');
const packageJson = JSON.parse(read('package.json')) as { engines: { node: string }; scripts: Record<string, string>; devDependencies: Record<string, string>; allowScripts: Record<string, boolean> };

/** The x.y.z of a `>= x.y.z` range (the only form these engines use); anything else fails the test by name. */
function minimum(range: string): number[] {
  const match = /^\s*>=\s*(\d+)\.(\d+)(?:\.(\d+))?\s*$/.exec(range);
  if (!match) throw new Error(`engines range "${range}" is not of the form >= x.y.z`);
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}
const atLeast = (version: number[], floor: number[]): boolean => {
  for (let i = 0; i < 3; i++) if (version[i] !== floor[i]) return version[i]! > floor[i]!;
  return true;
};

describe('the desktop app\'s packaging (package.json, electron-builder.yml, README)', () => {
  it('installs on the Node the README names: the engines, the Electron version and the README agree', () => {
    const node = minimum(packageJson.engines.node);
    const electron = JSON.parse(read('node_modules/electron/package.json')) as { version: string; engines?: { node?: string } };
    expect(packageJson.devDependencies.electron).toMatch(new RegExp(`^\\^${electron.version.split('.')[0]}\\.`));
    // every Node this project accepts must be accepted by the electron package (npm warns EBADENGINE otherwise)
    expect(atLeast(node, minimum(electron.engines?.node ?? '>=0'))).toBe(true);
    expect(read('README.md')).toContain(`Node ${node[0]}.${node[1]} or newer`);
    expect(read('README.md')).toContain(`Electron ${electron.version.split('.')[0]}`);
    // its install script downloads the binary at install time, which fails without the network: fetched on demand
    expect(packageJson.allowScripts.electron).toBe(false);
  });

  it('packages the tray icon and the UI, and registers the link schemes the app claims at run time', () => {
    const config = parse(read('electron-builder.yml')) as { files: string[]; protocols: Array<{ schemes: string[] }>; linux: { target: string[]; icon: string }; extraMetadata: { main: string } };
    expect(config.files).toEqual(expect.arrayContaining(['out/electron/**', 'renderer/dist/**', 'assets/**']));
    expect(config.protocols.flatMap((p) => p.schemes).sort()).toEqual([...dialProtocols].sort());
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.extraMetadata.main).toBe('out/electron/main.mjs');
    // the tray icon electron/main.ts loads, and a Linux icon set with a 256 px or larger PNG (no SVG for Linux)
    expect(read('electron/main.ts')).toContain("'../../assets/icon.png'");
    expect(decodePng(fs.readFileSync(path.join(root, 'assets/icon.png')))).toMatchObject({ width: 32, height: 32 });
    const icons = fs.readdirSync(path.join(root, config.linux.icon)).filter((f) => /^\d+x\d+\.png$/.test(f));
    for (const icon of icons) {
      const size = Number(icon.split('x')[0]);
      expect(decodePng(fs.readFileSync(path.join(root, config.linux.icon, icon)))).toMatchObject({ width: size, height: size });
    }
    expect(Math.max(...icons.map((f) => Number(f.split('x')[0])))).toBeGreaterThanOrEqual(256);
    expect(packageJson.scripts.dist).toBe('tsx cli/build-desktop.ts && electron-builder --linux AppImage deb --publish never');
    expect(packageJson.devDependencies['electron-builder']).toBeDefined();
  });
});
