import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { AccountConfig, NetworkStatus } from '../core/api/phone-types.js';
import type { LeaseSource } from '../core/phone/provision-phone.js';
import { ensureRendererBundle } from './renderer-bundle.js';

const root = path.resolve(import.meta.dirname, '..');
const outDir = path.join(root, 'out/electron');

/**
 * The Electron binary, when one is installed (`npm install` cannot always download it). Read from the electron
 * package's path.txt and dist/ without loading its index.js: that module starts a download when the binary is missing
 * and prints a network stack trace where there is no network, for what is an expected situation here.
 */
export function electronBinary(packageDir = electronPackageDir(), env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (packageDir === undefined) return undefined;
  let executable = '';
  try {
    executable = fs.readFileSync(path.join(packageDir, 'path.txt'), 'utf8').trim();
  } catch {
    // no path.txt: its install script never ran
  }
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  const binary = override ? path.join(override, executable || 'electron') : executable ? path.join(packageDir, 'dist', executable) : undefined;
  return binary !== undefined && fs.existsSync(binary) ? binary : undefined;
}

/** The folder of the installed electron package, if any. */
function electronPackageDir(): string | undefined {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return undefined;
  }
}

/** How to get the binary where `npm install` did not fetch it (npm runs no install script it was not allowed to). */
export const electronInstallHint = 'node node_modules/electron/install.js';

/** Bundle electron/main.ts (ESM, Node) and electron/preload.ts (CommonJS: a sandboxed preload cannot be ESM). */
export async function bundleDesktop(): Promise<{ main: string; preload: string }> {
  const { build } = await import('esbuild');
  const main = path.join(outDir, 'main.mjs');
  const preload = path.join(outDir, 'preload.cjs');
  const common = { bundle: true, platform: 'node' as const, target: 'node20', sourcemap: true, logLevel: 'warning' as const };
  await build({
    ...common,
    entryPoints: [path.join(root, 'electron/main.ts')],
    outfile: main,
    format: 'esm',
    external: ['electron', 'better-sqlite3'],
    banner: { js: "import { createRequire as __vpRequire } from 'node:module'; const require = __vpRequire(import.meta.url);" },
  });
  await build({ ...common, entryPoints: [path.join(root, 'electron/preload.ts')], outfile: preload, format: 'cjs', external: ['electron'] });
  return { main, preload };
}

/**
 * Start the desktop app with one account (provisioned from `leaseSource` when given, which then names its server);
 * resolves with its exit code.
 */
export async function launchDesktop(electron: string, options: { dataDir: string; account?: Omit<AccountConfig, 'server'> & { server?: string }; network?: NetworkStatus; leaseSource?: LeaseSource; userGiven?: boolean }): Promise<number> {
  const renderer = await ensureRendererBundle((line) => console.error(line));
  const { main, preload } = await bundleDesktop();
  const child = spawn(electron, [main], {
    stdio: 'inherit',
    env: {
      ...process.env,
      VEILPHONE_RENDERER_DIR: renderer,
      VEILPHONE_PRELOAD: preload,
      VEILPHONE_DATA_DIR: options.dataDir,
      ...(options.account ? { VEILPHONE_ACCOUNT: JSON.stringify(options.account) } : {}),
      ...(options.network ? { VEILPHONE_NETWORK: JSON.stringify(options.network) } : {}),
      // the app leases its address and ports from here before its phone starts (seed 003)
      ...(options.leaseSource ? { VEILPHONE_LEASE_SOURCE: JSON.stringify(options.leaseSource) } : {}),
      // no user given: a provisioned app runs the boot file's first account (provision-phone.ts provisionedAccount)
      ...(options.userGiven === false ? { VEILPHONE_USER_GIVEN: '0' } : {}),
    },
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}
