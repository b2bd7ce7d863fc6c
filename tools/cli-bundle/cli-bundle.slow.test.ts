import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliBundle, freshBundle, projectRoot } from './cli-bundle.js';

/**
 * The bundle built from this checkout runs a whole call (embedded lab, two agents, sip.js bundled as patched on
 * install: the start-up check of the patches passes on the bundled copy).
 */
describe('the compiled `veilphone` command', () => {
  // one level below the root, as .cli-bundle is, so the bundle's own relative paths (../renderer) hold
  const outDir = fs.mkdtempSync(path.join(projectRoot, '.cli-bundle-test-'));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-cli-bundle-run-'));
  afterAll(() => {
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
  });
  let built: { entry: string; inputs: number };
  beforeAll(async () => {
    built = await buildCliBundle(projectRoot, outDir);
  }, 120_000);

  it('is built from the sources it lists, is fresh, and places and ends a call', async () => {
    const { entry, inputs } = built;
    expect(inputs).toBeGreaterThan(100);
    const listed = JSON.parse(fs.readFileSync(path.join(outDir, 'inputs.json'), 'utf8')) as string[];
    expect(listed).toContain('cli/main.ts');
    expect(listed).toContain('core/phone/phone.ts');
    expect(listed.some((file) => file.startsWith('node_modules/'))).toBe(false);
    expect(freshBundle(projectRoot, outDir)).toBe(entry);
    const scenario = path.join(scratch, 'one-call.yaml');
    fs.writeFileSync(
      scenario,
      ['lab: embedded', 'agents:', '  alice: { user: alice, transport: udp }', '  bob: { user: bob, transport: udp, answer: auto }', 'steps:', '  - register: alice', '  - register: bob', '  - call: { from: alice, to: bob, id: c1 }', '  - expect: { call: c1, state: established }', '  - hangup: { call: c1 }', '  - expect: { call: c1, state: terminated }', ''].join('\n'),
    );
    // every module the run resolves is written to stderr (a loader hook of Node's own)
    const hooks = `export async function resolve(specifier, context, next) { const r = await next(specifier, context); process._rawDebug('resolved ' + r.url); return r; }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
    const run = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, entry, '--data-dir', path.join(scratch, 'data'), 'run', scenario], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).not.toMatch(/not patched/);
    expect(run.stdout).toMatch(/^PASS .*6 steps/m);
    expect(run.status).toBe(0);
    // modules a run never uses are not loaded: the vCard codec (ical.js) waits for an import or export of contacts
    expect(run.stderr).toMatch(/^resolved .*better-sqlite3/m);
    expect(run.stderr).not.toMatch(/^resolved .*ical/m);
  });

  it('carries zod with its English messages only, and a bad scenario is still explained in them', () => {
    const chunks = fs.readdirSync(outDir).filter((file) => file.endsWith('.mjs'));
    const text = chunks.map((file) => fs.readFileSync(path.join(outDir, file), 'utf8')).join('\n');
    expect(text).not.toMatch(/from\s*["']zod["'/]/); // bundled, not loaded module by module
    expect(text).toMatch(/node_modules\/zod\/v4\/locales\/en\.js/);
    expect(text).not.toMatch(/node_modules\/zod\/v4\/locales\/(de|fr|ja)\.js/);
    const scenario = path.join(scratch, 'bad.yaml');
    fs.writeFileSync(scenario, ['agents:', '  a: { user: 5, server: "sip:127.0.0.1:5060" }', 'steps:', '  - register: a', ''].join('\n'));
    const run = spawnSync(process.execPath, [built.entry, '--data-dir', path.join(scratch, 'data-bad'), 'run', scenario], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toMatch(/agents\.a\.user: Invalid input: expected string, received number/);
    expect(run.status).toBe(2);
  });

  it('gives no function a name property of its own: every closure made at run time would carry one (issue 23: memory under load)', () => {
    // esbuild's keepNames wraps each function in __name(), a defineProperty per closure made: at 300 calls/s it held
    // 12.5 MB of property arrays and cost about a tenth of the CPU. Class names survive without it, the guard's logs too.
    const chunks = fs.readdirSync(outDir).filter((file) => file.endsWith('.mjs'));
    expect(chunks).toContain(path.basename(built.entry));
    const text = chunks.map((file) => fs.readFileSync(path.join(outDir, file), 'utf8')).join('\n');
    expect(text).not.toMatch(/__name\(/);
    // `var SipCall = class _SipCall` (a class that refers to itself) is named `_SipCall`: the guard drops the underscore
    for (const name of ['SipCall', 'MediaSession', 'InviteServerTransaction', 'UserAgentCore']) expect(text).toMatch(new RegExp(`var ${name} = class\\b|\\bclass ${name}\\b`));
  });
});
