// The `veilphone` command as compiled JavaScript: cli/main.ts and everything it imports from the project, bundled by
// esbuild into .cli-bundle/ (one chunk per lazily imported command, so a command still loads only what it needs),
// with every npm package but sip.js and zod left external (better-sqlite3 is native; sip.js is bundled as patched on install).
// bin/veilphone.js runs the bundle while it is fresh, and the TypeScript sources through tsx's loader otherwise,
// so an edited checkout never runs stale code. Built on `npm install` and by `npm run build:cli`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The bundle's entry when it is newer than every file it was built from (and every one still exists); undefined
 * when it is missing or stale. Costs one stat per input (about 260). The bundle lives one level below the root, like
 * cli/, so code that finds files from its own folder (`../renderer`) finds them from there too.
 */
export function freshBundle(root = projectRoot, dir = path.join(root, '.cli-bundle')) {
  let inputs;
  let builtAt;
  try {
    inputs = JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json'), 'utf8'));
    builtAt = fs.statSync(path.join(dir, 'inputs.json')).mtimeMs;
  } catch {
    return undefined;
  }
  if (!Array.isArray(inputs) || inputs.length === 0) return undefined;
  for (const input of inputs) {
    let stat;
    try {
      stat = fs.statSync(path.join(root, input));
    } catch {
      return undefined;
    }
    if (stat.mtimeMs > builtAt) return undefined;
  }
  return path.join(dir, 'main.mjs');
}

/**
 * Every npm package stays external except two, whose many ES modules would each be read and compiled at start-up
 * (most of a short run's loading time); bundled, each is part of one file:
 * - sip.js, about 200 modules (patched on install, tools/postinstall);
 * - zod, about 100 modules, 64 of them the error messages in other languages (`z.locales`), which a run never shows: its
 *   errors are in English (zod's default, `en`), so only that locale is bundled. Measured on 2026-12-06: a one-call
 *   `veilphone run` peaked 2 MB lower and ended 0.02-0.03 s sooner.
 */
const bundledPackages = /^(sip\.js|zod)(\/|$)/;
const zodLocales = /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/;
const npmPackagesExternalButTwo = {
  name: 'npm-packages-external-but-sip.js-and-zod',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => (bundledPackages.test(args.path) ? undefined : { path: args.path, external: true }));
    build.onLoad({ filter: zodLocales }, (args) => ({ contents: 'export { default as en } from "./en.js";', loader: 'js', resolveDir: path.dirname(args.path) }));
  },
};

/** Chunks no longer part of the bundle are removed once this old: a command started before a rebuild may still load them. */
const oldChunkMs = 24 * 60 * 60 * 1000;

/** Write a file so that a reader sees the old content or the new, never part of it. */
function writeAtomically(file, contents) {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, contents);
  fs.renameSync(temporary, file);
}

/**
 * Build the bundle into `outDir` (one level below the root, like cli/). Chunks have content-hashed names and are
 * written first, then the entry, then the inputs list (its time is the bundle's time), each replaced atomically: a
 * command starting meanwhile runs the old bundle or the new one, and one already running still finds its chunks.
 */
export async function buildCliBundle(root = projectRoot, outDir = path.join(root, '.cli-bundle')) {
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: root,
    // a load's worker threads start from an entry of their own (cli/load-worker-url.ts)
    entryPoints: { main: 'cli/main.ts', 'load-worker': 'core/scenario/load-worker.ts' },
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [npmPackagesExternalButTwo],
    // no keepNames: it wraps every function in a defineProperty call, each closure then holds a property array of its
    // own (12.5 MB at 300 calls/s); class names survive without it (cli-bundle.slow.test.ts)
    keepNames: false,
    metafile: true,
    write: false,
    logLevel: 'warning',
  });
  fs.mkdirSync(outDir, { recursive: true, mode: 0o755 });
  const entry = path.join(outDir, 'main.mjs');
  const files = [...result.outputFiles].sort((a, b) => Number(a.path === entry) - Number(b.path === entry));
  for (const file of files) writeAtomically(file.path, file.contents);
  const written = new Set(files.map((file) => path.basename(file.path)));
  for (const name of fs.readdirSync(outDir)) {
    const full = path.join(outDir, name);
    if (name.endsWith('.mjs') && !written.has(name) && Date.now() - fs.statSync(full).mtimeMs > oldChunkMs) fs.rmSync(full, { force: true });
  }
  const inputs = Object.keys(result.metafile.inputs).filter((file) => !file.startsWith('node_modules/')).sort();
  writeAtomically(path.join(outDir, 'inputs.json'), `${JSON.stringify(inputs, null, 1)}\n`);
  return { entry, inputs: inputs.length };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await import('esbuild');
  } catch {
    // an install without devDependencies: the command runs from the TypeScript sources
    console.log('veilphone: esbuild is not installed, so the command runs from its TypeScript sources');
    process.exit(0);
  }
  const { entry, inputs } = await buildCliBundle();
  console.log(`veilphone: command bundled into ${path.relative(projectRoot, entry)} from ${inputs} files`);
}
