import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
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
    await buildInItsOwnProcess();
  }
  return rendererDist;
}

/**
 * Vite in a process of its own: loaded into the phone's, it and Rollup kept about 190 MB resident for the phone's
 * whole life (the desktop benchmark measured the served phone at 268 MB instead of 72 MB). Its output goes to our
 * stderr: stdout may be `serve --json`'s.
 */
function buildInItsOwnProcess(): Promise<void> {
  const config = path.join(rendererRoot, 'vite.config.ts');
  const viteCli = path.join(path.dirname(createRequire(config).resolve('vite/package.json')), 'bin', 'vite.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [viteCli, 'build', '--config', config, '--logLevel', 'warn'], { cwd: rendererRoot, stdio: ['ignore', 2, 2] });
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`building the UI failed (vite exited with ${signal ?? `code ${code}`})`))));
  });
}
