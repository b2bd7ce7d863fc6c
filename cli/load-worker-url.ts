/**
 * Where a `load` step's worker threads start (core/scenario/load-worker.ts): bin/load-worker.js, which runs the
 * compiled bundle's load-worker entry or the TypeScript sources, as bin/veilphone.js does for the command. This file
 * sits one level below the root both as source (cli/) and bundled (.cli-bundle/).
 */
export function loadWorkerUrl(): URL {
  return new URL('../bin/load-worker.js', import.meta.url);
}
