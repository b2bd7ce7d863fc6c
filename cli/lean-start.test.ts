import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flagsOnLeaving, leanMs } from './lean-start.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-lean-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/**
 * A separate Node process (V8's flags are the process's) that starts lean, runs a hot function and keeps objects
 * alive, then leaves the lean start (by `leaveLean()` or by waiting `leanMs`) and does the same again. V8 tells
 * whether the function got optimized (%GetOptimizationStatus, bit 4: optimized) and how large its young generation is.
 */
const probe = path.join(scratch, 'probe.mjs');
fs.writeFileSync(
  probe,
  `import v8 from 'node:v8';
const { startLean, leaveLean, leanMs } = await import(process.argv[2]);
startLean();
function hot(n) { let s = 0; for (let i = 0; i < n; i++) s = (s + i * 7) % 1009; return s; }
const spin = (ms) => { const end = Date.now() + ms; while (Date.now() < end) hot(1000); };
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
const keep = [];
const allocate = () => { for (let i = 0; i < 300000; i++) keep.push({ i, s: 'x' + i }); };
const state = () => ({ optimized: (%GetOptimizationStatus(hot) & 16) !== 0, newSpace: newSpace() });
spin(300); allocate();
const before = state();
if (process.argv[3] === 'wait') await new Promise((resolve) => setTimeout(resolve, leanMs + 100));
else if (process.argv[3] === 'favour-memory') {
  leaveLean(process.env, { favourMemory: true });
  await new Promise((resolve) => setTimeout(resolve, leanMs + 100)); // the lean start's own timer must not undo it
} else leaveLean();
spin(300); allocate(); allocate();
console.log(JSON.stringify({ before, after: state() }));
`,
);

interface Probe {
  before: { optimized: boolean; newSpace: number };
  after: { optimized: boolean; newSpace: number };
}

function runProbe(options: { nodeFlags?: string[]; env?: NodeJS.ProcessEnv; leave?: 'wait' | 'favour-memory' } = {}): Probe {
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', ...(options.nodeFlags ?? []), probe, path.join(import.meta.dirname, 'lean-start.js'), options.leave ?? 'leave'], {
    env: { ...process.env, NODE_OPTIONS: '', VEILPHONE_LEAN_START: '', ...options.env },
    encoding: 'utf8',
  });
  return JSON.parse(out) as Probe;
}

describe('a command starts lean and leaves it when it runs for long (issue 23: a one-call run ≤ 80 MB)', () => {
  it('while lean, hot code is not optimized and the young generation keeps its first size; leaving restores both', () => {
    const { before, after } = runProbe();
    expect(before.optimized).toBe(false);
    expect(after.optimized).toBe(true);
    expect(after.newSpace).toBeGreaterThan(before.newSpace);
  });

  it('a command that favours memory (a load of at most modestLoadRate calls/s without workers) also sets --optimize-for-size; the user\'s own flag wins', () => {
    // its effect on memory is the memory benchmark's to show (bench/memory-bench.ts), not a test's
    const clean = { NODE_OPTIONS: '', VEILPHONE_LEAN_START: '' };
    expect(flagsOnLeaving(clean, { favourMemory: true })).toContain('--optimize-for-size');
    expect(flagsOnLeaving(clean, { favourMemory: true })).toContain('--opt');
    expect(flagsOnLeaving(clean, { favourMemory: true })).toContain('--semi-space-growth-factor=1');
    expect(flagsOnLeaving(clean, { favourMemory: true })).not.toContain('--semi-space-growth-factor=2');
    expect(flagsOnLeaving(clean)).not.toContain('--optimize-for-size');
    expect(flagsOnLeaving({ ...clean, NODE_OPTIONS: '--no-optimize-for-size' }, { favourMemory: true })).toEqual([]);
    expect(flagsOnLeaving({ ...clean, VEILPHONE_LEAN_START: '0' }, { favourMemory: true })).toEqual([]);
  });

  it('a command that favours memory keeps the young generation at its first size, even after the lean start\'s own timer; its code still gets optimized', () => {
    const { before, after } = runProbe({ leave: 'favour-memory' });
    expect(before.optimized).toBe(false);
    expect(after.optimized).toBe(true);
    expect(after.newSpace).toBeLessThanOrEqual(before.newSpace);
  });

  it(`leaves by itself after ${leanMs} ms`, () => {
    const { before, after } = runProbe({ leave: 'wait' });
    expect(before.optimized).toBe(false);
    expect(after.optimized).toBe(true);
  });

  it('VEILPHONE_LEAN_START=0 turns it off', () => {
    expect(runProbe({ env: { VEILPHONE_LEAN_START: '0' } }).before.optimized).toBe(true);
  });

  it("a Node option of the user's that sets either flag wins: leaving does not turn TurboFan back on", () => {
    const { before, after } = runProbe({ nodeFlags: ['--no-opt'] });
    expect(before.optimized).toBe(false);
    expect(after.optimized).toBe(false);
    expect(runProbe({ env: { NODE_OPTIONS: '--max-semi-space-size=1' } }).before.optimized).toBe(true);
    expect(runProbe({ nodeFlags: ['--max_semi_space_size=8'] }).before.optimized).toBe(true); // V8 takes _ for - too
  });

  it('bin/veilphone.js starts lean before it loads the command, and the heavy commands leave it at once', () => {
    const bin = fs.readFileSync(path.join(import.meta.dirname, '../bin/veilphone.js'), 'utf8');
    expect(bin.indexOf('startLean()')).toBeGreaterThan(0);
    expect(bin.indexOf('startLean()')).toBeLessThan(bin.indexOf('await import('));
    const main = fs.readFileSync(path.join(import.meta.dirname, 'main.ts'), 'utf8');
    for (const command of ['lab', 'serve', 'start']) expect(main).toMatch(new RegExp(`leaveLean\\(\\);[^\\n]*\\n\\s*await \\(await ${command}\\(\\)\\)`));
    expect(fs.readFileSync(path.join(import.meta.dirname, 'run-command.ts'), 'utf8')).toMatch(/if \(loads\.length > 0\) leaveLean\(process\.env, \{ favourMemory: loads\.every\(\(load\) => load\.rate <= modestLoadRate && load\.workers === 0\) \}\)/);
  });
});
