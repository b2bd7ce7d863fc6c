import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchResult } from './bench-result.js';
import { benchAddresses } from './address-bench.js';
import { benchCallLog } from './calllog-bench.js';
import { benchCallSetup } from './call-setup-bench.js';
import { benchLease } from './lease-bench.js';
import { benchLoad } from './load-bench.js';
import { benchDesktop } from './desktop-bench.js';
import { benchMedia } from './media-bench.js';
import { benchSigning } from './signing-bench.js';
import { benchSrtp } from './srtp-bench.js';
import { benchTlsSetup } from './tls-setup-bench.js';
import { benchMemory } from './memory-bench.js';
import { benchStartup } from './startup-bench.js';

/**
 * `npm run bench [-- NAME…]`: runs the benchmarks (all, or the named ones), each measured side by side with its
 * anchor in this one run, prints them and rewrites their sections of bench/RESULTS.md.
 */
const benches: Record<string, () => Promise<BenchResult>> = {
  'call-setup': benchCallSetup,
  load: benchLoad,
  media: benchMedia,
  addresses: benchAddresses,
  lease: benchLease,
  calllog: benchCallLog,
  desktop: benchDesktop,
  signing: benchSigning,
  srtp: benchSrtp,
  'tls-setup': benchTlsSetup,
  startup: benchStartup,
  memory: benchMemory,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in benches));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${Object.keys(benches).join(', ')})`);
  process.exit(2);
}
const results: Array<{ name: string; result: BenchResult }> = [];
for (const [name, bench] of Object.entries(benches)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`--- ${name}`);
  const result = await bench();
  console.log(result.lines.join('\n'));
  results.push({ name, result });
}

const file = path.join(import.meta.dirname, 'RESULTS.md');
const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
const sections = new Map<string, string>();
for (const match of existing.matchAll(/^## (.+)\n([\s\S]*?)(?=^## |(?![\s\S]))/gm)) sections.set(match[1]!.trim(), match[2]!.trimEnd());
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${os.platform()} ${os.release()}`;
for (const { name, result } of results) {
  sections.set(result.title, [`Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench -- ${name}\` on ${machine}.`, '', ...result.lines].join('\n'));
}
const body = [...sections].map(([title, text]) => `## ${title}\n${text}\n`).join('\n');
fs.writeFileSync(file, `# Benchmark results\n\nEvery figure is measured side by side with its anchor in one run of \`npm run bench\` on the same machine; ratios are Veilphone ÷ anchor.\n\n${body}`);
console.log(`\nwrote ${file}`);
process.exit(0);
