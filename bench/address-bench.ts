import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Child } from '../test/support/child.js';
import { NetnsPair } from '../test/support/netns.js';
import { median, ms, quantile, type BenchResult } from './bench-result.js';

const calls = Number(process.env.BENCH_CALLS ?? 100);
const prefix = '2001:db8:7:1';

/**
 * Issue 5: dial → INVITE on the wire with a one-time address (address added to the interface with optimistic DAD,
 * REGISTER with it, then the INVITE) against the same for a fixed address, in a namespace pair with the lab's
 * registrar across a veth link. Anchor: the fixed-address call, measured alternately in the same run.
 */
export async function benchAddresses(): Promise<BenchResult> {
  const pair = new NetnsPair('bad').create({ netV6: `${prefix}::1/64` });
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-bench-addr-'));
  try {
    pair.sysctl(pair.phone, `net.ipv6.conf.${pair.phoneIf}.optimistic_dad`, '1');
    pair.sysctl(pair.phone, `net.ipv6.neigh.${pair.phoneIf}.retrans_time_ms`, '100');
    pair.exec(pair.phone, 'ip', ['-6', 'addr', 'add', `${prefix}::f1/64`, 'dev', pair.phoneIf, 'nodad']);
    const bin = path.resolve(import.meta.dirname, '../bin/veilphone.js');
    const lab = new Child(pair.spawn(pair.net, process.execPath, [bin, '--data-dir', path.join(scratch, 'lab'), 'lab', '--address', `${prefix}::1`, '--udp', '5060', '--tcp', '0', '--ws', '0', '--json']));
    await lab.waitFor(/"event":"ready"/, 20_000);
    const driver = path.resolve(import.meta.dirname, 'address/dial-to-invite-driver.ts');
    const out = execFileSync('ip', ['netns', 'exec', pair.phone, process.execPath, '--import', 'tsx', driver, `sip:[${prefix}::1]:5060;transport=udp`, `[${prefix}::1]`, `${prefix}::/64`, pair.phoneIf, `${prefix}::f1`, String(calls)], {
      encoding: 'utf8',
      cwd: path.resolve(import.meta.dirname, '..'),
      timeout: 300_000,
    });
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { fixed: number[]; temporary: number[]; prepared: number[]; applier: string };
    const ratio = median(result.temporary) / median(result.fixed);
    const preparedRatio = median(result.prepared) / median(result.fixed);
    return {
      title: 'One-time addresses: dial → INVITE on the wire (issue 5)',
      lines: [
        `${calls} calls each, alternating, from a phone namespace across a veth link to \`veilphone lab\` in a second namespace.`,
        `One-time: a random IID on ${prefix}::/64 added with \`ip -6 addr add … optimistic\` (applier: ${result.applier}), REGISTER with that Contact, then the INVITE;`,
        'fixed: the INVITE from an address already registered; prepared ahead (`prepare: ahead`): the next one-time address obtained and',
        'registered in the background after the previous call started. Measured from `phone.call()` to the INVITE leaving the socket.',
        '',
        '| measure | n | median | p90 |',
        '| --- | --- | --- | --- |',
        `| fixed address (anchor) | ${result.fixed.length} | ${ms(median(result.fixed))} | ${ms(quantile(result.fixed, 0.9))} |`,
        `| one-time address, on dial (default) | ${result.temporary.length} | ${ms(median(result.temporary))} | ${ms(quantile(result.temporary, 0.9))} |`,
        `| one-time address, prepared ahead | ${result.prepared.length} | ${ms(median(result.prepared))} | ${ms(quantile(result.prepared, 0.9))} |`,
        '',
        `Ratio one-time/fixed: on dial **${ratio.toFixed(2)}×**, prepared ahead **${preparedRatio.toFixed(2)}×** (target ≤ 1.3×).`,
      ],
      ratios: { 'dial-to-invite': ratio, 'dial-to-invite-prepared': preparedRatio },
    };
  } finally {
    pair.destroy();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
