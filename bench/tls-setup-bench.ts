import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AccountConfig, CallSnapshot } from '../core/api/phone-types.js';
import { defaultMediaProvider } from '../core/phone/default-media.js';
import { Phone } from '../core/phone/phone.js';
import { Child } from '../test/support/child.js';
import { veilphone } from '../test/support/veilphone-cli.js';
import { median, ms, quantile, type BenchResult } from './bench-result.js';
import { callReaches } from './call-states.js';

const calls = Number(process.env.BENCH_TLS_CALLS ?? 100);
const warmUp = 20;

/** The three ways the same call is placed, in turn: the anchor over TCP, then over TLS without and with SRTP. */
const kinds = [
  { name: 'tcp', label: 'TCP, RTP (anchor)', transport: 'tcp', media: 'off' },
  { name: 'tls', label: 'TLS, RTP (media encryption off)', transport: 'tls', media: 'off' },
  { name: 'tls-srtp', label: 'TLS, SRTP with SDES (the default over TLS)', transport: 'tls', media: 'required' },
] as const;

/**
 * Call setup over an established TLS connection against the same call over TCP (issue 18): one `veilphone lab`
 * process with TCP and TLS listeners, one callee process per way (auto-answer), and the caller here with one account
 * per way, each registered first, so every call runs over a connection that is already open (TLS handshake done).
 * The calls alternate between the ways, so a busy moment on this shared machine hits all of them. Measured: `call()`
 * → established as the caller's program sees it (TLS hides the SIP from a capture, so the wire timing of the UDP
 * benchmark cannot be used here).
 */
export async function benchTlsSetup(): Promise<BenchResult> {
  const loadBefore = os.loadavg()[0]!;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-bench-tls-'));
  const lab = veilphone(['lab', '--udp', '0', '--tcp', '0', '--ws', '0', '--tls', '0', '--json'], { dataDir });
  const children: Child[] = [];
  let caller: Phone | undefined;
  try {
    const ready = JSON.parse((await lab.waitFor(/^\{"event":"ready".*\}$/m, 60_000))[0]) as { tcp: number; tls: number; fingerprint: string };
    const server = (transport: 'tcp' | 'tls'): string => `sip:127.0.0.1:${transport === 'tls' ? ready.tls : ready.tcp};transport=${transport}`;
    for (const kind of kinds) {
      const args = [`bob-${kind.name}`, server(kind.transport), kind.transport, ...(kind.transport === 'tls' ? [ready.fingerprint, kind.media] : [])];
      children.push(Child.start(process.execPath, ['--import', 'tsx', path.resolve(import.meta.dirname, 'callee-process.ts'), ...args]));
    }
    const accounts: AccountConfig[] = kinds.map((kind) => ({
      id: `alice-${kind.name}`,
      user: `alice-${kind.name}`,
      server: server(kind.transport),
      transport: kind.transport,
      domain: '127.0.0.1',
      ...(kind.transport === 'tls' ? { tls: { fingerprint: ready.fingerprint }, mediaEncryption: kind.media } : {}),
    }));
    caller = new Phone({ accounts, createSessionDescriptionHandlerFactory: defaultMediaProvider });
    const alice = caller;
    for (const child of children) await child.waitFor(/^ready$/m, 60_000);
    await alice.register();
    const sessions = new Set<string>();
    const placeCall = async (kind: (typeof kinds)[number]): Promise<number> => {
      let last: CallSnapshot | undefined;
      const off = alice.subscribe((event) => {
        if (event.type === 'call' && event.call.id === id) last = event.call;
      });
      const t0 = performance.now();
      let id = '';
      const established = callReaches(alice, () => id, 'established');
      id = (await alice.call({ accountId: `alice-${kind.name}`, target: `bob-${kind.name}` })).id;
      await established;
      const elapsed = performance.now() - t0;
      off();
      // measure what the row says: the signalling went over this transport, the voice was (not) SRTP
      const encryption = last?.media?.encryption.kind ?? 'not negotiated';
      if (last?.signaling?.transport !== kind.transport || (kind.transport === 'tls' && !last.signaling.tls) || encryption !== (kind.media === 'required' ? 'srtp' : 'none')) {
        throw new Error(`the ${kind.name} call ran over ${last?.signaling?.transport ?? '?'} with media ${encryption}`);
      }
      if (last.signaling.tls) sessions.add(`${last.signaling.tls.version} ${last.signaling.tls.cipher}`);
      const ended = callReaches(alice, () => id, 'terminated');
      await alice.hangup(id);
      await ended;
      return elapsed;
    };
    for (let i = 0; i < warmUp; i++) for (const kind of kinds) await placeCall(kind);
    const times = new Map<string, number[]>(kinds.map((kind) => [kind.name, []]));
    for (let i = 0; i < calls; i++) {
      // rotate which way goes first, so none always follows the same one
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(i + k) % kinds.length]!;
        times.get(kind.name)!.push(await placeCall(kind));
      }
    }
    const anchor = median(times.get('tcp')!);
    const ratio = (name: string): number => median(times.get(name)!) / anchor;
    const row = (kind: (typeof kinds)[number]): string => {
      const values = times.get(kind.name)!;
      return `| ${kind.label} | ${values.length} | ${ms(median(values))} | ${ms(quantile(values, 0.9))} | ${ratio(kind.name).toFixed(2)}× |`;
    };
    return {
      title: 'Call setup over TLS against TCP (issue 18)',
      lines: [
        `${calls} calls each way, alternating, after ${warmUp} each not measured (JIT warm-up). The caller here, one callee process per way`,
        '(bench/callee-process.ts, auto-answer), through one `veilphone lab` process with TCP and TLS listeners; every account',
        'registered before the first call, so each call runs over its already established connection (TLS: pinned lab',
        `certificate, ${[...sessions].join(', ')}). Measured: \`call()\` → established, the caller program's view (TLS hides the SIP from a capture);`,
        "every call checked to have run over the row's transport with the row's media (RTP or SRTP).",
        '',
        '| the same call over | n | median | p90 | ÷ TCP |',
        '| --- | --- | --- | --- | --- |',
        ...kinds.map(row),
        '',
        `Call setup over an established TLS connection ÷ TCP: **${ratio('tls').toFixed(2)}×** (target ≤ 1.2×); with SRTP keys in the SDP (the default over TLS): ${ratio('tls-srtp').toFixed(2)}×.`,
        `Machine load (1-minute average) ${loadBefore.toFixed(1)} at the start, ${os.loadavg()[0]!.toFixed(1)} at the end, on 2 cores shared with other work: compare the rows of one run.`,
      ],
      ratios: { tlsVsTcp: ratio('tls'), tlsSrtpVsTcp: ratio('tls-srtp') },
    };
  } finally {
    await caller?.shutdown();
    for (const child of children) await child.stop();
    await lab.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
