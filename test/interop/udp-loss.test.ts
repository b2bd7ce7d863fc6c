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
 * with real loss: a private network namespace whose loopback drops every fourth UDP datagram (nft), where a scenario
 * through the embedded lab must still pass and its traces must show retransmitted requests.
 */
describe.skipIf(skip)('SIP over UDP survives real packet loss', () => {
  const ns = `vp-loss-${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-loss-'));
  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const rules = ['add table inet veilphone_loss', 'add chain inet veilphone_loss out { type filter hook output priority 0 ; }', 'add rule inet veilphone_loss out meta l4proto udp numgen inc mod 4 == 0 counter drop'].join('\n');
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

  it('registers, calls, holds, resumes and hangs up with every fourth datagram lost', async () => {
    const report = path.join(scratch, 'report.json');
    const scenario = path.join(projectRoot, 'test/interop/scenarios/udp-under-loss.yaml');
    const run = Child.start('ip', ['netns', 'exec', ns, process.execPath, path.join(projectRoot, 'bin/veilphone.js'), '--data-dir', scratch, 'run', scenario, '--report', report], { cwd: projectRoot });
    expect(await run.exitCode(170_000), `${run.stdout}\n${run.stderr}`).toBe(0);
    const dropped = execFileSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'veilphone_loss'], { encoding: 'utf8' });
    expect(Number(/counter packets (\d+)/.exec(dropped)?.[1])).toBeGreaterThan(3);
    const traces = JSON.parse(fs.readFileSync(report, 'utf8')).agents as Record<string, { trace: Array<{ dir: string; raw: string }> }>;
    const sent = Object.values(traces).flatMap((a) => a.trace.filter((e) => e.dir === 'out').map((e) => e.raw));
    const retransmitted = sent.filter((raw, i) => !raw.startsWith('SIP/2.0') && sent.indexOf(raw) !== i);
    expect(retransmitted.length).toBeGreaterThan(0);
  });
});
