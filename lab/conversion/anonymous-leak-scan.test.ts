import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPlainRtpMediaProvider } from '../../core/media/plain-rtp-sdh.js';
import { rawCallId } from '../../core/phone/trace-router.js';
import { fingerprintCaller } from '../../core/privacy/caller-fingerprint.js';
import { findIdentityLeaks } from '../../core/privacy/identity-leaks.js';
import { validateScenario } from '../../core/scenario/load-scenario.js';
import type { ScenarioReport } from '../../core/scenario/scenario-report.js';
import { runScenario } from '../../core/scenario/scenario-runner.js';
import { startLabForScenario } from '../../cli/scenario-lab.js';
import type { LabNetworkSnapshot } from '../lab-network.js';
import type { ConversionRecord } from './conversion-table.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';

/**
 * Issue 4, "Proof that nothing leaks": anonymous calls in both modes, through every placement of the conversion server
 * (seed 000 Embodiments 2-5), from callers on UDP, TCP and WebSocket with one-time addresses. For every call, every
 * message the callee's agent received is searched for the caller's fingerprint, read from the caller's own trace —
 * and the operator's conversion tables must still name the caller.
 */

const placements = ['caller-server', 'callee-server', 'both', 'carrier'] as const;
const transports = ['udp', 'tcp', 'ws'] as const;
const modes = ['prefix', 'header'] as const;
/** Per placement: 3 callers per transport x 3 callees x 2 modes = 54 calls; 216 over the four placements. */
const callersPerTransport = 3;

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-leaks-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

interface PlannedCall {
  id: string;
  caller: string;
  callee: string;
  mode: (typeof modes)[number];
}

function plan(placement: (typeof placements)[number]): { scenario: ReturnType<typeof validateScenario>; calls: PlannedCall[] } {
  const agents: Record<string, unknown> = {};
  const callers: string[] = [];
  const callees: string[] = [];
  for (const transport of transports) {
    for (let i = 1; i <= callersPerTransport; i++) {
      const name = `${transport}Caller${i}`;
      callers.push(name);
      // Names that cannot turn up by chance in random tokens: a hit is a leak, not noise.
      agents[name] = { user: `${transport}-caller-${i}`, display: `Secret ${transport.toUpperCase()} Person ${i}`, domain: 'a.lab', transport, address: { mode: 'temporary' } };
    }
    const callee = `${transport}Callee`;
    callees.push(callee);
    agents[callee] = { user: `${transport}-callee`, domain: 'b.lab', transport, answer: 'auto' };
  }
  const calls: PlannedCall[] = [];
  for (const caller of callers) for (const callee of callees) for (const mode of modes) calls.push({ id: `c${calls.length + 1}`, caller, callee, mode });
  const steps: unknown[] = [...[...callers, ...callees].map((a) => ({ register: a }))];
  for (const c of calls) steps.push({ call: { from: c.caller, to: c.mode === 'prefix' ? `184${agentUser(agents, c.callee)}` : c.callee, id: c.id, ...(c.mode === 'header' ? { anonymity: 'header' } : {}) } });
  for (const c of calls) steps.push({ expect: { call: c.id, state: 'established', within: '20s' } });
  for (const c of calls) steps.push({ expect: { call: c.id, agent: c.callee, caller_hidden: true } }, { expect: { call: c.id, agent: c.callee, caller_identified: true } });
  // Half the calls are ended by the callee, half by the caller: BYE and its answer cross the conversion both ways.
  calls.forEach((c, i) => steps.push({ hangup: { call: c.id, ...(i % 2 === 0 ? { by: c.callee } : {}) } }));
  for (const c of calls) steps.push({ expect: { call: c.id, state: 'terminated', status: 200, within: '20s' } }, { expect: { call: c.id, agent: c.callee, state: 'terminated', within: '20s' } });
  const scenario = validateScenario({ name: `anonymous leak scan, ${placement}`, timeout: '2m', lab: { mode: 'embedded', conversion: { placement } }, agents, steps }, placement);
  return { scenario, calls };
}

function agentUser(agents: Record<string, unknown>, name: string): string {
  return (agents[name] as { user: string }).user;
}

/** Every conversion record the operator's view holds, live and ended, per proxy. */
function operatorRecords(lab: LabNetworkSnapshot): Array<{ server: string; record: ConversionRecord }> {
  const servers = [...Object.entries(lab.domains), ...(lab.carrier ? [[lab.carrier.domain, lab.carrier] as const] : [])];
  return servers.flatMap(([server, snapshot]) => [...(snapshot.sip.conversion?.records ?? []), ...(snapshot.sip.conversion?.recent ?? [])].map((record) => ({ server, record })));
}

