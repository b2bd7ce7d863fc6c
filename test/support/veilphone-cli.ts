import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Child } from './child.js';

export const projectRoot = path.resolve(import.meta.dirname, '../..');
const bin = path.join(projectRoot, 'bin/veilphone.js');

/** Run the `veilphone` command as a user would (`npx veilphone …` in a checkout), with its own data dir. */
export function veilphone(args: string[], options: { dataDir?: string; env?: NodeJS.ProcessEnv } = {}): Child {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vp-data-'));
  return Child.start(process.execPath, [bin, '--data-dir', dataDir, ...args], { cwd: projectRoot, env: { ...process.env, ...options.env } });
}

/** `veilphone lab --json` on free ports; resolves once it printed its ready line. */
export async function startLabProcess(): Promise<{ child: Child; udp: number; tcp: number; ws: number; servers: { udp: string; tcp: string; ws: string } }> {
  const child = veilphone(['lab', '--udp', '0', '--tcp', '0', '--ws', '0', '--json']);
  const line = await child.waitFor(/^\{"event":"ready".*\}$/m);
  const ready = JSON.parse(line[0]) as { udp: number; tcp: number; ws: number };
  return {
    child,
    ...ready,
    servers: {
      udp: `sip:127.0.0.1:${ready.udp};transport=udp`,
      tcp: `sip:127.0.0.1:${ready.tcp};transport=tcp`,
      ws: `sip:127.0.0.1:${ready.ws};transport=ws`,
    },
  };
}

/** `--server` arguments for `veilphone run`. */
export function serverArgs(servers: { udp: string; tcp: string; ws: string }): string[] {
  return ['--server', servers.udp, servers.tcp, servers.ws];
}

/** A copy of a scenario file with some text replaced (e.g. an agent's transport), in a scratch directory. */
export function scenarioVariant(file: string, replacements: Array<[string | RegExp, string]>): string {
  let text = fs.readFileSync(file, 'utf8');
  for (const [from, to] of replacements) text = text.replace(from, to);
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vp-scenario-')), path.basename(file));
  fs.writeFileSync(out, text);
  return out;
}
