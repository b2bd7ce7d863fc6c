// A `load` step's worker thread (core/scenario/load-worker.ts), started by `veilphone run` (cli/load-worker-url.ts).
// Like bin/veilphone.js it runs the compiled bundle while that is fresh, and the TypeScript sources through tsx's
// loader otherwise (VEILPHONE_FROM_SOURCE=1 forces them), so a thread runs the same code as the command that made it.
import path from 'node:path';
import { freshBundle } from '../tools/cli-bundle/cli-bundle.js';

const bundle = process.env.VEILPHONE_FROM_SOURCE === '1' ? undefined : freshBundle();
if (bundle) {
  await import(path.join(path.dirname(bundle), 'load-worker.mjs'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../core/scenario/load-worker.ts');
}
