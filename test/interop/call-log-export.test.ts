import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingRequirements } from '../support/tools.js';
import { projectRoot, veilphone } from '../support/veilphone-cli.js';

const skip = missingRequirements(['tshark', 'sngrep']);

interface Listed {
  id: string;
  sipCallId: string;
  direction: string;
  result: string;
}

/** Calls made by `veilphone run` land in the call log; `veilphone logs` lists, shows and exports them for real tools. */
describe.skipIf(skip)('veilphone logs: list, show, and exports that tshark and sngrep open', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-logs-'));
  let calls: Listed[];
  beforeAll(async () => {
    for (const scenario of ['call-udp-ws.yaml', 'reject-busy.yaml']) {
      const run = veilphone(['run', path.join(projectRoot, 'test/scenarios', scenario)], { dataDir });
      expect(await run.exitCode(60_000), run.stdout + run.stderr).toBe(0);
    }
    const list = veilphone(['logs', 'list', '--json', '--limit', '100'], { dataDir });
    expect(await list.exitCode()).toBe(0);
    calls = JSON.parse(list.stdout) as Listed[];
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('lists every leg of every call, newest first, and filters by result and direction', async () => {
    // call-udp-ws: two calls, each with a caller and a callee leg; reject-busy: two rejected calls with both legs.
    expect(calls.length).toBe(8);
    const busy = veilphone(['logs', 'list', '--json', '--result', 'busy', '--direction', 'outgoing'], { dataDir });
    expect(await busy.exitCode()).toBe(0);
    expect((JSON.parse(busy.stdout) as Listed[]).map((c) => c.result)).toEqual(['busy']);
    const bad = veilphone(['logs', 'list', '--since', 'yesterday-ish'], { dataDir });
    expect(await bad.exitCode()).toBe(2);
  });

  it('shows a call as a ladder of its messages', async () => {
    const answered = calls.find((c) => c.result === 'answered' && c.direction === 'outgoing')!;
    const show = veilphone(['logs', 'show', answered.id.slice(0, 8)], { dataDir });
    expect(await show.exitCode()).toBe(0);
    expect(show.stdout).toContain(answered.sipCallId);
    for (const label of ['INVITE', '180 Ringing (INVITE)', '200 OK (INVITE)', 'ACK', 'BYE', '200 OK (BYE)']) expect(show.stdout).toContain(label);
    const missing = veilphone(['logs', 'show', 'no-such-call'], { dataDir });
    expect(await missing.exitCode()).toBe(1);
  });

  it('exports calls to a pcap that tshark decodes message by message and sngrep groups into dialogs', async () => {
    const outgoing = calls.filter((c) => c.direction === 'outgoing');
    const pcap = path.join(dataDir, 'calls.pcap');
    const json = path.join(dataDir, 'calls.json');
    const exported = veilphone(['logs', 'export', ...outgoing.map((c) => c.id), '--pcap', pcap, '--json', json], { dataDir });
    expect(await exported.exitCode(), exported.stderr).toBe(0);
    const details = JSON.parse(fs.readFileSync(json, 'utf8')) as { format: string; calls: Array<{ sipCallId: string; messages: Array<{ raw: string }> }> };
    expect(details.format).toBe('veilphone-call-log');
    const total = details.calls.reduce((n, c) => n + c.messages.length, 0);
    expect(total).toBeGreaterThan(10);

    const fields = execFileSync('tshark', ['-r', pcap, '-Y', 'sip', '-T', 'fields', '-e', 'sip.Call-ID', '-e', 'sip.CSeq', '-o', 'udp.check_checksum:TRUE', '-e', 'udp.checksum.status'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const rows = fields.trim().split('\n').map((line) => line.split('\t'));
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((r) => r[0]))).toEqual(new Set(details.calls.map((c) => c.sipCallId)));
    expect(rows.every((r) => r[2] === '1')).toBe(true); // every UDP checksum verifies

    const sngrep = execFileSync('sngrep', ['-I', pcap, '-N'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    expect(Number(/Dialog count: (\d+)\s*$/.exec(sngrep)?.[1])).toBe(outgoing.length);
  });
});
