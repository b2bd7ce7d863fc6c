import fs from 'node:fs';
import path from 'node:path';

export const rendererRoot = path.resolve(import.meta.dirname, '../renderer');
export const rendererDist = path.join(rendererRoot, 'dist');

/** Newest modification time under a folder, skipping the build output. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * The built renderer, built first when it is missing or older than its sources (a checkout has no build step of
 * its own; a packaged app ships the bundle and never rebuilds).
 */
export async function ensureRendererBundle(log: (line: string) => void = () => undefined): Promise<string> {
  const index = path.join(rendererDist, 'index.html');
  const sources = [rendererRoot, path.resolve(rendererRoot, '../core/api')];
  const stale = !fs.existsSync(index) || sources.some((dir) => newestSource(dir) > fs.statSync(index).mtimeMs);
  if (stale) {
    log('building the UI (renderer/) ...');
    const { build } = await import('vite');
    await build({ configFile: path.join(rendererRoot, 'vite.config.ts'), logLevel: 'warn' });
  }
  return rendererDist;
}
