/**
 * Renders assets/icon.svg into the PNGs the desktop app needs, with Debian's Chromium (no image tool to install):
 * assets/icon.png (32 px, the tray icon electron/main.ts loads) and assets/icons/NxN.png (the icon set
 * electron-builder.yml gives Linux packages; it takes no SVG). Run after changing the SVG:
 *   npx tsx tools/assets/render-icons.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const assets = path.resolve(import.meta.dirname, '../../assets');
export const iconSizes = [16, 32, 48, 64, 128, 256, 512] as const;

async function main(): Promise<void> {
  const svg = fs.readFileSync(path.join(assets, 'icon.svg'), 'utf8');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-icons-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  try {
    const page = await context.newPage();
    fs.mkdirSync(path.join(assets, 'icons'), { recursive: true });
    for (const size of iconSizes) {
      await page.setViewportSize({ width: size, height: size });
      await page.setContent(`<!doctype html><html><body style="margin:0;background:transparent">${svg.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body></html>`);
      const png = await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
      fs.writeFileSync(path.join(assets, 'icons', `${size}x${size}.png`), png);
      if (size === 32) fs.writeFileSync(path.join(assets, 'icon.png'), png);
    }
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) await main();