/** The operator's way back from what the callee saw to the real caller (an AnonymousN of another server is followed). */
function identifyFromSnapshot(records: Array<{ server: string; record: ConversionRecord }>, shownCallId: string): string | undefined {
  let keys = new Set([shownCallId]);
  for (let depth = 0; depth < 4; depth++) {
    const found = records.filter(({ record }) => keys.has(record.convertedCallId) || keys.has(record.realCallId));
    const real = found.find(({ record }) => !/^anonymous\d*@/i.test(record.realUser));
    if (real) return real.record.realUser;
    if (found.length === 0) return undefined;
    keys = new Set(found.map(({ record }) => record.realCallId));
  }
  return undefined;
}

describe('leak scanner over anonymous calls (issue 4)', () => {
  const reports = new Map<string, { report: ScenarioReport; calls: PlannedCall[] }>();

  it.each(placements)('%s: 54 anonymous calls, prefix and header mode, callers on udp/tcp/ws, pass the runner\'s caller_hidden and caller_identified', async (placement) => {
    const { scenario, calls } = plan(placement);
    const network = new MemoryNetwork(); // SIP in memory; the RTP of the calls is real
    const report = await runScenario(scenario, { startLab: (request) => startLabForScenario(request, network), sockets: network, createSessionDescriptionHandlerFactory: createPlainRtpMediaProvider(), dataDir: path.join(scratch, placement) });
    const failed = report.steps.find((s) => !s.ok);
    expect(failed, failed ? `${failed.step}: ${failed.reason}` : '').toBeUndefined();
    reports.set(placement, { report, calls });
  }, 120_000);

  it('finds zero leaks in every message every callee received, over at least 200 calls, and the operator identifies every caller', () => {
    expect([...reports.keys()]).toEqual([...placements]);
    let scannedCalls = 0;
    let scannedMessages = 0;
    const leaks: string[] = [];
    const unidentified: string[] = [];
    const seen = { modes: new Set<string>(), transports: new Set<string>() };
    for (const [placement, { report, calls }] of reports) {
      const records = operatorRecords(report.lab as LabNetworkSnapshot);
      for (const planned of calls) {
        const call = report.calls.find((c) => c.id === planned.id)!;
        const callerLeg = call.legs.caller;
        const calleeLeg = call.legs.callee!;
        const caller = report.agents[planned.caller]!;
        const callee = report.agents[planned.callee]!;
        const fingerprint = fingerprintCaller({
          user: caller.user,
          displayName: `Secret ${caller.transport.toUpperCase()} Person ${planned.caller.slice(-1)}`,
          domain: 'a.lab',
          messages: [...caller.trace],
          callId: callerLeg.sipCallId,
          oneTimeAddress: callerLeg.localAddress!,
        });
        // The fingerprint is not empty: the INVITE as the caller sent it names the caller (From or P-Preferred-Identity).
        const sent = [...caller.trace].find((e) => e.dir === 'out' && e.raw.startsWith('INVITE ') && rawCallId(e.raw) === callerLeg.sipCallId)!;
        expect(findIdentityLeaks(sent.raw, fingerprint).length).toBeGreaterThan(0);
        expect(fingerprint.addresses?.length ?? 0).toBeGreaterThan(0); // the receiving address, at least
        const received = [...callee.trace].filter((e) => e.dir === 'in' && rawCallId(e.raw) === calleeLeg.sipCallId);
        const kinds = new Set(received.map((e) => e.raw.split(' ')[0]));
        expect(kinds.has('INVITE') && kinds.has('ACK') && (kinds.has('BYE') || kinds.has('SIP/2.0')), [...kinds].join(' ')).toBe(true);
        for (const entry of received) {
          scannedMessages++;
          for (const leak of findIdentityLeaks(entry.raw, fingerprint)) leaks.push(`${placement} ${planned.id} (${planned.mode}, ${caller.transport}) ${entry.raw.split('\r\n')[0]}: ${leak.where} has ${leak.found}`);
        }
        const realUser = identifyFromSnapshot(records, calleeLeg.sipCallId);
        if (realUser !== `${caller.user}@a.lab`) unidentified.push(`${placement} ${planned.id}: ${realUser ?? 'nothing'}`);
        scannedCalls++;
        seen.modes.add(planned.mode);
        seen.transports.add(caller.transport);
      }
    }
    expect(leaks).toEqual([]);
    expect(unidentified).toEqual([]);
    expect(scannedCalls).toBeGreaterThanOrEqual(200);
    expect(scannedMessages).toBeGreaterThanOrEqual(scannedCalls * 3); // INVITE, ACK, BYE or its 200 at least
    expect([...seen.modes].sort()).toEqual(['header', 'prefix']);
    expect([...seen.transports].sort()).toEqual(['tcp', 'udp', 'ws']);
  });
});
