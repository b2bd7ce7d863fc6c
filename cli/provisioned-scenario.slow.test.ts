import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot, veilphone } from '../test/support/veilphone-cli.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-dhcp-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

interface Report {
  ok: boolean;
  lab?: { triangle?: Array<{ caller: string; callee: string; path: string; callerSends: { address: string; port: number }; calleeSends: { address: string; port: number } }> };
  agents: Record<string, { lease?: { address: string; ports: { min: number; max: number }; mgc: string[]; nat?: string }; registration?: { server?: string }; trace: Array<{ dir: string; local: string; raw: string }> }>;
}

/** Seed 003 in the embedded lab: leases from the service gateway decide every port the phones use. */
describe('DHCP-provisioned agents (seed 003, issue 6)', () => {
  it('use only their leased ports, get disjoint ranges per vendor class, tell the registrar their private and NAT addresses, and move to the secondary soft switch when the primary dies', async () => {
    const reportFile = path.join(scratch, 'report.json');
    const run = veilphone(['run', path.join(projectRoot, 'test/scenarios/dhcp-provisioned.yaml'), '--report', reportFile], { dataDir: path.join(scratch, 'data') });
    expect(await run.exitCode(90_000), `${run.stdout}\n${run.stderr}`).toBe(0);
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as Report;
    const alice = report.agents.alice!;
    const bob = report.agents.bob!;
    // Fig. 5: more ports for the multi-line class
    expect(alice.lease!.ports.max - alice.lease!.ports.min + 1).toBe(20);
    expect(bob.lease!.ports.max - bob.lease!.ports.min + 1).toBe(80);
    expect(alice.lease!.ports.max < bob.lease!.ports.min || bob.lease!.ports.max < alice.lease!.ports.min).toBe(true);
    for (const agent of [alice, bob]) {
      const { min, max } = agent.lease!.ports;
      const inRange = (port: number): boolean => port >= min && port <= max;
      for (const entry of agent.trace) expect(inRange(Number(entry.local.split(':').at(-1))), `${entry.local} outside ${min}-${max}`).toBe(true);
      for (const entry of agent.trace.filter((e) => e.dir === 'out' && /^m=audio /m.test(e.raw))) {
        const rtp = Number(/^m=audio (\d+)/m.exec(entry.raw)![1]);
        expect(inRange(rtp) && inRange(rtp + 1), `RTP ${rtp} outside ${min}-${max}`).toBe(true);
      }
      const register = agent.trace.find((e) => e.dir === 'out' && e.raw.startsWith('REGISTER '))!.raw;
      expect(register).toMatch(new RegExp(`veil-private="${agent.lease!.address.replace(/\./g, '\\.')}:\\d+"`));
      expect(register).toMatch(/veil-public="198\.51\.100\.7:\d+"/);
      // registered with the primary first, then with the secondary after the primary was stopped
      const registrars = agent.trace.filter((e) => e.dir === 'out' && e.raw.startsWith('REGISTER ')).map((e) => /^Via: .*$/m.exec(e.raw)![0]);
      expect(registrars.length).toBeGreaterThan(1);
      expect(agent.registration!.server).toBe(agent.lease!.mgc[1]);
    }
    // Fig. 11: both phones are behind the one service gateway (the same public address): the registrar gives each the
    // other's private address, with the port NAPPT keeps
    const triangle = report.lab!.triangle!;
    expect(triangle.length).toBeGreaterThanOrEqual(2);
    const first = triangle.find((t) => t.caller === 'alice')!;
    expect(first).toMatchObject({ callee: 'bob', path: 'private', callerSends: { address: bob.lease!.address }, calleeSends: { address: alice.lease!.address } });
    expect(first.callerSends.port).toBeGreaterThanOrEqual(bob.lease!.ports.min);
    expect(first.callerSends.port).toBeLessThanOrEqual(bob.lease!.ports.max);
  }, 120_000);
});
