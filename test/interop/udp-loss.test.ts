import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Child } from '../support/child.js';
import { missingRequirements } from '../support/tools.js';
import { projectRoot } from '../support/veilphone-cli.js';

const skip = missingRequirements(['nft', 'ip'], { namespaces: true });

/**
 * sip.js has no UDP retransmission of its own (ENVIRONMENT.md); our transport supplies RFC 3261 §17's timers. Proof
 * with real loss: a private network namespace whose loopback drops UDP datagrams both ways (nft), where a scenario
 * through the embedded lab must still pass and its traces must show retransmitted requests.
 */
describe.skipIf(skip)('SIP over UDP survives real packet loss', () => {
  const ns = `vp-loss-${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-loss-'));
  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    // Loss on the way in (a datagram that never arrives) and on the way out (the sender's own firewall refuses it).
    const rules = [
      'add table inet veilphone_loss',
      'add chain inet veilphone_loss in { type filter hook input priority 0 ; }',
      'add chain inet veilphone_loss out { type filter hook output priority 0 ; }',
      'add rule inet veilphone_loss in meta l4proto udp numgen random mod 100 < 12 counter drop',
      'add rule inet veilphone_loss out meta l4proto udp numgen inc mod 13 == 6 counter drop',
      // Random loss may spare every request a phone sends (RTP takes most of the numbered drops): the first
      // INVITE ("INVITE " at the start of the UDP payload) is always refused once, so a retransmission is certain.
      'add rule inet veilphone_loss out meta l4proto udp @th,64,56 0x494e5649544520 quota until 2000 bytes counter drop',
    ].join('\n');
    execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: rules });
  });
  afterAll(() => {
    try {
      for (const pid of execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // nothing left inside
    }
    execFileSync('ip', ['netns', 'del', ns]);
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('registers, calls, holds, resumes and hangs up while 12 % of datagrams are lost on arrival, one in 13 and the first INVITE are refused on sending', async () => {
    const report = path.join(scratch, 'report.json');
    const scenario = path.join(projectRoot, 'test/interop/scenarios/udp-under-loss.yaml');
    const run = Child.start('ip', ['netns', 'exec', ns, process.execPath, path.join(projectRoot, 'bin/veilphone.js'), '--data-dir', scratch, 'run', scenario, '--report', report], { cwd: projectRoot });
    const code = await run.exitCode(170_000);
    if (code !== 0 && fs.existsSync(report)) {
      // What each phone sent and received, first line and CSeq: enough to tell a lost ACK from a stuck transaction.
      const parsed = JSON.parse(fs.readFileSync(report, 'utf8')) as { agents: Record<string, { trace: Array<{ dir: string; at: number; remote?: string; raw: string }> }>; lab?: { sip?: { counters?: unknown } } };
      for (const [name, agent] of Object.entries(parsed.agents)) {
        console.error(`--- ${name}\n${agent.trace.map((e) => `${e.at} ${e.dir} ${e.remote ?? ''} ${e.raw.split('\r\n')[0]} | ${/^CSeq:.*$/im.exec(e.raw)?.[0] ?? ''} | ${/^Via:.*$/im.exec(e.raw)?.[0] ?? ''}`).join('\n')}`);
      }
      // what the lab proxy dropped, and why: a request that reached it but not the callee shows here
      console.error(`--- lab proxy counters\n${JSON.stringify(parsed.lab?.sip?.counters ?? parsed.lab)}`);
    }
    expect(code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const dropped = execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'veilphone_loss'], { encoding: 'utf8' });
    const counters = [...dropped.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
    expect(counters).toHaveLength(3);
    expect(counters.every((n) => n > 0)).toBe(true);
    const traces = JSON.parse(fs.readFileSync(report, 'utf8')).agents as Record<string, { trace: Array<{ dir: string; raw: string }> }>;
    const sent = Object.values(traces).flatMap((a) => a.trace.filter((e) => e.dir === 'out').map((e) => e.raw));
    const retransmitted = sent.filter((raw, i) => !raw.startsWith('SIP/2.0') && sent.indexOf(raw) !== i);
    expect(retransmitted.length).toBeGreaterThan(0);
    expect(retransmitted.some((raw) => raw.startsWith('INVITE '))).toBe(true);
  });
});
