// A command starts lean: V8's optimizing compiler (TurboFan) off and its young generation held at its first size. A
// one-call `veilphone run` ends in about 0.3 s, before either pays off: measured on 2026-12-05, TurboFan's compilations
// and a young generation grown while the modules load were 17 of the 87 MB such a run peaked at (bench/RESULTS.md, "One
// call from the command line").
//
// bin/veilphone.js starts it before it loads anything else (the bundle's modules are most of what grows the young
// generation). A command leaves it after `leanMs`, or at once when it turns out to be heavy: a `load` step, the lab, the
// UI server. From then on V8 runs as it always does: functions still hot get optimized, the young generation grows.
// V8 reads both flags whenever it decides (to optimize a function, to grow the young generation), so setting them at run
// time takes effect. The flags are the process's: worker threads follow them too, those already running included.
// Node 20's V8 has no Maglev by default; from V8 12 (Node 22) it does, and the lean start turns it off and back on too.
//
// Plain JavaScript, because bin/veilphone.js runs it before tsx or the bundle is loaded; the bundle carries its own copy,
// so the one state kept (whether the process has left) is a global both copies see. Leaving sets V8's usual flags
// again, which is harmless when they were never changed.
// `VEILPHONE_LEAN_START=0` turns it off (the start-up benchmark measures both), and so does a Node option of the user's
// that sets either flag: theirs wins.
import { setTimeout } from 'node:timers';
import v8 from 'node:v8';

export const leanMs = 1000;

// V8's defaults (node --v8-options): TurboFan on, young generation doubling, and Maglev on from V8 12
const maglevByDefault = Number(process.versions.v8.split('.')[0]) >= 12;
const leanFlags = ['--no-opt', '--semi-space-growth-factor=1', ...(maglevByDefault ? ['--no-maglev'] : [])];
const usualFlags = ['--opt', '--semi-space-growth-factor=2', ...(maglevByDefault ? ['--maglev'] : [])];
// a choice of the user's about the compilers or the young generation, in either spelling V8 takes (- or _)
const userFlag = /--(no[-_])?(opt|turbofan|maglev|jitless|lite[-_]mode|always[-_](opt|turbofan)|(max|min)[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor|optimize[-_]for[-_]size)\b/;

function wanted(env) {
  if (env.VEILPHONE_LEAN_START === '0') return false;
  const options = [...process.execArgv, env.NODE_OPTIONS ?? ''].join(' ');
  return !userFlag.test(options);
}

/** Start lean (first thing in the process); it ends by itself after `leanMs`. */
export function startLean(env = process.env) {
  if (!wanted(env)) return;
  for (const flag of leanFlags) v8.setFlagsFromString(flag);
  setTimeout(() => {
    if (!globalThis[left]) leaveLean(env); // a command that already left chose how, and this timer must not undo it
  }, leanMs).unref();
}

// Set once the process has left the lean start. A global, not a module variable: bin/veilphone.js and the bundle each
// load their own copy of this file.
const left = Symbol.for('veilphone.lean-start.left');

// A long command whose work is modest favours memory instead. It leaves the lean start with V8's --optimize-for-size, so
// a full collection also tries to shrink the heap and the old generation is collected sooner, and it keeps the young
// generation at its first size (1 MB a semi-space: the semi-space growth factor stays 1). Under --optimize-for-size
// alone a probe saw the young generation at 1, 16 or 32 MB at different moments. A `load` of at most `modestLoadRate`
// calls per second placed by the agent itself (no worker threads) asks for it. The flags are the process's: a worker
// thread started under them got a young generation of 2 MB whatever its resourceLimits said, and paid several times the
// CPU in a probe, so a load with workers runs V8 as usual.
// Measured (by hand, 2026-12-06, 3000 calls 100 at once, ~2 min): --optimize-for-size alone peaked at 160-164 MB, with
// the young generation kept too at 137-138 MB, for 1.17× the CPU (more scavenges: 6088 against 1397). Before
// (bench/RESULTS.md, 2026-12-06) --optimize-for-size had taken 300 calls from 154 MB to 124 MB for 1.12× the CPU; at
// 300 calls/s it cost 30 % more CPU and calls failed. The threshold lies between those two measured rates.
export const modestLoadRate = 100;

/** The V8 flags a command sets as it leaves the lean start: none when the user chose their own. */
export function flagsOnLeaving(env = process.env, options = {}) {
  if (!wanted(env)) return [];
  // the growth factor is set, not left as the lean start's: its timer may have left first (a slow start from the sources)
  if (options.favourMemory) return [...usualFlags.filter((flag) => !flag.startsWith('--semi-space-growth-factor')), '--semi-space-growth-factor=1', '--optimize-for-size'];
  return usualFlags;
}

/** Run as V8 always does from now on (`favourMemory`: with --optimize-for-size and the young generation kept at its first size): a heavy command calls this at once. */
export function leaveLean(env = process.env, options = {}) {
  globalThis[left] = true;
  for (const flag of flagsOnLeaving(env, options)) v8.setFlagsFromString(flag);
}
