import type { Child } from './child.js';
import { veilphone } from './veilphone-cli.js';

/** What the signing tests read of the lab's admin snapshot (lab/signing/header-signing.ts, failure-monitor.ts). */
export interface SigningSnapshot {
  sip: {
    signing: {
      verified: Record<string, number>;
      signed: Record<string, number>;
      failures: { total: number; byFamily: Record<string, number>; byVerdict: Record<string, number>; recent: Array<{ family: string; verdict: string; message: string; from: string }> };
    };
    tamper?: { kind: string; altered: number };
  };
}

/** `veilphone lab --signing` (seed 002) on free ports with its admin view; `extra` adds options such as `--tamper`. */
export async function startSigningLab(extra: string[] = []): Promise<{ child: Child; udp: number; servers: { udp: string; tcp: string; ws: string }; snapshot: () => Promise<SigningSnapshot> }> {
  const child = veilphone(['lab', '--udp', '0', '--tcp', '0', '--ws', '0', '--json', '--signing', '--admin', '0', ...extra]);
  let ready: { udp: number; tcp: number; ws: number; admin: string };
  try {
    ready = JSON.parse((await child.waitFor(/^\{"event":"ready".*\}$/m))[0]) as typeof ready;
  } catch (error) {
    await child.stop();
    throw error;
  }
  return {
    child,
    udp: ready.udp,
    servers: { udp: `sip:127.0.0.1:${ready.udp};transport=udp`, tcp: `sip:127.0.0.1:${ready.tcp};transport=tcp`, ws: `sip:127.0.0.1:${ready.ws};transport=ws` },
    snapshot: async () => (await (await fetch(ready.admin)).json()) as SigningSnapshot,
  };
}
