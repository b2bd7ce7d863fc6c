import type { Child } from '../../test/support/child.js';
import { veilphone } from '../../test/support/veilphone-cli.js';

/** `veilphone serve --json`: one phone with its UI; resolves once it printed its URL. */
export async function servePhone(args: string[], options: { dataDir?: string } = {}): Promise<{ child: Child; url: string; lab?: { udp: string; tcp: string; ws: string; tls?: string; wss?: string } }> {
  const child = veilphone(['serve', '--json', ...args], options);
  const line = await child.waitFor(/^\{"event":"ready".*\}$/m, 120_000);
  const ready = JSON.parse(line[0]) as { url: string; lab?: { udp: string; tcp: string; ws: string; tls?: string; wss?: string } };
  return { child, url: ready.url, ...(ready.lab ? { lab: ready.lab } : {}) };
}
