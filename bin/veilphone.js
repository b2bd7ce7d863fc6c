#!/usr/bin/env node
// The `veilphone` command. It runs the compiled bundle (tools/cli-bundle/cli-bundle.js, built on `npm install`) while
// that is newer than every source it was built from, and the TypeScript sources through tsx's loader otherwise, so a
// checkout needs no build step and an edited one never runs stale code. VEILPHONE_FROM_SOURCE=1 forces the sources.
import { startLean } from '../cli/lean-start.js';
import { freshBundle } from '../tools/cli-bundle/cli-bundle.js';

startLean(); // before the bundle's modules load: a short command never pays for TurboFan or a grown young generation

const bundle = process.env.VEILPHONE_FROM_SOURCE === '1' ? undefined : freshBundle();
if (bundle) {
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
