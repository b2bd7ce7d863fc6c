import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultMediaProvider } from '../core/phone/default-media.js';
import { loadScenarioFile, validateScenario } from '../core/scenario/load-scenario.js';
import { runScenario } from '../core/scenario/scenario-runner.js';
import { projectRoot } from '../test/support/veilphone-cli.js';
import { startLabForScenario } from './scenario-lab.js';

interface HouseholdLab {
  household: {
    management: { rooms: Record<string, { allotted: string[]; free: string[]; vacated: boolean }> };
    gatekeeper: { counters: { asserted: number } };
    gateways: Record<string, { calls: { ringAll: number; ringOne: number } }>;
  };
}

/** The scenario contract of issue 20 (docs/scenarios.md) against the embedded lab's building, on loopback. */
describe('household scenarios (seed 001, issue 20)', () => {
  it('ring-all, ring-one, -0, caller ID outside, two calls from one room, withdraw and vacate', { timeout: 90_000 }, async () => {
    const scenario = loadScenarioFile(path.join(projectRoot, 'test/scenarios/household-ring-all.yaml'));
    const report = await runScenario(scenario, { startLab: startLabForScenario, createSessionDescriptionHandlerFactory: defaultMediaProvider, timers: { t1: 100, t2: 400 } });
    expect(report.steps.filter((s) => !s.ok), JSON.stringify(report.steps.filter((s) => !s.ok))).toEqual([]);
    expect(report.ok).toBe(true);
    const t1 = report.agents.t1!;
    expect(t1.user).toBe('100-1101-1201-1');
    expect(t1.household).toMatchObject({ room: '100-1101-1201', number: '100-1101-1201-1', address: expect.stringMatching(/^127\.77\./) });
    // the branches a fork cancelled carry RFC 3326's reason: the terminals show "answered elsewhere", not a missed call
    for (const name of ['t1', 't3']) {
      const cancel = [...report.agents[name]!.trace].find((e) => e.dir === 'in' && e.raw.startsWith('CANCEL '));
      expect(cancel?.raw).toMatch(/^Reason: SIP;cause=200;text="Call completed elsewhere"\r$/m);
    }
    // what ext saw was asserted by the gatekeeper: P-Asserted-Identity with the full number
    const invites = [...report.agents.ext!.trace].filter((e) => e.dir === 'in' && e.raw.startsWith('INVITE '));
    expect(invites.map((e) => /^P-Asserted-Identity: (.*)\r$/m.exec(e.raw)?.[1]).sort()).toEqual(['<sip:100-1101-1201-1@household.lab>', '<sip:100-1101-1201-2@household.lab>']);
    const lab = report.lab as HouseholdLab;
    expect(lab.household.gatekeeper.counters.asserted).toBe(2);
    expect(lab.household.gateways['100-1101-1201']!.calls).toMatchObject({ ringAll: 2, ringOne: 1 });
    // the lab's part lists each room's allotted and free addresses (taken after every agent shut down, so t1's and
    // t3's deletion requests may or may not have arrived): t2 gave its address back, room 1202 everything
    const rooms = lab.household.management.rooms;
    expect(rooms['100-1101-1201']!.allotted[0]).toBe('127.77.0.1');
    expect(rooms['100-1101-1201']!.allotted).not.toContain(report.agents.t2!.household!.address);
    expect(rooms['100-1101-1201']!.free).toContain(report.agents.t2!.household!.address);
    expect(rooms['100-1101-1202']).toMatchObject({ vacated: true, allotted: [], free: [] });
  });

  it('refuses a household terminal without a building, or in a room the building lacks', () => {
    expect(() => validateScenario({ lab: 'embedded', agents: { t: { household: '100-1101-1201' } }, steps: [{ register: 't' }] })).toThrow(/needs "lab: \{ mode: embedded, household/);
    expect(() => validateScenario({ lab: { mode: 'embedded', household: { rooms: { '100-1101-1201': 2 } } }, agents: { t: { household: '100-1101-1299' } }, steps: [{ register: 't' }] })).toThrow(/no room 100-1101-1299/);
    expect(() => validateScenario({ lab: { mode: 'embedded', household: { rooms: { '100-1101-1201': 2 } } }, agents: { t: { household: '100-1101-1201', user: 'x' } }, steps: [{ register: 't' }] })).toThrow(/a user, or a household room/);
    expect(() => validateScenario({ lab: { mode: 'embedded', household: { rooms: { '100-1101-1201': 2 } } }, agents: { a: { user: 'a' } }, steps: [{ withdraw: 'a' }] })).toThrow(/not a household terminal/);
    expect(() => validateScenario({ lab: { mode: 'embedded', household: { rooms: { '100-1101-1201': 2 } } }, agents: { a: { user: 'a' } }, steps: [{ vacate: '100-1101-1209' }] })).toThrow(/no room 100-1101-1209/);
  });
});
